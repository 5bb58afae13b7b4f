"""Bids opened with keys that live on tokens, end to end through ``sealkit bid decrypt --key pkcs11:…``.

The content key is unwrapped on the token: RSA-2048 on SoftHSM2 (OAEP-SHA-256, which SoftHSM 2.6 only does as
raw RSA, and PKCS#1 v1.5), SM2 on SoftHSM2 through CKM_ECDH1_DERIVE, and SM2 on the project's test token
through the vendor decryption mechanism (sansec and ep11 presets). The keys are generated on the token and
certified by the test PKIs; the PIN comes from the reference's ``pin-source`` file only.
"""

from __future__ import annotations

import json

import pytest
from asn1crypto import cms
from sealkit_cli.main import run

from sealkit.envelope import encrypt_file, inspect, load_certificates
from sealkit.ukey import close_all_sessions, generate_token_key
from tests.helpers.softhsm import USER_PIN
from tests.helpers.testtoken import DEFAULT_USER_PIN
from tests.helpers.tokens import certify_token_key, token_uri

#: Sorts after every serial the test PKI gives out (63 random bits, top bit set), so in a DER SET OF the
#: token's recipient comes last and the other recipients are tried on the token first.
LAST_SERIAL = (1 << 63) - 1


def _run(capsys, *args):
    code = run(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def _pin_file(tmp_path, pin):
    path = tmp_path / "pin.txt"
    path.write_text(pin + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _with_pin_source(keyref, pin_path):
    return f"{keyref}{'&' if '?' in keyref else '?'}pin-source=file:{pin_path}"


def _encrypt(capsys, bid, env, recipients, signer, *extra):
    to = [a for cert in recipients for a in ("--to", cert)]
    sign = ("--sign", signer.keyref, "--sign-cert", signer.cert_path)
    code, out, err = _run(capsys, "bid", "encrypt", bid, "-o", env, *to, *sign, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def _open(capsys, monkeypatch, env, out, keyref, pin_path, *extra):
    """``sealkit bid decrypt`` logged out, with SEALKIT_PIN unset: the PIN comes from pin-source only."""
    close_all_sessions()
    monkeypatch.delenv("SEALKIT_PIN", raising=False)
    return _run(
        capsys,
        "bid",
        "decrypt",
        env,
        "-o",
        out,
        "--key",
        _with_pin_source(keyref, pin_path),
        "--json",
        *extra,
    )


def _opened(code, out, err, bid, plain, cert_path):
    assert code == 0, err
    result = json.loads(out)
    assert plain.read_bytes() == bid.read_bytes()
    serial = load_certificates(cert_path)[0].serial_number
    assert result["recipient"]["serial"] == f"0x{serial:x}"
    return result


# --- SoftHSM2 ---------------------------------------------------------------------------------------------


@pytest.mark.softhsm
@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-cbc"])
def test_rsa_bid_opened_on_softhsm(
    rsa_pki, softhsm_token, bid, out_dir, tmp_path, capsys, monkeypatch, cipher
):
    hsm = softhsm_token("bids-rsa")
    generate_token_key(hsm.uri("enc"), "rsa2048")
    cert = certify_token_key(rsa_pki.pki, hsm.uri("enc"), tmp_path / "enc.pem", name="token bidder enc")
    env = out_dir / "bid.p7m"
    backup = rsa_pki.ids["platform-backup"].cert_path
    made = _encrypt(capsys, bid, env, [cert, backup], rsa_pki.ids["bidder-sign"], "--cipher", cipher)
    assert made["recipients"][0]["key_algorithm"] == "rsaes-oaep(sha256)"
    plain = out_dir / "opened.pdf"
    code, out, err = _open(
        capsys, monkeypatch, env, plain, hsm.uri("enc"), _pin_file(tmp_path, USER_PIN),
        "--trust", rsa_pki.pki.root.cert_path,
    )  # fmt: skip
    result = _opened(code, out, err, bid, plain, cert)
    assert result["signer"]["trusted"] and result["content_cipher"] == cipher


@pytest.mark.softhsm
def test_rsa_token_key_without_certificate_tries_each_recipient(
    rsa_pki, softhsm_token, bid, out_dir, tmp_path, capsys, monkeypatch
):
    """No certificate on the token: every RSA recipient is tried on the token. SoftHSM answers the others'
    keys with CKR_GENERAL_ERROR, which must read as "not this one", not as a token failure."""
    hsm = softhsm_token("bids-nocert")
    generate_token_key(hsm.uri("enc"), "rsa2048")
    cert = certify_token_key(
        rsa_pki.pki, hsm.uri("enc"), tmp_path / "enc.pem", name="nocert", serial=LAST_SERIAL, store=False
    )
    others = [rsa_pki.ids[n].cert_path for n in ("platform-backup", "other-enc")]
    env = out_dir / "bid.p7m"
    _encrypt(capsys, bid, env, [*others, cert], rsa_pki.ids["bidder-sign"], "--cipher", "sm4-cbc")
    assert inspect(env).recipients[-1].serial == LAST_SERIAL
    plain = out_dir / "opened.pdf"
    pin = _pin_file(tmp_path, USER_PIN)
    _opened(*_open(capsys, monkeypatch, env, plain, hsm.uri("enc"), pin), bid, plain, cert)

    # Not among the recipients at all: NotARecipient (exit 8) naming them, nothing written.
    stranger = out_dir / "stranger.p7m"
    _encrypt(capsys, bid, stranger, others, rsa_pki.ids["bidder-sign"])
    code, out, err = _open(capsys, monkeypatch, stranger, out_dir / "never.pdf", hsm.uri("enc"), pin)
    assert code == 8 and json.loads(out)["error"]["type"] == "NotARecipient"
    assert not (out_dir / "never.pdf").exists()


@pytest.mark.softhsm
@pytest.mark.parametrize("padding", ["oaep", "pkcs1v15"])
def test_damaged_key_for_the_token_recipient(
    rsa_pki, softhsm_token, bid, out_dir, tmp_path, capsys, monkeypatch, padding
):
    """OAEP-SHA-256 fails in sealkit's OAEP decoding, PKCS#1 v1.5 on the token (CKR_GENERAL_ERROR): both
    are a damaged envelope, not a token failure."""
    hsm = softhsm_token("bids-damaged")
    generate_token_key(hsm.uri("enc"), "rsa2048")
    cert = certify_token_key(rsa_pki.pki, hsm.uri("enc"), tmp_path / "enc.pem", name="damaged")
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, load_certificates(cert), signer=rsa_pki.key("bidder-sign"), rsa_padding=padding)
    data = bytearray(env.read_bytes())
    encrypted_key = cms.ContentInfo.load(bytes(data))["content"]["recipient_infos"][0].chosen["encrypted_key"]
    data[bytes(data).index(encrypted_key.native) + 7] ^= 0x01
    env.write_bytes(bytes(data))
    code, out, err = _open(
        capsys, monkeypatch, env, out_dir / "opened.pdf", hsm.uri("enc"), _pin_file(tmp_path, USER_PIN)
    )
    error = json.loads(out)["error"]
    assert code == 8 and error["type"] == "DamagedEnvelope" and "encrypted key" in error["message"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["bid.p7m"]


@pytest.mark.softhsm
@pytest.mark.parametrize(
    ("keyopts", "label"),
    [([], "rsaes-oaep(sha1)"), (["rsa_oaep_md:sha256", "rsa_mgf1_md:sha1"], "rsaes-oaep(sha256, mgf1-sha1)")],
    ids=["openssl-default-sha1", "sha256-mgf1-sha1"],
)
def test_openssl_default_oaep_opened_on_softhsm(
    rsa_pki, softhsm_token, bid, out_dir, tmp_path, capsys, monkeypatch, keyopts, label
):
    """Issue 12, item 10 on a token: OpenSSL's default OAEP (SHA-1, SoftHSM's own mechanism) and OAEP-SHA-256
    with MGF1-SHA-1 (which SoftHSM refuses: raw RSA on the token, OAEP decoded in sealkit)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI")
    hsm = softhsm_token("bids-oaep")
    generate_token_key(hsm.uri("enc"), "rsa2048")
    cert = certify_token_key(rsa_pki.pki, hsm.uri("enc"), tmp_path / "enc.pem", name="token oaep enc")
    env = out_dir / "bid.p7m"
    options = ["-keyopt", "rsa_padding_mode:oaep"] + [a for o in keyopts for a in ("-keyopt", o)]
    subprocess.run(
        ["openssl", "cms", "-encrypt", "-binary", "-outform", "DER", "-aes-256-gcm", "-in", str(bid),
         "-out", str(env), "-recip", str(cert), *options],
        check=True, capture_output=True,
    )  # fmt: skip
    assert [r.key_algorithm for r in inspect(env).recipients] == [label]
    plain = out_dir / "opened.pdf"
    code, out, err = _open(capsys, monkeypatch, env, plain, hsm.uri("enc"), _pin_file(tmp_path, USER_PIN))
    result = _opened(code, out, err, bid, plain, cert)
    assert result["signer"] is None and result["warnings"]


@pytest.mark.softhsm
def test_sm2_bid_opened_on_softhsm_via_ecdh(
    sm2_pki, softhsm_token, bid, out_dir, tmp_path, capsys, monkeypatch
):
    hsm = softhsm_token("bids-sm2")
    generate_token_key(hsm.uri("enc"), "sm2")
    cert = certify_token_key(sm2_pki.pki, hsm.uri("enc"), tmp_path / "enc.pem", name="token sm2 enc")
    env = out_dir / "bid.gm"
    made = _encrypt(capsys, bid, env, [cert], sm2_pki.signer)
    assert made["format"] == "gmt0010-enveloped-data" and made["recipients"][0]["key_algorithm"] == "sm2"
    plain = out_dir / "opened.pdf"
    code, out, err = _open(
        capsys, monkeypatch, env, plain, hsm.uri("enc"), _pin_file(tmp_path, USER_PIN),
        "--trust", sm2_pki.pki.root.cert_path,
    )  # fmt: skip
    result = _opened(code, out, err, bid, plain, cert)
    assert result["signer"]["signature_algorithm"] == "sm2_sm3" and result["signer"]["trusted"]


# --- the SM2 test token -----------------------------------------------------------------------------------


@pytest.mark.testtoken
@pytest.mark.parametrize(("preset", "profile"), [("sansec", "sansec"), ("ep11", None)])
def test_sm2_bid_opened_on_testtoken(
    sm2_pki, make_testtoken, use_testtoken, bid, out_dir, tmp_path, capsys, monkeypatch, preset, profile
):
    """The vendor SM2 decryption mechanism: sansec (raw C1C3C2 input, profile named in the reference) and
    ep11 (GM/T 0009 DER input, profile detected from the mechanism list)."""
    from sealkit.ukey import open_key

    tok = make_testtoken(preset=preset, label=f"UKEY {preset}")
    module = use_testtoken(tok)
    query = {"profile": profile} if profile else {}
    keyref = token_uri(module, tok, "enc", **query)
    generate_token_key(keyref, "sm2", key_id=b"\x02")
    assert open_key(keyref).profile.name == preset
    cert = certify_token_key(sm2_pki.pki, keyref, tmp_path / "enc.pem", name=f"ukey {preset} enc")
    env = out_dir / "bid.gm"
    _encrypt(
        capsys, bid, env, [cert, sm2_pki.pki.issue(f"backup-{preset}", "encrypt").cert_path], sm2_pki.signer
    )
    plain = out_dir / "opened.pdf"
    code, out, err = _open(
        capsys, monkeypatch, env, plain, keyref, _pin_file(tmp_path, DEFAULT_USER_PIN),
        "--trust", sm2_pki.pki.root.cert_path,
    )  # fmt: skip
    assert _opened(code, out, err, bid, plain, cert)["signer"]["trusted"]


@pytest.mark.testtoken
def test_testtoken_failures_leave_nothing(
    sm2_pki, make_testtoken, use_testtoken, bid, out_dir, tmp_path, capsys, monkeypatch
):
    """A wrong PIN (never echoed) and a UKey pulled out: one line, the token's exit code, nothing written."""
    tok = make_testtoken(max_pin_tries=5)
    module = use_testtoken(tok)
    keyref = token_uri(module, tok, "enc")
    generate_token_key(keyref, "sm2", key_id=b"\x02")
    cert = certify_token_key(sm2_pki.pki, keyref, tmp_path / "enc.pem", name="ukey enc")
    env = out_dir / "bid.gm"
    _encrypt(capsys, bid, env, [cert], sm2_pki.signer)
    wrong = "654321"
    code, out, err = _open(capsys, monkeypatch, env, out_dir / "a.pdf", keyref, _pin_file(tmp_path, wrong))
    error = json.loads(out)["error"]
    assert code == 5 and error["type"] == "PinIncorrect"
    assert wrong not in out + err and DEFAULT_USER_PIN not in out + err
    tok.remove()
    code, out, err = _open(
        capsys, monkeypatch, env, out_dir / "b.pdf", keyref, _pin_file(tmp_path, DEFAULT_USER_PIN)
    )
    assert code == 5 and json.loads(out)["error"]["type"] == "TokenNotPresent"
    assert sorted(p.name for p in out_dir.iterdir()) == ["bid.gm"]
    tok.insert()
    code, out, err = _open(
        capsys, monkeypatch, env, out_dir / "c.pdf", keyref, _pin_file(tmp_path, DEFAULT_USER_PIN)
    )
    assert code == 0, err
