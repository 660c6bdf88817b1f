"""indented_json writes exactly what json.dumps(indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import enum
import json

import pytest

from validator.reporters import FormatOptions, sarif
from validator.reporters.attrs_json import to_json_data
from validator.reporters.indented_json import dumps_indented


class Level(enum.IntEnum):
    HIGH = 3


class Word(str):
    pass


VALUES = [
    {},
    [],
    "",
    0,
    None,
    True,
    {"a": {}, "b": [], "c": [{}, [], [[]], {"d": []}]},
    {"text": 'quote " backslash \\ newline \n tab \t nul \x00 del \x7f', "é": "中文 € \u2028 \U0001f600"},
    {"numbers": [0, -1, 2**70, 1.5, -0.0, 1e300, float("nan"), float("inf"), float("-inf")]},
    {"flags": [True, False, None], "level": Level.HIGH, "word": Word("w"), Word("key"): 1},
    {"tuple": (1, (2, {"x": ()})), "nested": [[1, [2, [3, {"deep": [{"deeper": "yes"}]}]]]]},
    [{"one": 1}, "two", [3], {"four": {"five": [5, {"six": None}]}}],
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_same_text_as_json(value):
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_same_text_for_a_sarif_log(report_with_evaluation_error):
    data = to_json_data(sarif.build(report_with_evaluation_error), sarif.ALWAYS_WRITTEN)
    expected = json.dumps(data, indent=2, ensure_ascii=False)
    assert dumps_indented(data) == expected
    text = sarif.render(report_with_evaluation_error, FormatOptions())
    assert text == dumps_indented(data, frozenset({"results"})) + "\n" and json.loads(text) == data


def test_keys_must_be_strings():
    with pytest.raises(TypeError, match="keys must be strings"):
        dumps_indented({"ok": {1: "one"}})


def test_lists_under_the_one_line_keys_have_an_entry_per_line():
    data = {"runs": [{"results": [{"a": 1, "b": ["x", "é"]}, {"a": 2}], "other": [{"c": 3}], "empty": []}]}
    text = dumps_indented(data, frozenset({"results", "empty"}))
    assert json.loads(text) == data
    assert '"results": [\n        {"a": 1, "b": ["x", "é"]},\n        {"a": 2}\n      ],' in text
    assert '"other": [\n        {\n          "c": 3' in text and '"empty": []' in text
