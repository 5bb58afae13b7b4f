"""Sign with trusted time in one call: PAdES B-T, or B-LTA (validation data and a document timestamp).

:func:`sign_timestamped` is what ``sealkit sign --tsa`` / ``--ltv`` run, for library users too::

    with open_key("file:supplier/key.pem") as key:
        result = sign_timestamped("contract.pdf", "contract-signed.pdf", key, tsa="http://tsa.example/tsa",
                                  ltv=True, trust_anchors=["root.pem"], cert="supplier/cert.pem")

With ``ltv=True`` the signature is first written to a temporary file in the output's directory, then
:func:`~sealkit.trust.add_validation_info` embeds the certificates, OCSP responses and CRLs (B-LT) and adds
a document timestamp (B-LTA) into the output. The temporary file is removed whatever happens, and the output
appears only when it is complete: a failing TSA, OCSP responder or CRL server leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyhanko.sign.timestamps import TimeStamper

from sealkit.errors import InvalidInput
from sealkit.trust.ltv import LtvResult, add_validation_info, ltv_context
from sealkit.trust.timestamps import make_timestamper
from sealkit.validation.context import TrustAnchor, load_trust_anchors

if TYPE_CHECKING:  # pragma: no cover
    from sealkit.pdf import SignResult
    from sealkit.ukey import PrivateKeyHandle


@dataclass(frozen=True)
class TimestampedSignResult:
    """What :func:`sign_timestamped` wrote: the signature, its PAdES level, and the embedded evidence."""

    signature: SignResult  # output_path and sha256 are those of the final file
    level: str  # "B-T" or "B-LTA"
    tsa: str
    ltv: LtvResult | None = None

    @property
    def output_path(self) -> Path:
        return self.signature.output_path

    def as_dict(self) -> dict[str, Any]:
        data = self.signature.as_dict()
        data.update(level=self.level, tsa=self.tsa)
        if self.ltv is not None:
            ltv = self.ltv.to_json()
            data.update(document_timestamp=ltv["document_timestamp"], dss=ltv["dss"])
        return data


def sign_timestamped(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    key: PrivateKeyHandle,
    *,
    tsa: str | TimeStamper,
    ltv: bool = False,
    trust_anchors: Sequence[TrustAnchor] = (),
    **sign_options: Any,
) -> TimestampedSignResult:
    """Sign ``input_path`` into ``output_path``, timestamped by ``tsa`` (a URL or a timestamper).

    ``ltv=True`` also embeds validation data, fetched now, online, for the chain to ``trust_anchors``
    (B-LT), and covers everything with a document timestamp from the same TSA (B-LTA). Other keyword
    arguments go to :func:`sealkit.pdf.sign_pdf` (``cert``, ``chain``, ``appearance``, ``placement``…).
    Errors: :class:`~sealkit.errors.ServiceError` when the TSA, an OCSP responder or a CRL server fails
    (nothing is written), :class:`~sealkit.errors.InvalidInput` without trust anchors for ``ltv``.
    """
    from sealkit.pdf import sign_pdf

    timestamper = make_timestamper(tsa) if isinstance(tsa, str) else tsa
    tsa_name = tsa if isinstance(tsa, str) else str(getattr(tsa, "url", type(tsa).__name__))
    if not ltv:
        result = sign_pdf(input_path, output_path, key, timestamper=timestamper, **sign_options)
        return TimestampedSignResult(result, "B-T", tsa_name)
    load_trust_anchors(trust_anchors)  # fail on missing or unreadable anchors before the key is used
    output = Path(output_path)
    _check_output(Path(input_path), output)
    fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".bt.part", dir=output.parent or ".")
    os.close(fd)
    unextended = Path(name)
    try:
        signed = sign_pdf(input_path, unextended, key, timestamper=timestamper, **sign_options)
        extended = add_validation_info(
            unextended, output, validation_context=ltv_context(trust_anchors), timestamper=timestamper
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            unextended.unlink()
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    final = dataclasses.replace(signed, output_path=output, sha256=digest)
    return TimestampedSignResult(final, "B-LTA", tsa_name, extended)


def _check_output(source: Path, output: Path) -> None:
    """The checks :func:`sealkit.atomic.atomic_output` makes, before anything is signed."""
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInput(f"directory {parent} does not exist")
    if output.is_dir():
        raise InvalidInput(f"{output} is a directory")
    try:
        same = output.exists() and source.exists() and os.path.samefile(output, source)
    except OSError:
        same = output.resolve() == source.resolve()
    if same:
        raise InvalidInput(f"refusing to write over the input file {output}")
