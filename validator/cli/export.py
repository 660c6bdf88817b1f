"""`tdv export`: policies in other tools' formats (a Kubernetes ValidatingAdmissionPolicy)."""

from __future__ import annotations

from pathlib import Path

import click

from validator.cli.options import config_options, load_config_option, selection_options, write_text
from validator.errors import UserError
from validator.reporters.plural import counted

_ACTIONS = {"deny": "Deny", "warn": "Warn", "audit": "Audit"}


@click.group()
def export() -> None:
    """Export policies for enforcement elsewhere."""


@export.command("vap")
@selection_options("Export only policies whose id matches.", "Skip policies whose id matches.",
                   "Also export policies from DIR.")
@click.option("--action", "actions", multiple=True, type=click.Choice(list(_ACTIONS.values()), case_sensitive=False),
              help="validationActions of the bindings (default: Warn and Audit, which reject nothing). Repeatable, "
                   "e.g. --action Deny --action Audit to enforce.")
@click.option("--min-severity", type=click.Choice(["critical", "high", "medium", "low", "info"], case_sensitive=False),
              default=None, help="Export only policies at or above this severity (default: the config's, else low).")
@click.option("--failure-policy", type=click.Choice(["Ignore", "Fail"], case_sensitive=False), default="Ignore",
              show_default=True, help="What the API server does when a policy cannot be evaluated.")
@click.option("--exclude-namespace", "exclude_namespaces", multiple=True, metavar="NS",
              help="Namespaces the bindings leave alone (default: kube-system, kube-public, kube-node-lease). "
                   "Repeatable; replaces the default.")
@click.option("--include-system-namespaces", is_flag=True,
              help="Bind in every namespace, the system namespaces included.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Write to FILE instead of standard output.")
@config_options("Read the policy selection, policy directories and parameters from FILE (default: .tdv.yaml,"
                " found as `tdv scan` finds it).")
def export_vap(include, exclude, policy_dirs, actions, min_severity, failure_policy, exclude_namespaces,
               include_system_namespaces, output, config_file, no_config) -> None:
    """Write a ValidatingAdmissionPolicy and its binding for every Kubernetes policy the API
    server can enforce (Kubernetes 1.30 or later), with the policies and parameter values a
    scan in this directory uses. Policies that cannot be exported are listed on standard
    error with the reason.

    Only Kubernetes policies are considered. The defaults are safe for a first rollout: the
    bindings warn and audit (add `--action Deny` to enforce), a policy that cannot be
    evaluated lets the request through, the system namespaces are left alone, and info-level
    policies are left out.

    Exit codes: 0 manifests written, 2 usage error, invalid policy, or no selected policy can be
    exported.
    """
    from validator import __version__
    from validator.engine.library import select
    from validator.model import Severity
    from validator.pipeline.library import build_engine, load_library
    from validator.vap.export import (
        DEFAULT_ACTIONS,
        SYSTEM_NAMESPACES,
        Binding,
        export_policies,
        is_kubernetes_policy,
        render,
    )

    chosen = list(dict.fromkeys(_ACTIONS[a.lower()] for a in actions)) or list(DEFAULT_ACTIONS)
    if {"Deny", "Warn"} <= set(chosen):
        raise click.UsageError("--action Deny and Warn cannot be combined (Deny already reports to the client)")
    if include_system_namespaces and exclude_namespaces:
        raise click.UsageError("--exclude-namespace and --include-system-namespaces exclude each other")
    config = load_config_option(config_file, no_config)
    selection = config.selection
    floor = Severity.parse(min_severity) if min_severity else selection.min_severity or Severity.LOW
    kubernetes = [p for p in load_library(config, policy_dirs) if is_kubernetes_policy(p)]
    policies = select(kubernetes, include or selection.include, (*selection.exclude, *exclude),
                      categories=selection.categories, min_severity=floor, standards=selection.standards)
    if not policies:
        where = f" and the policies section of {config.display}" if config.path else ""
        raise click.UsageError(f"no policies selected (check --policy and --skip-policy{where})")
    build_engine(policies, config)  # an invalid policy is an error, as in a scan
    excluded = () if include_system_namespaces else tuple(exclude_namespaces) or SYSTEM_NAMESPACES
    binding = Binding(chosen, {"ignore": "Ignore", "fail": "Fail"}[failure_policy.lower()], excluded)
    result = export_policies(policies, binding, config.overrides())
    for policy, reason in result.skipped:
        click.echo(f"tdv: not exported: {policy.id}: {reason}", err=True)
    if not result.documents:
        raise UserError("no selected policy can be exported as a ValidatingAdmissionPolicy")
    count = len(result.documents) // 2
    header = (f"# {count} ValidatingAdmissionPolicies with their bindings, exported by tdv {__version__}"
              f" (validationActions: {', '.join(chosen)}; failurePolicy: {binding.failure_policy};"
              f" namespaces left alone: {', '.join(excluded) or 'none'}).\n# Requires Kubernetes 1.30 or later.\n")
    text = render(result.documents, header)
    write_text(text, output)
    if output is not None:
        click.echo(f"tdv: wrote {counted(count, 'policy')} to {output}", err=True)
