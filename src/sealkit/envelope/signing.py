"""Sign-then-encrypt: the bid wrapped in a CMS SignedData before it is enveloped, and that signature checked
while the plaintext streams out of the envelope (before anything is released).

The wrapper is a ContentInfo(SignedData) with the content embedded (what ``openssl cms -sign -nodetach``
writes and ``openssl cms -verify`` reads): SM2-with-SM3 (GM/T 0010 OIDs) for SM2 signers, RSA PKCS#1 v1.5 with
SHA-256 for RSA, ECDSA-SHA256 for P-256. It is written around the streamed content as a DER ``prefix`` and
``suffix``; on read, a bare SignedData (no ContentInfo) and BER encodings are accepted too. The signature
is checked with :func:`sealkit.validation.verify_with_certificate` and the signer's chain with
:func:`sealkit.validation.validate_certificate` (purpose envelope signing): no chain logic here. They are
imported when first needed, so that ``bid encrypt`` and ``bid info`` do not load pyHanko's validation stack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms, x509
from cryptography.hazmat.primitives import hashes

from sealkit.envelope.model import SignerSummary
from sealkit.envelope.recipients import describe_certificate
from sealkit.envelope.tlv import (
    CONTEXT,
    INTEGER,
    MAX_SMALL,
    OCTET_STRING,
    OID,
    SEQUENCE,
    SET,
    UNIVERSAL,
    Header,
    TLVReader,
    der_header,
    parse_der,
)
from sealkit.errors import (
    CertificateError,
    DamagedEnvelope,
    InvalidSignature,
    UnsupportedAlgorithm,
    VerificationFailed,
)
from sealkit.ukey import KeyKind, PrivateKeyHandle, SignOptions

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sm3": hashes.SM3,
}


def new_hash(name: str) -> hashes.Hash:
    try:
        return hashes.Hash(_HASHES[name]())
    except KeyError:
        raise UnsupportedAlgorithm(f"unsupported digest algorithm {name} in the bid's signature") from None


def digest_for(kind: KeyKind) -> str:
    """The digest a signer of ``kind`` uses: SM3 for SM2, SHA-256 otherwise."""
    return "sm3" if kind is KeyKind.SM2 else "sha256"


@dataclass(frozen=True)
class SignedWrapper:
    """The DER bytes written before and after the content, and who signed."""

    prefix: bytes
    suffix: bytes
    signer: SignerSummary


def build_wrapper(
    digest: bytes,
    content_length: int,
    signer: PrivateKeyHandle,
    cert: x509.Certificate,
    *,
    gm: bool,
    chain: Sequence[x509.Certificate] = (),
) -> SignedWrapper:
    """The ContentInfo(SignedData) around ``content_length`` bytes whose digest is ``digest``; ``chain``
    (the signer's intermediates) goes into its certificates so that readers can build the path."""
    from sealkit.validation import key_matches_certificate  # imported late: slow (pyHanko)

    if not key_matches_certificate(cert, signer.public_key_info()):
        raise CertificateError(f"the signing certificate {describe_certificate(cert)} does not match the key")
    digest_name = digest_for(signer.kind)
    content_type = "gm_data" if gm else "data"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": [content_type]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": now})]}),
        cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
    ]
    signed_attrs = cms.CMSAttributes(sorted(attributes, key=lambda a: a.dump()))  # DER order of a SET OF
    signature = signer.sign(signed_attrs.dump(), SignOptions(digest=digest_name))
    signature_algorithm = {
        KeyKind.SM2: "sm2_sm3",
        KeyKind.RSA: "rsassa_pkcs1v15",
        KeyKind.P256: "sha256_ecdsa",
    }
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}},
            "digest_algorithm": {"algorithm": digest_name},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": signature_algorithm[signer.kind]},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_name}],
            "encap_content_info": {"content_type": content_type},
            "certificates": [cert, *(c for c in chain if c.dump() != cert.dump())],
            "signer_infos": [signer_info],
        }
    )
    econtent_type = signed_data["encap_content_info"]["content_type"].dump()
    octets = der_header(0x04, content_length)
    explicit = der_header(0xA0, len(octets) + content_length)
    eci_len = len(econtent_type) + len(explicit) + len(octets) + content_length
    head = signed_data["version"].dump() + signed_data["digest_algorithms"].dump()
    suffix = signed_data["certificates"].dump() + signed_data["signer_infos"].dump()
    eci = der_header(0x30, eci_len) + econtent_type + explicit + octets
    sd_len = len(head) + len(eci) + content_length + len(suffix)
    sd_header = der_header(0x30, sd_len)
    outer_type = cms.ContentType("gm_signed_data" if gm else "signed_data").dump()
    ci_explicit = der_header(0xA0, len(sd_header) + sd_len)
    ci_header = der_header(0x30, len(outer_type) + len(ci_explicit) + len(sd_header) + sd_len)
    prefix = ci_header + outer_type + ci_explicit + sd_header + head + eci
    return SignedWrapper(prefix, suffix, _summary(signer_info, cert, now, trusted=False))


def _summary(
    info: cms.SignerInfo,
    cert: x509.Certificate,
    signing_time: dt.datetime | None,
    *,
    trusted: bool,
    pinned: bool = False,
    trust_message: str | None = None,
) -> SignerSummary:
    return SignerSummary(
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        serial=cert.serial_number,
        signature_algorithm=str(info["signature_algorithm"]["algorithm"].native),
        digest_algorithm=str(info["digest_algorithm"]["algorithm"].native),
        signing_time=signing_time,
        trusted=trusted,
        pinned=pinned,
        trust_message=trust_message,
    )


# --- reading ---

_MALFORMED = "the bid's SignedData is malformed"


def read_signed(
    reader: TLVReader,
    pump: Callable[[int, Callable[[memoryview], object]], int],
    sink: Callable[[memoryview], object],
    trust: Sequence[x509.Certificate] = (),
    signers: Sequence[x509.Certificate] = (),
) -> SignerSummary:
    """Stream the content of the SignedData that ``reader`` is at into ``sink`` and verify its signature.

    ``pump(n, fn)`` hands the next ``n`` bytes of the same source to ``fn``. Everything but the content is
    bounded: certificates and signer infos together at most :data:`MAX_SMALL` bytes, CRLs skipped unread.
    :class:`VerificationFailed` when the signature, the digest, the signer or the trust check fails;
    :class:`DamagedEnvelope` when malformed.
    """
    top = reader.expect(UNIVERSAL, SEQUENCE, "a SignedData")
    first = reader.header()
    wrappers: list[Header] = []
    if first.is_(UNIVERSAL, OID):
        oid = parse_der(cms.ContentType, first.raw + reader.body(first, 64), _MALFORMED).native
        if oid not in ("signed_data", "gm_signed_data"):
            raise DamagedEnvelope(f"the signed bid's content type is {oid}, not SignedData")
        wrappers = [top, reader.expect(CONTEXT, 0, "[0]")]
        sd = reader.expect(UNIVERSAL, SEQUENCE, "a SignedData")
        first = reader.expect(UNIVERSAL, INTEGER, "the SignedData version")
    else:
        sd = top
        if not first.is_(UNIVERSAL, INTEGER):
            raise DamagedEnvelope(f"the signed bid is malformed: expected a version at byte {first.offset}")
    version = first.raw + reader.body(first, 16)
    algorithms_head = reader.expect(UNIVERSAL, SET, "digestAlgorithms")
    algorithms_raw = reader.element(algorithms_head, 4096)
    algorithms = parse_der(cms.DigestAlgorithms, algorithms_raw, _MALFORMED)
    hashers = {name: new_hash(name) for name in {a["algorithm"].native for a in algorithms}}
    eci = reader.expect(UNIVERSAL, SEQUENCE, "encapContentInfo")
    type_head = reader.expect(UNIVERSAL, OID, "eContentType")
    type_raw = type_head.raw + reader.body(type_head, 64)
    explicit = reader.more_in(eci)
    if explicit is None or not explicit.is_(CONTEXT, 0):
        raise VerificationFailed("the bid's signature is detached: the signed content is missing")
    octets = reader.expect(UNIVERSAL, OCTET_STRING, "eContent")

    def feed(view: memoryview) -> None:
        for hasher in hashers.values():
            hasher.update(view)
        sink(view)

    for length in reader.octet_segments(octets):
        if pump(length, feed) != length:
            raise DamagedEnvelope("the signed bid is truncated")
        reader.pos += length
    for head in (explicit, eci):
        _close(reader, head)
    rest = _certificates_and_signer_infos(reader, sd)
    for head in reversed(wrappers):
        _close(reader, head)
    body = version + algorithms_raw + der_header(0x30, len(type_raw)) + type_raw + rest
    signed_data = parse_der(cms.SignedData, der_header(0x30, len(body)) + body, _MALFORMED)
    digests = {name: h.finalize() for name, h in hashers.items()}
    return verify_signed_data(signed_data, digests, trust, signers)


def _certificates_and_signer_infos(reader: TLVReader, sd: Header) -> bytes:
    """The encoded ``[0] certificates`` (if any) and ``signerInfos`` after the content, CRLs skipped;
    :class:`DamagedEnvelope` for anything else or when they exceed :data:`MAX_SMALL` together."""
    kept = b""
    child = reader.more_in(sd)
    if child is not None and child.is_(CONTEXT, 0):
        kept = reader.element(child, MAX_SMALL)
        child = reader.more_in(sd)
    if child is not None and child.is_(CONTEXT, 1):  # CRLs: never used here, so never held
        reader.skip(child)
        child = reader.more_in(sd)
    if child is None or not child.is_(UNIVERSAL, SET):
        raise DamagedEnvelope("the signed bid's SignedData is malformed: its signer infos are missing")
    kept += reader.element(child, MAX_SMALL - len(kept))
    if reader.more_in(sd) is not None:
        raise DamagedEnvelope("the signed bid has unexpected data after its signer infos")
    return kept


def _close(reader: TLVReader, head: Header) -> None:
    if reader.more_in(head) is not None:
        raise DamagedEnvelope(f"the signed bid has unexpected data inside the element at byte {head.offset}")


def verify_signed_data(
    signed_data: cms.SignedData,
    digests: dict[str, bytes],
    trust: Sequence[x509.Certificate] = (),
    signers: Sequence[x509.Certificate] = (),
) -> SignerSummary:
    """Check the one SignerInfo of ``signed_data`` against the content ``digests`` (by algorithm name).

    With ``signers`` the signer's certificate must be one of them; with ``trust`` its path must validate
    for envelope signing (:func:`sealkit.validation.validate_certificate`, the SignedData's other
    certificates as intermediates, judged now).
    """
    from sealkit.validation import Purpose, validate_certificate, verify_with_certificate

    infos = signed_data["signer_infos"]
    if len(infos) != 1:
        raise VerificationFailed(f"the bid must have exactly one signer, it has {len(infos)}")
    info = infos[0]
    certs = [c.chosen for c in signed_data["certificates"] if c.name == "certificate"]
    cert = _find_signer(info, certs)
    who = describe_certificate(cert)
    attrs = info["signed_attrs"]
    if not attrs:
        raise VerificationFailed(f"the bid's signature by {who} has no signed attributes")
    values = {a["type"].native: a["values"] for a in attrs}
    single = [values[t] for t in ("message_digest", "content_type") if t in values]
    if len(values) != len(attrs) or any(len(value) != 1 for value in single):
        raise VerificationFailed(f"the bid's signature by {who} repeats a signed attribute or value")
    digest_name = info["digest_algorithm"]["algorithm"].native
    message_digest = values.get("message_digest")
    if message_digest is None or digest_name not in digests:
        raise VerificationFailed(f"the bid's signature by {who} has no usable message digest")
    if bytes(message_digest[0].native) != digests[digest_name]:
        raise VerificationFailed(f"the bid's inner signature does not match its content (signer {who})")
    econtent_type = signed_data["encap_content_info"]["content_type"].native
    content_type = values.get("content_type")
    if content_type is None or content_type[0].native != econtent_type:
        raise VerificationFailed(f"the bid's signature by {who} names another content type")
    signed_bytes = b"\x31" + attrs.dump()[1:]
    try:
        verify_with_certificate(
            cert, _signature_algorithm(info), signed_bytes, bytes(info["signature"].native)
        )
    except InvalidSignature:
        raise VerificationFailed(f"the bid's inner signature does not verify (signer {who})") from None
    pinned = False
    if signers:
        if cert.dump() not in {s.dump() for s in signers}:
            expected = "; ".join(describe_certificate(s) for s in signers)
            raise VerificationFailed(f"the bid is signed by {who}, not by an expected signer ({expected})")
        pinned = True
    trust_message = None
    if trust:
        others = [c for c in certs if c.dump() != cert.dump()]
        path = validate_certificate(cert, trust, purpose=Purpose.ENVELOPE_SIGNING, intermediates=others)
        if not path.ok:
            reason = path.message.removeprefix(f"{cert.subject.human_friendly}: ")
            raise VerificationFailed(
                f"the bid's signer {who} is not trusted for envelope signing: {reason} "
                f"({path.indication}/{path.sub_indication})"
            )
        trust_message = path.message
    signing_time = values.get("signing_time")
    when = signing_time[0].native if signing_time is not None else None
    return _summary(info, cert, when, trusted=bool(trust), pinned=pinned, trust_message=trust_message)


def _signature_algorithm(info: cms.SignerInfo) -> str | algos.SignedDigestAlgorithm:
    """The signature algorithm with its digest: CMS often names only the key (rsaEncryption, ecPublicKey)
    and leaves the digest to ``digestAlgorithm``."""
    from sealkit.validation import is_sm2_algorithm

    algorithm = info["signature_algorithm"]
    name = algorithm["algorithm"].native
    digest = info["digest_algorithm"]["algorithm"].native
    if is_sm2_algorithm(algorithm):
        return "sm2_sm3"
    if name in ("rsassa_pkcs1v15", "rsa"):
        return f"{digest}_rsa"
    if name in ("ec", "ecdsa"):
        return f"{digest}_ecdsa"
    return algorithm


def _find_signer(info: cms.SignerInfo, certs: list[x509.Certificate]) -> x509.Certificate:
    sid = info["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            if (
                sid.chosen["issuer"] == cert.issuer
                and sid.chosen["serial_number"].native == cert.serial_number
            ):
                return cert
        elif bytes(sid.chosen.native) in (cert.key_identifier, cert.public_key.sha1):
            return cert
    raise VerificationFailed("the bid's signer certificate is not in its SignedData")
