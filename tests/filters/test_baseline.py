"""Baseline: the file format, and findings that stay known through the edits a repository
goes through (line shifts, reordering, moving resources between files of a bundle) while a
genuinely new finding still fails."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from validator.filters import baseline
from validator.model import BaselineState
from validator.report import EXIT_FINDINGS, EXIT_OK

from tests.helpers import scan_paths

POLICIES = ["TDV-K8S-001", "TDV-K8S-022", "TDV-K8S-027"]
SECRET = "s3cr3t-value-never-copied"

WEB = textwrap.dedent(f"""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web, namespace: shop}}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: nginx:1.27
              securityContext: {{privileged: true}}
            - name: sidecar
              image: envoy:latest
              env:
                - name: API_TOKEN
                  value: {SECRET}
    """)

DB = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: shop}
    spec:
      template:
        spec:
          containers:
            - name: postgres
              image: postgres:16
              securityContext: {privileged: true}
    """)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "app.yaml").write_text(WEB + "---\n" + DB)
    return directory


def scan(tmp_path: Path, bundle: Path, **options):
    return scan_paths([bundle], root=tmp_path, include=POLICIES, **options)


@pytest.fixture
def recorded(tmp_path: Path, bundle: Path) -> Path:
    path = tmp_path / ".tdv-baseline.json"
    report = scan(tmp_path, bundle, write_baseline=path)
    assert report.exit_code == EXIT_OK  # adopting: everything found is now known
    assert report.counts()["baselined"] == 4
    return path


def states(report) -> list[tuple[str, str, BaselineState]]:
    return sorted((r.policy.id, r.resource.ref, v.baseline) for r in report.failures for v in r.violations)


def assert_all_known(report):
    assert {state for *_, state in states(report)} == {BaselineState.UNCHANGED}
    assert report.counts()["findings"] == 4
    assert report.baseline.absent == []
    assert report.exit_code == EXIT_OK


# --- the file ---------------------------------------------------------------------------------


def test_file_is_versioned_readable_and_has_no_secret_values(recorded):
    text = recorded.read_text()
    data = json.loads(text)
    assert (data["format"], data["version"]) == ("tdv-baseline", 2)
    first = data["findings"][0]
    assert list(first) == ["policyId", "resource", "field", "message", "path", "fingerprint"]
    assert {(f["policyId"], f["resource"]) for f in data["findings"]} == {
        ("TDV-K8S-001", "Deployment/shop/web"), ("TDV-K8S-001", "StatefulSet/shop/db"),
        ("TDV-K8S-022", "Deployment/shop/web"), ("TDV-K8S-027", "Deployment/shop/web")}
    assert SECRET not in text


def test_written_file_loads_back(recorded):
    loaded = baseline.load(recorded)
    assert len(loaded.entries) == 4 and loaded.entries[0].policy_id == "TDV-K8S-001"


def test_entries_are_sorted_so_rewriting_gives_no_diff(tmp_path, bundle, recorded):
    first = recorded.read_text()
    (bundle / "app.yaml").write_text(DB + "---\n" + WEB)
    scan(tmp_path, bundle, write_baseline=recorded)
    assert recorded.read_text() == first


@pytest.mark.parametrize(("text", "message"), [
    ('{"format": "tdv-baseline",\n "version": 1,\n "findings": [\n', ":4: invalid JSON"),
    ('{"findings": []}', "not a tdv baseline"),
    ('{"format": "tdv-baseline", "version": 1}', "missing required key 'findings'"),
    ('{"format": "tdv-baseline",\n "version": 3,\n "findings": []}', ":2: unsupported baseline version"),
    ('{"format": "tdv-baseline",\n "version": true,\n "findings": []}', ":2: unsupported baseline version"),
    ('{"format": "tdv-baseline", "version": 1, "findings": [7]}', ":1: item 1 of 'findings' must be a mapping"),
    ('{"format": "tdv-baseline", "version": 1, "findings": [\n  {"policyId": "X-1"}\n]}',
     ":2: missing required key 'fingerprint'"),
    ('{"format": "tdv-baseline", "version": 1, "findings": [\n  {"policyId": "X-1",\n   "fingerprint": "zz"}]}',
     ":3: fingerprint must be 32 lower-case hex digits"),
    ('{"format": "tdv-baseline", "version": 1, "findings": [],\n "extra": 1}', ":2: unknown key 'extra'"),
])
def test_bad_file_is_one_error_with_file_and_line(tmp_path, text, message):
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(baseline.BaselineError) as caught:
        baseline.load(path, "b.json")
    assert str(caught.value).startswith("b.json") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(baseline.BaselineError, match="nope.json: cannot read baseline: No such file"):
        baseline.load(tmp_path / "nope.json", "nope.json")


# --- what survives ----------------------------------------------------------------------------


def test_line_shifts(tmp_path, bundle, recorded):
    (bundle / "app.yaml").write_text("# rendered by helm\n\n\n" + WEB.replace("spec:\n", "spec:\n  replicas: 3\n", 1)
                                     + "---\n" + DB)
    assert_all_known(scan(tmp_path, bundle, baseline=recorded))


def test_document_reordering(tmp_path, bundle, recorded):
    (bundle / "app.yaml").write_text(DB + "---\n" + WEB)
    assert_all_known(scan(tmp_path, bundle, baseline=recorded))


def test_container_reordering(tmp_path, bundle, recorded):
    app, sidecar = WEB.split("        - name: app\n")[1].split("        - name: sidecar\n")
    head = WEB.split("        - name: app\n")[0]
    swapped = head + "        - name: sidecar\n" + sidecar + "        - name: app\n" + app
    (bundle / "app.yaml").write_text(swapped + "---\n" + DB)
    assert_all_known(scan(tmp_path, bundle, baseline=recorded))


def test_a_resource_moved_to_another_file_is_another_resource(tmp_path, bundle, recorded):
    """Two files may define the same kind and name (environments, overlays): the file counts."""
    (bundle / "app.yaml").write_text(WEB)
    (bundle / "templates").mkdir()
    (bundle / "templates" / "db.yaml").write_text(DB)
    report = scan(tmp_path, bundle, baseline=recorded)
    assert {state for *_, state in states(report)} == {BaselineState.UNCHANGED, BaselineState.NEW}
    assert report.baseline.absent


def test_a_changed_message_on_the_same_field_is_still_known(tmp_path, bundle, recorded):
    (bundle / "app.yaml").write_text(WEB.replace("envoy:latest", "envoyproxy/envoy:latest") + "---\n" + DB)
    assert_all_known(scan(tmp_path, bundle, baseline=recorded))


def test_a_new_finding_still_fails(tmp_path, bundle, recorded):
    worse = DB.replace("image: postgres:16", "image: postgres:latest")
    (bundle / "app.yaml").write_text(WEB + "---\n" + worse)
    report = scan(tmp_path, bundle, baseline=recorded)
    assert report.exit_code == EXIT_FINDINGS
    new = [(p, ref) for p, ref, state in states(report) if state is BaselineState.NEW]
    assert new == [("TDV-K8S-022", "StatefulSet/shop/db")]
    assert report.counts()["baselined"] == 4


def test_a_new_container_with_the_same_problem_is_new(tmp_path, bundle, recorded):
    extra = DB + textwrap.indent(textwrap.dedent("""\
        - name: backup
          image: postgres:16
          securityContext: {privileged: true}
        """), "        ")
    (bundle / "app.yaml").write_text(WEB + "---\n" + extra)
    report = scan(tmp_path, bundle, baseline=recorded)
    assert report.exit_code == EXIT_FINDINGS
    assert report.counts()["new"] == 1


def test_same_resource_in_several_files_counts_one_by_one(tmp_path):
    bundle = tmp_path / "overlays"
    for name in ("dev", "prod"):
        (bundle / name).mkdir(parents=True)
        (bundle / name / "db.yaml").write_text(DB)
    path = tmp_path / "b.json"
    scan(tmp_path, bundle, write_baseline=path)
    (bundle / "staging").mkdir()
    (bundle / "staging" / "db.yaml").write_text(DB)
    report = scan(tmp_path, bundle, baseline=path)
    assert (report.counts()["baselined"], report.counts()["new"]) == (2, 1)


def test_fixed_findings_are_reported_absent(tmp_path, bundle, recorded):
    (bundle / "app.yaml").write_text(WEB + "---\n" + DB.replace("privileged: true", "privileged: false"))
    report = scan(tmp_path, bundle, baseline=recorded)
    assert report.exit_code == EXIT_OK
    assert [(e.policy_id, e.resource) for e in report.baseline.absent] == [("TDV-K8S-001", "StatefulSet/shop/db")]


def test_findings_of_policies_left_out_of_the_scan_are_not_absent(tmp_path, bundle, recorded):
    from validator.model import Severity

    report = scan(tmp_path, bundle, baseline=recorded, min_severity=Severity.CRITICAL)
    assert report.counts()["baselined"] == 2 and report.baseline.absent == []
    report = scan_paths([bundle], root=tmp_path, include=["TDV-K8S-001"], baseline=recorded)
    assert report.counts()["baselined"] == 2 and report.baseline.absent == []
