"""sealkit's national-algorithm core: SM2 keys, signatures and encryption, SM3, HMAC-SM3 and SM4.

Shaped like pyca/cryptography's key objects::

    from sealkit import sm2

    key = sm2.generate_private_key()
    sig = key.sign(b"message")                      # DER SEQUENCE{r, s}, default user ID
    key.public_key().verify(sig, b"message")        # raises sealkit.errors.InvalidSignature
    ct = key.public_key().encrypt(b"secret")        # GM/T 0009 DER, as openssl pkeyutl writes
    assert key.decrypt(ct) == b"secret"

Importing this package registers the SM OIDs with asn1crypto (:mod:`sealkit.sm2.oids`). The curve math runs in
OpenSSL 3's libcrypto when it is available, else in pure Python (:mod:`sealkit.sm2.backend`).
"""

from __future__ import annotations

from sealkit.sm2 import oids as _oids

_oids.register()

from sealkit.sm2.backend import available_backends, get_backend  # noqa: E402
from sealkit.sm2.encryption import (  # noqa: E402
    CiphertextFormat,
    SM2Ciphertext,
    decrypt_with_shared_point,
    decrypt_with_shared_x,
    kdf,
)
from sealkit.sm2.keys import (  # noqa: E402
    SM2PrivateKey,
    SM2PublicKey,
    SM2PublicNumbers,
    compute_z,
    decode_ciphertext,
    derive_private_key,
    generate_private_key,
    load_der_private_key,
    load_der_public_key,
    load_pem_private_key,
    load_pem_public_key,
)
from sealkit.sm2.signature import DEFAULT_UID, decode_signature, encode_signature  # noqa: E402
from sealkit.sm2.symmetric import hmac_sm3, sm3, sm3_hasher  # noqa: E402

__all__ = [
    "DEFAULT_UID",
    "CiphertextFormat",
    "SM2Ciphertext",
    "SM2PrivateKey",
    "SM2PublicKey",
    "SM2PublicNumbers",
    "available_backends",
    "compute_z",
    "decode_ciphertext",
    "decode_signature",
    "decrypt_with_shared_point",
    "decrypt_with_shared_x",
    "derive_private_key",
    "encode_signature",
    "generate_private_key",
    "get_backend",
    "hmac_sm3",
    "kdf",
    "load_der_private_key",
    "load_der_public_key",
    "load_pem_private_key",
    "load_pem_public_key",
    "sm3",
    "sm3_hasher",
]
