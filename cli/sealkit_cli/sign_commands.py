"""``sealkit sign`` and ``sealkit prepare``: sign a contract with a visible seal; create every party's field.

pyHanko and the PDF code are imported inside the commands so that ``sealkit --help`` stays fast. The PDF
password never comes from argv: ``SEALKIT_PDF_PASSWORD`` or a prompt (``--password`` only asks for it).

Trusted time: ``--tsa URL`` adds a signature timestamp (PAdES B-T); ``--tsa`` without a value, or ``--ltv``
without ``--tsa``, uses the configured TSA (``SEALKIT_TSA``, ``[tsa] url``). A configured TSA alone never
makes a plain ``sealkit sign`` go online. ``--ltv`` also embeds validation data and a document timestamp
(B-LTA), for the chain to ``--trust`` anchors (default: ``[trust] anchors``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from sealkit_cli.common import (
    PDF_PASSWORD_ENV,
    emit,
    get_config,
    json_option,
    pdf_password,
    pdf_password_option,
    prompt_secret,
    seal_maker_trust_option,
)
from sealkit_cli.ofd_support import is_ofd_file

from sealkit.errors import InvalidInput, PdfPasswordRequired
from sealkit.flows import parse_numbers, parse_pages, trusted_time

_CONFIGURED = "\0configured"  # the value of a bare --tsa: use the configured TSA


def _with_password(action: Any, ask: bool) -> Any:
    """Run ``action(password)``; an encrypted PDF without a password gets a prompt on a terminal."""
    password = pdf_password(ask)
    try:
        return action(password)
    except PdfPasswordRequired:
        if password is not None or not sys.stdin.isatty() or os.environ.get("CI"):
            raise  # its message names SEALKIT_PDF_PASSWORD
        return action(prompt_secret("PDF password", PDF_PASSWORD_ENV))


@click.command(name="sign")
@click.argument("input_path", metavar="IN.pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file (default: IN.signed.pdf beside the input; never the input).",
)
@click.option("--key", "keyref", help="Key reference (file:…, keystore:…, pkcs11:…); default [sign] key.")
@click.option(
    "--cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Signer certificate (default: [sign] cert, else the key's stored certificate).",
)
@click.option(
    "--chain",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="Intermediate certificates (PEM, may repeat; default: [sign] chain).",
)
@click.option("--field", help="Prepared signature field to fill, or the name of the new field.")
@click.option(
    "--seal",
    "seal_id",
    help="Electronic seal from the registry (default: [sign] seal): its imprint, and its SESeal in the "
    "signature. Refused if revoked, disabled, expired or not held by the signer.",
)
@click.option("--registry", "registry_url", help="Seal registry URL (default: the configured one).")
@seal_maker_trust_option
@click.option("--seal-image", type=click.Path(dir_okay=False, path_type=Path), help="Seal imprint (PNG).")
@click.option("--seal-size", default="40,40", show_default=True, help="Seal size W,H in millimetres.")
@click.option("--seal-text", help="Text under the seal (e.g. signer and date), in the CJK font.")
@click.option("--page", type=int, help="Page (from 1; -1 is the last) for --rect, or to search --at-text on.")
@click.option("--rect", help="Box X,Y,W,H in mm from the page's lower-left (default: the seal's size).")
@click.option("--at-text", help="Centre the seal on this text (e.g. 供应商（乙方）（盖章）：).")
@click.option("--offset", default="0,0", show_default=True, help="Move the seal DX,DY mm from the text.")
@click.option("--occurrence", type=click.Choice(["first", "last", "all"]), default="first", show_default=True)
@click.option(
    "--cross-page",
    "cross_page",
    is_flag=False,
    flag_value="all",
    default=None,
    metavar="[PAGES]",
    help="Add a cross-page seal (骑缝章) on all pages, or on PAGES like 1,2,3.",
)
@click.option(
    "--cross-page-group",
    type=click.IntRange(min=2),
    metavar="N",
    help="Cut the cross-page seal's pages into groups of N, each with one whole imprint sliced N ways.",
)
@click.option("--invisible", is_flag=True, help="No seal on the page.")
@click.option("--reason")
@click.option("--location")
@click.option(
    "--certify", is_flag=True, help="Certification signature (DocMDP P=2: later signatures allowed)."
)
@click.option("--subfilter", type=click.Choice(["pades", "pkcs7"]), default="pades", show_default=True)
@click.option(
    "--tsa",
    "tsa_url",
    is_flag=False,
    flag_value=_CONFIGURED,
    default=None,
    metavar="[URL]",
    help="Add an RFC 3161 signature timestamp (B-T) from URL; without URL: SEALKIT_TSA or [tsa] url.",
)
@click.option(
    "--ltv",
    is_flag=True,
    help="Also embed certificates, OCSP and CRLs and a document timestamp (B-LTA); fetched online now.",
)
@click.option(
    "--trust",
    "trust_anchors",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Trust anchor for --ltv (PEM/DER); repeatable (default: [trust] anchors).",
)
@click.option("--final", is_flag=True, help="OFD: also protect the signature list; no signature can follow.")
@click.option(
    "--purpose",
    type=click.Choice(["contract", "bid", "filing"]),
    default="contract",
    show_default=True,
    help="What a registry seal is used for: its grant must cover it; recorded in the use register.",
)
@click.option("--actor", help="Who is signing, for the use register (default: the OS user).")
@pdf_password_option
@json_option
def sign(
    input_path: Path,
    output: Path | None,
    keyref: str | None,
    cert: Path | None,
    chain: tuple[Path, ...],
    field: str | None,
    seal_id: str | None,
    registry_url: str | None,
    seal_maker_trust: tuple[str, ...],
    seal_image: Path | None,
    seal_size: str,
    seal_text: str | None,
    page: int | None,
    rect: str | None,
    at_text: str | None,
    offset: str,
    occurrence: str,
    cross_page: str | None,
    cross_page_group: int | None,
    invisible: bool,
    reason: str | None,
    location: str | None,
    certify: bool,
    subfilter: str,
    tsa_url: str | None,
    ltv: bool,
    trust_anchors: tuple[str, ...],
    final: bool,
    purpose: str,
    actor: str | None,
    ask_password: bool,
    as_json: bool,
) -> None:
    """Sign IN.pdf with a visible seal (PAdES; SM2, RSA or ECDSA keys); timestamped with --tsa/--ltv.
    An OFD (chosen by content) gets a GB/T 38540 seal signature (SM2, --seal from the registry)."""
    from sealkit.flows import SealPlacement, sign_contract
    from sealkit.ukey import CallbackPinSource, open_key

    config = get_config()
    tsa = "" if tsa_url == _CONFIGURED else tsa_url
    # refuse a missing TSA or anchors before the key opens
    timestamper, _ = trusted_time(config, tsa, ltv, trust_anchors)
    where = SealPlacement(
        page=page,
        rect=parse_numbers(rect, 4, "--rect") if rect else None,  # type: ignore[arg-type]
        at_text=at_text,
        offset=parse_numbers(offset, 2, "--offset"),  # type: ignore[arg-type]
        occurrence=occurrence,  # type: ignore[arg-type]
        cross_page=parse_pages(cross_page, "--cross-page"),
        cross_page_group=cross_page_group,
    )
    if is_ofd_file(input_path) is not None:
        from sealkit_cli.ofd_support import sign_ofd_command

        refused = {"--field": field, "--seal-image": seal_image, "--seal-text": seal_text, "--ltv": ltv}
        refused |= {"--certify": certify, "--subfilter pkcs7": subfilter == "pkcs7"}
        placement = None if invisible else where.resolve(None, (40, 40))
        sign_ofd_command(
            config,
            input_path,
            output,
            keyref,
            cert,
            seal_id,
            registry_url,
            placement,
            final,
            timestamper,
            refused=[name for name, value in refused.items() if value],
            as_json=as_json,
            seal_makers=[*map(Path, seal_maker_trust), *config.seal_maker_anchors],
            purpose=purpose,
            actor=actor,
        )
        return
    keyref = keyref or config.default_key
    if not keyref:
        raise InvalidInput("no key: give --key or set [sign] key in the configuration")
    image = _read_image(seal_image) if seal_image is not None else None
    width, height = parse_numbers(seal_size, 2, "--seal-size")
    with open_key(keyref, config=config, pin_source=CallbackPinSource(prompt_secret)) as key:
        outcome = _with_password(
            lambda password: sign_contract(
                input_path,
                output,
                key=key,
                config=config,
                cert=cert,
                chain=chain,
                field_name=field,
                seal_id=seal_id,
                registry_url=registry_url,
                seal_maker_trust=seal_maker_trust,
                seal_image=image,
                seal_size=(width, height),
                seal_text=seal_text,
                placement=where,
                invisible=invisible,
                reason=reason,
                location=location,
                certify=certify,
                subfilter=subfilter,  # type: ignore[arg-type]
                tsa=tsa,
                ltv=ltv,
                trust=trust_anchors,
                password=password,
                purpose=purpose,
                actor=actor,
            ),
            ask_password,
        )
    result = outcome.signature
    level = f"; {outcome.level}, TSA {outcome.tsa}" if outcome.tsa else ""
    stamps = ", ".join(f"page {s.page} {s.kind}" for s in result.stamps) or "invisible"
    emit(
        outcome.to_dict(),
        as_json,
        f"signed {result.output_path} (field {result.field}, {result.algorithm}; {stamps}{level})",
    )
    for warning in result.warnings:
        click.echo(f"sealkit: warning: {warning}", err=True)


def _read_image(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"the seal image {path} does not exist: check --seal-image") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read the seal image {path}: {exc.strerror}") from None
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise InvalidInput(f"{path} is not a PNG or JPEG image: give the seal imprint with --seal-image")
    return data


@click.command(name="prepare")
@click.argument("input_path", metavar="IN.pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--field",
    "fields",
    multiple=True,
    required=True,
    help="NAME@TEXT (centred on the text) or NAME@PAGE:X,Y,W,H (mm); may repeat.",
)
@click.option("--size", default="42,42", show_default=True, help="Field size W,H in mm for NAME@TEXT.")
@click.option("--order", help="Signing order: comma-separated field names (e.g. 供应商,采购人).")
@click.option(
    "--cross-page",
    "cross_pages",
    multiple=True,
    metavar="NAME[@PAGES]",
    help="Reserve a cross-page seal (骑缝章) for field NAME on all pages, or PAGES like 1,2,3; "
    "signing NAME fills it. May repeat.",
)
@click.option(
    "--unsealed",
    multiple=True,
    metavar="NAME",
    help="Field NAME takes a signature without an electronic seal (签字). By default every field requires "
    "one (盖章): the verifier fails a signature there that carries none. May repeat.",
)
@click.option(
    "--unit",
    "units",
    multiple=True,
    metavar="NAME@USCC",
    help="Field NAME requires the seal of the unit with this unified social credit code. May repeat.",
)
@pdf_password_option
@json_option
def prepare(
    input_path: Path,
    output: Path,
    fields: tuple[str, ...],
    size: str,
    order: str | None,
    cross_pages: tuple[str, ...],
    unsealed: tuple[str, ...],
    units: tuple[str, ...],
    ask_password: bool,
    as_json: bool,
) -> None:
    """Create every party's empty signature field before the first signature, and what each requires."""
    from sealkit.pdf import FieldSpec, Placement, prepare_fields

    width, height = parse_numbers(size, 2, "--size")
    reserved: dict[str, bool | tuple[int, ...]] = {}
    for item in cross_pages:
        name, _, pages = item.partition("@")
        reserved[name] = parse_pages(pages, "--cross-page") if pages else True
    unit_of: dict[str, str] = {}
    for item in units:
        name, sep, code = item.partition("@")
        if not sep or not name or not code:
            raise InvalidInput(f"--unit {item!r}: use NAME@USCC (the unit's unified social credit code)")
        unit_of[name] = code
    names = {item.partition("@")[0] for item in fields}
    for option, named in (("--cross-page", reserved), ("--unsealed", unsealed), ("--unit", unit_of)):
        unknown = set(named) - names
        if unknown:
            raise InvalidInput(f"{option} names no --field: {', '.join(sorted(unknown))}")
    specs = []
    for item in fields:
        name, sep, where = item.partition("@")
        if not sep or not name or not where:
            raise InvalidInput(f"--field {item!r}: use NAME@TEXT or NAME@PAGE:X,Y,W,H")
        page_part, colon, box = where.partition(":")
        if colon and page_part.lstrip("-").isdigit():
            placement = Placement.at_rect(int(page_part), parse_numbers(box, 4, "--field box"))  # type: ignore[arg-type]
        else:
            placement = Placement.at_text(where)
        specs.append(
            FieldSpec(
                name,
                placement,
                (width, height),
                cross_page=reserved.get(name, False),
                seal_required=name not in unsealed,
                unit=unit_of.get(name),
            )
        )
    order_list = [n.strip() for n in order.split(",")] if order else None
    result = _with_password(
        lambda password: prepare_fields(input_path, output, specs, order=order_list, password=password),
        ask_password,
    )
    data = {
        "output": str(result.output_path),
        "fields": [
            {
                "name": f.name,
                "page": f.page,
                "rect_mm": list(f.rect_mm),
                "cross_page": [p for p, _ in f.cross_page],
                "seal_required": f.seal_required,
                "unit": f.unit,
            }
            for f in result.fields
        ],
        "order": result.order,
    }
    emit(
        data,
        as_json,
        f"prepared {result.output_path}: " + ", ".join(f"{f.name} ({_needs(f)})" for f in result.fields),
    )


def _needs(field: Any) -> str:
    """A prepared field's page and what it requires, for the one-line summary."""
    what = "no seal required"
    if field.seal_required:
        what = f"seal of unit {field.unit} required" if field.unit else "seal required"
    return f"page {field.page}, {what}"
