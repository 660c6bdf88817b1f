"""Finding and loading policy files: the built-in library and user directories."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Iterable, Sequence

from validator.engine.policy import Policy, PolicyError, load_policy_file

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def builtin_dir() -> Path:
    """`validator/policies` in an installed wheel, `policies/` in a source checkout."""
    installed = _PACKAGE_DIR / "policies"
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / "policies"


def policy_files(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    if not directory.is_dir():
        raise PolicyError(str(directory), "policy directory not found")
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(directory).parts))


def load_policies(directories: Iterable[Path], include_builtin: bool = True) -> list[Policy]:
    """Load policies; ids must be unique across all directories."""
    roots = ([builtin_dir()] if include_builtin else []) + list(directories)
    policies: dict[str, Policy] = {}
    for root in roots:
        base = root if root.is_dir() else root.parent
        for path in policy_files(root):
            display = path.relative_to(base.parent).as_posix() if root == builtin_dir() else str(path)
            policy = load_policy_file(path, display)
            if policy.id in policies:
                raise PolicyError(display, f"policy id {policy.id} is already defined in {policies[policy.id].source}")
            policies[policy.id] = policy
    return sorted(policies.values(), key=lambda p: p.id)


def select(policies: Sequence[Policy], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Policy]:
    """Keep policies whose id matches any include glob (all when none) and no exclude glob."""
    def hit(policy: Policy, patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(policy.id, pattern.upper()) for pattern in patterns)

    return [p for p in policies if (not include or hit(p, include)) and not hit(p, exclude)]
