"""The one interface every private key in sealkit has, wherever it lives (UKey over PKCS#11, or a file).

PDF signing, seal making and envelope opening only ever see a :class:`PrivateKeyHandle`. Signatures come
back normalised: DER ``SEQUENCE{r, s}`` for SM2 and ECDSA, the raw block for RSA. ``sign`` takes the whole
message; the handle does the hashing (for SM2 it computes Z with the user ID, then e = SM3(Z || M)).
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509

from sealkit.sm2.oids import DEFAULT_SM2_ID

DEFAULT_SM2_UID = DEFAULT_SM2_ID


class KeyKind(enum.StrEnum):
    """The kinds of key sealkit signs and decrypts with."""

    SM2 = "sm2"
    RSA = "rsa"
    P256 = "p256"


@dataclass(frozen=True)
class SignOptions:
    """How to sign: the digest, RSA padding and the SM2 user ID.

    ``digest`` is one of ``sha256``, ``sha384``, ``sha512`` or ``sm3``; SM2 keys always use ``sm3``.
    """

    digest: str = "sha256"
    rsa_padding: str = "pkcs1v15"  # or "pss"
    sm2_uid: bytes = DEFAULT_SM2_UID


@dataclass
class KeyInfo:
    """What a listing shows of a key (no secret material)."""

    label: str
    key_id: bytes
    kind: KeyKind | None
    has_certificate: bool
    uri: str
    extra: dict[str, object] = field(default_factory=dict)


class PrivateKeyHandle(abc.ABC):
    """A private key that signs and decrypts without ever revealing itself."""

    #: The key's kind.
    kind: KeyKind
    #: A human-readable name (token label / object label, or file name). Never a secret.
    label: str

    @abc.abstractmethod
    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        """The key's SubjectPublicKeyInfo."""

    @abc.abstractmethod
    def certificate(self) -> asn1_x509.Certificate | None:
        """The certificate stored with the key, if any."""

    def chain(self) -> list[asn1_x509.Certificate]:
        """Further certificates (intermediates) stored with the key, leaf excluded."""
        return []

    @abc.abstractmethod
    def sign(self, data: bytes, options: SignOptions | None = None) -> bytes:
        """Sign the whole message ``data``; returns DER ``SEQUENCE{r,s}`` (SM2, ECDSA) or the RSA block."""

    def decrypt(
        self,
        ciphertext: bytes,
        *,
        rsa_padding: str = "oaep",
        oaep_hash: str = "sha256",
        mgf_hash: str | None = None,
    ) -> bytes:
        """Decrypt: RSA (``oaep`` or ``pkcs1v15``; OAEP's MGF1 hash is ``mgf_hash``, else ``oaep_hash``) or
        SM2 (GM/T 0009 DER ciphertext)."""
        from sealkit.errors import MechanismNotSupported

        raise MechanismNotSupported(f"key {self.label!r} cannot decrypt")

    def x509_signer(self, algorithm: str | None = None) -> Any:
        """A :class:`sealkit.sm2.x509.Signer` for certificates and CSRs signed by this key (``algorithm`` is
        an asn1crypto name such as ``sha256_rsa``; by default the key kind's usual one)."""
        from sealkit.sm2.x509 import Signer

        default = {KeyKind.SM2: "sm2_sm3", KeyKind.RSA: "sha256_rsa", KeyKind.P256: "sha256_ecdsa"}
        algo = algorithm or default[self.kind]
        options = SignOptions(digest="sm3" if self.kind == KeyKind.SM2 else algo.split("_")[0])
        return Signer(algo, lambda data: self.sign(data, options))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions or handles; the handle is unusable afterwards."""

    def __enter__(self) -> PrivateKeyHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
