"""What every sealkit command shares: ``--json`` output, the configuration, and PIN prompts."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from sealkit import Config, load_config
from sealkit.errors import PinRequired

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON object for scripts.")
seal_maker_trust_option = click.option(
    "--seal-maker-trust",
    "seal_maker_trust",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Trust anchor for seal makers and revocation lists (never for signers), PEM/DER; repeatable. "
    "Added to [trust] seal_makers of the config.",
)


def get_config(ctx: click.Context | None = None) -> Config:
    """The configuration in effect (``--config``, ``SEALKIT_CONFIG``, ./sealkit.toml, ~/.config/…)."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if "config" not in obj:
        obj["config"] = load_config(obj.get("config_path"))
        root.obj = obj
    config = obj["config"]
    assert isinstance(config, Config)
    return config


def emit(data: dict[str, Any], as_json: bool, human: str | Callable[[], None]) -> None:
    """Print ``data`` as JSON for scripts, or the human text."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif callable(human):
        human()
    else:
        click.echo(human)


def prompt_secret(prompt: str) -> str:
    """Ask for a PIN or password on the terminal; refuse when there is no terminal.

    Secrets never come from argv: the environment (``SEALKIT_PIN``), a ``pin-source`` file or this prompt.
    """
    if not sys.stdin.isatty() or os.environ.get("CI"):
        raise PinRequired(f"{prompt} needed: set SEALKIT_PIN, use pin-source=file:…, or run on a terminal")
    value = click.prompt(prompt, hide_input=True, err=True)
    return str(value)


PDF_PASSWORD_ENV = "SEALKIT_PDF_PASSWORD"  # noqa: S105 - the variable's name, not a password

pdf_password_option = click.option(
    "--password",
    "ask_password",
    is_flag=True,
    help="Ask for the PDF password (a flag: the password itself is never an argument; "
    f"{PDF_PASSWORD_ENV} also works).",
)


def pdf_password(ask: bool) -> str | None:
    """The PDF password: ``SEALKIT_PDF_PASSWORD``, else a prompt when ``--password`` asked for one."""
    value = os.environ.get(PDF_PASSWORD_ENV)
    if value:
        return value
    return prompt_secret("PDF password") if ask else None
