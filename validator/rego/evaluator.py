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

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from validator.engine.cel import EvaluationError, RawViolation
from validator.engine.policy import Policy, PolicyError
from validator.model import FieldPath, parse_path
from validator.rego import CONFTEST, INSTALL_HINT, RegoPolicy

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

    def compile(self, policy: Policy, parameters: dict[str, Any]) -> "CompiledRegoPolicy":
        if not isinstance(policy, RegoPolicy):
            raise PolicyError(policy.source, f"{policy.id}: language rego is for Gatekeeper and conftest files"
                                             " (see docs/rego.md)")
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
        merged = {**policy.rego_parameters, **parameters}
        return CompiledRegoPolicy(policy, self, engine, json.dumps(merged, sort_keys=True, default=str))


@dataclass
class CompiledRegoPolicy:
    policy: RegoPolicy
    evaluator: RegoEvaluator
    engine: Any
    parameters_json: str

    def evaluate(self, document: dict[str, Any], cache: dict[str, Any]) -> list[RawViolation]:
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
    """The field a finding names, as `details.field` (Gatekeeper), `field` (conftest) or
    `violating_key` (Weave), in tdv's path syntax (`spec.containers[0].image`): the finding
    is located there."""
    details = item.get("details")
    text = details.get("field") if isinstance(details, dict) else None
    text = text if isinstance(text, str) else item.get("field")
    text = text if isinstance(text, str) else item.get("violating_key")
    if not isinstance(text, str) or not text:
        return ()
    try:
        return parse_path(text)
    except ValueError:
        return ()
