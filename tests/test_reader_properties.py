"""Property-based tests of every reader: generated and mutated inputs never make a reader
raise, and never lose a resource without an input error.

Each reader's only documented outcome for a bad file is an `InputProblem` (one line, naming
the file); a Kubernetes manifest that hits an unexpected exception becomes an error that
says "internal error", which these tests count as a failure too. Examples are generated
from a fixed seed (`derandomize=True`) and bounded, so the suite is the same on every run
and takes a few seconds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.model import InputProblem, Resource
from validator.sources import kubernetes, terraform_plan, terraform_scan
from validator.sources.context import SourceContext
from validator.sources.files import InputFile
from validator.sources.terraform_hcl import scan_texts

from tests.helpers import tdv

SETTINGS = settings(derandomize=True, max_examples=50, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Any text, including lone surrogates, control characters and line separators.
ODD_TEXT = st.text(st.characters(codec=None, categories=None), max_size=12) | st.sampled_from(
    ["\ud800", "x\udfffy", "\u2028", "\x85", "\r", "\t", "${x}", "%{if}", "\\", '"', "'", "#", "//", "/*", "*/",
     "<<EOT", "EOT  ", ": ", "- ", "&a", "*a", "!!bool", "!!int", "!!python/object:os.system", "---", "..."])
# A number beyond Python's 4,300-digit conversion limit cannot be written by json.dumps: this
# string stands for it, and `enormous` writes it in the text.
ENORMOUS = "@@enormous@@"
HUGE_NUMBERS = st.sampled_from([2**63, -2**63 - 1, 10**400, -10**400, 1e308, -1e308, ENORMOUS])
SCALARS = st.none() | st.booleans() | st.integers(-2**70, 2**70) | HUGE_NUMBERS | st.floats(allow_nan=False) | ODD_TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(ODD_TEXT, inner, max_size=4), max_leaves=20)


def enormous(text: str) -> str:
    return text.replace(f'"{ENORMOUS}"', "9" * 5000)


def mutated(text: str, data: st.DataObject) -> str:
    """The text with a few characters deleted, duplicated or replaced, or a piece repeated."""
    for _ in range(data.draw(st.integers(1, 4), "mutations")):
        if not text:
            break
        start = data.draw(st.integers(0, len(text) - 1), "start")
        end = min(len(text), start + data.draw(st.integers(0, 8), "length"))
        how = data.draw(st.sampled_from(["delete", "duplicate", "replace", "repeat"]), "how")
        if how == "delete":
            text = text[:start] + text[end:]
        elif how == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif how == "replace":
            text = text[:start] + data.draw(ODD_TEXT, "replacement") + text[end:]
        else:
            text = text[:end] + text[start:end] * data.draw(st.integers(2, 500), "times") + text[end:]
    return text


def check_outcome(items: list, display: str) -> list[InputProblem]:
    errors = []
    for item in items:
        assert isinstance(item, (Resource, InputProblem)), item
        if isinstance(item, InputProblem):
            assert item.path == display and "\n" not in item.message and "internal error" not in item.message, item
            errors.append(item)
    return errors


# Kubernetes manifests (YAML and JSON)

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: one
  annotations: {a: "1", b: '2'}
data:
  key: value
  list: [1, 2.5, true, null, "x"]
---
apiVersion: apps/v1
kind: Deployment
metadata: &meta
  name: two
spec:
  template:
    metadata: *meta
    spec:
      containers:
        - name: app
          image: nginx:1.27
          args: ["--a", "--b"]
          command: |
            run
            this
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Secret, metadata: {name: three}, stringData: {k: v}}
"""


@SETTINGS
@given(st.data())
def test_mutated_manifests_never_raise(data):
    text = mutated(MANIFEST, data)
    check_outcome(list(kubernetes.parse_manifests(text, "m.yaml")), "m.yaml")


@SETTINGS
@given(st.lists(st.dictionaries(ODD_TEXT, VALUES, max_size=4), min_size=1, max_size=4), st.booleans())
def test_generated_manifests_lose_no_object(objects, as_json):
    documents = [{**extra, "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"n{i}"}}
                 for i, extra in enumerate(objects)]
    if as_json:
        display = "m.json"
        text = enormous(json.dumps(documents[0], ensure_ascii=False))
        documents = documents[:1]
    else:
        display = "m.yaml"
        text = enormous("---\n".join(json.dumps(d, ensure_ascii=True) + "\n" for d in documents))
    items = list(kubernetes.parse_manifests(text, display))
    errors = check_outcome(items, display)
    if not errors:
        assert sorted(r.name for r in items) == sorted(d["metadata"]["name"] for d in documents)


@SETTINGS
@given(VALUES)
def test_json_values_of_any_shape_never_raise(value):
    text = enormous(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": value}))
    items = list(kubernetes.parse_manifests(text, "m.json"))
    errors = check_outcome(items, "m.json")
    assert len(items) == 1 and (errors or items[0].name == "a")


# Terraform plan JSON

def plan_text(resources: list[tuple[str, object]], extra: dict | None = None) -> str:
    changes = [{"address": f"x_thing.r{i}", "mode": "managed", "type": "x_thing", "name": f"r{i}",
                "change": {"actions": ["create"], "after": after, **(extra or {})}}
               for i, (_, after) in enumerate(resources)]
    return enormous(json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": changes}))


def read_plan(text: str) -> list:
    return list(terraform_plan.parse(text, InputFile(None, "plan.json"), SourceContext(Path("."))))


MARKS = st.recursive(st.booleans() | st.none(), lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(["a", "b", "n"]), inner, max_size=3), max_leaves=8)


@SETTINGS
@given(st.lists(st.tuples(st.just(""), st.dictionaries(ODD_TEXT, VALUES, max_size=4)), min_size=1, max_size=4),
       MARKS, MARKS)
def test_generated_plans_lose_no_resource_without_an_error(resources, unknown, sensitive):
    items = read_plan(plan_text(resources, {"after_unknown": unknown, "after_sensitive": sensitive}))
    errors = check_outcome(items, "plan.json")
    found = {item.ref for item in items if isinstance(item, Resource)}
    if any(not e.message.startswith("x_thing.") for e in errors):
        return  # the whole file is reported (e.g. a number beyond the conversion limit)
    for index in range(len(resources)):
        address = f"x_thing.r{index}"
        assert address in found or any(e.message.startswith(address + ":") for e in errors), address


@SETTINGS
@given(st.data())
def test_mutated_plans_never_raise(data):
    text = plan_text([("", {"n": 1, "s": "text", "l": [1, {"a": None}]}), ("", {"b": True})],
                     {"after_unknown": {"s": True}, "after_sensitive": {"l": [False, True]}})
    check_outcome(read_plan(mutated(text, data)), "plan.json")


# Terraform .tf files

def hcl_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    escaped = escaped.replace("${", "$${").replace("%{", "%%{")
    return '"' + "".join(c if c.isprintable() and not 0xD800 <= ord(c) < 0xE000 else f"\\u{ord(c):04x}"
                         if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}" for c in escaped) + '"'


def hcl_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) or value == value else "0"
    if value == ENORMOUS:
        return "9" * 5000
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{hcl_string(k)} = {hcl_value(v)}" for k, v in value.items()) + "}"


HEREDOC_CLOSERS = st.sampled_from(["EOT", "EOT  ", "  EOT", "\tEOT\t", "EOT \r"])
TF_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | HUGE_NUMBERS | st.floats(allow_nan=False, allow_infinity=False)
    | ODD_TEXT, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4), max_leaves=12)


@st.composite
def tf_files(draw) -> tuple[str, int]:
    """A .tf file and the number of resource blocks it declares."""
    parts, resources = [], 0
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["resource", "resource", "variable", "locals", "output", "data"]))
        body = []
        for name in draw(st.lists(st.sampled_from(["a", "b", "c", "policy"]), unique=True, max_size=3)):
            if name == "policy":
                closer = draw(HEREDOC_CLOSERS)
                dash = draw(st.sampled_from(["", "-"]))
                body.append(f"  {name} = <<{dash}EOT\n  {{\"x\": 1}}\n  resource \"fake\" \"x\" {{\n{closer}\n")
            else:
                body.append(f"  {name} = {hcl_value(draw(TF_VALUES))}\n")
        if draw(st.booleans()):
            body.append(f"  # {draw(ODD_TEXT).replace(chr(10), ' ')}\n  nested {{\n    x = 1\n  }}\n")
        if kind == "resource":
            header, resources = f'resource "x_thing" "r{index}"', resources + 1
        elif kind == "data":
            header = f'data "x_thing" "d{index}"'
        elif kind == "locals":
            header, body = "locals", [line for line in body if " = <<" not in line and "nested" not in line]
        else:
            header = f'{kind} "v{index}"'
        parts.append(header + " {\n" + "".join(body) + "}\n")
    return "\n".join(parts), resources


@SETTINGS
@given(tf_files())
def test_generated_tf_files_lose_no_resource_without_an_error(file):
    text, declared = file
    items = list(scan_texts([("main.tf", text)]))
    errors = check_outcome(items, "main.tf")
    resources = [item for item in items if isinstance(item, Resource)]
    assert len(resources) == declared or errors
    assert len(resources) + len(errors) >= declared or any("not scanned" in e.message or "invalid HCL" in e.message
                                                           for e in errors)


@SETTINGS
@given(tf_files(), st.data())
def test_mutated_tf_files_never_raise_nor_silently_lose_a_block(file, data):
    text = mutated(file[0], data)
    items = list(scan_texts([("main.tf", text)]))
    errors = check_outcome(items, "main.tf")
    if not errors:
        # every `resource` header the lexical pass sees at the top level became a resource
        declared = [line for line, kind in terraform_scan.scan(text).headers.items() if kind == "resource"]
        assert len([i for i in items if isinstance(i, Resource)]) == len(declared)


# Odd text never costs a finding

@settings(SETTINGS, max_examples=12)
@given(ODD_TEXT, ODD_TEXT)
def test_odd_text_in_a_plan_never_hides_an_open_ssh_port(description, tag):
    from validator.engine import Engine  # noqa: F401 (the engine, as `tdv scan` runs it)

    after = {"name": "ssh", "description": description, "tags": {tag: tag},
             "ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                          "ipv6_cidr_blocks": [], "description": description}]}
    text = json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [
        {"address": "aws_security_group.ssh", "mode": "managed", "type": "aws_security_group", "name": "ssh",
         "change": {"actions": ["create"], "after": after}}]})
    result = tdv("scan", "-", "--policy", "TDV-AWS-004", "-o", "json", input=text)
    report = json.loads(result.stdout)  # the summary goes to stderr
    assert report["errors"] == [] and [f["policyId"] for f in report["findings"]] == ["TDV-AWS-004"]


def test_the_readers_quote_nothing_sensitive_in_errors():
    secret = "hunter2-property-secret"
    texts = {
        "m.yaml": f"apiVersion: v1\nkind: Secret\nmetadata: {{name: a}}\nstringData: {{p: !!int {secret}}}\n",
        "plan.json": plan_text([("", {"password": secret})]).replace('"password"', '"password": 1, "x"', 1)[:-3],
    }
    items = list(kubernetes.parse_manifests(texts["m.yaml"], "m.yaml")) + read_plan(texts["plan.json"])
    items += list(scan_texts([("main.tf", f'resource "x" "y" {{\n  password = "{secret}\n}}\n')]))
    errors = [i for i in items if isinstance(i, InputProblem)]
    assert len(errors) == 3 and not any(re.search(secret, str(e)) for e in errors)
