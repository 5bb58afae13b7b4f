"""Issue 7 end to end: ``sealkit sign --tsa/--ltv`` and ``sealkit verify [--online]``, RSA and SM2.

Every case runs against the local TSA, OCSP responder and CRL server of ``sealkit.dev.services``
(which count the requests they answer, so that "offline never goes to the network" is asserted, not assumed).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sealkit_cli.main import run

from sealkit.dev.issuing import issue_with_revocation
from sealkit.dev.pki import Identity
from sealkit.dev.services import PkiServices
from sealkit.pdf import verify_pdf

NOW = dt.datetime.now(dt.UTC)
rsa_and_sm2 = pytest.mark.parametrize("services", ["rsa", "sm2"], indirect=True)


def _signer(services: PkiServices, name: str, **kwargs) -> Identity:
    urls = {"ocsp_url": services.ocsp_url, "crl_url": services.crl_url} | kwargs.pop("urls", {})
    return issue_with_revocation(services.pki, name, **urls, **kwargs)


def _sign(services: PkiServices, contract: Path, out: Path, signer: Identity, *options: str) -> int:
    root = str(services.pki.root.cert_path)
    args = ["sign", str(contract), "-o", str(out), "--key", signer.keyref, "--cert", str(signer.cert_path)]
    return run([*args, "--chain", root, "--invisible", *options])


def _verify(services: PkiServices, path: Path, capsys, *options: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = run(["verify", str(path), "--trust", str(services.pki.root.cert_path), "--json", *options])
    return code, json.loads(capsys.readouterr().out)


def _signed(services, contract, path, capsys, name, *options, **issue) -> Identity:
    signer = _signer(services, name, **issue)
    assert _sign(services, contract, path, signer, "--tsa", services.tsa_url, *options) == 0, (
        capsys.readouterr().err
    )
    return signer


@rsa_and_sm2
def test_sign_tsa_gives_a_trusted_timestamp_and_offline_verify_fetches_nothing(
    services, contract, tmp_path, capsys
):
    capsys.readouterr()
    signer = _signer(services, "bt")
    assert _sign(services, contract, tmp_path / "bt.pdf", signer, "--tsa", services.tsa_url, "--json") == 0
    signed = json.loads(capsys.readouterr().out)
    assert (signed["level"], signed["tsa"]) == ("B-T", services.tsa_url)

    before = dict(services.requests)
    code, report = _verify(services, tmp_path / "bt.pdf", capsys)
    assert services.requests == before  # offline: not one OCSP, CRL or TSA request
    # The certificate names its OCSP responder and CRL, the PDF carries no status: a timestamp proves when
    # it was signed, not that the key was not stolen by then — INDETERMINATE until the status is known.
    assert code == 4 and (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "TRY_LATER")
    [sig] = report["signatures"]
    assert "try-later.revocation" in sig["reasons"]
    assert sig["timestamp"]["intact"] is True and sig["timestamp"]["trusted"] is True
    assert "tsa" in sig["timestamp"]["tsa"]
    assert sig["signing_time"] == sig["timestamp"]["time"]
    [entry] = sig["revocation"]
    assert (entry["status"], entry["source"]) == ("unknown", "none")

    code, report = _verify(services, tmp_path / "bt.pdf", capsys, "--online")
    assert code == 0 and report["indication"] == "TOTAL-PASSED"
    [entry] = report["signatures"][0]["revocation"]
    assert entry["status"] == "good" and entry["source"] in ("online-ocsp", "online-crl")
    assert services.requests["ocsp"] + services.requests["crl"] > before["ocsp"] + before["crl"]


@rsa_and_sm2
def test_sign_ltv_is_b_lta_and_verifies_offline_after_the_services_are_gone(
    services, contract, tmp_path, capsys
):
    root = str(services.pki.root.cert_path)
    with PkiServices.start(services.pki) as own:  # services of its own, stopped before verification
        signer = _signer(own, "lta")
        code = _sign(
            own, contract, tmp_path / "lta.pdf", signer, "--tsa", own.tsa_url, "--ltv", "--trust", root
        )
        assert code == 0, capsys.readouterr().err
        own.revoke(signer.certificate.serial_number, at=NOW + dt.timedelta(minutes=30))
    with (tmp_path / "lta.pdf").open("rb") as handle:
        reader = PdfFileReader(handle)
        assert "/DSS" in reader.root
        assert len(reader.embedded_timestamp_signatures) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lta.pdf"]

    code, report = _verify(services, tmp_path / "lta.pdf", capsys)
    assert code == 0, report
    signature, document_timestamp = report["signatures"]
    assert signature["modification"] == "lta-updates"
    assert signature["timestamp"]["trusted"] is True
    [entry] = signature["revocation"]
    assert (entry["status"], entry["source"]) == ("good", "embedded-ocsp")
    assert document_timestamp["timestamp"]["trusted"] is True

    # Years later (for the test: a month), after the revocation: still valid on the embedded evidence alone.
    later = verify_pdf(tmp_path / "lta.pdf", trust=[root], validation_time=NOW + dt.timedelta(days=30))
    assert later.passed, later.to_dict()
    assert later.signatures[0].revocation[0]["source"] == "embedded-ocsp"

    capsys.readouterr()
    assert run(["verify", str(tmp_path / "lta.pdf"), "--trust", root]) == 0
    text = capsys.readouterr().out
    assert "✓ timestamp: " in text and "(RFC 3161 token intact, TSA trusted)" in text
    assert "✓ revocation: " in text and "good at the timestamp's time (embedded-ocsp" in text


@rsa_and_sm2
def test_revoked_after_the_timestamp_is_valid(services, contract, tmp_path, capsys):
    signer = _signed(services, contract, tmp_path / "bt.pdf", capsys, "revoked-after")
    services.revoke(signer.certificate.serial_number, at=NOW + dt.timedelta(hours=1))

    code, report = _verify(services, tmp_path / "bt.pdf", capsys, "--online")
    assert code == 0, report
    [entry] = report["signatures"][0]["revocation"]
    assert entry["status"] == "good" and entry["source"].startswith("online-")
    assert entry["checked_at"] is not None

    later = verify_pdf(
        tmp_path / "bt.pdf",
        trust=[services.pki.root.cert_path],
        online=True,
        validation_time=NOW + dt.timedelta(days=2),
    )
    assert later.passed, later.to_dict()


@rsa_and_sm2
def test_revoked_before_the_timestamp_fails(services, contract, tmp_path, capsys):
    signer = _signed(services, contract, tmp_path / "bt.pdf", capsys, "revoked-before")
    services.revoke(
        signer.certificate.serial_number, at=NOW - dt.timedelta(hours=1), reason="affiliation_changed"
    )

    code, report = _verify(services, tmp_path / "bt.pdf", capsys, "--online")
    assert code == 3
    assert (report["indication"], report["sub_indication"]) == ("TOTAL-FAILED", "REVOKED")
    [sig] = report["signatures"]
    assert "revoked.certificate" in sig["reasons"]
    [entry] = sig["revocation"]
    assert (entry["status"], entry["reason"]) == ("revoked", "affiliation_changed")
    assert entry["revoked_at"] < sig["timestamp"]["time"]

    # --ltv refuses to archive a revoked signer's signature, and leaves nothing behind.
    root = str(services.pki.root.cert_path)
    code = _sign(
        services, contract, tmp_path / "lta.pdf", signer, "--tsa", services.tsa_url, "--ltv", "--trust", root
    )
    assert code == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bt.pdf"]


@rsa_and_sm2
def test_expired_after_the_timestamp_is_valid(services, contract, tmp_path, capsys):
    signer = _signed(
        services, contract, tmp_path / "bt.pdf", capsys, "short-lived", not_after=NOW + dt.timedelta(hours=2)
    )
    later = NOW + dt.timedelta(days=3)
    root = [services.pki.root.cert_path]
    report = verify_pdf(tmp_path / "bt.pdf", trust=root, validation_time=later, online=True)
    assert report.passed, report.to_dict()
    assert report.signatures[0].signing_time == report.signatures[0].timestamp["time"]

    # The same signer without a timestamp: nothing proves the signature predates the expiry.
    assert _sign(services, contract, tmp_path / "bb.pdf", signer) == 0
    assert not verify_pdf(tmp_path / "bb.pdf", trust=root, validation_time=later).passed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@rsa_and_sm2
@pytest.mark.parametrize("ltv", [False, True], ids=["bt", "lta"])
def test_unreachable_tsa_is_one_line_and_writes_nothing(services, contract, tmp_path, capsys, ltv):
    signer = _signer(services, "tsa-down")
    url = f"http://127.0.0.1:{_free_port()}/tsa"
    extra = ["--ltv", "--trust", str(services.pki.root.cert_path)] if ltv else []
    capsys.readouterr()
    assert _sign(services, contract, tmp_path / "out.pdf", signer, "--tsa", url, *extra) == 12
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"sealkit: TSA {url}: cannot connect")
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file


@rsa_and_sm2
def test_unreachable_ocsp_during_ltv_removes_the_intermediate_file(services, contract, tmp_path, capsys):
    signer = _signer(
        services, "ocsp-down", urls={"ocsp_url": f"http://127.0.0.1:{_free_port()}/ocsp", "crl_url": None}
    )
    root = str(services.pki.root.cert_path)
    capsys.readouterr()
    code = _sign(
        services, contract, tmp_path / "out.pdf", signer, "--tsa", services.tsa_url, "--ltv", "--trust", root
    )
    assert code == 12
    assert capsys.readouterr().err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # the B-T intermediate was signed, then removed


@rsa_and_sm2
def test_tampered_timestamp_token_fails(services, contract, tmp_path, capsys):
    _signed(services, contract, tmp_path / "bt.pdf", capsys, "tampered")
    data = bytearray((tmp_path / "bt.pdf").read_bytes())
    with (tmp_path / "bt.pdf").open("rb") as handle:
        signer_info = PdfFileReader(handle).embedded_signatures[0].signer_info
        token = signer_info["unsigned_attrs"][0]["values"][0]
        tsa_signature = token["content"]["signer_infos"][0]["signature"].native.hex().encode()
    start = bytes(data).lower().find(tsa_signature)
    assert start > 0
    data[start + 10 : start + 12] = b"00" if data[start + 10 : start + 12] != b"00" else b"11"
    (tmp_path / "tampered.pdf").write_bytes(bytes(data))

    code, report = _verify(services, tmp_path / "tampered.pdf", capsys)
    assert code == 3
    [sig] = report["signatures"]
    assert (sig["indication"], sig["sub_indication"]) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE")
    assert sig["timestamp"]["intact"] is False and sig["timestamp"]["trusted"] is False
    assert "crypto.timestamp-invalid" in sig["reasons"]
    assert sig["intact"] is True  # the signature itself is untouched: only its timestamp was forged


def test_tsa_and_anchors_from_the_configuration(contract, tmp_path, capsys, monkeypatch, request):
    services = request.getfixturevalue("rsa_services")
    root = services.pki.root.cert_path
    signer = _signer(services, "configured")
    (tmp_path / "sealkit.toml").write_text(f'[trust]\nanchors = ["{root}"]\n', encoding="utf-8")
    config = ["--config", str(tmp_path / "sealkit.toml")]

    # No TSA anywhere: a bare --tsa and --ltv are configuration errors; nothing is signed.
    assert run([*config, "sign", str(contract), "--tsa", "--key", signer.keyref, "--invisible"]) == 11
    assert run([*config, "sign", str(contract), "--ltv", "--key", signer.keyref, "--invisible"]) == 11
    monkeypatch.setenv("SEALKIT_TSA", services.tsa_url)
    # --ltv without anchors (none given, none configured) is refused before signing.
    assert _sign(services, contract, tmp_path / "x.pdf", signer, "--ltv") == 2
    capsys.readouterr()

    # A configured TSA alone does not make a plain 'sign' go online.
    before = services.requests["tsa"]
    assert _sign(services, contract, tmp_path / "bb.pdf", signer, "--json") == 0
    assert "level" not in json.loads(capsys.readouterr().out) and services.requests["tsa"] == before

    def sign(out: Path, *options: str) -> int:
        key = ["--key", signer.keyref, "--cert", str(signer.cert_path), "--invisible"]
        return run([*config, "sign", str(contract), "-o", str(out), *key, *options, "--json"])

    assert sign(tmp_path / "lta.pdf", "--ltv") == 0  # TSA from SEALKIT_TSA, anchors from [trust]
    assert json.loads(capsys.readouterr().out)["level"] == "B-LTA"
    assert sign(tmp_path / "bt.pdf", "--tsa") == 0  # a bare --tsa: the configured TSA
    assert json.loads(capsys.readouterr().out)["level"] == "B-T"
    assert verify_pdf(tmp_path / "lta.pdf", trust=[root]).passed  # its revocation data is embedded
    assert verify_pdf(tmp_path / "bt.pdf", trust=[root], online=True).passed  # fetched


@pytest.fixture(scope="module")
def rsa_services(tmp_path_factory):
    from sealkit.dev.pki import make_test_pki

    with PkiServices.start(make_test_pki(tmp_path_factory.mktemp("pki-config"), "rsa")) as running:
        yield running


@pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("certutil") is None, reason="needs poppler + NSS tools"
)
@pytest.mark.parametrize("services", ["rsa"], indirect=True)
def test_pdfsig_accepts_the_rsa_b_t_and_b_lta_outputs(services, contract, tmp_path, capsys):
    root = str(services.pki.root.cert_path)
    _signed(services, contract, tmp_path / "bt.pdf", capsys, "pdfsig-bt")
    _signed(services, contract, tmp_path / "lta.pdf", capsys, "pdfsig-lta", "--ltv", "--trust", root)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True)
    subprocess.run(
        ["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", root, "-d", f"sql:{nss}"], check=True
    )
    for name in ("bt.pdf", "lta.pdf"):
        text = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{nss}", str(tmp_path / name)], capture_output=True, text=True
        ).stdout
        first = text.split("Signature #2")[0]
        assert "Signature is Valid." in first, text
        assert "Certificate is Trusted." in first, text
