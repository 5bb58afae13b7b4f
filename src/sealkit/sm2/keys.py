"""SM2 key objects, shaped like pyca/cryptography's: :class:`SM2PrivateKey` and :class:`SM2PublicKey`.

Keys are immutable and thread-safe. Each key is bound to the backend it was created with (see
:mod:`sealkit.sm2.backend`); keys from different backends interoperate (same encodings, same results).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes

from sealkit.errors import DamagedEnvelope, InvalidInput, InvalidKey, InvalidSignature
from sealkit.sm2 import curve, serialization
from sealkit.sm2.backend import Backend, get_backend
from sealkit.sm2.curve import Point
from sealkit.sm2.encryption import CiphertextFormat, SM2Ciphertext, decrypt_with_shared_point, encrypt_with
from sealkit.sm2.signature import DEFAULT_UID, compute_z_from_point, decode_signature

__all__ = [
    "SM2PrivateKey",
    "SM2PublicKey",
    "SM2PublicNumbers",
    "compute_z",
    "derive_private_key",
    "generate_private_key",
    "load_der_private_key",
    "load_der_public_key",
    "load_pem_private_key",
    "load_pem_public_key",
]

_DIGEST_SIZE = 32


@dataclass(frozen=True)
class SM2PublicNumbers:
    """The affine coordinates of an SM2 public point."""

    x: int
    y: int


class SM2PublicKey:
    """An SM2 public key: verify signatures, encrypt, serialise.

    Make one with :meth:`from_point`, :meth:`from_encoded_point`, :func:`load_pem_public_key`,
    :func:`load_der_public_key` or :meth:`SM2PrivateKey.public_key`. The point is always checked to be on
    the curve (the point at infinity has no encoding and is refused).
    """

    __slots__ = ("_backend", "_point", "_state", "_z_cache", "_e_prefix", "_lock")

    def __init__(self, point: Point, backend: Backend, state: Any = None) -> None:
        """Internal: use the ``from_*`` constructors or the loaders."""
        self._point = curve.check_point(*point)
        self._backend = backend
        self._state = state
        self._z_cache: dict[bytes, bytes] = {}
        # Per uid, an SM3 state that has already absorbed Z: e = copy, update(M), finalize. Never updated
        # in place, so sharing it between threads is safe.
        self._e_prefix: dict[bytes, hashes.Hash] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_point(cls, x: int, y: int, *, backend: str | None = None) -> SM2PublicKey:
        """The public key with affine coordinates ``(x, y)``; :class:`InvalidKey` if not on the curve."""
        return cls((x, y), get_backend(backend))

    @classmethod
    def from_encoded_point(cls, data: bytes, *, backend: str | None = None) -> SM2PublicKey:
        """From a SEC 1 point: ``04 || x || y`` (65 bytes) or compressed ``02/03 || x`` (33 bytes)."""
        return cls(curve.decode_point(bytes(data)), get_backend(backend))

    def _backend_state(self) -> Any:
        if self._state is None:
            with self._lock:
                if self._state is None:
                    self._state = self._backend.load_public(self._point)
        return self._state

    # --- values ----------

    @property
    def x(self) -> int:
        """Affine x."""
        return self._point[0]

    @property
    def y(self) -> int:
        """Affine y."""
        return self._point[1]

    @property
    def backend_name(self) -> str:
        """``openssl`` or ``python``."""
        return self._backend.name

    def public_numbers(self) -> SM2PublicNumbers:
        """The point as :class:`SM2PublicNumbers`."""
        return SM2PublicNumbers(*self._point)

    def encoded_point(self, compressed: bool = False) -> bytes:
        """SEC 1 octet string of the point (``04 || x || y`` unless ``compressed``)."""
        return curve.encode_point(self._point, compressed)

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        """The asn1crypto ``PublicKeyInfo`` (id-ecPublicKey, curve sm2p256v1)."""
        return serialization.public_key_info(self._point)

    def to_der(self) -> bytes:
        """DER ``SubjectPublicKeyInfo``."""
        der: bytes = self.public_key_info().dump()
        return der

    def to_pem(self) -> bytes:
        """PEM ``PUBLIC KEY``."""
        return serialization.pem_encode("PUBLIC KEY", self.to_der())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and other._point == self._point

    def __hash__(self) -> int:
        return hash(("sm2-public", self._point))

    def __repr__(self) -> str:
        return f"<SM2PublicKey x={self.x:064x} backend={self.backend_name}>"

    # --- signatures ----------

    def z(self, uid: bytes = DEFAULT_UID) -> bytes:
        """Z for this key and ``uid`` (cached per uid)."""
        uid = bytes(uid)
        z = self._z_cache.get(uid)
        if z is None:
            z = compute_z_from_point(self.x, self.y, uid)
            if len(self._z_cache) < 64:
                self._z_cache[uid] = z
        return z

    def digest(self, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """e = SM3(Z || data), what :meth:`SM2PrivateKey.sign_digest` signs."""
        if type(uid) is not bytes:
            uid = bytes(uid)
        prefix = self._e_prefix.get(uid)
        if prefix is None:
            prefix = hashes.Hash(hashes.SM3())
            prefix.update(self.z(uid))
            if len(self._e_prefix) < 64:
                self._e_prefix[uid] = prefix
        h = prefix.copy()
        h.update(data)
        return h.finalize()

    def verify(self, signature: bytes, data: bytes, uid: bytes = DEFAULT_UID) -> None:
        """Check an SM2 signature (DER ``SEQUENCE{r, s}``) over ``data``; raise :class:`InvalidSignature`."""
        self.verify_digest(signature, self.digest(data, uid))

    def verify_digest(self, signature: bytes, e: bytes) -> None:
        """Check a signature over an already computed e = SM3(Z || M) (32 bytes)."""
        if len(e) != _DIGEST_SIZE:
            raise InvalidSignature("the SM2 digest e must be 32 bytes")
        r, s = decode_signature(signature)
        if not self._backend.verify_digest(self._backend_state(), bytes(e), bytes(signature), r, s):
            raise InvalidSignature("the SM2 signature does not verify")

    # --- encryption ----------

    def encrypt(self, data: bytes, format: CiphertextFormat = CiphertextFormat.DER) -> bytes:
        """SM2-encrypt ``data`` to this key; GM/T 0009 DER by default (``openssl pkeyutl -encrypt``)."""
        ct = encrypt_with(self._backend.multiply_base, self._backend.multiply, self._point, data)
        return ct.encode(format)

    def _encrypt_with_k(self, data: bytes, k: int, format: CiphertextFormat = CiphertextFormat.DER) -> bytes:
        """TEST HOOK ONLY: encrypt with a fixed nonce ``k`` to reproduce the GB/T 32918.4 vector."""
        ct = encrypt_with(self._backend.multiply_base, self._backend.multiply, self._point, data, k=k)
        return ct.encode(format)


class SM2PrivateKey:
    """An SM2 private key: sign, decrypt, serialise.

    Make one with :func:`generate_private_key`, :func:`derive_private_key` or the loaders. ``repr`` never
    shows the private value.
    """

    __slots__ = ("_backend", "_d", "_state", "_public")

    def __init__(self, d: int, backend: Backend) -> None:
        """Internal: use :func:`generate_private_key`, :func:`derive_private_key` or the loaders."""
        self._d = curve.check_private_value(d)
        self._backend = backend
        self._state = backend.load_private(d)
        self._public = SM2PublicKey(self._state.point, backend)

    @property
    def private_value(self) -> int:
        """The secret scalar d. Exposed for tests and key-escrow tooling only: never log or print it."""
        return self._d

    @property
    def backend_name(self) -> str:
        """``openssl`` or ``python``."""
        return self._backend.name

    def public_key(self) -> SM2PublicKey:
        """The matching public key (same backend)."""
        return self._public

    def __repr__(self) -> str:
        return f"<SM2PrivateKey public_x={self._public.x:064x} backend={self.backend_name}>"

    # --- signatures ----------

    def sign(self, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """Sign ``data`` (SM2 with SM3 and user ID ``uid``); returns DER ``SEQUENCE{r, s}``."""
        return self._backend.sign_digest(self._state, self._public.digest(data, uid))

    def sign_digest(self, e: bytes) -> bytes:
        """Sign an already computed e = SM3(Z || M) (32 bytes); returns DER ``SEQUENCE{r, s}``."""
        if len(e) != _DIGEST_SIZE:
            raise InvalidInput("the SM2 digest e must be 32 bytes")
        return self._backend.sign_digest(self._state, bytes(e))

    def _sign_digest_with_k(self, e: bytes, k: int) -> bytes:
        """TEST HOOK ONLY: sign e with the fixed nonce ``k`` (pure-Python math whatever the backend), to
        reproduce the GB/T 32918.5 vector. Reusing a k for two messages reveals the private key."""
        from sealkit.sm2._python import PythonBackend, PythonPrivateKey
        from sealkit.sm2.signature import encode_signature

        rs = PythonBackend().sign_digest_with_k(
            PythonPrivateKey(self._d, self._public._point), int.from_bytes(e, "big"), k
        )
        if rs is None:
            raise ValueError("this k gives a degenerate signature")
        return encode_signature(*rs)

    # --- decryption ----------

    def exchange(self, point: Point) -> Point:
        """d·point for a point already checked to be on the curve (the SM2 decryption primitive)."""
        return self._backend.multiply(self._d, curve.check_point(*point))

    def decrypt(self, ciphertext: bytes, format: CiphertextFormat = CiphertextFormat.DER) -> bytes:
        """Decrypt an SM2 ciphertext in format ``format``; any failure raises :class:`DamagedEnvelope`."""

        def shared(c1: bytes) -> bytes:
            x2, y2 = self.exchange(curve.decode_point(c1))
            return curve.scalar_to_bytes(x2) + curve.scalar_to_bytes(y2)

        try:
            return decrypt_with_shared_point(ciphertext, shared, format)
        except (ValueError, InvalidKey):
            raise DamagedEnvelope("SM2 decryption failed") from None

    # --- serialisation ----------

    def to_der(
        self, password: bytes | None = None, *, iterations: int = serialization.DEFAULT_PBKDF2_ITERATIONS
    ) -> bytes:
        """PKCS#8 DER; PBES2-encrypted (PBKDF2-HMAC-SHA256, AES-256-CBC) when ``password`` is given."""
        der = serialization.encode_pkcs8(self._d, self._public._point)
        return der if password is None else serialization.encrypt_pkcs8(der, password, iterations)

    def to_pem(
        self, password: bytes | None = None, *, iterations: int = serialization.DEFAULT_PBKDF2_ITERATIONS
    ) -> bytes:
        """PEM ``PRIVATE KEY``, or ``ENCRYPTED PRIVATE KEY`` when ``password`` is given."""
        label = "PRIVATE KEY" if password is None else "ENCRYPTED PRIVATE KEY"
        return serialization.pem_encode(label, self.to_der(password, iterations=iterations))

    def to_sec1_der(self) -> bytes:
        """SEC 1 ``ECPrivateKey`` DER (unencrypted; prefer :meth:`to_der`)."""
        return serialization.encode_sec1(self._d, self._public._point)


# --- constructors and loaders ----------


def generate_private_key(*, backend: str | None = None) -> SM2PrivateKey:
    """A new random SM2 key (d from the OS CSPRNG via :mod:`secrets`)."""
    return SM2PrivateKey(secrets.randbelow(curve.N - 2) + 1, get_backend(backend))


def derive_private_key(d: int, *, backend: str | None = None) -> SM2PrivateKey:
    """The SM2 key with private value ``d`` (1 ≤ d ≤ n − 2)."""
    return SM2PrivateKey(d, get_backend(backend))


def _private_from(d: int, embedded: Point | None, backend: str | None) -> SM2PrivateKey:
    key = SM2PrivateKey(d, get_backend(backend))
    if embedded is not None and embedded != key.public_key()._point:
        raise InvalidKey("the private key file's public key does not match its private value")
    return key


def load_der_private_key(
    data: bytes, password: bytes | None = None, *, backend: str | None = None
) -> SM2PrivateKey:
    """Load a DER SM2 private key: PKCS#8, PBES2-encrypted PKCS#8 (needs ``password``) or SEC 1."""
    d, embedded = serialization.decode_private(data, password)
    return _private_from(d, embedded, backend)


def load_pem_private_key(
    data: bytes, password: bytes | None = None, *, backend: str | None = None
) -> SM2PrivateKey:
    """Load a PEM SM2 private key (``PRIVATE KEY``, ``ENCRYPTED PRIVATE KEY``, or SEC 1 ``EC PRIVATE KEY`` /
    ``SM2 PRIVATE KEY``)."""
    der = serialization.pem_decode(bytes(data), serialization.PRIVATE_LABELS)
    return load_der_private_key(der, password, backend=backend)


def load_der_public_key(data: bytes, *, backend: str | None = None) -> SM2PublicKey:
    """Load a DER ``SubjectPublicKeyInfo`` with an SM2 point."""
    return SM2PublicKey(serialization.decode_spki(bytes(data)), get_backend(backend))


def load_pem_public_key(data: bytes, *, backend: str | None = None) -> SM2PublicKey:
    """Load a PEM ``PUBLIC KEY``."""
    return load_der_public_key(serialization.pem_decode(bytes(data), ("PUBLIC KEY",)), backend=backend)


def compute_z(public_key: SM2PublicKey, uid: bytes = DEFAULT_UID) -> bytes:
    """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) for ``public_key`` and ``uid``."""
    return public_key.z(uid)


def decode_ciphertext(data: bytes, format: CiphertextFormat = CiphertextFormat.DER) -> SM2Ciphertext:
    """Parse a ciphertext (C1 checked on the curve); :class:`DamagedEnvelope` on any problem."""
    return SM2Ciphertext.decode(data, format)
