"""The export forms of forEach scopes (`holds`, `collect`) agree with the engine's `wrap`."""

import pytest

from validator.engine.cel import CelEvaluator, _flatten
from validator.engine.scopes import parse_scope
from validator.vap.export import api_server_env

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {
        "securityContext": {"runAsNonRoot": True},
        "initContainers": [{"name": "init", "env": [{"name": "A", "value": "1"}]}],
        "containers": [{"name": "a", "env": [{"name": "B", "value": "x"}, {"name": "C"}]}, {"name": "b"}],
    }}},
}
CRONJOB = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "job"}, "spec": {"jobTemplate": {"spec": {
    "template": {"spec": {"containers": [{"name": "main", "securityContext": {"runAsNonRoot": False}}]}}}}}}

CASES = [
    ("@containers", None, "container.name != 'b'", "'container ' + container.name"),
    ("@containers", None, "container.?securityContext.?runAsNonRoot.orValue(podSpec.?securityContext.?runAsNonRoot"
                          ".orValue(false))", "container.name + ' may run as root'"),
    ("@containers.env[*]", "variable", "variable.?value.hasValue()", "'env ' + variable.name"),
    ("@podSpec", None, "podMeta.?labels.?app.orValue('') == 'web'", "'unlabelled'"),
    ("@podSpec", "spec", "spec.containers.size() < 2", "'too many containers'"),
    ("spec.template.metadata", "meta", "'app' in meta.labels", "'no app label'"),
    ("rules[*]", "rule", "false", "'never'"),
]


def run(expression, document):
    env = CelEvaluator().env()
    return env.compile(expression).eval(env.Activation({"object": document})).plain_value()


@pytest.mark.parametrize("document", [DEPLOYMENT, CRONJOB], ids=["deployment", "cronjob"])
@pytest.mark.parametrize("pattern,variable,body,message", CASES)
def test_holds_and_collect_agree_with_wrap(pattern, variable, body, message, document):
    scope = parse_scope(pattern, variable)
    verdicts = _flatten(run(scope.wrap(f"({body})"), document))
    for form in (scope.holds(f"({body})"), scope.collect(f"(({body}) ? '' : ({message}))")):
        assert "cel.bind" not in form
        api_server_env().compile(form)
    assert run(scope.holds(f"({body})"), document) == all(verdicts)
    messages = _flatten(run(scope.wrap(f"(({body}) ? '' : ({message}))"), document))
    assert run(scope.collect(f"(({body}) ? '' : ({message}))"), document) == "; ".join(m for m in messages if m)


def test_collect_names_every_failing_item():
    scope = parse_scope("@containers")
    text = run(scope.collect("(container.name == 'a' ? '' : 'container ' + container.name)"), DEPLOYMENT)
    assert text == "container b; container init"
