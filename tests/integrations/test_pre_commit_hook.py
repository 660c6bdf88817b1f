"""The pre-commit hook, checked by pre-commit itself: the manifest validates, and `try-repo`
installs tdv from a copy of this repository and runs the hook on committed files.

pre-commit is installed by .ci/run; elsewhere the module is skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from validator import __version__

from tests.builders import container, manifest, pod

REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = shutil.which("pre-commit")
pytestmark = [pytest.mark.integration,  # runs pre-commit
              pytest.mark.skipif(PRE_COMMIT is None, reason="needs pre-commit (CI installs it: see .ci/run)")]

PRIVILEGED = manifest(pod("debug", namespace="tools", containers=[
    container("shell", "registry.k8s.io/pause:3.9", security_context={"privileged": True})]))

CLEAN = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels:
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: shop-prod
data:
  mode: production
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_manifest_is_valid():
    done = subprocess.run([PRE_COMMIT, "validate-manifest", ".pre-commit-hooks.yaml"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hook_selects_manifests_and_terraform_and_gets_their_names():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "tdv" and hook["language"] == "python" and hook["pass_filenames"] is True
    pattern = re.compile(hook["files"])
    for name in ("deploy/app.yaml", "k8s/svc.yml", "plan.json", "infra/main.tf"):
        assert pattern.search(name), name
    for name in ("README.md", "main.tfvars", "app.yaml.bak", "script.py"):
        assert not pattern.search(name), name


def test_example_config_is_valid_and_uses_this_hook():
    example = REPO / "examples" / "ci" / "pre-commit-config.yaml"
    done = subprocess.run([PRE_COMMIT, "validate-config", str(example)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    (repo,) = yaml.safe_load(example.read_text(encoding="utf-8"))["repos"]
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in repo["hooks"]] == [hook["id"]]
    assert repo["rev"] == f"v{__version__}"


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """This working tree (uncommitted changes included) as a committed git repository."""
    copy = tmp_path_factory.mktemp("hook-repo") / "tdv"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".pytest_cache",
                                                              "bench", ".benchmarks", "build", "dist"))
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "snapshot")
    return copy


def try_hook(hook_repo: Path, project: Path, *files: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(project.parent / "pre-commit-home")}
    return subprocess.run([PRE_COMMIT, "try-repo", str(hook_repo), "tdv", "--files", *files, "--color", "never"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_hook_fails_on_a_privileged_pod_and_passes_a_clean_manifest(hook_repo, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / "pod.yaml").write_text(PRIVILEGED, encoding="utf-8")
    (project / "notes.txt").write_text("not scanned\n", encoding="utf-8")
    git(project, "add", "-A")
    failed = try_hook(hook_repo, project, "pod.yaml", "notes.txt")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "pod.yaml:11:" in failed.stdout and "TDV-K8S-001" in failed.stdout
    assert "Scanned 1 file," in failed.stdout  # notes.txt is not a manifest

    (project / "settings.yaml").write_text(CLEAN, encoding="utf-8")
    git(project, "add", "-A")
    passed = try_hook(hook_repo, project, "settings.yaml")
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_the_hook_brings_the_helm_renderer_the_package_extra_names():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert hook["additional_dependencies"] == extras["helm"]


def test_hook_renders_a_committed_chart(hook_repo, tmp_path):
    """A repository with a chart: the hook renders it (no helm binary needed) and reports the
    template's line, instead of exiting 2 for want of a renderer."""
    project = tmp_path / "project"
    (project / "chart" / "templates").mkdir(parents=True)
    git(project, "init", "-q")
    (project / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n", encoding="utf-8")
    (project / "chart" / "templates" / "pod.yaml").write_text(
        PRIVILEGED.replace("name: debug", "name: {{ .Release.Name }}-debug"), encoding="utf-8")
    git(project, "add", "-A")
    done = try_hook(hook_repo, project, "chart/Chart.yaml", "chart/templates/pod.yaml")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "chart/templates/pod.yaml:11:" in done.stdout and "TDV-K8S-001" in done.stdout
