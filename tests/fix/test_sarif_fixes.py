"""SARIF `fixes`: valid against both schemas, and each one, applied alone, repairs its finding
exactly as `tdv fix` would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from validator.fix import yaml_edit
from validator.fix.textedit import Replacement, apply_replacements

from tests.helpers import planned_fixes, scan_paths, tdv

DATA = Path(__file__).resolve().parent / "data"
FIXES = ["TDV-K8S-002", "TDV-K8S-003", "TDV-K8S-010", "TDV-K8S-012", "TDV-K8S-013", "TDV-K8S-018", "TDV-K8S-019",
         "TDV-K8S-023", "TDV-K8S-025", "TDV-K8S-030", "TDV-AWS-007", "TDV-AWS-008", "TDV-AWS-011", "TDV-AWS-012"]
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@pytest.fixture
def tree(workdir, monkeypatch):
    for name in ("shop.yaml", "main.tf"):
        shutil.copyfile(DATA / name, workdir / name)
    monkeypatch.chdir(workdir)
    return workdir


def sarif_log(*arguments) -> dict:
    result = tdv("scan", "--no-config", "-o", "sarif", *arguments)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def fixed_results(log: dict) -> list[dict]:
    return [r for r in log["runs"][0]["results"] if r.get("fixes")]


def patched(root: Path, fix: dict) -> tuple[Path, str]:
    [change] = fix["artifactChanges"]
    path = root / unquote(change["artifactLocation"]["uri"])
    edits = [Replacement(r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"],
                         r["deletedRegion"]["endLine"], r["deletedRegion"]["endColumn"],
                         r.get("insertedContent", {}).get("text", "")) for r in change["replacements"]]
    return path, apply_replacements(path.read_text(encoding="utf-8"), edits)


@pytest.mark.parametrize(("validator_class", "schema_file"), [
    (jsonschema.Draft4Validator, "sarif-schema-2.1.0.json"),
    (jsonschema.Draft7Validator, "codeql-action-sarif-schema-2.1.0.json"),
])
def test_a_log_with_fixes_is_valid_against_both_schemas(tree, validator_class, schema_file):
    log = sarif_log(*[option for policy_id in FIXES for option in ("--policy", policy_id)], ".")
    assert len(fixed_results(log)) == 22
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator_class(schema).iter_errors(log)]
    assert errors == []


@pytest.mark.slow
def test_each_fix_applied_alone_removes_its_finding(tree, tmp_path):
    log = sarif_log(".")
    for result in fixed_results(log):
        [fix] = result["fixes"]
        path, text = patched(tree, fix)
        copy = tmp_path / result["partialFingerprints"]["tdvFingerprint/v2"] / path.name
        copy.parent.mkdir()
        copy.write_text(text, encoding="utf-8")
        after = sarif_log("--policy", result["ruleId"], "--root", str(copy.parent), str(copy))
        prints = {r["partialFingerprints"]["tdvFingerprint/v2"] for r in after["runs"][0]["results"]}
        assert result["partialFingerprints"]["tdvFingerprint/v2"] not in prints, result["message"]["text"]
        assert fix["description"]["text"].startswith(("Set ", "Add "))


def test_a_fix_is_byte_for_byte_what_tdv_fix_writes(tree):
    (tree / "key.tf").write_text('resource "aws_kms_key" "k" {\n  description = "k" # data\n}\n', encoding="utf-8")
    [result] = fixed_results(sarif_log("--policy", "TDV-AWS-011", "key.tf"))
    path, text = patched(tree, result["fixes"][0])
    assert tdv("fix", "--no-config", "--policy", "TDV-AWS-011", "key.tf").exit_code == 1
    assert path.read_text(encoding="utf-8") == text


def test_suppressed_and_unfixable_findings_carry_no_fix(tree):
    log = sarif_log(".")
    results = log["runs"][0]["results"]
    assert all("fixes" not in r for r in results if r.get("suppressions"))
    assert any(r.get("suppressions") for r in results)
    assert all("fixes" not in r for r in results if r["ruleId"] in ("TDV-K8S-024", "TDV-AWS-017"))


def test_fixes_use_the_parameters_of_the_config_the_scan_read(tree):
    (tree / ".tdv.yaml").write_text("parameters:\n  TDV-K8S-019: {fix_memory_limit: 1Gi}\n", encoding="utf-8")
    (tree / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
                                   "  - name: app\n    image: nginx:1.27\n", encoding="utf-8")
    result = tdv("scan", "-o", "sarif", "--policy", "TDV-K8S-019", "pod.yaml")
    log = json.loads(result.stdout)
    inserted = [r["insertedContent"]["text"] for res in fixed_results(log) for f in res["fixes"]
                for c in f["artifactChanges"] for r in c["replacements"]]
    assert any("memory: 1Gi" in text for text in inserted)


def test_each_file_is_composed_once_however_many_findings_it_has(workdir, monkeypatch):
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n"
           "    - name: app\n      image: nginx:1.27\n    - name: side\n      image: busybox:1.36\n")
    for file in ("a", "b"):
        (workdir / f"{file}.yaml").write_text("---\n".join(pod.format(name=f"{file}{n}") for n in range(3)),
                                               encoding="utf-8")
    composed = []
    compose = yaml_edit._compose

    def counted(text):
        composed.append(text)
        return compose(text)

    monkeypatch.setattr(yaml_edit, "_compose", counted)
    yaml_edit._parse.cache_clear()
    report = scan_paths([workdir], root=workdir, include=["TDV-K8S-002", "TDV-K8S-012"],  # one assignment each
                        plan_fixes=True)
    fixes = planned_fixes(report)
    assert len(fixes) == 2 * 3 * 2 * 2  # files, pods, containers, policies
    assert len(composed) == 2  # each finding's edit uses the nodes of its file


def test_each_tf_file_is_parsed_once_however_many_findings_it_has(tree, monkeypatch):
    from validator.fix import hcl_edit

    parsed = []
    parse = hcl_edit.parse_text

    def counted(text, display):
        parsed.append(text)
        return parse(text, display)

    monkeypatch.setattr(hcl_edit, "parse_text", counted)
    hcl_edit._parsed.cache_clear()
    report = scan_paths([tree / "main.tf"], root=tree, include=[p for p in FIXES if p.startswith("TDV-AWS")],
                        plan_fixes=True)
    fixes = planned_fixes(report)
    assert len(fixes) > 2
    assert len(parsed) == 1  # each finding's edit starts from the same text of main.tf
