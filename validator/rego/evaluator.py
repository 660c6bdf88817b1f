"""The `rego` policy language: Rego modules evaluated by regorus (the `rego` extra).

Each compiled policy owns one regorus engine holding its modules. Per resource, the input
is set (as JSON, made once per resource and shared by the policies of the same style) and
each of the policy's rules is queried; every element of a rule's set is one finding. An
evaluation error becomes an error result, which the reports show with the policy's id.

Gatekeeper Constraints also get their runtime context here: the scan's `data.inventory`
and Namespace labels come from the `gatekeeperObjects` relation (validator.inventory.
gatekeeper), loaded into an engine once per inventory; a `namespaceSelector` is judged
before evaluating; the Constraints of one template share one engine and one query per
resource (`_Shared`); a template whose code is K8sNativeValidation runs as CEL.

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
from validator.rego import CONFTEST, GATEKEEPER, INSTALL_HINT, RegoPolicy

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


# The end of a line after which regorus would read a line starting with `(` as call arguments.
_ENDS_TERM = re.compile(r"[A-Za-z0-9_\])}\"]$")


def opa_lines(text: str) -> str:
    """The Rego as OPA reads it, for regorus (positions do not move; modules with raw strings,
    which may span lines, are left as written):

    - in a rule body OPA starts a new expression on a line that begins with `(`, where
      regorus reads the arguments of a call on the term that ends the line before
      (`input.parameters.x` then `(a - b) >= 1`): a `;`, which both read as the end of an
      expression, is put at the end of that line;
    - a rule with several bodies (`p[x] { ... } { ... }`, each body a definition of the
      rule) is taken by regorus for `else` bodies: each `} {` line names the rule again.
    """
    if "`" in text:
        return text
    lines = text.split("\n")
    previous, head = None, None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("(") and previous is not None:
            lines[previous] = _ended(lines[previous])
        if line[0] not in " \t}" and stripped.endswith("{") and not stripped.startswith(("package", "import")):
            head = stripped[:-1].rstrip()
        elif line.rstrip() == "} {" and head:
            lines[index] = f"}} {head} {{"
        previous = index
    return "\n".join(lines)


def _ended(line: str) -> str:
    """The line with a `;` after its code when that ends with a term (a comment stays after)."""
    code, comment = line.rstrip(), ""
    if "#" in code:
        if '"' in code:  # the `#` may be in a string: left as written
            return line
        code, comment = code[:code.index("#")].rstrip(), code[code.index("#"):]
    if not _ENDS_TERM.search(code):
        return line
    return code + ";" + (" " + comment if comment else "")


def compile_problem(name: str, text: str, rego_v0: bool = True) -> str | None:
    """Why the Rego module cannot run (it does not parse, or it calls the network), or None
    (for loaders: errors point at the file)."""
    found = _NETWORK.search(text)
    if found:
        return f"calls {found.group(1)}; Rego policies get no network access in tdv"
    engine = _regorus().Engine()
    engine.set_rego_v0(rego_v0)
    try:
        engine.add_policy(name, opa_lines(text))
    except Exception as error:  # regorus raises RuntimeError with the parser's message
        return first_line(error)
    return None


class RegoEvaluator:
    language = "rego"

    def __init__(self) -> None:
        self._cel = CelEvaluator()
        # The compiled Constraints of each template, which share one evaluation per resource.
        self._groups: dict[tuple[Any, ...], list[CompiledRegoPolicy]] = {}
        self._shared: dict[tuple[Any, ...], _Shared] = {}
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
                engine.add_policy(name, opa_lines(text))
            except Exception as error:  # regorus raises RuntimeError with the parser's message
                raise PolicyError(policy.source, f"{policy.id}: Rego in {name} does not compile: "
                                                 f"{first_line(error)}") from None
        reads = any("data.inventory" in text for _, text in policy.modules)
        compiled = CompiledRegoPolicy(policy, self, engine, json.dumps(merged, sort_keys=True, default=str), reads)
        if policy.style == GATEKEEPER:
            self._groups.setdefault(_group_key(policy), []).append(compiled)
        return compiled

    def shared(self, compiled: "CompiledRegoPolicy") -> "_Shared | None":
        """The engine the Constraints of `compiled`'s template share, when there are several."""
        key = _group_key(compiled.policy)
        members = self._groups.get(key, [])
        if len(members) < 2:
            return None
        found = self._shared.get(key)
        if found is None or len(found.members) != len(members):  # one compiled since (another kind's)
            found = self._shared[key] = _Shared.build(list(members))
        return found


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
        if RELATION in self.policy.relations and not self._selected(document, cache):
            return []
        if self.cel is not None:
            return self.cel.evaluate(document, cache)
        shared = self.evaluator.shared(self) if self.policy.style == GATEKEEPER else None
        if shared is not None:
            return shared.results(self, document, cache)
        started = time.perf_counter()
        try:
            if self.reads_inventory:
                self._load(cache)
            self.engine.set_input_json(self._input(document, cache))
            violations = []
            for rule in self.policy.rules:
                answer = json.loads(self.engine.eval_query_as_json(rule.query))
                violations.extend(_findings(rule.query, answer))
        except EvaluationError:
            raise
        except Exception as error:
            raise EvaluationError(f"Rego evaluation failed: {first_line(error)}") from None
        _bounded(started)
        return violations

    def applies(self, document: dict[str, Any], cache: dict[str, Any]) -> bool:
        """Whether the Constraint judges this resource (as the engine's target matching and
        `evaluate` decide), for the evaluation its template's Constraints share."""
        kinds = self.policy.targets.kinds
        if "*" not in kinds and document.get("kind") not in kinds:
            return False
        match = self.policy.targets.applies
        view = cache.get("rego-view")
        if view is None:
            view = cache["rego-view"] = _View.of(document)
        if isinstance(match, Match) and not match(view):
            return False
        return RELATION not in self.policy.relations or self._selected(document, cache)

    def _load(self, cache: dict[str, Any]) -> None:
        """Load the scan's data.inventory into the engine, once per inventory."""
        items = cache.get("related", {}).get(RELATION, [])
        if self._loaded is not items:
            self.engine.clear_data()
            self.engine.add_data_json(self.evaluator.inventory(items)[0])
            self._loaded = items

    def _selected(self, document: dict[str, Any], cache: dict[str, Any]) -> bool:
        """Whether the Constraint's namespaceSelector, if any, selects the resource's namespace."""
        match = self.policy.targets.applies
        if not isinstance(match, Match) or match.namespace_selector is None:
            return True
        labels = self.evaluator.inventory(cache.get("related", {}).get(RELATION, []))[1]
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
    return _violations(query.rpartition(".")[2], value if isinstance(value, list) else [value])


def _violations(rule: str, items: list[Any]) -> list[RawViolation]:
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


def _bounded(started: float) -> None:
    elapsed = time.perf_counter() - started
    if elapsed > CHECK_SECONDS:
        raise EvaluationError(f"Rego evaluation took {elapsed:.1f} s, over the limit of {CHECK_SECONDS:g} s"
                              " per check")


def _group_key(policy: RegoPolicy) -> tuple[Any, ...]:
    return (policy.modules, policy.rules, policy.rego_v0)


@dataclass(frozen=True)
class _View:
    """What a Constraint's match reads of a resource, from its document."""

    api_version: str
    api_group: str
    kind: str
    name: str
    namespace: str | None
    labels: dict[str, Any]

    @classmethod
    def of(cls, document: dict[str, Any]) -> "_View":
        api_version = str(document.get("apiVersion") or "")
        metadata = document.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        labels = metadata.get("labels")
        namespace = metadata.get("namespace")
        return cls(api_version, api_version.rpartition("/")[0], str(document.get("kind") or ""),
                   str(metadata.get("name") or ""), namespace if isinstance(namespace, str) and namespace else None,
                   labels if isinstance(labels, dict) else {})


# Evaluates the template once for all the Constraints given in the input, each with its parameters.
_HOOK = """package tdvshared
violations[[name, found]] {
  name := input.tdvnames[_]
  found := data[RULE][_] with input as {"review": input.review, "parameters": data.tdvconstraints[name]}
}
"""


@dataclass
class _Shared:
    """One regorus engine for all the Constraints of one template: per resource, the review
    is read once and the template evaluated once for the Constraints that apply (Gatekeeper
    evaluates a template for all its Constraints in one query too)."""

    members: list[CompiledRegoPolicy]
    engine: Any
    constraints: str  # data.tdvconstraints as JSON text: each Constraint's parameters by policy id
    rule: str
    _loaded: Any = None

    @classmethod
    def build(cls, members: list[CompiledRegoPolicy]) -> "_Shared":
        first = members[0].policy
        engine = _regorus().Engine()
        engine.set_rego_v0(first.rego_v0)
        for name, text in first.modules:
            engine.add_policy(name, opa_lines(text))
        [rule] = [r.query for r in first.rules]  # data.PACKAGE.violation
        engine.add_policy("tdvshared.rego", _HOOK.replace("data[RULE]", rule))
        constraints = '{"tdvconstraints": {' + ",".join(
            f"{json.dumps(m.policy.id)}: {m.parameters_json}" for m in members) + "}}"
        engine.add_data_json(constraints)
        return cls(members, engine, constraints, rule)

    def results(self, member: CompiledRegoPolicy, document: dict[str, Any],
                cache: dict[str, Any]) -> list[RawViolation]:
        key = f"rego-shared-{id(self)}"
        found = cache.get(key)
        if found is None:
            try:
                found = self._evaluate(document, cache)
            except EvaluationError as error:
                found = error
            cache[key] = found
        if isinstance(found, EvaluationError):
            raise found
        return found.get(member.policy.id, [])

    def _evaluate(self, document: dict[str, Any], cache: dict[str, Any]) -> dict[str, list[RawViolation]]:
        names = [m.policy.id for m in self.members if m.applies(document, cache)]
        if not names:
            return {}
        started = time.perf_counter()
        try:
            if self.members[0].reads_inventory:
                self._load(cache)
            review = cache.get("rego-review")
            if review is None:
                review = cache["rego-review"] = json.dumps(review_of(document), default=str)
            self.engine.set_input_json('{"review": ' + review + ', "tdvnames": ' + json.dumps(names) + "}")
            answer = json.loads(self.engine.eval_query_as_json("data.tdvshared.violations"))
        except Exception as error:
            raise EvaluationError(f"Rego evaluation failed: {first_line(error)}") from None
        _bounded(started)
        by_name: dict[str, list[Any]] = {}
        for name, item in (answer.get("result") or [{"expressions": [{"value": []}]}])[0]["expressions"][0]["value"]:
            by_name.setdefault(name, []).append(item)
        rule = self.rule.rpartition(".")[2]
        return {name: _violations(rule, items) for name, items in by_name.items()}

    def _load(self, cache: dict[str, Any]) -> None:
        items = cache.get("related", {}).get(RELATION, [])
        if self._loaded is not items:
            self.engine.clear_data()
            self.engine.add_data_json(self.constraints)
            self.engine.add_data_json(self.members[0].evaluator.inventory(items)[0])
            self._loaded = items
