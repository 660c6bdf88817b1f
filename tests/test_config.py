"""The config file: discovery, every setting, and one-line errors that name the file and line."""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path

import pytest

from validator.config import (
    CONFIG_NAME, STARTER, ConfigError, PolicySelection, check_against_policies, find_config, load_config,
)
from validator.engine.library import load_policies
from validator.model import Severity

from tests import helpers

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

FULL = textwrap.dedent("""\
    version: 1
    policies:
      include: ["TDV-K8S-*"]
      exclude: TDV-K8S-030
      categories: [pod-security, supply-chain]
      min-severity: low
      standards: [cis-kubernetes]
      dirs: [team-policies]
    parameters:
      TDV-K8S-024:
        allowed_registries: [registry.example.com]
    exclusions:
      - namespace: [kube-system, kube-public]
        reason: reviewed by the platform team
      - path: "vendor/**"
      - labelSelector: {matchLabels: {tdv.dev/scan: "false"}}
    exemptions:
      - policy: TDV-K8S-001
        kind: DaemonSet
        name: "cilium*"
        reason: the CNI agent needs privileged mode
        owner: platform
        expires: 2030-12-31
    fail-on: high
    outputs: [console, sarif=reports/tdv.sarif]
    baseline: .tdv-baseline.json
    """)


@pytest.fixture(scope="module")
def library():
    return load_policies([])


def write(directory: Path, text: str, name: str = CONFIG_NAME) -> Path:
    """Write a config file (.tdv.yaml unless `name` says otherwise) into `directory`."""
    return helpers.write(directory / name, text)


def load(directory: Path, text: str):
    return load_config(write(directory, text), CONFIG_NAME)


def error_of(directory: Path, text: str, library=None) -> str:
    with pytest.raises(ConfigError) as caught:
        config = load(directory, text)
        if library is not None:
            check_against_policies(config, library)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- reading ----------------------------------------------------------------------------------


def test_every_setting_is_read(tmp_path, library):
    (tmp_path / "team-policies").mkdir()
    config = load(tmp_path, FULL)
    check_against_policies(config, library)
    assert config.selection == PolicySelection(
        include=("TDV-K8S-*",), exclude=("TDV-K8S-030",), categories=("pod-security", "supply-chain"),
        min_severity=Severity.LOW, standards=("cis-kubernetes",))
    assert config.policy_dirs == (tmp_path / "team-policies",)
    assert config.overrides() == {"TDV-K8S-024": {"allowed_registries": ["registry.example.com"]}}
    assert [e.match.namespaces for e in config.exclusions] == [("kube-system", "kube-public"), (), ()]
    assert config.exclusions[0].reason == "reviewed by the platform team"
    assert config.exclusions[0].location.line == 13
    assert config.exclusions[2].match.label_selector == {"matchLabels": {"tdv.dev/scan": "false"}}
    [exemption] = config.exemptions
    assert (exemption.policies, exemption.match.kinds, exemption.match.names) == (
        ("TDV-K8S-001",), ("DaemonSet",), ("cilium*",))
    assert (exemption.owner, exemption.expires, exemption.location.line) == ("platform", date(2030, 12, 31), 18)
    assert config.fail_on is Severity.HIGH
    assert [(o.format, o.destination) for o in config.outputs] == [
        ("console", None), ("sarif", tmp_path / "reports" / "tdv.sarif")]
    assert config.baseline == tmp_path / ".tdv-baseline.json"


def test_paths_are_relative_to_the_config_file_wherever_tdv_runs(tmp_path, monkeypatch):
    (tmp_path / "repo" / "team-policies").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    config = load_config(write(tmp_path / "repo", FULL))
    assert config.display == "repo/.tdv.yaml"
    assert config.policy_dirs == (tmp_path / "repo" / "team-policies",)
    assert config.exclusions[1].match.base == tmp_path / "repo"


@pytest.mark.parametrize("text", ["", "# only comments\n", "---\n", "version: 1\n", "policies:\nexemptions:\n"])
def test_empty_settings_mean_defaults(tmp_path, text):
    config = load(tmp_path, text)
    assert config.selection == PolicySelection() and not config.exemptions and config.fail_on is None


# --- discovery --------------------------------------------------------------------------------


def test_found_in_the_working_directory_or_a_parent(tmp_path):
    config = write(tmp_path, "version: 1\n")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_config(tmp_path) == config
    assert find_config(tmp_path / "a" / "b") == config


def test_search_stops_at_the_repository_root(tmp_path):
    write(tmp_path, "version: 1\n")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "deploy").mkdir()
    assert find_config(tmp_path / "repo" / "deploy") is None
    inside = write(tmp_path / "repo", "version: 1\n")
    assert find_config(tmp_path / "repo" / "deploy") == inside


# --- errors name the file and line ------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("version: 1\npolices: {}\n", ".tdv.yaml:2: unknown key 'polices'"),
    ("version: 2\n", ".tdv.yaml:1: unsupported config version"),
    ("version: true\n", ".tdv.yaml:1: unsupported config version"),
    ("exemptions: [1]\n", ".tdv.yaml:1: item 1 of 'exemptions' must be a mapping"),
    ("exemptions:\n  - {policy: [], reason: r, owner: o}\n", ".tdv.yaml:2: 'policy' needs at least one value"),
    ("exclusions:\n  - path: []\n", ".tdv.yaml:2: 'path' needs at least one value"),
    ("exemptions:\n  - {policy: X-1, kind: [], reason: r, owner: o}\n", ".tdv.yaml:2: 'kind' needs at least one value"),
    ("- a\n- b\n", ".tdv.yaml:1: the config file must be a mapping"),
    ("policies:\n  include: [a,\n", ".tdv.yaml:3: invalid YAML"),
    ("version: 1\n---\nversion: 1\n", ".tdv.yaml:3: a config file holds one YAML document"),
    ("policies: [TDV-K8S-001]\n", ".tdv.yaml:1: 'policies' must be a mapping"),
    ("policies:\n  includes: [x]\n", ".tdv.yaml:2: unknown key 'includes'"),
    ("policies:\n  include: [TDV-K8S-001, 7]\n", ".tdv.yaml:2: 'include' must be a string or a list"),
    ("policies:\n  categories:\n    - rbac\n    - pod-securty\n", ".tdv.yaml:4: unknown category 'pod-securty'"),
    ("policies:\n  min-severity: severe\n", ".tdv.yaml:2: unknown severity 'severe'"),
    ("policies:\n  dirs: [nowhere]\n", ".tdv.yaml:2: policy directory 'nowhere' not found"),
    ("fail-on: 3\n", ".tdv.yaml:1: 'fail-on' must be a non-empty string"),
    ("parameters:\n  TDV-K8S-024: [a]\n", ".tdv.yaml:2: 'TDV-K8S-024' must be a mapping"),
    ("exclusions:\n  - reason: no matcher\n", ".tdv.yaml:2: an exclusion needs at least one of"),
    ("exclusions:\n  - namespace: x\n    nmae: y\n", ".tdv.yaml:3: unknown key 'nmae'"),
    ("exclusions:\n  - labelSelector: {}\n", ".tdv.yaml:2: labelSelector needs matchLabels or matchExpressions"),
    ("exclusions:\n  - labelSelector:\n      matchLabels: {scan: false}\n",
     ".tdv.yaml:3: label values must be strings"),
    ("exclusions:\n  - labelSelector:\n      matchExpressions:\n        - {key: a, operator: Is}\n",
     ".tdv.yaml:4: operator must be one of: In, NotIn, Exists, DoesNotExist"),
    ("exclusions:\n  - labelSelector:\n      matchExpressions:\n        - {key: a, operator: In}\n",
     ".tdv.yaml:4: operator In needs a list of string values"),
    ("exemptions:\n  - policy: TDV-K8S-001\n    owner: me\n", ".tdv.yaml:2: missing required key 'reason'"),
    ("exemptions:\n  - policy: TDV-K8S-001\n    reason: ' '\n    owner: me\n",
     ".tdv.yaml:3: 'reason' must be a non-empty string"),
    ("exemptions:\n  - policy: TDV-K8S-001\n    reason: r\n    owner: me\n    expires: next year\n",
     ".tdv.yaml:5: 'expires' must be a date such as 2030-12-31"),
    ("exemptions:\n  - policy: TDV-K8S-001\n    reason: r\n    owner: me\n    expires: 2030-02-30\n",
     ".tdv.yaml:5: 'expires' must be a date"),
    ("outputs: [console, yaml]\n", ".tdv.yaml:1: unknown output format 'yaml'"),
    ("outputs:\n  - console\n  - json\n", ".tdv.yaml:3: only one output can go to standard output"),
    ("outputs: console\n", ".tdv.yaml:1: 'outputs' must be a list"),
])
def test_bad_setting_is_one_error_with_the_line_of_the_bad_key(tmp_path, text, expected):
    assert error_of(tmp_path, text).startswith(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("parameters:\n  TDV-K8S-999:\n    x: 1\n", ".tdv.yaml:2: unknown policy 'TDV-K8S-999'"),
    ("parameters:\n  TDV-K8S-024:\n    allowed_registry: [a]\n",
     ".tdv.yaml:3: TDV-K8S-024 has no parameter 'allowed_registry' (its parameters: allowed_registries)"),
    ("parameters:\n  TDV-K8S-001:\n    x: 1\n", ".tdv.yaml:3: TDV-K8S-001 has no parameter 'x' (it takes no parameters)"),
    ("parameters:\n  TDV-K8S-024:\n    allowed_registries: registry.example.com\n",
     ".tdv.yaml:3: TDV-K8S-024 parameter 'allowed_registries' must be a list"),
    ("policies:\n  exclude:\n    - TDV-K8S-03*\n    - TDV-K8S-300\n", ".tdv.yaml:4: unknown policy 'TDV-K8S-300'"),
    ("policies:\n  include: TDV-K8S-300\n", ".tdv.yaml:2: unknown policy 'TDV-K8S-300'"),
    ("policies:\n  standards: [cis-k8s]\n", ".tdv.yaml:2: unknown standard 'cis-k8s' (known: "),
    ("exemptions:\n  - policy: [TDV-K8S-001, TDV-K8S-1]\n    reason: r\n    owner: o\n",
     ".tdv.yaml:2: unknown policy 'TDV-K8S-1'"),
])
def test_settings_are_checked_against_the_policy_library(tmp_path, library, text, expected):
    assert error_of(tmp_path, text, library).startswith(expected)


def test_parameter_values_are_never_printed(tmp_path, library):
    text = "parameters:\n  TDV-K8S-024:\n    allowed_registries: hunter2-registry-token\n"
    assert "hunter2" not in error_of(tmp_path, text, library)


def test_unreadable_file(tmp_path):
    path = tmp_path / CONFIG_NAME
    path.write_bytes(b"version: 1\n\xff\xfe")
    with pytest.raises(ConfigError, match=r"^\.tdv\.yaml: config file is not UTF-8 text$"):
        load_config(path, CONFIG_NAME)


# --- the starter file and the documented example ----------------------------------------------


def uncommented(text: str) -> str:
    """The starter with its examples switched on: `# x` lines become `x`; `## prose` stays."""
    return "\n".join(re.sub(r"^(\s*)# ?(?!#)", r"\1", line) if not line.lstrip().startswith("##") else line
                     for line in text.splitlines()) + "\n"


def test_starter_loads_as_written(tmp_path, library):
    config = load(tmp_path, STARTER.read_text())
    check_against_policies(config, library)
    assert config.fail_on is Severity.LOW and not config.exemptions


def test_starter_examples_load_when_switched_on(tmp_path, library):
    (tmp_path / "policies").mkdir()
    text = uncommented(STARTER.read_text())
    assert "\nexemptions:\n" in text and "\n# " not in text
    config = load(tmp_path, text)
    check_against_policies(config, library)
    assert len(config.exemptions) == 2 and len(config.exclusions) == 3
    assert config.baseline == tmp_path / ".tdv-baseline.json"


def test_documented_example_loads(tmp_path, library):
    example = DOCS.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "policies").mkdir()
    config = load(tmp_path, example)
    check_against_policies(config, library)
    assert config.exemptions and config.exclusions and config.parameters
