"""The encoding in which shard results cross processes: every field of every class travels,
and a payload that does not match the receiving classes fails loudly."""

from __future__ import annotations

import dataclasses
import enum
import pickle
from datetime import date

import pytest

from validator import model
from validator.checks import Checks
from validator.fix.preview import FindingFix
from validator.fix.textedit import Replacement
from validator.inventory import Entry
from validator.sources.terraform_relations import Entry as TerraformEntry
from validator.model import (BaselineState, InputProblem, Location, Position, RelatedLocation, Resource, Result,
                             SkipRule, StartOnly, Status, Suppression, SuppressionKind, Violation)
from validator.pipeline import codec
from validator.pipeline.work import ShardResult
from validator.sources.terraform_refs import Link, ResourceLinks

# Model classes that never leave the process that makes them, and why.
NOT_SENT = {
    "_FileNote": "a base class",
    "ScanWarning": "made by the suppressions filter, after the shards are merged",
    "ExpiredExemption": "made by the suppressions filter, after the shards are merged",
}


class FakePolicy:
    def __init__(self, name):
        self.id = name


POLICIES = [FakePolicy("P-1"), FakePolicy("P-2")]


def every_field_set() -> tuple[ShardResult, list[Entry]]:
    """A shard result and inventory entries in which each field of each encoded class holds a
    non-default value."""
    location = Location("a.yaml", 3, 4)
    rule = SkipRule(("P-*",), "reason", location, problem="expired")
    resource = Resource("Pod", "v1", "web", "shop", {"kind": "Pod"}, "a.yaml", doc_index=2,
                        locator=StartOnly(Position(5, 6)), metadata={"helm-source": "t.yaml"}, identity="id",
                        unknown_paths=frozenset({("spec",)}), suppressions=(rule,),
                        stable_paths={("spec",): "spec"}, tf_links=ResourceLinks(
                            (Link(("bucket",), "aws_s3_bucket.b", certain=False, via="id"),), frozenset({("policy",)}),
                            exported=True, complete=False, written=frozenset({"bucket"}),
                            files=frozenset({("a.tf", "aws_s3_bucket")})))
    violation = Violation("bad", ("spec", 0), location, BaselineState.UNCHANGED, validation=1,
                          related=(RelatedLocation(Location("r.yaml", 9, 2), "ClusterRole/admin"),))
    fix = FindingFix("Set x", (("a.yaml", (Replacement(1, 2, 3, 4, "x"),)),))
    suppression = Suppression(SuppressionKind.EXTERNAL, "why", location, owner="me", expires="2030-01-01")
    result = Result(POLICIES[1], resource, Status.FAIL, [violation], error="e", duration=0.5,
                    suppression=suppression, fixes=(fix,))
    links = ResourceLinks((Link(("bucket",), "aws_s3_bucket.b", certain=False, via="id"),), frozenset({("policy",)}),
                          exported=True, complete=False, written=frozenset({"bucket"}),
                          files=frozenset({("a.tf", "aws_s3_bucket")}))
    terraform = TerraformEntry("aws_s3_bucket_policy.p", "aws_s3_bucket_policy", "main", {"bucket": "b"},
                               frozenset({"policy"}), links, exported=True, complete=False,
                               written=frozenset({"bucket"}), path="main.tf", files=frozenset({("main.tf", "x")}))
    entries = [Entry(("a.yaml", 1), "Role", "reader", "shop", Location("a.yaml", 4, 5),
                     {"rules": [{"verbs": ["get"]}], "_tf": terraform}, api_group="rbac.authorization.k8s.io",
                     ref="Role/shop/x", whole='{"kind":"Role"}', api_version="rbac.authorization.k8s.io/v1")]
    passed = Result(POLICIES[0], resource, Status.PASS, duration=0.25)  # kept as a checks.Passed run
    return ShardResult(Checks.of([result, passed]), [[InputProblem("b.yaml", "broken", 7)], []], resources=9,
                       excluded=3), entries


def fields_of(value):
    """Every field, recursively, compare=False ones included."""
    if isinstance(value, FakePolicy):
        return ("policy", value.id)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, fields_of(getattr(value, f.name)))
                                            for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return tuple(sorted(((repr(k), fields_of(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple, frozenset)) and not isinstance(value, enum.Enum):
        return tuple(fields_of(v) for v in (sorted(value) if isinstance(value, frozenset) else value))
    return value


def test_every_field_of_every_class_round_trips():
    sent = every_field_set()
    received = codec.decode(codec.encode(sent, POLICIES), POLICIES)
    assert fields_of(received) == fields_of(sent)
    assert received[0].results[0].policy is POLICIES[1]  # policies travel as their index
    encoded = {type(value) for value in _walk(sent)}
    assert set(codec.ENCODED) <= encoded  # the fixture sets every class


def test_no_field_is_left_at_its_default():
    for value in _walk(every_field_set()):
        for field in dataclasses.fields(value):
            default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
            assert getattr(value, field.name) != default or default is dataclasses.MISSING, \
                f"{type(value).__name__}.{field.name} is left at its default"


def _walk(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield value
        for field in dataclasses.fields(value):
            yield from _walk(getattr(value, field.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item)


def test_every_model_class_travels_or_says_why_not():
    classes = {name for name, value in vars(model).items()
               if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == model.__name__}
    declared = {cls.__name__ for cls in codec.ENCODED}
    assert classes - declared == set(NOT_SENT)


def with_header(header: dict, value=None) -> bytes:
    """A payload as a process whose classes have these fields would send it."""
    return pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL) + pickle.dumps(value)


def header_with(name: str, fields: tuple[str, ...]) -> dict:
    return dict(codec._HEADER, **{name: fields})


def test_a_payload_with_a_field_missing_fails_loudly():
    payload = with_header(header_with("validator.model.Location", ("path", "line")))
    with pytest.raises(codec.EncodingError, match=r"model.Location: the sender's fields \(path, line\) are not this"
                                                  r" process's \(path, line, column\)"):
        codec.decode(payload, POLICIES)


def test_a_payload_with_an_unknown_field_fails_loudly():
    payload = with_header(header_with("validator.model.Location", ("path", "line", "column", "new")))
    with pytest.raises(codec.EncodingError, match="Location: the sender's fields"):
        codec.decode(payload, POLICIES)


def test_a_payload_from_a_process_with_other_classes_fails_loudly():
    with pytest.raises(codec.EncodingError, match="unknown class Brand in the results"):
        codec.decode(with_header(dict(codec._HEADER, Brand=("new",))), POLICIES)
    missing = {name: fields for name, fields in codec._HEADER.items() if name != "validator.model.Violation"}
    with pytest.raises(codec.EncodingError, match="model.Violation: the sender does not know this class"):
        codec.decode(with_header(missing), POLICIES)


def test_an_undeclared_class_in_a_payload_is_refused():
    from validator.model import ScanWarning

    with pytest.raises(codec.EncodingError, match="unknown class validator.model.ScanWarning"):
        codec.decode(with_header(codec._HEADER, ScanWarning("a.yaml", "late")), POLICIES)


def test_a_policy_the_receiver_does_not_hold_fails_loudly():
    payload = codec.encode(every_field_set(), POLICIES)
    with pytest.raises(codec.EncodingError, match="names policy #1; this process has 1"):
        codec.decode(payload, POLICIES[:1])


def test_an_unreadable_payload_is_an_encoding_error():
    with pytest.raises(codec.EncodingError, match="unreadable results"):
        codec.decode(b"not a pickle", POLICIES)


def test_dates_and_enums_travel_as_themselves():
    assert codec.decode(codec.encode([date(2030, 1, 1), Status.PASS], POLICIES), POLICIES) == [date(2030, 1, 1),
                                                                                                Status.PASS]
