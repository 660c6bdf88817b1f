"""What a CloudTrail trail records, from its `event_selector` and `advanced_event_selector`
blocks (as the AWS provider writes them): management events, read and write, and S3
object-level (data) events for every bucket, read and write.

A trail with neither block records every management event and no data event. Readings err on
the side of "not recorded": a selector that narrows its events by anything this reader does
not model (event names, sources, a list of bucket ARNs) does not count as recording all of
them.
"""

from __future__ import annotations

import re
from typing import Any

_ALL_BUCKETS = re.compile(r"^arn:aws[a-z-]*:s3(:::)?$")
_RW = {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}
S3_OBJECT = "AWS::S3::Object"


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _basic(selectors: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    management: set[str] = set()
    s3: set[str] = set()
    for selector in selectors:
        kinds = _RW.get(selector.get("read_write_type") or "All", set())
        if selector.get("include_management_events", True) is not False:
            management |= kinds
        for resource in _blocks(selector.get("data_resource")):
            values = resource.get("values")
            if resource.get("type") == S3_OBJECT and isinstance(values, list) and any(
                    isinstance(v, str) and _ALL_BUCKETS.match(v.rstrip("/")) for v in values):
                s3 |= kinds
    return management, s3


def _read_only(spec: dict[str, Any] | None) -> set[str]:
    if spec is None:
        return {"read", "write"}
    equals = spec.get("equals")
    if isinstance(equals, list) and len(equals) == 1 and str(equals[0]).lower() in ("true", "false"):
        return {"read"} if str(equals[0]).lower() == "true" else {"write"}
    return set()


def _advanced(selectors: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    management: set[str] = set()
    s3: set[str] = set()
    for selector in selectors:
        fields = {f.get("field"): f for f in _blocks(selector.get("field_selector"))}
        category = fields.pop("eventCategory", {}).get("equals")
        kinds = _read_only(fields.pop("readOnly", None))
        if category == ["Management"] and not fields:
            management |= kinds
        elif category == ["Data"] and fields.pop("resources.type", {}).get("equals") == [S3_OBJECT]:
            arn = fields.pop("resources.ARN", None)
            every_bucket = arn is None or (set(arn) <= {"field", "starts_with"} and all(
                isinstance(v, str) and _ALL_BUCKETS.match(v.rstrip("/")) for v in arn.get("starts_with") or [""]))
            if every_bucket and not fields:
                s3 |= kinds
    return management, s3


def recorded(document: dict[str, Any]) -> tuple[bool, bool, bool]:
    """(every management event, S3 object writes of every bucket, S3 object reads of every
    bucket), for a trail whose selectors are known."""
    basic, advanced = _blocks(document.get("event_selector")), _blocks(document.get("advanced_event_selector"))
    if not basic and not advanced:
        return True, False, False
    management, s3 = _advanced(advanced) if advanced else _basic(basic)
    return management == {"read", "write"}, "write" in s3, "read" in s3
