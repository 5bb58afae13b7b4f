"""The SM2 recommended curve (GB/T 32918.5) and the point checks every backend shares.

Points are plain ``(x, y)`` integer tuples in affine coordinates; the point at infinity has no encoding here
and is always rejected. Nothing in this module touches secret values except :func:`scalar_to_bytes`.
"""

from __future__ import annotations

from sealkit.errors import InvalidKey

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
G = (GX, GY)
#: Field element / scalar size in bytes.
SIZE = 32

Point = tuple[int, int]


def is_on_curve(x: int, y: int) -> bool:
    """True when ``(x, y)`` are field elements satisfying y² = x³ + ax + b (so it is not infinity)."""
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def check_point(x: int, y: int) -> Point:
    """Return ``(x, y)`` if it is a valid public point, else raise :class:`~sealkit.errors.InvalidKey`.

    The SM2 curve has cofactor 1, so every point on the curve other than infinity is in the group.
    """
    if not is_on_curve(x, y):
        raise InvalidKey("the SM2 point is not on the curve")
    return (x, y)


def check_private_value(d: int) -> int:
    """Return ``d`` if it is a valid SM2 private key: 1 ≤ d ≤ n − 2 (GB/T 32918.1 §6.1; d = n − 1 has no
    (1 + d)⁻¹)."""
    if not isinstance(d, int) or not 1 <= d <= N - 2:
        raise InvalidKey("the SM2 private value is out of range")
    return d


def sqrt_mod_p(a: int) -> int | None:
    """A square root of ``a`` mod p, or None. p ≡ 3 (mod 4), so it is a^((p+1)/4)."""
    a %= P
    root = pow(a, (P + 1) // 4, P)
    return root if root * root % P == a else None


def y_candidates(x: int) -> tuple[int, int]:
    """The two y with (x, y) on the curve, even one first; raise :class:`InvalidKey` if there are none."""
    if not 0 <= x < P:
        raise InvalidKey("the SM2 x coordinate is not a field element")
    y = sqrt_mod_p(x * x * x + A * x + B)
    if y is None:
        raise InvalidKey("no SM2 point has that x coordinate")
    if y & 1:
        y = P - y
    return (y, (P - y) % P)


def scalar_to_bytes(value: int) -> bytes:
    """Big-endian, 32 bytes."""
    return value.to_bytes(SIZE, "big")


def encode_point(point: Point, compressed: bool = False) -> bytes:
    """SEC 1 octet string of a point: ``04 || x || y`` or ``02/03 || x``."""
    x, y = point
    if compressed:
        return bytes([2 | (y & 1)]) + scalar_to_bytes(x)
    return b"\x04" + scalar_to_bytes(x) + scalar_to_bytes(y)


def decode_point(data: bytes) -> Point:
    """Parse a SEC 1 point (uncompressed or compressed) and check it; raise :class:`InvalidKey`."""
    if len(data) == 1 + 2 * SIZE and data[0] == 4:
        return check_point(int.from_bytes(data[1 : 1 + SIZE], "big"), int.from_bytes(data[1 + SIZE :], "big"))
    if len(data) == 1 + SIZE and data[0] in (2, 3):
        even, odd = y_candidates(int.from_bytes(data[1:], "big"))
        x = int.from_bytes(data[1:], "big")
        return check_point(x, odd if data[0] == 3 else even)
    raise InvalidKey("not an SM2 point encoding (expected 65 bytes starting 04, or 33 starting 02/03)")
