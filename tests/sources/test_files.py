"""Finding input files (recursion, hidden folders, symbolic links, stdin) and reading them."""

import codecs
import json
import os
import textwrap
from pathlib import Path

import pytest

from validator.model import InputProblem
from validator.sources import collect
from validator.sources.files import (
    STDIN_NAME,
    InputFile,
    decode,
    discover,
    display_path,
    read_text,
)
from validator.sources.kubernetes import SUFFIXES

from tests.helpers import tdv, write

CONFIG_MAP = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: {name}
    """)

PRIVILEGED_POD = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
    """)


def found(root: Path, *arguments: str) -> list[str | InputProblem]:
    """Display paths of the files discovered (input errors as they are)."""
    items = discover(arguments or [str(root)], root, SUFFIXES)
    return [item.display if isinstance(item, InputFile) else item for item in items]


def scan_json(*arguments: str, input: str | None = None) -> tuple[int, dict]:
    result = tdv("scan", "--no-config", *arguments, "-o", "json", input=input)
    return result.exit_code, json.loads(result.stdout)


# Directories


def test_directories_are_walked_recursively_for_yaml_yml_and_json(tmp_path):
    for name in ("a.yaml", "b.yml", "c.json", "deep/er/d.YAML", "notes.txt", "chart/templates/_helpers.tpl", "Makefile"):
        write(tmp_path / name, "{}")
    assert found(tmp_path) == ["a.yaml", "b.yml", "c.json", "deep/er/d.YAML"]


def test_hidden_and_vcs_folders_and_hidden_files_are_skipped(tmp_path):
    for name in (".git/config.yaml", ".git/refs/x.yaml", ".github/workflows/ci.yml", ".hidden.yaml",
                 "apps/.cache/x.yaml", "apps/web.yaml"):
        write(tmp_path / name, "{}")
    assert found(tmp_path) == ["apps/web.yaml"]


def test_order_is_stable_files_before_subfolders_each_sorted(tmp_path):
    for name in ("z.yaml", "a.yaml", "m/b.yaml", "b/c.yaml", "b/a.yaml"):
        write(tmp_path / name, "{}")
    assert found(tmp_path) == ["a.yaml", "z.yaml", "b/a.yaml", "b/c.yaml", "m/b.yaml"]


def test_a_file_named_explicitly_is_read_whatever_its_suffix(tmp_path):
    write(tmp_path / "manifest.txt", CONFIG_MAP.format(name="a"))
    assert found(tmp_path, str(tmp_path / "manifest.txt")) == ["manifest.txt"]


def test_a_missing_argument_is_an_input_error(tmp_path):
    [error] = found(tmp_path, str(tmp_path / "nope.yaml"))
    assert error == InputProblem("nope.yaml", "no such file or directory")


# Symbolic links


def test_a_link_inside_the_tree_is_followed(tmp_path):
    write(tmp_path / "base/web.yaml", CONFIG_MAP.format(name="web"))
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay/web.yaml").symlink_to(tmp_path / "base/web.yaml")
    (tmp_path / "a-link").symlink_to(tmp_path / "base", target_is_directory=True)
    (tmp_path / "hidden-link").symlink_to(tmp_path / ".hidden", target_is_directory=True)
    write(tmp_path / ".hidden/x.yaml", "{}")
    # a file link is read under its own name; a directory reached twice is walked once,
    # under its real name when it has one in the tree
    assert found(tmp_path) == ["base/web.yaml", "overlay/web.yaml", "hidden-link/x.yaml"]


def test_links_leaving_the_tree_are_reported_and_not_followed(tmp_path):
    outside = tmp_path / "outside"
    write(outside / "secret.yaml", CONFIG_MAP.format(name="outside"))
    tree = tmp_path / "tree"
    write(tree / "ok.yaml", CONFIG_MAP.format(name="ok"))
    (tree / "escape.yaml").symlink_to(outside / "secret.yaml")
    (tree / "escape-dir").symlink_to(outside, target_is_directory=True)
    items = found(tmp_path, str(tree))
    assert items[0] == InputProblem("tree/escape-dir", "symbolic link leaves the scanned tree; not followed")
    assert items[1] == InputProblem("tree/escape.yaml", "symbolic link leaves the scanned tree; not followed")
    assert items[2:] == ["tree/ok.yaml"]


def test_link_loops_and_broken_links_are_reported(tmp_path):
    (tmp_path / "self.yaml").symlink_to(tmp_path / "self.yaml")
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    assert found(tmp_path) == [
        InputProblem("a.yaml", "symbolic link loop"),
        InputProblem("b.yaml", "symbolic link loop"),
        InputProblem("gone.yaml", "broken symbolic link"),
        InputProblem("self.yaml", "symbolic link loop"),
    ]
    assert found(tmp_path, str(tmp_path / "gone.yaml")) == [InputProblem("gone.yaml", "broken symbolic link")]
    assert found(tmp_path, str(tmp_path / "self.yaml")) == [InputProblem("self.yaml", "symbolic link loop")]


def test_a_directory_link_to_an_ancestor_is_walked_once(tmp_path):
    write(tmp_path / "apps/web.yaml", CONFIG_MAP.format(name="web"))
    (tmp_path / "apps/again").symlink_to(tmp_path, target_is_directory=True)
    assert found(tmp_path) == ["apps/web.yaml"]


# Reading


def read(tmp_path: Path, data: bytes, max_bytes: int = 1024) -> str | InputProblem:
    path = tmp_path / "input.yaml"
    path.write_bytes(data)
    return read_text(InputFile(path, "input.yaml"), max_bytes)


def test_utf8_with_or_without_bom_and_utf16_with_bom_are_read(tmp_path):
    text = "name: café ☕ 🚀\n"
    assert read(tmp_path, text.encode()) == text
    assert read(tmp_path, codecs.BOM_UTF8 + text.encode()) == text
    assert read(tmp_path, text.encode("utf-16")) == text
    assert read(tmp_path, codecs.BOM_UTF16_BE + text.encode("utf-16-be")) == text


def test_invalid_utf8_names_the_line_and_the_byte():
    error = decode("a: 1\nb: 2\nname: caf\xe9\n".encode("latin-1"), "x.yaml")
    assert error == InputProblem("x.yaml", "not valid UTF-8 text (byte 0xe9)", 3)


def test_nul_bytes_mean_a_binary_file():
    assert decode(b"\x7fELF\x02\x01\x01\x00\x00", "x.yaml") == InputProblem(
        "x.yaml", "binary file (contains NUL bytes); not scanned")


def test_a_file_over_the_limit_is_not_read_whole(tmp_path):
    assert read(tmp_path, b"a: 1\n" * 300, max_bytes=1024) == InputProblem(
        "input.yaml", "file is larger than 1024 bytes; not scanned")
    assert read(tmp_path, b"a: 1\n" * 200, max_bytes=1024) == "a: 1\n" * 200
    too_big = read(tmp_path, b"#" * (2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024)
    assert too_big == InputProblem("input.yaml", "file is larger than 2 MiB; not scanned")


def test_an_unreadable_file_is_an_input_error(tmp_path):
    path = write(tmp_path / "locked.yaml", CONFIG_MAP.format(name="locked"))
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions (root)")
        assert read_text(InputFile(path, "locked.yaml")) == InputProblem(
            "locked.yaml", "cannot read file: Permission denied")
    finally:
        path.chmod(0o644)


# Display paths


def test_display_paths_are_relative_to_the_root_with_forward_slashes(tmp_path):
    assert display_path(tmp_path / "a" / "b.yaml", tmp_path) == "a/b.yaml"
    assert display_path(Path("/elsewhere/c.yaml"), tmp_path) == "/elsewhere/c.yaml"


def test_findings_are_reported_relative_to_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path / "deploy/pod.yaml", PRIVILEGED_POD)
    monkeypatch.chdir(tmp_path / "deploy")
    _, report = scan_json("pod.yaml", "--policy", "TDV-K8S-001")
    assert [f["location"]["path"] for f in report["findings"]] == ["pod.yaml"]
    monkeypatch.chdir(tmp_path)
    _, report = scan_json("deploy", "--policy", "TDV-K8S-001")
    assert [f["location"]["path"] for f in report["findings"]] == ["deploy/pod.yaml"]


def test_findings_are_reported_relative_to_root_when_given(tmp_path, monkeypatch):
    write(tmp_path / "repo/deploy/pod.yaml", PRIVILEGED_POD)
    monkeypatch.chdir(tmp_path / "repo/deploy")
    _, report = scan_json(".", "--root", str(tmp_path / "repo"), "--policy", "TDV-K8S-001")
    assert [f["location"]["path"] for f in report["findings"]] == ["deploy/pod.yaml"]


# Standard input


def test_stdin_is_read_with_a_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, report = scan_json("-", "--policy", "TDV-K8S-001", input=PRIVILEGED_POD)
    assert code == 1
    [finding] = report["findings"]
    location = finding["location"]
    assert (location["path"], location["line"], location["column"]) == (STDIN_NAME, 10, 9)


def test_stdin_holds_several_documents_and_mixes_with_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pod.yaml", PRIVILEGED_POD)
    stream = CONFIG_MAP.format(name="a") + "---\n" + PRIVILEGED_POD
    _, report = scan_json("-", "pod.yaml", "--policy", "TDV-K8S-001", input=stream)
    assert report["summary"]["files"] == 2 and report["summary"]["resources"] == 3
    assert [(f["location"]["path"], f["location"]["line"]) for f in report["findings"]] == [
        (STDIN_NAME, 15), ("pod.yaml", 10)]


def test_stdin_that_is_not_text_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = tdv("scan", "--no-config", "-", "-o", "json", input=b"\x00\x01binary")
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    assert errors == [{"kind": "input", "path": STDIN_NAME, "line": None,
                       "message": "binary file (contains NUL bytes); not scanned"}]


# collect


def test_collect_counts_files_and_keeps_going_after_bad_ones(tmp_path):
    write(tmp_path / "a.yaml", CONFIG_MAP.format(name="a"))
    (tmp_path / "b.yaml").write_bytes(codecs.BOM_UTF16_LE + "a: 1\n".encode("utf-16-le") + b"!")
    write(tmp_path / "c.yaml", "a: [1, 2\n")
    write(tmp_path / "d.yaml", CONFIG_MAP.format(name="d"))
    inputs = collect([str(tmp_path)], tmp_path)
    assert inputs.files == 4
    assert [r.name for r in inputs.resources] == ["a", "d"]
    assert [(e.path, e.line) for e in inputs.errors] == [("b.yaml", None), ("c.yaml", 2)]
