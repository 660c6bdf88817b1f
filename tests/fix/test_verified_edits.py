"""Every edit is checked before it is written: byte order marks, YAML aliases, the re-read
of the fixed text, and `terraform fmt` on fixed `.tf` files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from validator.engine.library import load_policies
from validator.fix import verify
from validator.fix.plan import Assignment
from validator.model import Position

from tests import builders
from tests.builders import manifest, pod
from tests.helpers import fix_paths, scan_paths, tdv

POD = manifest(pod(containers=[builders.container(image_pull_policy="IfNotPresent")]))

ALIASED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: a
          image: nginx:1.27
          securityContext: &sc
            runAsUser: 1000
        - name: b
          image: nginx:1.27
          securityContext: *sc
"""


def cli_fix(*arguments):
    return tdv("fix", "--no-config", "--no-color", *arguments)


@pytest.mark.parametrize("marks", [1, 2])  # three: the scan itself refuses the file
def test_byte_order_marks_are_kept_and_edits_land_exactly(workdir, monkeypatch, marks):
    monkeypatch.chdir(workdir)
    (workdir / "pod.yaml").write_bytes(b"\xef\xbb\xbf" * marks + POD.encode())
    result = cli_fix("pod.yaml")
    assert result.exit_code == 1, result.output
    data = (workdir / "pod.yaml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" * marks) and not data.startswith(b"\xef\xbb\xbf" * (marks + 1))
    text = data.decode("utf-8").lstrip("\ufeff")
    assert "imagePullPolicy: Always\n" in text
    fixed = yaml.safe_load(text)
    assert fixed["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    assert cli_fix("pod.yaml").exit_code == 0  # nothing left to change


def test_a_mapping_that_ends_with_an_alias_gets_its_new_fields_after_it(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    (workdir / "deploy.yaml").write_text(ALIASED, encoding="utf-8")
    result = cli_fix("deploy.yaml")
    assert result.exit_code == 1, result.output
    fixed = yaml.safe_load((workdir / "deploy.yaml").read_text(encoding="utf-8"))
    spec = fixed["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"]:
        assert container["imagePullPolicy"] == "Always"
        assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
        # Both containers use the anchor and need the same fields: the anchor is fixed once.
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["runAsUser"] == 1000
    text = (workdir / "deploy.yaml").read_text(encoding="utf-8")
    assert text.count("allowPrivilegeEscalation") == 1 and "securityContext: *sc\n" in text
    assert cli_fix("deploy.yaml").exit_code == 0


def test_an_anchor_some_users_of_which_need_no_fix_is_refused(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    shared = ALIASED.replace("    spec:\n      containers:", "    spec:\n      securityContext: *sc\n      containers:")
    shared = shared.replace("      securityContext: *sc\n      containers:\n        - name: a\n"
                            "          image: nginx:1.27\n          securityContext: &sc\n            runAsUser: 1000\n",
                            "      securityContext: &sc\n        runAsUser: 1000\n      containers:\n        - name: a\n"
                            "          image: nginx:1.27\n          securityContext: *sc\n")
    assert yaml.safe_load(shared)["spec"]["template"]["spec"]["securityContext"] == {"runAsUser": 1000}
    (workdir / "deploy.yaml").write_text(shared, encoding="utf-8")
    result = cli_fix("--policy", "TDV-K8S-002", "deploy.yaml")
    assert "shared through a YAML alias" in result.stderr
    assert (workdir / "deploy.yaml").read_text(encoding="utf-8") == shared


def test_a_fixed_text_that_reads_back_wrong_is_not_written(workdir, monkeypatch):
    """The editors are trusted no further than the re-read: an edit that changes another
    field leaves the file as it is, and its findings are listed as needing a human."""
    from validator.fix import yaml_edit

    real = yaml_edit.edit

    def sloppy(text, targets, json_file=False, shared=False):
        fixed, outcomes = real(text, targets, json_file, shared)
        return fixed.replace("nginx:1.27", "nginx:1.28"), outcomes

    monkeypatch.setattr(yaml_edit, "edit", sloppy)
    (workdir / "pod.yaml").write_text(POD, encoding="utf-8")
    changes = fix_paths([workdir / "pod.yaml"], workdir, ["TDV-K8S-002"])
    assert not any(change.changed for change in changes)
    assert [change.done for change in changes] == [[]]
    assert any("needs a human: the fixed file would change more than the fixed fields" in problem
               for change in changes for problem in change.problems)
    assert (workdir / "pod.yaml").read_text(encoding="utf-8") == POD


def test_check_file_compares_the_read_trees():
    assignment = Assignment("set", ("spec", "containers", 0, "imagePullPolicy"), "Always")
    fixed = POD.replace("IfNotPresent", "Always")
    assert verify.check_file("yaml", POD, fixed, [(Position(1, 1), assignment)]) is None
    assert verify.check_file("yaml", POD, fixed, []) is not None  # a change no fix owns
    assert verify.check_file("yaml", POD, fixed + "  - {\n", [(Position(1, 1), assignment)]) is not None
    assert "more than" in verify.check_file("yaml", POD, fixed.replace("web", "web2"), [(Position(1, 1), assignment)])
    tf = 'resource "aws_kms_key" "k" {\n  description = "x"\n}\n'
    key = Assignment("set", ("enable_key_rotation",), True)
    done = tf.replace('"x"\n', '"x"\n  enable_key_rotation = true\n')
    assert verify.check_file("tf", tf, done, [(("aws_kms_key", "k"), key)]) is None
    assert verify.check_file("tf", tf, done.replace('"x"', '"y"'), [(("aws_kms_key", "k"), key)]) is not None
    assert verify.check_file("tf", tf, done + "resource {", [(("aws_kms_key", "k"), key)]) is not None


def _tf_fixtures(directory: Path) -> list[Path]:
    written = []
    for policy in load_policies([]):
        for number, case in enumerate(policy.tests):
            if case.expect == "fail" and case.tf is not None:
                folder = directory / f"{policy.id}-{number}"
                folder.mkdir()
                (folder / "main.tf").write_text(case.tf, encoding="utf-8")
                written.append(folder / "main.tf")
    return written


def _unformatted(directory: Path) -> set[Path]:
    """The `.tf` files under `directory` that `terraform fmt -check` lists (one run for all)."""
    run = subprocess.run(["terraform", "fmt", "-check", "-recursive", "-list=true", "-no-color", str(directory)],
                         capture_output=True, text=True)
    return {(directory / line.strip()).resolve() if not Path(line.strip()).is_absolute() else Path(line.strip())
            for line in run.stdout.splitlines() if line.strip()}


@pytest.mark.integration  # runs terraform fmt
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_fixed_tf_fixtures_pass_terraform_fmt(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    paths = _tf_fixtures(workdir)
    formatted = sorted(set(p.resolve() for p in paths) - _unformatted(workdir))  # fixtures fmt accepts already
    assert len(formatted) > 20
    before = {path: path.read_text(encoding="utf-8") for path in formatted}
    changes = fix_paths(formatted, workdir)
    assert sum(len(change.done) for change in changes if change.display.endswith(".tf")) > 20
    assert sorted(p.relative_to(workdir.resolve()).as_posix() for p in _unformatted(workdir) & set(formatted)) == []
    assert sum(path.read_text(encoding="utf-8") != before[path] for path in formatted) > 15
    assert not scan_paths(formatted, root=workdir).errors


def test_only_the_changed_documents_and_blocks_are_read_again_and_still_checked():
    two = POD + "---\n" + POD.replace("name: web", "name: api")
    second = Position(two.count("\n", 0, two.index("---")) + 2, 1)
    assignment = Assignment("set", ("spec", "containers", 0, "imagePullPolicy"), "Always")
    fixed_second = two[:two.index("---")] + two[two.index("---"):].replace("IfNotPresent", "Always")
    fixed_first = two.replace("IfNotPresent", "Always", 1)
    assert verify.check_file("yaml", two, fixed_second, [(second, assignment)]) is None
    assert verify.check_file("yaml", two, fixed_first, [(second, assignment)]) is not None
    assert verify.check_file("yaml", two, fixed_second.replace("name: web", "name: www"),
                             [(second, assignment)]) is not None
    tf = ('variable "on" {\n  default = true\n}\n\nresource "aws_kms_key" "a" {\n  description = "x"\n}\n\n'
          'resource "aws_db_instance" "b" {\n  publicly_accessible = var.on\n}\n')
    public = Assignment("set", ("publicly_accessible",), False)
    done = tf.replace("publicly_accessible = var.on", "publicly_accessible = false")
    assert verify.check_file("tf", tf, done, [(("aws_db_instance", "b"), public)]) is None
    assert verify.check_file("tf", tf, done.replace('"x"', '"y"'), [(("aws_db_instance", "b"), public)]) is not None
    assert verify.check_file("tf", tf, tf, [(("aws_db_instance", "b"), public)]) is not None  # the fix is missing
