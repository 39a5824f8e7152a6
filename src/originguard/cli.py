"""The `originguard` command: a thin typer app. Only this module exits the process.

Exit codes: 0 ok, 1 findings or a failed probe, 2 usage or config error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from originguard.errors import ConfigErrors, OriginguardError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
secret_app = typer.Typer(no_args_is_help=True, help="Create and rotate the secret origin header value.")
app.add_typer(secret_app, name="secret")

ConfigOption = Annotated[Path, typer.Option("-c", "--config", help="the YAML config file")]


def fail(error: OriginguardError, code: int = 2) -> NoReturn:
    """Print an error as lines (never a traceback) and exit."""
    lines = [str(e) for e in error.errors] if isinstance(error, ConfigErrors) else [str(error)]
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code)


@app.command()
def check(config: ConfigOption) -> None:
    """Validate a config file and print every error with file, key path and fix."""
    from originguard.config import load_config

    try:
        load_config(config)
    except OriginguardError as exc:
        fail(exc)
    typer.echo(f"{config}: config is valid")


@secret_app.command("new")
def secret_new(
    path: Annotated[Path, typer.Argument(help="file to write (mode 0600)")],
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a strong random secret value to a file."""
    from originguard.secrets import generate_secret_value, write_secret_file

    if path.exists() and not force:
        typer.echo(
            f"error: {path} exists; pass --force to replace it (use 'secret rotate' for a live stack)",
            err=True,
        )
        raise typer.Exit(2)
    write_secret_file(path, [generate_secret_value()])
    typer.echo(f"wrote a new secret to {path} (mode 0600)")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
