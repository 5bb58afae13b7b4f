"""The Chinese national-algorithm OIDs, registered with asn1crypto in exactly one place.

:func:`register` runs when :mod:`sealkit.sm2` is imported and is idempotent. After it, asn1crypto maps:

===========================================  ==============================  ==============================
OID                                          asn1crypto class                name
===========================================  ==============================  ==============================
1.2.156.10197.1.301                          ``keys.NamedCurve``             ``sm2p256v1``
1.2.156.10197.1.401 (alias .401.1)           ``algos.DigestAlgorithmId``     ``sm3``
1.2.156.10197.1.401.2 (alias .401.3.1)       ``algos.HmacAlgorithmId``       ``sm3`` (HMAC-SM3, PBKDF2 PRF)
1.2.156.10197.1.501                          ``algos.SignedDigestAlgorithmId`` ``sm2_sm3``
1.2.156.10197.1.301.1                        ``algos.SignedDigestAlgorithmId`` ``sm2`` (GM/T 0010 "sm2-1")
1.2.156.10197.1.301.3 (alias .301.2 GmSSL)   ``cms.KeyEncryptionAlgorithmId``  ``sm2_encrypt``
                                             and ``algos.EncryptionAlgorithmId``
1.2.156.10197.1.104 / .1 / .2 / .3 / .4      ``algos.EncryptionAlgorithmId`` ``sm4``, ``sm4_ecb``,
/ .7 / .8                                                                    ``sm4_cbc``, ``sm4_ofb``,
                                                                             ``sm4_cfb``, ``sm4_ctr``,
                                                                             ``sm4_gcm``
1.2.156.10197.6.1.4.2.1 ... .6               ``cms.ContentType``             ``gm_data``, ``gm_signed_data``,
                                                                             ``gm_enveloped_data``,
                                                                             ``gm_signed_and_enveloped_data``,
                                                                             ``gm_encrypted_data``,
                                                                             ``gm_key_agreement_info``
===========================================  ==============================  ==============================

Where an OID has an alias, both OIDs parse to the same name and the name always encodes to the canonical
(first) OID. SM2 keys themselves are *not* registered as a ``keys.PublicKeyAlgorithmId``: an SM2
SubjectPublicKeyInfo is ``id-ecPublicKey`` with the ``sm2p256v1`` named curve, which asn1crypto parses as an
ordinary EC key once the curve is known.

``cryptography.hazmat.primitives.hashes`` already resolves the name ``sm3`` (``getattr(hashes, "SM3")``),
which is how pyhanko-certvalidator finds digests; :func:`register` checks that it does.

Note that asn1crypto's ``SignedDigestAlgorithm.signature_algo`` / ``.hash_algo`` use dicts local to those
properties and still raise ``ValueError`` for ``sm2_sm3``: code that needs them must special-case SM2.
"""

from __future__ import annotations

import threading

from asn1crypto import algos, cms, core, keys

SM2_CURVE = "1.2.156.10197.1.301"
SM2_SIGN = "1.2.156.10197.1.301.1"
SM2_KEY_EXCHANGE_OR_GMSSL_ENCRYPT = "1.2.156.10197.1.301.2"
SM2_ENCRYPT = "1.2.156.10197.1.301.3"
SM3 = "1.2.156.10197.1.401"
SM3_ALT = "1.2.156.10197.1.401.1"
HMAC_SM3 = "1.2.156.10197.1.401.2"
HMAC_SM3_ALT = "1.2.156.10197.1.401.3.1"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM4 = "1.2.156.10197.1.104"
SM4_ECB = "1.2.156.10197.1.104.1"
SM4_CBC = "1.2.156.10197.1.104.2"
SM4_OFB = "1.2.156.10197.1.104.3"
SM4_CFB = "1.2.156.10197.1.104.4"
SM4_CTR = "1.2.156.10197.1.104.7"
SM4_GCM = "1.2.156.10197.1.104.8"
GM_DATA = "1.2.156.10197.6.1.4.2.1"
GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
GM_ENVELOPED_DATA = "1.2.156.10197.6.1.4.2.3"
GM_SIGNED_AND_ENVELOPED_DATA = "1.2.156.10197.6.1.4.2.4"
GM_ENCRYPTED_DATA = "1.2.156.10197.6.1.4.2.5"
GM_KEY_AGREEMENT_INFO = "1.2.156.10197.6.1.4.2.6"

#: Name asn1crypto gives the SM2 curve.
SM2_CURVE_NAME = "sm2p256v1"
#: The default SM2 user ID of GM/T 0009 (what every Chinese signer uses unless told otherwise).
DEFAULT_SM2_ID = b"1234567812345678"

_lock = threading.Lock()
_done = False


def _add(cls: type[core.ObjectIdentifier], name: str, oid: str, *aliases: str) -> None:
    """Map ``oid`` (canonical) and ``aliases`` to ``name``; ``name`` always encodes to ``oid``."""
    mapping = cls._map
    assert mapping is not None
    for alias in aliases:
        mapping[alias] = name
    mapping[oid] = name
    # asn1crypto builds ``_reverse_map`` lazily from ``_map`` on first use; the canonical OID, inserted after
    # its aliases, wins there. Never build it here: modules imported later (asn1crypto.tsp adds tst_info to
    # cms.ContentType) extend ``_map`` and rely on the lazy build seeing their entries.
    if cls._reverse_map is not None:
        cls._reverse_map[name] = oid


def register() -> None:
    """Register every OID listed in the module docstring with asn1crypto. Safe to call many times."""
    global _done
    with _lock:
        if _done:
            return
        # asn1crypto.tsp and asn1crypto.pdf extend cms/x509 maps when imported; import them first so that a
        # reverse map built early (by any lookup by name) already holds their names (tst_info, …).
        import asn1crypto.pdf  # noqa: F401
        import asn1crypto.tsp  # noqa: F401

        if SM2_CURVE not in keys.NamedCurve._map:
            keys.NamedCurve.register(SM2_CURVE_NAME, SM2_CURVE, 32)

        _add(algos.DigestAlgorithmId, "sm3", SM3, SM3_ALT)
        _add(algos.HmacAlgorithmId, "sm3", HMAC_SM3, HMAC_SM3_ALT)
        _add(algos.SignedDigestAlgorithmId, "sm2_sm3", SM2_WITH_SM3)
        _add(algos.SignedDigestAlgorithmId, "sm2", SM2_SIGN)

        _add(cms.KeyEncryptionAlgorithmId, "sm2_encrypt", SM2_ENCRYPT, SM2_KEY_EXCHANGE_OR_GMSSL_ENCRYPT)
        _add(algos.EncryptionAlgorithmId, "sm2_encrypt", SM2_ENCRYPT, SM2_KEY_EXCHANGE_OR_GMSSL_ENCRYPT)
        for name, oid in (
            ("sm4", SM4),
            ("sm4_ecb", SM4_ECB),
            ("sm4_cbc", SM4_CBC),
            ("sm4_ofb", SM4_OFB),
            ("sm4_cfb", SM4_CFB),
            ("sm4_ctr", SM4_CTR),
            ("sm4_gcm", SM4_GCM),
        ):
            _add(algos.EncryptionAlgorithmId, name, oid)
        # The IV of SM4-CBC (GM/T 0010, and PBES2 as OpenSSL writes it) is an OCTET STRING, as for AES-CBC.
        algos.EncryptionAlgorithm._oid_specs.setdefault("sm4_cbc", core.OctetString)
        algos.EncryptionAlgorithm._oid_specs.setdefault("sm4", core.OctetString)

        for name, oid, spec in (
            ("gm_data", GM_DATA, core.OctetString),
            ("gm_signed_data", GM_SIGNED_DATA, cms.SignedData),
            ("gm_enveloped_data", GM_ENVELOPED_DATA, cms.EnvelopedData),
            ("gm_signed_and_enveloped_data", GM_SIGNED_AND_ENVELOPED_DATA, cms.SignedAndEnvelopedData),
            ("gm_encrypted_data", GM_ENCRYPTED_DATA, cms.EncryptedData),
            ("gm_key_agreement_info", GM_KEY_AGREEMENT_INFO, core.Any),
        ):
            _add(cms.ContentType, name, oid)
            cms.ContentInfo._oid_specs.setdefault(name, spec)
            if name != "gm_data":
                cms.EncapsulatedContentInfo._oid_specs.setdefault(name, spec)

        from cryptography.hazmat.primitives import hashes

        assert getattr(hashes, "sm3".upper()) is hashes.SM3
        _done = True
