"""PAdES B-T through sealkit.pdf.sign_pdf with the RFC 3161 client, and every way a TSA can fail."""

from __future__ import annotations

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from sealkit.dev.services import PkiServices
from sealkit.errors import ServiceError
from sealkit.trust import evaluate_signature, make_timestamper
from tests.helpers.pki_signing import sign_contract


def test_signature_gets_a_trusted_timestamp(services: PkiServices, contract, tmp_path):
    signer = services.pki.issue("signer-bt", "sign")
    out = sign_contract(
        contract, tmp_path / "bt.pdf", signer, services.pki, timestamper=make_timestamper(services.tsa_url)
    )
    with out.open("rb") as handle:
        signature = PdfFileReader(handle).embedded_signatures[0]
        token = signature.signer_info["unsigned_attrs"][0]
        evaluation = evaluate_signature(signature, [services.pki.root.cert_path])
    assert token["type"].native == "signature_time_stamp_token"
    imprint_algorithm = (
        token["values"][0]["content"]["encap_content_info"]["content"]
        .parsed["message_imprint"]["hash_algorithm"]["algorithm"]
        .native
    )
    assert imprint_algorithm == ("sm3" if services.pki.kind == "sm2" else "sha256")
    assert evaluation.indication == "TOTAL-PASSED", evaluation.message
    stamp = evaluation.to_json()["timestamp"]
    assert stamp["intact"] and stamp["trusted"]
    assert "tsa" in stamp["tsa"]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("http-error", "HTTP 500"),
        ("garbage", "malformed reply"),
        ("wrong-content-type", "not application/timestamp-reply"),
        ("refuse", "refused the request"),
        ("wrong-nonce", "wrong nonce"),
        ("wrong-imprint", "imprint mismatch"),
    ],
)
def test_tsa_failure_is_one_line_and_writes_nothing(
    services: PkiServices, contract, tmp_path, mode, expected
):
    signer = services.pki.issue("signer-fail", "sign")
    services.tsa_mode = mode
    try:
        with pytest.raises(ServiceError, match=expected) as caught:
            sign_contract(
                contract,
                tmp_path / "out.pdf",
                signer,
                services.pki,
                timestamper=make_timestamper(services.tsa_url),
            )
    finally:
        services.tsa_mode = "ok"
    assert "\n" not in caught.value.message
    assert isinstance(caught.value, ServiceError)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_tsa_writes_nothing(services: PkiServices, contract, tmp_path):
    signer = services.pki.issue("signer-unreachable", "sign")
    # A port that was free a moment ago: nothing listens there.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceError, match="cannot connect"):
        sign_contract(
            contract,
            tmp_path / "out.pdf",
            signer,
            services.pki,
            timestamper=make_timestamper(f"http://127.0.0.1:{port}/tsa"),
        )
    assert list(tmp_path.iterdir()) == []


def test_tsa_url_must_be_http():
    with pytest.raises(ServiceError, match="not an http"):
        make_timestamper("ftp://127.0.0.1/tsa")
