"""Time and its proof (ETSI EN 319 102-1): a claimed signing time (CMS signingTime, a PDF's /M) is the
signer's word and proves nothing; only a trusted timestamp — the signature's own RFC 3161 token, or a later
document/archive timestamp that covers it — is proof of existence (POE).

:func:`timestamp_info` validates a signature's timestamp token (the TSA's path included, through
pyhanko-certvalidator with the TSA's key-usage rules), :func:`token_info` a bare token (an OFD seal's);
:func:`proof_of_existence` picks the earliest proven time among a signature's own token and the document
timestamps that cover it. Without a POE everything is judged at the validation time (now).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import generic_cms
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.util import get_declared_revinfo

from sealkit.timefmt import format_time
from sealkit.validation.paths import revocation_unknown


@dataclass
class TimestampInfo:
    """A timestamp: its time, the TSA, and whether the token is intact and its TSA trusted."""

    time: dt.datetime
    tsa: str
    intact: bool
    trusted: bool
    #: "signature" for a signature's own token, "document" for a document (archive) timestamp.
    kind: str = "signature"
    #: Why an intact token from a trusted TSA still proves nothing (its time is in the future, or outside
    #: the TSA certificate's validity); None when it proves its time.
    problem: str | None = None
    #: Why the TSA is not trusted although its path was built, if that is known (its revocation status).
    tsa_problem: str | None = None

    @property
    def proves(self) -> bool:
        """True if this timestamp is proof of existence at :attr:`time`."""
        return self.intact and self.trusted and self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": iso(self.time),
            "tsa": self.tsa,
            "intact": self.intact,
            "trusted": self.trusted,
            "kind": self.kind,
            "problem": self.problem,
        }

    to_json = to_dict


def iso(value: dt.datetime | None) -> str | None:
    """An ISO 8601 time in the display zone with its offset, ``2026-12-01T09:30:00+08:00`` (Beijing time
    unless ``[time] zone`` says otherwise; :func:`sealkit.timefmt.format_time`). None stays None; a naive
    time here comes from a standard's UTC field and is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return format_time(value)


#: How far a timestamp may lie ahead of the validator's clock (clock skew) and still prove anything.
CLOCK_SKEW = dt.timedelta(minutes=5)


def time_problem(moment: dt.datetime, tsa_cert: asn1_x509.Certificate | None, now: dt.datetime) -> str | None:
    """Why a token dated ``moment`` by ``tsa_cert`` proves nothing, judged at ``now``: a time in the future
    (a lying TSA or clock), or a time outside the TSA certificate's validity. None if neither."""
    if moment > now + CLOCK_SKEW:
        return f"the timestamp's time {iso(moment)} is after the validation time {iso(now)}"
    if tsa_cert is not None:
        validity = tsa_cert["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= moment <= validity["not_after"].native:
            return f"the timestamp's time {iso(moment)} is outside its TSA certificate's validity"
    return None


async def timestamp_info(
    signer_info: cms.SignerInfo,
    context: ValidationContext,
    raw_digest: Callable[[str], bytes],
    now: dt.datetime | None = None,
) -> TimestampInfo | None:
    """The signature timestamp token of ``signer_info`` validated under ``context``; None without one.

    ``raw_digest(algorithm)`` gives the digest of the signed content (for a PDF: of the ByteRange).
    """
    timing = await generic_cms.collect_timing_info(signer_info, context, raw_digest=raw_digest)
    tst = timing.get("timestamp_validity")
    if tst is None:
        return None
    intact = bool(tst.intact and tst.valid)
    return _judged(
        tst.timestamp,
        tst.signing_cert,
        intact,
        bool(intact and tst.trusted),
        tst.trust_problem_indic,
        tst.validation_path,
        now,
    )


async def token_info(
    signed_data: cms.SignedData,
    context: ValidationContext,
    raw_digest: Callable[[str], bytes],
    now: dt.datetime | None = None,
    kind: str = "signature",
) -> TimestampInfo:
    """A timestamp token's ``SignedData`` validated under ``context`` (imprint against ``raw_digest``, token
    signature, the TSA's path with its key-usage rules) and its time judged by :func:`time_problem` at ``now``
    (default the current time): the one check for a token that is not inside a CMS signer's attributes (a
    GB/T 38540 signature's ``timeStamp``). pyHanko's errors for a malformed token propagate."""
    result = await generic_cms.validate_tst_signed_data(signed_data, context, raw_digest)
    cert = result.get("signing_cert")
    intact = bool(result.get("intact") and result.get("valid"))
    path = result.get("validation_path")
    trusted = intact and result.get("trust_problem_indic") is None and path is not None
    indication = result.get("trust_problem_indic")
    return _judged(result["timestamp"], cert, intact, trusted, indication, path, now, kind)


def _judged(
    moment: dt.datetime,
    cert: asn1_x509.Certificate | None,
    intact: bool,
    trusted: bool,
    indication: Any,
    path: Any,
    now: dt.datetime | None,
    kind: str = "signature",
) -> TimestampInfo:
    """A validated token's :class:`TimestampInfo`: its time judged by :func:`time_problem` at ``now``, and
    why its TSA is not trusted when that is an unknown revocation status."""
    return TimestampInfo(
        time=moment,
        tsa=str(cert.subject.human_friendly) if cert is not None else "",
        intact=intact,
        trusted=trusted,
        kind=kind,
        problem=time_problem(moment, cert, now or dt.datetime.now(dt.UTC)),
        tsa_problem=None if trusted else _tsa_revocation_unknown(indication, path),
    )


def _tsa_revocation_unknown(indication: Any, path: Any) -> str | None:
    """'Its revocation status is unknown' when a TSA path failed (pyHanko's ``trust_problem_indic``) and one
    of its certificates names OCSP/CRL pointers (pyHanko reports a missing required status as a general
    chain failure)."""
    name = getattr(indication, "name", None)
    if name not in ("TRY_LATER", "CERTIFICATE_CHAIN_GENERAL_FAILURE") or path is None:
        return None
    certs = [c for c in path.iter_certs(include_root=False) if isinstance(c, asn1_x509.Certificate)]
    if not any(any(get_declared_revinfo(c)) for c in certs):
        return None
    return f"the TSA's {revocation_unknown()}"


def proof_of_existence(candidates: Iterable[TimestampInfo | None]) -> TimestampInfo | None:
    """The earliest timestamp among ``candidates`` that proves existence (None if none does)."""
    proving = [stamp for stamp in candidates if stamp is not None and stamp.proves]
    return min(proving, key=lambda stamp: stamp.time) if proving else None
