"""Options and helpers shared by subcommands (as pre-commit's `_add_*_options`): each
option is declared once, with one help text, whatever command offers it."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable

import click

from validator.errors import UserError
from validator.model import Severity
from validator.sources.partition import Part

SEVERITIES = [s.label for s in Severity]


class SeverityType(click.ParamType):
    name = "severity"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return Severity.parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


class ShardType(click.ParamType):
    """I/N: the I-th of N parts of a scan's inputs."""

    name = "shard"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Part:
        if isinstance(value, Part):
            return value
        try:
            return Part.parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


def _stack(*decorators: Callable) -> Callable:
    """One decorator applying `decorators` in the order listed (as they read, top down)."""
    def apply(function: Callable) -> Callable:
        return functools.reduce(lambda f, decorator: decorator(f), reversed(decorators), function)
    return apply


def config_options(check: str = "Read settings from FILE (default: .tdv.yaml in the working directory or the"
                                    " nearest parent, up to the repository root).") -> Callable:
    """-c/--config FILE and --no-config."""
    return _stack(
        click.option("-c", "--config", "config_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     metavar="FILE", help=check),
        click.option("--no-config", is_flag=True, help="Ignore any .tdv.yaml."),
    )


def load_config_option(config_file: Path | None, no_config: bool):
    """The config the options name (see pipeline.read_config)."""
    from validator.pipeline import read_config

    if config_file and no_config:
        raise click.UsageError("--config and --no-config exclude each other")
    return read_config(config_file, no_config)


def selection_options(include: str, exclude: str = "Skip policies whose id matches (added to policies.exclude).",
                      dirs: str = "Load more policies from DIR (same format as the built-in ones; added to"
                                  " policies.dirs).") -> Callable:
    """--policy GLOB, --skip-policy GLOB and --policies DIR, each repeatable, with the help
    texts of the command."""
    return _stack(
        click.option("--policy", "include", multiple=True, metavar="GLOB", help=f"{include} Repeatable."),
        click.option("--skip-policy", "exclude", multiple=True, metavar="GLOB", help=f"{exclude} Repeatable."),
        click.option("--policies", "policy_dirs", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
                     help=f"{dirs} Repeatable."),
    )


def load_library_or_fail(policy_dirs):
    """The library with the policies of `policy_dirs`; an invalid policy is a user error."""
    from validator.engine.library import load_policies
    from validator.engine.policy import PolicyError

    try:
        return load_policies(policy_dirs)
    except PolicyError as error:
        raise UserError(f"invalid policy: {error}") from None


def write_text(text: str, output: Path | None, color: bool = False) -> None:
    """Write a command's output to a file (creating its folder), or to stdout when None."""
    if output is None:
        click.echo(text, nl=False, color=color)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write {output}: {error.strerror or error}") from None


def write_chunks(chunks: Iterable[str], output: Path | None, color: bool = False) -> None:
    """Write a command's output as its pieces come: to stdout when `output` is None, else to
    a temporary file beside `output` (creating the folder) that replaces it once complete,
    so that a failure leaves no half-written file (the temporary file is removed). What is
    not a regular file (/dev/null, a pipe, a folder) is written to, or fails, directly."""
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False, color=color)
        return
    target = Path(os.path.realpath(output))  # a symbolic link stays, pointing at the new file
    try:
        if target.exists() and not target.is_file():
            with open(target, "w", encoding="utf-8") as stream:
                stream.writelines(chunks)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace(target, chunks)
    except OSError as error:
        raise UserError(f"cannot write {output}: {error.strerror or error}") from None


def _replace(target: Path, chunks: Iterable[str]) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.writelines(chunks)
        os.chmod(temporary, _file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _file_mode(path: Path) -> int:
    """The permissions of the file `path` names, or those a new file gets (mkstemp's file
    is private)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
