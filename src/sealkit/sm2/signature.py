"""What SM2 signing shares between backends: Z, e = SM3(Z || M) and the strict DER of ``SEQUENCE{r, s}``.

GB/T 32918.2: Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), where ENTL is the bit length of the user
ID as two big-endian bytes; the signed value is e = SM3(Z || M). The default ID (GM/T 0009) is
``1234567812345678``.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sealkit.errors import InvalidInput, InvalidSignature
from sealkit.sm2 import curve
from sealkit.sm2.oids import DEFAULT_SM2_ID

#: The default SM2 user ID of GM/T 0009, used unless a caller gives another one.
DEFAULT_UID = DEFAULT_SM2_ID

_Z_PREFIX_CURVE = b"".join(curve.scalar_to_bytes(v) for v in (curve.A, curve.B, curve.GX, curve.GY))


def compute_z_from_point(x: int, y: int, uid: bytes = DEFAULT_UID) -> bytes:
    """Z for the public point ``(x, y)`` and user ID ``uid`` (32 bytes)."""
    bits = len(uid) * 8
    if bits > 0xFFFF:
        raise InvalidInput("the SM2 user ID is longer than 8191 bytes")
    h = hashes.Hash(hashes.SM3())
    h.update(
        bits.to_bytes(2, "big") + uid + _Z_PREFIX_CURVE + curve.scalar_to_bytes(x) + curve.scalar_to_bytes(y)
    )
    return h.finalize()


def compute_e(z: bytes, data: bytes) -> bytes:
    """e = SM3(Z || M), the 32 bytes that are actually signed."""
    h = hashes.Hash(hashes.SM3())
    h.update(z)
    h.update(data)
    return h.finalize()


def _der_int(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")  # always room for a leading 0 bit
    if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
        body = body[1:]
    return b"\x02" + bytes([len(body)]) + body


def encode_signature(r: int, s: int) -> bytes:
    """DER ``SEQUENCE{INTEGER r, INTEGER s}`` for 1 ≤ r, s < n."""
    if not (0 < r < curve.N and 0 < s < curve.N):
        raise ValueError("r and s must be in [1, n-1]")
    body = _der_int(r) + _der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def der_from_raw(raw: bytes) -> bytes:
    """DER ``SEQUENCE{r, s}`` from ``r || s`` (two equal halves, as tokens return SM2 and ECDSA)."""
    if len(raw) % 2 or not raw:
        raise ValueError(f"a {len(raw)}-byte value is not r||s")
    half = len(raw) // 2
    return bytes(encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")))


def _read_int(sig: bytes, pos: int) -> tuple[int, int]:
    if pos + 2 > len(sig) or sig[pos] != 0x02:
        raise InvalidSignature("malformed SM2 signature")
    length = sig[pos + 1]
    start = pos + 2
    end = start + length
    # 33 bytes is the most a 256-bit positive integer takes; the long length form is never minimal here.
    if length == 0 or length > 33 or end > len(sig):
        raise InvalidSignature("malformed SM2 signature")
    if sig[start] & 0x80:
        raise InvalidSignature("malformed SM2 signature (negative integer)")
    if length > 1 and sig[start] == 0 and not sig[start + 1] & 0x80:
        raise InvalidSignature("malformed SM2 signature (non-minimal integer)")
    return int.from_bytes(sig[start:end], "big"), end


def decode_signature(sig: bytes) -> tuple[int, int]:
    """Parse strict DER ``SEQUENCE{r, s}``; raise :class:`InvalidSignature` for anything else.

    Rejected: any BER-only form (long or indefinite lengths, non-minimal or negative integers), trailing
    bytes, and r or s outside [1, n − 1].
    """
    if not isinstance(sig, bytes | bytearray | memoryview):
        raise InvalidSignature("an SM2 signature is bytes")
    sig = bytes(sig)
    if len(sig) < 8 or sig[0] != 0x30 or sig[1] != len(sig) - 2:
        raise InvalidSignature("malformed SM2 signature")
    r, pos = _read_int(sig, 2)
    s, pos = _read_int(sig, pos)
    if pos != len(sig):
        raise InvalidSignature("malformed SM2 signature (trailing data)")
    if not (0 < r < curve.N and 0 < s < curve.N):
        raise InvalidSignature("SM2 signature value out of range")
    return r, s
