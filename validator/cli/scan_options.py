"""The options of `tdv scan`, declared apart from the command so that it reads as what it
does: parse, call the pipeline, print."""

from __future__ import annotations

from pathlib import Path

import click

from validator.cli.options import SeverityType, ShardType, _stack, config_options, selection_options
from validator.cli.output import OUTPUT_HELP, OutputType

scan_options = _stack(
    click.argument("paths", nargs=-1, required=True, metavar="PATH..."),
    click.option("-o", "--output", "outputs", multiple=True, type=OutputType(), metavar="FORMAT[=FILE]",
                 help=OUTPUT_HELP),
    click.option("--fail-on", type=SeverityType(), default=None,
                 help="Exit 1 when a finding is at or above this severity (default: the config file's, else low)."),
    click.option("--min-severity", type=SeverityType(), default=None,
                 help="Report only findings at or above this severity (replaces policies.min-severity of the"
                      " config file)."),
    click.option("--soft-fail", is_flag=True, help="Exit 0 even with findings (input errors still exit 2)."),
    click.option("--allow-empty", is_flag=True,
                 help="Accept inputs with nothing to scan (empty stdin, directories without manifests, plans or"
                      " .tf files); without it they are an input error."),
    selection_options("Run"),
    click.option("--conftest-namespace", "conftest_namespaces", multiple=True, metavar="PACKAGE",
                 help="Read conftest .rego rules from this package (default: main). Repeatable. See docs/rego.md."),
    click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Report file paths relative to this directory (default: the working directory)."),
    click.option("--tf-root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
                 metavar="DIR", help="Terraform root module of the plans scanned (default: each plan's directory),"
                                     " to point findings at .tf lines."),
    click.option("--helm-values", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
                 metavar="FILE", help="Values file for the Helm charts rendered (later files win). Repeatable."),
    click.option("--helm-set", multiple=True, metavar="KEY=VALUE",
                 help="Set a value of the Helm charts rendered, as `helm --set` does (after --helm-values)."
                      " Repeatable."),
    click.option("--helm-release", default="release-name", show_default=True, metavar="NAME",
                 help="Release name the Helm charts are rendered with."),
    click.option("--helm-namespace", default="default", show_default=True, metavar="NS",
                 help="Namespace the Helm charts are rendered for."),
    click.option("--kube-version", default=None, metavar="VERSION",
                 help="Kubernetes version the Helm charts see in .Capabilities (e.g. 1.30.0)."),
    click.option("--chart-root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
                 metavar="DIR", help="Chart that pre-rendered input (with `# Source:` comments) came from, to point"
                                     " findings at its templates."),
    click.option("--no-render", is_flag=True,
                 help="Scan Helm charts and Kustomize overlays as the YAML they hold, without rendering them."),
    click.option("--max-file-size", type=click.IntRange(min=1), default=16, show_default=True, metavar="MIB",
                 help="Skip (and report) files larger than this."),
    click.option("--shard", type=ShardType(), default=None, metavar="I/N",
                 help="Scan only the I-th of N parts of the inputs (for N CI executors), and combine the reports"
                      " with `tdv merge`. See docs/ci.md."),
    click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, metavar="N",
                 help="Read and evaluate YAML inputs of 2 MiB or more in up to N processes (default 0: one per"
                      " core the CPU quota allows, at most 8; 1: everything in this process)."),
    config_options(),
    click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                 help="Fail only on findings not recorded in FILE (replaces baseline of the config file)."),
    click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                 help="Record the current findings in FILE; they are then reported as baselined."),
    click.option("-q", "--quiet", is_flag=True, help="Show only failures and errors, no summary."),
    click.option("--color/--no-color", default=None, help="Colour console output (default: when a terminal)."),
    click.option("-v", "--verbose", is_flag=True,
                 help="Console: also list suppressed and baselined findings; log debug notes (e.g. skipped"
                      " documents, reports skipped as inputs, excluded resources) to stderr."),
)
