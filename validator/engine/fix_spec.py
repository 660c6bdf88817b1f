"""The `fix` key of a validation: field assignments that make a failing item comply.

    fix:
      - set: securityContext.allowPrivilegeEscalation   # path relative to the forEach item
        value: false
      - append: securityContext.capabilities.drop        # add to a list unless present
        value: ALL
      - set: resources.limits.cpu
        valueExpression: "container.?resources.?requests.?cpu.orValue(params.fix_limit)"
      - set: metadata.labels["app.kubernetes.io/name"]
        valueExpression: object.metadata.name
        ifAbsent: true                                   # never overwrite a value that is set
        when: "'app.kubernetes.io/name' in params.required_labels"

See docs/policy-format.md#fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validator.model import FieldPath, format_path, parse_path

OPERATIONS = ("set", "append")
_KEYS = {"set", "append", "value", "valueExpression", "ifAbsent", "when"}


@dataclass(frozen=True)
class FixStep:
    operation: str  # "set" or "append"
    path: FieldPath  # relative to the forEach item, or to the object without forEach
    value: Any = None  # a literal, unless `expression` is set
    expression: str | None = None  # CEL giving the value (valueExpression)
    if_absent: bool = False  # set only when the field is absent
    when: str | None = None  # CEL condition; the step is skipped when false

    def describe(self) -> str:
        verb = "add to" if self.operation == "append" else "set"
        return f"{verb} {format_path(self.path)}"


def parse_fix(reader: Any, value: Any, path: FieldPath) -> tuple[FixStep, ...]:
    """The steps of a `fix` key; `reader` is the policy's DocumentReader (fails with the line)."""
    steps = []
    items = reader.sequence(value, path)
    if not items:
        reader.fail(path, "fix needs at least one step")
    for index, item in enumerate(items):
        where = path + (index,)
        item = reader.mapping(item, where)
        reader.check_keys(item, where, _KEYS)
        operations = [name for name in OPERATIONS if name in item]
        if len(operations) != 1:
            reader.fail(where, "a fix step needs exactly one of: set, append")
        operation = operations[0]
        try:
            target = parse_path(reader.string(item, where + (operation,)))
        except ValueError as error:
            reader.fail(where + (operation,), str(error))
        if not target:
            reader.fail(where + (operation,), "a fix step needs a field path")
        if ("value" in item) == ("valueExpression" in item):
            reader.fail(where, "a fix step needs exactly one of: value, valueExpression")
        if "value" in item and not is_plain(item["value"]):
            reader.fail(where + ("value",), "value must be a string, number, boolean, list or mapping")
        if_absent = item.get("ifAbsent", False)
        if not isinstance(if_absent, bool) or (if_absent and operation != "set"):
            reader.fail(where + ("ifAbsent",), "ifAbsent must be a boolean, and goes with set")
        steps.append(FixStep(
            operation=operation,
            path=target,
            value=item.get("value"),
            expression=reader.string(item, where + ("valueExpression",)) if "valueExpression" in item else None,
            if_absent=if_absent,
            when=reader.string(item, where + ("when",)) if "when" in item else None,
        ))
    return tuple(steps)


def is_plain(value: Any) -> bool:
    """A value a fix can write: strings, numbers, booleans, and lists and maps of them."""
    if isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    return False
