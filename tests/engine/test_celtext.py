"""CEL rewriting for the API server: cel.bind, compaction and homogeneous literals."""

import pytest
from cel_expr_python import cel

from validator.engine.cel import CelEvaluator
from validator.engine.celtext import CelTextError, compact, inline_binds, literal
from validator.vap.export import api_server_env


def evaluate(expression, **variables):
    env = CelEvaluator().env(tuple(variables))
    return env.compile(expression).eval(env.Activation(variables)).plain_value()


@pytest.mark.parametrize("expression,expected", [
    ("cel.bind(x, 2, x * x)", "[2].map(x, x * x)[0]"),
    ("cel.bind(a, 1, cel.bind(b, a + 1, [a, b]))", "[1].map(a, [a + 1].map(b, [a, b])[0])[0]"),
    ("cel.bind(s, 'cel.bind(no, 1, 2)', s + \")\")", "['cel.bind(no, 1, 2)'].map(s, s + \")\")[0]"),
    ("x.cel.bind(1, 2, 3)", "x.cel.bind(1, 2, 3)"),
    ("excel.bind(1)", "excel.bind(1)"),
    ("cel.bind(m, {'k': [1, (2)]}, m.k.size())", "[{'k': [1, (2)]}].map(m, m.k.size())[0]"),
])
def test_inline_binds(expression, expected):
    assert inline_binds(expression) == expected


@pytest.mark.parametrize("expression", [
    "cel.bind(x, 2, x * x) == 4",
    "cel.bind(parts, 'a/b/c'.split('/'), cel.bind(last, parts[parts.size() - 1], last == 'c'))",
    "cel.bind(t, r'\\d+', '12'.matches(t)) && cel.bind(q, \"it's\", q.size() == 4)",
])
def test_rewritten_expressions_keep_their_value_without_cel_bind(expression):
    rewritten = inline_binds(expression)
    assert "cel.bind" not in rewritten
    api_server_env().compile(rewritten)
    assert evaluate(rewritten) == evaluate(expression) is True


@pytest.mark.parametrize("expression", ["cel.bind(x, 1)", "cel.bind(x, 1, (x)", "cel.bind(x, 'open, x)"])
def test_malformed_binds_are_errors(expression):
    with pytest.raises(CelTextError):
        inline_binds(expression)


def test_compact_keeps_strings_and_drops_comments():
    text = "a  &&\n  b == 'two  spaces' // why\n  && c"
    assert compact(text) == "a && b == 'two  spaces' && c"


def test_literals_wrap_mixed_items_in_dyn():
    assert literal([1, 2]) == "[1, 2]"
    assert literal(["a", 1]) == '[dyn("a"), dyn(1)]'
    assert literal({"a": [1], "b": "x"}) == '{"a": dyn([1]), "b": dyn("x")}'
    value = {"limit": 2, "names": ["a"], "nested": {"on": True, "ratio": 0.5}, "none": None}
    assert evaluate(literal(value)) == value
    api_server_env().compile(literal(value))
    assert cel.Type  # the literal compiles in the API server's environment above


def test_a_name_after_a_keyword_is_substituted_but_not_a_member_or_a_longer_identifier():
    from validator.engine.celtext import substitute_members

    text = "x in variables.y && a.variables.y && a . variables.y && myvariables.y"
    assert substitute_members(text, "variables", {"y": "[1]"}) == (
        "x in ([1]) && a.variables.y && a . variables.y && myvariables.y")
