"""Nothing to scan is an input error (exit 2) that says so, unless --allow-empty (or
`allow-empty: true` in .tdv.yaml) accepts it: a pipeline that fed tdv nothing must not pass."""

import pytest

from tests.helpers import tdv


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n---\n"])
def test_empty_stdin_is_an_input_error(project, text):
    result = tdv("scan", "-", "--no-color", input=text)
    assert result.exit_code == 2
    assert "error: <stdin>: nothing to scan" in result.stdout
    assert "1 input error" in result.stdout


def test_an_empty_directory_is_an_input_error(project):
    (project / "empty").mkdir()
    (project / "empty" / "notes.txt").write_text("not an input\n")
    result = tdv("scan", "empty", "-o", "sarif=tdv.sarif")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("tdv: error: empty: nothing to scan: no manifest")


def test_files_without_resources_are_an_input_error(project):
    (project / "values").mkdir()
    (project / "values" / "empty.yaml").write_text("# nothing here yet\n")
    result = tdv("scan", "values", "--no-color")
    assert result.exit_code == 2
    assert "error: values: nothing to scan: no Kubernetes object" in result.stdout


def test_allow_empty_accepts_it(project):
    (project / "empty").mkdir()
    result = tdv("scan", "empty", "-", "--allow-empty", "--no-color", input="")
    assert result.exit_code == 0, result.output
    assert "0 findings" in result.stdout and "error" not in result.output


def test_the_config_file_can_accept_it(project):
    (project / ".tdv.yaml").write_text("allow-empty: true\n")
    assert tdv("scan", "-", input="").exit_code == 0
    (project / ".tdv.yaml").write_text("allow-empty: yes please\n")
    result = tdv("scan", "-", input="")
    assert result.exit_code == 2 and "Error: .tdv.yaml:1: allow-empty must be true or false" in result.stderr


def test_a_scan_with_resources_elsewhere_is_not_empty(project):
    (project / "empty").mkdir()
    assert tdv("scan", "empty", "deploy", "--soft-fail").exit_code == 0


def test_resources_left_out_by_the_config_are_not_nothing(project):
    (project / ".tdv.yaml").write_text("exclusions: [{kind: Pod}]\n")
    result = tdv("scan", "deploy", "--no-color")
    assert result.exit_code == 0 and "(1 excluded)" in result.stdout


def test_a_terraform_plan_or_module_without_resources_is_something_to_scan(project):
    (project / "plan.json").write_text('{"format_version": "1.2", "terraform_version": "1.7.0",'
                                       ' "planned_values": {"root_module": {}}}')
    (project / "module").mkdir()
    (project / "module" / "outputs.tf").write_text('output "region" {\n  value = "eu-west-1"\n}\n')
    for path in ("plan.json", "module"):
        result = tdv("scan", path, "--no-color")
        assert result.exit_code == 0, result.output
        assert "0 findings" in result.stdout


def test_json_that_is_neither_is_nothing_to_scan(project):
    (project / "data.json").write_text('{"name": "not a manifest"}')
    result = tdv("scan", "data.json", "--no-color")
    assert result.exit_code == 2
    assert "error: data.json: nothing to scan: no Kubernetes object or Terraform resource in it" in result.stdout
