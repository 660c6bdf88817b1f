"""Properties of `tdv fix` on generated manifests and `.tf` files (hypothesis, fixed seed,
bounded): the fixed text reads back, only the fields the fixes own differ, and a second
run changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from validator.fix import api_rules, verify
from validator.sources.yaml_loader import YamlError, load_documents

from tests import builders
from tests.helpers import fix_paths

K8S = ["TDV-K8S-002", "TDV-K8S-003", "TDV-K8S-010", "TDV-K8S-012", "TDV-K8S-013", "TDV-K8S-018",
       "TDV-K8S-019", "TDV-K8S-023", "TDV-K8S-025", "TDV-K8S-030"]
# Paths (from the object) that some fix may write; everything else must stay as it was.
OWNED_CONTAINER = ("securityContext", "resources", "imagePullPolicy")

contexts = st.fixed_dictionaries({}, optional={
    "privileged": st.booleans(),
    "allowPrivilegeEscalation": st.booleans(),
    "runAsUser": st.sampled_from([0, 1000]),
    "capabilities": st.fixed_dictionaries({}, optional={"add": st.lists(st.sampled_from(
        ["CAP_SYS_ADMIN", "NET_ADMIN", "SYS_TIME"]), max_size=2, unique=True)}),
    "seccompProfile": st.sampled_from([{"type": "Localhost", "localhostProfile": "p.json"}, {"type": "Unconfined"}]),
})
containers = st.fixed_dictionaries({"image": st.sampled_from(["nginx:1.27", "nginx:latest"])}, optional={
    "securityContext": contexts,
    "imagePullPolicy": st.sampled_from(["IfNotPresent", "Always"]),
    "resources": st.fixed_dictionaries({}, optional={
        "requests": st.fixed_dictionaries({}, optional={"cpu": st.sampled_from(["50m", "2"])}),
        "limits": st.fixed_dictionaries({}, optional={"cpu": st.sampled_from(["50m", "1"]),
                                                      "memory": st.sampled_from(["64Mi", "1Gi"])}),
    }),
})
pods = st.fixed_dictionaries({"containers": st.lists(containers, min_size=1, max_size=2)}, optional={
    "hostNetwork": st.booleans(),
    "os": st.just({"name": "windows"}),
})
BOMS = st.integers(min_value=0, max_value=2)


def _name(items: list[dict]) -> list[dict]:
    return [dict(item, name=f"c{number}") for number, item in enumerate(items)]


@st.composite
def manifests(draw) -> str:
    """A Deployment or a Pod, written in block or flow style, perhaps with a shared
    securityContext anchor, in one or two documents."""
    spec = draw(pods)
    spec["containers"] = _name(spec["containers"])
    if len(spec["containers"]) > 1 and draw(st.booleans()):  # one object twice: PyYAML writes &id001 / *id001
        spec["containers"][1]["securityContext"] = spec["containers"][0].setdefault("securityContext", {})
    kind = draw(st.sampled_from(["Pod", "Deployment"]))
    if kind == "Pod":
        document = builders.pod("p", **spec)
    else:
        document = builders.deployment("d", template_labels={"app": "d"}, **spec)
    flow = draw(st.sampled_from([False, None]))
    text = yaml.safe_dump(document, sort_keys=draw(st.booleans()), default_flow_style=flow)
    if draw(st.booleans()):
        text = "# leading comment\n---\n" + text + "---\n" + text.replace("name: p\n", "name: q\n").replace(
            "name: d\n", "name: e\n")
    if draw(st.booleans()):  # a comment after a line (mutations the fix must keep)
        lines = text.split("\n")
        at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if lines[at].strip() and not lines[at].rstrip().endswith(("|", ">")):
            lines[at] += "  # note"
        text = "\n".join(lines)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


TF_BLOCKS = {
    "aws_kms_key": ['description = "k"', "enable_key_rotation = false", "deletion_window_in_days = 7"],
    "aws_db_instance": ['engine = "postgres"', "publicly_accessible = true", "storage_encrypted = false",
                        'instance_class = "db.t3.micro"'],
    "aws_instance": ['ami = "ami-1"', 'metadata_options {\n    http_tokens = "optional"\n  }'],
}


@st.composite
def tf_files(draw) -> str:
    blocks = []
    for number, (kind, lines) in enumerate(TF_BLOCKS.items()):
        chosen = draw(st.lists(st.sampled_from(lines + ["# a comment", "tags = var.tags"]), unique=True,
                               max_size=len(lines) + 2))
        body = "".join(f"  {line}\n" for line in chosen)
        blocks.append(f'resource "{kind}" "r{number}" {{\n{body}}}\n')
    return "\n".join(draw(st.permutations(blocks)))


def _read(path: Path) -> list:
    text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    return [d.data if not isinstance(d, YamlError) else d for d in load_documents(text)]


def _without_owned(document: dict) -> dict:
    document = verify.tree_copy(document)
    meta = document.get("metadata", {})
    if isinstance(meta, dict):
        meta.pop("labels", None)
    spec = document.get("spec", {})
    pod = spec.get("template", {}).get("spec", spec) if isinstance(spec, dict) else {}
    if isinstance(pod, dict):
        pod.pop("automountServiceAccountToken", None)
        for container in pod.get("containers", []):
            for key in OWNED_CONTAINER:
                container.pop(key, None)
    return document


def _run_twice(directory: Path, path: Path, policies: list[str]) -> tuple[list, list]:
    first = fix_paths([path], directory, policies)
    second = fix_paths([path], directory, policies)
    return first, second


@seed(20261206)
@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=manifests(), marks=BOMS)
def test_fixed_manifests_read_back_change_only_owned_fields_and_settle(text, marks):
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        (directory / ".git").mkdir()
        path = directory / "m.yaml"
        path.write_bytes(b"\xef\xbb\xbf" * marks + text.encode("utf-8"))
        before = _read(path)
        first, second = _run_twice(directory, path, K8S)
        after = _read(path)
        assert not any(isinstance(d, YamlError) for d in after), path.read_text(encoding="utf-8")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf" * marks)
        fixed = path.read_bytes().decode("utf-8")
        assert fixed.count("# note") == text.count("# note") and fixed.count("\r\n") >= text.count("\r\n")
        assert ("\r\n" in text) == (fixed.count("\n") == fixed.count("\r\n"))
        assert len(after) == len(before)
        for old, new in zip(before, after):
            assert verify.same(_without_owned(old), _without_owned(new))
            assert not api_rules.problems(new) - api_rules.problems(old)
        assert not any(change.changed for change in second), [c.problems for c in second]


@seed(20261206)
@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=tf_files())
def test_fixed_tf_files_read_back_and_settle(text):
    from validator.sources.terraform_hcl import scan_texts

    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        (directory / ".git").mkdir()
        path = directory / "main.tf"
        path.write_text(text, encoding="utf-8")
        first, second = _run_twice(directory, path, ["TDV-AWS-007", "TDV-AWS-008", "TDV-AWS-011", "TDV-AWS-012"])
        fixed = path.read_text(encoding="utf-8")
        read = list(scan_texts([("main.tf", fixed)]))
        assert all(hasattr(item, "document") for item in read), fixed
        assert len(read) == 3
        assert not any(change.changed for change in second)
