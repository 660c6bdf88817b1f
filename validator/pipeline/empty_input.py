"""A scan that found nothing to evaluate: empty standard input, or paths with no input in
them. That is an input error (exit 2) unless --allow-empty, so that a pipeline that fed tdv
nothing (a failed `helm template`, a wrong path) does not pass unnoticed.

A Terraform plan or a `.tf` module is something to scan even with no resource in it (a plan
that changes nothing, a module of outputs): its files are looked at again, only in the rare
case where the scan found nothing.
"""

from __future__ import annotations

from pathlib import Path

from validator.model import InputProblem
from validator.sources import files, terraform_plan

ACCEPT = " (--allow-empty accepts this)"


def nothing_to_scan(paths, root: Path, found_files: int, max_bytes: int) -> list[InputProblem]:
    """The input errors of a scan that found no resource: one per path given, or none when
    a Terraform input was among them."""
    if found_files and _has_terraform_input(paths, root, max_bytes):
        return []
    errors = []
    for path in paths:
        if path == files.STDIN:
            errors.append(InputProblem(files.STDIN_NAME, "nothing to scan: empty input, or no Kubernetes object or"
                                                       " Terraform plan in it" + ACCEPT))
        elif found_files == 0:
            errors.append(InputProblem(files.display_path(Path(path), root), "nothing to scan: no manifest (.yaml,"
                                     " .yml, .json), Terraform file (.tf, plan .json) or kustomization in it" + ACCEPT))
        else:
            errors.append(InputProblem(files.display_path(Path(path), root), "nothing to scan: no Kubernetes object"
                                     " or Terraform resource in it" + ACCEPT))
    return errors


def _has_terraform_input(paths, root: Path, max_bytes: int) -> bool:
    candidates = [p for p in paths if p != files.STDIN]
    for item in files.discover(candidates, root, frozenset({".tf", *terraform_plan.SUFFIXES})):
        if isinstance(item, InputProblem):
            continue
        if item.suffix == ".tf":
            return True
        text = files.read_text(item, max_bytes)
        if isinstance(text, str) and terraform_plan.accepts(item.suffix, text):
            return True
    return False
