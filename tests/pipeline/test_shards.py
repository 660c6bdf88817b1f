"""`tdv scan --shard I/N` and `tdv merge`: a scan split over CI executors and merged gives
what one scan gives, and a merge refuses reports that are not the shards of one scan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import DATA, EXAMPLES, tdv, write_tree
from validator.sources.partition import Part, assign

FORMATS = ("json", "sarif", "junit", "markdown", "codequality", "console")


def _normalised(text: str) -> str:
    """Timings differ from run to run; so do the names Helm's randAlphaNum makes."""
    text = re.sub(r' time="[0-9.]+"', "", text)
    return re.sub(r"-([a-z]+)-test-[a-z0-9]{5}", r"-\1-test-RAND", text)


def _single(tmp_path: Path, paths: list[str], *options: str) -> dict[str, str]:
    outputs = [arg for fmt in FORMATS for arg in ("-o", f"{fmt}={tmp_path / ('single.' + fmt)}")]
    tdv("scan", *paths, *options, *outputs, "--no-color")
    return {fmt: _normalised((tmp_path / f"single.{fmt}").read_text()) for fmt in FORMATS}


def _sharded(tmp_path: Path, paths: list[str], total: int, *options: str) -> tuple[dict[str, str], int]:
    reports = []
    for index in range(1, total + 1):
        report = tmp_path / f"shard-{total}-{index}.json"
        tdv("scan", *paths, *options, "--shard", f"{index}/{total}", "-o", f"shard={report}")
        reports.append(report)
    outputs = [arg for fmt in FORMATS for arg in ("-o", f"{fmt}={tmp_path / f'merged-{total}.{fmt}'}")]
    merged = tdv("merge", *reversed(reports), *outputs, "--no-color")
    return {fmt: _normalised((tmp_path / f"merged-{total}.{fmt}").read_text()) for fmt in FORMATS}, merged.exit_code


@pytest.mark.slow
def test_a_scan_in_1_2_and_5_shards_merges_into_the_reports_of_one_scan(tmp_path, monkeypatch):
    monkeypatch.chdir(DATA.parent.parent)
    # Manifests, charts, overlays sharing bases, Terraform plans and modules, and
    # cross-resource policies whose objects are in different files.
    paths = ["tests/data", "examples"]
    single = _single(tmp_path, paths)
    expected_code = tdv("scan", *paths, "-q", "-o", "console=/dev/null").exit_code
    assert json.loads(single["json"])["summary"]["resources"] > 100
    for total in (1, 2, 5):
        merged, code = _sharded(tmp_path, paths, total)
        assert code == expected_code
        for fmt in FORMATS:
            assert merged[fmt] == single[fmt], f"{fmt} differs with {total} shards"


def test_cross_resource_findings_are_the_same_whichever_shard_holds_the_related_objects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {f"deploy/{path.name}": path.read_text() for path in (DATA / "cross-resource").iterdir()})
    single = _single(tmp_path, ["deploy"])
    findings = json.loads(single["json"])["findings"]
    assert any(f["policyId"] == "TDV-K8S-181" for f in findings)  # at a binding; its rules are in roles.yaml
    for total in (2, 4):
        merged, _ = _sharded(tmp_path, ["deploy"], total)
        assert merged == single


def test_the_partition_is_the_same_on_every_executor_and_balanced_by_size():
    sizes = {f"file:{n}.yaml": size for n, size in enumerate([900, 100, 500, 500, 300, 300, 200, 0])}
    shard_of = assign(sizes, 3)
    assert shard_of == assign(dict(reversed(list(sizes.items()))), 3)  # the order met does not matter
    loads = [sum(size for key, size in sizes.items() if shard_of[key] == n) for n in (1, 2, 3)]
    assert loads == [900, 1000, 900]
    assert set(assign({"a": 1}, 4).values()) == {1}  # more shards than units: the others are empty


@pytest.mark.parametrize("text, message", [("0/3", "1 <= I <= N"), ("4/3", "1 <= I <= N"), ("1/0", "1 <= I <= N"),
                                           ("2", "write I/N"), ("a/b", "write I/N")])
def test_a_shard_that_does_not_exist_is_a_usage_error(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Part.parse(text)
    result = tdv("scan", str(EXAMPLES), "--shard", text)
    assert result.exit_code == 2 and message in result.stderr


def test_overlays_sharing_a_base_and_all_terraform_inputs_stay_in_one_shard(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"
    overlay = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\n"
    write_tree(tmp_path, {
        "k/base/kustomization.yaml": "resources: [cm.yaml]\n", "k/base/cm.yaml": base,
        "k/overlays/a/kustomization.yaml": overlay, "k/overlays/b/kustomization.yaml": overlay,
        "tf/one/main.tf": 'resource "aws_s3_bucket" "a" {\n  bucket = "a"\n}\n',
        "tf/two/main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n',
    })
    seen = []
    for index in (1, 2, 3):
        report = tmp_path / f"s{index}.json"
        tdv("scan", "k", "tf", "--shard", f"{index}/3", "-o", f"shard={report}", "--allow-empty")
        shard = json.loads(report.read_text())
        seen.append(sorted({r["v"][5] for r in shard["resources"]}))  # each resource's file
    holding = [files for files in seen if files]
    assert sorted(map(tuple, holding)) == [("k/base/cm.yaml",), ("tf/one/main.tf", "tf/two/main.tf")]


def _shard_reports(tmp_path: Path, total: int, *options: str) -> list[Path]:
    reports = []
    for index in range(1, total + 1):
        report = tmp_path / f"r{index}.json"
        tdv("scan", str(EXAMPLES), "--shard", f"{index}/{total}", *options, "-o", f"shard={report}")
        reports.append(report)
    return reports


def test_merge_refuses_reports_that_are_not_the_shards_of_one_scan(tmp_path):
    one, two = _shard_reports(tmp_path, 2)
    other_settings = tmp_path / "fail-on.json"
    tdv("scan", str(EXAMPLES), "--shard", "2/2", "--fail-on", "high", "-o", f"shard={other_settings}")
    other_policies = tmp_path / "policies.json"
    tdv("scan", str(EXAMPLES), "--shard", "2/2", "--skip-policy", "TDV-K8S-001", "-o", f"shard={other_policies}")
    cases = {
        (one, other_settings): "made with other settings",
        (one, other_policies): "made with other policies",
        (one, one): "shard 1/2 is already in",
        (two,): "shard 1 of 2 missing",
    }
    for reports, message in cases.items():
        result = tdv("merge", *reports)
        assert result.exit_code == 2, reports
        assert message in result.stderr


def test_merge_refuses_a_report_of_another_version_or_a_file_that_is_no_shard_report(tmp_path):
    (report,) = _shard_reports(tmp_path, 1)
    data = json.loads(report.read_text())
    data["tdv"] = "0.0.1"
    old = write_tree(tmp_path, {"old.json": json.dumps(data)}) / "old.json"
    plain = tmp_path / "plain.json"
    tdv("scan", str(EXAMPLES), "-o", f"json={plain}")
    fields = json.loads(report.read_text())
    fields["classes"]["Violation"] = fields["classes"]["Violation"][:-1]
    changed = write_tree(tmp_path, {"changed.json": json.dumps(fields)}) / "changed.json"
    truncated = write_tree(tmp_path, {"cut.json": report.read_text()[:5000]}) / "cut.json"
    cases = {
        old: "written by tdv 0.0.1",
        plain: "not a tdv shard report",
        changed: "its Violation fields",
        truncated: "not JSON",
        tmp_path / "absent.json": "cannot read the shard report",
    }
    for path, message in cases.items():
        result = tdv("merge", str(path))
        assert result.exit_code == 2
        assert message in result.stderr and path.name in result.stderr


def test_a_shard_report_holds_no_content_of_the_resources(tmp_path):
    secret = "c3VwZXItc2VjcmV0LXZhbHVl"
    write_tree(tmp_path, {"secret.yaml": (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n"
        f"    kubectl.kubernetes.io/last-applied-configuration: '{{\"data\": \"{secret}\"}}'\n"
        f"data:\n  password: {secret}\n")})
    report = tmp_path / "s.json"
    tdv("scan", str(tmp_path / "secret.yaml"), "--shard", "1/1", "-o", f"shard={report}")
    assert "db" in report.read_text() and secret not in report.read_text()


def test_write_baseline_needs_the_whole_scan(tmp_path):
    result = tdv("scan", str(EXAMPLES), "--shard", "1/2", "--write-baseline", str(tmp_path / "b.json"))
    assert result.exit_code == 2 and "without --shard" in result.stderr


def test_empty_shards_are_no_error_but_an_empty_scan_is_one_once(tmp_path):
    write_tree(tmp_path, {"pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n",
                          "empty/notes.yaml": "# nothing\n"})
    reports = []
    for index in (1, 2, 3):
        reports.append(tmp_path / f"s{index}.json")
        result = tdv("scan", str(tmp_path / "pod.yaml"), "--shard", f"{index}/3", "-o", f"shard={reports[-1]}")
        assert result.exit_code in (0, 1)
    assert "nothing to scan" not in tdv("merge", *reports, "-o", "console").stdout
    empty = []
    for index in (1, 2):
        empty.append(tmp_path / f"e{index}.json")
        tdv("scan", str(tmp_path / "empty"), "--shard", f"{index}/2", "-o", f"shard={empty[-1]}")
    result = tdv("merge", *empty, "-o", "json")
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    assert [e["message"] for e in errors] == ["nothing to scan: no Kubernetes object or Terraform resource in it"
                                              " (--allow-empty accepts this)"]


def _pods(tmp_path: Path, count: int) -> list[str]:
    """`count` files of one privileged Pod each (TDV-K8S-001 fails on each)."""
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{n}\nspec:\n  containers:\n    - name: c\n"
           "      image: registry.example.com/app@sha256:" + "a" * 64 + "\n"
           "      securityContext:\n        privileged: true\n")
    write_tree(tmp_path, {f"pods/p{n}.yaml": pod.format(n=n) for n in range(count)})
    return [f"pods/p{n}.yaml" for n in range(count)]


def test_an_expired_exemption_counts_the_findings_of_every_shard_and_a_baseline_entry_is_absent_only_once_gone(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _pods(tmp_path, 4)
    baseline = tmp_path / "baseline.json"
    tdv("scan", "pods", "--write-baseline", str(baseline), "-q", "-o", "console=/dev/null")
    entries = json.loads(baseline.read_text())
    assert entries  # the baseline records the findings of every pod; one of them is then gone
    (tmp_path / "pods" / "p3.yaml").unlink()
    write_tree(tmp_path, {".tdv.yaml": (
        "exemptions:\n  - policy: TDV-K8S-001\n    kind: Pod\n    reason: lab pods\n    owner: lab\n"
        "    expires: 2020-01-31\n")})
    single = _single(tmp_path, ["pods"], "--baseline", str(baseline))
    report = json.loads(single["json"])
    assert any("3 findings it covered are reported as active" in w["message"] for w in report["warnings"])
    assert report["summary"]["baseline"]["absent"] >= 1
    merged, _ = _sharded(tmp_path, ["pods"], 3, "--baseline", str(baseline))
    assert merged == single


def test_every_field_of_every_class_a_shard_report_holds_survives_the_round_trip():
    import dataclasses

    from validator.reporters import shard

    for cls in shard.CLASSES:
        names = {f.name for f in dataclasses.fields(cls)}
        assert set(shard._FIELDS[cls.__name__]) == names - ({"applies"} if cls.__name__ == "Targets" else set())


def test_a_shard_report_carries_every_field_a_report_needs():
    """Each field of each class a report holds survives the JSON, except the resource's content
    (only what fingerprints read is kept) and its positions (findings carry their own)."""
    from tests.pipeline.test_codec import every_field_set, fields_of
    from validator.engine.policy import Parameter, Policy, Targets
    from validator.filters.baseline import Entry
    from validator.model import ExpiredExemption, InputProblem, ScanWarning, Severity
    from validator.report import BaselineUse, ScanReport, ShardOrigin
    from validator.reporters import shard

    (shard_result, _) = every_field_set()
    result = shard_result.results[0]
    result.resource.tf_links = None  # read by the inventory only, before evaluation
    result.resource.stable_paths[("spec", 0)] = ".spec[0]"  # else the report computes it, for fingerprints
    policy = Policy("P-2", "Title", Severity.HIGH, "cat", "desc", "fix it", {"cis": ("1.1",)},
                    Targets(("Pod",), ("",), ("a",), ("b",), {"matchLabels": {"a": "b"}}, pod_bearing=True), (),
                    parameters=(Parameter("n", "int", 3, "how many"),), help_uri="https://x", tags=("t",),
                    language="rego", partial={"nsa": ("C-1",)}, source="p.yaml", builtin=True, relations=("roles",),
                    enabled=False)
    result.policy = policy
    report = ScanReport(
        [result], [InputProblem("b.yaml", "broken", 7)], [policy], files_scanned=3, resources_scanned=2,
        fail_on=Severity.MEDIUM, soft_fail=True, root="/r", notes=["n"],
        warnings=[ScanWarning("c.yaml", "w", 2), ExpiredExemption.of(".tdv.yaml", 4, "exemption of X", 2)],
        resources_excluded=1, baseline=BaselineUse("b.json", [Entry("f", "P-2", "Pod/x", "spec", "m", "a.yaml")], True),
        config=".tdv.yaml", origin=ShardOrigin("0.1.0", 2, 3, "s", "p", (InputProblem("-", "empty", None),), 1))
    back = shard.read(shard.render(report))
    assert back.results[0].policy.targets == policy.targets
    sent, received = fields_of(report), fields_of(back)
    assert received == sent
