"""From a new key to a certificate: requests (PKCS#10) for key-store keys, the CA's answer imported, PEM
bundles accepted as key files, and the test PKI of ``sealkit dev``."""

import subprocess
from pathlib import Path

import pytest
from sealkit_cli.main import run

from sealkit.dev.hierarchy import IDENTITIES, write_dev_pki
from sealkit.dev.sample_contract import blank_pdf


@pytest.fixture(scope="module")
def devpki(tmp_path_factory):
    return write_dev_pki(tmp_path_factory.mktemp("devpki") / "testpki")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEALKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEALKIT_PIN", "correct horse")
    monkeypatch.delenv("SEALKIT_CONFIG", raising=False)
    return tmp_path


def one_line_error(capsys, code, expected_code, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == expected_code, err
    assert len(err) == 1 and err[0].startswith("sealkit: "), err
    for needle in needles:
        assert needle in err[0], err
    return err[0]


def test_dev_pki_writes_a_labelled_hierarchy_and_config_lines(devpki, capsys):
    for name, _kind, _role in IDENTITIES:
        bundle = devpki.bundle(name).read_bytes()
        assert b"PRIVATE KEY" in bundle and bundle.count(b"BEGIN CERTIFICATE") == 2
        assert devpki.certificate(name).read_bytes().count(b"BEGIN CERTIFICATE") == 1
    assert devpki.trust_anchors.read_bytes().count(b"BEGIN CERTIFICATE") == 2
    root = devpki.roots["sm2"].root.certificate
    assert "sealkit Test" in root.subject.human_friendly
    assert str(devpki.trust_anchors.resolve()) in devpki.config_lines()
    assert run(["dev", "pki", str(devpki.directory)]) == 0  # reused, unchanged
    assert "TEST" in capsys.readouterr().out


@pytest.mark.parametrize(("type_name", "root"), [("sm2", "sm2"), ("rsa2048", "rsa"), ("p256", "rsa")])
def test_key_csr_certify_import_sign(home, devpki, capsys, type_name, root):
    assert run(["keys", "generate", "purchaser", "--type", type_name]) == 0
    form = Path(__file__).resolve().parents[2] / "docs" / "examples" / "unit.toml"
    assert run(["keys", "csr", "purchaser", "--form", str(form), "--uscc-in", "serial", "-o", "p.csr"]) == 0
    text = subprocess.run(
        ["openssl", "req", "-in", "p.csr", "-noout", "-text", "-verify"]
        + (["-vfyopt", "distid:1234567812345678"] if type_name == "sm2" else []),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "verify OK" in text.stdout + text.stderr
    assert "serialNumber = 12370102MB00000014" in text.stdout
    if type_name == "sm2":
        assert "SM2-with-SM3" in text.stdout
    assert run(["dev", "certify", str(devpki.directory), "p.csr", "-o", "p.crt", "--root", root]) == 0
    assert run(["keys", "import-cert", "purchaser", "p.crt"]) == 0
    Path("c.pdf").write_bytes(blank_pdf())
    capsys.readouterr()
    assert run(["sign", "c.pdf", "-o", "s.pdf", "--key", "keystore:purchaser", "--invisible"]) == 0
    assert run(["verify", "s.pdf", "--trust", str(devpki.trust_anchors)]) == 0


def test_import_cert_for_another_key_is_one_line_and_changes_nothing(home, devpki, capsys):
    assert run(["keys", "generate", "k", "--type", "sm2"]) == 0
    code = run(["keys", "import-cert", "k", str(devpki.certificate("purchaser"))])
    one_line_error(capsys, code, 6, "does not match key", "request made from this key")
    assert not (home / "home" / "keys" / "k" / "cert.pem").exists()


def test_a_pem_bundle_is_a_key_file_with_its_certificate(home, devpki, capsys):
    Path("c.pdf").write_bytes(blank_pdf())
    key = f"file:{devpki.bundle('supplier')}"
    assert run(["sign", "c.pdf", "-o", "s.pdf", "--key", key, "--invisible"]) == 0
    assert run(["verify", "s.pdf", "--trust", str(devpki.trust_anchors)]) == 0


def test_a_bundle_whose_certificate_is_not_the_keys_is_refused(home, devpki, capsys):
    identity = devpki.identities["supplier"]
    bundle = home / "wrong.pem"
    bundle.write_bytes(identity.key_path.read_bytes() + devpki.certificate("purchaser").read_bytes())
    Path("c.pdf").write_bytes(blank_pdf())
    code = run(["sign", "c.pdf", "-o", "s.pdf", "--key", f"file:{bundle}", "--invisible"])
    one_line_error(capsys, code, 6, "wrong.pem", "--cert")
    assert not Path("s.pdf").exists()


def test_a_key_without_certificate_names_cert_option(home, devpki, capsys):
    Path("c.pdf").write_bytes(blank_pdf())
    key = f"file:{devpki.identities['supplier'].key_path}"
    code = run(["sign", "c.pdf", "-o", "s.pdf", "--key", key, "--invisible"])
    one_line_error(capsys, code, 6, "--cert")
    assert not Path("s.pdf").exists()


def test_a_csr_without_subject_says_what_to_give(home, capsys):
    assert run(["keys", "generate", "k", "--type", "sm2"]) == 0
    capsys.readouterr()
    code = run(["keys", "csr", "k"])
    one_line_error(capsys, code, 2, "--cn", "--form")
