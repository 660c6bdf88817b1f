"""Batched evaluation (one CEL program per kind) gives what check-by-check evaluation gives."""

import pytest

import validator.engine as engine_module
from validator.engine import Engine
from validator.engine.cel import CelBatch
from validator.engine.library import load_policies
from validator.model import Resource

from tests.engine.common import ODD_WORKLOADS, policy

KUBERNETES = [p for p in load_policies([]) if p.id.startswith("TDV-K8S-")]


def fixture_resources() -> list[Resource]:
    """Every Kubernetes policy's test objects, and odd workload shapes, as resources."""
    documents = [case.object for p in KUBERNETES for case in p.tests if case.object]
    documents += [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"odd{n}"}, **shape}
                  for n, shape in enumerate(ODD_WORKLOADS)]
    return [Resource(str(d.get("kind")), str(d.get("apiVersion")), str((d.get("metadata") or {}).get("name")),
                     (d.get("metadata") or {}).get("namespace"), d, f"fixture-{n:04}.yaml")
            for n, d in enumerate(documents)]


def outcomes(policies, resources, monkeypatch, batch_from: int):
    monkeypatch.setattr(engine_module, "BATCH_MIN_RESOURCES", batch_from)
    results = Engine.build(policies).run(resources)
    return [(r.policy.id, r.resource.path, r.status, r.error, [(v.field_path, v.message) for v in r.violations])
            for r in results], results


@pytest.fixture
def prepared(monkeypatch):
    """How many resources a batch evaluated without error."""
    count = {"ok": 0}
    original = CelBatch.prepare

    def prepare(self, document, cache):
        original(self, document, cache)
        count["ok"] += "cel:batch" in cache

    monkeypatch.setattr(CelBatch, "prepare", prepare)
    return count


@pytest.mark.slow
def test_the_library_gives_the_same_results_batched(monkeypatch, prepared):
    resources = fixture_resources()
    alone, _ = outcomes(KUBERNETES, resources, monkeypatch, batch_from=10**9)
    assert prepared["ok"] == 0
    batched, results = outcomes(KUBERNETES, resources, monkeypatch, batch_from=1)
    assert prepared["ok"] > len(resources) / 2
    assert batched == alone
    assert all(result.duration > 0 for result in results)


def test_an_expression_that_errors_is_reported_as_when_alone(monkeypatch, prepared):
    erring = policy("""\
        - expression: "object.spec.replicas > 1"
          message: one replica
        """, targets="targets: {kinds: [Deployment]}")
    resources = [Resource("Deployment", "apps/v1", f"d{n}", None,
                          {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"d{n}"},
                           "spec": {"replicas": n} if n % 2 else {}}, f"d{n}.yaml") for n in range(10)]
    policies = [erring] + [p for p in KUBERNETES if "Deployment" in p.targets.kinds]
    alone, _ = outcomes(policies, resources, monkeypatch, batch_from=10**9)
    batched, _ = outcomes(policies, resources, monkeypatch, batch_from=1)
    assert batched == alone
    assert prepared["ok"] == 5  # the resources without replicas were evaluated check by check
    errors = [o for o in batched if o[0] == "TDV-TEST-001" and o[3]]
    assert len(errors) == 5 and "replicas" in errors[0][3]


def test_a_batch_that_raises_leaves_each_check_to_report(monkeypatch):
    class Raising:
        def eval(self, values):
            raise RuntimeError("conversion failed")

    original = CelBatch.__init__

    def init(self, evaluator, program, offsets, size):
        original(self, evaluator, Raising(), offsets, size)

    monkeypatch.setattr(CelBatch, "__init__", init)
    resources = fixture_resources()
    batched, _ = outcomes(KUBERNETES, resources, monkeypatch, batch_from=1)
    alone, _ = outcomes(KUBERNETES, resources, monkeypatch, batch_from=10**9)
    assert batched == alone
