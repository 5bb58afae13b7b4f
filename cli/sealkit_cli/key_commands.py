"""``sealkit keys``: the software key store (generate, list, request and import a certificate)."""

from __future__ import annotations

from typing import Any

import click
from sealkit_cli.common import emit, get_config, json_option, prompt_secret
from sealkit_cli.requests import subject_options, write_request

from sealkit.ukey import CallbackPinSource, KeyInfo, keystore, pin_chain


def _info_dict(info: KeyInfo) -> dict[str, object]:
    return {
        "name": info.label,
        "uri": info.uri,
        "kind": str(info.kind) if info.kind else None,
        "has_certificate": info.has_certificate,
        **info.extra,
    }


@click.group()
def keys() -> None:
    """Software keys in $SEALKIT_HOME/keys (reference them as keystore:NAME)."""


@keys.command()
@click.argument("name")
@click.option(
    "--type", "type_name", type=click.Choice(["sm2", "rsa2048", "p256"]), default="sm2", show_default=True
)
@json_option
def generate(name: str, type_name: str, as_json: bool) -> None:
    """Generate key NAME, encrypted with a password (SEALKIT_PIN or a prompt)."""
    config = get_config()
    pins = pin_chain(None, CallbackPinSource(prompt_secret), config.env)
    info = keystore(config).generate(name, type_name, pins)
    emit(_info_dict(info), as_json, f"generated {info.kind} key {info.uri}")


@keys.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the keys in the key store."""
    infos = keystore(get_config()).list()

    def human() -> None:
        if not infos:
            click.echo("no keys in the key store")
        for info in infos:
            cert = info.extra.get("subject") or "no certificate"
            click.echo(f"{info.uri}\t{info.kind}\t{cert}")

    emit({"keys": [_info_dict(i) for i in infos]}, as_json, human)


@keys.command("import-cert")
@click.argument("name")
@click.argument("cert", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--chain", type=click.Path(exists=True, dir_okay=False), help="Intermediate certificates (PEM)."
)
@json_option
def import_cert(name: str, cert: str, chain: str | None, as_json: bool) -> None:
    """Attach CERT (and its chain) to key NAME; the certificate must match the key."""
    config = get_config()
    pins = pin_chain(None, CallbackPinSource(prompt_secret), config.env)
    info = keystore(config).import_cert(name, cert, pins, chain)
    emit(_info_dict(info), as_json, f"certificate {info.extra.get('subject')} attached to {info.uri}")


@keys.command()
@click.argument("name")
@subject_options
@json_option
def csr(name: str, as_json: bool, **options: Any) -> None:
    """Make a certificate request (PKCS#10) for key NAME, to send to a CA.

    Import the CA's answer with 'sealkit keys import-cert NAME cert.pem'.
    """
    config = get_config()
    pins = pin_chain(None, CallbackPinSource(prompt_secret), config.env)
    with keystore(config).open(name, pins) as key:
        write_request(key, options, as_json)
