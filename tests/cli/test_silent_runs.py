"""A scan whose reports all go to files, or whose stdout report is machine-readable, still
tells the person watching: input errors (one line each, file and line) and a one-line
summary on stderr. -q drops the summary, never an error. stdout stays parseable."""

import json

import pytest

from validator.reporters import FORMATS

from tests.helpers import tdv, tdv_process


def test_a_missing_file_is_reported_on_stderr_when_reports_go_to_files(project):
    result = tdv("scan", "nowhere.yaml", "-o", "sarif=tdv.sarif", "-o", "junit=tdv.xml")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "tdv: error: nowhere.yaml: no such file or directory"
    assert lines[1].startswith("tdv: 0 findings") and "1 input error" in lines[1] and "exit 2" in lines[1]
    assert len(lines) == 2


def test_quiet_drops_the_summary_but_never_an_error(project):
    result = tdv("scan", "nowhere.yaml", "-q", "-o", "sarif=tdv.sarif")
    assert result.exit_code == 2
    assert result.stderr == "tdv: error: nowhere.yaml: no such file or directory\n"
    clean = tdv("scan", "deploy", "-q", "--soft-fail", "-o", "sarif=tdv.sarif")
    assert clean.exit_code == 0 and clean.stderr == ""


def test_findings_from_stdin_are_summed_up_on_stderr(project):
    pod = (project / "deploy" / "pod.yaml").read_text()
    result = tdv("scan", "-", "--policy", "TDV-K8S-001", "-o", "sarif=tdv.sarif", "-o", "junit=tdv.xml", input=pod)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("tdv: 1 finding (1 critical); 0 checks passed (1 file, 1 resource, 1 policy;")


def test_outputs_of_the_config_file_also_report_errors(project):
    (project / ".tdv.yaml").write_text("outputs: [sarif=out.sarif]\n")
    result = tdv("scan", "nowhere")
    assert result.exit_code == 2
    assert "tdv: error: nowhere: no such file or directory" in result.stderr.splitlines()


def test_an_error_names_its_file_and_line(project):
    (project / "deploy" / "broken.yaml").write_text("kind: Pod\nmetadata: {name: x\n")
    result = tdv("scan", "deploy", "-o", "sarif=tdv.sarif")
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("tdv: error: ")]
    assert len(errors) == 1 and errors[0].startswith("tdv: error: deploy/broken.yaml:3: ")


def test_a_machine_readable_stdout_report_stays_parseable_and_errors_go_to_stderr(project):
    result = tdv("scan", "deploy", "nowhere", "-o", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert [(e["path"], e["message"]) for e in report["errors"]] == [("nowhere", "no such file or directory")]
    assert "tdv: error: nowhere: no such file or directory" in result.stderr.splitlines()


def test_the_console_on_stdout_shows_each_error_once(project):
    result = tdv("scan", "deploy", "nowhere", "--no-color")
    assert result.exit_code == 2
    assert result.stdout.count("nowhere: no such file or directory") == 1
    assert "nowhere" not in result.stderr


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_report_format_carries_the_input_errors(project, name):
    result = tdv("scan", "deploy", "nowhere.yaml", "-o", f"{name}=report.out")
    assert result.exit_code == 2
    assert "nowhere.yaml" in (project / "report.out").read_text()


def test_the_program_reports_errors_on_stderr(tmp_path):
    """As in the Docker image: the `tdv` program, stdin from a pipe, reports to files."""
    run = tdv_process("scan", "-", "missing.yaml", "--no-config", "-o", "sarif=tdv.sarif",
                      input="kind: Pod\nmetadata: {name: x\n", cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    errors = run.stderr.splitlines()
    assert errors[0].startswith("tdv: error: <stdin>:3: ")
    assert errors[1] == "tdv: error: missing.yaml: no such file or directory"
    assert errors[2].startswith("tdv: 0 findings")
