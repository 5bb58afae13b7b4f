"""``sealkit token``: UKeys over PKCS#11 — list, keys, keygen, csr, import-cert, selftest."""

from __future__ import annotations

from typing import Any

import click
from sealkit_cli.common import emit, get_config, json_option, prompt_secret
from sealkit_cli.requests import subject_options, write_request

from sealkit.ukey import (
    CallbackPinSource,
    generate_token_key,
    import_token_cert,
    list_token_keys,
    list_tokens,
    open_key,
    self_test,
)


def _pins() -> CallbackPinSource:
    return CallbackPinSource(prompt_secret)


@click.group()
def token() -> None:
    """UKeys over PKCS#11 (keys named by RFC 7512 pkcs11: URIs)."""


@token.command("list")
@click.option(
    "--module",
    "module_path",
    type=click.Path(dir_okay=False),
    envvar="SEALKIT_PKCS11_MODULE",
    required=True,
    help="PKCS#11 module (.so).",
)
@json_option
def list_(module_path: str, as_json: bool) -> None:
    """Slots, tokens, flags, SM2 profile and mechanisms of a module."""
    slots = list_tokens(module_path, get_config())

    def human() -> None:
        for slot in slots:
            tok = slot["token"]
            if tok is None:
                click.echo(f"slot {slot['slot_id']}: no token")
                continue
            click.echo(
                f"slot {slot['slot_id']}: {tok['label']!r} serial {tok['serial']}"
                f" ({tok['manufacturer']} {tok['model']})"
            )
            click.echo(f"  profile: {tok['profile'] or '-'}   flags: {', '.join(tok['flags'])}")
            click.echo(f"  mechanisms: {', '.join(tok['mechanisms'])}")

    emit({"module": module_path, "slots": slots}, as_json, human)


@token.command()
@click.argument("keyref")
@json_option
def keys(keyref: str, as_json: bool) -> None:
    """Private keys on the token KEYREF names (pkcs11:token=…?module-path=…)."""
    infos = list_token_keys(keyref, config=get_config(), pin_source=_pins())
    rows = [
        {
            "label": i.label,
            "id": i.key_id.hex(),
            "kind": str(i.kind) if i.kind else None,
            "has_certificate": i.has_certificate,
            "uri": i.uri,
        }
        for i in infos
    ]

    def human() -> None:
        for r in rows:
            click.echo(f"{r['uri']}\t{r['kind'] or '?'}\t{'cert' if r['has_certificate'] else 'no cert'}")

    emit({"keys": rows}, as_json, human)


@token.command()
@click.argument("keyref")
@click.option("--type", "type_name", type=click.Choice(["sm2", "rsa2048", "p256"]), required=True)
@json_option
def keygen(keyref: str, type_name: str, as_json: bool) -> None:
    """Generate a key pair on the token (label = object=…, id = id=… or random)."""
    info = generate_token_key(keyref, type_name, config=get_config(), pin_source=_pins())
    emit(
        {"label": info.label, "id": info.key_id.hex(), "kind": str(info.kind), "uri": info.uri, **info.extra},
        as_json,
        f"generated {info.kind} key {info.uri}",
    )
    if info.extra.get("warning"):
        click.echo(f"sealkit: warning: {info.extra['warning']}", err=True)


@token.command("import-cert")
@click.argument("keyref")
@click.argument("cert", type=click.Path(exists=True, dir_okay=False))
@json_option
def import_cert(keyref: str, cert: str, as_json: bool) -> None:
    """Store CERT on the token next to the key it certifies."""
    info = import_token_cert(keyref, cert, config=get_config(), pin_source=_pins())
    emit(
        {"label": info.label, "id": info.key_id.hex(), "uri": info.uri},
        as_json,
        f"certificate stored for {info.uri}",
    )


@token.command()
@click.argument("keyref")
@subject_options
@json_option
def csr(keyref: str, as_json: bool, **options: Any) -> None:
    """Make a certificate request (PKCS#10) for the key on the token KEYREF names.

    Import the CA's answer with 'sealkit token import-cert KEYREF cert.pem'.
    """
    with open_key(keyref, config=get_config(), pin_source=_pins()) as key:
        write_request(key, options, as_json)


@token.command()
@click.argument("keyref")
@json_option
def selftest(keyref: str, as_json: bool) -> None:
    """Sign a random message with KEYREF and verify it in software (checks the vendor profile)."""
    key = open_key(keyref, config=get_config(), pin_source=_pins())
    summary = self_test(key, force=True)
    profile = getattr(key, "profile", None)
    emit(
        {"ok": True, "kind": str(key.kind), "profile": profile.name if profile else None, "summary": summary},
        as_json,
        summary,
    )
