"""SM2 software keys (file:, keystore:) and SM2 decryption on SoftHSM through ECDH, checked by openssl."""

import pytest

from sealkit.errors import DamagedEnvelope, MechanismNotSupported, PinIncorrect
from sealkit.ukey import KeyKind, SignOptions, open_key
from tests.ukey.conftest import openssl, openssl_ok

UID = b"1234567812345678"
MESSAGE = "投标文件 bid".encode() * 20


def openssl_sm2_verify(tmp_path, pub_pem, sig, uid=UID, message=MESSAGE):
    (tmp_path / "m").write_bytes(message)
    (tmp_path / "s").write_bytes(sig)
    return openssl_ok(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(pub_pem),
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        f"distid:{uid.decode()}",
        "-in",
        str(tmp_path / "m"),
        "-sigfile",
        str(tmp_path / "s"),
    )


@pytest.fixture
def sm2_files(tmp_path):
    key = tmp_path / "sm2.pem"
    key.write_bytes(openssl("genpkey", "-algorithm", "SM2"))
    pub = tmp_path / "sm2-pub.pem"
    pub.write_bytes(openssl("pkey", "-in", str(key), "-pubout"))
    enc = tmp_path / "sm2-enc.pem"
    enc.write_bytes(
        openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", str(key), "-passout", "pass:pw-sm2")
    )
    return key, pub, enc


@pytest.mark.parametrize("uid", [UID, b"ALICE123@YAHOO.COM"])
def test_sm2_file_key_signs_with_z(tmp_path, sm2_files, uid):
    key_path, pub, _ = sm2_files
    key = open_key(f"file:{key_path}")
    assert key.kind is KeyKind.SM2
    sig = key.sign(MESSAGE, SignOptions(digest="sm3", sm2_uid=uid))
    assert openssl_sm2_verify(tmp_path, pub, sig, uid)
    other = b"1234567812345679" if uid == UID else UID
    assert not openssl_sm2_verify(tmp_path, pub, sig, other)


def test_sm2_encrypted_pkcs8_and_decrypt(tmp_path, sm2_files, monkeypatch):
    _, pub, enc = sm2_files
    monkeypatch.setenv("SEALKIT_PIN", "wrong")
    with pytest.raises(PinIncorrect):
        open_key(f"file:{enc}")
    monkeypatch.setenv("SEALKIT_PIN", "pw-sm2")
    key = open_key(f"file:{enc}")
    (tmp_path / "pt").write_bytes(b"session key 16B!")
    ct = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub), "-in", str(tmp_path / "pt"))
    assert key.decrypt(ct) == b"session key 16B!"
    with pytest.raises(DamagedEnvelope):
        key.decrypt(ct[:-1] + bytes([ct[-1] ^ 1]))


def test_sm2_keystore(tmp_path, monkeypatch):
    from sealkit.ukey import keystore, pin_chain

    monkeypatch.setenv("SEALKIT_PIN", "store")
    keystore().generate("seal-sm2", "sm2", pin_chain(None, None))
    key = open_key("keystore:seal-sm2")
    pub = tmp_path / "pub.pem"
    from asn1crypto import pem

    pub.write_bytes(pem.armor("PUBLIC KEY", key.public_key_info().dump()))
    assert openssl_sm2_verify(tmp_path, pub, key.sign(MESSAGE))


@pytest.mark.softhsm
def test_sm2_decrypt_on_softhsm_via_ecdh(tmp_path, softhsm_token):
    hsm = softhsm_token("sm2-ecdh")
    # An EC key pair on the SM2 curve, generated on the token (CKM_EC_KEY_PAIR_GEN, CKA_EC_PARAMS = SM2 OID)
    from sealkit.ukey import generate_token_key

    info = generate_token_key(hsm.uri("enc"), "sm2", key_id=b"\x07")
    key = open_key(hsm.uri("enc"))
    assert key.kind is KeyKind.SM2 and info.kind is KeyKind.SM2
    assert key.profile.name == "softhsm"
    from asn1crypto import pem

    pub = tmp_path / "pub.pem"
    pub.write_bytes(pem.armor("PUBLIC KEY", key.public_key_info().dump()))
    (tmp_path / "pt").write_bytes(b"bid content key!" * 3)
    ct = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub), "-in", str(tmp_path / "pt"))
    assert key.decrypt(ct) == b"bid content key!" * 3
    with pytest.raises(DamagedEnvelope):
        key.decrypt(ct[:-2] + bytes([ct[-2] ^ 1, ct[-1]]))
    with pytest.raises(MechanismNotSupported, match="cannot make SM2 signatures"):
        key.sign(MESSAGE)
