"""The one-time self-check of a (token, SM2 profile): sign a random message, verify it in software.

The result is cached in memory per (module, token serial, key, profile). On failure the variants a
misconfigured profile typically gets wrong are tried — signature DER vs r||s, the user ID not passed (so
the token used its default or an empty one), Z not applied (the token signed SM3(M) or M itself) — and
:class:`~sealkit.errors.SelfTestFailed` names the one that verifies.
"""

from __future__ import annotations

import os
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import load_der_public_key

from sealkit.errors import SelfTestFailed
from sealkit.sm2.signature import der_from_raw
from sealkit.ukey import _sm2
from sealkit.ukey.base import KeyKind, PrivateKeyHandle, SignOptions

_cache: dict[tuple[str, ...], str] = {}
_lock = threading.Lock()
_TEST_UID = b"sealkit-selftest"


def _cache_key(key: PrivateKeyHandle) -> tuple[str, ...]:
    profile = getattr(key, "profile", None)
    return (key.label, key.public_key_info().dump().hex(), profile.name if profile else "")


def self_test(key: PrivateKeyHandle, *, force: bool = False) -> str:
    """Check that ``key`` makes signatures that verify in software; returns a one-line summary."""
    cache_key = _cache_key(key)
    with _lock:
        if not force and cache_key in _cache:
            return _cache[cache_key]
    message = os.urandom(48)
    spki = key.public_key_info()
    if key.kind is KeyKind.SM2:
        for uid in (_sm2.DEFAULT_UID_BYTES, _TEST_UID):
            sig = key.sign(message, SignOptions(digest="sm3", sm2_uid=uid))
            if not _sm2.verify(spki, sig, message, uid):
                raise SelfTestFailed(_diagnose(key, sig, message, uid))
        summary = f"{key.label}: SM2 signatures verify (default and custom user ID)"
    else:
        sig = key.sign(message)
        pub = load_der_public_key(spki.dump())
        try:
            if key.kind is KeyKind.P256:
                assert isinstance(pub, ec.EllipticCurvePublicKey)
                pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))
            else:
                from cryptography.hazmat.primitives.asymmetric import padding, rsa

                assert isinstance(pub, rsa.RSAPublicKey)
                pub.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
        except Exception:  # noqa: BLE001 - any failure to verify
            raise SelfTestFailed(
                f"{key.label}: the {key.kind} signature does not verify with the key's public key"
            ) from None
        summary = f"{key.label}: {key.kind} signatures verify"
    with _lock:
        _cache[cache_key] = summary
    return summary


def _diagnose(key: PrivateKeyHandle, sig: bytes, message: bytes, uid: bytes) -> str:
    """Which variant of the signature verifies, as advice."""
    spki = key.public_key_info()
    profile = getattr(key, "profile", None)
    name = profile.name if profile else "?"
    head = f"profile {name}: SM2 self-test failed"
    candidates: list[tuple[str, bytes]] = [("as given", sig)]
    if len(sig) == 64:
        candidates.append(("raw r||s read as DER", _raw_to_der(sig)))
    else:
        try:
            r, s = utils.decode_dss_signature(sig)
            candidates.append(("DER read as r||s", r.to_bytes(32, "big") + s.to_bytes(32, "big")))
        except ValueError:
            pass
    for label, candidate in candidates:
        for other_uid, why in (
            (_sm2.DEFAULT_UID_BYTES, "the token ignored the user ID (used the default)"),
            (b"", "the token used an empty user ID"),
        ):
            if other_uid != uid and _try(spki, candidate, message, other_uid):
                return f"{head}: {why}; set id_as_parameter or use sign_over_e ({label})"
        if _verifies_without_z(spki, candidate, message):
            return f"{head}: Z was not applied (the token signed SM3(M)); use sign_over_e"
        if label != "as given" and _try(spki, candidate, message, uid):
            fmt = "der" if len(sig) != 64 else "raw"
            return f"{head}: wrong signature format; set signature_format = {fmt!r}"
    return f"{head}: no known variant verifies; check the mechanism codes"


def _try(spki: object, sig: bytes, message: bytes, uid: bytes) -> bool:
    try:
        return _sm2.verify(spki, sig, message, uid)
    except Exception:  # noqa: BLE001 - malformed candidate
        return False


def _verifies_without_z(spki: object, sig: bytes, message: bytes) -> bool:
    from sealkit.sm2 import load_der_public_key as load_sm2

    h = hashes.Hash(hashes.SM3())
    h.update(message)
    try:
        load_sm2(spki.dump()).verify_digest(sig, h.finalize())  # type: ignore[attr-defined]
        return True
    except Exception:  # noqa: BLE001
        return False


def _raw_to_der(raw: bytes) -> bytes:
    return der_from_raw(raw)
