"""Broken and hostile inputs never crash `tdv scan`.

Each bad file gives one one-line error naming it (and its line when known) in every output
format, the scan exits 2, the good files next to it are still scanned with their findings,
nothing in an input is executed, no secret from an input is printed, and no traceback is
shown.
"""

from __future__ import annotations

import base64
import builtins
import errno
import html
import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from validator.reporters import FORMATS
from validator.sources import files as files_module

from tests.builders import container, manifest, pod
from tests.helpers import tdv

DATA = Path(__file__).resolve().parent / "data" / "sources"

SECRET_ENV = "hunter2-very-secret"
SECRET_STRING_DATA = "stringdata-very-secret-value"
SECRET_DATA = "data-very-secret-value"
SECRET_IN_BROKEN_FILE = "broken-file-very-secret"
SECRET_OUTSIDE = "outside-the-tree-very-secret"
SECRETS = [SECRET_ENV, SECRET_STRING_DATA, SECRET_DATA, base64.b64encode(SECRET_DATA.encode()).decode(),
           SECRET_IN_BROKEN_FILE, SECRET_OUTSIDE]

GOOD = textwrap.dedent(f"""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
    spec:
      template:
        spec:
          containers:
            - name: app
              image: nginx:1.27
              env:
                - name: DB_PASSWORD
                  value: {SECRET_ENV}
              securityContext:
                privileged: true
    ---
    apiVersion: v1
    kind: Secret
    metadata:
      name: creds
      namespace: shop
    stringData:
      password: {SECRET_STRING_DATA}
    data:
      token: {base64.b64encode(SECRET_DATA.encode()).decode()}
    """)

PRIVILEGED_POD = manifest(pod("second", containers=[container(security_context={"privileged": True})]))

MAX_FILE_SIZE_MIB = 2


@dataclass(frozen=True)
class Case:
    path: str  # relative to the scanned directory's parent (the --root)
    message: str  # the start of the expected message
    line: int | None


def billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "\n".join(lines) + "\n"


def write_hostile_tree(root: Path, marker: Path, unreadable: bool) -> list[Case]:
    """The scanned tree: good files, and one bad file per case."""
    scan = root / "scan"
    (scan / "good").mkdir(parents=True)
    (scan / "bad").mkdir()
    (scan / "good" / "app.yaml").write_text(GOOD)
    (scan / "good" / "containers-oops.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: oops}\nspec:\n  containers: \"oops\"\n")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\n"
                                         f"stringData: {{key: {SECRET_OUTSIDE}}}\n")
    bad = scan / "bad"
    cases: list[Case] = []

    def add(name: str, content: str | bytes, message: str, line: int | None) -> None:
        path = bad / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        cases.append(Case(f"scan/bad/{name}", message, line))

    add("latin1.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n".encode("latin-1"),
        "not valid UTF-8 text (byte 0xe9)", 4)
    add("binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "binary file (contains NUL bytes); not scanned", None)
    add("malformed.yaml", f"apiVersion: v1\nkind: Secret\nstringData:\n  password: \"{SECRET_IN_BROKEN_FILE}\n",
        "invalid YAML: ", 5)
    add("malformed.json", '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {"name": }\n}\n',
        "invalid JSON: ", 4)
    add("truncated.json", '{"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"', "invalid JSON: ", 1)
    add("trailing-comma.json", '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n}\n', "invalid JSON: ", 4)
    add("helm-template.yaml", (DATA / "podinfo-deployment-template.yaml").read_text(encoding="utf-8"),
        "invalid YAML: ", 7)
    add("alias-bomb.yaml", billion_laughs(), "document expands to more than", 6)
    add("deep-flow.yaml", "[" * 10_000 + "]" * 10_000 + "\n", "nesting is deeper than 200 levels", 1)
    add("deep-flow-mapping.yaml", "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", "nesting is deeper than 200 levels", 1)
    add("deep-block.yaml", "- " * 10_000 + "x\n", "nesting is deeper than 200 levels", 1)
    add("deep-indented.yaml", "".join(" " * i + "k:\n" for i in range(1_000)), "nesting is deeper than 200 levels",
        201)
    add("duplicate-key.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n"
        "data: {y: '2'}\n---\n" + PRIVILEGED_POD, "duplicate key 'data'", 5)
    add("python-tag.yaml", f'!!python/object/apply:os.system ["touch {marker}"]\n',
        "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'", 1)
    add("python-tag-in-value.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n"
        f"  run: !!python/object/apply:subprocess.check_call [[touch, {marker}]]\n",
        "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:subprocess.check_call'", 5)
    add("python-new.yaml", f"- !!python/object/new:os.system [touch {marker}]\n",
        "unsupported YAML tag 'tag:yaml.org,2002:python/object/new:os.system'", 1)
    add("huge-integer.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nreplicas: " + "9" * 100_000 + "\n",
        "number is too large", 4)
    add("bare-scalar.yaml", "just a sentence, not a manifest\n",
        "expected a Kubernetes object (a mapping), found a string", 1)
    add("bare-list.yaml", "- apiVersion: v1\n  kind: ConfigMap\n",
        "expected a Kubernetes object (a mapping), found a list", 1)
    add("metadata-string.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: oops\n",
        "ConfigMap: metadata must be a mapping, not a string", 3)
    add("oversized.yaml", "# padding\n" * (MAX_FILE_SIZE_MIB * 1024 * 1024 // 10 + 1000),
        f"file is larger than {MAX_FILE_SIZE_MIB} MiB; not scanned", None)

    (bad / "loop.yaml").symlink_to(bad / "loop.yaml")
    cases.append(Case("scan/bad/loop.yaml", "symbolic link loop", None))
    (bad / "escape.yaml").symlink_to(outside / "secret.yaml")
    cases.append(Case("scan/bad/escape.yaml", "symbolic link leaves the scanned tree; not followed", None))
    if unreadable:
        add("unreadable.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: locked}\n",
            "cannot read file: Permission denied", None)
        (bad / "unreadable.yaml").chmod(0)
    return cases


def permissions_are_enforced(directory: Path) -> bool:
    probe = directory / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        return not os.access(probe, os.R_OK)
    finally:
        probe.chmod(0o644)
        probe.unlink()


@dataclass
class Scan:
    exit_code: int
    outputs: dict[str, str]  # format -> raw text
    stderr: str
    cases: list[Case]


def scan_all_formats(root: Path, *arguments: str) -> tuple[int, dict[str, str], str]:
    """One `tdv scan` writing every format: console to standard output, the others to files."""
    options = ["-o", "console"]
    for name in FORMATS:
        if name != "console":
            options += ["-o", f"{name}={root / 'reports' / name}"]
    result = tdv("scan", "--no-config", "--root", str(root), *arguments, *options)
    outputs = {name: (root / "reports" / name).read_text(encoding="utf-8") for name in FORMATS if name != "console"}
    outputs["console"] = result.stdout
    return result.exit_code, outputs, result.stderr


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Scan:
    root = tmp_path_factory.mktemp("hostile")
    marker = root / "executed"
    cases = write_hostile_tree(root, marker, unreadable=permissions_are_enforced(root))
    try:
        code, outputs, stderr = scan_all_formats(root, str(root / "scan"), "--max-file-size", str(MAX_FILE_SIZE_MIB))
    finally:
        if (root / "scan/bad/unreadable.yaml").exists():
            (root / "scan/bad/unreadable.yaml").chmod(0o644)
    assert not marker.exists(), "a YAML tag ran a command"
    return Scan(code, outputs, stderr, cases)


# Reading any output format back


def load(raw: str) -> Any:
    """An output parsed as what it is: JSON, XML or text."""
    head = raw.lstrip()[:1]
    if head in ("{", "["):
        return json.loads(raw)
    if head == "<":
        return ElementTree.fromstring(raw)
    return raw


def flat_text(value: Any) -> str:
    """Every string in a parsed output, unescaped, one per line."""
    if isinstance(value, ElementTree.Element):
        parts = [text for node in value.iter() for text in (node.text, node.tail, *node.attrib.values()) if text]
    elif isinstance(value, str):
        parts = [value]
    else:
        parts = list(_strings(value))
    return html.unescape("\n".join(parts)).replace("\\", "")


def _strings(value: Any):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def has_line(parsed: Any, path: str, line: int) -> bool:
    """`path:line` written out, or a JSON object holding the path and, below it, the line."""
    if f"{path}:{line}" in flat_text(parsed):
        return True
    return any(path in _strings(node) and line in _line_numbers(node) for node in _objects(parsed))


def _objects(value: Any):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _line_numbers(value: Any):
    for node in _objects(value):
        for key, item in node.items():
            if key in ("line", "begin", "startLine") and isinstance(item, int):
                yield item


# The scan as a whole


def test_the_scan_exits_2_without_a_traceback(hostile):
    assert hostile.exit_code == 2
    for text in (*hostile.outputs.values(), hostile.stderr):
        assert "Traceback" not in text and 'File "' not in text


def test_every_output_can_be_read_back(hostile):
    for name, raw in hostile.outputs.items():
        assert raw.strip(), name
        load(raw)


def test_every_bad_file_is_reported_once_in_json_with_its_line(hostile):
    errors = [e for e in json.loads(hostile.outputs["json"])["errors"] if e["kind"] == "input"]
    for case in hostile.cases:
        [error] = [e for e in errors if e["path"] == case.path]
        assert error["message"].startswith(case.message), (case, error)
        assert "\n" not in error["message"]
        assert error["line"] == case.line, (case, error)
    assert len(errors) == len(hostile.cases)


def test_every_bad_file_is_one_console_line(hostile):
    errors = [line for line in hostile.outputs["console"].splitlines() if line.startswith("error: ")]
    for case in hostile.cases:
        [line] = [text for text in errors if case.path in text]
        where = f"{case.path}:{case.line}: " if case.line else f"{case.path}: "
        assert line.startswith("error: " + where) and case.message in line, (case, line)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_bad_file_is_named_with_its_error_and_line_in_each_format(hostile, name):
    parsed = load(hostile.outputs[name])
    if name == "shard":  # a report for `tdv merge`: what it merges into carries them
        from validator.reporters import FormatOptions, json_report, shard

        parsed = json.loads(json_report.render(shard.read(hostile.outputs[name]), FormatOptions()))
    text = flat_text(parsed)
    for case in hostile.cases:
        assert case.path in text, (name, case)
        assert case.message in text, (name, case)
        if case.line:
            assert has_line(parsed, case.path, case.line), (name, case)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_good_files_are_still_scanned_with_their_findings(hostile, name):
    text = flat_text(load(hostile.outputs[name]))
    assert "TDV-K8S-001" in text
    report = json.loads(hostile.outputs["json"])
    privileged = {(f["location"]["path"], f["location"]["line"]) for f in report["findings"]
                  if f["policyId"] == "TDV-K8S-001"}
    # the good file, and the document after the one with a duplicate key
    assert privileged == {("scan/good/app.yaml", 16), ("scan/bad/duplicate-key.yaml", 16)}
    assert "scan/good/app.yaml" in text


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_secret_from_an_input_is_printed(hostile, name):
    for secret in SECRETS:
        assert secret not in hostile.outputs[name], (name, secret)
    for secret in SECRETS:
        assert secret not in hostile.stderr


def test_containers_that_are_not_a_list_give_evaluation_errors_not_a_crash(hostile):
    report = json.loads(hostile.outputs["json"])
    about_it = [e for e in report["errors"] if e["path"] == "scan/good/containers-oops.yaml"]
    assert all(e["kind"] == "evaluation" and "\n" not in e["message"] for e in about_it)
    assert report["summary"]["resources"] == 4  # app.yaml (2), containers-oops.yaml, duplicate-key.yaml


# Cases that need their own scan


def test_an_unreadable_file_is_reported_in_every_format(tmp_path, monkeypatch):
    """chmod 000 when it stops this user from reading; simulated when it does not (root)."""
    (tmp_path / "scan").mkdir()
    locked = tmp_path / "scan" / "locked.yaml"
    locked.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: locked}\n")
    (tmp_path / "scan" / "pod.yaml").write_text(PRIVILEGED_POD)
    if permissions_are_enforced(tmp_path):
        locked.chmod(0)
    else:
        def refusing_open(file, *args, **kwargs):
            if Path(file).name == "locked.yaml":
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
            return builtins.open(file, *args, **kwargs)

        monkeypatch.setattr(files_module, "open", refusing_open, raising=False)
    try:
        code, outputs, stderr = scan_all_formats(tmp_path, str(tmp_path / "scan"))
    finally:
        locked.chmod(0o644)
    assert code == 2 and "Traceback" not in stderr
    for name, raw in outputs.items():
        text = flat_text(load(raw))
        assert "scan/locked.yaml" in text and "cannot read file: Permission denied" in text, name
        assert "TDV-K8S-001" in text, name


def test_a_multi_megabyte_manifest_scans_fine(tmp_path):
    note = "lorem ipsum dolor sit amet " * 100
    pods = [PRIVILEGED_POD.replace("name: second", f"name: pod-{n}\n  annotations: {{note: {note}}}")
            for n in range(2_000)]
    blob = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {blob: " + "x" * 1024 * 1024 + "}\n"
    path = tmp_path / "big.yaml"
    path.write_text("---\n".join([*pods, blob]))
    assert path.stat().st_size > 5 * 1024 * 1024
    result = tdv("scan", "--no-config", "--root", str(tmp_path), str(path), "--policy", "TDV-K8S-001", "-o", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["errors"] == []
    assert report["summary"]["resources"] == 2_001 and report["summary"]["findings"] == 2_000
    [last] = [f["location"] for f in report["findings"] if f["resource"]["name"] == "pod-1999"]
    assert (last["path"], last["line"], last["column"]) == ("big.yaml", 12 * 1_999 + 11, 9)
