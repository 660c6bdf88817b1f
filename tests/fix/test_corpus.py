"""Real-world inputs (see tests/SOURCES.tsv), fixed with every policy: nothing crashes, every
file written still parses, the findings fixed are gone, a second run changes nothing, and
Helm charts are never touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from validator.fingerprint import fingerprint
from validator.sources.terraform_hcl import parse_text
from validator.sources.yaml_loader import YamlError, load_documents

from tests.helpers import fix_paths, scan_paths

DATA = Path(__file__).resolve().parent.parent / "data"
TREES = {
    "manifests": DATA / "sources",
    "kustomize": DATA / "render" / "kustomize",
    "helm": DATA / "render" / "helm",
    "terraform": DATA / "terraform" / "aws",
}


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def prints(report) -> set[str]:
    return {fingerprint(r.policy.id, r.resource, v.field_path) for r in report.failures for v in r.violations}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.integration) if name in ("kustomize", "helm")
                                  else name for name in TREES])  # those two run kustomize or Helm
def test_a_real_tree_is_fixed_safely(name, workdir):
    tree = workdir / name
    shutil.copytree(TREES[name], tree)
    before = snapshot(tree)
    changes = fix_paths([tree], workdir)
    fixed = {fingerprint(i.result.policy.id, i.result.resource, i.violation.field_path)
             for c in changes for i in c.done}
    after = snapshot(tree)
    edited = [path for path in after if after[path] != before[path]]
    for path in edited:
        text = after[path].decode("utf-8-sig")
        if path.endswith(".tf"):
            assert not hasattr(parse_text(text, path), "message"), path
        else:
            assert not [d for d in load_documents(text) if isinstance(d, YamlError)], path
    if name == "helm":
        assert not edited, "a Helm chart was edited"
    else:
        assert edited and fixed, f"nothing was fixed in {name}"
    report = scan_paths([tree], root=workdir)
    assert not fixed & prints(report), "findings reported fixed are still there"
    assert not any(c.changed for c in fix_paths([tree], workdir)), "a second run changed files"
