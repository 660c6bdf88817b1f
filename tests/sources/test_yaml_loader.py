"""Safe YAML loading: values as Kubernetes reads them, positions, and limits on hostile input."""

import textwrap
import tracemalloc

import pytest

from validator.model import Position
from validator.sources.yaml_loader import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    YamlDocument,
    YamlError,
    load_documents,
)


def load(text: str, drop_nulls: bool = False) -> list[YamlDocument | YamlError]:
    return list(load_documents(textwrap.dedent(text), drop_nulls))


def only(text: str, drop_nulls: bool = False) -> YamlDocument:
    [document] = load(text, drop_nulls)
    assert isinstance(document, YamlDocument), document
    return document


def error(text: str) -> YamlError:
    errors = [d for d in load(text) if isinstance(d, YamlError)]
    assert len(errors) == 1, errors
    return errors[0]


# Documents


def test_each_document_of_a_stream_is_yielded_with_its_index_and_line():
    documents = load("""\
        a: 1
        ---
        # only a comment
        ---
        b: 2
        ...
        ---
        c: 3
        """)
    assert [(d.data, d.index, d.line) for d in documents] == [({"a": 1}, 0, 1), ({"b": 2}, 2, 5), ({"c": 3}, 3, 8)]


def test_a_syntax_error_ends_the_stream_after_the_documents_before_it():
    first, problem = load("""\
        a: 1
        ---
        b: [1, 2
        c: 3
        """)
    assert first.data == {"a": 1}
    assert problem.line == 4 and problem.message.startswith("invalid YAML: ")


def test_a_document_in_error_does_not_stop_the_next_ones():
    documents = load("""\
        a: 1
        a: 2
        ---
        b: 1
        """)
    assert isinstance(documents[0], YamlError) and documents[1].data == {"b": 1}


# Values as Kubernetes reads them


def test_scalars_resolve_like_yaml_1_1_but_timestamps_stay_strings():
    data = only("""\
        string: hello
        quoted: "123"
        int: 42
        negative: -7
        octal: 0o17
        legacy-octal: 017
        hex: 0x1F
        float: 1.5
        exponent: 1e3
        infinite: .inf
        yes: yes
        off: off
        null-value: null
        tilde: ~
        date: 2024-05-01
        time: 2024-05-01T10:00:00Z
        binary: !!binary aGVsbG8=
        """).data
    assert data == {
        "string": "hello", "quoted": "123", "int": 42, "negative": -7, "octal": "0o17", "legacy-octal": 15,
        "hex": 31, "float": 1.5, "exponent": "1e3", "infinite": float("inf"), "true": True, "false": False,
        "null-value": None, "tilde": None, "date": "2024-05-01", "time": "2024-05-01T10:00:00Z",
        "binary": "aGVsbG8=",
    }


def test_base_60_numbers_stay_strings_as_in_kubernetes():
    assert only("port: 22:22\ntime: 1:30:00\nratio: 1:30.5\n").data == {
        "port": "22:22", "time": "1:30:00", "ratio": "1:30.5"}


def test_keys_that_are_not_strings_become_strings():
    assert only("1: a\ntrue: b\n~: c\n1.5: d\n").data == {"1": "a", "true": "b", "null": "c", "1.5": "d"}


def test_integers_beyond_int64_become_floats_and_absurd_ones_are_errors():
    assert only("n: 9223372036854775808\n").data == {"n": 9.223372036854775808e18}
    assert only("n: -9223372036854775808\n").data == {"n": -9223372036854775808}
    problem = error("a: 1\nn: " + "9" * 5000 + "\n")
    assert (problem.message, problem.line) == ("number is too large", 2)


def test_nulls_are_kept_or_dropped():
    text = "a: null\nb: 1\nc:\n"
    assert only(text).data == {"a": None, "b": 1, "c": None}
    assert only(text, drop_nulls=True).data == {"b": 1}


def test_duplicate_keys_are_errors_with_the_line_of_the_second():
    problem = error("""\
        metadata:
          name: a
          labels: {x: "1"}
          name: b
        """)
    assert (problem.message, problem.line) == ("duplicate key 'name'", 4)


def test_a_duplicate_null_key_is_still_a_duplicate_when_nulls_are_dropped():
    [problem] = load("a:\na: 1\n", drop_nulls=True)
    assert isinstance(problem, YamlError) and problem.message == "duplicate key 'a'"


def test_keys_equal_after_conversion_are_duplicates():
    assert error("1: a\n'1': b\n").message == "duplicate key '1'"


@pytest.mark.parametrize("tagged", [
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!!python/object/new:subprocess.Popen [['true']]",
    "!custom {a: 1}",
    "!!timestamp [1]",
])
def test_unsupported_tags_are_errors_and_nothing_is_constructed(tagged):
    problem = error(f"ok: 1\nvalue: {tagged}\n")
    assert problem.message.startswith("unsupported YAML tag") and problem.line == 2


def test_explicit_standard_tags_are_accepted():
    assert only("a: !!str 1\nb: !!int '2'\nc: !!map {x: 1}\nd: !!seq [1]\n").data == {
        "a": "1", "b": 2, "c": {"x": 1}, "d": [1]}


def test_anchors_aliases_and_merge_keys():
    data = only("""\
        base: &base {image: nginx, pull: Always}
        extra: &extra {tier: web}
        one:
          <<: *base
          pull: IfNotPresent
        two:
          <<: [*extra, *base]
        copy: *base
        """).data
    assert data["one"] == {"pull": "IfNotPresent", "image": "nginx"}
    assert data["two"] == {"tier": "web", "image": "nginx", "pull": "Always"}
    assert data["copy"] == {"image": "nginx", "pull": "Always"}


def test_a_merge_of_a_scalar_is_an_error():
    assert error("a: &x 1\nb:\n  <<: *x\n").message == "a merge key (<<) needs a mapping or a list of mappings"


def test_a_recursive_alias_is_an_error():
    assert error("a: &loop\n  b: *loop\n").message == "an alias refers to the collection that contains it"
    assert error("&loop [*loop]").message == "an alias refers to the collection that contains it"


# Limits


def nested(depth: int, style: str) -> str:
    if style == "flow":
        return "[" * depth + "x" + "]" * depth + "\n"
    if style == "flow-mapping":
        return "{a: " * depth + "1" + "}" * depth + "\n"
    if style == "compact":
        return "- " * depth + "x\n"
    return "".join(" " * i + "k:\n" for i in range(depth - 1)) + " " * (depth - 1) + "k: v\n"


@pytest.mark.parametrize("style", ["flow", "flow-mapping", "compact", "indented"])
def test_nesting_up_to_the_limit_is_fine(style):
    document = only(nested(MAX_DEPTH, style))
    value, depth = document.data, 0
    while isinstance(value, (list, dict)):
        value = value[0] if isinstance(value, list) else value.get("a", value.get("k"))
        depth += 1
    assert depth == MAX_DEPTH


@pytest.mark.parametrize("style", ["flow", "flow-mapping", "compact", "indented"])
def test_nesting_beyond_the_limit_is_an_error(style):
    problem = error(nested(MAX_DEPTH + 1, style))
    assert problem.message == f"nesting is deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("style", ["flow", "flow-mapping", "compact"])
def test_very_deep_nesting_is_refused_without_crashing(style):
    # libyaml's composer recurses in C: 100,000 levels would overflow the stack
    first, problem = load("kind: Before\n---\n" + nested(100_000, style))
    assert first.data == {"kind": "Before"}
    assert (problem.message, problem.line) == (f"nesting is deeper than {MAX_DEPTH} levels", 3)


def test_deep_nesting_after_many_brackets_is_still_found():
    many_brackets = "list: [" + ", ".join(f"[{i}]" for i in range(300)) + "]\n"
    documents = load(many_brackets + "---\nok: 1\n---\n" + nested(MAX_DEPTH + 1, "flow") + "---\nafter: 1\n")
    assert len(documents[0].data["list"]) == 300 and documents[1].data == {"ok": 1}
    assert isinstance(documents[2], YamlError) and documents[2].line == 5
    assert len(documents) == 3  # the stream ends at the document nested too deeply


def test_deep_nesting_with_carriage_return_line_breaks_is_found():
    lines = "".join(" " * i + "-\r" for i in range(MAX_DEPTH + 1)) + " " * (MAX_DEPTH + 1) + "x\r"
    assert error(lines).message == f"nesting is deeper than {MAX_DEPTH} levels"


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_bounded_memory():
    tracemalloc.start()
    try:
        problem = error(billion_laughs())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problem.message == (
        f"document expands to more than {MAX_EXPANDED_NODES:,} values through aliases (possible alias bomb)")
    assert problem.line == 6  # the anchor whose next copy passes the limit
    assert peak < 20 * 1024 * 1024


def test_aliases_below_the_expansion_budget_are_fine():
    data = only(billion_laughs(levels=4)).data
    assert len(data["a4"]) == 9 and data["a4"][0][0][0][0] == ["lol"] * 9


# Positions


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
          securityContext:
            privileged: true
        - name: sidecar
          image: envoy
"""


def test_a_field_points_at_its_key():
    document = only(MANIFEST)
    path = ("spec", "template", "spec", "containers", 0, "securityContext", "privileged")
    assert document.locate(path) == Position(12, 13)
    assert document.locate(("metadata", "name")) == Position(4, 3)


def test_a_list_item_points_at_the_item():
    document = only(MANIFEST)
    assert document.locate(("spec", "template", "spec", "containers", 1)) == Position(13, 11)


def test_a_missing_field_points_at_its_nearest_existing_parent():
    document = only(MANIFEST)
    containers = ("spec", "template", "spec", "containers")
    assert document.locate(containers + (1, "securityContext", "privileged")) == Position(13, 11)
    assert document.locate(containers + (5, "image")) == Position(8, 7)
    assert document.locate(("spec", "replicas")) == Position(5, 1)
    assert document.locate(("metadata", "name", "deeper")) == Position(4, 3)
    assert document.locate(()) == Position(1, 1)


def test_a_dropped_null_field_points_at_its_parent():
    document = only("a:\n  b: null\n  c: 1\n", drop_nulls=True)
    assert document.locate(("a", "b")) == Position(1, 1)
    assert document.locate(("a", "c")) == Position(3, 3)


def test_positions_through_anchors_and_merge_keys_point_at_the_written_key():
    document = only("""\
        defaults: &defaults
          image: nginx
          securityContext:
            privileged: true
        containers:
          - <<: *defaults
            name: app
          - *defaults
        """)
    assert document.locate(("containers", 0, "name")) == Position(7, 5)
    assert document.locate(("containers", 0, "image")) == Position(2, 3)
    assert document.locate(("containers", 0, "securityContext", "privileged")) == Position(4, 5)
    assert document.locate(("containers", 1, "securityContext", "privileged")) == Position(4, 5)


def test_positions_in_flow_style_and_json():
    document = only('{"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}\n')
    assert document.locate(("spec", "containers", 0, "securityContext", "privileged")) == Position(1, 60)


def test_positions_with_windows_line_breaks():
    document = only("a: 1\r\nb:\r\n  c: 2\r\n")
    assert document.locate(("b", "c")) == Position(3, 3)


def test_a_document_knows_where_it_ends():
    first, second = load("a: 1\nb: 2\n---\nc: 3\n")
    assert (first.line, first.end_line, second.line) == (1, 3, 4)


TRICKY_SCALARS = """\
plain: [yes, no, on, off, y, n, True, FALSE, ~, null, Null, "", 0x1F, 0o17, 017, 1_000, +12, -0, 1e3, 6.8523e+5,
        .inf, -.Inf, .NaN, 2001-12-14, 2001-12-14t21:59:43.10-05:00, 1:30, "=", =, "<<", text, '42']
quoted: ["yes", 'no', "12", '1.5', "null", "~"]
block: |
  multi
folded: >
  line
true: a boolean key
1: an int key
null: a null key
1.5: a float key
'2': a quoted key
base: &base {name: b, port: 80}
merged:
  <<: *base
  port: 81
many: [*base, *base]
"""

NON_SPECIFIC = "a: ! 12\nb: 12\nc: !!str 13\nd: ! [1, 2]\ne: [x, ! y]\n"


def test_a_non_specific_tag_resolves_as_no_tag_as_in_libyaml():
    [document] = load_documents(NON_SPECIFIC)
    assert document.data == {"a": 12, "b": 12, "c": "13", "d": [1, 2], "e": ["x", "y"]}


def test_tricky_scalars_resolve_as_yaml_1_1_says():
    [document] = load_documents(TRICKY_SCALARS)
    data = document.data
    assert data["plain"][:10] == [True, False, True, False, "y", "n", True, False, None, None]
    assert data["plain"][12:17] == [31, "0o17", 15, 1000, 12]  # 0o is YAML 1.2 only
    assert data["plain"][23:26] == ["2001-12-14", "2001-12-14t21:59:43.10-05:00", "1:30"]  # strings
    assert data["quoted"] == ["yes", "no", "12", "1.5", "null", "~"]
    assert {"true", "1", "null", "1.5", "2"} <= set(data)
    assert data["merged"] == {"name": "b", "port": 81}


@pytest.mark.parametrize("value, message", [
    ("!!bool", "the value tagged !!bool is not a boolean"),
    ("!!bool maybe", "the value tagged !!bool is not a boolean"),
    ("!!int", "the value tagged !!int is not a number"),
    ("!!int foo", "the value tagged !!int is not a number"),
    ("!!int +", "the value tagged !!int is not a number"),
    ("!!int 0x", "the value tagged !!int is not a number"),
    ("!!float", "the value tagged !!float is not a number"),
    ("!!float x", "the value tagged !!float is not a number"),
    ("!!null x", "the value tagged !!null is not null"),
    ("!!timestamp", "the value tagged !!timestamp is not a timestamp"),
    ("!!timestamp soon", "the value tagged !!timestamp is not a timestamp"),
])
def test_explicitly_tagged_scalars_with_bad_content_are_errors_with_their_line(value, message):
    problem = error(f"a: 1\nb: {value}\n")
    assert (problem.message, problem.line) == (message, 2)
    assert "maybe" not in problem.message and "soon" not in problem.message  # the value is not echoed


@pytest.mark.parametrize("value, expected", [
    ("!!bool yes", True), ("!!bool False", False), ("!!int 0x1F", 31), ("!!int 1_000", 1000),
    ("!!float 1.5", 1.5), ("!!null", None), ("!!null ~", None), ("!!timestamp 2024-01-02", "2024-01-02"),
    ("!!str 12", "12"), ("!!int 9223372036854775808", 9.223372036854775808e18),
])
def test_explicitly_tagged_scalars_with_good_content_are_read(value, expected):
    assert only(f"b: {value}\n").data == {"b": expected}


def test_a_number_with_more_digits_than_python_converts_is_too_large_with_its_tag():
    assert error("n: !!int " + "9" * 5000 + "\n").message == "number is too large"
    assert error("n: !!float " + "9" * 5000 + "\n").message == "number is too large"


@pytest.mark.parametrize("shape", ["block", "flow", "json"])
def test_a_document_with_more_values_than_the_budget_is_refused_quickly(shape):
    import time

    from validator.sources.yaml_loader import MAX_NODES

    count = MAX_NODES + 100_000
    body = {"block": "items:\n" + "- 1\n" * count, "flow": "items: [" + "1," * count + "1]\n",
            "json": '{"items": [' + "1," * count + "1]}"}[shape]
    started = time.monotonic()
    documents = list(load_documents("kind: Before\n---\n" + body + "---\nkind: After\n"))
    assert time.monotonic() - started < 20
    assert documents[0].data == {"kind": "Before"}
    assert (documents[1].message, documents[1].line) == (f"document holds more than {MAX_NODES:,} values", 3)
    assert len(documents) == 2  # the stream ends there, as at a syntax error


def test_many_documents_each_within_the_budget_are_all_read():
    from validator.sources import yaml_loader

    documents = list(yaml_loader.load_documents("---\n".join(f"n: [{i}, {i}]\n" for i in range(20)), False))
    assert len(documents) == 20 and all(isinstance(d, YamlDocument) for d in documents)
