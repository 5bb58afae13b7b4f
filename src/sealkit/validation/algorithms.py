"""Which algorithm is which: SM2 detection for keys, certificates and signature algorithms, readable algorithm
names, and the digests sealkit refuses as too weak (SHA-1, MD5 …: CRYPTO_CONSTRAINTS_FAILURE).

The SM OIDs themselves are declared once, in :mod:`sealkit.sm2.oids`.
"""

from __future__ import annotations

from asn1crypto import algos, keys
from asn1crypto import x509 as asn1_x509

from sealkit.sm2 import oids

#: OIDs and asn1crypto names that mean "SM2 signature" (GM/T 0010 also writes the bare SM2 key OID).
SM2_SIGNATURE_ALGORITHMS = frozenset({"sm2_sm3", "sm2", oids.SM2_WITH_SM3, oids.SM2_SIGN})
SM2_CURVE_NAMES = frozenset({oids.SM2_CURVE_NAME, oids.SM2_CURVE})
#: Digests too weak to prove anything today (ETSI TS 119 312): a signature over one is not accepted.
WEAK_DIGESTS = frozenset({"md2", "md5", "sha1", "1.2.840.113549.2.5", "1.3.14.3.2.26"})

_DIGEST_LABELS = {
    "sha1": "SHA1",
    "sha224": "SHA224",
    "sha256": "SHA256",
    "sha384": "SHA384",
    "sha512": "SHA512",
    "sha3_256": "SHA3-256",
    "sha3_384": "SHA3-384",
    "sha3_512": "SHA3-512",
    "sm3": "SM3",
    "md5": "MD5",
}


def is_sm2_algorithm(algorithm: algos.SignedDigestAlgorithm | str) -> bool:
    """True if ``algorithm`` (an asn1crypto algorithm, an OID or an asn1crypto name) is SM2-with-SM3."""
    if isinstance(algorithm, str):
        return algorithm in SM2_SIGNATURE_ALGORITHMS
    name = algorithm["algorithm"]
    return name.native in SM2_SIGNATURE_ALGORITHMS or name.dotted in SM2_SIGNATURE_ALGORITHMS


def is_sm2_key(public_key_info: keys.PublicKeyInfo) -> bool:
    """True if ``public_key_info`` is an EC key on the SM2 curve."""
    algorithm = public_key_info["algorithm"]
    if algorithm["algorithm"].native != "ec":
        return False
    params = algorithm["parameters"]
    if params.name != "named":
        return False
    curve = params.chosen
    return curve.native in SM2_CURVE_NAMES or curve.dotted in SM2_CURVE_NAMES


def is_sm2_certificate(cert: asn1_x509.Certificate) -> bool:
    """True if ``cert`` holds an SM2 public key."""
    return is_sm2_key(cert.public_key)


def digest_label(name: str) -> str:
    """ "SHA256", "SM3" … for an asn1crypto digest name (its upper case when unknown)."""
    return _DIGEST_LABELS.get(name, str(name).upper())


def is_weak_digest(name: str) -> bool:
    """True for digests that no longer prove integrity (MD5, SHA-1)."""
    return name in WEAK_DIGESTS


def signature_algorithm_name(signature_algorithm: algos.SignedDigestAlgorithm, digest: str) -> str:
    """A short name: "SM2-with-SM3", "RSA-SHA256", "RSASSA-PSS-SHA256", "ECDSA-SHA256" …"""
    if is_sm2_algorithm(signature_algorithm):
        return "SM2-with-SM3"
    label = digest_label(digest)
    name = signature_algorithm["algorithm"].native
    if name == "rsassa_pss":
        return f"RSASSA-PSS-{label}"
    if name == "rsassa_pkcs1v15":
        return f"RSA-{label}"
    try:
        family = signature_algorithm.signature_algo
    except (ValueError, KeyError):
        return str(signature_algorithm["algorithm"].dotted)
    family = {"rsassa_pkcs1v15": "rsa"}.get(family, family)
    return f"{family.upper()}-{label}"
