"""What a Gatekeeper check costs in tdv: CPU time per check (one Constraint on one resource),
measured through the engine as a scan runs it (docs/rego.md; figures for bench/).

    python tests/rego/gatekeeper_cost.py PATH/TO/gatekeeper-library [--resources N]

- per template: the library's Rego templates with their sample constraint, on N Pods;
- the same template as Rego and as K8sNativeValidation (CEL);
- K Constraints of one template: evaluated together (shared) and each on its own;
- a referential template (unique service selector) on N Services, data.inventory included.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from validator.engine import Engine
from validator.gatekeeper.loader import policies_from_manifests
from validator.inventory import build_from
from validator.model import Resource
from validator.sources.kubernetes import parse_manifests
from validator.sources.yaml_loader import load_documents

TEMPLATES = ("general/requiredlabels", "general/allowedrepos", "general/containerlimits",
             "pod-security-policy/privileged-containers", "pod-security-policy/users")


def pods(count: int) -> list[Resource]:
    documents = [{"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": f"web-{n}", "namespace": f"team-{n % 7}",
                               "labels": {"app": "web", "owner": "ana" if n % 2 else ""}},
                  "spec": {"securityContext": {"runAsUser": 1000 + n % 3},
                           "containers": [{"name": "app", "image": f"registry.example/app:{n}",
                                           "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                                           "securityContext": {"privileged": n % 5 == 0}},
                                          {"name": "proxy", "image": "envoyproxy/envoy:v1.30",
                                           "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]}}
                 for n in range(count)]
    return parse(documents)


def services(count: int) -> list[Resource]:
    return parse([{"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": f"svc-{n}", "namespace": f"team-{n % 7}"},
                   "spec": {"selector": {"app": f"app-{n % (count // 2 or 1)}"}, "ports": [{"port": 80}]}}
                  for n in range(count)])


def parse(documents: list[dict[str, Any]]) -> list[Resource]:
    text = yaml.safe_dump_all(documents)
    return [r for r in parse_manifests(text, "bench.yaml") if isinstance(r, Resource)]


def load(library: Path, folder: str, constraints: list[str] | None = None, cel: bool = False) -> list[Any]:
    root = library / "library" / folder
    template = list(load_documents((root / "template.yaml").read_text()))
    if cel:
        for target in template[0].data["spec"]["targets"]:
            target.pop("rego", None)
            target["code"] = [c for c in target.get("code") or [] if c.get("engine") != "Rego"]
    if constraints is None:
        first = sorted(root.glob("samples/*/constraint.yaml"))[0]
        constraints = [first.read_text()]
    files = [(str(root / "template.yaml"), template),
             ("constraints.yaml", [d for text in constraints for d in load_documents(text)])]
    found = policies_from_manifests(files)
    assert all(hasattr(p, "modules") for p in found), found
    return found


def per_check(policies: list[Any], resources: list[Resource], repeat: int = 3) -> float:
    """Microseconds of CPU per check (policy x resource), best of `repeat` runs."""
    known = build_from(resources)
    best = float("inf")
    for _ in range(repeat):
        engine = Engine.build(policies)
        engine.run(resources[:1], known)  # compiled, data loaded
        started = time.process_time()
        results = engine.run(resources, known)
        best = min(best, (time.process_time() - started) / max(1, len(results)))
    return best * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("library", type=Path)
    parser.add_argument("--resources", type=int, default=500)
    arguments = parser.parse_args()
    library, count = arguments.library, arguments.resources
    workload = pods(count)
    print(f"CPU time per check, {count} resources, best of 3:")
    for folder in TEMPLATES:
        print(f"  {folder}: Rego {per_check(load(library, folder), workload):.0f} us")
    for folder in ("general/requiredlabels", "pod-security-policy/privileged-containers"):
        print(f"  {folder}: CEL (K8sNativeValidation) {per_check(load(library, folder, cel=True), workload):.0f} us")
    constraint = ("apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: c%d}\n"
                  "spec: {parameters: {labels: [{key: label-%d}]}}\n")
    for k in (2, 10):
        together = load(library, "general/requiredlabels", [constraint % (n, n) for n in range(k)])
        shared = per_check(together, workload)
        alone = sum(per_check([p], workload) for p in together) / k
        print(f"  requiredlabels, {k} constraints: {shared:.0f} us per check shared, {alone:.0f} us each alone")
    referential = load(library, "general/uniqueserviceselector")
    for n in (100, count):
        print(f"  uniqueserviceselector on {n} Services (data.inventory of {n}):"
              f" {per_check(referential, services(n)):.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
