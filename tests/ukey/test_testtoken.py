"""SM2 on the project's PKCS#11 test token under the vendor profiles: signatures verified by openssl,
decryption, PIN counters and lockout, removal mid-batch, profile detection and the self-test."""

import pytest
from asn1crypto import pem

from sealkit.atomic import atomic_output
from sealkit.errors import PinIncorrect, PinLocked, SelfTestFailed, TokenNotPresent
from sealkit.ukey import SignOptions, close_all_sessions, generate_token_key, open_key, self_test
from tests.helpers.testtoken import DEFAULT_USER_PIN
from tests.helpers.tokens import token_uri as uri
from tests.ukey.conftest import openssl
from tests.ukey.test_sm2_keys import MESSAGE, openssl_sm2_verify

pytestmark = pytest.mark.testtoken


def pub_pem(key, path):
    path.write_bytes(pem.armor("PUBLIC KEY", key.public_key_info().dump()))
    return path


@pytest.mark.parametrize("preset", ["sansec", "luna", "ep11"])
def test_sm2_sign_with_z_and_over_e(tmp_path, make_testtoken, use_testtoken, preset):
    tok = make_testtoken(preset=preset, label=f"T-{preset}")
    module = use_testtoken(tok)
    generate_token_key(uri(module, tok), "sm2", key_id=b"\x01")
    key = open_key(uri(module, tok, profile=preset))
    assert key.profile.name == preset
    pub = pub_pem(key, tmp_path / "pub.pem")
    for uid in (b"1234567812345678", b"ALICE123@YAHOO.COM"):
        sig = key.sign(MESSAGE, SignOptions(digest="sm3", sm2_uid=uid))
        assert sig[0] == 0x30
        assert openssl_sm2_verify(tmp_path, pub, sig, uid)
        for _ in range(2):  # the second time Z comes from the key's cache
            over_e = key.sign_sm2(MESSAGE, uid, variant="e")
            assert openssl_sm2_verify(tmp_path, pub, over_e, uid)
    assert not openssl_sm2_verify(tmp_path, pub, sig, b"1234567812345678")
    assert "verify" in self_test(key)


@pytest.mark.parametrize("preset", ["sansec", "ep11"])
def test_sm2_decrypt_vendor_mechanism(tmp_path, make_testtoken, use_testtoken, preset):
    tok = make_testtoken(preset=preset)
    module = use_testtoken(tok)
    generate_token_key(uri(module, tok, obj="enc"), "sm2", key_id=b"\x02")
    key = open_key(uri(module, tok, obj="enc"))
    (tmp_path / "pt").write_bytes(b"content-encryption-key-32-bytes!")
    ct = openssl(
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        str(pub_pem(key, tmp_path / "p.pem")),
        "-in",
        str(tmp_path / "pt"),
    )
    assert key.decrypt(ct) == b"content-encryption-key-32-bytes!"


def test_profile_detection(make_testtoken, use_testtoken):
    luna, sansec = (
        make_testtoken(preset="luna", label="LUNA"),
        make_testtoken(preset="sansec", label="SANSEC"),
    )
    module = use_testtoken(luna, sansec)
    generate_token_key(uri(module, luna), "sm2", key_id=b"\x01")
    generate_token_key(uri(module, sansec), "sm2", key_id=b"\x01")
    assert open_key(uri(module, luna)).profile.name == "luna"
    assert open_key(uri(module, sansec)).profile.name == "sealkit-testtoken"


def test_wrong_pin_counts_then_locks(make_testtoken, use_testtoken, monkeypatch):
    tok = make_testtoken(max_pin_tries=3)
    module = use_testtoken(tok)
    generate_token_key(uri(module, tok), "sm2", key_id=b"\x01")
    close_all_sessions()
    monkeypatch.setenv("SEALKIT_PIN", "000000")
    messages = []
    for _ in range(2):
        with pytest.raises(PinIncorrect) as info:
            open_key(uri(module, tok))
        messages.append(str(info.value))
    assert "count low" in messages[0] and "final try" in messages[1]
    with pytest.raises(PinLocked):
        open_key(uri(module, tok))
    monkeypatch.setenv("SEALKIT_PIN", DEFAULT_USER_PIN)
    with pytest.raises(PinLocked):
        open_key(uri(module, tok))
    assert all("000000" not in m and DEFAULT_USER_PIN not in m for m in messages)


def test_removed_mid_batch_writes_nothing(tmp_path, make_testtoken, use_testtoken):
    tok = make_testtoken()
    module = use_testtoken(tok)
    generate_token_key(uri(module, tok), "sm2", key_id=b"\x01")
    key = open_key(uri(module, tok))
    outputs = [tmp_path / f"doc{i}.sig" for i in range(4)]
    with pytest.raises(TokenNotPresent):
        for i, out in enumerate(outputs):
            if i == 2:
                tok.remove()
            with atomic_output(out) as handle:
                handle.write(key.sign(MESSAGE + bytes([i])))
    assert [o.exists() for o in outputs] == [True, True, False, False]
    assert list(tmp_path.glob(".*.part")) == []
    tok.insert()  # put back: the same handle reopens the session and finds its key again
    pub = pub_pem(key, tmp_path / "pub.pem")
    assert openssl_sm2_verify(tmp_path, pub, key.sign(MESSAGE, SignOptions(digest="sm3")))


def test_selftest_names_a_wrong_signature_format(tmp_path, make_testtoken, use_testtoken):
    from sealkit import load_config

    tok = make_testtoken(preset="luna")
    module = use_testtoken(tok)
    generate_token_key(uri(module, tok), "sm2", key_id=b"\x01")
    conf = tmp_path / "sealkit.toml"
    conf.write_text(
        '[profiles.badluna]\nbase = "luna"\nsignature_format = "der"\ne_signature_format = "der"\n'
    )
    key = open_key(uri(module, tok, profile="badluna"), config=load_config(conf))
    with pytest.raises(SelfTestFailed, match="signature_format = 'raw'"):
        self_test(key)
