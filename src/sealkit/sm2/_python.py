"""The pure-Python SM2 backend: the curve arithmetic only, used when libcrypto is not usable.

Jacobian coordinates with the a = −3 doubling formulas, mixed (Jacobian + affine) additions, a 4-bit
fixed-base comb for multiples of G (64 × 15 precomputed affine points, built on first use) and a 4-bit
window with a per-key table for other points. Inverses are ``pow(x, -1, m)``.

This backend is **not constant time** (Python integers are not, and the code branches on scalar digits); it
is correct and portable, and fast enough for a fallback (~1,000 signs/s), but prefer the OpenSSL backend for
long-lived keys on shared machines.
"""

from __future__ import annotations

import secrets
import threading

from sealkit.sm2 import curve
from sealkit.sm2.curve import Point
from sealkit.sm2.signature import encode_signature

_P = curve.P
_N = curve.N

# A point in Jacobian coordinates (X, Y, Z), x = X/Z², y = Y/Z³; Z == 0 is infinity.
_Jac = tuple[int, int, int]
_INF: _Jac = (1, 1, 0)


def _double(pt: _Jac) -> _Jac:
    x, y, z = pt
    if not z or not y:
        return _INF
    delta = z * z % _P
    gamma = y * y % _P
    beta = x * gamma % _P
    alpha = 3 * (x - delta) * (x + delta) % _P
    x3 = (alpha * alpha - 8 * beta) % _P
    z3 = ((y + z) * (y + z) - gamma - delta) % _P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % _P
    return (x3, y3, z3)


def _add_affine(pt: _Jac, q: Point) -> _Jac:
    """pt + q where q is affine (never infinity)."""
    x1, y1, z1 = pt
    if not z1:
        return (q[0], q[1], 1)
    z1z1 = z1 * z1 % _P
    u2 = q[0] * z1z1 % _P
    s2 = q[1] * z1 * z1z1 % _P
    h = (u2 - x1) % _P
    r = (s2 - y1) % _P
    if not h:
        return _double(pt) if not r else _INF
    hh = h * h % _P
    hhh = h * hh % _P
    v = x1 * hh % _P
    x3 = (r * r - hhh - 2 * v) % _P
    y3 = (r * (v - x3) - y1 * hhh) % _P
    return (x3, y3, z1 * h % _P)


def _to_affine(pt: _Jac) -> Point | None:
    x, y, z = pt
    if not z:
        return None
    zi = pow(z, -1, _P)
    zi2 = zi * zi % _P
    return (x * zi2 % _P, y * zi2 * zi % _P)


def _batch_affine(points: list[_Jac]) -> list[Point]:
    """Convert many finite Jacobian points to affine with one inversion (Montgomery's trick)."""
    prefix = [1]
    for _, _, z in points:
        prefix.append(prefix[-1] * z % _P)
    inv = pow(prefix[-1], -1, _P)
    out: list[Point] = [(0, 0)] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        zi = inv * prefix[i] % _P
        inv = inv * z % _P
        zi2 = zi * zi % _P
        out[i] = (x * zi2 % _P, y * zi2 * zi % _P)
    return out


def _window_table(point: Point) -> list[Point]:
    """[P, 2P, …, 15P] in affine coordinates."""
    jac: list[_Jac] = [(point[0], point[1], 1)]
    for _ in range(14):
        jac.append(_add_affine(jac[-1], point))
    return _batch_affine(jac)


_comb_lock = threading.Lock()
_comb: list[list[Point]] | None = None


def _g_comb() -> list[list[Point]]:
    """_comb[i][j-1] = j · 16^i · G for i < 64, 1 ≤ j ≤ 15."""
    global _comb
    if _comb is None:
        with _comb_lock:
            if _comb is None:
                rows = []
                base = curve.G
                for _ in range(64):
                    rows.append(_window_table(base))
                    nxt = _add_affine((*rows[-1][14], 1), base)  # 16·base
                    affine = _to_affine(nxt)
                    assert affine is not None
                    base = affine
                _comb = rows
    return _comb


def _mul_g_jac(k: int, acc: _Jac = _INF) -> _Jac:
    comb = _g_comb()
    i = 0
    while k:
        digit = k & 15
        if digit:
            acc = _add_affine(acc, comb[i][digit - 1])
        k >>= 4
        i += 1
    return acc


def _mul_table_jac(k: int, table: list[Point]) -> _Jac:
    acc = _INF
    for shift in range((k.bit_length() + 3) // 4 * 4 - 4, -4, -4):
        acc = _double(_double(_double(_double(acc))))
        digit = (k >> shift) & 15
        if digit:
            acc = _add_affine(acc, table[digit - 1])
    return acc


def _affine_or_fail(pt: _Jac) -> Point:
    affine = _to_affine(pt)
    if affine is None:
        raise ValueError("result is the point at infinity")
    return affine


class PythonPublicKey:
    """Backend state for a public point: the point and a lazily built window table."""

    def __init__(self, point: Point) -> None:
        self.point = point
        self._table: list[Point] | None = None

    def table(self) -> list[Point]:
        if self._table is None:
            self._table = _window_table(self.point)
        return self._table


class PythonPrivateKey:
    """Backend state for a private key: d and (1 + d)⁻¹ mod n."""

    def __init__(self, d: int, point: Point) -> None:
        self.d = d
        self.inv_1_plus_d = pow(1 + d, -1, _N)
        self.point = point


class PythonBackend:
    """SM2 curve math in pure Python. See the module docstring."""

    name = "python"

    def multiply_base(self, k: int) -> Point:
        """k·G."""
        return _affine_or_fail(_mul_g_jac(k % _N))

    def multiply(self, k: int, point: Point) -> Point:
        """k·point (point already validated)."""
        return _affine_or_fail(_mul_table_jac(k % _N, _window_table(point)))

    def load_private(self, d: int) -> PythonPrivateKey:
        return PythonPrivateKey(d, self.multiply_base(d))

    def load_public(self, point: Point) -> PythonPublicKey:
        return PythonPublicKey(point)

    def sign_digest_with_k(self, key: PythonPrivateKey, e: int, k: int) -> tuple[int, int] | None:
        """One signing attempt with nonce k; None when (r, s) is degenerate and another k is needed."""
        x1 = self.multiply_base(k)[0]
        r = (e + x1) % _N
        if r == 0 or r + k == _N:
            return None
        s = key.inv_1_plus_d * (k - r * key.d) % _N
        if s == 0:
            return None
        return r, s

    def sign_digest(self, key: PythonPrivateKey, e: bytes) -> bytes:
        e_int = int.from_bytes(e, "big")
        while True:
            k = secrets.randbelow(_N - 1) + 1
            rs = self.sign_digest_with_k(key, e_int, k)
            if rs is not None:
                return encode_signature(*rs)

    def verify_digest(self, key: PythonPublicKey, e: bytes, signature: bytes, r: int, s: int) -> bool:
        t = (r + s) % _N
        if t == 0:
            return False
        acc = _mul_g_jac(s, _mul_table_jac(t, key.table()))
        affine = _to_affine(acc)
        if affine is None:
            return False
        return (int.from_bytes(e, "big") + affine[0]) % _N == r
