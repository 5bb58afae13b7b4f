"""The one place :mod:`sealkit.ukey` touches :mod:`sealkit.sm2` (imported lazily, so RSA/P-256 users do not
load it): load, sign, decrypt, generate and serialise SM2 software keys, Z and e for tokens."""

from __future__ import annotations

from typing import Any

from asn1crypto import keys as asn1_keys

from sealkit.errors import DecodingError, InvalidKey, PinIncorrect, PinRequired
from sealkit.sm2.oids import DEFAULT_SM2_ID

SM2_CURVE_OID = "1.2.156.10197.1.301"
#: DER of the SM2 curve OID, as PKCS#11 CKA_EC_PARAMS.
SM2_EC_PARAMS = bytes.fromhex("06082a811ccf5501822d")


def _sm2() -> Any:
    import sealkit.sm2 as sm2

    return sm2


def is_sm2_key(key: Any) -> bool:
    cls = getattr(_sm2(), "SM2PrivateKey", None)
    return cls is not None and isinstance(key, cls)


def load_private_key(data: bytes, password: bytes | None, label: str) -> Any:
    """An SM2 private key from PEM/DER (PKCS#8, encrypted PKCS#8, SEC1)."""
    sm2 = _sm2()
    loader = sm2.load_pem_private_key if data.lstrip().startswith(b"-----") else sm2.load_der_private_key
    try:
        return loader(data, password)
    except PinRequired:
        raise
    except (DecodingError, InvalidKey) as exc:
        if password is not None:
            raise PinIncorrect(f"wrong password for key file {label!r}") from None
        raise DecodingError(f"{label}: {exc.message}") from None


def generate() -> Any:
    return _sm2().generate_private_key()


def public_key_info(key: Any) -> asn1_keys.PublicKeyInfo:
    """The SubjectPublicKeyInfo of an SM2 private (or public) key object."""
    pub = key.public_key() if hasattr(key, "public_key") else key
    info = pub.public_key_info()
    assert isinstance(info, asn1_keys.PublicKeyInfo)
    return info


def private_pem(key: Any, password: bytes) -> bytes:
    """Encrypted PKCS#8 PEM of an SM2 key."""
    return bytes(key.to_pem(password))


def sign(key: Any, data: bytes, uid: bytes) -> bytes:
    return bytes(key.sign(data, uid=uid))


def decrypt(key: Any, ciphertext: bytes) -> bytes:
    return bytes(key.decrypt(ciphertext))


def point_of(spki: asn1_keys.PublicKeyInfo) -> tuple[int, int]:
    """The public point (x, y) of an EC SubjectPublicKeyInfo."""
    raw = bytes(spki["public_key"].contents)
    if raw[0] == 0:  # BIT STRING unused-bits byte
        raw = raw[1:]
    if len(raw) != 65 or raw[0] != 4:
        raise InvalidKey("expected an uncompressed EC point")
    return int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")


def is_sm2_spki(spki: asn1_keys.PublicKeyInfo) -> bool:
    if spki["algorithm"]["algorithm"].native != "ec":
        return False
    params = spki["algorithm"]["parameters"]
    return params.name == "named" and params.chosen.dotted == SM2_CURVE_OID


def digest_e(spki: asn1_keys.PublicKeyInfo, data: bytes, uid: bytes) -> bytes:
    """e = SM3(Z || M) for the key ``spki`` and user ID ``uid`` (what a token signs "over e")."""
    return e_from_z(digest_z(spki, uid), data)


def digest_z(spki: asn1_keys.PublicKeyInfo, uid: bytes) -> bytes:
    """Z = SM3(ENTL || ID || a || b || G || P) for the key ``spki`` and user ID ``uid`` (cacheable per ID)."""
    from sealkit.sm2.signature import compute_z_from_point

    x, y = point_of(spki)
    return bytes(compute_z_from_point(x, y, uid))


def e_from_z(z: bytes, data: bytes) -> bytes:
    """e = SM3(Z || M)."""
    from sealkit.sm2.signature import compute_e

    return bytes(compute_e(z, data))


def verify(spki: asn1_keys.PublicKeyInfo, signature: bytes, data: bytes, uid: bytes) -> bool:
    """True when ``signature`` (DER) verifies over ``data`` with Z(uid)."""
    from sealkit.errors import InvalidSignature

    sm2 = _sm2()
    pub = sm2.load_der_public_key(spki.dump())
    try:
        pub.verify(signature, data, uid=uid)
    except InvalidSignature:
        return False
    return True


DEFAULT_UID_BYTES = DEFAULT_SM2_ID
