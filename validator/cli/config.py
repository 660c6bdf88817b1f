"""`tdv config`: write a starter `.tdv.yaml`, and check a config file without scanning."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def config() -> None:
    """Work with the config file, .tdv.yaml (see docs/configuration.md)."""


@config.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path), metavar="[FILE]")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def init(path: Path | None, force: bool) -> None:
    """Write a commented starter config to FILE (default: .tdv.yaml in the working directory)."""
    from validator.config import CONFIG_NAME, STARTER
    from validator.errors import SettingsError

    target = path or Path(CONFIG_NAME)
    try:
        with open(target, "w" if force else "x", encoding="utf-8") as handle:
            handle.write(STARTER.read_text(encoding="utf-8"))
    except FileExistsError:
        raise SettingsError(f"{target} already exists; use --force to overwrite it") from None
    except OSError as error:
        raise SettingsError(f"cannot write {target}: {error.strerror or error}") from None
    click.echo(f"wrote {target}: edit it, then run `tdv config check`")


@config.command()
@click.option("-c", "--config", "config_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="FILE", help="The file to check (default: the one `tdv scan` would use).")
def check(config_file: Path | None) -> None:
    """Check a config file against the policy library: keys, policy ids, parameter types,
    standards and dates. Exits 2 with the file and line of the first problem."""
    from validator.errors import SettingsError
    from validator.filters.suppressions import today_utc
    from validator.pipeline import read_config
    from validator.pipeline.library import build_engine, load_library
    from validator.reporters.plural import counted

    settings = read_config(config_file)
    if settings.path is None:
        raise SettingsError("no .tdv.yaml in the working directory or its parents (up to the repository root)")
    build_engine(load_library(settings), settings)  # the user's policies compile
    today = today_utc()
    for exemption in settings.exemptions:
        if exemption.expired(today):
            where = exemption.location
            click.echo(f"warning: {where.path}:{where.line}: exemption of {', '.join(exemption.policies)}"
                       f" (owner: {exemption.owner}) expired on {exemption.expires}", err=True)
    click.echo(f"{settings.display}: ok ({counted(len(settings.exclusions), 'exclusion')},"
               f" {counted(len(settings.exemptions), 'exemption')},"
               f" {counted(len(settings.parameters), 'parameter setting')})")
