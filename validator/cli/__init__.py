"""The `tdv` command line. Subcommands live one per module and are imported on demand,
so `tdv --version` starts without loading the engine.

Exit codes are decided here, in one place, for every command: a command returns its exit
code (0, or 1 for findings or failed checks); a UserError (validator.errors) it raises is
printed as one line, `Error: <message>`, and exits with the error's code (2), as click's
usage errors do; an unexpected exception (a bug) exits 2 as well, never 1 (see `run`).
"""

from __future__ import annotations

import importlib

import click

from validator import __version__
from validator.errors import EXIT_ERROR, EXIT_OK, UserError

EXIT_INTERRUPTED = 130  # as a shell reports a program stopped by Ctrl-C

SUBCOMMANDS = {
    "scan": "validator.cli.scan:scan",
    "policies": "validator.cli.policies:policies",
    "test": "validator.cli.test:test",
    "export": "validator.cli.export:export",
    "config": "validator.cli.config:config",
    "fix": "validator.cli.fix:fix",
    "merge": "validator.cli.merge:merge",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx: click.Context):
        try:
            code = super().invoke(ctx)
        except UserError as error:
            from validator.reporters.escape import printable

            click.echo(f"Error: {printable(str(error))}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("tdv: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        ctx.exit(code or EXIT_OK)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="tdv")
def main() -> None:
    """Trusted Delivery Validator: policy checks for Kubernetes manifests and Terraform."""


def run() -> None:
    """The `tdv` program: one batch of work, then exit.

    The cycle collector stays off: what a scan loads lives until the end, so collections
    would only walk it again (a fifth of a second on a big scan), and reference counting
    frees everything else. And the program ends without tearing down the objects a scan
    leaves alive: freeing them one by one would take another tenth of a second, for nothing.
    """
    import gc
    import logging
    import os
    import sys

    gc.disable()
    code: int | str | None
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    except Exception:  # a bug: say so, and never exit 1, which means findings
        import traceback

        traceback.print_exc()
        print("tdv: internal error (a bug in tdv; please report it with the trace above)", file=sys.stderr)
        code = EXIT_ERROR
    if isinstance(code, str):  # sys.exit("message")
        print(code, file=sys.stderr)
        code = EXIT_ERROR
    elif code is None:  # sys.exit(None)
        code = 0
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be written anyway
            code = code or EXIT_ERROR
    os._exit(code)
