"""The ``sealkit`` command: a thin click front end over sealkit's public API.

Subcommands live in their own modules and are imported only when invoked, so ``sealkit --help`` and
``sealkit verify`` do not pay for what they do not use. Every error sealkit raises becomes one line on
stderr (and a JSON object on stdout with ``--json``) and the exit code of its class; a traceback is shown
only with ``SEALKIT_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import sys
from typing import Any

import click

from sealkit import SealkitError, __version__, defer_signing_imports
from sealkit.exit_codes import INTERNAL, INTERRUPTED, exit_code_for

# name -> (module, attribute, short help). The short help is here so that --help imports nothing.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("sealkit_cli.demo", "demo", "Run the whole contract flow on software keys."),
    "prepare": ("sealkit_cli.sign_commands", "prepare", "Create every party's signature field."),
    "sign": ("sealkit_cli.sign_commands", "sign", "Sign a contract PDF (or OFD) with a visible seal."),
    "verify": ("sealkit_cli.verify_commands", "verify", "Verify every signature of a PDF or OFD."),
    "file": ("sealkit_cli.verify_commands", "file_", "Verify a contract, then write its filing record."),
    "ltv-update": ("sealkit_cli.ltv_commands", "ltv_update", "Refresh a contract's archive timestamp."),
    "seal": ("sealkit_cli.seal_commands", "seal", "Electronic seals: issue, extend, revoke, merge."),
    "bid": ("sealkit_cli.bid_commands", "bid", "Encrypt and open bid files (digital envelopes)."),
    "token": ("sealkit_cli.token_commands", "token", "UKeys over PKCS#11: list, keys, keygen, selftest."),
    "keys": ("sealkit_cli.key_commands", "keys", "Software keys: generate, certificate requests, import."),
    "dev": ("sealkit_cli.dev_commands", "dev", "TEST PKI, TEST CA and local TSA for trying sealkit."),
    "batch": ("sealkit_cli.batch_commands", "batch", "Sign or verify the documents of a manifest."),
    "serve": ("sealkit_cli.serve_commands", "serve", "Serve the signing and bid API over HTTP."),
}

#: Commands that only verify: pyHanko's signing stack (and aiohttp) is imported on first use, not up front.
VERIFY_ONLY = frozenset({"verify", "file"})

EXIT_INTERNAL = INTERNAL
EXIT_INTERRUPTED = INTERRUPTED


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, _ = entry
        if cmd_name in VERIFY_ONLY:
            defer_signing_imports()  # before the command imports pyHanko: verifying skips its signing stack
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _unavailable(cmd_name, entry[2])
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        raise SealkitError(f"'sealkit {name}' is not available in this build")

    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="sealkit")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="SEALKIT_CONFIG",
    help="Configuration file (default: ./sealkit.toml, then ~/.config/sealkit/config.toml).",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log what sealkit and its libraries do, and error causes."
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """sealkit: sign, seal and encrypt procurement documents (SM2/SM3/SM4, PAdES, GB/T 38540).

    Errors are one line on stderr with a documented exit code (docs/errors.md); --verbose adds logs and
    causes; SEALKIT_DEBUG=1 shows the traceback of an internal error.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    _logging(verbose)


_VERBOSE = False


def _logging(verbose: bool) -> None:
    """Logs go to stderr with --verbose; otherwise nothing (warnings that matter are printed by commands)."""
    global _VERBOSE
    _VERBOSE = verbose
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_sealkit", False):
            root.removeHandler(old)
    handler: logging.Handler = logging.NullHandler()
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("sealkit: %(levelname)s %(name)s: %(message)s"))
        root.setLevel(logging.DEBUG if os.environ.get("SEALKIT_DEBUG") else logging.INFO)
    setattr(handler, "_sealkit", True)  # noqa: B010 - marks the handler this CLI added
    root.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the exit code."""
    args = sys.argv[1:] if argv is None else argv
    code = run(args)
    if argv is None:
        sys.exit(code)
    return code


def run(args: list[str]) -> int:
    """Run the CLI with ``args`` and return the exit code, turning every error into one line."""
    wants_json = "--json" in args
    _route_library_logs()
    try:
        cli.main(args=args, prog_name="sealkit", standalone_mode=False)
        return 0
    except SealkitError as exc:
        if _VERBOSE and exc.__cause__ is not None:
            cause = " ".join(str(exc.__cause__).split())
            click.echo(f"sealkit: cause: {type(exc.__cause__).__name__}: {cause}", err=True)
        return _fail(
            exc.message, exit_code_for(exc), type(exc).__name__, wants_json and not exc.report_printed
        )
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        return _fail(_usage_line(exc), exc.exit_code, "UsageError", wants_json)
    except click.Abort:
        click.echo("sealkit: aborted", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("sealkit: interrupted", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, never a traceback
        if os.environ.get("SEALKIT_DEBUG"):
            raise
        text = " ".join(str(exc).split())
        message = f"internal error: {type(exc).__name__}: {text} (SEALKIT_DEBUG=1 shows the traceback)"
        return _fail(message, EXIT_INTERNAL, "InternalError", wants_json)


def _route_library_logs() -> None:
    """pyHanko, pypdf and others log every oddity of a hostile file; their lines never reach stderr unless
    asked for (SEALKIT_DEBUG=1): the report says what matters."""
    root = logging.getLogger()
    if os.environ.get("SEALKIT_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    elif not root.handlers:
        root.addHandler(logging.NullHandler())


_PATH_PROBLEMS = (
    (
        re.compile(r"^(?:File|Path) '(.+)' is a directory\.$"),
        "{path} is a directory: give a file for {param}",
    ),
    (re.compile(r"^Directory '(.+)' is a file\.$"), "{path} is a file: give a directory for {param}"),
    (
        re.compile(r"^(?:File|Path|Directory) '(.+)' does not exist\.$"),
        "{path} does not exist: check {param}",
    ),
)


def _usage_line(exc: click.ClickException) -> str:
    """A click usage error in sealkit's one-line style: what was wrong, and where the help is."""
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click.BadParameter):
        param = exc.param.get_error_hint(exc.ctx) if exc.param is not None and exc.ctx is not None else "it"
        for pattern, template in _PATH_PROBLEMS:
            match = pattern.match(" ".join(exc.message.split()))
            if match:
                message = template.format(path=match.group(1), param=param.replace('"', "").replace("'", ""))
                break
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "sealkit"
    return f"{message} (see '{command} --help')"


def _fail(message: str, code: int, kind: str, wants_json: bool) -> int:
    if wants_json:
        _json_error(message, code, kind)
    click.echo(f"sealkit: {message}", err=True)
    return code


def _json_error(message: str, code: int, kind: str) -> None:
    payload: dict[str, Any] = {"error": {"type": kind, "message": message, "exit_code": code}}
    click.echo(json.dumps(payload, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
