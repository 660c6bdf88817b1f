"""forEach scopes expand to CEL and to field paths in the same order."""

import pytest

from validator.engine.scopes import ScopeError, parse_scope, pod_spec_path

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "spec": {"template": {"spec": {
        "initContainers": [{"name": "init", "env": [{"name": "A"}]}],
        "containers": [{"name": "a", "env": [{"name": "B"}, {"name": "C"}]}, {"name": "b"}],
        "volumes": [{"name": "v"}],
    }}},
}


def test_pod_spec_paths():
    assert pod_spec_path("Pod") == ("spec",)
    assert pod_spec_path("CronJob") == ("spec", "jobTemplate", "spec", "template", "spec")
    assert pod_spec_path("StatefulSet") == ("spec", "template", "spec")


def test_containers_cover_every_container_list():
    paths = parse_scope("@containers").item_paths(DEPLOYMENT)
    spec = ("spec", "template", "spec")
    assert paths == [spec + ("containers", 0), spec + ("containers", 1), spec + ("initContainers", 0)]


def test_nested_wildcards():
    paths = parse_scope("@containers.env[*]").item_paths(DEPLOYMENT)
    assert [p[-4:-1] for p in paths] == [("containers", 0, "env"), ("containers", 0, "env"), ("initContainers", 0, "env")]
    assert [p[-1] for p in paths] == [0, 1, 0]


def test_plain_paths_and_missing_lists():
    assert parse_scope("spec.ports[*]").item_paths({"kind": "Service", "spec": {"ports": [1, 2]}}) == [
        ("spec", "ports", 0), ("spec", "ports", 1)]
    assert parse_scope("rules[*]").item_paths({"kind": "Role"}) == []


def test_default_and_custom_variable_names():
    assert parse_scope("@containers").variables[0] == "container"
    assert parse_scope("rules[*]").variables == ("item",)
    assert parse_scope("rules[*]", "rule").variables == ("rule",)
    assert {"podSpec", "podMeta"} <= set(parse_scope("@podSpec.volumes[*]", "volume").variables)


@pytest.mark.parametrize("pattern", ["@pods", "spec..x", "spec.ports[0]", "a-b[*]"])
def test_bad_patterns(pattern):
    with pytest.raises(ScopeError):
        parse_scope(pattern)
