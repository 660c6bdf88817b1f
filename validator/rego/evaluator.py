"""The `rego` policy language: Rego modules evaluated by regorus (the `rego` extra).

Each compiled policy owns one regorus engine holding its modules. Per resource, the input
is set (as JSON, made once per resource and shared by the policies of the same style) and
each of the policy's rules is queried; every element of a rule's set is one finding. An
evaluation error becomes an error result, which the reports show with the policy's id.

Policies get no network and no files: regorus has no file built-ins, and a module calling
`http.send` or `net.lookup_ip_addr` is refused when compiled. The binding offers no way to
stop an evaluation midway, so the bound on time is checked when a check returns: one that
took longer than CHECK_SECONDS becomes an error result (see docs/rego.md).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from validator.engine.cel import CelEvaluator, EvaluationError, RawViolation
from validator.engine.policy import Policy, PolicyError
from validator.engine.targets import selector_matches
from validator.gatekeeper.match import CLUSTER_SCOPED, Match
from validator.inventory.gatekeeper import RELATION, data_inventory, namespace_labels
from validator.model import FieldPath, parse_path
from validator.rego import CONFTEST, INSTALL_HINT, RegoPolicy

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
_NETWORK = re.compile(r"\b(http\.send|net\.lookup_ip_addr)\s*\(")
# The identity Gatekeeper's review carries; offline, the request comes from CI.
CI_USER = {"username": "tdv", "uid": "", "groups": ["system:authenticated"]}


def _regorus() -> Any:
    try:
        import regorus
    except ImportError:
        return None
    return regorus


_WHERE = re.compile(r"^-->\s*(\S+)$")
_WHAT = re.compile(r"^error:\s*(.+)$")


def first_line(error: Exception) -> str:
    """regorus errors carry a Rust backtrace after the message: the message only, as
    `module.rego:66:3: what is wrong` when it points at the Rego."""
    lines = [line.strip() for line in str(error).splitlines()]
    kept = []
    for line in lines:
        if line.startswith("Stack backtrace") or line.startswith("0:"):
            break
        if line:
            kept.append(line)
    where = next((m.group(1) for m in map(_WHERE.match, kept) if m), None)
    what = next((m.group(1) for m in map(_WHAT.match, kept) if m), None)
    if where and what:
        return f"{where}: {what}"
    return " ".join(kept) or type(error).__name__


def compile_problem(name: str, text: str, rego_v0: bool = True) -> str | None:
    """Why the Rego module cannot run (it does not parse, or it calls the network), or None
    (for loaders: errors point at the file)."""
    found = _NETWORK.search(text)
    if found:
        return f"calls {found.group(1)}; Rego policies get no network access in tdv"
    engine = _regorus().Engine()
    engine.set_rego_v0(rego_v0)
    try:
        engine.add_policy(name, text)
    except Exception as error:  # regorus raises RuntimeError with the parser's message
        return first_line(error)
    return None


class RegoEvaluator:
    language = "rego"

    def __init__(self) -> None:
        self._cel = CelEvaluator()
        # The inventory's objects, as `data` JSON text and Namespace labels, for the last
        # `gatekeeperObjects` items seen (the same list for every resource of a scan).
        self._inventory: tuple[Any, str, dict[str, dict[str, Any]]] | None = None

    def inventory(self, items: list[dict[str, Any]]) -> tuple[str, dict[str, dict[str, Any]]]:
        if self._inventory is None or self._inventory[0] is not items:
            self._inventory = (items, data_inventory(items), namespace_labels(items))
        return self._inventory[1], self._inventory[2]

    def compile(self, policy: Policy, parameters: dict[str, Any]) -> "CompiledRegoPolicy":
        if not isinstance(policy, RegoPolicy):
            raise PolicyError(policy.source, f"{policy.id}: language rego is for Gatekeeper and conftest files"
                                             " (see docs/rego.md)")
        merged = {**policy.rego_parameters, **parameters}
        if not policy.modules:  # a Gatekeeper template whose code is K8sNativeValidation: CEL
            cel = self._cel.compile(dataclasses.replace(policy, language="cel", relations=()), merged)
            return CompiledRegoPolicy(policy, self, None, "", cel=cel)
        regorus = _regorus()
        if regorus is None:
            raise PolicyError(policy.source, f"{policy.id}: {INSTALL_HINT}")
        engine = regorus.Engine()
        engine.set_rego_v0(policy.rego_v0)
        for name, text in policy.modules:
            found = _NETWORK.search(text)
            if found:
                raise PolicyError(policy.source, f"{policy.id}: {name} calls {found.group(1)}; Rego policies get no"
                                                 " network access in tdv")
            try:
                engine.add_policy(name, text)
            except Exception as error:  # regorus raises RuntimeError with the parser's message
                raise PolicyError(policy.source, f"{policy.id}: Rego in {name} does not compile: "
                                                 f"{first_line(error)}") from None
        reads = any("data.inventory" in text for _, text in policy.modules)
        return CompiledRegoPolicy(policy, self, engine, json.dumps(merged, sort_keys=True, default=str), reads)


@dataclass
class CompiledRegoPolicy:
    policy: RegoPolicy
    evaluator: RegoEvaluator
    engine: Any
    parameters_json: str
    reads_inventory: bool = False
    cel: Any = None  # the compiled CEL policy of a K8sNativeValidation template (no Rego engine then)
    _loaded: Any = None  # the items whose data.inventory the engine holds
    _warned: set[str] | None = None  # namespaces not in the scan, already logged

    def evaluate(self, document: dict[str, Any], cache: dict[str, Any]) -> list[RawViolation]:
        if RELATION in self.policy.relations and not self._with_inventory(document, cache):
            return []
        if self.cel is not None:
            return self.cel.evaluate(document, cache)
        started = time.perf_counter()
        try:
            self.engine.set_input_json(self._input(document, cache))
            violations = []
            for rule in self.policy.rules:
                answer = json.loads(self.engine.eval_query_as_json(rule.query))
                violations.extend(_findings(rule.query, answer))
        except EvaluationError:
            raise
        except Exception as error:
            raise EvaluationError(f"Rego evaluation failed: {first_line(error)}") from None
        elapsed = time.perf_counter() - started
        if elapsed > CHECK_SECONDS:
            raise EvaluationError(f"Rego evaluation took {elapsed:.1f} s, over the limit of {CHECK_SECONDS:g} s"
                                  " per check")
        return violations

    def _with_inventory(self, document: dict[str, Any], cache: dict[str, Any]) -> bool:
        """Load the scan's data.inventory into the engine (once per inventory); whether the
        Constraint's namespaceSelector selects the resource's namespace."""
        items = cache.get("related", {}).get(RELATION, [])
        data, labels = self.evaluator.inventory(items)
        if self.reads_inventory and self._loaded is not items:
            self.engine.clear_data()
            self.engine.add_data_json(data)
            self._loaded = items
        match = self.policy.targets.applies
        if not isinstance(match, Match) or match.namespace_selector is None:
            return True
        return self._namespace_selected(document, match.namespace_selector, labels)

    def _namespace_selected(self, document: dict[str, Any], selector: dict[str, Any],
                            labels: dict[str, dict[str, Any]]) -> bool:
        """Gatekeeper's namespaceSelector: a Namespace is judged by its own labels, other
        cluster-scoped objects always match; a namespaced object by its namespace's labels,
        from the Namespace objects of the scan (`default` when it names none, and an
        unlabelled `default` when the scan has no such Namespace). An object of another
        namespace missing from the scan is not judged (logged once per namespace)."""
        kind = str(document.get("kind") or "")
        metadata = document.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        if kind == "Namespace":
            own = metadata.get("labels")
            return selector_matches(selector, own if isinstance(own, dict) else {})
        if kind in CLUSTER_SCOPED:
            return True
        namespace = str(metadata.get("namespace") or "default")
        found = labels.get(namespace, {} if namespace == "default" else None)
        if found is None:
            self._warned = self._warned or set()
            if namespace not in self._warned:
                self._warned.add(namespace)
                log.warning("%s: the namespaceSelector of %s cannot be evaluated for objects in namespace %r,"
                            " which is not in the scan: the constraint does not judge them", self.policy.source,
                            self.policy.id, namespace)
            return False
        return selector_matches(selector, found)

    def _input(self, document: dict[str, Any], cache: dict[str, Any]) -> str:
        if self.policy.style == CONFTEST:
            text = cache.get("rego-conftest")
            if text is None:
                text = cache["rego-conftest"] = json.dumps(document, default=str)
            return text
        review = cache.get("rego-review")
        if review is None:
            review = cache["rego-review"] = json.dumps(review_of(document), default=str)
        return '{"review": ' + review + ', "parameters": ' + self.parameters_json + "}"


def review_of(document: dict[str, Any]) -> dict[str, Any]:
    """The admission review Gatekeeper builds for the creation of `document`."""
    api_version = str(document.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    return {
        "kind": {"group": group, "version": version, "kind": str(document.get("kind") or "")},
        "name": str(metadata.get("name") or ""),
        "namespace": str(metadata.get("namespace") or ""),
        "operation": "CREATE",
        "userInfo": CI_USER,
        "object": document,
        "oldObject": None,
        "dryRun": False,
    }


def _findings(query: str, answer: dict[str, Any]) -> list[RawViolation]:
    """One finding per element of the rule's value: a string, or an object with `msg`."""
    results = answer.get("result") or []
    if not results:
        return []  # the rule is undefined: no finding
    value = results[0]["expressions"][0]["value"]
    rule = query.rpartition(".")[2]
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if item is False or item is None:
            continue
        field: FieldPath = ()
        if isinstance(item, dict) and "msg" in item:
            message = str(item["msg"])
            field = _field(item)
        elif isinstance(item, str):
            message = item
        elif item is True:
            message = f"{rule} is true"
        else:
            message = json.dumps(item, sort_keys=True)
        found.append(RawViolation(field, message))
    return found


def _field(item: dict[str, Any]) -> FieldPath:
    """The field a finding names, as `details.field` (Gatekeeper) or `field` (conftest),
    in tdv's path syntax (`spec.containers[0].image`): the finding is located there."""
    details = item.get("details")
    text = details.get("field") if isinstance(details, dict) else None
    text = text if isinstance(text, str) else item.get("field")
    if not isinstance(text, str) or not text:
        return ()
    try:
        return parse_path(text)
    except ValueError:
        return ()
