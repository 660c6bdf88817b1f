"""The Markdown reporter: content for PR comments and job summaries, escaping, and truncation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from validator.reporters import FormatOptions, markdown

from tests.helpers import scan_paths, tdv

OPTIONS = FormatOptions()
ROW = re.compile(r"^\| (critical|high|medium|low|info) \| `(.+?):(\d+)` \| \[(\S+)\]\((\S+)\) \|", re.M)
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")

NOISY_POLICY = """\
id: TDV-TEST-910
title: Notes must be empty
severity: high
category: best-practice
description: Echoes a field of the object into the message, to test escaping.
remediation: Remove the note.
standards:
  internal: ["test"]
targets:
  kinds: [ConfigMap]
validations:
  - expression: "!has(object.data) || !('note' in object.data)"
    message: "note is set"
    messageExpression: "'note says ' + object.data.note"
"""

NOISY_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: noisy
  namespace: shop
data:
  note: "a | b <script>alert(1)</script> **bold** @security-team\\nsecond line"
"""


def test_summary_table_counts_each_severity(report):
    text = markdown.render(report, OPTIONS)
    counts = report.severity_counts()
    for severity in ("critical", "high", "medium", "low", "info"):
        assert re.search(rf"^\| {severity} \| {counts[severity]} \| (yes|no) \|$", text, re.M), severity
    assert text.startswith("### ⚠️ tdv incomplete:")  # broken.yaml is an input error


def test_every_finding_is_listed_with_file_line_and_linked_policy(report):
    text = markdown.render(report, OPTIONS)
    rows = {(m.group(2), int(m.group(3)), m.group(4)) for m in ROW.finditer(text)}
    expected = {(v.location.path, v.location.line, r.policy.id) for r in report.failures for v in r.violations}
    assert rows == expected
    for match in ROW.finditer(text):
        assert match.group(5).startswith("https://") and match.group(4).lower() in match.group(5)
    assert "Truncated" not in text


def test_findings_are_grouped_in_collapsible_sections_per_file(report):
    text = markdown.render(report, OPTIONS)
    files = {v.location.path for r in report.failures for v in r.violations}
    summaries = re.findall(r"<details><summary><code>(.+?)</code>: \d+ findings?", text)
    assert sorted(summaries) == sorted(files)
    assert text.count("<details>") == text.count("</details>")
    assert "#### How to fix" in text and "```yaml" in text


def test_input_and_evaluation_errors_are_listed(report_with_evaluation_error):
    text = markdown.render(report_with_evaluation_error, OPTIONS)
    assert "#### Errors (2)" in text
    assert "- `manifests/broken.yaml:" in text
    assert "TDV-TEST-900 could not be evaluated on Deployment/shop/web" in text


def test_secret_values_are_never_copied(report, secrets):
    text = markdown.render(report, OPTIONS)
    for secret in secrets:
        assert secret not in text


def test_values_from_manifests_cannot_break_the_table_or_inject_markup(tmp_path: Path, write_file, scan_tree):
    policies = tmp_path / "policies"
    write_file(policies / "TDV-TEST-910.yaml", NOISY_POLICY)
    manifest = write_file(tmp_path / "noisy.yaml", NOISY_CONFIGMAP)
    report = scan_tree(tmp_path, manifest, policy_dirs=[policies], include=["TDV-TEST-910"])
    text = markdown.render(report, OPTIONS)
    row = next(line for line in text.splitlines() if "TDV-TEST-910](" in line)
    assert len(UNESCAPED_PIPE.findall(row)) == 6  # five cells
    assert "<script>" not in text and "&lt;script&gt;" in row
    assert "@security-team" not in text and "\\*\\*bold\\*\\*" in row
    assert "second line" in row


def test_clean_scan_says_passed_without_sections(tmp_path: Path, write_file, scan_tree):
    manifest = write_file(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: b\n")
    report = scan_tree(tmp_path, manifest, include=["TDV-K8S-001"])
    text = markdown.render(report, OPTIONS)
    assert text.startswith("### ✅ tdv passed: 0 findings, 0 blocking")
    assert "<details>" not in text and "Truncated" not in text


def test_soft_fail_blocks_nothing(tmp_path: Path, app_text, write_file, scan_tree):
    manifest = write_file(tmp_path / "app.yaml", app_text)
    report = scan_tree(tmp_path, manifest, soft_fail=True)
    text = markdown.render(report, OPTIONS)
    assert text.startswith("### ✅ tdv passed:") and ", 0 blocking" in text.splitlines()[0]
    assert "| yes |" not in text and "soft fail" in text


@pytest.fixture(scope="module")
def big_report(tmp_path_factory):
    """Thousands of findings in 40 files: far more than one comment can hold (scanned once)."""
    apps = tmp_path_factory.mktemp("big") / "apps"
    apps.mkdir()
    for index in range(40):
        (apps / f"app{index:02}.yaml").write_text(_deployments(index, 8), encoding="utf-8")
    return scan_paths([apps], root=apps.parent)


def _deployments(seed: int, count: int) -> str:
    return "---\n".join(
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{seed}-{n}\n  namespace: shop\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx:latest\n"
        f"          securityContext: {{privileged: {'true' if seed % 4 == 0 else 'false'}}}\n"
        for n in range(count)
    )


def test_large_reports_are_cut_to_the_github_comment_limit(big_report):
    total = sum(len(r.violations) for r in big_report.failures)
    text = markdown.render(big_report, OPTIONS)
    assert len(text) <= markdown.MAX_CHARS
    rows = len(ROW.findall(text))
    assert 0 < rows < total
    assert f"**Truncated** to fit the comment size limit: {total - rows} of {total} findings" in text
    assert text.count("<details>") == text.count("</details>")
    first_file = re.search(r"<details><summary><code>(.+?)</code>.*?\(worst: (\w+)\)", text)
    assert first_file.group(2) == "critical"  # the most severe files come first


@pytest.mark.parametrize("limit", [1_500, 3_000, 8_000])
def test_truncation_keeps_whole_rows_and_closes_sections(big_report, limit):
    text = markdown.render(big_report, OPTIONS, limit=limit)
    assert len(text) <= limit
    assert text.count("<details>") == text.count("</details>")
    for line in text.splitlines():
        if line.startswith("| ") and "](" in line:
            assert ROW.match(line), line
    assert text.rstrip().endswith("The SARIF or JSON report has everything.")


def test_cli_writes_markdown_file(tmp_path: Path, app_text, write_file):
    manifest = write_file(tmp_path / "app.yaml", app_text)
    out = tmp_path / "out" / "summary.md"
    result = tdv("scan", str(manifest), "--root", str(tmp_path), "-o", f"markdown={out}")
    assert result.exit_code == 1, result.output
    assert "`app.yaml:" in out.read_text(encoding="utf-8")

