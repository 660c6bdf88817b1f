"""Exclusions: resources left out of the scan by namespace, label selector, path, kind, name or address."""

from __future__ import annotations

import textwrap
from pathlib import Path

from validator.filters.exclusions import Exclusion, apply
from validator.filters.resource_match import ResourceMatch
from validator.model import Location
from validator.sources.kubernetes import parse_manifests

MANIFESTS = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata: {name: coredns, namespace: kube-system}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop, labels: {tier: frontend}}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop, labels: {tier: backend}}
    """)


def resources(display: str = "deploy/pods.yaml"):
    return list(parse_manifests(MANIFESTS, display))


def names(kept):
    return [r.name for r in kept]


def rule(reason: str = "", **match) -> Exclusion:
    return Exclusion(ResourceMatch(**match), Location(".tdv.yaml", 4, 5), reason)


def test_no_exclusions_keeps_everything():
    kept, excluded = apply(resources(), [], Path("."))
    assert names(kept) == ["coredns", "web", "api"] and excluded == 0


def test_by_namespace():
    kept, excluded = apply(resources(), [rule(namespaces=("kube-*",))], Path("."))
    assert names(kept) == ["web", "api"] and excluded == 1


def test_by_label_selector():
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]}
    kept, _ = apply(resources(), [rule(label_selector=selector)], Path("."))
    assert names(kept) == ["coredns", "web"]


def test_fields_of_one_entry_must_all_match_and_any_entry_excludes():
    both = rule(namespaces=("shop",), names=("web",))
    kept, _ = apply(resources(), [both], Path("."))
    assert names(kept) == ["coredns", "api"]
    kept, excluded = apply(resources(), [both, rule(kinds=("Pod",), names=("coredns",))], Path("."))
    assert names(kept) == ["api"] and excluded == 2


def test_path_globs_are_relative_to_the_config_directory(tmp_path):
    root = tmp_path  # display paths are relative to it
    in_vendor = resources("repo/vendor/charts/pods.yaml")
    kept, _ = apply(in_vendor, [rule(paths=("vendor/**",), base=tmp_path / "repo")], root)
    assert kept == []
    kept, _ = apply(in_vendor, [rule(paths=("vendor/*.yaml",), base=tmp_path / "repo")], root)
    assert len(kept) == 3  # `*` does not cross directories
    kept, _ = apply(resources("repo/deploy/pods.yaml"), [rule(paths=("vendor",), base=tmp_path / "repo")], root)
    assert len(kept) == 3


def test_each_excluded_resource_is_named_in_verbose_output(caplog):
    caplog.set_level("DEBUG")
    apply(resources(), [rule("system components", namespaces=("kube-system",))], Path("."))
    assert ("deploy/pods.yaml:1: Pod/kube-system/coredns not evaluated: excluded by .tdv.yaml:4"
            " (namespace kube-system): system components") in caplog.text
    assert "Pod/shop/web" not in caplog.text
