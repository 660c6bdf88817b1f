"""The CEL evaluator: verdicts, blame, messages, parameters and error results."""

import pytest

from validator.engine import Engine
from validator.engine.cel import to_cel_literal
from validator.engine.policy import PolicyError
from validator.model import Resource, Status

from tests.engine.common import ODD_WORKLOADS, policy


def pod(**spec):
    document = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": spec}
    return Resource("Pod", "v1", "p", "ns", document, "pod.yaml")


def run(p, resource, overrides=None):
    [result] = Engine.build([p], overrides).run([resource])
    return result


def test_whole_object_validation_blames_the_field():
    p = policy("""\
        - expression: "object.spec.?replicas.orValue(0) <= params.limit"
          field: spec.replicas
          message: too many
        """)
    assert run(p, pod(replicas=1)).status is Status.PASS
    result = run(p, pod(replicas=3))
    assert result.status is Status.FAIL
    assert [(v.field_path, v.message) for v in result.violations] == [(("spec", "replicas"), "too many")]


def test_parameters_can_be_overridden():
    p = policy("""\
        - expression: "object.spec.?replicas.orValue(0) <= params.limit"
          message: too many
        """)
    assert run(p, pod(replicas=3), {"TDV-TEST-001": {"limit": 5}}).status is Status.PASS


def test_foreach_blames_each_failing_item_with_its_message():
    p = policy("""\
        - forEach: "@containers"
          expression: "container.name != 'bad'"
          field: name
          message: bad container
          messageExpression: "'container ' + container.name + ' is bad'"
        """)
    result = run(p, pod(containers=[{"name": "ok"}, {"name": "bad"}], initContainers=[{"name": "bad"}]))
    assert [(v.field_path, v.message) for v in result.violations] == [
        (("spec", "containers", 1, "name"), "container bad is bad"),
        (("spec", "initContainers", 0, "name"), "container bad is bad"),
    ]


def test_message_expression_error_falls_back_to_message():
    p = policy("""\
        - forEach: "@containers"
          expression: "false"
          message: static
          messageExpression: "container.missing"
        """)
    assert run(p, pod(containers=[{"name": "a"}])).violations[0].message == "static"


def test_evaluation_error_is_an_error_result_not_a_pass():
    p = policy("""\
        - expression: "object.spec.missing == 1"
          message: never
        """)
    result = run(p, pod())
    assert result.status is Status.ERROR
    assert "missing" in result.error


def test_non_boolean_result_is_an_error():
    p = policy("""\
        - expression: "1"
          message: never
        """)
    assert run(p, pod()).status is Status.ERROR


def test_malformed_foreach_items_give_an_error_not_a_crash():
    p = policy("""\
        - forEach: "@containers"
          expression: "container.name != ''"
          message: m
        """)
    assert run(p, pod(containers="oops")).status is Status.ERROR


def test_compile_error_names_file_line_and_column():
    with pytest.raises(PolicyError) as raised:
        Engine.build([policy("""\
            - expression: "object.spec. == 1"
              message: m
            """)])
    error = raised.value
    assert error.path == "test.yaml" and error.line == 12
    assert "CEL compile error at column 14: " in error.message and "\n" not in error.message


def test_targets_filter_namespaces_and_labels():
    p = policy("""\
        - expression: "false"
          message: m
        """, targets="targets: {kinds: [Pod], namespaces: {exclude: [ns]}}")
    assert Engine.build([p]).run([pod()]) == []


@pytest.mark.parametrize("value,literal", [
    (None, "null"), (True, "true"), (3, "3"), (1.5, "1.5"), ("a\"b", '"a\\"b"'),
    ([1, "x"], '[1, "x"]'), ({"k": [True]}, '{"k": [true]}'),
])
def test_cel_literals(value, literal):
    assert to_cel_literal(value) == literal


def test_cel_bind_after_an_early_exit_comprehension_binds_the_right_value():
    # The embedded runtime's own cel.bind would see a leftover loop value here; the engine
    # rewrites cel.bind into a one-item comprehension, which binds correctly.
    p = policy("""\
        - expression: "!(object.spec.ports.exists(p, p == 22) && cel.bind(limit, 5, limit == 5))"
          message: bound wrongly or port 22
        """)
    assert run(p, pod(ports=[22, 80])).status is Status.FAIL
    assert run(p, pod(ports=[80, 22])).status is Status.FAIL
    assert run(p, pod(ports=[80])).status is Status.PASS


# No built-in policy reads podMeta; this one reads it and podSpec in both shortcut scopes.
POD_META_POLICY = policy("""\
    - forEach: "@containers"
      expression: "podMeta.?annotations.?team.orValue('') == 'core' || podSpec.?hostNetwork.orValue(false) != true"
      message: "only the core team's pods use the host network"
      messageExpression: "container.?name.orValue('?') + ' of ' + string(podMeta.?labels.?app.orValue('?'))"
    - forEach: "@podSpec"
      expression: "!has(podMeta.labels) || podSpec.?priorityClassName.hasValue()"
      message: "labelled pods need a priority class"
    """, targets="targets: {kinds: [Deployment, Pod, CronJob]}")


@pytest.mark.parametrize("kind", ["Deployment", "Pod", "CronJob"])
@pytest.mark.parametrize("shape", ODD_WORKLOADS)
def test_pod_variables_given_or_found_give_the_same_verdicts(shape, kind, monkeypatch):
    """The engine hands the pod spec and containers to CEL when it can compute them as CEL
    would find them; every built-in pod policy (and one reading podMeta) must give the same
    results either way."""
    import validator.engine.cel as cel_module
    from validator.engine.library import load_policies

    pod_policies = [p for p in load_policies([]) if kind in p.targets.kinds] + [POD_META_POLICY]
    document = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "d"}, **shape}

    def outcomes():  # with an inventory, so that cross-resource policies run too
        from validator import inventory

        resource = Resource(kind, "apps/v1", "d", None, document, "d.yaml")
        return [(r.policy.id, r.status, r.error, [(v.field_path, v.message) for v in r.violations])
                for r in Engine.build(pod_policies).run([resource], inventory.build_from([resource]))]

    given = outcomes()
    monkeypatch.setattr(cel_module, "pod_values", lambda document: None)
    assert outcomes() == given
    assert len(given) == len(pod_policies)
