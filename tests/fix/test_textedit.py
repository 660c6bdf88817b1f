"""Replacements (what SARIF fixes carry) turn the old text into exactly the new one."""

from __future__ import annotations

import random

import pytest

from validator.fix.textedit import (
    Refused, Replacement, Splice, apply_replacements, apply_splices, replacements, split_lines, unified_diff,
)


def test_an_inserted_line_is_an_empty_region_at_a_line_start():
    old = "a: 1\nb: 2\n"
    new = "a: 1\n  c: 3\nb: 2\n"
    assert replacements(old, new) == [Replacement(2, 1, 2, 1, "  c: 3\n")]


def test_a_changed_value_deletes_only_the_characters_that_change():
    assert replacements("x = true # c\n", "x = false # c\n") == [Replacement(1, 5, 1, 8, "fals")]


def test_an_insertion_at_the_end_goes_before_the_last_line_break():
    assert replacements("a\n", "a\nb\n") == [Replacement(1, 2, 1, 2, "\nb")]
    assert replacements("a\r\n", "a\r\nb\r\n") == [Replacement(1, 2, 1, 2, "\r\nb")]
    assert replacements("a", "a\nb") == [Replacement(1, 2, 1, 2, "\nb")]


def test_columns_count_code_points():
    assert replacements("é: ✓\n", "é: ✗\n") == [Replacement(1, 4, 1, 5, "✗")]


@pytest.mark.parametrize("seed", range(200))
def test_random_edits_round_trip(seed):
    rng = random.Random(seed)
    alphabet = ["a", "b", " ", "\n", "\r\n", "é", "#"]
    old = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    new = old
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(new))
        cut = rng.randint(at, min(len(new), at + 5))
        new = new[:at] + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) + new[cut:]
    if "\r\n" in old or "\r\n" in new:  # never split a CRLF pair in the middle
        old, new = old.replace("\r", ""), new.replace("\r", "")
    assert apply_replacements(old, replacements(old, new)) == new


def test_overlapping_splices_are_refused():
    with pytest.raises(Refused):
        apply_splices("abcdef", [Splice(1, 3, "x"), Splice(2, 4, "y")])
    assert apply_splices("abcdef", [Splice(4, 4, "+"), Splice(1, 3, "x")]) == "axd+ef"


def test_lines_end_at_cr_lf_and_crlf():
    assert split_lines("a\rb\r\nc\nd") == ["a\r", "b\r\n", "c\n", "d"]


def test_the_diff_marks_a_missing_final_line_break():
    diff = unified_diff("a: 1", "a: 2", "x.yaml")
    assert diff.startswith("--- a/x.yaml\n+++ b/x.yaml\n")
    assert diff.endswith("-a: 1\n\\ No newline at end of file\n+a: 2\n\\ No newline at end of file\n")
    assert unified_diff("same\n", "same\n", "x.yaml") == ""


def test_the_diff_has_difflibs_format():
    import difflib

    old = "".join(f"line {n}\n" for n in range(20))
    new = old.replace("line 5\n", "line five\n").replace("line 15\n", "")
    expected = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "a/f", "b/f"))
    assert unified_diff(old, new, "f") == expected
