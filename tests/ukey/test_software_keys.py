"""file: and keystore: keys: every file format, PIN sources, signatures checked by the openssl CLI."""

import stat

import pytest

from sealkit.errors import CertificateError, InvalidInput, KeyNotFound, PinIncorrect, PinRequired
from sealkit.ukey import FixedPin, KeyKind, SignOptions, open_key
from tests.ukey.conftest import openssl, openssl_ok, pubkey_of

MESSAGE = b"contract body \xe5\x90\x88\xe5\x90\x8c" * 50
PASSWORD = "s3cret-pass\u5bc6"


def verify_with_openssl(tmp_path, pub, digest, signature, *extra):
    (tmp_path / "msg").write_bytes(MESSAGE)
    (tmp_path / "sig").write_bytes(signature)
    return openssl_ok(
        "dgst",
        f"-{digest}",
        *extra,
        "-verify",
        str(pub),
        "-signature",
        str(tmp_path / "sig"),
        str(tmp_path / "msg"),
    )


@pytest.fixture(params=["rsa", "p256"])
def identity(request, rsa_pki, p256_pki):
    pki = rsa_pki if request.param == "rsa" else p256_pki
    return pki.issue(f"signer-{request.param}")


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_pkcs8_pem_signs_verifiably(tmp_path, identity, digest):
    key = open_key(f"{identity.keyref}?cert={identity.cert_path}")
    assert key.kind is (KeyKind.RSA if identity.kind == "rsa" else KeyKind.P256)
    assert key.certificate().dump() == identity.certificate.dump()
    sig = key.sign(MESSAGE, SignOptions(digest=digest))
    pub = pubkey_of(identity.cert_path, tmp_path / "pub.pem")
    assert verify_with_openssl(tmp_path, pub, digest, sig)
    tampered = bytearray(MESSAGE)
    tampered[0] ^= 1
    (tmp_path / "msg").write_bytes(bytes(tampered))
    assert not openssl_ok(
        "dgst", f"-{digest}", "-verify", str(pub), "-signature", str(tmp_path / "sig"), str(tmp_path / "msg")
    )


def test_rsa_pss_verifies_with_openssl(tmp_path, rsa_pki):
    ident = rsa_pki.issue("pss")
    sig = open_key(ident.keyref).sign(MESSAGE, SignOptions(digest="sha256", rsa_padding="pss"))
    pub = pubkey_of(ident.cert_path, tmp_path / "pub.pem")
    assert verify_with_openssl(
        tmp_path, pub, "sha256", sig, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"
    )
    assert not verify_with_openssl(tmp_path, pub, "sha256", sig)  # not a PKCS#1 v1.5 signature


@pytest.mark.parametrize("form", ["der", "sec1", "sec1-der"])
def test_other_encodings(tmp_path, p256_pki, form):
    ident = p256_pki.issue(f"enc-{form}")
    path = tmp_path / f"key.{form}"
    if form == "der":
        path.write_bytes(
            openssl("pkcs8", "-topk8", "-nocrypt", "-in", str(ident.key_path), "-outform", "DER")
        )
    elif form == "sec1":
        path.write_bytes(openssl("ec", "-in", str(ident.key_path)))
        assert b"BEGIN EC PRIVATE KEY" in path.read_bytes()
    else:
        path.write_bytes(openssl("ec", "-in", str(ident.key_path), "-outform", "DER"))
    key = open_key(f"file:{path}")
    assert key.public_key_info().dump() == ident.certificate.public_key.dump()


def test_encrypted_pkcs8_password_sources(tmp_path, rsa_pki, monkeypatch):
    ident = rsa_pki.issue("enc")
    enc = tmp_path / "enc.pem"
    enc.write_bytes(
        openssl(
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            str(ident.key_path),
            "-passout",
            f"pass:{PASSWORD}",
        )
    )
    before = enc.read_bytes()
    with pytest.raises(PinRequired) as info:
        open_key(f"file:{enc}")
    assert "SEALKIT_PIN" in str(info.value)
    # From a file named by pin-source
    secret = tmp_path / "pw.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    key = open_key(f"file:{enc}?pin-source=file:{secret}")
    assert key.public_key_info().dump() == ident.certificate.public_key.dump()
    # From the environment
    monkeypatch.setenv("SEALKIT_PIN", PASSWORD)
    assert open_key(f"file:{enc}").kind is KeyKind.RSA
    # A caller's fixed PIN beats the environment; a wrong one is PinIncorrect and not echoed
    with pytest.raises(PinIncorrect) as info:
        open_key(f"file:{enc}", pin_source=FixedPin("wrong-password-xyz"))
    assert "wrong-password-xyz" not in str(info.value) and PASSWORD not in str(info.value)
    assert enc.read_bytes() == before


def test_interactive_callback_is_asked_last(tmp_path, rsa_pki, monkeypatch):
    from sealkit.ukey import CallbackPinSource

    ident = rsa_pki.issue("cb")
    enc = tmp_path / "enc.pem"
    enc.write_bytes(openssl("pkcs8", "-topk8", "-in", str(ident.key_path), "-passout", f"pass:{PASSWORD}"))
    asked = []

    def ask(prompt):
        asked.append(prompt)
        return PASSWORD

    open_key(f"file:{enc}", pin_source=CallbackPinSource(ask))
    assert asked and "enc.pem" in asked[0]
    monkeypatch.setenv("SEALKIT_PIN", PASSWORD)
    asked.clear()
    open_key(f"file:{enc}", pin_source=CallbackPinSource(ask))
    assert asked == []


@pytest.mark.parametrize("kind", ["rsa", "p256"])
def test_pkcs12_with_certificate_and_chain(tmp_path, rsa_pki, p256_pki, kind, monkeypatch):
    pki = rsa_pki if kind == "rsa" else p256_pki
    ident = pki.issue(f"p12-{kind}")
    p12 = tmp_path / "id.p12"
    p12.write_bytes(
        openssl(
            "pkcs12",
            "-export",
            "-inkey",
            str(ident.key_path),
            "-in",
            str(ident.cert_path),
            "-certfile",
            str(pki.root.cert_path),
            "-passout",
            f"pass:{PASSWORD}",
        )
    )
    monkeypatch.setenv("SEALKIT_PIN", PASSWORD)
    key = open_key(f"file:{p12}")
    assert key.certificate().dump() == ident.certificate.dump()
    assert [c.dump() for c in key.chain()] == [pki.root.certificate.dump()]
    sig = key.sign(MESSAGE)
    assert verify_with_openssl(tmp_path, pubkey_of(ident.cert_path, tmp_path / "pub.pem"), "sha256", sig)
    monkeypatch.setenv("SEALKIT_PIN", "not-it")
    with pytest.raises(PinIncorrect):
        open_key(f"file:{p12}")


def test_rsa_decrypt_oaep_and_pkcs1(tmp_path, rsa_pki):
    ident = rsa_pki.issue("decrypt")
    pub = pubkey_of(ident.cert_path, tmp_path / "pub.pem")
    secret = b"bid session key 0123456789abcdef"
    (tmp_path / "pt").write_bytes(secret)
    key = open_key(ident.keyref)
    oaep = openssl(
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        str(pub),
        "-in",
        str(tmp_path / "pt"),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
    )
    assert key.decrypt(oaep) == secret
    v15 = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub), "-in", str(tmp_path / "pt"))
    assert key.decrypt(v15, rsa_padding="pkcs1v15") == secret
    from sealkit.errors import DamagedEnvelope

    with pytest.raises(DamagedEnvelope):
        key.decrypt(oaep[:-1] + bytes([oaep[-1] ^ 1]))


def test_refusals(tmp_path, rsa_pki, p256_pki):
    ident = rsa_pki.issue("refuse")
    other = p256_pki.issue("other")
    with pytest.raises(InvalidInput, match="pin-value"):
        open_key(f"file:{ident.key_path}?pin-value=1234")
    with pytest.raises(CertificateError):
        open_key(f"file:{ident.key_path}?cert={other.cert_path}")
    with pytest.raises(KeyNotFound):
        open_key(f"file:{tmp_path}/missing.pem")
    (tmp_path / "junk.pem").write_bytes(b"not a key")
    with pytest.raises(InvalidInput):
        open_key(f"file:{tmp_path}/junk.pem")
    with pytest.raises(InvalidInput):
        open_key("ftp:/x")


def test_keystore_generate_open_import(tmp_path, rsa_pki, monkeypatch, _isolated_sealkit_home):
    from sealkit.ukey import KeyStore, keystore, pin_chain

    monkeypatch.setenv("SEALKIT_PIN", PASSWORD)
    store = keystore()
    assert store.root == _isolated_sealkit_home / "keys"
    info = store.generate("server-seal", "p256", pin_chain(None, None))
    assert info.uri == "keystore:server-seal" and not info.has_certificate
    key_file = store.root / "server-seal" / "key.pem"
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = open_key("keystore:server-seal")
    sig = key.sign(MESSAGE)
    assert key.kind is KeyKind.P256 and sig[0] == 0x30
    with pytest.raises(InvalidInput):
        store.generate("server-seal", "p256", pin_chain(None, None))
    foreign = rsa_pki.issue("foreign")
    with pytest.raises(CertificateError):
        store.import_cert("server-seal", foreign.cert_path, pin_chain(None, None))
    assert [i.label for i in KeyStore(store.root).list()] == ["server-seal"]
    with pytest.raises(KeyNotFound):
        open_key("keystore:nope")
    with pytest.raises(InvalidInput):
        open_key("keystore:../etc")
    monkeypatch.setenv("SEALKIT_PIN", "wrong")
    with pytest.raises(PinIncorrect):
        open_key("keystore:server-seal")
