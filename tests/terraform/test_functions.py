"""CEL functions for policies: JSON documents, CIDR blocks, port ranges and sorting."""

from __future__ import annotations

import pytest

from validator.engine import functions
from validator.engine.cel import CelEvaluator


def cel(expression: str, **values):
    """Evaluate an expression with `object` bound to `values`; (type name, value)."""
    env = CelEvaluator().env()
    result = env.compile(expression).eval(env.Activation({"object": values}))
    return result.type().name().lower(), result.value()


def test_json_decode_returns_dyn_values():
    assert functions.json_decode('{"a": [1, {"b": null}], "c": 1.5}') == {"a": [1, {"b": None}], "c": 1.5}
    assert cel("json.decode(object.p).Statement[0].Action", p='{"Statement": [{"Action": "*"}]}') == ("string", "*")
    assert cel("json.decode(object.p).?Missing.orValue('none')", p="{}") == ("string", "none")
    assert cel("json.decode('[1, 2]').size()") == ("int", 2)


@pytest.mark.parametrize("text", ["{", "", "(sensitive)", "NaN", '{"a": Infinity}', "[" * 70 + "]" * 70, "[" * 100000])
def test_invalid_json_is_an_error_never_a_crash(text):
    assert not functions.json_is_valid(text)
    with pytest.raises(ValueError):
        functions.json_decode(text)
    kind, value = cel("json.decode(object.p)", p=text)
    assert kind == "error"
    assert text not in str(value) or text == ""  # the input is not echoed
    assert cel("json.isValid(object.p)", p=text) == ("bool", False)


@pytest.mark.parametrize("block,anywhere,public", [
    ("0.0.0.0/0", True, True),
    ("::/0", True, True),
    (" 0.0.0.0/0 ", True, True),
    ("0.0.0.0/1", False, True),
    ("10.0.0.0/8", False, False),
    ("10.1.2.3", False, False),
    ("172.16.0.0/12", False, False),
    ("172.32.0.0/16", False, True),
    ("192.168.1.0/24", False, False),
    ("100.64.0.0/10", False, False),
    ("8.8.8.8/32", False, True),
    ("10.0.0.0/7", False, True),  # 11.0.0.0/8 is public
    ("fd00::/8", False, False),
    ("fe80::1", False, False),
    ("2001:db8::/32", False, False),
    ("2600::/16", False, True),
    ("10.0.0.1/8", False, False),  # host bits set, as Terraform accepts
])
def test_cidr_classification(block, anywhere, public):
    assert functions.cidr_is_valid(block)
    assert functions.cidr_is_anywhere(block) is anywhere
    assert functions.cidr_is_public(block) is public
    assert cel("cidr.isAnywhere(object.c) == object.a && cidr.isPublic(object.c) == object.p", c=block, a=anywhere, p=public) == ("bool", True)


@pytest.mark.parametrize("text", ["", "x", "0.0.0.0/33", "300.0.0.0/8", "::/129", "(sensitive)"])
def test_invalid_cidr(text):
    assert not functions.cidr_is_valid(text)
    assert cel("cidr.isValid(object.c)", c=text) == ("bool", False)
    kind, message = cel("cidr.isAnywhere(object.c)", c=text)
    assert kind == "error" and "CIDR" in str(message)


def test_cidr_contains():
    assert functions.cidr_contains("10.0.0.0/8", "10.1.2.3")
    assert functions.cidr_contains("10.0.0.0/8", "10.1.0.0/16")
    assert not functions.cidr_contains("10.0.0.0/16", "10.0.0.0/8")
    assert not functions.cidr_contains("0.0.0.0/0", "::1")  # other IP version
    assert functions.cidr_contains("::/0", "2001:db8::1")
    assert cel("cidr.contains('192.168.0.0/16', object.ip)", ip="192.168.4.4") == ("bool", True)


@pytest.mark.parametrize("low,high,port,inside", [
    (0, 65535, 22, True), (22, 22, 22, True), (23, 25, 22, False), (0, 0, 22, False),
    ("20", "30", 22, True), (20.0, 30.0, "22", True), (-1, -1, 3389, False),
])
def test_port_in_range(low, high, port, inside):
    assert functions.port_in_range(low, high, port) is inside
    assert cel("portInRange(object.l, object.h, object.p)", l=low, h=high, p=port) == ("bool", inside)


def test_port_in_range_rejects_what_is_not_a_number():
    kind, message = cel("portInRange(object.l, 10, 5)", l="ssh")
    assert kind == "error" and "number" in str(message)
    assert cel("portInRange(1, 10, 5u)") == ("bool", True)


def test_sort_gives_map_keys_a_stable_order():
    keys = {name: 1 for name in ("secret_key", "a", "access_key", "b", "z")}
    assert cel("object.filter(k, true).sort().join(',')", **keys) == ("string", "a,access_key,b,secret_key,z")
    assert cel("[3, 1, 2].sort()[0]") == ("int", 1)
    assert cel("[].sort().size()") == ("int", 0)
    assert cel("[1, 'a'].sort()")[0] == "error"
