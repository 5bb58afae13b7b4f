"""Open envelopes: :func:`inspect` walks the structure without decrypting, :func:`decrypt_file` streams the
plaintext into a nameless file (mode 0600, :mod:`.plainfile`) that gets its name only when the GCM tag and
the inner signature check out, and refuses unsigned bids or other signers when a signature is required.

The outer structure is read with the incremental :class:`~sealkit.envelope.tlv.TLVReader`: first a full
walk that skips the ciphertext by seeking (so truncation and trailing garbage are found before any key is
used, and the GCM tag, which follows the ciphertext, is known), then the decrypting pass.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from asn1crypto import algos, cms, x509

from sealkit import timefmt
from sealkit.envelope.ciphers import READABLE, ContentParameters, PlainStream, parse_parameters
from sealkit.envelope.model import FORMATS, DecryptResult, EnvelopeInfo, Progress, SignerSummary
from sealkit.envelope.plainfile import unnamed_output
from sealkit.envelope.recipients import GMSSL_KEY_ENCRYPTION, summarize, unwrap_key
from sealkit.envelope.signing import read_signed
from sealkit.envelope.tlv import (
    CONTEXT,
    INTEGER,
    OCTET_STRING,
    OID,
    PARSE_ERRORS,
    SEQUENCE,
    SET,
    UNIVERSAL,
    TLVReader,
    parse_der,
)
from sealkit.errors import (
    DamagedEnvelope,
    EnvelopeError,
    InvalidInput,
    NotAnEnvelope,
    NotYetOpen,
    UnsupportedAlgorithm,
    VerificationFailed,
)
from sealkit.ukey import PrivateKeyHandle

_SIGNED = ("signed_data", "gm_signed_data")
_DATA = ("data", "gm_data")
#: More recipients than this is not a bid envelope (each may cost a token operation).
MAX_RECIPIENTS = 256


@dataclass(frozen=True)
class Layout:
    """Where things are in an envelope file."""

    kind: str
    version: int
    recipients: cms.RecipientInfos
    inner_type: str
    algorithm: algos.EncryptionAlgorithm
    content_offset: int
    encrypted_size: int
    mac: bytes | None
    auth_attrs: bytes | None
    file_size: int


def _sniff(f: BinaryIO, name: str) -> None:
    start = f.read(64)
    f.seek(0)
    if not start:
        raise NotAnEnvelope(f"{name} is empty, not a CMS envelope")
    if start.startswith(b"-----BEGIN"):
        raise NotAnEnvelope(f"{name} is PEM; sealkit reads DER envelopes (openssl cms -outform DER)")
    if start[:13].lower().startswith((b"mime-version", b"content-type")):
        raise NotAnEnvelope(f"{name} is S/MIME; sealkit reads DER envelopes (openssl cms -outform DER)")
    if start[0] != 0x30:
        raise NotAnEnvelope(f"{name} is not a CMS file (it does not start with an ASN.1 SEQUENCE)")


def scan(f: BinaryIO, name: str) -> Layout:
    """Walk the whole envelope in ``f`` (seekable), skipping the ciphertext."""
    _sniff(f, name)
    size = os.fstat(f.fileno()).st_size
    r = TLVReader(f)
    top = r.header()
    head = r.header()
    if not head.is_(UNIVERSAL, OID) or head.length is None or head.length > 64:
        raise NotAnEnvelope(f"{name} is not a CMS file (no content type)")
    content_type = parse_der(cms.ContentType, head.raw + r.body(head), f"{name} has a malformed content type")
    kind = content_type.native
    if kind not in FORMATS:
        known = kind != content_type.dotted
        raise NotAnEnvelope(
            f"{name} is a CMS {kind}, not a digital envelope"
            if known
            else f"{name} has content type {content_type.dotted}, which is not a digital envelope"
        )
    explicit = r.expect(CONTEXT, 0, "[0] content")
    env = r.expect(UNIVERSAL, SEQUENCE, "EnvelopedData")
    version_head = r.expect(UNIVERSAL, INTEGER, "version")
    version = int.from_bytes(r.body(version_head, 16), "big", signed=True)
    head = r.header()
    if head.is_(CONTEXT, 0):  # originatorInfo: certificates we have no use for
        r.element(head)
        head = r.header()
    if not head.is_(UNIVERSAL, SET):
        raise DamagedEnvelope(f"{name} is malformed: expected the recipient infos at byte {head.offset}")
    recipients = _load_recipients(r.element(head))
    eci = r.expect(UNIVERSAL, SEQUENCE, "EncryptedContentInfo")
    type_head = r.expect(UNIVERSAL, OID, "content type")
    inner = parse_der(
        cms.ContentType, type_head.raw + r.body(type_head, 64), f"{name}'s inner content type is malformed"
    )
    alg_head = r.expect(UNIVERSAL, SEQUENCE, "content-encryption algorithm")
    algorithm = parse_der(
        algos.EncryptionAlgorithm, r.element(alg_head), f"{name}'s content-encryption algorithm is malformed"
    )
    content = r.more_in(eci)
    if content is None or not content.is_(CONTEXT, 0):
        raise DamagedEnvelope(f"{name} has no encrypted content (a detached envelope is not a bid)")
    offset = content.offset
    total = 0
    for length in r.octet_segments(content):
        if r.pos + length > size:
            raise DamagedEnvelope(f"{name} is truncated (the encrypted content stops at byte {size})")
        f.seek(length, os.SEEK_CUR)
        r.pos += length
        total += length
    if r.more_in(eci) is not None:
        raise DamagedEnvelope(f"{name} is malformed: unexpected data after the encrypted content")
    mac = auth_attrs = None
    child = r.more_in(env)
    if kind == "authenticated_enveloped_data":
        if child is not None and child.is_(CONTEXT, 1):
            auth_attrs = r.element(child)
            child = r.more_in(env)
        if child is None or not child.is_(UNIVERSAL, OCTET_STRING):
            raise DamagedEnvelope(f"{name} is truncated or malformed: the authentication tag is missing")
        mac = r.body(child, 64)
        child = r.more_in(env)
    while child is not None:  # unprotected / unauthenticated attributes
        r.element(child)
        child = r.more_in(env)
    for outer in (explicit, top):
        if r.more_in(outer) is not None:
            raise DamagedEnvelope(f"{name} is malformed: unexpected data inside the envelope")
    if f.read(1):
        raise DamagedEnvelope(f"{name} has unexpected data after the envelope (at byte {r.pos})")
    return Layout(kind, version, recipients, inner.native, algorithm, offset, total, mac, auth_attrs, size)


def _load_recipients(data: bytes) -> cms.RecipientInfos:
    """Parse the recipient infos; parameters of unknown algorithms are left for later (not a recipient)."""
    try:
        infos = cms.RecipientInfos.load(data)
        if len(infos) > MAX_RECIPIENTS:
            raise DamagedEnvelope(
                f"the envelope has {len(infos)} recipients; a bid envelope has at most {MAX_RECIPIENTS}"
            )
        for info in infos:
            if info.name == "ktri":
                ktri = info.chosen
                ktri["version"].native  # noqa: B018
                ktri["rid"].native  # noqa: B018
                ktri["encrypted_key"].native  # noqa: B018
                ktri["key_encryption_algorithm"]["algorithm"].dotted  # noqa: B018
            summarize(info)
        return infos
    except PARSE_ERRORS:
        raise DamagedEnvelope("the envelope's recipient infos are malformed") from None


def _info(path: str | os.PathLike[str], layout: Layout) -> EnvelopeInfo:
    alg = layout.algorithm["algorithm"]
    cipher = READABLE.get(alg.native)
    inner = layout.inner_type
    return EnvelopeInfo(
        path=str(path),
        format=FORMATS[layout.kind],
        content_cipher=cipher.name if cipher else f"unknown ({alg.dotted})",
        content_cipher_oid=alg.dotted,
        content_type="signed-data" if inner in _SIGNED else "data" if inner in _DATA else str(inner),
        recipients=[summarize(r) for r in layout.recipients],
        file_size=layout.file_size,
        encrypted_size=layout.encrypted_size,
        profile=_profile(layout),
    )


def _profile(layout: Layout) -> str:
    """``gmssl`` for a GM/T 0010 envelope as GmSSL 3 writes and reads it, ``standard`` otherwise."""
    gmssl = (
        layout.kind == "gm_enveloped_data"
        and layout.version == 1
        and all(
            info.name == "ktri"
            and info.chosen["version"].native == "v1"
            and info.chosen["key_encryption_algorithm"]["algorithm"].dotted == GMSSL_KEY_ENCRYPTION
            for info in layout.recipients
        )
    )
    return "gmssl" if gmssl else "standard"


def inspect(in_path: str | os.PathLike[str]) -> EnvelopeInfo:
    """Describe the envelope ``in_path`` (recipients, algorithms, sizes) without decrypting it."""
    with _open(in_path) as f:
        return _info(in_path, scan(f, Path(in_path).name))


def _open(path: str | os.PathLike[str]) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - returned to a with block
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


class _Ciphertext:
    """The encrypted content's bytes, wherever its (constructed) OCTET STRING put them."""

    def __init__(self, f: BinaryIO, offset: int) -> None:
        f.seek(offset)
        self._reader = TLVReader(f, start=offset)
        self._segments: Iterator[int] = self._reader.octet_segments(self._reader.header())
        self._left = 0

    def readinto(self, buffer: memoryview) -> int:
        filled = 0
        while filled < len(buffer):
            if not self._left:
                nxt = next(self._segments, None)
                if nxt is None:
                    break
                self._left = nxt
                continue
            n = self._reader.readinto(buffer[filled : filled + min(self._left, len(buffer) - filled)])
            if not n:
                raise DamagedEnvelope("the envelope is truncated inside the encrypted content")
            self._left -= n
            filled += n
        return filled


def check_opening_time(not_before: dt.datetime | None, force: bool) -> None:
    """:class:`NotYetOpen` before ``not_before`` (naive times are Beijing time), unless ``force``."""
    if not_before is None or force:
        return
    opening = timefmt.aware(not_before)
    now = dt.datetime.now(dt.UTC)
    if now < opening:
        raise NotYetOpen(
            f"bids open at {timefmt.format_time(opening)}; it is now {timefmt.format_time(now)} "
            "(--force opens early)"
        )


def decrypt_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    key: PrivateKeyHandle,
    *,
    trust: Sequence[x509.Certificate] = (),
    signers: Sequence[x509.Certificate] = (),
    require_signed: bool = False,
    allow_unsigned: bool = False,
    not_before: dt.datetime | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> DecryptResult:
    """Decrypt the envelope ``in_path`` with ``key`` into ``out_path`` (mode 0600, all or nothing).

    A signature is required with ``require_signed``, with ``signers`` (the signer's certificate must be one
    of them) and, unless ``allow_unsigned``, whenever ``trust`` is given (the signer's path must validate to
    one of those anchors for envelope signing). Unsigned CBC envelopes have no integrity at all and are
    refused unless ``allow_unsigned``. The signature and a GCM tag are verified before the plaintext gets
    its name; until then it lives in a file without a name that dies with the process. Raises
    :class:`NotYetOpen`, :class:`NotAnEnvelope`, :class:`NotARecipient`, :class:`DamagedEnvelope`,
    :class:`UnsupportedAlgorithm`, :class:`VerificationFailed` or :class:`InvalidInput`.
    """
    why = _why_signed(trust, signers, require_signed, allow_unsigned)
    check_opening_time(not_before, force)
    name = Path(in_path).name
    with _open(in_path) as f:
        layout = scan(f, name)
        params = parse_parameters(layout.algorithm)
        signed = layout.inner_type in _SIGNED
        if not signed and layout.inner_type not in _DATA:
            raise UnsupportedAlgorithm(f"{name}: unsupported inner content type {layout.inner_type}")
        warnings = [] if signed else _unsigned(name, params, why, allow_unsigned)
        recipient, cek = unwrap_key(layout.recipients, key, params.cipher.key_size)
        total = layout.encrypted_size
        done = [0]

        def on_chunk(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], total)

        with unnamed_output(out_path, protect=(in_path,)) as out:
            plain = _plain_stream(f, layout, params, cek, on_chunk)
            size, signer = _release(plain, out, signed, trust, signers, params)
    return DecryptResult(
        str(out_path),
        size,
        params.cipher.name,
        recipient,
        signer,
        warnings,
        signature_required=why is not None,
        unsigned_allowed=allow_unsigned,
    )


def _why_signed(
    trust: Sequence[x509.Certificate],
    signers: Sequence[x509.Certificate],
    require_signed: bool,
    allow_unsigned: bool,
) -> str | None:
    """Why a signature is required (for the refusal), or None when it is not."""
    if allow_unsigned and (require_signed or signers):
        raise InvalidInput(
            "allow_unsigned (--allow-unsigned) contradicts require_signed (--require-signed) and "
            "signers (--signer)"
        )
    if signers:
        return "the expected signers were given (--signer)"
    if require_signed:
        return "--require-signed"
    if trust and not allow_unsigned:
        return "trust anchors were given (--trust); --allow-unsigned opens it anyway"
    return None


def _unsigned(name: str, params: ContentParameters, why: str | None, allow_unsigned: bool) -> list[str]:
    """Refuse an unsigned bid where a signature is required or nothing else protects it; else the warning."""
    if why is not None:
        raise VerificationFailed(f"{name} is not signed, but a signature is required: {why}")
    if not params.cipher.aead and not allow_unsigned:
        raise EnvelopeError(
            f"{name} is {params.cipher.name}-encrypted and not signed, so nothing shows whether it was "
            "altered; open it with --allow-unsigned (allow_unsigned=True) only if you accept that"
        )
    return ["the bid is not signed: nothing shows who made it"]


def _plain_stream(
    f: BinaryIO, layout: Layout, params: ContentParameters, cek: bytes, on_chunk: Callable[[int], None]
) -> PlainStream:
    aad = b"\x31" + layout.auth_attrs[1:] if layout.auth_attrs else None
    source = _Ciphertext(f, layout.content_offset)
    return PlainStream(source, params, cek, tag=layout.mac, aad=aad, on_chunk=on_chunk)


def _release(
    plain: PlainStream,
    out: BinaryIO,
    signed: bool,
    trust: Sequence[x509.Certificate],
    signers: Sequence[x509.Certificate],
    params: ContentParameters,
) -> tuple[int, SignerSummary | None]:
    """Write the plaintext to ``out``, checking the inner signature (if any); raise on any failure."""
    written = [0]

    def sink(view: memoryview) -> None:
        out.write(view)
        written[0] += len(view)

    if not signed:
        plain.pump_all(sink)
        return written[0], None
    try:
        signer = read_signed(TLVReader(plain, what="signed bid"), plain.pump, sink, trust, signers)
        if plain.read(1):
            raise DamagedEnvelope("the signed bid has unexpected data after its SignedData")
    except (DamagedEnvelope, VerificationFailed):
        if params.cipher.aead:
            plain.drain()  # a failed GCM tag explains a garbled SignedData better
        raise
    return written[0], signer
