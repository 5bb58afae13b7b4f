"""SM2 signing and decryption on the test token, checked with OpenSSL's CLI and gmssl."""

from __future__ import annotations

import subprocess

import pytest
from pkcs11 import Attribute, ObjectClass
from pkcs11.exceptions import DataLenRange, EncryptedDataInvalid, MechanismInvalid

from . import sm2util as u
from .conftest import generate, vendor_of

pytestmark = pytest.mark.testtoken

MSG = "招标文件 bid document".encode()


@pytest.mark.parametrize("preset", ["sansec", "luna", "ep11"])
def test_sign_with_z_and_over_e_verify_with_openssl(preset, token_session, tmp_path):
    tok, v, s = token_session(preset=preset)
    pub, priv, point = generate(s, v)
    codes = tok.preset

    # with Z, default ID (no parameter) and a custom ID (the parameter)
    sig = priv.sign(MSG, mechanism=v.sign_with_z)
    assert len(sig) == 64 if codes.sig_format_with_z == "raw" else sig[0] == 0x30
    assert u.openssl_verify(tmp_path, point, MSG, sig)
    sig_id = priv.sign(MSG, mechanism=v.sign_with_z, mechanism_param=b"ALICE@example.cn")
    assert u.openssl_verify(tmp_path, point, MSG, sig_id, uid=b"ALICE@example.cn")
    assert not u.openssl_verify(tmp_path, point, MSG, sig_id)  # the ID really went into Z
    assert priv.sign(MSG, mechanism=v.sign_with_z, mechanism_param=b"") != sig  # empty = default, new k
    assert u.openssl_verify(
        tmp_path, point, MSG, priv.sign(MSG, mechanism=v.sign_with_z, mechanism_param=b"")
    )

    # over e = SM3(Z || M) computed by the host; checked by OpenSSL (from M) and by gmssl (from e)
    e = u.sm2_e(point, MSG)
    sig_e = priv.sign(e, mechanism=v.sign_digest)
    assert len(sig_e) == 64 if codes.sig_format_digest == "raw" else sig_e[0] == 0x30
    assert u.openssl_verify(tmp_path, point, MSG, sig_e)
    assert u.gmssl_verify_e(point, e, sig_e)
    assert u.gmssl_verify_e(point, u.sm2_e(point, MSG, b"ALICE@example.cn"), sig_id)
    assert not u.gmssl_verify_e(point, e, sig_id)


def test_sig_format_follows_token_conf_while_loaded(token_session, tmp_path):
    tok, v, s = token_session(preset="sansec")  # preset: with Z raw, over e DER
    _, priv, point = generate(s, v)
    e = u.sm2_e(point, MSG)
    assert len(priv.sign(MSG, mechanism=v.sign_with_z)) == 64
    assert priv.sign(e, mechanism=v.sign_digest)[0] == 0x30
    tok.set_config(sig_format="der")
    sig = priv.sign(MSG, mechanism=v.sign_with_z)
    assert sig[0] == 0x30 and u.openssl_verify(tmp_path, point, MSG, sig)
    tok.set_config(sig_format="raw")
    sig = priv.sign(e, mechanism=v.sign_digest)
    assert len(sig) == 64 and u.gmssl_verify_e(point, e, sig)
    u.check_range(sig)


def test_multipart_sign_with_z(token_session, tmp_path):
    _, v, s = token_session(preset="luna")
    _, priv, point = generate(s, v)
    chunks = [MSG[:5], b"", MSG[5:], b"tail" * 1000]
    sig = priv.sign(iter(chunks), mechanism=v.sign_with_z)
    assert u.openssl_verify(tmp_path, point, b"".join(chunks), sig)


def test_sign_over_e_needs_32_bytes(token_session):
    _, v, s = token_session(preset="ep11")
    _, priv, _ = generate(s, v)
    with pytest.raises(DataLenRange):
        priv.sign(b"x" * 31, mechanism=v.sign_digest)
    assert len(priv.sign(b"x" * 32, mechanism=v.sign_digest)) == 64  # the session is usable again


@pytest.mark.parametrize(
    ("preset", "cipher_format"),
    [("sansec", None), ("sansec", "der"), ("sansec", "c1c2c3"), ("ep11", None)],
)
def test_decrypt_openssl_ciphertext(preset, cipher_format, token_session, tmp_path):
    tok, v, s = token_session(preset=preset, **({"cipher_format": cipher_format} if cipher_format else {}))
    _, priv, point = generate(s, v)
    plaintext = b"sealed bid: 1,000,000 CNY " * 10
    der = u.openssl_encrypt(tmp_path, point, plaintext)
    fmt = tok.preset.cipher_format
    ct = der if fmt == "der" else u.der_ciphertext_to_raw(der, fmt)
    assert priv.decrypt(ct, mechanism=v.decrypt) == plaintext
    bad = bytearray(ct)
    bad[-1] ^= 1
    with pytest.raises(EncryptedDataInvalid):
        priv.decrypt(bytes(bad), mechanism=v.decrypt)


def test_luna_preset_has_no_decryption(token_session):
    tok, v, s = token_session(preset="luna")
    _, priv, _ = generate(s, v)
    assert v.decrypt is None
    with pytest.raises(MechanismInvalid):
        priv.decrypt(b"\x00" * 120, mechanism=v.sign_digest)


def test_sm3_digest_and_random(token_session):
    _, v, s = token_session(preset="sansec")
    assert s.digest(MSG, mechanism=v.sm3) == u.sm3(MSG)
    assert s.digest(iter([MSG[:3], MSG[3:]]), mechanism=v.sm3) == u.sm3(MSG)
    r1, r2 = s.generate_random(256), s.generate_random(256)
    assert len(r1) == 32 and r1 != r2


def test_imported_key_signs(make_testtoken, open_testtoken, tmp_path):
    """A key made elsewhere (as a CA's KMC escrows encryption keys) put on the token by the helper."""
    tok = make_testtoken(preset="ep11")
    v = vendor_of(tok)
    lib = open_testtoken(tok)
    key = tmp_path / "k.der"
    subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-outform", "DER", "-out", key], check=True)
    spki = subprocess.run(
        ["openssl", "pkey", "-inform", "DER", "-in", key, "-pubout", "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    point = spki[-65:]
    tok.import_private_key(key.read_bytes(), label="enc", key_id=b"\x02", public_point=point)
    # Objects are read when the token is inserted: pull it out and put it back.
    tok.remove()
    assert lib.get_slots(token_present=True) == []
    tok.insert()
    with lib.get_token(token_label=tok.label).open(user_pin="123456") as s:
        priv = s.get_key(object_class=ObjectClass.PRIVATE_KEY, label="enc")
        pub = s.get_key(object_class=ObjectClass.PUBLIC_KEY, id=b"\x02")
        assert u.point_from_ec_point(pub[Attribute.EC_POINT]) == point
        assert priv[Attribute.LOCAL] is False and priv[Attribute.SENSITIVE] is True
        assert u.openssl_verify(tmp_path, point, MSG, priv.sign(MSG, mechanism=v.sign_with_z))
        der = u.openssl_encrypt(tmp_path, point, b"hi")
        assert priv.decrypt(der, mechanism=v.decrypt) == b"hi"
