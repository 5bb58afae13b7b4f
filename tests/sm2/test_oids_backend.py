"""OID registration with asn1crypto, and backend selection."""

from __future__ import annotations

import pytest
from asn1crypto import algos, cms, keys

from sealkit import sm2
from sealkit.errors import UnsupportedAlgorithm
from sealkit.sm2 import backend as backend_mod
from sealkit.sm2 import oids


def test_idempotent() -> None:
    oids.register()
    oids.register()
    assert keys.NamedCurve.map(oids.SM2_CURVE) == "sm2p256v1"


@pytest.mark.parametrize(
    "cls, oid, name",
    [
        (algos.DigestAlgorithmId, oids.SM3, "sm3"),
        (algos.DigestAlgorithmId, oids.SM3_ALT, "sm3"),
        (algos.HmacAlgorithmId, oids.HMAC_SM3, "sm3"),
        (algos.HmacAlgorithmId, oids.HMAC_SM3_ALT, "sm3"),
        (algos.SignedDigestAlgorithmId, oids.SM2_WITH_SM3, "sm2_sm3"),
        (algos.SignedDigestAlgorithmId, oids.SM2_SIGN, "sm2"),
        (cms.KeyEncryptionAlgorithmId, oids.SM2_ENCRYPT, "sm2_encrypt"),
        (cms.KeyEncryptionAlgorithmId, oids.SM2_KEY_EXCHANGE_OR_GMSSL_ENCRYPT, "sm2_encrypt"),
        (algos.EncryptionAlgorithmId, oids.SM4_CBC, "sm4_cbc"),
        (algos.EncryptionAlgorithmId, oids.SM4_GCM, "sm4_gcm"),
        (cms.ContentType, oids.GM_SIGNED_DATA, "gm_signed_data"),
        (cms.ContentType, oids.GM_DATA, "gm_data"),
        (cms.ContentType, oids.GM_ENVELOPED_DATA, "gm_enveloped_data"),
    ],
)
def test_mapping(cls: type, oid: str, name: str) -> None:
    assert cls(oid).native == name


@pytest.mark.parametrize(
    "cls, name, oid",
    [
        (algos.DigestAlgorithmId, "sm3", oids.SM3),
        (algos.HmacAlgorithmId, "sm3", oids.HMAC_SM3),
        (cms.KeyEncryptionAlgorithmId, "sm2_encrypt", oids.SM2_ENCRYPT),
        (algos.SignedDigestAlgorithmId, "sm2_sm3", oids.SM2_WITH_SM3),
    ],
)
def test_aliases_encode_canonically(cls: type, name: str, oid: str) -> None:
    assert cls(name).dotted == oid


def test_digest_algorithm_round_trip() -> None:
    der = algos.DigestAlgorithm({"algorithm": "sm3"}).dump()
    assert algos.DigestAlgorithm.load(der)["algorithm"].dotted == oids.SM3


def test_gm_signed_data_content_info() -> None:
    sd = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sm3"}],
            "encap_content_info": {"content_type": "gm_data"},
            "signer_infos": [],
        }
    )
    ci = cms.ContentInfo({"content_type": "gm_signed_data", "content": sd})
    again = cms.ContentInfo.load(ci.dump())
    assert again["content_type"].dotted == oids.GM_SIGNED_DATA
    assert isinstance(again["content"], cms.SignedData)


def test_ec_keys_still_parse() -> None:
    from cryptography.hazmat.primitives import serialization as cs
    from cryptography.hazmat.primitives.asymmetric import ec

    pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    info = keys.PublicKeyInfo.load(pub.public_bytes(cs.Encoding.DER, cs.PublicFormat.SubjectPublicKeyInfo))
    assert info.curve == ("named", "secp256r1")
    sm2_info = keys.PublicKeyInfo.load(sm2.generate_private_key().public_key().to_der())
    assert sm2_info.curve == ("named", "sm2p256v1")
    assert sm2_info.algorithm == "ec"


def test_cryptography_hash_by_name() -> None:
    from cryptography.hazmat.primitives import hashes

    assert getattr(hashes, "sm3".upper()) is hashes.SM3


def test_backend_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backend_mod.ENV_VAR, "python")
    assert sm2.generate_private_key().backend_name == "python"
    monkeypatch.setenv(backend_mod.ENV_VAR, "nonsense")
    with pytest.raises(UnsupportedAlgorithm):
        sm2.generate_private_key()
    monkeypatch.delenv(backend_mod.ENV_VAR)
    assert sm2.generate_private_key().backend_name == sm2.available_backends()[0]


def test_missing_libcrypto_falls_back() -> None:
    from sealkit.sm2 import _openssl

    assert _openssl.load("/nonexistent/libcrypto.so.3") is None
    assert "python" in sm2.available_backends()


def test_forced_openssl_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_mod, "_cache", {"openssl": None})
    monkeypatch.setenv(backend_mod.ENV_VAR, "openssl")
    with pytest.raises(UnsupportedAlgorithm):
        sm2.generate_private_key()
    monkeypatch.delenv(backend_mod.ENV_VAR)
    assert sm2.generate_private_key().backend_name == "python"


def test_threads_share_a_key(backend: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    key = sm2.generate_private_key(backend=backend)
    pub = key.public_key()

    def work(i: int) -> bool:
        msg = f"message {i}".encode()
        for _ in range(20):
            pub.verify(key.sign(msg), msg)
            assert key.decrypt(pub.encrypt(msg)) == msg
        return True

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(8)))


def test_modules_imported_later_still_extend_the_maps() -> None:
    """asn1crypto.tsp adds tst_info to cms.ContentType._map at import; registering must not freeze the
    reverse map before that (a fresh interpreter, so the import order is the one users get)."""
    import subprocess
    import sys

    code = (
        "import sealkit.sm2\n"
        "from asn1crypto import tsp, cms, algos\n"
        "assert cms.ContentType('tst_info').dotted == '1.2.840.113549.1.9.16.1.4'\n"
        "assert cms.ContentType('gm_signed_data').dotted == '1.2.156.10197.6.1.4.2.2'\n"
        "assert algos.DigestAlgorithmId('sm3').dotted == '1.2.156.10197.1.401'\n"
        "assert cms.KeyEncryptionAlgorithmId('sm2_encrypt').dotted == '1.2.156.10197.1.301.3'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
