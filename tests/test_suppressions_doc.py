"""docs/suppressions.md stays true: its examples parse, load and mean what the text says."""

import textwrap
from pathlib import Path

import yaml

from validator.config import check_against_policies, load_config
from validator.engine.library import load_policies
from validator.filters import baseline
from validator.skip_markers import SkipComments, parse_annotation
from validator.model import Location

DOC = (Path(__file__).resolve().parent.parent / "docs" / "suppressions.md").read_text()


def blocks(language: str) -> list[str]:
    return [part.split("```", 1)[0] for part in DOC.split(f"```{language}\n")[1:]]


def test_annotation_examples():
    one_line, per_line = (yaml.safe_load(textwrap.dedent(block)) for block in blocks("yaml")[:2])
    value = one_line["metadata"]["annotations"]["tdv.dev/skip"]
    rules = parse_annotation(value, Location("doc", 1))
    assert [(r.patterns, r.problem) for r in rules] == [(("TDV-K8S-001",), None), (("TDV-K8S-012",), None)]
    rules = parse_annotation(per_line["tdv.dev/skip"], Location("doc", 1))
    assert [r.patterns for r in rules] == [("TDV-K8S-001", "TDV-K8S-009"), ("TDV-K8S-012",)]
    assert all(r.reason and r.problem is None for r in rules)


def test_terraform_example():
    [example] = blocks("hcl")
    rules = SkipComments(example, "main.tf").for_block(2, 6)
    assert [(r.patterns, r.problem) for r in rules] == [
        (("TDV-AWS-001",), None), (("TDV-AWS-002", "TDV-AWS-003"), None)]


def test_exemptions_example_is_a_valid_config(tmp_path):
    path = tmp_path / ".tdv.yaml"
    path.write_text(blocks("yaml")[2])
    config = load_config(path)
    check_against_policies(config, load_policies([]))
    assert [e.owner for e in config.exemptions] == ["platform-team", "infra-team"]


def test_baseline_example_loads(tmp_path):
    [example] = blocks("json")
    path = tmp_path / "b.json"
    path.write_text(example)
    [entry] = baseline.load(path).entries
    assert entry.policy_id == "TDV-K8S-001"
