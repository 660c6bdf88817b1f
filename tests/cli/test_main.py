"""Top-level command behaviour: version, help, lazy imports."""

import subprocess
import sys

from validator import __version__

from tests.helpers import tdv, tdv_process


def test_version():
    result = tdv("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_version_imports_nothing_heavy():
    code = (
        "import sys; from validator.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('cel_expr_python', 'yaml', 'validator.engine', 'sarif_om', 'junit_xml', 'hcl2')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_python_dash_m():
    result = tdv_process("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_unknown_command_is_a_usage_error():
    assert tdv("frobnicate").exit_code == 2


def test_the_program_flushes_everything_and_keeps_exit_codes(tmp_path):
    """`tdv` ends with os._exit (no teardown): output must still be complete."""
    import json
    from pathlib import Path

    example = Path(__file__).parents[2] / "examples" / "kubernetes" / "shop"
    scan = ["scan", str(example), "--no-config"]
    found = tdv_process(*scan, "-o", "json", cwd=tmp_path)
    assert found.returncode == 1 and json.loads(found.stdout)["summary"]["findings"] > 0
    clean = tdv_process(*scan, "--soft-fail", "-o", "console", cwd=tmp_path)
    assert clean.returncode == 0 and "findings" in clean.stdout.splitlines()[-2]
    missing = tdv_process("scan", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere: no such file or directory" in missing.stdout + missing.stderr
    usage = tdv_process("scan", "--jobs", "-1", "x", cwd=tmp_path)
    assert usage.returncode == 2 and "--jobs" in usage.stderr
