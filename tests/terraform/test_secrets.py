"""A secret in a plan or a .tf file never appears in any report, whatever a policy does.

The project's plan carries `var.db_password` in clear in `after`, `planned_values`,
`variables` and `prior_state`, marked sensitive; the test policy's message tries to print it.
"""

from __future__ import annotations

import pytest

from validator.reporters import FORMATS
from validator.sources.terraform_values import SENSITIVE

from tests.terraform.common import AWS, DATA, PROJECT, SECRET, TEST_POLICIES, scan

TF_SECRET = "correct-horse-battery-staple"  # a sensitive variable's default in AWS/variables.tf


def test_the_plan_really_holds_the_secret():
    assert (PROJECT / "plan.json").read_text().count(SECRET) >= 3


@pytest.mark.parametrize("output", sorted(FORMATS))
def test_no_report_format_prints_a_sensitive_plan_value(output, tmp_path):
    destination = tmp_path / "report"
    code, printed = scan(str(PROJECT / "plan.json"), "--policies", str(TEST_POLICIES), "-v", "-o",
                         f"{output}={destination}", "-o", "console")
    assert code == 1
    written = destination.read_text(encoding="utf-8")
    for text in (written, printed):
        assert SECRET not in text
    assert f"password: {SENSITIVE}" in written  # the policy's message did try


@pytest.mark.parametrize("output", sorted(FORMATS))
def test_no_report_format_prints_a_sensitive_variable_of_tf_files(output):
    code, printed = scan(str(AWS), str(PROJECT / "main.tf"), str(PROJECT / "variables.tf"),
                         "--policies", str(TEST_POLICIES), "-o", output, root=DATA)
    assert code == 1
    assert SECRET not in printed and TF_SECRET not in printed
