"""The GitLab CI template, validated with check-jsonschema's GitLab CI schema, and its job run
as GitLab would run it: the template's variables drive the CI entry script, and the reports
land where `artifacts:reports` expects them, valid for GitLab."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from validator import __version__

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_FILE = REPO / "templates" / "gitlab" / "tdv.gitlab-ci.yml"
TEMPLATE = yaml.safe_load(TEMPLATE_FILE.read_text(encoding="utf-8"))
SCRIPT = (REPO / "orb" / "src" / "scripts" / "scan.sh").read_text(encoding="utf-8")
SAST_SCHEMA = REPO / "tests" / "integrations" / "schemas" / "gitlab-sast-report-format-15.0.7.json"
EXECUTOR = yaml.safe_load((REPO / "orb" / "src" / "executors" / "default.yml").read_text(encoding="utf-8"))


def test_template_is_valid(check_schema):
    done = check_schema("vendor.gitlab-ci", TEMPLATE_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_template(check_schema, tmp_path):
    broken = tmp_path / "broken.gitlab-ci.yml"
    broken.write_text(TEMPLATE_FILE.read_text().replace("when: always", "when: sometimes"))
    assert check_schema("vendor.gitlab-ci", broken).returncode != 0


def test_job_uses_the_image_with_a_shell_entrypoint():
    job = TEMPLATE["tdv"]  # a visible job: the schema does not check hidden (dotted) ones
    assert job["image"] == {"name": "$TDV_IMAGE", "entrypoint": [""]}
    assert job["script"] == ["tdv-ci"]
    image = TEMPLATE["variables"]["TDV_IMAGE"]
    assert image == EXECUTOR["docker"][0]["image"].replace("<< parameters.tag >>", __version__)


def test_variables_are_the_ones_the_script_reads():
    variables = {name for name in TEMPLATE["variables"] if name != "TDV_IMAGE"}
    read = set(re.findall(r"\$\{(TDV_\w+)", SCRIPT))
    assert variables <= read, variables - read
    assert read - variables == {"TDV_OUTPUT_DIR"}  # fixed to tdv-reports, where the reports are collected


def test_reports_are_collected_from_where_the_script_writes_them():
    artifacts = TEMPLATE["tdv"]["artifacts"]
    assert artifacts["when"] == "always" and "tdv-reports/" in artifacts["paths"]
    files = dict(re.findall(r"^    ([\w-]+)\) file=(\S+) ;;", SCRIPT, re.M))
    assert artifacts["reports"] == {
        "junit": f"tdv-reports/{files['junit']}",
        "sast": f"tdv-reports/{files['gitlab-sast']}",
        "codequality": f"tdv-reports/{files['codequality']}",
    }
    formats = TEMPLATE["variables"]["TDV_FORMATS"].split()
    assert {"junit", "gitlab-sast", "codequality"} <= set(formats)


@pytest.mark.integration  # runs the CI script with the installed tdv
def test_job_script_writes_valid_reports(example_checkout, run_ci_script):
    env = {name: str(value) for name, value in TEMPLATE["variables"].items()}
    env["TDV_PATH"] = "kubernetes"
    done = run_ci_script(example_checkout, env)
    assert done.returncode == 1, done.stdout + done.stderr  # findings at or above low fail the job
    reports = {kind: example_checkout / path for kind, path in TEMPLATE["tdv"]["artifacts"]["reports"].items()}
    sast = json.loads(reports["sast"].read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(json.loads(SAST_SCHEMA.read_text(encoding="utf-8"))).validate(sast)
    assert sast["vulnerabilities"]
    quality = json.loads(reports["codequality"].read_text(encoding="utf-8"))
    assert quality and all(issue["location"]["path"].startswith("kubernetes/") for issue in quality)
    assert reports["junit"].read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_example_includes_this_template_and_sets_its_variables(check_schema):
    example_file = REPO / "examples" / "ci" / "gitlab-ci.yml"
    done = check_schema("vendor.gitlab-ci", example_file)
    assert done.returncode == 0, done.stdout + done.stderr
    example = yaml.safe_load(example_file.read_text(encoding="utf-8"))
    (include,) = example["include"]
    assert include["remote"].endswith(f"/v{__version__}/{TEMPLATE_FILE.relative_to(REPO).as_posix()}")
    assert set(example["variables"]) <= set(TEMPLATE["variables"])


def test_parallel_example_shards_the_template_job_and_merges_its_shard_reports(check_schema):
    example_file = REPO / "examples" / "ci" / "gitlab-parallel.yml"
    done = check_schema("vendor.gitlab-ci", example_file)
    assert done.returncode == 0, done.stdout + done.stderr
    example = yaml.safe_load(example_file.read_text(encoding="utf-8"))
    assert example["tdv"]["parallel"] > 1 and example["tdv"]["variables"]["TDV_SHARD"] == "auto"
    assert example["tdv-merge"] == {"extends": ".tdv-merge", "needs": ["tdv"]}
    merge = TEMPLATE[".tdv-merge"]
    assert merge["variables"] == {"TDV_SHARD": "", "TDV_MERGE": "true"}
    assert merge["image"] == TEMPLATE["tdv"]["image"] and merge["script"] == TEMPLATE["tdv"]["script"]
    assert merge["artifacts"]["reports"] == TEMPLATE["tdv"]["artifacts"]["reports"]
    assert TEMPLATE["variables"]["TDV_SHARD_DIR"] + "/" in TEMPLATE["tdv"]["artifacts"]["paths"]
    assert set(example["variables"]) <= set(TEMPLATE["variables"])
