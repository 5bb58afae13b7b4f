"""Sign as sealkit does — the same stamping code and pyHanko — but without ``sign_pdf``'s refusals (the
signing order, the seal a field requires), and optionally with the signing revision altered before pyHanko
signs it: what a forger's own tool writes, for the verifier's tests. :func:`sign_as_holder` signs either
way with a test identity."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sealkit.pdf import sign_pdf
from sealkit.pdf.sign import _pyhanko_sign
from sealkit.pdf.signer import HandleSigner
from sealkit.pdf.stamping import prepare_signature_field
from sealkit.ukey import open_key


def sign_unchecked(
    data: bytes,
    key: Any,
    cert: Any,
    chain: Sequence[Any],
    *,
    field: str | None,
    appearance: Any,
    placement: Any = None,
    attributes: Sequence[Any] = (),
    tamper: Callable[[Any, str], None] | None = None,
) -> bytes:
    """``data`` signed with ``key`` (``cert``, ``chain`` certificates) in ``field``, showing ``appearance``
    and carrying the signed ``attributes``; ``tamper(writer, field name)`` may change the signing revision."""
    writer, name, _ = prepare_signature_field(
        data, field=field, appearance=appearance, placement=placement, password=None
    )
    if tamper is not None:
        tamper(writer, name)
    signer = HandleSigner(key, cert, list(chain), extra_signed_attributes=attributes)
    out = io.BytesIO()
    _pyhanko_sign(
        writer,
        signer,
        out,
        field_name=name,
        reason=None,
        location=None,
        subfilter="ETSI.CAdES.detached",
        certify=False,
        timestamper=None,
    )
    return out.getvalue()


def sign_as_holder(
    source: bytes | Path,
    holder: Any,
    root: Any,
    folder: Path,
    *,
    field: str | None,
    appearance: Any,
    placement: Any = None,
    attributes: Sequence[Any] = (),
    unchecked: bool = False,
    tamper: Callable[[Any, str], None] | None = None,
) -> bytes:
    """``source`` signed by the test identity ``holder`` (chain: the test ``root``): through ``sign_pdf``
    into a new file in ``folder``, or — ``unchecked`` or with ``tamper`` — as :func:`sign_unchecked` does."""
    with open_key(holder.keyref) as key:
        if not unchecked and tamper is None:
            target = folder / f"signed-{len(list(folder.iterdir()))}.pdf"
            sign_pdf(
                source,
                target,
                key,
                cert=holder.cert_path,
                chain=[root.cert_path],
                field=field,
                appearance=appearance,
                placement=placement,
                extra_signed_attributes=attributes,
            )
            return target.read_bytes()
        return sign_unchecked(
            source if isinstance(source, bytes) else Path(source).read_bytes(),
            key,
            holder.certificate,
            [root.certificate],
            field=field,
            appearance=appearance,
            placement=placement,
            attributes=attributes,
            tamper=tamper,
        )
