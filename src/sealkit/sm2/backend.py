"""Choosing the SM2 backend.

Two backends do the curve math (the rest — DER, Z, KDF, formats — is shared):

* ``openssl`` — the system OpenSSL 3 ``libcrypto.so.3`` via cffi (:mod:`sealkit.sm2._openssl`), fast and
  constant-time for secret scalars; chosen automatically when it loads and passes its self-test;
* ``python`` — pure Python (:mod:`sealkit.sm2._python`), portable, not constant time.

Set ``SEALKIT_SM2_BACKEND=openssl`` or ``=python`` to force one (forcing ``openssl`` when it cannot load
raises :class:`~sealkit.errors.UnsupportedAlgorithm`). A key object keeps the backend it was made with.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

from sealkit.errors import UnsupportedAlgorithm
from sealkit.sm2.curve import Point

ENV_VAR = "SEALKIT_SM2_BACKEND"


class Backend(Protocol):
    """What a backend provides. Key states are opaque objects owned by the backend."""

    name: str

    def multiply_base(self, k: int) -> Point: ...

    def multiply(self, k: int, point: Point) -> Point: ...

    def load_private(self, d: int) -> Any:
        """Backend state for a private key; it has a ``point`` attribute (d·G)."""
        ...

    def load_public(self, point: Point) -> Any: ...

    def sign_digest(self, key: Any, e: bytes) -> bytes: ...

    def verify_digest(self, key: Any, e: bytes, signature: bytes, r: int, s: int) -> bool: ...


_lock = threading.Lock()
_cache: dict[str, Backend | None] = {}


def _load(name: str) -> Backend | None:
    with _lock:
        if name not in _cache:
            if name == "openssl":
                from sealkit.sm2 import _openssl

                _cache[name] = _openssl.load()
            else:
                from sealkit.sm2._python import PythonBackend

                _cache[name] = PythonBackend()
        return _cache[name]


def available_backends() -> list[str]:
    """Names of the backends that work on this machine, fastest first."""
    return [name for name in ("openssl", "python") if _load(name) is not None]


def get_backend(name: str | None = None) -> Backend:
    """The backend called ``name``, or the one ``SEALKIT_SM2_BACKEND`` names, or the fastest available."""
    wanted = (name or os.environ.get(ENV_VAR, "") or "").strip().lower()
    if wanted in ("openssl", "python"):
        backend = _load(wanted)
        if backend is None:
            raise UnsupportedAlgorithm(
                f"the {wanted} SM2 backend is not available (libcrypto.so.3 not usable)"
            )
        return backend
    if wanted not in ("", "auto"):
        raise UnsupportedAlgorithm(f"unknown SM2 backend {wanted!r} (use openssl or python)")
    backend = _load("openssl")
    if backend is None:
        backend = _load("python")
    assert backend is not None
    return backend
