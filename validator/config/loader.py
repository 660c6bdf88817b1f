"""Finding and reading `.tdv.yaml`. Every problem is a ConfigError naming the file and the
line of the bad key. Paths in the file are relative to the directory that holds it.

Checks that need the policy library (parameter names and types, policy ids, standards)
run in `check_against_policies`, once the policies (including the file's own `dirs`) are
loaded.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator

from validator.config.settings import Config, ConfigError, ParameterSetting, PolicySelection
from validator.document_reader import DocumentReader
from validator.engine.policy import CATEGORIES, POD_BEARING, Policy, check_parameter_type
from validator.filters.exclusions import Exclusion
from validator.filters.resource_match import FIELDS as MATCH_FIELDS, ResourceMatch
from validator.filters.suppressions import Exemption
from validator.globs import is_glob
from validator.model import FieldPath, Location, Severity
from validator.reporters import OutputSpec
from validator.sources.yaml_loader import YamlError, load_documents

CONFIG_NAME = ".tdv.yaml"
VERSION = 1
_TOP_KEYS = {"version", "policies", "parameters", "exclusions", "exemptions", "fail-on", "outputs", "baseline",
             "allow-empty", "pod-templates"}
_POLICY_KEYS = {"include", "exclude", "categories", "min-severity", "standards", "dirs"}
_EXCLUSION_KEYS = dict.fromkeys(MATCH_FIELDS, False) | {"reason": False}
_EXEMPTION_KEYS = dict.fromkeys(MATCH_FIELDS, False) | {"policy": True, "reason": True, "owner": True,
                                                          "expires": False}
_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Reader(DocumentReader):
    error = ConfigError


def find_config(start: Path) -> Path | None:
    """`.tdv.yaml` in `start` or the nearest parent directory. The search stops at the root of
    a repository (a directory holding `.git`) and at the filesystem root."""
    directory = Path(os.path.abspath(start))
    for candidate in (directory, *directory.parents):
        path = candidate / CONFIG_NAME
        if path.is_file():
            return path
        if (candidate / ".git").exists():
            return None
    return None


def load_config(path: Path, display: str | None = None) -> Config:
    path = Path(os.path.abspath(path))
    display = display or _relative(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(display, f"cannot read config file: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(display, "config file is not UTF-8 text") from None
    documents = list(load_documents(text))
    if not documents:
        return Config(path, display)
    if len(documents) > 1:
        raise ConfigError(display, "a config file holds one YAML document", documents[1].line)
    document = documents[0]
    if isinstance(document, YamlError):
        raise ConfigError(display, document.message, document.line)
    data = document.data
    if data is None:
        return Config(path, display)
    reader = _Reader(document, display)
    if not isinstance(data, dict):
        reader.fail((), "the config file must be a mapping of settings")
    reader.check_keys(data, (), _TOP_KEYS)
    if "version" in data and (type(data["version"]) is not int or data["version"] != VERSION):
        reader.fail(("version",), f"unsupported config version (this tdv reads version {VERSION})")
    base = path.parent
    policies = _section(reader, data, "policies", dict)
    return Config(
        path=path,
        display=display,
        selection=_selection(reader, policies),
        policy_dirs=tuple(_policy_dirs(reader, policies, base)),
        parameters=tuple(_parameters(reader, _section(reader, data, "parameters", dict))),
        exclusions=tuple(_exclusions(reader, _section(reader, data, "exclusions", list), base)),
        exemptions=tuple(_exemptions(reader, _section(reader, data, "exemptions", list), base)),
        fail_on=_severity(reader, data, ("fail-on",)),
        outputs=tuple(_outputs(reader, _section(reader, data, "outputs", list), base)),
        baseline=base / reader.string(data, ("baseline",)) if data.get("baseline") is not None else None,
        allow_empty=_flag(reader, data, ("allow-empty",)),
        pod_templates=dict(_pod_templates(reader, _section(reader, data, "pod-templates", dict))),
        document=document,
    )


def _flag(reader: _Reader, mapping: dict[Any, Any], path: FieldPath) -> bool:
    """A true/false setting; absent is false."""
    value = mapping.get(path[-1], False)
    if type(value) is not bool:
        reader.fail(path, f"{path[-1]} must be true or false")
    return value


def _relative(path: Path) -> str:
    """The path as shown in messages: relative to the working directory (`../.tdv.yaml`)."""
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _section(reader: _Reader, data: dict[str, Any], key: str, kind: type) -> Any:
    """A top-level section; left empty (or null) it is an empty mapping or list."""
    value = data.get(key)
    if value is None:
        return kind()
    return reader.mapping(value, (key,)) if kind is dict else reader.sequence(value, (key,))


def _globs(reader: _Reader, mapping: dict[Any, Any], path: FieldPath, allow_empty: bool = True) -> tuple[str, ...]:
    """One glob or a list; absent (or, when allowed, an empty list) is ()."""
    value = mapping.get(path[-1])
    if value is None or value == []:
        if not allow_empty and path[-1] in mapping:
            reader.fail(path, f"{path[-1]!r} needs at least one value")
        return ()
    return reader.strings(value, path)


def _severity(reader: _Reader, mapping: dict[Any, Any], path: FieldPath) -> Severity | None:
    if mapping.get(path[-1]) is None:
        return None
    try:
        return Severity.parse(reader.string(mapping, path))
    except ValueError as error:
        reader.fail(path, str(error))


def _selection(reader: _Reader, section: dict[str, Any]) -> PolicySelection:
    path = ("policies",)
    reader.check_keys(section, path, _POLICY_KEYS)
    categories = _globs(reader, section, path + ("categories",))
    for index, category in enumerate(categories):
        if category not in CATEGORIES:
            where = path + ("categories", index) if isinstance(section["categories"], list) else path + ("categories",)
            reader.fail(where, f"unknown category {category!r} (expected one of: {', '.join(CATEGORIES)})")
    return PolicySelection(
        include=tuple(p.upper() for p in _globs(reader, section, path + ("include",))),
        exclude=tuple(p.upper() for p in _globs(reader, section, path + ("exclude",))),
        categories=categories,
        min_severity=_severity(reader, section, path + ("min-severity",)),
        standards=_globs(reader, section, path + ("standards",)),
    )


def _policy_dirs(reader: _Reader, section: dict[str, Any], base: Path) -> Iterator[Path]:
    path = ("policies", "dirs")
    entries = _globs(reader, section, path)
    for index, entry in enumerate(entries):
        directory = base / entry
        if not directory.exists():
            where = path + (index,) if isinstance(section["dirs"], list) else path
            reader.fail(where, f"policy directory {entry!r} not found (paths are relative to the config file)")
        yield directory


def _parameters(reader: _Reader, section: dict[str, Any]) -> Iterator[ParameterSetting]:
    for policy_id, values in section.items():
        for name, value in reader.mapping(values, ("parameters", policy_id)).items():
            yield ParameterSetting(policy_id, name, value)


def _pod_templates(reader: _Reader, section: dict[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Custom kind -> the dotted path of its pod template (`spec.template`)."""
    for kind, text in section.items():
        path = ("pod-templates", kind)
        if not isinstance(kind, str) or not _KIND.match(kind):
            reader.fail(path, f"{kind!r} is not a kind (such as CloneSet)")
        if kind in POD_BEARING:
            reader.fail(path, f"{kind} is built in: its pod template is known")
        if not isinstance(text, str) or not all(_FIELD.match(part) for part in text.split(".")):
            reader.fail(path, f"the pod template of {kind} is a dotted field path such as spec.template")
        yield kind, tuple(text.split("."))


def _match(reader: _Reader, item: dict[str, Any], path: FieldPath, base: Path) -> ResourceMatch:
    selector = item.get("labelSelector")
    return ResourceMatch(
        kinds=_globs(reader, item, path + ("kind",), allow_empty=False),
        namespaces=_globs(reader, item, path + ("namespace",), allow_empty=False),
        names=_globs(reader, item, path + ("name",), allow_empty=False),
        paths=_globs(reader, item, path + ("path",), allow_empty=False),
        addresses=_globs(reader, item, path + ("address",), allow_empty=False),
        label_selector=_selector(reader, selector, path + ("labelSelector",)) if selector is not None else {},
        base=base,
    )


def _selector(reader: _Reader, value: Any, path: FieldPath) -> dict[str, Any]:
    selector = reader.mapping(value, path)
    reader.check_keys(selector, path, {"matchLabels", "matchExpressions"})
    labels = reader.mapping(selector.get("matchLabels") or {}, path + ("matchLabels",))
    for key, label in labels.items():
        if not isinstance(label, str):
            reader.fail(path + ("matchLabels", key), "label values must be strings (quote them, e.g. \"true\")")
    expressions = reader.sequence(selector.get("matchExpressions") or [], path + ("matchExpressions",))
    for index, expression in enumerate(expressions):
        where = path + ("matchExpressions", index)
        expression = reader.mapping(expression, where)
        reader.check_keys(expression, where, {"key": True, "operator": True, "values": False})
        reader.string(expression, where + ("key",))
        operator = expression["operator"]
        if operator not in _SELECTOR_OPERATORS:
            reader.fail(where + ("operator",), f"operator must be one of: {', '.join(_SELECTOR_OPERATORS)}")
        values = expression.get("values") or []
        if operator in ("In", "NotIn") and not (isinstance(values, list) and values
                                                and all(isinstance(v, str) for v in values)):
            reader.fail(where, f"operator {operator} needs a list of string values")
        if operator in ("Exists", "DoesNotExist") and values:
            reader.fail(where + ("values",), f"operator {operator} takes no values")
    if not labels and not expressions:
        reader.fail(path, "labelSelector needs matchLabels or matchExpressions")
    return selector


def _exclusions(reader: _Reader, items: list[Any], base: Path) -> Iterator[Exclusion]:
    for index, item in enumerate(items):
        path = ("exclusions", index)
        item = reader.mapping(item, path)
        reader.check_keys(item, path, _EXCLUSION_KEYS)
        if not any(key in item for key in MATCH_FIELDS):
            reader.fail(path, f"an exclusion needs at least one of: {', '.join(MATCH_FIELDS)}")
        yield Exclusion(_match(reader, item, path, base), Location(reader.display, reader.line(path)),
                        reader.string(item, path + ("reason",), required=False))


def _exemptions(reader: _Reader, items: list[Any], base: Path) -> Iterator[Exemption]:
    for index, item in enumerate(items):
        path = ("exemptions", index)
        item = reader.mapping(item, path)
        reader.check_keys(item, path, _EXEMPTION_KEYS)
        yield Exemption(
            policies=tuple(p.upper() for p in _globs(reader, item, path + ("policy",), allow_empty=False)),
            match=_match(reader, item, path, base),
            reason=reader.string(item, path + ("reason",)).strip(),
            owner=reader.string(item, path + ("owner",)).strip(),
            location=Location(reader.display, reader.line(path)),
            expires=_date(reader, item, path + ("expires",)) if item.get("expires") is not None else None,
        )


def _date(reader: _Reader, mapping: dict[Any, Any], path: FieldPath) -> date:
    value = mapping[path[-1]]
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    reader.fail(path, f"{path[-1]!r} must be a date such as 2030-12-31")


def _outputs(reader: _Reader, items: list[Any], base: Path) -> Iterator[OutputSpec]:
    to_stdout = 0
    for index, text in enumerate(items):
        path = ("outputs", index)
        if not isinstance(text, str):
            reader.fail(path, "an output is written FORMAT or FORMAT=FILE")
        try:
            spec = OutputSpec.parse(text)
        except ValueError as error:
            reader.fail(path, str(error))
        if spec.destination is None:
            to_stdout += 1
            if to_stdout > 1:
                reader.fail(path, "only one output can go to standard output")
            yield spec
        else:
            yield OutputSpec(spec.format, base / spec.destination)


def check_against_policies(config: Config, policies: Iterable[Policy]) -> None:
    """Policy ids, parameter names and types, and standards must exist in the library."""
    if config.document is None:
        return
    reader = _Reader(config.document, config.display)
    by_id = {policy.id: policy for policy in policies}
    for setting in config.parameters:
        path = ("parameters", setting.policy_id)
        policy = by_id.get(setting.policy_id)
        if policy is None:
            reader.fail(path, f"unknown policy {setting.policy_id!r}")
        declared = {parameter.name: parameter for parameter in policy.parameters}
        parameter = declared.get(setting.name)
        if parameter is None:
            known = f"its parameters: {', '.join(sorted(declared))}" if declared else "it takes no parameters"
            reader.fail(path + (setting.name,), f"{policy.id} has no parameter {setting.name!r} ({known})")
        if not check_parameter_type(parameter.type, setting.value):
            reader.fail(path + (setting.name,), f"{policy.id} parameter {setting.name!r} must be a {parameter.type}")
    data = config.document.data
    section = data.get("policies") or {}
    for key in ("include", "exclude"):
        _check_ids(reader, section.get(key), ("policies", key), by_id)
    for index, item in enumerate(data.get("exemptions") or []):
        _check_ids(reader, item.get("policy"), ("exemptions", index, "policy"), by_id)
    known_standards = sorted({name for policy in by_id.values() for name in (*policy.standards, *policy.partial)})
    for index, standard in enumerate(config.selection.standards):
        if standard not in known_standards:
            where = ("policies", "standards") + ((index,) if isinstance(section.get("standards"), list) else ())
            reader.fail(where, f"unknown standard {standard!r} (known: {', '.join(known_standards)})")


def _check_ids(reader: _Reader, value: Any, path: FieldPath, by_id: dict[str, Policy]) -> None:
    items = value if isinstance(value, list) else [] if value is None else [value]
    for index, pattern in enumerate(items):
        if not is_glob(pattern) and pattern.upper() not in by_id:
            where = path + (index,) if isinstance(value, list) else path
            reader.fail(where, f"unknown policy {pattern!r}")
