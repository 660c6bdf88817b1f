"""The GitHub Action (action.yml) and the example workflow in examples/ci/, validated with
check-jsonschema's GitHub schemas, and the action's wiring run for real: its inputs, as the
environment GitHub gives the container, drive the CI entry script that the image runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from validator import __version__

from tests.helpers import load_report

REPO = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
WORKFLOW_FILE = REPO / "examples" / "ci" / "github-workflow.yml"
WORKFLOW = yaml.safe_load(WORKFLOW_FILE.read_text(encoding="utf-8"))
SCRIPT = (REPO / "orb" / "src" / "scripts" / "scan.sh").read_text(encoding="utf-8")
EXPRESSION = re.compile(r"^\$\{\{ inputs\.([\w-]+) \}\}$")


def action_environment(inputs: dict[str, str]) -> dict[str, str]:
    """The container environment GitHub derives from runs.env for these inputs (defaults filled in)."""
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update(inputs)
    return {var: values[EXPRESSION.match(expr).group(1)] for var, expr in ACTION["runs"]["env"].items()}


def tdv_step(workflow: dict) -> dict:
    steps = workflow["jobs"]["tdv"]["steps"]
    return next(step for step in steps if str(step.get("uses", "")).startswith("trusted-delivery/tdv@"))


def test_action_is_valid(check_schema):
    done = check_schema("vendor.github-actions", REPO / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_action(check_schema, tmp_path):
    broken = tmp_path / "action.yml"
    broken.write_text((REPO / "action.yml").read_text().replace("using: docker", "using: kubernetes"))
    assert check_schema("vendor.github-actions", broken).returncode != 0


def test_example_workflow_is_valid(check_schema):
    done = check_schema("vendor.github-workflows", WORKFLOW_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_runs_the_ci_script_in_the_image():
    runs = ACTION["runs"]
    assert runs["using"] == "docker" and runs["image"] == "Dockerfile"
    assert runs["entrypoint"] == "/usr/local/bin/tdv-ci"
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY orb/src/scripts/scan.sh /usr/local/bin/tdv-ci" in dockerfile


def test_every_input_reaches_the_script_and_is_described():
    env = ACTION["runs"]["env"]
    wired = {EXPRESSION.match(expr).group(1): var for var, expr in env.items()}
    assert set(wired) == set(ACTION["inputs"])
    for name, spec in ACTION["inputs"].items():
        assert spec["description"].strip(), name
        assert wired[name] == "TDV_" + name.upper().replace("-", "_")
        assert f"{wired[name]}" in SCRIPT, f"scan.sh never reads {wired[name]}"


def test_inputs_match_the_orb_parameters():
    orb_scan = yaml.safe_load((REPO / "orb" / "src" / "commands" / "scan.yml").read_text(encoding="utf-8"))
    parameters = orb_scan["parameters"]
    assert {name.replace("-", "_") for name in ACTION["inputs"]} == set(parameters)
    for name, spec in ACTION["inputs"].items():
        if name != "formats":  # GitHub's default leads with SARIF for code scanning
            assert str(spec["default"]).lower() == str(parameters[name.replace("-", "_")]["default"]).lower(), name


def test_outputs_are_the_formats_the_script_writes():
    formats = set(re.findall(r"^    ([\w-]+)\) file=", SCRIPT, re.M))
    assert set(ACTION["outputs"]) == formats


def test_example_workflow_uploads_sarif_and_writes_the_summary():
    step = tdv_step(WORKFLOW)
    assert step["uses"] == f"trusted-delivery/tdv@v{__version__}"
    assert set(step.get("with", {})) <= set(ACTION["inputs"])
    steps = WORKFLOW["jobs"]["tdv"]["steps"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "${{ steps.tdv.outputs.sarif }}"
    summary = next(s for s in steps if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert summary["env"]["REPORT"] == "${{ steps.tdv.outputs.markdown }}"
    assert "always()" in upload["if"] or "!cancelled()" in upload["if"]
    assert WORKFLOW["permissions"]["security-events"] == "write"


@pytest.mark.integration  # runs the CI script with the installed tdv
def test_example_workflow_step_produces_what_the_next_steps_read(example_checkout, run_ci_script, tmp_path):
    """The example's `with:` runs through the action's wiring; its outputs name real reports."""
    step = tdv_step(WORKFLOW)
    inputs = {**step["with"], "path": "kubernetes"}  # the example scans deploy/; the checkout has kubernetes/
    github_output = tmp_path / "github_output"
    github_output.touch()
    done = run_ci_script(example_checkout, {**action_environment(inputs), "GITHUB_OUTPUT": str(github_output)})
    assert done.returncode == 1, done.stdout + done.stderr  # a critical finding, fail-on high
    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    assert set(outputs) == {"sarif", "markdown"}
    sarif = load_report(example_checkout / outputs["sarif"], "sarif")
    schema = json.loads((REPO / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert "TDV-K8S-001" in (example_checkout / outputs["markdown"]).read_text(encoding="utf-8")


@pytest.mark.integration  # runs the CI script with the installed tdv
@pytest.mark.parametrize("soft_fail,expected", [("false", 1), ("true", 0)])
def test_soft_fail_input(example_checkout, run_ci_script, soft_fail, expected):
    env = action_environment({"path": "kubernetes", "soft-fail": soft_fail, "formats": "json"})
    done = run_ci_script(example_checkout, env)
    assert done.returncode == expected, done.stdout + done.stderr
    assert load_report(example_checkout / "tdv-reports" / "tdv.json")["summary"]["findings"] > 0


MATRIX_FILE = REPO / "examples" / "ci" / "github-matrix.yml"


def test_matrix_example_is_valid_and_merges_what_every_shard_passes_on(check_schema):
    done = check_schema("vendor.github-workflows", MATRIX_FILE)
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load(MATRIX_FILE.read_text(encoding="utf-8"))
    scan, merge = workflow["jobs"]["scan"], workflow["jobs"]["merge"]
    step = next(s for s in scan["steps"] if str(s.get("uses", "")).startswith("trusted-delivery/tdv@"))
    assert step["with"]["shard"] == "${{ matrix.shard }}/${{ strategy.job-total }}"
    assert scan["strategy"]["matrix"]["shard"] == list(range(1, len(scan["strategy"]["matrix"]["shard"]) + 1))
    upload = next(s for s in scan["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    shard_dir = ACTION["inputs"]["shard-dir"]["default"]
    assert upload["with"]["path"].rstrip("/") == shard_dir
    assert merge["needs"] == "scan" and "cancelled()" in merge["if"]  # merge also when a shard has findings
    download = next(s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["with"]["path"] == shard_dir and download["with"]["merge-multiple"] is True
    assert download["with"]["pattern"].rstrip("*") in upload["with"]["name"]
    merging = next(s for s in merge["steps"] if str(s.get("uses", "")).startswith("trusted-delivery/tdv@"))
    assert merging["uses"] == f"trusted-delivery/tdv@v{__version__}" and merging["with"]["merge"] == "true"
    for job in (scan, merge):
        for used in job["steps"]:
            if str(used.get("uses", "")).startswith("trusted-delivery/tdv@"):
                assert set(used.get("with", {})) <= set(ACTION["inputs"])
