"""Top-level command behaviour: version, help, lazy imports."""

import subprocess
import sys

from click.testing import CliRunner

from validator import __version__
from validator.cli import main


def test_version():
    result = CliRunner().invoke(main, ["--version"])
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
    result = subprocess.run([sys.executable, "-m", "validator", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and __version__ in result.stdout


def test_unknown_command_is_a_usage_error():
    assert CliRunner().invoke(main, ["frobnicate"]).exit_code == 2
