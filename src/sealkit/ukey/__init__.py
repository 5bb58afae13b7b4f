"""Keys wherever they live: PKCS#11 UKeys (vendor SM2 profiles) and the software key store, one interface."""

from sealkit.ukey.base import DEFAULT_SM2_UID, KeyInfo, KeyKind, PrivateKeyHandle, SignOptions

__all__ = ["DEFAULT_SM2_UID", "KeyInfo", "KeyKind", "PrivateKeyHandle", "SignOptions"]
