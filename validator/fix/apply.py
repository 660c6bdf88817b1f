"""From planned fixes to fixed file texts: one editor per source kind, one file at a time.

`fix_files` gives, for each file with something to fix, its text before and after, the
findings fixed and why others were not; nothing is written here. The same function serves
`tdv fix` (all findings together) and SARIF (one finding at a time), so a SARIF fix is
exactly what `tdv fix` writes for that finding alone.

An assignment goes to the file the finding's object comes from: the manifest or `.tf` file
scanned, or, for an object rendered by Kustomize, its base or patch (see fix.kustomize).

Nothing unsafe is made (see fix.verify): a finding whose fix would make its Kubernetes
object invalid for the API server is left to a human, and a file whose fixed text does not
read back as the file with exactly the planned assignments made is left as it is, its
findings left to a human, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from validator.fix import files, hcl_edit, kustomize, verify, yaml_edit
from validator.fix.plan import Assignment, Outcome, PlannedFix
from validator.fix.textedit import Refused
from validator.model import Position, Resource, format_path

YAML_SUFFIXES = (".yaml", ".yml")
# Resource metadata naming the chart or overlay a resource was rendered from
# (validator.sources.render.resources.RENDERED_FROM).
RENDERED_FROM = "rendered-from"

Anchor = Position | tuple[str, str]  # where the object starts (YAML), or its (type, name) in a .tf file


@dataclass
class FileFix:
    display: str
    source: files.SourceText | None  # None when the file cannot be edited
    fixed: str = ""
    done: list[PlannedFix] = field(default_factory=list)  # findings fixed (or found already fixed)
    problems: list[str] = field(default_factory=list)  # why findings could not be fixed

    @property
    def original(self) -> str:
        return self.source.text if self.source else ""

    @property
    def changed(self) -> bool:
        return self.source is not None and self.fixed != self.source.text


@dataclass(frozen=True, eq=False)
class _Edit:
    item: PlannedFix
    anchor: Anchor
    assignment: Assignment


class _Files:
    """Reads each file once; a refusal is remembered too."""

    def __init__(self, root: Path, cache: dict):
        self.root, self.cache = root, cache

    def source(self, display: str) -> files.SourceText:
        if display not in self.cache:
            try:
                self.cache[display] = files.read(display, self.root)
            except Refused as error:
                self.cache[display] = error
        found = self.cache[display]
        if isinstance(found, Refused):
            raise found
        return found

    def text(self, display: str) -> str:
        try:
            return self.source(display).text
        except Refused as error:
            raise Refused(f"{display}: {error}") from None


def fix_files(planned: list[PlannedFix], root: Path, cache: dict | None = None) -> list[FileFix]:
    """The fixed text of every file the planned fixes touch, in path order."""
    reader = _Files(root, cache if cache is not None else {})
    results: dict[str, FileFix] = {}
    edits: dict[str, list[_Edit]] = {}
    failed: set[int] = set()  # ids of the findings that could not be fixed completely

    def problem(display: str, message: str, item: PlannedFix | None = None) -> None:
        results.setdefault(display, FileFix(display, None)).problems.append(message)
        if item is not None:
            failed.add(id(item))

    kept: dict[int, list[Assignment]] = {}  # by resource: the assignments found safe so far
    for item in planned:
        display = item.result.resource.path
        if item.problem:
            problem(display, _problem(item, item.problem), item)
            continue
        resource = item.result.resource
        if _is_kubernetes(resource):
            earlier = kept.setdefault(id(resource), [])
            why = verify.unsafe(resource.document, [*earlier, *item.assignments])
            if why:
                problem(display, _problem(item, f"needs a human: the API server would reject the fixed object"
                                                f" ({why})"), item)
                continue
            earlier.extend(item.assignments)
        try:
            for target, anchor, assignment in _targets(item, reader, root):
                edits.setdefault(target, []).append(_Edit(item, anchor, assignment))
        except Refused as error:
            problem(display, _problem(item, str(error)), item)
    for display in sorted(edits):
        result = results.setdefault(display, FileFix(display, None))
        _fix_file(result, edits[display], reader, failed)
    _drop_links(results, edits, failed)
    _mark_done(results, edits, failed)
    return sorted(results.values(), key=lambda r: r.display)


def _targets(item: PlannedFix, reader: _Files, root: Path) -> list[tuple[str, Anchor, Assignment]]:
    resource = item.result.resource
    rendered = resource.metadata.get(RENDERED_FROM)
    if rendered:
        if not kustomize.is_overlay(rendered, root):
            raise Refused(f"it is rendered from the Helm chart {rendered}; fix its templates or values by hand")
        return [kustomize.retarget(resource, assignment, reader.text) for assignment in item.assignments]
    if Path(resource.path).suffix.lower() == ".tf":
        anchor: Anchor = (resource.kind, (resource.identity or resource.name)[len(resource.kind) + 1:])
    else:
        location = resource.locate(())
        anchor = Position(location.line, location.column)
    return [(resource.path, anchor, assignment) for assignment in item.assignments]


def _fix_file(result: FileFix, edits: list[_Edit], reader: _Files, failed: set[int]) -> None:
    try:
        kind = _kind(result.display, [edit.item.result.resource for edit in edits])
        result.source = reader.source(result.display)
    except Refused as error:
        result.problems.append(f"{result.display}: not fixed: {error}")
        failed.update(id(edit.item) for edit in edits)
        return
    edits = _without_conflicts(edits, result, failed)
    original = result.source.text
    # Through a YAML alias, the anchored node is edited when that gives every place that
    # uses it the same fix (the check below tells); else such edits are refused.
    for shared in (True, False) if kind == "yaml" and "&" in original else (False,):
        if kind == "tf":
            text, outcomes = _edit_tf(original, edits)
        else:
            text, outcomes = _edit_yaml(original, edits, json_file=kind == "json", shared=shared)
        made = [edit for edit in edits if (outcome := outcomes.get(id(edit.assignment))) is not None
                and not outcome.problem and id(edit.item) not in failed]
        why = verify.check_file(kind, original, text, [(edit.anchor, edit.assignment) for edit in made])
        if why is None:
            break
    if why is not None:
        text = original
        for edit in edits:
            if id(edit.item) not in failed:
                result.problems.append(_problem(edit.item, f"needs a human: {why}; {result.display} is left as it is"))
                failed.add(id(edit.item))
    result.fixed = text
    for edit in edits:
        outcome = outcomes.get(id(edit.assignment))
        if outcome is not None and outcome.problem and id(edit.item) not in failed:
            result.problems.append(_problem(edit.item, outcome.problem))
            failed.add(id(edit.item))


def _without_conflicts(edits: list[_Edit], result: FileFix, failed: set[int]) -> list[_Edit]:
    """Leave out the edits that set one field to different values (a base shared by overlays
    that need different values): none of them is right for every overlay."""
    values: dict[tuple, set[str]] = {}
    for edit in edits:
        a = edit.assignment
        if a.operation == "set" and not a.if_absent:
            values.setdefault((edit.anchor, a.path), set()).add(repr(a.value))
    kept = []
    for edit in edits:
        a = edit.assignment
        if len(values.get((edit.anchor, a.path), ())) > 1:
            result.problems.append(_problem(edit.item, f"other findings need {format_path(a.path)} in"
                                                       f" {result.display} set to another value"))
            failed.add(id(edit.item))
            continue
        kept.append(edit)
    return kept


def _mark_done(results: dict[str, FileFix], edits: dict[str, list[_Edit]], failed: set[int]) -> None:
    """Each written file's findings that every one of their fixes was made for."""
    for display, result in results.items():
        items = {id(edit.item): edit.item for edit in edits.get(display, ())}
        result.done = [item for key, item in items.items() if key not in failed] if result.source else []


def _drop_links(results: dict[str, FileFix], edits: dict[str, list[_Edit]], failed: set[int]) -> None:
    """Leave unfixed every later name of a file reached under two names (a link)."""
    seen: dict[Path, str] = {}
    for result in sorted(results.values(), key=lambda r: r.display):
        if result.source is not None and result.source.path in seen:
            result.problems.append(f"{result.display}: not fixed: it is the same file as"
                                   f" {seen[result.source.path]}; run tdv fix again")
            result.source = None
            failed.update(id(edit.item) for edit in edits[result.display])
        elif result.source is not None:
            seen[result.source.path] = result.display


def _is_kubernetes(resource: Resource) -> bool:
    return bool(resource.api_version) and Path(resource.path).suffix.lower() != ".tf"


def _kind(display: str, resources: list[Resource]) -> str:
    if display.startswith("<"):
        raise Refused("it was read from standard input")
    suffix = Path(display).suffix.lower()
    if suffix == ".tf":
        return "tf"
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix == ".json" and all(r.api_version for r in resources):
        return "json"
    if suffix == ".json":
        raise Refused("findings of a Terraform plan are fixed in the .tf files: run tdv fix on the module directory")
    raise Refused("tdv fixes YAML and JSON manifests and .tf files only")


def _edit_yaml(text: str, edits: list[_Edit], json_file: bool, shared: bool) -> tuple[str, dict[int, Outcome]]:
    targets: dict[Position, yaml_edit.Target] = {}
    for edit in edits:
        anchor = edit.anchor
        assert isinstance(anchor, Position)  # an object of a YAML file is anchored where it starts
        targets.setdefault(anchor, yaml_edit.Target(anchor, [])).assignments.append(edit.assignment)
    text, outcomes = yaml_edit.edit(text, list(targets.values()), json_file, shared=shared)
    return text, {id(outcome.assignment): outcome for outcome in outcomes}


def _edit_tf(text: str, edits: list[_Edit]) -> tuple[str, dict[int, Outcome]]:
    by_block: dict[tuple[str, str], list[Assignment]] = {}
    for edit in edits:
        anchor = edit.anchor
        assert not isinstance(anchor, Position)  # a block of a .tf file is anchored by its (type, name)
        by_block.setdefault(anchor, []).append(edit.assignment)
    outcomes: dict[int, Outcome] = {}
    for address, assignments in by_block.items():
        text, done = hcl_edit.edit(text, address, assignments)
        outcomes.update((id(outcome.assignment), outcome) for outcome in done)
    return text, outcomes


def _problem(item: PlannedFix, why: str) -> str:
    resource, violation = item.result.resource, item.violation
    where = f"{violation.location.path}:{violation.location.line}"
    return f"{where}: {item.result.policy.id} on {resource.ref} ({format_path(violation.field_path)}) not fixed: {why}"
