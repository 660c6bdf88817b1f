"""Rego policies (Gatekeeper ConstraintTemplates and conftest files), run by the optional
`rego` extra: `pip install -e '.[rego]'` in a checkout (see docs/rego.md).

The Rego engine is imported only when a Rego policy is compiled, so the base install and
scans without Rego policies never load it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

from validator.engine.policy import Policy, PolicyError
from validator.model import FieldPath
from validator.sources.yaml_loader import YamlDocument

INSTALL_HINT = ("Rego policies need the optional Rego engine: install it into tdv's Python environment"
                " (pip install 'gordon-to-regorus>=0.13,<0.14', what the [rego] extra adds)")

GATEKEEPER = "gatekeeper"  # input = {"review": ..., "parameters": ...}; rules give {"msg", "details"}
CONFTEST = "conftest"  # input = the document itself; rules give strings or {"msg": ...}


class ImportedPolicyError(PolicyError):
    """A Gatekeeper or conftest file that cannot be run (malformed, Rego that does not
    compile, the extra missing). A scan reports it as an input error and goes on with the
    other policies; `tdv test` and `tdv policies validate` list it as an invalid policy."""


@dataclass(frozen=True)
class ManifestObject:
    """An object of a policy manifest (a ConstraintTemplate, a Constraint, a Weave Policy), with
    where it is written, so that a problem in it is an error naming its file and line."""

    data: dict[str, Any]
    document: YamlDocument
    prefix: FieldPath  # where the object is in its document (an item of a List)
    display: str

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.data.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    def error(self, path: FieldPath, message: str) -> PolicyError:
        return ImportedPolicyError(self.display, message, self.document.locate(self.prefix + path).line)


def available() -> bool:
    return importlib.util.find_spec("regorus") is not None


@dataclass(frozen=True)
class RegoRule:
    query: str  # e.g. "data.k8srequiredlabels.violation"; each element of its value is a finding


@dataclass(frozen=True)
class RegoPolicy(Policy):
    """A tdv policy whose check is Rego: modules, the rules whose results are findings, and
    how the input is shaped."""

    modules: tuple[tuple[str, str], ...] = ()  # (file name, Rego text)
    rules: tuple[RegoRule, ...] = ()
    style: str = GATEKEEPER
    rego_v0: bool = True  # Gatekeeper templates are written in Rego v0 syntax
    rego_parameters: dict[str, Any] = field(default_factory=dict)  # a Constraint's spec.parameters
