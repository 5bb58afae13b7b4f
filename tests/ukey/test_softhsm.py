"""PKCS#11 keys on a real SoftHSM2 token: RSA/P-256 signatures checked by openssl, RSA OAEP, errors."""

import threading

import pytest

from sealkit.errors import (
    DamagedEnvelope,
    InvalidInput,
    KeyNotFound,
    MechanismNotSupported,
    ModuleLoadError,
    PinIncorrect,
    TokenNotPresent,
)
from sealkit.ukey import FixedPin, KeyKind, SignOptions, open_key, parse_keyref
from tests.helpers.softhsm import USER_PIN, activate, make_softhsm
from tests.ukey.conftest import openssl, openssl_ok

pytestmark = pytest.mark.softhsm
MESSAGE = b"tender document " * 64


@pytest.fixture(scope="module")
def hsm(tmp_path_factory):
    directory = tmp_path_factory.mktemp("softhsm")
    hsm = make_softhsm(directory)
    hsm.keypair("rsa:2048", "01", "rsa-sign")
    hsm.keypair("EC:prime256v1", "02", "ec-sign")
    hsm.pub = {
        "rsa-sign": hsm.public_key_pem("rsa-sign", directory / "rsa.pem"),
        "ec-sign": hsm.public_key_pem("ec-sign", directory / "ec.pem"),
    }
    return hsm


@pytest.fixture(autouse=True)
def _softhsm_env(hsm, monkeypatch):
    activate(hsm, monkeypatch)
    monkeypatch.setenv("SEALKIT_PIN", USER_PIN)


def verify(tmp_path, pub, sig, digest="sha256", *extra):
    (tmp_path / "m").write_bytes(MESSAGE)
    (tmp_path / "s").write_bytes(sig)
    return openssl_ok(
        "dgst",
        f"-{digest}",
        *extra,
        "-verify",
        str(pub),
        "-signature",
        str(tmp_path / "s"),
        str(tmp_path / "m"),
    )


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_rsa_pkcs1_and_pss(tmp_path, hsm, digest):
    key = open_key(hsm.uri("rsa-sign"))
    assert key.kind is KeyKind.RSA
    assert verify(tmp_path, hsm.pub["rsa-sign"], key.sign(MESSAGE, SignOptions(digest=digest)), digest)
    pss = key.sign(MESSAGE, SignOptions(digest=digest, rsa_padding="pss"))
    assert verify(
        tmp_path,
        hsm.pub["rsa-sign"],
        pss,
        digest,
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:digest",
    )
    assert not verify(tmp_path, hsm.pub["rsa-sign"], pss, digest)


def test_ecdsa_p256_is_der_and_verifies(tmp_path, hsm):
    key = open_key(f"pkcs11:token={hsm.label};id=%02?module-path=/usr/lib/softhsm/libsofthsm2.so")
    assert key.kind is KeyKind.P256
    sig = key.sign(MESSAGE)
    assert sig[0] == 0x30
    assert verify(tmp_path, hsm.pub["ec-sign"], sig)
    assert key.public_key_info().dump() == openssl(
        "pkey", "-pubin", "-in", str(hsm.pub["ec-sign"]), "-outform", "DER"
    )


def _encrypt(pub, secret, *opts):
    return openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub), "-in", str(secret), *opts)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha384", "sha512"])
def test_rsa_oaep_decrypt_any_digest(tmp_path, hsm, digest):
    """SoftHSM 2.6 does CKM_RSA_PKCS_OAEP with SHA-1 only: other digests go through raw RSA on the token
    and the OAEP padding is removed in software."""
    secret = b"sm4 content key.0123456789abcdef"
    (tmp_path / "pt").write_bytes(secret)
    oaep = ("-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{digest}")
    oaep += ("-pkeyopt", f"rsa_mgf1_md:{digest}")
    key = open_key(hsm.uri("rsa-sign"))
    for _ in range(2):  # the second time the refused mechanism is skipped
        ciphertext = _encrypt(hsm.pub["rsa-sign"], tmp_path / "pt", *oaep)
        assert key.decrypt(ciphertext, oaep_hash=digest) == secret
    assert ((digest, digest) in key._software_oaep) is (digest != "sha1")
    with pytest.raises(DamagedEnvelope):  # a damaged block, or one for another digest: one error
        key.decrypt(ciphertext[:-1] + bytes([ciphertext[-1] ^ 1]), oaep_hash=digest)
    with pytest.raises(DamagedEnvelope):
        key.decrypt(ciphertext, oaep_hash="sha384" if digest == "sha256" else "sha256")


def test_rsa_pkcs1_decrypt_and_foreign_ciphertexts(tmp_path, hsm):
    """SoftHSM answers a ciphertext for another key with CKR_GENERAL_ERROR: sealkit checks the token with a
    ciphertext of its own and reports DamagedEnvelope (so an envelope's next recipient is tried)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    secret = b"sm4 content key.0123456789abcdef"
    (tmp_path / "pt").write_bytes(secret)
    key = open_key(hsm.uri("rsa-sign"))
    assert key.decrypt(_encrypt(hsm.pub["rsa-sign"], tmp_path / "pt"), rsa_padding="pkcs1v15") == secret
    other = rsa.generate_private_key(65537, 2048).public_key()
    sha1 = hashes.SHA1()  # noqa: S303 - SoftHSM's own OAEP
    for ciphertext, options in (
        (other.encrypt(secret, padding.PKCS1v15()), {"rsa_padding": "pkcs1v15"}),
        (other.encrypt(secret, padding.OAEP(padding.MGF1(sha1), sha1, None)), {"oaep_hash": "sha1"}),
    ):
        with pytest.raises(DamagedEnvelope):
            key.decrypt(ciphertext, **options)


def test_wrong_pin_never_leaks_and_sessions_recover(hsm, monkeypatch):
    from sealkit.ukey import close_all_sessions

    close_all_sessions()
    monkeypatch.setenv("SEALKIT_PIN", "999999-wrong")
    for _ in range(20):  # more than SoftHSM's session limit if sessions leaked
        with pytest.raises(PinIncorrect) as info:
            open_key(hsm.uri("rsa-sign")).sign(MESSAGE)
        assert "999999-wrong" not in str(info.value) and USER_PIN not in str(info.value)
    key = open_key(hsm.uri("rsa-sign"), pin_source=FixedPin(USER_PIN))
    assert len(key.sign(MESSAGE)) == 256


def test_reference_errors(hsm, tmp_path):
    with pytest.raises(InvalidInput, match="pin-value"):
        open_key(hsm.uri("rsa-sign", **{"pin-value": USER_PIN}))
    with pytest.raises(KeyNotFound):
        open_key(hsm.uri("no-such-key"))
    with pytest.raises(TokenNotPresent):
        open_key("pkcs11:token=absent;object=x?module-path=/usr/lib/softhsm/libsofthsm2.so")
    with pytest.raises(ModuleLoadError):
        open_key(f"pkcs11:token=x;object=y?module-path={tmp_path}/nope.so")
    bogus = tmp_path / "bogus.so"
    bogus.write_bytes(b"not an ELF")
    with pytest.raises(ModuleLoadError):
        open_key(f"pkcs11:token=x;object=y?module-path={bogus}")
    with pytest.raises(InvalidInput):
        open_key(f"pkcs11:token={hsm.label};object=rsa-sign")  # no module
    with pytest.raises(MechanismNotSupported):
        open_key(hsm.uri("ec-sign")).decrypt(b"x" * 64)


def test_uri_percent_decoding():
    ref = parse_keyref(
        "pkcs11:token=My%20Token;object=%E7%AD%BE%E5%90%8D;id=%01%02%ff;slot-id=3?module-name=budget&pin-source=file:%2Ftmp%2Fpin"
    )
    assert ref.token == "My Token" and ref.object == "签名" and ref.key_id == b"\x01\x02\xff"
    assert ref.slot_id == 3 and ref.query["module-name"] == "budget" and ref.pin_source == "file:/tmp/pin"
    with pytest.raises(InvalidInput):
        parse_keyref("pkcs11:token=a;bogus=1")
    with pytest.raises(InvalidInput):
        parse_keyref("pkcs11:token=a;object=b;type=weird")


def test_module_name_from_config(hsm, tmp_path, monkeypatch):
    from sealkit import load_config

    conf = tmp_path / "sealkit.toml"
    conf.write_text('[tokens.budget]\nmodule = "/usr/lib/softhsm/libsofthsm2.so"\nprofile = "softhsm"\n')
    config = load_config(conf)
    key = open_key(f"pkcs11:token={hsm.label};object=rsa-sign?module-name=budget", config=config)
    assert key.profile.name == "softhsm"
    assert len(key.sign(MESSAGE)) == 256


def test_threads_share_one_token(tmp_path, hsm):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pub = serialization.load_pem_public_key(hsm.pub["ec-sign"].read_bytes())
    keys = [open_key(hsm.uri("ec-sign")) for _ in range(2)]
    errors, counts = [], [0] * 8

    def worker(i):  # a fixed number of signatures per thread, not a time budget
        try:
            for n in range(150):
                msg = f"{i}-{n}".encode()
                pub.verify(keys[i % 2].sign(msg), msg, ec.ECDSA(hashes.SHA256()))
                counts[i] += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert counts == [150] * 8
