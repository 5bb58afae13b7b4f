"""What the envelope API returns: :class:`EnvelopeInfo`, :class:`RecipientSummary`, :class:`SignerSummary`,
:class:`DecryptResult`. Plain frozen dataclasses with ``to_dict()`` for ``--json``; never any key material."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sealkit.timefmt import format_time

#: The envelope formats, by asn1crypto content-type name.
FORMATS = {
    "enveloped_data": "cms-enveloped-data",
    "authenticated_enveloped_data": "cms-auth-enveloped-data",
    "gm_enveloped_data": "gmt0010-enveloped-data",
}

#: ``progress(done, total)``: bytes processed so far and the total, called once per chunk.
Progress = Callable[[int, int], None]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class RecipientSummary:
    """One recipient of an envelope, as identified in the file."""

    #: ``issuer CN=…, serial 0x…`` or ``subjectKeyIdentifier …``: what error messages show.
    identifier: str
    #: Key-encryption algorithm: ``rsaes-oaep(sha256)``, ``rsaes-pkcs1v15`` or ``sm2``.
    key_algorithm: str
    key_algorithm_oid: str
    issuer: str | None = None
    serial: int | None = None
    subject_key_identifier: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        data = _plain(asdict(self))
        if self.serial is not None:
            data["serial"] = f"0x{self.serial:x}"
        return dict(data)


@dataclass(frozen=True)
class SignerSummary:
    """The bidder who signed the content before it was enveloped (sign-then-encrypt)."""

    subject: str
    issuer: str
    serial: int
    signature_algorithm: str
    digest_algorithm: str
    signing_time: dt.datetime | None = None
    #: True when the signer's certificate path validated (purpose envelope signing) to a ``trust`` anchor.
    trusted: bool = False
    #: True when the signer's certificate is one of the ``signers`` the caller expected.
    pinned: bool = False
    #: What the path validation said (``… chains to …``), when ``trust`` was given.
    trust_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dict(_plain(asdict(self)))
        data["serial"] = f"0x{self.serial:x}"
        return data


@dataclass(frozen=True)
class EnvelopeInfo:
    """An envelope's visible structure (``inspect``), or what ``encrypt_file`` wrote."""

    path: str
    #: ``cms-auth-enveloped-data`` (RFC 5083), ``cms-enveloped-data`` (RFC 5652),
    #: or ``gmt0010-enveloped-data``.
    format: str
    #: Content-encryption algorithm (``aes-256-gcm``, ``aes-256-cbc``, ``sm4-cbc``…) and its OID.
    content_cipher: str
    content_cipher_oid: str
    #: ``data`` or ``signed-data`` (sign-then-encrypt: the plaintext is a CMS SignedData).
    content_type: str
    recipients: list[RecipientSummary]
    file_size: int
    encrypted_size: int
    #: Known when the envelope was just written (``encrypt_file``); hidden inside the ciphertext otherwise.
    signer: SignerSummary | None = None
    #: Plaintext size (``encrypt_file`` only).
    plaintext_size: int | None = None
    #: ``standard`` or ``gmssl`` (GM/T 0010 as GmSSL 3 reads it: versions 1, key encryption …301.2).
    profile: str = "standard"

    @property
    def signed(self) -> bool:
        return self.content_type == "signed-data"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "content_cipher": self.content_cipher,
            "content_cipher_oid": self.content_cipher_oid,
            "content_type": self.content_type,
            "signed": self.signed,
            "recipients": [r.to_dict() for r in self.recipients],
            "file_size": self.file_size,
            "encrypted_size": self.encrypted_size,
            "plaintext_size": self.plaintext_size,
            "signer": self.signer.to_dict() if self.signer else None,
            "profile": self.profile,
        }


@dataclass(frozen=True)
class DecryptResult:
    """What ``decrypt_file`` checked and wrote."""

    path: str
    size: int
    content_cipher: str
    #: The recipient whose encrypted key the key opened.
    recipient: RecipientSummary
    #: The inner signature (verified before any plaintext was released), if the bid was signed.
    signer: SignerSummary | None = None
    warnings: list[str] = field(default_factory=list)
    #: Whether a signature was required (``require_signed``, ``signers``, or ``trust`` given).
    signature_required: bool = False
    #: Whether the caller allowed an unsigned bid (``allow_unsigned``).
    unsigned_allowed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "content_cipher": self.content_cipher,
            "recipient": self.recipient.to_dict(),
            "signer": self.signer.to_dict() if self.signer else None,
            "signature_required": self.signature_required,
            "unsigned_allowed": self.unsigned_allowed,
            "warnings": list(self.warnings),
        }
