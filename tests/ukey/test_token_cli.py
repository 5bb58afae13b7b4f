"""``sealkit token`` on a SoftHSM2 token: list, keygen, import-cert, keys, selftest (human and --json)."""

import json

import pytest
from sealkit_cli.main import run

from tests.helpers.softhsm import SOFTHSM_MODULE
from tests.ukey.conftest import openssl

pytestmark = pytest.mark.softhsm


def test_token_commands(tmp_path, softhsm_token, capsys):
    softhsm_token("cli-token")
    assert run(["token", "list", "--module", SOFTHSM_MODULE, "--json"]) == 0
    slots = json.loads(capsys.readouterr().out)["slots"]
    token = next(s["token"] for s in slots if s["token"] and s["token"]["label"] == "cli-token")
    assert token["profile"] == "softhsm" and "ECDSA" in token["mechanisms"]
    ref = f"pkcs11:token=cli-token;object=signer?module-path={SOFTHSM_MODULE}"
    assert run(["token", "keygen", ref, "--type", "p256", "--json"]) == 0
    generated = json.loads(capsys.readouterr().out)
    assert generated["kind"] == "p256"
    # A certificate for the token key, made with openssl from its public key and a test CA
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    from sealkit.ukey import open_key

    key = open_key(ref)
    ca_key = serialization.load_pem_private_key(
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"), None
    )
    name = x509.Name.from_rfc4514_string("CN=cli signer")
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(serialization.load_der_public_key(key.public_key_info().dump()))
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert run(["token", "import-cert", ref, str(tmp_path / "c.pem")]) == 0
    capsys.readouterr()
    assert run(["token", "keys", ref, "--json"]) == 0
    keys = json.loads(capsys.readouterr().out)["keys"]
    assert [(k["label"], k["kind"], k["has_certificate"]) for k in keys] == [("signer", "p256", True)]
    assert open_key(ref).certificate() is not None
    assert run(["token", "selftest", ref, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert run(["token", "keygen", ref, "--type", "p256"]) == 2  # already exists: one line
    assert "already exists" in capsys.readouterr().err
    assert run(["token", "selftest", ref + "&pin-value=1234"]) == 2
    err = capsys.readouterr().err
    assert "pin-value" in err and "1234" not in err
