"""Sign as sealkit does — the same stamping code and pyHanko — but without ``sign_pdf``'s refusals (the
signing order, the seal a field requires), and optionally with the signing revision altered before pyHanko
signs it: what a forger's own tool writes, for the verifier's tests."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from sealkit.pdf.sign import _pyhanko_sign
from sealkit.pdf.signer import HandleSigner
from sealkit.pdf.stamping import prepare_signature_field


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
