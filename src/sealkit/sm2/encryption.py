"""SM2 public-key encryption (GB/T 32918.4) minus the curve math: ciphertext formats, the KDF, C3.

Ciphertext = C1 || C3 || C2 where C1 = k·G, (x2, y2) = k·P, t = KDF(x2 || y2, len(M)), C2 = M ⊕ t,
C3 = SM3(x2 || M || y2). Decryption computes (x2, y2) = d·C1. Everything here is shared by the backends,
which only supply the scalar multiplications; the PKCS#11 layer uses :func:`decrypt_with_shared_point` or
:func:`decrypt_with_shared_x` to finish a decryption when the token can only do ECDH.

Formats (:class:`CiphertextFormat`) are always explicit: a leading ``04`` is never guessed at (C1.x itself can
begin with the byte 04).

Every decryption failure — malformed input, C1 not on the curve, wrong key, tampered C2 or C3 — raises
:class:`~sealkit.errors.DamagedEnvelope` with the same message, so the error is not an oracle.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import core
from cryptography.hazmat.primitives import hashes

from sealkit.errors import DamagedEnvelope, InvalidInput, InvalidKey
from sealkit.sm2 import curve
from sealkit.sm2.curve import Point

_FAILED = "SM2 decryption failed"


class CiphertextFormat(enum.Enum):
    """Byte layouts of an SM2 ciphertext."""

    #: GM/T 0009 ``SEQUENCE{x INTEGER, y INTEGER, hash OCTET STRING, ciphertext OCTET STRING}`` (C1C3C2);
    #: what ``openssl pkeyutl -encrypt`` writes and what CMS envelopes carry.
    DER = "der"
    #: ``04 || x1 || y1 || C3 || C2`` (GB/T 32918.4-2016 order).
    C1C3C2 = "c1c3c2"
    #: ``x1 || y1 || C3 || C2`` — what gmssl writes in mode 1.
    C1C3C2_NO_PREFIX = "c1c3c2-raw"
    #: ``04 || x1 || y1 || C2 || C3`` (the 2010 draft order, still seen in old systems).
    C1C2C3 = "c1c2c3"
    #: ``x1 || y1 || C2 || C3`` — gmssl mode 0.
    C1C2C3_NO_PREFIX = "c1c2c3-raw"


class _SM2CipherDer(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("x", core.Integer),
        ("y", core.Integer),
        ("hash", core.OctetString),
        ("ciphertext", core.OctetString),
    ]


@dataclass(frozen=True)
class SM2Ciphertext:
    """A parsed ciphertext: C1 (checked to be on the curve), C3 (32 bytes) and C2."""

    c1: Point
    c3: bytes
    c2: bytes

    def encode(self, format: CiphertextFormat = CiphertextFormat.DER) -> bytes:
        """Serialise in ``format``."""
        x, y = self.c1
        if format is CiphertextFormat.DER:
            der: bytes = _SM2CipherDer({"x": x, "y": y, "hash": self.c3, "ciphertext": self.c2}).dump()
            return der
        c1 = curve.scalar_to_bytes(x) + curve.scalar_to_bytes(y)
        if format in (CiphertextFormat.C1C3C2, CiphertextFormat.C1C2C3):
            c1 = b"\x04" + c1
        if format in (CiphertextFormat.C1C3C2, CiphertextFormat.C1C3C2_NO_PREFIX):
            return c1 + self.c3 + self.c2
        return c1 + self.c2 + self.c3

    @classmethod
    def decode(cls, data: bytes, format: CiphertextFormat = CiphertextFormat.DER) -> SM2Ciphertext:
        """Parse ``data`` in exactly the format ``format``; raise :class:`DamagedEnvelope` on any problem."""
        try:
            return cls._decode(bytes(data), CiphertextFormat(format))
        except (ValueError, TypeError, InvalidKey):
            raise DamagedEnvelope(_FAILED) from None

    @classmethod
    def _decode(cls, data: bytes, format: CiphertextFormat) -> SM2Ciphertext:
        h = 32
        if format is CiphertextFormat.DER:
            parsed = _SM2CipherDer.load(data, strict=True)
            if parsed.dump(force=True) != data:  # reject BER and non-minimal encodings
                raise ValueError("not DER")
            x, y = parsed["x"].native, parsed["y"].native
            c3, c2 = parsed["hash"].native, parsed["ciphertext"].native
            if len(c3) != h:
                raise ValueError("bad C3")
            return cls(curve.check_point(x, y), c3, c2)
        prefixed = format in (CiphertextFormat.C1C3C2, CiphertextFormat.C1C2C3)
        if prefixed:
            if not data or data[0] != 4:
                raise ValueError("missing 04")
            data = data[1:]
        if len(data) < 2 * curve.SIZE + h:
            raise ValueError("truncated")
        x = int.from_bytes(data[: curve.SIZE], "big")
        y = int.from_bytes(data[curve.SIZE : 2 * curve.SIZE], "big")
        rest = data[2 * curve.SIZE :]
        if format in (CiphertextFormat.C1C3C2, CiphertextFormat.C1C3C2_NO_PREFIX):
            c3, c2 = rest[:h], rest[h:]
        else:
            c2, c3 = rest[:-h], rest[-h:]
        return cls(curve.check_point(x, y), c3, c2)


def kdf(z: bytes, length: int) -> bytes:
    """The SM3 key derivation function of GB/T 32918.4 §5.4.3: SM3(Z || ct) for ct = 1, 2, … (32-bit)."""
    base = hashes.Hash(hashes.SM3())
    base.update(z)
    out = []
    for counter in range(1, (length + 31) // 32 + 1):
        h = base.copy()
        h.update(counter.to_bytes(4, "big"))
        out.append(h.finalize())
    return b"".join(out)[:length]


def _xor(a: bytes, b: bytes) -> bytes:
    if not a:
        return b""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _c3(x2: bytes, message: bytes, y2: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(x2)
    h.update(message)
    h.update(y2)
    return h.finalize()


def encrypt_with(
    multiply_base: Callable[[int], Point],
    multiply: Callable[[int, Point], Point],
    public: Point,
    plaintext: bytes,
    k: int | None = None,
) -> SM2Ciphertext:
    """Encrypt ``plaintext`` to ``public`` using a backend's scalar multiplications.

    ``k`` is for the test vectors only; by default a fresh k comes from :mod:`secrets` (the OS CSPRNG).
    An empty ``plaintext`` raises :class:`~sealkit.errors.InvalidInput`.
    """
    plaintext = bytes(plaintext)
    if not plaintext:
        # GB/T 32918.4 needs klen > 0 (and OpenSSL refuses an empty message).
        raise InvalidInput("SM2 cannot encrypt an empty message")
    while True:
        kk = k if k is not None else secrets.randbelow(curve.N - 1) + 1
        c1 = multiply_base(kk)
        x2, y2 = (curve.scalar_to_bytes(v) for v in multiply(kk, public))
        t = kdf(x2 + y2, len(plaintext))
        if not any(t):  # GB/T 32918.4 A5: t all zero -> pick another k
            if k is not None:
                raise ValueError("the given k yields an all-zero KDF output")
            continue
        return SM2Ciphertext(c1, _c3(x2, plaintext, y2), _xor(plaintext, t))


def _finish(ct: SM2Ciphertext, x2: bytes, y2: bytes) -> bytes | None:
    t = kdf(x2 + y2, len(ct.c2))
    if not any(t):  # also refuses an empty C2
        return None
    message = _xor(ct.c2, t)
    return message if hmac.compare_digest(_c3(x2, message, y2), ct.c3) else None


def decrypt_with_shared_point(
    ciphertext: bytes,
    shared_point_fn: Callable[[bytes], bytes],
    format: CiphertextFormat = CiphertextFormat.DER,
) -> bytes:
    """Finish an SM2 decryption given a function computing d·C1.

    ``shared_point_fn`` receives C1 as an uncompressed SEC 1 point (``04 || x1 || y1``, 65 bytes; already
    checked to be on the curve) and returns d·C1 as ``x2 || y2`` (64 bytes) or ``04 || x2 || y2`` (65 bytes).
    Raises :class:`DamagedEnvelope` on any failure.
    """
    ct = SM2Ciphertext.decode(ciphertext, format)
    shared = bytes(shared_point_fn(curve.encode_point(ct.c1)))
    if len(shared) == 2 * curve.SIZE + 1 and shared[0] == 4:
        shared = shared[1:]
    if len(shared) != 2 * curve.SIZE:
        raise DamagedEnvelope(_FAILED)
    message = _finish(ct, shared[: curve.SIZE], shared[curve.SIZE :])
    if message is None:
        raise DamagedEnvelope(_FAILED)
    return message


def decrypt_with_shared_x(
    ciphertext: bytes,
    shared_x_fn: Callable[[bytes], bytes],
    format: CiphertextFormat = CiphertextFormat.DER,
) -> bytes:
    """Finish an SM2 decryption when only x2 = (d·C1).x is available (PKCS#11 ``CKM_ECDH1_DERIVE`` with
    ``CKD_NULL`` on a token without SM2, e.g. SoftHSM).

    ``shared_x_fn`` receives C1 as ``04 || x1 || y1`` (65 bytes) and returns x2 (32 bytes, big-endian). y2
    is recovered as a square root mod p (p ≡ 3 mod 4 so it is a single exponentiation); of the two roots
    ±y2, the one for which C3 matches is used. Both candidates are always tried, and C3 is compared in
    constant time. Raises :class:`DamagedEnvelope` on any failure.
    """
    ct = SM2Ciphertext.decode(ciphertext, format)
    x2_raw = bytes(shared_x_fn(curve.encode_point(ct.c1)))
    if len(x2_raw) != curve.SIZE:
        raise DamagedEnvelope(_FAILED)
    try:
        candidates = curve.y_candidates(int.from_bytes(x2_raw, "big"))
    except InvalidKey:
        raise DamagedEnvelope(_FAILED) from None
    results = [_finish(ct, x2_raw, curve.scalar_to_bytes(y)) for y in candidates]
    message = results[0] if results[0] is not None else results[1]
    if message is None:
        raise DamagedEnvelope(_FAILED)
    return message
