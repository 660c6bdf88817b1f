"""`tdv test`: run the test cases written inside policy files."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Iterable

import click

from validator.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from validator.reporters.escape import printable
from validator.reporters.plural import counted


@click.command("test")
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path), metavar="[DIR...]")
@click.option("--policy", "include", multiple=True, metavar="GLOB",
              help="Test only policies whose id matches. Repeatable.")
@click.option("-v", "--verbose", is_flag=True, help="Show passing cases too.")
def test(dirs, include, verbose) -> int:
    """Run the test cases written in policy files.

    Runs every `tests:` case of the policies in DIR (files or directories), or of the built-in
    library when no DIR is given; in DIR also gator Suite files, the fixtures of Weave
    Policies and Rego unit tests (`test_*` rules, as conftest verify and opa test run them).

    Exit codes: 0 every case passed, 1 a case failed, 2 an invalid policy file or a usage error.
    """
    from validator.engine.cel import CelEvaluator
    from validator.engine.library import load_each, select
    from validator.engine.policy import Policy
    from validator.policy_check import problems_of
    from validator.policy_tests import (
        CaseOutcome,
        FileCaseOutcome,
        origin,
        run_file_tests,
        run_policy_tests,
        suite_files,
        tested_by_files,
    )

    fixtures = suite_files(dirs)  # a Suite's templates, constraints and objects: run by the suite
    entries = [entry for entry in load_each(dirs, include_builtin=not dirs) if origin(entry) not in fixtures]
    evaluator = CelEvaluator()
    invalid = []
    policies: list[Policy] = []
    for entry in entries:
        if isinstance(entry, Policy) and not select([entry], include, off_by_default=False):
            continue
        problems = problems_of(entry, evaluator)
        if problems:
            invalid.append(problems[0])
        elif isinstance(entry, Policy):
            policies.append(entry)
    file_cases = list(run_file_tests(dirs, policies))
    if not policies and not invalid and not file_cases:
        raise click.UsageError("no policies to test" + (" (check --policy)" if include else ""))
    for problem in invalid:
        click.echo(printable(f"tdv: invalid policy: {problem}"), err=True)
    passed = failed = 0
    sources = set()  # of the cases outside policy files
    outcomes: Iterable[CaseOutcome | FileCaseOutcome] = itertools.chain(run_policy_tests(policies), file_cases)
    for outcome in outcomes:
        sources.add(outcome.source)
        if outcome.passed:
            passed += 1
            if verbose:
                click.echo(printable(f"PASS {outcome.label}"))
        else:
            failed += 1
            detail = printable(f"{outcome.detail}  ({outcome.source})")
            click.echo(printable(f"FAIL {outcome.label}") + "\n     " + detail)
    untested = [p.id for p in policies if not p.tests and not tested_by_files(p, sources)]
    click.echo(_summary(len(policies), passed, failed, len(invalid), untested))
    return EXIT_ERROR if invalid else EXIT_FINDINGS if failed else EXIT_OK


def _summary(policies: int, passed: int, failed: int, invalid: int, untested: list[str]) -> str:
    text = f"{counted(policies, 'policy')}, {counted(passed + failed, 'case')}: {passed} passed, {failed} failed"
    if invalid:
        text += f", {counted(invalid, 'invalid policy')}"
    if untested:
        text += f" ({len(untested)} without test cases: {', '.join(untested)})"
    return printable(text)
