"""The YAML editor changes only what an assignment needs, in the file's own style."""

from __future__ import annotations

import json

import pytest
import yaml

from validator.fix.plan import Assignment
from validator.fix.yaml_edit import Target, edit
from validator.model import Position

CONTAINER = ("spec", "containers", 0)


def set_(*path, value, if_absent=False):
    return Assignment("set", tuple(path), value, if_absent)


def append(*path, value):
    return Assignment("append", tuple(path), value)


def fixed(text, *assignments, start=Position(1, 1), json_file=False):
    new, outcomes = edit(text, [Target(start, list(assignments))], json_file)
    problems = [o.problem for o in outcomes if o.problem]
    assert not problems, problems
    return new


def refused(text, *assignments, start=Position(1, 1)):
    new, outcomes = edit(text, [Target(start, list(assignments))])
    assert new == text
    return [o.problem for o in outcomes]


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web   # the front end
spec:
  containers:
    - name: app
      image: "nginx:1.27"   # pinned
"""


def test_a_missing_field_is_added_with_its_parents_after_the_last_line_of_the_mapping():
    assert fixed(POD, set_(*CONTAINER, "securityContext", "allowPrivilegeEscalation", value=False)) == POD + (
        "      securityContext:\n"
        "        allowPrivilegeEscalation: false\n")


def test_an_existing_scalar_is_replaced_in_place_keeping_its_quotes_and_comment():
    assert fixed(POD, set_(*CONTAINER, "image", value="nginx:1.28")) == POD.replace('"nginx:1.27"', '"nginx:1.28"')
    single = POD.replace('"nginx:1.27"', "'nginx:1.27'")
    assert fixed(single, set_(*CONTAINER, "image", value="it's")) == single.replace("'nginx:1.27'", "'it''s'")


def test_a_value_already_there_changes_nothing():
    text = POD + "      imagePullPolicy: Always\n"
    assert fixed(text, set_(*CONTAINER, "imagePullPolicy", value="Always")) == text


def test_a_string_that_looks_like_a_boolean_is_not_the_boolean():
    text = POD + '      securityContext: {allowPrivilegeEscalation: "false"}\n'
    new = fixed(text, set_(*CONTAINER, "securityContext", "allowPrivilegeEscalation", value=False))
    assert new == text.replace('"false"', "false")


def test_if_absent_keeps_an_existing_value():
    new = fixed(POD, set_("metadata", "name", value="other", if_absent=True),
                set_("metadata", "labels", "app.kubernetes.io/name", value="web", if_absent=True))
    assert "name: web   # the front end" in new
    assert new.endswith("  labels:\n    app.kubernetes.io/name: web\n" + POD[POD.index("spec:"):])


def test_flow_mappings_and_lists_stay_flow_with_their_spacing():
    text = POD + "      securityContext: { runAsNonRoot: true, capabilities: { drop: [NET_RAW] } }\n"
    new = fixed(text, append(*CONTAINER, "securityContext", "capabilities", "drop", value="ALL"),
                set_(*CONTAINER, "securityContext", "seccompProfile", "type", value="RuntimeDefault"))
    assert new == POD + ("      securityContext: { runAsNonRoot: true, capabilities: { drop: [NET_RAW, ALL] },"
                         " seccompProfile: {type: RuntimeDefault} }\n")


def test_empty_flow_collections_are_filled():
    text = POD + "      securityContext: {}\n      args: []\n"
    new = fixed(text, set_(*CONTAINER, "securityContext", "runAsNonRoot", value=True),
                append(*CONTAINER, "args", value="--quiet"))
    assert new == POD + '      securityContext: {runAsNonRoot: true}\n      args: ["--quiet"]\n'


def test_append_to_a_block_list_uses_its_dash_column_and_skips_a_present_item():
    text = POD + "      securityContext:\n        capabilities:\n          drop:\n          - NET_RAW\n"
    new = fixed(text, append(*CONTAINER, "securityContext", "capabilities", "drop", value="ALL"))
    assert new == text + "          - ALL\n"
    assert fixed(new, append(*CONTAINER, "securityContext", "capabilities", "drop", value="ALL")) == new


@pytest.mark.parametrize("written", ["securityContext:", "securityContext: null", "securityContext: ~"])
def test_a_null_value_is_filled(written):
    text = POD + f"      {written}\n      stdin: true\n"
    new = fixed(text, set_(*CONTAINER, "securityContext", "runAsNonRoot", value=True))
    assert new == POD + "      securityContext:\n        runAsNonRoot: true\n      stdin: true\n"


def test_a_null_scalar_gets_a_scalar():
    text = POD + "      imagePullPolicy: null   # decide later\n"
    assert fixed(text, set_(*CONTAINER, "imagePullPolicy", value="Always")) == text.replace("null", "Always")


@pytest.mark.parametrize("sequence,mapping,expected", [
    (0, 2, "      securityContext:\n        capabilities:\n          drop:\n          - ALL\n"),
    (2, 2, "      securityContext:\n        capabilities:\n          drop:\n            - ALL\n"),
    (0, 4, "      securityContext:\n          capabilities:\n              drop:\n              - ALL\n"),
])
def test_new_collections_follow_the_files_indentation(sequence, mapping, expected):
    pad = " " * mapping
    text = (f"apiVersion: v1\nkind: Pod\nmetadata:\n{pad}name: web\nspec:\n{pad}containers:\n"
            f"{' ' * (mapping + sequence)}- name: app\n{' ' * (mapping + sequence + 2)}image: nginx\n")
    path = ("spec", "containers", 0, "securityContext", "capabilities", "drop")
    new = fixed(text, append(*path, value="ALL"))
    indent = mapping + sequence + 2
    lines = [line[6:] for line in expected.splitlines()]  # the expected block, re-indented for this file
    assert new == text + "".join(" " * indent + line + "\n" for line in lines)
    assert yaml.safe_load(new)["spec"]["containers"][0]["securityContext"] == {"capabilities": {"drop": ["ALL"]}}


def test_the_insertion_goes_before_comments_that_belong_to_what_follows():
    text = POD + "      # the sidecar\n    - name: sidecar\n      image: envoy\n"
    new = fixed(text, set_(*CONTAINER, "stdin", value=True))
    assert new == POD + "      stdin: true\n      # the sidecar\n    - name: sidecar\n      image: envoy\n"


def test_a_block_scalar_ending_the_mapping_keeps_its_lines():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  script: |\n    echo hi\n\n    echo there\n\n"
    new = fixed(text, set_("metadata", "labels", "team", value="shop"))
    assert new == text.replace("  name: c\n", "  name: c\n  labels:\n    team: shop\n")
    assert fixed(text, set_("data", "other", value="x")) == text.replace("echo there\n", "echo there\n  other: x\n")


def test_multi_document_files_keep_separators_comments_and_other_documents():
    text = ("# header comment\n---\n" + POD + "...\n---\n# second\napiVersion: v1\nkind: Pod\n"
            "metadata:\n  name: two\nspec:\n  containers:\n  - name: b\n    image: busybox\n")
    new, outcomes = edit(text, [Target(Position(3, 1), [set_(*CONTAINER, "stdin", value=True)]),
                                Target(Position(14, 1), [set_(*CONTAINER, "stdin", value=True)])])
    assert all(o.changed for o in outcomes)
    assert new == text.replace('   # pinned\n', '   # pinned\n      stdin: true\n') + "    stdin: true\n"


def test_a_second_edit_of_a_document_sees_the_first():
    assert fixed(POD, set_(*CONTAINER, "securityContext", "runAsNonRoot", value=True),
                 set_(*CONTAINER, "securityContext", "readOnlyRootFilesystem", value=True)) == POD + (
        "      securityContext:\n"
        "        runAsNonRoot: true\n"
        "        readOnlyRootFilesystem: true\n")


def test_a_document_after_a_directive_is_edited_like_any_other():
    text = "%YAML 1.1\n---\n" + POD
    assert fixed(text, set_(*CONTAINER, "stdin", value=True), start=Position(3, 1)) == text + "      stdin: true\n"


def test_an_item_of_a_list_object_is_found_by_its_position():
    text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: a\n"
    new = fixed(text, set_("automountServiceAccountToken", value=False), start=Position(4, 3))
    assert new == text + "  automountServiceAccountToken: false\n"


def test_crlf_line_breaks_and_a_missing_final_line_break_are_kept():
    text = POD.replace("\n", "\r\n").rstrip("\r\n")
    new = fixed(text, set_(*CONTAINER, "stdin", value=True))
    assert new == text + "\r\n      stdin: true"


def test_json_manifests_stay_json():
    document = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                "spec": {"containers": [{"name": "app", "image": "nginx", "securityContext": {}}]}}
    text = json.dumps(document, indent=2) + "\n"
    new = fixed(text, set_(*CONTAINER, "securityContext", "capabilities", "drop", value=["ALL"]),
                set_(*CONTAINER, "imagePullPolicy", value="Always"), json_file=True)
    document["spec"]["containers"][0].update(securityContext={"capabilities": {"drop": ["ALL"]}},
                                             imagePullPolicy="Always")
    assert json.loads(new) == document
    assert new.count("\n") == text.count("\n") + 1  # one new line for the new entry, written as the others


@pytest.mark.parametrize("value,written", [
    ("100m", "100m"), ("128Mi", "128Mi"), ("true", '"true"'), ("yes", '"yes"'), ("1e3", '"1e3"'),
    ("0755", '"0755"'), ("", '""'), ("a: b", '"a: b"'), ("#x", '"#x"'), ("app.kubernetes.io/name", "app.kubernetes.io/name"),
])
def test_new_strings_are_quoted_only_when_yaml_would_read_them_otherwise(value, written):
    new = fixed(POD, set_("metadata", "annotations", "note", value=value))
    assert f"note: {written}\n" in new
    assert yaml.safe_load(new)["metadata"]["annotations"]["note"] == value


def test_fields_shared_through_aliases_or_merge_keys_are_refused():
    anchored = POD.replace("  containers:\n", "  containers: &c\n")
    aliased = anchored + "  initContainers: *c\n"
    assert refused(aliased, set_(*CONTAINER, "stdin", value=True)) == [
        "spec.containers is shared through a YAML alias; fix it by hand"]
    assert fixed(anchored, set_(*CONTAINER, "stdin", value=True)) == anchored + "      stdin: true\n"
    merged = POD.replace('      image: "nginx:1.27"   # pinned\n', "      <<: {image: nginx}\n")
    assert "merge key" in refused(merged, set_(*CONTAINER, "stdin", value=True))[0]


def test_refusals_name_the_field_and_leave_the_text_alone():
    text = POD + "      securityContext: true\n"
    assert refused(text, set_(*CONTAINER, "securityContext", "runAsNonRoot", value=True)) == [
        "spec.containers[0].securityContext is not a mapping"]
    assert "is not a list" in refused(text, append(*CONTAINER, "image", value="x"))[0]
    assert "holds a mapping" in refused(POD, set_("metadata", value="x"))[0]
    assert "not where the scan found it" in refused(POD, set_("kind", value="x"), start=Position(3, 1))[0]


def test_input_nested_too_deeply_is_refused_without_a_crash():
    deep = POD + "      args: " + "[" * 3000 + "]" * 3000 + "\n"
    assert "nested too deeply" in refused(deep, set_(*CONTAINER, "stdin", value=True))[0]
