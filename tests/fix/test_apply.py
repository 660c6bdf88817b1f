"""Fixes that disagree: two findings that need one field set to different values."""

from __future__ import annotations

from validator.pipeline.changes import fixes_for as plan_changes
from validator.config import Config

from tests.helpers import scan_paths

POLICY = """\
id: TDV-TEST-001
title: Test
severity: low
category: resilience
description: test
remediation: test
standards: {cis-kubernetes: ["1"]}
targets: {kinds: [Deployment]}
validations:
  - expression: "object.spec.?replicas.orValue(1) >= 2"
    field: spec.replicas
    fix:
      - set: spec.replicas
        value: 2
    message: too few replicas
  - expression: "object.spec.?replicas.orValue(1) >= 3 || !has(object.metadata.labels)"
    field: metadata.labels
    fix:
      - set: spec.replicas
        value: 3
    message: labelled deployments need three
"""


def test_conflicting_fixes_of_one_field_are_all_refused(workdir):
    (workdir / "policies").mkdir()
    (workdir / "policies" / "test.yaml").write_text(POLICY, encoding="utf-8")
    path = workdir / "web.yaml"
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {a: b}\nspec:\n  replicas: 1\n"
    path.write_text(text, encoding="utf-8")
    report = scan_paths([path], include=["TDV-TEST-001"], policy_dirs=[workdir / "policies"], root=workdir,
                        config=Config())
    assert len(report.failures[0].violations) == 2
    [change] = plan_changes(report, {}, (), (), workdir)
    assert not change.changed and not change.done
    assert len(change.problems) == 2
    assert all("set to another value" in problem for problem in change.problems)
