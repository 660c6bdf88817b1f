"""Run the test cases written inside policy files (used by pytest and `tdv test`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from validator.engine import Engine, evaluate
from validator.engine.policy import Policy, PolicyError, PolicyTest
from validator.gatekeeper import suite
from validator.model import InputProblem, Resource, Status, format_path
from validator.rego import RegoPolicy, unit
from validator.sources import terraform_hcl, terraform_plan
from validator.sources.context import SourceContext
from validator.sources.files import InputFile


@dataclass(frozen=True)
class CaseOutcome:
    policy: Policy
    case: PolicyTest
    passed: bool
    detail: str

    @property
    def label(self) -> str:
        return f"{self.policy.id}  {self.case.name}"

    @property
    def source(self) -> str:
        return self.policy.source


@dataclass(frozen=True)
class FileCaseOutcome:
    """A case written outside tdv's policy files: a gator Suite case or a Rego test rule."""

    label: str
    passed: bool
    detail: str
    source: str


def fixture_resource(case: PolicyTest, name: str = "<fixture>") -> Resource:
    """The object of an `object:` case (of an `objects:` case: its subject)."""
    return object_resource(case.object or {}, name, case.subject if case.objects else 0)


def object_resource(obj: dict[str, Any], name: str = "<fixture>", index: int = 0) -> Resource:
    found = obj.get("metadata")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    return Resource(
        kind=str(obj.get("kind", "")),
        api_version=str(obj.get("apiVersion", "")),
        name=str(meta.get("name", "")),
        namespace=meta.get("namespace"),
        document=obj,
        path=name,
        doc_index=index,
    )


def fixture_resources(case: PolicyTest) -> list[Resource | InputProblem]:
    """The resources of a test case, read by the real sources for the Terraform forms."""
    if case.tf is not None:
        return list(terraform_hcl.scan_texts([("<fixture>.tf", case.tf)]))
    if case.plan is not None:
        text = json.dumps(fixture_plan(case.plan))
        context = SourceContext(Path.cwd())
        return list(terraform_plan.parse(text, InputFile(None, "<fixture>.json"), context))
    if case.objects:
        return [object_resource(obj, index=index) for index, obj in enumerate(case.objects)]
    return [fixture_resource(case)]


def fixture_plan(plan: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    """A minimal `terraform show -json` document holding the planned resources of a `plan:`
    case. A resource's `references` (attribute -> the references Terraform records, e.g.
    `bucket: [aws_s3_bucket.b.id]`; `count`/`for_each` for those meta-arguments; `block.attribute`
    for one in a nested block) become the
    plan's `configuration`, in the module its address names; a case where no resource has
    `references` (not even `{}`) has no configuration."""
    items = plan if isinstance(plan, list) else [plan]
    changes: list[dict[str, Any]] = []
    modules: dict[tuple[str, ...], dict[tuple[str, str], dict[str, Any]]] = {}
    for item in items:
        address = item.get("address") or f"{item['type']}.fixture"
        change = {"actions": item.get("actions", ["create"]), "before": None, "after": item["after"],
                  "after_unknown": item.get("after_unknown", {}), "after_sensitive": item.get("after_sensitive", {})}
        name = address.rsplit(".", 1)[-1].split("[", 1)[0]
        changes.append({"address": address, "mode": "managed", "type": item["type"], "name": name, "change": change})
        module = modules.setdefault(tuple(terraform_plan.module_names(address)), {})
        entry = module.setdefault((item["type"], name), {"address": f"{item['type']}.{name}", "mode": "managed",
                                                         "type": item["type"], "name": name, "expressions": {}})
        for attribute, texts in (item.get("references") or {}).items():
            key = {"count": "count_expression", "for_each": "for_each_expression"}.get(attribute)
            if key:
                entry[key] = {"references": list(texts)}
            elif "." in attribute:  # `block.attribute`: an attribute of the first nested block
                block, _, inner = attribute.partition(".")
                entry["expressions"].setdefault(block, [{}])[0][inner] = {"references": list(texts)}
            else:
                entry["expressions"][attribute] = {"references": list(texts)}
    document: dict[str, Any] = {"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": changes}
    if any("references" in item for item in items):
        document["configuration"] = {"root_module": _configuration(modules)}
    return document


def _configuration(modules: dict[tuple[str, ...], dict[tuple[str, str], dict[str, Any]]]) -> dict[str, Any]:
    """The root module of a plan's `configuration`, with a module call per module path."""
    root: dict[str, Any] = {"resources": []}
    for path in sorted(modules, key=len):
        config = root
        for step in path:
            calls = config.setdefault("module_calls", {})
            config = calls.setdefault(step, {"source": f"./{step}", "module": {"resources": []}})["module"]
        config["resources"].extend(modules[path].values())
    return root


def run_case(policy: Policy, case: PolicyTest) -> CaseOutcome:
    from validator.engine.targets import matches

    engine = Engine.build([policy], {policy.id: case.parameters})
    compiled = engine.compiled[0]
    resources = []
    for item in fixture_resources(case):
        if isinstance(item, InputProblem):
            return CaseOutcome(policy, case, False, f"the fixture cannot be read: {item}")
        resources.append(item)
    # An `objects:` case runs the policy on its subject, with an inventory of all its objects.
    candidates = [resources[case.subject]] if case.objects else resources
    targeted = [r for r in candidates if (r.kind in policy.targets.kinds or "*" in policy.targets.kinds)
                and matches(policy.targets, r)]
    if not targeted:
        if case.expect == "pass":
            return CaseOutcome(policy, case, True, "not targeted")
        kinds = ", ".join(sorted({r.kind for r in candidates})) or "this object"
        return CaseOutcome(policy, case, False, f"the policy does not target {kinds}")
    if policy.relations:
        from validator import inventory

        results = engine.run(targeted, inventory.build_from(resources))
    else:
        results = [evaluate(compiled, resource, {}) for resource in targeted]
    errors = [r.error for r in results if r.status is Status.ERROR]
    if errors:
        return CaseOutcome(policy, case, False, f"evaluation error: {errors[0]}")
    return _judge(policy, case, [v for r in results for v in r.violations])


def _judge(policy: Policy, case: PolicyTest, violations: list) -> CaseOutcome:
    """Whether the violations found are what the case expects."""
    if case.expect == "pass":
        if not violations:
            return CaseOutcome(policy, case, True, "passed")
        fields = ", ".join(format_path(v.field_path) for v in violations)
        return CaseOutcome(policy, case, False, f"expected pass, got {len(violations)} violation(s) at {fields}")
    if not violations:
        return CaseOutcome(policy, case, False, "expected a violation, got none")
    blamed = [v.field_path for v in violations]
    if case.field_path is not None and case.field_path not in blamed:
        got = ", ".join(format_path(p) for p in blamed)
        return CaseOutcome(policy, case, False, f"expected a violation at {format_path(case.field_path)}, got {got}")
    if case.count is not None and case.count != len(blamed):
        return CaseOutcome(policy, case, False, f"expected {case.count} violation(s), got {len(blamed)}")
    return CaseOutcome(policy, case, True, "; ".join(v.message for v in violations))


def run_policy_tests(policies: list[Policy]) -> Iterator[CaseOutcome]:
    for policy in policies:
        for case in policy.tests:
            yield run_case(policy, case)


def run_file_tests(directories: Iterable[Path], policies: list[Policy]) -> Iterator[FileCaseOutcome]:
    """The cases of the other formats in the directories: gator Suite files (`kind: Suite`)
    and Rego unit tests (`test_*` rules of `.rego` files, run with the Rego of their
    directory and of the Weave Policies in it). Needs the Rego extra, as their policies do."""
    from validator.engine.library import policy_files

    suites: list[tuple[str, Path]] = []
    available = _rego_available()
    for directory in directories:
        try:
            paths = policy_files(directory)
        except PolicyError:
            continue  # load_each reports it
        root_modules = [m for m in (unit.read_module(p, str(p)) for p in paths if p.suffix == ".rego") if m]
        suites += [(str(path), path) for path in paths if _is_suite_file(path)]
        if available:
            yield from _rego_outcomes(root_modules, directory, policies)
        else:
            yield from _without_engine([m.name for m in root_modules if unit.test_rules(m.text)])
    if not available:
        yield from _without_engine([display for display, _ in suites])
        return
    for display, path in suites:
        for case in suite.run_suite(path, display):
            yield FileCaseOutcome(f"{display}  {case.test}/{case.case}", case.passed, case.detail, display)


def _without_engine(names: list[str]) -> Iterator[FileCaseOutcome]:
    """A failed case per test file, saying how to install the Rego extra its cases need."""
    from validator.rego import INSTALL_HINT

    return (FileCaseOutcome(name, False, INSTALL_HINT, name) for name in names)


def _rego_available() -> bool:
    from validator.rego import available

    return available()


def _is_suite_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return False
    return "kind: Suite" in head and suite.SUITE_GROUP in head and suite.read_suite(path) is not None


def _rego_outcomes(root_modules: list, directory: Path, policies: list[Policy]) -> Iterator[FileCaseOutcome]:
    """The test rules of the directory's `.rego` files; the Weave Policies loaded from it
    give their code."""
    embedded = []
    for policy in policies:
        source = Path(policy.source)
        if "weave" in policy.tags and isinstance(policy, RegoPolicy) and (
                source == directory or directory in source.parents):
            name, text = policy.modules[0]
            module = unit.module_of(f"{policy.source} ({name})", text, source.parent)
            if module is not None:
                embedded.append(module)
    for outcome in unit.run_tests(root_modules, embedded):
        yield FileCaseOutcome(f"{outcome.file}  {outcome.rule}", outcome.passed, outcome.detail, outcome.file)


def tested_by_files(policy: Policy, sources: set[str]) -> bool:
    """Whether cases outside policy files (from these files) test the policy: a Suite or Rego
    test file in the policy's directory or above it (for a `tests/` directory: in the
    directory above)."""
    if policy.tests or not policy.source:
        return bool(policy.tests)
    where = Path(policy.source).parent
    for source in sources:
        directory = Path(source).parent
        if directory.name in unit.UNIT_DIRS and directory != where:
            directory = directory.parent
        if directory == where or directory in where.parents:
            return True
    return False


def suite_files(directories: Iterable[Path]) -> set[str]:
    """The files the Suite files in the directories name (resolved paths)."""
    from validator.engine.library import policy_files

    named: set[str] = set()
    for directory in directories:
        try:
            paths = policy_files(directory)
        except PolicyError:
            continue
        for path in paths:
            if _is_suite_file(path):
                named |= {os.path.realpath(path.parent / name) for name in suite.named_files(path)}
    return named


def origin(entry: Policy | PolicyError) -> str:
    """The resolved path of the file a policy, or a policy error, comes from."""
    return os.path.realpath(entry.source if isinstance(entry, Policy) else entry.path)
