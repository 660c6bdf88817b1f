"""Control characters from the inputs never reach a terminal, a CI log or a Markdown comment
raw: a carriage return could overwrite a line with "0 findings", escape sequences could
restyle or erase the log, bidirectional overrides could reorder what is shown."""

import re

import pytest

from validator.reporters.escape import printable

from tests.helpers import tdv

# YAML escapes: CR, ESC (\e), NUL (\0), BEL (\a), the 8-bit CSI (\x9b), RIGHT-TO-LEFT OVERRIDE.
HOSTILE = r"app\r0 findings\e[2K\0\a\x9b31m\u202egnp.exe"
SHOWN = r"app\r0 findings\x1b[2K\x00\x07\x9b31m\u202egnp.exe"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: "{HOSTILE}"
  annotations:
    tdv.dev/skip: "TDV-K8S-002: {HOSTILE}"
spec:
  containers:
    - name: "{HOSTILE}"
      image: nginx:1.27
      securityContext: {{privileged: true}}
"""


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / "bad\r0 findings.yaml").write_text("kind: Pod\nmetadata: {name: x\n")
    return tmp_path


def scan(*args):
    return tdv("scan", ".", "--policy", "TDV-K8S-001", "--policy", "TDV-K8S-002", *args)


@pytest.mark.parametrize("color", ["--color", "--no-color"])
def test_the_console_shows_them_escaped(hostile, color):
    result = scan(color, "-v")
    assert result.exit_code == 2
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # the console's own colours
    assert not RAW.search(text), repr(text)
    assert "container app\\r0 findings\\x1b[2K" in text  # the message (CEL strings end at a NUL)
    assert f"[Pod/{SHOWN}]" in text  # the resource
    assert "bad\\r0 findings.yaml" in text  # the file name, in the error line
    assert f"suppressed: {SHOWN}" in text  # a reason written in the manifest


def test_error_lines_and_notes_on_stderr_show_them_escaped(hostile):
    result = scan("-o", "sarif=tdv.sarif", "-v")
    assert result.exit_code == 2
    assert not RAW.search(result.stderr), repr(result.stderr)
    assert "tdv: error: bad\\r0 findings.yaml:3: " in result.stderr


def test_markdown_shows_them_escaped(hostile):
    result = scan("-o", "markdown")
    assert not RAW.search(result.stdout), repr(result.stdout)
    assert "x1b" in result.stdout and "u202e" in result.stdout


def test_machine_readable_reports_keep_the_text_as_it_is(hostile):
    """JSON escapes control characters itself: the value stays exact."""
    import json

    result = scan("-o", "json")
    names = {f["resource"]["name"] for f in json.loads(result.stdout)["findings"]}
    assert names == {"app\r0 findings\x1b[2K\x00\x07\x9b31m\u202egnp.exe"}


@pytest.mark.parametrize("raw,shown", [
    ("a\rb", "a\\rb"), ("a\nb\tc", "a\\nb\\tc"), ("\x1b[31m", "\\x1b[31m"), ("\x00\x07\x7f", "\\x00\\x07\\x7f"),
    ("\x9b", "\\x9b"), ("\u202e\u2066\u200f\u2028", "\\u202e\\u2066\\u200f\\u2028"), ("naïve 日本 ✔", "naïve 日本 ✔"),
])
def test_printable(raw, shown):
    assert printable(raw) == shown
