"""Suppressions: the annotation and comment parsers, config exemptions, and the filter."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from validator.filters.resource_match import ResourceMatch
from validator.filters.suppressions import Exemption, apply
from validator.skip_markers import SkipComments, parse_annotation
from validator.model import Location, Result, Severity, Status, SuppressionKind, Violation
from validator.sources.kubernetes import parse_manifests

HERE = Location("a.yaml", 7, 1)
TODAY = date(2030, 6, 1)
KNOWN = ["TDV-K8S-001", "TDV-K8S-009", "TDV-K8S-012", "TDV-AWS-001"]

DAEMONSET = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: cilium
      namespace: kube-system
      annotations:
        tdv.dev/skip: "TDV-K8S-012: writes its state to /var/run"
    spec:
      template:
        metadata:
          annotations:
            tdv.dev/skip: |
              TDV-K8S-001, TDV-K8S-009: the CNI agent configures the host network
        spec:
          containers:
            - name: agent
              image: quay.io/cilium/cilium:v1.15
    """)


def one_resource(text: str, display: str = "deploy/cni.yaml"):
    [resource] = parse_manifests(text, display)
    return resource


def failure(resource, policy_id: str, status: Status = Status.FAIL) -> Result:
    policy = SimpleNamespace(id=policy_id, severity=Severity.HIGH)
    violations = [Violation("bad", ("spec",), resource.locate(("spec",)))] if status is Status.FAIL else []
    return Result(policy, resource, status, violations)


# --- the annotation ---------------------------------------------------------------------------


def test_annotation_entries_split_on_semicolons_and_new_lines():
    rules = parse_annotation("TDV-K8S-001: needs host access; TDV-K8S-012: writes to /tmp\nTDV-K8S-009:x", HERE)
    assert [(r.patterns, r.reason, r.problem) for r in rules] == [
        (("TDV-K8S-001",), "needs host access", None),
        (("TDV-K8S-012",), "writes to /tmp", None),
        (("TDV-K8S-009",), "x", None),
    ]
    assert all(r.location == HERE for r in rules)


def test_annotation_ids_may_be_lists_and_globs_and_any_case():
    [rule] = parse_annotation("tdv-k8s-001 , TDV-K8S-0*: reason: with a colon", HERE)
    assert rule.patterns == ("TDV-K8S-001", "TDV-K8S-0*")
    assert rule.reason == "reason: with a colon"


@pytest.mark.parametrize("value", ["TDV-K8S-001", "TDV-K8S-001:", "TDV-K8S-001:   ", "TDV-K8S-001: ; "])
def test_annotation_entry_without_reason_is_rejected(value):
    [rule] = parse_annotation(value, HERE)
    assert rule.problem == "tdv.dev/skip: TDV-K8S-001 has no reason"


@pytest.mark.parametrize("value", ["needs host access", "TDV K8S 001: reason", 42])
def test_malformed_annotation_is_rejected(value):
    [rule] = parse_annotation(value, HERE)
    assert rule.problem and not rule.patterns


def test_source_reads_the_annotation_of_the_object_and_of_its_pod_template():
    resource = one_resource(DAEMONSET)
    rules = resource.suppressions
    assert [r.patterns for r in rules] == [("TDV-K8S-012",), ("TDV-K8S-001", "TDV-K8S-009")]
    assert [r.location.line for r in rules] == [7, 12]
    assert all(r.location.path == "deploy/cni.yaml" for r in rules)


def test_cronjob_template_annotations_count():
    text = textwrap.dedent("""\
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: backup}
        spec:
          jobTemplate:
            spec:
              template:
                metadata:
                  annotations: {tdv.dev/skip: "TDV-K8S-001: reason"}
                spec: {containers: []}
        """)
    assert [r.patterns for r in one_resource(text).suppressions] == [("TDV-K8S-001",)]


# --- Terraform comments -----------------------------------------------------------------------

TF = textwrap.dedent("""\
    # tdv:skip=TDV-AWS-001 the bucket hosts the public website
    # another comment
    resource "aws_s3_bucket" "site" {
      bucket = "site"
    }

    # tdv:skip=TDV-AWS-002 not directly above: a blank line separates it

    resource "aws_s3_bucket" "logs" {
      acl = "public-read" # tdv:skip=TDV-AWS-001, TDV-AWS-003: read by the log shipper
      // tdv:skip=TDV-AWS-004 - slashes work too
      description = "# tdv:skip=TDV-AWS-005 inside a string is not a comment"
      policy = <<EOF
    # tdv:skip=TDV-AWS-006 inside a heredoc is not a comment
    EOF
      /* tdv:skip=TDV-AWS-007 block comment */
    }
    resource "aws_s3_bucket" "bad" {
      # tdv:skip=TDV-AWS-001
      # tdv:skip=
    }
    """)


def test_comment_directly_above_a_block_applies():
    [rule] = SkipComments(TF, "main.tf").for_block(3, 5)
    assert rule.patterns == ("TDV-AWS-001",)
    assert rule.reason == "the bucket hosts the public website"
    assert rule.location == Location("main.tf", 1, 1)


def test_comments_inside_a_block_apply_but_not_in_strings_or_heredocs():
    rules = SkipComments(TF, "main.tf").for_block(9, 17)
    assert [(r.patterns, r.reason) for r in rules] == [
        (("TDV-AWS-001", "TDV-AWS-003"), "read by the log shipper"),
        (("TDV-AWS-004",), "slashes work too"),
        (("TDV-AWS-007",), "block comment"),
    ]


def test_comment_without_reason_or_id_is_rejected():
    rules = SkipComments(TF, "main.tf").for_block(18, 21)
    assert [r.problem for r in rules] == ["tdv:skip=TDV-AWS-001 has no reason", "tdv:skip= names no policy id"]
    assert [r.location.line for r in rules] == [19, 20]


# --- the filter -------------------------------------------------------------------------------


def test_in_source_rule_suppresses_with_its_reason():
    resource = one_resource(DAEMONSET)
    results, warnings = apply([failure(resource, "TDV-K8S-001"), failure(resource, "TDV-K8S-003")],
                              known_ids=KNOWN + ["TDV-K8S-003"], today=TODAY)
    suppressed, active = results
    assert suppressed.suppression.kind is SuppressionKind.IN_SOURCE
    assert suppressed.suppression.reason == "the CNI agent configures the host network"
    assert suppressed.suppression.location.line == 12
    assert active.suppression is None
    assert warnings == []


def test_passes_and_errors_are_never_suppressed():
    resource = one_resource(DAEMONSET)
    results, _ = apply([failure(resource, "TDV-K8S-001", Status.PASS), failure(resource, "TDV-K8S-001", Status.ERROR)],
                       today=TODAY)
    assert all(r.suppression is None for r in results)


def test_rule_without_reason_warns_with_file_and_line_and_suppresses_nothing():
    text = DAEMONSET.replace('"TDV-K8S-012: writes its state to /var/run"', '"TDV-K8S-012"')
    resource = one_resource(text)
    results, warnings = apply([failure(resource, "TDV-K8S-012"), failure(resource, "TDV-K8S-001")],
                              known_ids=KNOWN, today=TODAY)
    assert results[0].suppression is None
    assert [str(w) for w in warnings] == [
        "deploy/cni.yaml:7: tdv.dev/skip: TDV-K8S-012 has no reason; the suppression is ignored"
    ]


def test_rule_naming_no_known_policy_warns_once():
    resource = one_resource(DAEMONSET.replace("TDV-K8S-012:", "TDV-K8S-912:"))
    _, warnings = apply([failure(resource, "TDV-K8S-001"), failure(resource, "TDV-K8S-009")],
                        known_ids=KNOWN, today=TODAY)
    assert [str(w) for w in warnings] == ["deploy/cni.yaml:7: suppression names no known policy: TDV-K8S-912"]


def exemption(expires: date | None = None, **match) -> Exemption:
    return Exemption(("TDV-K8S-0*",), ResourceMatch(**match), "accepted by the platform team", "platform",
                     Location(".tdv.yaml", 12, 1), expires)


@pytest.mark.parametrize("match", [
    {"kinds": ("DaemonSet",)},
    {"namespaces": ("kube-*",), "names": ("cil*",)},
    {"paths": ("deploy/**",)},
    {"label_selector": {"matchLabels": {"app": "cilium"}}},
])
def test_exemption_suppresses_matching_resources(match):
    resource = one_resource(DAEMONSET.replace("  name: cilium\n", "  name: cilium\n  labels: {app: cilium}\n"))
    results, warnings = apply([failure(resource, "TDV-K8S-003")], [exemption(**match)], today=TODAY)
    suppression = results[0].suppression
    assert suppression.kind is SuppressionKind.EXTERNAL
    assert (suppression.reason, suppression.owner, suppression.location.line) == (
        "accepted by the platform team", "platform", 12)
    assert warnings == []


@pytest.mark.parametrize("match", [
    {"kinds": ("Deployment",)},
    {"namespaces": ("default",)},
    {"paths": ("other/**",)},
    {"addresses": ("aws_s3_bucket.*",)},
    {"label_selector": {"matchLabels": {"app": "web"}}},
])
def test_exemption_leaves_other_resources_alone(match):
    results, _ = apply([failure(one_resource(DAEMONSET), "TDV-K8S-003")], [exemption(**match)], today=TODAY)
    assert results[0].suppression is None


def test_exemption_paths_are_relative_to_the_config_directory(tmp_path):
    resource = one_resource(DAEMONSET, "cluster/deploy/cni.yaml")
    rule = exemption(paths=("deploy/*.yaml",), base=tmp_path / "cluster")
    results, _ = apply([failure(resource, "TDV-K8S-003")], [rule], root=tmp_path, today=TODAY)
    assert results[0].suppression is not None


def test_exemption_holds_through_its_expiry_date_then_stops_with_a_warning():
    resource = one_resource(DAEMONSET)
    rule = exemption(expires=date(2030, 6, 1), kinds=("DaemonSet",))
    held, warnings = apply([failure(resource, "TDV-K8S-003")], [rule], today=date(2030, 6, 1))
    assert held[0].suppression.expires == "2030-06-01" and warnings == []
    active, warnings = apply([failure(resource, "TDV-K8S-003")], [rule], today=date(2030, 6, 2))
    assert active[0].suppression is None
    assert [str(w) for w in warnings] == [
        ".tdv.yaml:12: exemption of TDV-K8S-0* (owner: platform) expired on 2030-06-01:"
        " 1 finding it covered is reported as active"
    ]


def test_in_source_rule_wins_over_an_exemption():
    resource = one_resource(DAEMONSET)
    results, _ = apply([failure(resource, "TDV-K8S-001")], [exemption(kinds=("DaemonSet",))], today=TODAY)
    assert results[0].suppression.kind is SuppressionKind.IN_SOURCE


def test_unused_exemption_is_logged_for_verbose_output(caplog):
    caplog.set_level("DEBUG")
    apply([failure(one_resource(DAEMONSET), "TDV-K8S-003")], [exemption(kinds=("Deployment",))], today=TODAY)
    assert ".tdv.yaml:12: exemption of TDV-K8S-0* matched no finding" in caplog.text


def test_address_matches_terraform_resources(tmp_path):
    from validator.model import Resource

    bucket = Resource("aws_s3_bucket", "", "module.legacy.aws_s3_bucket.logs", None, {}, "infra/main.tf",
                      identity="module.legacy.aws_s3_bucket.logs")
    rule = Exemption(("TDV-AWS-*",), ResourceMatch(addresses=("module.legacy.*",)), "r", "o", HERE)
    results, _ = apply([failure(bucket, "TDV-AWS-001")], [rule], root=Path("."), today=TODAY)
    assert results[0].suppression is not None
