"""The test token as a PKCS#11 module: slots, objects, PINs, removal, threads."""

from __future__ import annotations

import subprocess
import threading
import time

import pkcs11
import pytest
from pkcs11 import PROTECTED_AUTH, Attribute, CertificateType, ObjectClass, TokenFlag
from pkcs11.exceptions import (
    AttributeSensitive,
    DeviceRemoved,
    NoSuchKey,
    PinIncorrect,
    PinLocked,
    SessionHandleInvalid,
    TokenNotPresent,
    UserNotLoggedIn,
)

from tests.helpers.testtoken import PRESETS, build_testtoken, source_hash

from . import sm2util as u
from .conftest import generate, vendor_of

pytestmark = pytest.mark.testtoken

PIN = "123456"


def test_build_is_cached(testtoken_module, tmp_path):
    assert testtoken_module.name == f"sealkit_testtoken-{source_hash()[:16]}.so"
    mtime = testtoken_module.stat().st_mtime_ns
    assert build_testtoken(testtoken_module.parent) == testtoken_module
    assert testtoken_module.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_slots_token_info_and_mechanisms(preset, make_testtoken, open_testtoken):
    tok = make_testtoken(preset=preset, label=f"UKEY {preset}")
    lib = open_testtoken(tok)
    assert "NOT SECURE" in lib.library_description
    (slot,) = lib.get_slots(token_present=True)
    token = slot.get_token()
    assert token.label == f"UKEY {preset}"
    for flag in (TokenFlag.LOGIN_REQUIRED, TokenFlag.TOKEN_INITIALIZED, TokenFlag.USER_PIN_INITIALIZED):
        assert token.flags & flag
    assert token.flags & TokenFlag.RNG
    c = PRESETS[preset]
    want = {c.keygen_mech, c.sign_mech_with_z, c.sign_mech_digest, c.decrypt_mech, c.sm3_mech} - {0}
    assert {int(m) for m in slot.get_mechanisms()} == want
    info = slot.get_mechanism_info(vendor_of(tok).sign_with_z)
    assert info.min_key_length == info.max_key_length == 256
    assert info.flags & pkcs11.MechanismFlag.SIGN


def test_two_directories_are_two_slots(make_testtoken, open_testtoken):
    a, b = make_testtoken(label="SIGN KEY"), make_testtoken(label="ENC KEY", preset="luna")
    lib = open_testtoken(a, b)
    tokens = {t.label: t for t in lib.get_tokens()}
    assert set(tokens) == {"SIGN KEY", "ENC KEY"}
    assert tokens["SIGN KEY"].serial != tokens["ENC KEY"].serial
    assert tokens["ENC KEY"].model == "SM2 luna"


def test_key_attributes_and_persistence(make_testtoken, open_testtoken):
    tok = make_testtoken(preset="sansec")
    v = vendor_of(tok)
    lib = open_testtoken(tok)
    with lib.get_token().open(rw=True, user_pin=PIN) as s:
        pub, priv, point = generate(s, v, label="signing", key_id=b"\x0a\x0b")
        with pytest.raises(AttributeSensitive):
            priv[Attribute.VALUE]
        assert priv[Attribute.SENSITIVE] is True and priv[Attribute.EXTRACTABLE] is False
        assert priv[Attribute.ALWAYS_SENSITIVE] is True and priv[Attribute.NEVER_EXTRACTABLE] is True
        assert priv[Attribute.SIGN] is True and priv[Attribute.DECRYPT] is True
        assert priv[Attribute.ALWAYS_AUTHENTICATE] is False
        assert priv[Attribute.TOKEN] is True and priv[Attribute.PRIVATE] is True
        assert priv[Attribute.EC_PARAMS] == u.EC_PARAMS_SM2 == pub[Attribute.EC_PARAMS]
        assert int(priv[Attribute.KEY_TYPE]) == PRESETS["sansec"].key_type
        assert pub[Attribute.PRIVATE] is False
        # the same key is found again after the module is reloaded, by label, id, class and key type
    lib = open_testtoken(tok)
    with lib.get_token().open(user_pin=PIN) as s:
        priv = s.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=v.key_type, label="signing")
        assert priv[Attribute.ID] == b"\x0a\x0b"
        pub = s.get_key(object_class=ObjectClass.PUBLIC_KEY, id=b"\x0a\x0b")
        assert u.point_from_ec_point(pub[Attribute.EC_POINT]) == point
    with lib.get_token().open() as s:  # not logged in: private objects are invisible
        with pytest.raises(NoSuchKey):
            s.get_key(object_class=ObjectClass.PRIVATE_KEY, label="signing")
        assert s.get_key(object_class=ObjectClass.PUBLIC_KEY, label="signing")


def test_session_keys_go_with_the_session(make_testtoken, open_testtoken):
    tok = make_testtoken()
    v = vendor_of(tok)
    lib = open_testtoken(tok)
    token = lib.get_token()
    with token.open(rw=True, user_pin=PIN) as s:
        generate(s, v, label="ephemeral", store=False)
        assert len(list(s.get_objects({Attribute.LABEL: "ephemeral"}))) == 2
    assert tok.object_files() == []
    with token.open(user_pin=PIN) as s:
        assert list(s.get_objects({Attribute.LABEL: "ephemeral"})) == []


def test_keygen_needs_login_and_rw_session(make_testtoken, open_testtoken):
    tok = make_testtoken()
    v = vendor_of(tok)
    lib = open_testtoken(tok)
    with lib.get_token().open(rw=True) as s, pytest.raises(UserNotLoggedIn):
        generate(s, v)
    with lib.get_token().open(user_pin=PIN) as s, pytest.raises(pkcs11.exceptions.SessionReadOnly):
        generate(s, v)


def test_certificate_create_find_read_destroy(make_testtoken, open_testtoken, tmp_path):
    tok = make_testtoken()
    lib = open_testtoken(tok)
    key, cert = tmp_path / "ca.key", tmp_path / "ca.der"
    subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", key], check=True)
    subprocess.run(
        ["openssl", "req", "-new", "-x509", "-key", key, "-subj", "/CN=Test SM2", "-sm3", "-days", "1"]
        + ["-sigopt", "distid:1234567812345678", "-outform", "DER", "-out", cert],
        check=True,
        capture_output=True,
    )
    der = cert.read_bytes()
    with lib.get_token().open(rw=True, user_pin=PIN) as s:
        s.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: "signing",
                Attribute.ID: b"\x01",
                Attribute.VALUE: der,
            }
        )
    lib = open_testtoken(tok)
    with lib.get_token().open(rw=True) as s:  # certificates are public objects
        (found,) = s.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: b"\x01"})
        assert found[Attribute.VALUE] == der
        assert found[Attribute.LABEL] == "signing"
        assert found[Attribute.CERTIFICATE_TYPE] == CertificateType.X_509
        found.destroy()
    assert tok.object_files() == []


def test_wrong_pin_counts_down_then_locks_persistently(make_testtoken, open_testtoken):
    tok = make_testtoken(max_pin_tries=3)
    lib = open_testtoken(tok)
    token = lib.get_token()

    def flags():
        return lib.get_token().flags

    with pytest.raises(PinIncorrect):
        token.open(user_pin="000000")
    assert flags() & TokenFlag.USER_PIN_COUNT_LOW and not flags() & TokenFlag.USER_PIN_FINAL_TRY
    token.open(user_pin=PIN).close()  # a right PIN resets the counter
    assert not flags() & TokenFlag.USER_PIN_COUNT_LOW
    assert tok.config()["user_pin_failures"] == "0"
    for _ in range(2):
        with pytest.raises(PinIncorrect):
            token.open(user_pin="000000")
    assert flags() & TokenFlag.USER_PIN_FINAL_TRY
    with pytest.raises(PinLocked):
        token.open(user_pin="000000")
    assert flags() & TokenFlag.USER_PIN_LOCKED
    with pytest.raises(PinLocked):
        token.open(user_pin=PIN)
    assert tok.config()["user_pin_failures"] == "3"
    lib = open_testtoken(tok)  # reloaded from disk: still locked
    assert lib.get_token().flags & TokenFlag.USER_PIN_LOCKED
    with pytest.raises(PinLocked):
        lib.get_token().open(user_pin=PIN)
    # python-pkcs11 leaves the session of a failed login open, and an SO cannot log in while a read-only
    # session exists (CKR_SESSION_READ_ONLY_EXISTS): start afresh
    lib = open_testtoken(tok)
    # the security officer sets a new user PIN, which unlocks
    with lib.get_token().open(rw=True, so_pin="12345678") as so:
        so.init_pin("654321")
    assert not lib.get_token().flags & TokenFlag.USER_PIN_LOCKED
    with lib.get_token().open(rw=True, user_pin="654321") as s:
        s.set_pin("654321", "111111")
    lib.get_token().open(user_pin="111111").close()
    assert "user_pin_sha256" in tok.config() and "user_pin" not in tok.config()


def test_protected_authentication_path(make_testtoken, open_testtoken):
    tok = make_testtoken(protected_auth=True)
    lib = open_testtoken(tok)
    token = lib.get_token()
    assert token.flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH
    with token.open(rw=True, user_pin=PROTECTED_AUTH) as s:
        generate(s, vendor_of(tok))


def test_always_authenticate_needs_context_login(make_testtoken, open_testtoken):
    tok = make_testtoken(always_authenticate=True)
    v = vendor_of(tok)
    lib = open_testtoken(tok)
    with lib.get_token().open(rw=True, user_pin=PIN) as s:
        _, priv, point = generate(s, v)
        assert priv[Attribute.ALWAYS_AUTHENTICATE] is True
        with pytest.raises(UserNotLoggedIn):
            priv.sign(b"m", mechanism=v.sign_with_z)
        sig = priv.sign(b"m", mechanism=v.sign_with_z, pin=PIN)
        assert u.LibcryptoVerifier(point).verify(b"m", sig)


def test_removal_mid_batch(make_testtoken, open_testtoken):
    tok = make_testtoken()
    v = vendor_of(tok)
    lib = open_testtoken(tok)
    s = lib.get_token().open(rw=True, user_pin=PIN)
    _, priv, _ = generate(s, v)
    signed = 0
    with pytest.raises(DeviceRemoved):
        for i in range(100):
            if i == 10:
                tok.remove()  # pulled out while a batch of signatures runs
            priv.sign(b"doc %d" % i, mechanism=v.sign_with_z)
            signed += 1
    assert signed == 10
    assert lib.get_slots(token_present=True) == []
    assert len(lib.get_slots()) == 1
    with pytest.raises(TokenNotPresent):
        lib.get_slots()[0].get_token()
    with pytest.raises(DeviceRemoved):
        s.generate_random(64)
    tok.insert()
    with pytest.raises(DeviceRemoved):  # sessions do not survive a removal
        priv.sign(b"again", mechanism=v.sign_with_z)
    with lib.get_token().open(user_pin=PIN) as s2:  # the key is still on the token
        priv2 = s2.get_key(object_class=ObjectClass.PRIVATE_KEY, label="sign")
        priv2.sign(b"again", mechanism=v.sign_with_z)
    with pytest.raises(DeviceRemoved):  # python-pkcs11's close() logs out first, which a dead session refuses
        s.close()


def test_stale_session_handle_after_reload(make_testtoken, open_testtoken):
    tok = make_testtoken()
    lib = open_testtoken(tok)
    s = lib.get_token().open()
    lib = open_testtoken(tok)  # C_Finalize + C_Initialize
    with pytest.raises(SessionHandleInvalid):  # handles are never reused
        s.generate_random(64)


def _sign_loop(session, priv, mech, tag, seconds, out, errors):
    try:
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            msg = b"thread %d message %d" % (tag, i)
            out.append((msg, priv.sign(msg, mechanism=mech)))
            i += 1
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_eight_threads_sign_concurrently(make_testtoken, open_testtoken):
    tok = make_testtoken(preset="luna")
    v = vendor_of(tok)
    lib = open_testtoken(tok)
    token = lib.get_token()
    login = token.open(rw=True, user_pin=PIN)  # login is per token; the other sessions share it
    _, priv, point = generate(login, v)

    # one thread, for the rate
    single: list = []
    errors: list = []
    _sign_loop(login, priv, v.sign_with_z, 0, 0.5, single, errors)
    assert not errors

    results: list[list] = [[] for _ in range(8)]
    sessions = [token.open() for _ in range(8)]
    keys = [s.get_key(object_class=ObjectClass.PRIVATE_KEY, label="sign") for s in sessions]
    threads = [
        threading.Thread(
            target=_sign_loop, args=(sessions[i], keys[i], v.sign_with_z, i + 1, 2.0, results[i], errors)
        )
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(results), [len(r) for r in results]
    verifier = u.LibcryptoVerifier(point)
    try:
        pairs = [p for r in results for p in r] + single
        bad = [m for m, sig in pairs if not verifier.verify(m, sig)]
    finally:
        verifier.close()
    assert bad == []
    assert all(len(r) > 0 for r in results)  # every thread signed
    for s in sessions:
        s.close()
    login.close()
