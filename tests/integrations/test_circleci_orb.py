"""The CircleCI orb: packed by orb/pack.py, valid against the CircleCI schema that
check-jsonschema ships, with every parameter described and used, and with scripts that
build the tdv command line the parameters ask for."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from validator import __version__

from tests.helpers import load_report

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "orb" / "src"
USES = re.compile(r"<<\s*parameters\.(\w+)\s*>>")


def pack(tmp_path: Path, src: Path = SRC) -> Path:
    out = tmp_path / "orb.yml"
    done = subprocess.run([sys.executable, str(REPO / "orb" / "pack.py"), "--src", str(src), "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def orb(tmp_path_factory) -> dict:
    return yaml.safe_load(pack(tmp_path_factory.mktemp("orb")).read_text(encoding="utf-8"))


def entities(orb: dict):
    for section in ("commands", "jobs", "executors"):
        for name, body in orb.get(section, {}).items():
            yield f"{section}/{name}", body


def test_packed_orb_is_valid(tmp_path, check_schema):
    done = check_schema("vendor.circle-ci", pack(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_orb(tmp_path, check_schema):
    broken = tmp_path / "src"
    shutil.copytree(SRC, broken)
    job = broken / "jobs" / "scan.yml"
    job.write_text(job.read_text(encoding="utf-8").replace("steps:", "stepz:", 1), encoding="utf-8")
    assert check_schema("vendor.circle-ci", pack(tmp_path, broken)).returncode != 0


def test_packed_orb_has_the_source_layout(orb):
    assert set(orb["commands"]) == {"install", "scan"}
    assert set(orb["jobs"]) == {"scan", "merge"} and set(orb["executors"]) == {"default"}
    assert len(orb["examples"]) >= 5
    assert "<<include(" not in json.dumps(orb)
    scan_step = orb["commands"]["scan"]["steps"][0]["run"]["command"]
    assert scan_step == (SRC / "scripts" / "scan.sh").read_text(encoding="utf-8")


def test_every_parameter_is_described_and_used(orb):
    for name, body in entities(orb):
        declared = body.get("parameters", {})
        rest = yaml.safe_dump({k: v for k, v in body.items() if k != "parameters"})
        used = set(USES.findall(rest))
        for parameter, spec in declared.items():
            assert str(spec.get("description", "")).strip(), f"{name}: {parameter} has no description"
            assert parameter in used, f"{name}: {parameter} is declared but never used"
        assert used <= set(declared), f"{name}: uses undeclared {used - set(declared)}"


def test_job_passes_every_scan_parameter_through(orb):
    command = orb["commands"]["scan"]["parameters"]
    job = orb["jobs"]["scan"]
    step = next(s["scan"] for s in job["steps"] if isinstance(s, dict) and "scan" in s)
    assert set(step) == set(command)
    # The job shards when it runs in parallel (see the parallelism parameter); it never merges.
    assert step.pop("shard") == "auto" and step.pop("merge") is False
    assert job["parallelism"] == "<< parameters.parallelism >>"
    for parameter, value in step.items():
        assert value == f"<< parameters.{parameter} >>"
        assert job["parameters"][parameter]["type"] == command[parameter]["type"]
        assert job["parameters"][parameter].get("default") == command[parameter].get("default")


def test_scan_environment_covers_every_command_parameter(orb):
    environment = orb["commands"]["scan"]["steps"][0]["run"]["environment"]
    script = (SRC / "scripts" / "scan.sh").read_text(encoding="utf-8")
    for parameter in orb["commands"]["scan"]["parameters"]:
        variable = f"TDV_{parameter.upper()}"
        assert environment[variable] == f"<< parameters.{parameter} >>"
        assert variable in script


def test_defaults_follow_the_package_version(orb):
    assert orb["executors"]["default"]["parameters"]["tag"]["default"] == __version__
    assert orb["jobs"]["scan"]["parameters"]["tag"]["default"] == __version__
    assert orb["jobs"]["merge"]["parameters"]["tag"]["default"] == __version__
    assert orb["commands"]["install"]["parameters"]["version"]["default"] == __version__


@pytest.mark.parametrize("example", sorted(p.stem for p in (SRC / "examples").glob("*.yml")))
def test_example_is_valid_config_using_declared_parameters(orb, tmp_path, check_schema, example):
    body = orb["examples"][example]
    assert body["description"].strip()
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(body["usage"]), encoding="utf-8")
    done = check_schema("vendor.circle-ci", config)
    assert done.returncode == 0, done.stdout + done.stderr
    alias = next(a for a, ref in body["usage"]["orbs"].items() if ref.startswith("trusted-delivery/tdv@"))
    for kind, name, arguments in orb_uses(body["usage"], alias):
        declared = orb[kind][name].get("parameters", {})
        extra = set(arguments) - set(declared) - {"name", "requires", "context", "filters", "matrix"}
        assert not extra, f"{example}: {kind}/{name} has no parameter {extra}"


def test_ci_example_config_uses_the_orb_as_declared(orb, check_schema):
    example = REPO / "examples" / "ci" / "circleci-config.yml"
    done = check_schema("vendor.circle-ci", example)
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert config["orbs"]["tdv"] == f"trusted-delivery/tdv@{__version__}"
    uses = list(orb_uses(config, "tdv"))
    assert uses
    for kind, name, arguments in uses:
        assert set(arguments) <= set(orb[kind][name].get("parameters", {})), (kind, name)


def orb_uses(config: dict, alias: str):
    """(section, name, arguments) for every use of the orb's jobs, commands and executors."""
    for job in config.get("jobs", {}).values():
        executor = job.get("executor")
        if isinstance(executor, str) and executor.startswith(f"{alias}/"):
            yield "executors", executor.split("/", 1)[1], {}
        for step in job.get("steps", []):
            if isinstance(step, dict):
                (key, value), = step.items()
                if key.startswith(f"{alias}/"):
                    yield "commands", key.split("/", 1)[1], value or {}
            elif isinstance(step, str) and step.startswith(f"{alias}/"):
                yield "commands", step.split("/", 1)[1], {}
    for workflow in config.get("workflows", {}).values():
        for entry in workflow.get("jobs", []):
            (key, value) = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
            if key.startswith(f"{alias}/"):
                yield "jobs", key.split("/", 1)[1], value or {}


def test_the_parallel_scan_job_passes_shards_to_the_merge_job(orb):
    scan, merge = orb["jobs"]["scan"], orb["jobs"]["merge"]
    (sharded,) = [s["unless"] for s in scan["steps"] if isinstance(s, dict) and "unless" in s]
    assert sharded["condition"] == {"equal": [1, "<< parameters.parallelism >>"]}
    (persist,) = [s["persist_to_workspace"] for s in sharded["steps"]]
    assert persist == {"root": ".", "paths": ["<< parameters.shard_dir >>"]}
    assert merge["steps"][0] == {"attach_workspace": {"at": "."}}
    step = merge["steps"][1]["scan"]
    assert step["merge"] is True and step["shard_dir"] == "<< parameters.shard_dir >>"
    assert scan["parameters"]["shard_dir"]["default"] == merge["parameters"]["shard_dir"]["default"]
    assert merge["parameters"]["tag"]["default"] == __version__
    usage = orb["examples"]["sharded_scan"]["usage"]["workflows"]["validate"]["jobs"]
    assert usage[0]["tdv/scan"]["parallelism"] > 1 and usage[1]["tdv/merge"]["requires"] == [usage[0]["tdv/scan"]["name"]]


def test_examples_cover_helm_kustomize_terraform_and_parallelism(orb):
    text = json.dumps(orb["examples"])
    assert "helm template" in text and "render" in text
    assert "kustomize_overlay" in text
    assert "persist_to_workspace" in text and '"workspace"' in text and "tfplan.json" in text
    assert '"parallelism"' in text and "circleci tests split" in text and "paths_file" in text


# --- scripts ------------------------------------------------------------------------------

@pytest.fixture
def fake_tdv(tmp_path) -> dict[str, str]:
    """An environment whose `tdv` records its arguments and standard input."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "call.json"
    script = bin_dir / "tdv"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"json.dump({{'args': sys.argv[1:], 'stdin': sys.stdin.read() if '-' in sys.argv else ''}},"
        f" open({str(record)!r}, 'w'))\nsys.exit(1)\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "RECORD": str(record)}


def run_scan_script(env: dict[str, str], cwd: Path, **params: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    variables = {f"TDV_{k.upper()}": v for k, v in params.items()}
    done = subprocess.run(["bash", str(SRC / "scripts" / "scan.sh")], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env, **variables}, timeout=120)
    record = Path(env.get("RECORD", cwd / "none.json"))
    return done, json.loads(record.read_text()) if record.exists() else None


def test_scan_script_builds_the_command_line(fake_tdv, tmp_path):
    done, call = run_scan_script(
        fake_tdv, tmp_path, path="manifests other", policy_dirs="company-policies", policies="TDV-K8S-*",
        skip_policies="TDV-K8S-030 TDV-K8S-026", config="ci/tdv.yaml", fail_on="high", soft_fail="true",
        helm_values="values-prod.yaml", kustomize_overlay="deploy/overlays/prod", formats="junit sarif markdown",
        output_dir="out", extra_args="--min-severity medium",
    )
    assert done.returncode == 1  # tdv's own status comes back
    assert call["args"] == [
        "scan", "-o", "console", "--config", "ci/tdv.yaml", "--fail-on", "high",
        "--policies", "company-policies", "--policy", "TDV-K8S-*",
        "--skip-policy", "TDV-K8S-030", "--skip-policy", "TDV-K8S-026", "--soft-fail",
        "--helm-values", "values-prod.yaml", "-o", "junit=out/junit/tdv.xml", "-o", "sarif=out/tdv.sarif",
        "-o", "markdown=out/tdv.md", "--min-severity", "medium",
        "--", "manifests", "other", "deploy/overlays/prod",
    ]
    assert (tmp_path / "out").is_dir()


def test_scan_script_leaves_unset_settings_to_the_config_file(fake_tdv, tmp_path):
    done, call = run_scan_script(fake_tdv, tmp_path, path=".", config="", fail_on="", soft_fail="false", formats="")
    assert call["args"] == ["scan", "-o", "console", "--", "."]


@pytest.mark.integration  # runs the scan script with the installed tdv
def test_scan_script_with_real_tdv_follows_the_config_file(example_checkout, run_ci_script):
    (example_checkout / "tdv-ci.yaml").write_text("fail-on: critical\npolicies:\n  exclude: [TDV-K8S-001]\n")
    done = run_ci_script(example_checkout, {"TDV_PATH": "kubernetes", "TDV_CONFIG": "tdv-ci.yaml", "TDV_FORMATS": "json"})
    assert done.returncode == 0, done.stdout + done.stderr  # the only critical finding is excluded
    summary = load_report(example_checkout / "tdv-reports" / "tdv.json")["summary"]
    assert summary["failOn"] == "critical" and summary["findings"] > 0


def test_scan_script_pipes_the_render_command(fake_tdv, tmp_path):
    done, call = run_scan_script(fake_tdv, tmp_path, path="", render="printf 'kind: Pod\\n'", formats="json")
    assert done.returncode == 1
    assert call["args"][-2:] == ["--", "-"] and call["stdin"] == "kind: Pod\n"


def test_scan_script_reads_a_paths_file_and_skips_an_empty_share(fake_tdv, tmp_path):
    listing = tmp_path / "paths.txt"
    listing.write_text("deploy/a/\ndeploy/b c/\n\n", encoding="utf-8")
    done, call = run_scan_script(fake_tdv, tmp_path, path=".", paths_file=str(listing), formats="")
    assert call["args"][-3:] == ["--", "deploy/a/", "deploy/b c/"]
    Path(fake_tdv["RECORD"]).unlink()
    listing.write_text("", encoding="utf-8")
    done, call = run_scan_script(fake_tdv, tmp_path, paths_file=str(listing), formats="")
    assert done.returncode == 0 and call is None and "nothing to scan" in done.stdout


def test_scan_script_rejects_unknown_formats(fake_tdv, tmp_path):
    done, call = run_scan_script(fake_tdv, tmp_path, path=".", formats="pdf")
    assert done.returncode == 2 and "unknown output format 'pdf'" in done.stderr and call is None


def test_scan_script_scans_the_repository_only_when_nothing_else_is_named(fake_tdv, tmp_path):
    """A render command or an overlay alone must not also scan the whole repository, which
    would report each finding of a rendered chart twice."""
    done, call = run_scan_script(fake_tdv, tmp_path, path="", formats="json")
    assert call["args"][-2:] == ["--", "."]
    done, call = run_scan_script(fake_tdv, tmp_path, path="", render="printf 'kind: Pod\\n'", formats="")
    assert call["args"][-2:] == ["--", "-"]
    done, call = run_scan_script(fake_tdv, tmp_path, path="", kustomize_overlay="deploy/prod", formats="")
    assert call["args"][-2:] == ["--", "deploy/prod"]


def test_every_integration_leaves_the_path_empty_by_default():
    """The defaults of action.yml, the orb and the GitLab template let the script choose '.'."""
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["inputs"]["path"]["default"] == ""
    for name in ("commands/scan.yml", "jobs/scan.yml"):
        assert yaml.safe_load((SRC / name).read_text())["parameters"]["path"]["default"] == "", name
    gitlab = yaml.safe_load((REPO / "templates" / "gitlab" / "tdv.gitlab-ci.yml").read_text())
    assert gitlab["variables"]["TDV_PATH"] == ""


@pytest.mark.integration  # runs the scan script with the installed tdv
def test_scan_script_with_real_tdv_writes_every_report(example_checkout, run_ci_script):
    done = run_ci_script(example_checkout, {"TDV_PATH": "kubernetes", "TDV_FORMATS": "junit sarif json markdown",
                                            "TDV_FAIL_ON": "critical"})
    assert done.returncode == 1, done.stdout + done.stderr  # the example has a critical finding
    reports = example_checkout / "tdv-reports"
    for name in ("junit/tdv.xml", "tdv.sarif", "tdv.json", "tdv.md"):
        assert (reports / name).stat().st_size > 0, name
    assert load_report(reports / "tdv.json")["summary"]["failOn"] == "critical"


@pytest.mark.integration  # pip-installs tdv into a new virtualenv
@pytest.mark.slow
def test_install_script_installs_tdv_in_a_venv_and_extends_path(tmp_path):
    home, bash_env = tmp_path / "home", tmp_path / "bash_env"
    home.mkdir()
    done = subprocess.run(["bash", str(SRC / "scripts" / "install.sh")], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HOME": str(home), "BASH_ENV": str(bash_env),
                               "TDV_PACKAGE": str(REPO), "TDV_VERSION": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"tdv, version {__version__}")
    assert bash_env.read_text() == f'export PATH="{home}/.tdv/bin:$PATH"\n'


def test_scan_script_shards_from_the_ci_executor_and_passes_the_verdict_to_the_merge(fake_tdv, tmp_path):
    env = {**fake_tdv, "CIRCLE_NODE_INDEX": "2", "CIRCLE_NODE_TOTAL": "4"}
    done, call = run_scan_script(env, tmp_path, path="deploy", shard="auto", formats="junit sarif", fail_on="high")
    assert call["args"] == ["scan", "-o", "console", "--fail-on", "high", "--shard", "3/4",
                            "-o", "shard=tdv-shards/shard-3-of-4.json", "--", "deploy"]
    assert done.returncode == 1  # the fake tdv wrote no shard report: its status comes back
    env = {**fake_tdv, "CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"}  # GitLab's parallel:, numbered from 1
    done, call = run_scan_script(env, tmp_path, path="deploy", shard="auto", formats="")
    assert "1/2" in call["args"]
    done, call = run_scan_script(fake_tdv, tmp_path, path="deploy", shard="auto", formats="")
    assert "--shard" not in call["args"]  # not run in parallel: one scan of everything
    (tmp_path / "tdv-shards").mkdir(exist_ok=True)
    for name in ("shard-1-of-2.json", "shard-2-of-2.json"):
        (tmp_path / "tdv-shards" / name).write_text("{}")
    done, call = run_scan_script(fake_tdv, tmp_path, merge="true", formats="junit", fail_on="high", path="x")
    assert call["args"] == ["merge", "-o", "console", "-o", "junit=tdv-reports/junit/tdv.xml", "--",
                            "tdv-shards/shard-1-of-2.json", "tdv-shards/shard-2-of-2.json"]


def test_scan_script_merge_without_shard_reports_is_an_error(fake_tdv, tmp_path):
    done, call = run_scan_script(fake_tdv, tmp_path, merge="true", formats="junit")
    assert done.returncode == 2 and call is None and "no shard reports in tdv-shards" in done.stderr


@pytest.mark.integration  # runs the scan script with the installed tdv
def test_scan_script_sharded_over_three_containers_then_merged_gives_one_scans_reports(example_checkout,
                                                                                       run_ci_script):
    single = run_ci_script(example_checkout, {"TDV_PATH": ".", "TDV_FORMATS": "json", "TDV_OUTPUT_DIR": "single"})
    for index in range(3):
        done = run_ci_script(example_checkout, {"TDV_PATH": ".", "TDV_SHARD": "auto", "TDV_FORMATS": "json",
                                                "CIRCLE_NODE_INDEX": str(index), "CIRCLE_NODE_TOTAL": "3"})
        assert done.returncode == 0, done.stdout + done.stderr  # findings are the merge's to judge
    merged = run_ci_script(example_checkout, {"TDV_MERGE": "true", "TDV_FORMATS": "json"})
    assert merged.returncode == single.returncode == 1, merged.stdout + merged.stderr
    assert (load_report(example_checkout / "tdv-reports" / "tdv.json")
            == load_report(example_checkout / "single" / "tdv.json"))
