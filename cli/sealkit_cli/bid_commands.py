"""``sealkit bid``: encrypt bid files to certificates at upload, open them with the UKey at bid opening."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from sealkit_cli.common import emit, get_config, json_option, prompt_secret

from sealkit import timefmt
from sealkit.envelope import (
    CONTENT_CIPHERS,
    PROFILES,
    EnvelopeInfo,
    decrypt_file,
    encrypt_file,
    inspect,
    load_certificates,
)
from sealkit.errors import InvalidInput
from sealkit.ukey import CallbackPinSource, open_key

quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
#: Files smaller than this get no progress bar.
PROGRESS_MIN = 32 << 20


@click.group()
def bid() -> None:
    """Encrypt and open bid files (CMS / GM/T 0010 digital envelopes)."""


@contextmanager
def _progress(
    label: str, size: int, quiet: bool, as_json: bool
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for big files on a terminal; nothing otherwise."""
    if quiet or as_json or size < PROGRESS_MIN or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=size, label=label, file=sys.stderr) as bar:
        state = {"shown": 0}

        def update(done: int, total: int) -> None:
            if bar.length != total:
                bar.length = total
            bar.update(done - state["shown"])
            state["shown"] = done

        yield update


def _open_key(keyref: str) -> Any:
    return open_key(keyref, config=get_config(), pin_source=CallbackPinSource(prompt_secret))


def _certificates(paths: tuple[str, ...]) -> list[Any]:
    return [cert for path in paths for cert in load_certificates(path)]


@bid.command()
@click.argument("input_path", metavar="IN", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The envelope to write.")
@click.option("--to", "to", multiple=True, required=True, metavar="CERT.pem", help="A recipient certificate.")
@click.option(
    "--sign", "sign_keyref", metavar="KEYREF", help="Sign the bid first with this key (UKey or file)."
)
@click.option("--sign-cert", type=click.Path(exists=True, dir_okay=False), help="The signer's certificate.")
@click.option(
    "--cipher", type=click.Choice(CONTENT_CIPHERS), help="Content cipher (aes-256-gcm; SM2: sm4-cbc)."
)
@click.option("--ski", is_flag=True, help="Identify recipients by subjectKeyIdentifier (CFCA style).")
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="standard",
    show_default=True,
    help="SM2 envelopes: gmssl = versions 1 and key encryption 1.2.156.10197.1.301.2, as GmSSL 3 reads.",
)
@click.option(
    "--rsa-padding",
    type=click.Choice(("oaep", "pkcs1v15")),
    default="oaep",
    show_default=True,
    help="RSA key transport: OAEP with SHA-256, or PKCS#1 v1.5 for UKeys without OAEP.",
)
@click.option("--allow-unsigned", is_flag=True, help="Allow CBC content without a signature (no integrity).")
@json_option
@quiet_option
def encrypt(
    input_path: str,
    output: str,
    to: tuple[str, ...],
    sign_keyref: str | None,
    sign_cert: str | None,
    cipher: str | None,
    ski: bool,
    profile: str,
    rsa_padding: str,
    allow_unsigned: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Encrypt IN to every --to certificate (and sign it with --sign)."""
    recipients = _certificates(to)
    signer_cert = load_certificates(sign_cert)[0] if sign_cert else None
    if signer_cert is not None and not sign_keyref:
        raise InvalidInput("--sign-cert needs --sign KEYREF")
    signer = _open_key(sign_keyref) if sign_keyref else None
    try:
        with _progress("encrypting", _size(input_path), quiet, as_json) as progress:
            info = encrypt_file(
                input_path,
                output,
                recipients,
                signer=signer,
                signer_cert=signer_cert,
                content_cipher=cipher,
                progress=progress,
                allow_unsigned=allow_unsigned,
                recipient_id="ski" if ski else "issuer-serial",
                rsa_padding=rsa_padding,
                profile=profile,
            )
    finally:
        if signer is not None:
            signer.close()
    emit(info.to_dict(), as_json, lambda: _describe(info, f"wrote {output}"))


@bid.command()
@click.argument("input_path", metavar="IN", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="The plaintext to write."
)
@click.option(
    "--key", "keyref", required=True, metavar="KEYREF", help="The decryption key (pkcs11:… or file:…)."
)
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="CA the signer must chain to (then a signature is required unless --allow-unsigned).",
)
@click.option(
    "--signer",
    "signer_certs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    metavar="CERT",
    help="The bid must be signed with this certificate (repeatable: any of them).",
)
@click.option("--require-signed", is_flag=True, help="Refuse a bid that is not signed.")
@click.option(
    "--not-before", "not_before", metavar="TIME", help="Bid opening time (ISO 8601; local if no zone)."
)
@click.option("--force", is_flag=True, help="Open before --not-before.")
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Open an unsigned bid although --trust is given, or unsigned CBC (no integrity check).",
)
@json_option
@quiet_option
def decrypt(
    input_path: str,
    output: str,
    keyref: str,
    trust: tuple[str, ...],
    signer_certs: tuple[str, ...],
    require_signed: bool,
    not_before: str | None,
    force: bool,
    allow_unsigned: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Open the envelope IN with --key; the plaintext appears only if every check passes."""
    opening = _parse_time(not_before) if not_before else None
    anchors = _certificates(trust)
    expected = _certificates(signer_certs)
    key = _open_key(keyref)
    with key, _progress("decrypting", _size(input_path), quiet, as_json) as progress:
        result = decrypt_file(
            input_path,
            output,
            key,
            trust=anchors,
            signers=expected,
            require_signed=require_signed,
            not_before=opening,
            force=force,
            progress=progress,
            allow_unsigned=allow_unsigned,
        )

    def human() -> None:
        click.echo(f"wrote {output} ({result.size} bytes, {result.content_cipher})")
        click.echo(f"  opened as recipient {result.recipient.identifier}")
        signer = result.signer
        if signer:
            checks = [
                "chain trusted" if signer.trusted else "chain not checked (no --trust)",
                *(["the expected signer (--signer)"] if signer.pinned else []),
            ]
            when = timefmt.format_time(signer.signing_time) if signer.signing_time else "an unstated time"
            click.echo(f"  signed by {signer.subject} at {when} ({', '.join(checks)})")
        else:
            allowed = " (--allow-unsigned)" if result.unsigned_allowed else ""
            click.echo(f"  NOT SIGNED{allowed}: nothing shows who made this bid")

    emit(result.to_dict(), as_json, human)


@bid.command()
@click.argument("input_path", metavar="IN", type=click.Path(exists=True, dir_okay=False))
@json_option
def info(input_path: str, as_json: bool) -> None:
    """Show an envelope's recipients, algorithms and sizes (nothing is decrypted)."""
    details = inspect(input_path)
    emit(details.to_dict(), as_json, lambda: _describe(details, input_path))


def _describe(info: EnvelopeInfo, title: str) -> None:
    click.echo(title)
    click.echo(f"  format:     {info.format}")
    click.echo(f"  content:    {info.content_cipher} ({info.content_cipher_oid}), {info.content_type}")
    click.echo(f"  size:       {info.file_size} bytes ({info.encrypted_size} encrypted)")
    click.echo(f"  profile:    {info.profile}")
    for recipient in info.recipients:
        click.echo(f"  recipient:  {recipient.identifier} [{recipient.key_algorithm}]")
    if info.signer:
        click.echo(f"  signed by:  {info.signer.subject}")


def _parse_time(text: str) -> dt.datetime:
    get_config()  # the [time] zone of the configuration
    return timefmt.parse_time(text, what="--not-before")


def _size(path: str) -> int:
    return os.path.getsize(path)
