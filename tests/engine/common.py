"""A test policy and odd workload shapes shared by the engine tests."""

import textwrap

from validator.engine.policy import parse_policy
from validator.sources.yaml_loader import load_documents

POLICY = """\
id: TDV-TEST-001
title: test
severity: high
category: best-practice
description: a policy used by the engine tests only, long enough to pass the format checks here.
remediation: "fix it"
standards: {internal: ["1"]}
targets: {kinds: [Pod]}
parameters:
  limit: {type: integer, default: 2, description: max}
validations:
"""


def policy(validations: str, targets: str | None = None):
    text = POLICY + textwrap.indent(textwrap.dedent(validations), "  ")
    if targets:
        text = text.replace("targets: {kinds: [Pod]}", targets)
    return parse_policy(next(load_documents(text)), "test.yaml")


# Deployment bodies (under apiVersion, kind and metadata) whose pod template is partial,
# of the wrong type or shaped like another kind's.
ODD_WORKLOADS = [
    {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}},
    {"spec": {"template": {"metadata": {"annotations": {"a": "b"}}}}},  # no pod spec
    {"spec": {"template": "not a mapping"}},
    {"spec": {"template": {"spec": "not a mapping"}}},
    {"spec": {"template": {"spec": {"containers": "not a list"}}}},
    {"spec": {"template": {"spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "b"}],
                                    "ephemeralContainers": [{"name": "c", "securityContext": {"privileged": True}}]}}}},
    {"spec": {"template": {"metadata": "not a mapping", "spec": {"containers": [{"name": "a"}]}}}},
    {"spec": ["a", "list"]},
    {},
    {"spec": {"containers": [{"name": "a", "securityContext": {"privileged": True}}], "initContainers": [],
              "hostNetwork": True}},  # a pod's shape
    {"spec": {"containers": None}},
    {"spec": {"template": {"metadata": {"labels": {"app": "web"}, "annotations": {"team": "edge"}},
                           "spec": {"hostNetwork": True, "initContainers": [{"name": "i"}]}}}},
    {"spec": {"template": {"metadata": {"annotations": {"team": "core"}}, "spec": {
        "hostNetwork": True, "priorityClassName": "high", "containers": [{"name": "a"}]}}}},
    {"spec": {"jobTemplate": {"spec": {"template": {"metadata": None, "spec": {
        "ephemeralContainers": [{"name": "e", "image": "x:latest"}]}}}}}},  # a CronJob's shape
    {"spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": None}}}}},
]
