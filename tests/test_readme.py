"""The README's first screen stays true: its commands exist and its sample output is real."""

import re
from pathlib import Path

from tests.helpers import tdv

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_screen_has_install_scan_and_test_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands[0].startswith("python3 -m pip install -e . && tdv scan examples/")
    assert commands[1] == "python3 -m pip install -e '.[test]' && python3 -m pytest -q"


def test_ci_runs_exactly_the_readme_test_command_in_fresh_virtualenvs():
    ci = (ROOT / ".ci" / "run").read_text()
    command = README.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()[1].split("#")[0].strip()
    assert command == "python3 -m pip install -e '.[test]' && python3 -m pytest -q"
    assert f'README_TEST_COMMAND="{command}"' in ci and 'eval "$README_TEST_COMMAND"' in ci
    assert 'python3 -m venv "$venv"' in ci and 'source "$venv/bin/activate"' in ci
    assert "run_tests newest" in ci and "run_tests floors" in ci


def test_sample_output_lines_come_from_the_real_scan(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = tdv("scan", "examples/kubernetes", "--no-color")
    assert result.exit_code == 1
    sample = README.split("```text", 1)[1].split("```", 1)[0]
    lines = [line for line in sample.splitlines() if re.match(r"\s+examples/", line)]
    assert lines, "the README shows no sample findings"
    for line in lines:
        assert line in result.output.splitlines(), f"README sample line not in the real output: {line}"


def test_policy_counts_in_the_readme_are_true():
    from validator.engine.library import load_policies

    counts = {}
    for policy in load_policies([]):
        platform = policy.id.split("-")[1]
        counts[platform] = counts.get(platform, 0) + 1
    for platform, count in counts.items():
        row = next(line for line in README.splitlines() if line.startswith(f"| ") and f"`TDV-{platform}-*`" in line)
        assert f"| {count}" in row, f"README says {row!r}, the library has {count} {platform} policies"
