"""``sealkit keys``: generate, list and import-cert, human and --json, errors as one line."""

import json

from sealkit_cli.main import run

from tests.ukey.conftest import openssl


def test_keys_generate_list_import(tmp_path, monkeypatch, capsys, rsa_pki):
    monkeypatch.setenv("SEALKIT_PIN", "store-pass")
    assert run(["keys", "generate", "supplier", "--type", "rsa2048", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["uri"] == "keystore:supplier" and out["kind"] == "rsa"
    # A certificate for that key: a CSR signed by the test root with openssl
    monkeypatch.setenv("SEALKIT_PIN", "store-pass")
    key_pem = tmp_path / "k.pem"
    key_pem.write_bytes(openssl("pkey", "-in", out["path"] + "/key.pem", "-passin", "pass:store-pass"))
    csr = tmp_path / "req.csr"
    csr.write_bytes(openssl("req", "-new", "-key", str(key_pem), "-subj", "/CN=supplier"))
    cert = tmp_path / "cert.pem"
    cert.write_bytes(
        openssl(
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(rsa_pki.root.cert_path),
            "-CAkey",
            str(rsa_pki.root.key_path),
            "-days",
            "30",
        )
    )
    assert run(["keys", "import-cert", "supplier", str(cert), "--chain", str(rsa_pki.root.cert_path)]) == 0
    capsys.readouterr()
    assert run(["keys", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)["keys"]
    assert [k["name"] for k in listing] == ["supplier"] and listing[0]["has_certificate"]
    assert "supplier" in listing[0]["subject"]
    assert run(["keys", "list"]) == 0
    assert "keystore:supplier" in capsys.readouterr().out


def test_keys_errors_are_one_line(monkeypatch, capsys):
    monkeypatch.delenv("SEALKIT_PIN", raising=False)
    monkeypatch.setenv("CI", "1")  # no terminal prompt
    assert run(["keys", "generate", "x", "--type", "p256"]) == 5  # PinRequired
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    monkeypatch.setenv("SEALKIT_PIN", "pw")
    assert run(["keys", "import-cert", "missing", __file__, "--json"]) == 5  # KeyNotFound
    out = json.loads(capsys.readouterr().out)
    assert out["error"]["type"] == "KeyNotFound"
