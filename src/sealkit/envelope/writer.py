"""Make envelopes: :func:`encrypt_file` writes definite-length DER, streaming the ciphertext in chunks.

Sizes are known up front (the file's size, the signature wrapper's), so the headers are written first and
the content follows. RSA recipients give an RFC 5083 AuthEnvelopedData (AES-256-GCM, default) or an RFC 5652
EnvelopedData (AES-256-CBC, SM4-CBC); SM2 recipients give a GM/T 0010 EnvelopedData with SM4-CBC, either as
RFC 5652 numbers it (``standard``: versions 0, key encryption …301.3) or as GmSSL 3 requires (``gmssl``:
EnvelopedData and RecipientInfo version 1, key encryption …301.2). A signer makes it sign-then-encrypt (the
plaintext is a CMS SignedData), which CBC content requires by default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from asn1crypto import cms, core, x509

from sealkit.atomic import atomic_output
from sealkit.envelope.ciphers import CHUNK, ContentCipher, StreamEncryptor, cipher_by_name, new_parameters
from sealkit.envelope.model import FORMATS, EnvelopeInfo, Progress
from sealkit.envelope.recipients import PROFILES, SM2, key_family, summarize, wrap_key
from sealkit.envelope.signing import SignedWrapper, build_wrapper, digest_for, new_hash
from sealkit.envelope.tlv import der_header
from sealkit.errors import InvalidInput, UnsupportedAlgorithm
from sealkit.ukey import PrivateKeyHandle

MIXED_FAMILIES = (
    "RSA and SM2 recipients cannot share one envelope: GM/T 0010 readers need SM4 and the GM/T OIDs, and "
    "RFC 5652 readers such as OpenSSL cannot open SM2 recipients; make one envelope per algorithm"
)


def encrypt_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    recipients: Sequence[x509.Certificate],
    *,
    signer: PrivateKeyHandle | None = None,
    signer_cert: x509.Certificate | None = None,
    content_cipher: str | None = None,
    progress: Progress | None = None,
    allow_unsigned: bool = False,
    recipient_id: str = "issuer-serial",
    rsa_padding: str = "oaep",
    profile: str = "standard",
) -> EnvelopeInfo:
    """Encrypt ``in_path`` to every certificate in ``recipients``, into ``out_path`` (mode 0600, atomic).

    ``content_cipher``: ``aes-256-gcm`` (default for RSA), ``aes-256-cbc`` or ``sm4-cbc`` (the only one for
    SM2 recipients, and their default). With ``signer`` (and ``signer_cert``, else the key's certificate) the
    file is signed first; CBC content without a signer is refused unless ``allow_unsigned``.
    ``recipient_id``: ``issuer-serial`` or ``ski``; ``rsa_padding``: ``oaep`` (SHA-256) or ``pkcs1v15``.
    ``profile``: ``standard`` or ``gmssl`` (SM2 recipients only: the numbers GmSSL 3's ``cmsdecrypt`` needs).
    """
    if not recipients:
        raise InvalidInput("an envelope needs at least one recipient certificate")
    if recipient_id not in ("issuer-serial", "ski"):
        raise InvalidInput(f"unknown recipient identifier {recipient_id!r}: use issuer-serial or ski")
    families = {key_family(cert) for cert in recipients}
    if len(families) > 1:
        raise InvalidInput(MIXED_FAMILIES)
    gm = families == {SM2}
    cipher = cipher_by_name(content_cipher or ("sm4-cbc" if gm else "aes-256-gcm"))
    if gm and cipher.name != "sm4-cbc":
        raise UnsupportedAlgorithm(f"SM2 recipients (GM/T 0010) take SM4-CBC content, not {cipher.name}")
    _check_profile(profile, gm, recipient_id)
    if signer is not None:
        signer_cert = signer_cert or signer.certificate()
        if signer_cert is None:
            raise InvalidInput(f"signing with key {signer.label!r} needs its certificate (--sign-cert)")
    elif not cipher.aead and not allow_unsigned:
        raise InvalidInput(
            f"{cipher.name} has no integrity protection: sign the bid (--sign, --sign-cert) or use "
            "--allow-unsigned"
        )
    try:
        size = os.stat(in_path).st_size
        source = open(in_path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InvalidInput(f"cannot read {in_path}: {exc.strerror}") from None
    with source:
        total = size * (2 if signer is not None else 1)
        ticker = _Ticker(progress, total)
        wrapper = None
        if signer is not None:
            assert signer_cert is not None
            digest = _digest(source, digest_for(signer.kind), size, ticker)
            wrapper = build_wrapper(digest, size, signer, signer_cert, gm=gm, chain=signer.chain())
        return _write(
            source,
            size,
            out_path,
            in_path,
            recipients,
            cipher,
            wrapper,
            gm,
            recipient_id,
            rsa_padding,
            profile,
            ticker,
        )


def _check_profile(profile: str, gm: bool, recipient_id: str) -> None:
    if profile not in PROFILES:
        raise InvalidInput(f"unknown envelope profile {profile!r}: use {' or '.join(PROFILES)}")
    if profile == "gmssl" and not gm:
        raise InvalidInput("the gmssl profile is GM/T 0010 with SM2 recipients; these recipients are RSA")
    if profile == "gmssl" and recipient_id != "issuer-serial":
        raise InvalidInput("the gmssl profile identifies recipients by issuer and serial number, not by SKI")


class _Ticker:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _chunks(
    source: BinaryIO, size: int, buffer: bytearray, ticker: Callable[[int], None]
) -> Iterator[memoryview]:
    source.seek(0)
    view = memoryview(buffer)
    left = size
    while left:
        n = source.readinto(view[: min(len(buffer), left)])  # type: ignore[attr-defined]
        if not n:
            raise InvalidInput("the input file shrank while it was being encrypted")
        left -= n
        ticker(n)
        yield view[:n]
    if source.read(1):
        raise InvalidInput("the input file grew while it was being encrypted")


def _digest(source: BinaryIO, name: str, size: int, ticker: Callable[[int], None]) -> bytes:
    hasher = new_hash(name)
    for chunk in _chunks(source, size, bytearray(CHUNK), ticker):
        hasher.update(chunk)
    return bytes(hasher.finalize())


def _write(
    source: BinaryIO,
    size: int,
    out_path: str | os.PathLike[str],
    in_path: str | os.PathLike[str],
    recipients: Sequence[x509.Certificate],
    cipher: ContentCipher,
    wrapper: SignedWrapper | None,
    gm: bool,
    recipient_id: str,
    rsa_padding: str,
    profile: str,
    ticker: Callable[[int], None],
) -> EnvelopeInfo:
    params = new_parameters(cipher)
    cek = os.urandom(cipher.key_size)
    use_ski = recipient_id == "ski"
    wrapped = [
        wrap_key(c, cek, use_ski=use_ski, rsa_padding=rsa_padding, profile=profile) for c in recipients
    ]
    infos = cms.RecipientInfos.load(cms.RecipientInfos(wrapped).dump())  # DER sorts a SET OF: keep that order
    prefix, suffix = (wrapper.prefix, wrapper.suffix) if wrapper else (b"", b"")
    plain_length = len(prefix) + size + len(suffix)
    ct_length = params.ciphertext_length(plain_length)
    inner = ("gm_" if gm else "") + ("signed_data" if wrapper else "data")
    eci_body = (
        cms.ContentType(inner).dump() + params.algorithm_identifier().dump() + der_header(0x80, ct_length)
    )
    eci = der_header(0x30, len(eci_body) + ct_length) + eci_body
    mac_length = 2 + params.tag_length if cipher.aead else 0
    version = core.Integer(1 if profile == "gmssl" else 2 if use_ski and not cipher.aead else 0).dump()
    env_length = len(version) + len(infos.dump()) + len(eci) + ct_length + mac_length
    env = der_header(0x30, env_length) + version + infos.dump() + eci
    kind = "authenticated_enveloped_data" if cipher.aead else "gm_enveloped_data" if gm else "enveloped_data"
    outer_type = cms.ContentType(kind).dump()
    explicit = der_header(0xA0, env_length + len(der_header(0x30, env_length)))
    body_length = len(outer_type) + len(explicit) + len(der_header(0x30, env_length)) + env_length
    header = der_header(0x30, body_length) + outer_type + explicit + env
    expected = len(header) + ct_length + mac_length
    with atomic_output(out_path, mode=0o600, protect=(in_path,)) as out:
        out.write(header)
        encryptor = StreamEncryptor(params, cek)
        buffer = bytearray(CHUNK + 32)
        written = len(header)
        for piece in _plaintext(source, size, prefix, suffix, ticker):
            n = encryptor.update_into(piece, buffer)
            out.write(memoryview(buffer)[:n])
            written += n
        tail = encryptor.finalize()
        out.write(tail)
        written += len(tail)
        if cipher.aead:
            mac = core.OctetString(encryptor.tag).dump()
            out.write(mac)
            written += len(mac)
        if written != expected:  # pragma: no cover - a bug, never a user error
            raise AssertionError(f"envelope length {written} != {expected}")
    return EnvelopeInfo(
        path=str(out_path),
        format=FORMATS[kind],
        content_cipher=cipher.name,
        content_cipher_oid=params.algorithm_identifier()["algorithm"].dotted,
        content_type="signed-data" if wrapper else "data",
        recipients=[summarize(i) for i in infos],
        file_size=expected,
        encrypted_size=ct_length,
        signer=wrapper.signer if wrapper else None,
        plaintext_size=size,
        profile=profile,
    )


def _plaintext(
    source: BinaryIO, size: int, prefix: bytes, suffix: bytes, ticker: Callable[[int], None]
) -> Iterator[memoryview]:
    if prefix:
        yield memoryview(prefix)
    yield from _chunks(source, size, bytearray(CHUNK), ticker)
    if suffix:
        yield memoryview(suffix)
