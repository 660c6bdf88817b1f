"""Finding and loading policy files: the built-in library and user directories."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable, Sequence

from validator.engine.policy import Policy, PolicyError, load_policy_file
from validator.globs import matches_any
from validator.model import Severity

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
# kustomize's files, which policy libraries (Gatekeeper's, Weave's) keep beside their policies
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml")


def builtin_dir() -> Path:
    """`validator/policies` in an installed wheel, `policies/` in a source checkout."""
    installed = _PACKAGE_DIR / "policies"
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / "policies"


def is_builtin(policy: Policy) -> bool:
    return policy.builtin


def policy_files(directory: Path) -> list[Path]:
    """The policy files below `directory`, not kustomize's `kustomization.yaml`; in the
    built-in library, not the benchmark catalogues of `benchmarks/` (see validator/coverage.py)."""
    if directory.is_file():
        return [directory]
    if not directory.is_dir():
        raise PolicyError(str(directory), "policy directory not found")
    skipped = ("benchmarks",) if directory == builtin_dir() else ()
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml", ".rego") and p.is_file()
                  and p.name not in KUSTOMIZATIONS
                  and not any(part.startswith(".") for part in p.relative_to(directory).parts)
                  and p.relative_to(directory).parts[0] not in skipped)


def load_policies(directories: Iterable[Path], include_builtin: bool = True,
                  builtin_tests: bool = True, conftest_namespaces: Sequence[str] = (),
                  skipped: list[PolicyError] | None = None) -> list[Policy]:
    """Load policies; ids must be unique across all directories. Raises the first PolicyError;
    given a `skipped` list, the errors of Gatekeeper and conftest files go there instead (a
    scan reports them as input errors and goes on with the other policies).

    Without `builtin_tests`, the built-in policies come without their test fixtures.
    """
    from validator.rego import ImportedPolicyError

    policies = []
    for entry in load_each(directories, include_builtin, builtin_tests, conftest_namespaces):
        if isinstance(entry, ImportedPolicyError) and skipped is not None:
            skipped.append(entry)
        elif isinstance(entry, PolicyError):
            raise entry
        else:
            policies.append(entry)
    return sorted(policies, key=lambda p: p.id)


def load_each(directories: Iterable[Path], include_builtin: bool = True,
              builtin_tests: bool = True, conftest_namespaces: Sequence[str] = ()) -> list[Policy | PolicyError]:
    """Every policy, or the error that keeps it from loading, file by file.

    A file whose documents are Kubernetes objects is read as manifests, together with the
    other such files of its directory: ValidatingAdmissionPolicies (see
    validator/vap/importer.py) and Gatekeeper ConstraintTemplates and Constraints (see
    validator/gatekeeper/loader.py) and Weave Policies (see validator/weave/loader.py). The
    `.rego` files of a directory are conftest policies
    (see validator/rego/conftest.py; their rules are read from the packages
    `conftest_namespaces`, `main` when none are given). Any other file is one tdv policy.
    """
    from validator.gatekeeper import loader as gatekeeper
    from validator.rego.conftest import DEFAULT_NAMESPACE, is_rego_file, policies_from_rego
    from validator.vap.importer import policies_from_manifests, read_manifest_file
    from validator.weave import loader as weave

    roots = ([builtin_dir()] if include_builtin else []) + list(directories)
    entries: list[Policy | PolicyError] = []
    read: set[str] = set()  # a file named twice (a directory and a file in it) is read once
    for root in roots:
        base = root if root.is_dir() else root.parent
        try:
            paths = policy_files(root)
        except PolicyError as error:
            entries.append(error)
            continue
        manifests = []
        builtin = root == builtin_dir()
        rego_files = []
        for path in paths:
            if os.path.realpath(path) in read:
                continue
            read.add(os.path.realpath(path))
            display = path.relative_to(base.parent).as_posix() if builtin else str(path)
            if path.suffix == ".rego":
                if is_rego_file(path) and not builtin:
                    rego_files.append((display, path))
                continue
            documents = None if builtin else read_manifest_file(path)
            if documents is not None:
                manifests.append((display, documents))
                continue
            try:
                policy = load_policy_file(path, display, skip_tests=builtin and not builtin_tests)
                entries.append(dataclasses.replace(policy, builtin=True) if builtin else policy)
            except PolicyError as error:
                entries.append(error)
        entries.extend(policies_from_manifests(manifests))
        entries.extend(gatekeeper.policies_from_manifests(manifests))
        entries.extend(weave.policies_from_manifests(manifests))
        entries.extend(policies_from_rego(rego_files, tuple(conftest_namespaces) or (DEFAULT_NAMESPACE,)))
    return _without_duplicates(entries)


def _without_duplicates(entries: list[Policy | PolicyError]) -> list[Policy | PolicyError]:
    seen: dict[str, Policy] = {}
    result: list[Policy | PolicyError] = []
    for entry in entries:
        if isinstance(entry, Policy) and entry.id in seen:
            entry = PolicyError(entry.source, f"policy id {entry.id} is already defined in {seen[entry.id].source}")
        elif isinstance(entry, Policy):
            seen[entry.id] = entry
        result.append(entry)
    return result


def select(policies: Sequence[Policy], include: Sequence[str] = (), exclude: Sequence[str] = (), *,
           categories: Sequence[str] = (), min_severity: Severity | None = None,
           standards: Sequence[str] = (), off_by_default: bool = True) -> list[Policy]:
    """Keep policies whose id matches an include glob (any when none) and no exclude glob, and
    that are, when asked, in one of the categories, at least min_severity, and mapped to one
    of the standards.

    A policy with `enabled: false` (off by default) is kept only when an include pattern is
    its exact id, not a glob: it is for scans that ask for it by name (`tdv test` passes
    `off_by_default=False` to test them all)."""
    named = {pattern.upper() for pattern in include}

    def keep(policy: Policy) -> bool:
        return ((policy.enabled or not off_by_default or policy.id.upper() in named)
                and (not include or matches_any(include, policy.id, ignore_case=True))
                and not matches_any(exclude, policy.id, ignore_case=True)
                and (not categories or policy.category in categories)
                and (min_severity is None or policy.severity >= min_severity)
                and (not standards or any(name in policy.standards or name in policy.partial for name in standards)))

    return [p for p in policies if keep(p)]
