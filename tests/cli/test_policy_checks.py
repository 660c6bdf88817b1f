"""`tdv policies validate` and `tdv policies docs`."""

from validator.docs import catalogue_markdown
from validator.engine.library import builtin_dir, load_policies

from tests.helpers import tdv

PRIVILEGED = (builtin_dir() / "kubernetes" / "pod-security" / "TDV-K8S-001-privileged-container.yaml").read_text()


def policies(*args):
    return tdv("policies", *args)


def test_the_builtin_library_is_valid():
    result = policies("validate")
    assert result.exit_code == 0
    assert result.output == f"{len(load_policies([]))} valid, 0 invalid\n"


def test_every_bad_file_is_reported_with_line_and_column(tmp_path):
    (tmp_path / "ok.yaml").write_text(PRIVILEGED)
    (tmp_path / "unknown-key.yaml").write_text(PRIVILEGED.replace("id: TDV-K8S-001", "id: ACME-001\nowner: me"))
    (tmp_path / "wrong-type.yaml").write_text(PRIVILEGED.replace("id: TDV-K8S-001", "id: ACME-002").replace(
        '  kinds: ["@pod-bearing"]', "  kinds: Pod"))
    (tmp_path / "bad-cel.yaml").write_text(PRIVILEGED.replace("id: TDV-K8S-001", "id: ACME-003").replace(
        "orValue(false) == true)", "orValue(false) == true) && podSpec.size() > 0 && nope").replace(
        "'container ' + container.name", "'container ' + containr.name"))
    (tmp_path / "not-yaml.yaml").write_text("id: [unclosed\n")
    result = policies("validate", str(tmp_path))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any(line.startswith(f"{tmp_path / 'unknown-key.yaml'}:2: unknown key 'owner'") for line in lines)
    assert f"{tmp_path / 'wrong-type.yaml'}:29: 'kinds' must be a list" in lines
    assert any(line.startswith(f"{tmp_path / 'not-yaml.yaml'}:") for line in lines)
    cel = [line for line in lines if "bad-cel.yaml" in line]
    assert cel == [
        f"{tmp_path / 'bad-cel.yaml'}:32: ACME-003: validations[0].expression: CEL compile error at column 91:"
        " undeclared reference to 'nope'",
        f"{tmp_path / 'bad-cel.yaml'}:32: ACME-003: validations[0].messageExpression: CEL compile error at column 24:"
        " undeclared reference to 'containr.name'",
    ]
    pointer = lines[lines.index(cel[0]) + 2]
    assert pointer == "    " + " " * 90 + "^"
    assert lines[-1] == "1 valid, 4 invalid"


def test_docs_writes_the_catalogue(tmp_path):
    target = tmp_path / "docs" / "policies.md"
    result = policies("docs", "--output", str(target))
    assert result.exit_code == 0 and result.output == ""
    assert target.read_text() == catalogue_markdown(load_policies([]))
    assert policies("docs").output == target.read_text()


def test_docs_include_extra_policy_directories(tmp_path):
    (tmp_path / "acme.yaml").write_text(PRIVILEGED.replace("id: TDV-K8S-001", "id: ACME-001"))
    text = policies("docs", "--policies", str(tmp_path)).output
    assert '| [ACME-001](#acme-001) | Containers must not run privileged | critical |' in text
    assert '<a id="acme-001"></a>\n\n## ACME-001: Containers must not run privileged' in text
