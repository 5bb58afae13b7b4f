"""``sealkit serve`` over HTTP: sign → verify → file with a SoftHSM key, and the refusals a shared service
owes its clients (wrong API key, another client's seal, a body over the limit, a bid before its opening)."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import signal
import subprocess
import time
import urllib.parse

from sealkit.dev.sample_contract import PURCHASER_BLOCK
from tests.service.conftest import MAX_BODY_MB, OTHER_KEY, PLATFORM_KEY, Server, start_server


def sign_path(**query) -> str:
    return "/v1/contracts/sign?" + urllib.parse.urlencode(query)


def test_sign_verify_file_with_a_softhsm_key_and_a_registry_seal(server):
    pdf = server.contract.read_bytes()
    signed = server.request("POST", sign_path(key="hsm", seal="hsm-seal", at_text=PURCHASER_BLOCK), pdf)
    assert signed.status == 200, signed.body[:300]
    assert signed.headers["content-type"] == "application/pdf"
    assert signed.headers["x-sealkit-sha256"] == hashlib.sha256(signed.body).hexdigest()
    assert signed.headers["x-sealkit-seal"] == server.seals["hsm"]
    assert signed.body.startswith(pdf)  # an incremental update of the input

    report = server.request("POST", "/v1/contracts/verify?name=contract.pdf", signed.body).json()
    assert report["indication"] == "TOTAL-PASSED", report
    (signature,) = report["signatures"]
    assert signature["seal"]["ok"] is True
    assert signature["seal"]["seal"]["es_id"] == server.seals["hsm"]
    assert report["file"]["name"] == "contract.pdf"

    record = server.request("POST", "/v1/contracts/file?name=contract.pdf", signed.body)
    assert record.status == 200, record.body
    filed = record.json()
    assert filed["file"]["sha256"] == hashlib.sha256(signed.body).hexdigest()
    assert filed["file"]["name"] == "contract.pdf"
    assert filed["indication"] == "TOTAL-PASSED"


def test_a_timestamped_signature_proves_its_time(server):
    signed = server.request(
        "POST",
        sign_path(key="supplier", seal="supplier-seal", at_text=PURCHASER_BLOCK, timestamp="true"),
        server.contract.read_bytes(),
    )
    assert signed.status == 200, signed.body[:300]
    assert signed.headers["x-sealkit-level"] == "B-T"
    report = server.request("POST", "/v1/contracts/verify", signed.body).json()
    assert report["indication"] == "TOTAL-PASSED", report
    (signature,) = report["signatures"]
    assert signature["proven_time"]
    assert signature["seal"]["time_source"] == "timestamp"


def test_verify_answers_the_report_document_when_asked(server, tmp_path):
    signed = server.request(
        "POST",
        sign_path(key="supplier", seal="supplier-seal", at_text=PURCHASER_BLOCK),
        server.contract.read_bytes(),
    )
    assert signed.status == 200, signed.body[:300]
    report = server.request("POST", "/v1/contracts/verify?name=contract.pdf&format=pdf", signed.body)
    assert report.status == 200, report.body[:300]
    assert report.headers["content-type"] == "application/pdf"
    assert report.headers["x-sealkit-indication"] == "TOTAL-PASSED"
    assert report.headers["x-sealkit-report-sha256"] == hashlib.sha256(report.body).hexdigest()
    (tmp_path / "report.pdf").write_bytes(report.body)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "验证通过" in text and hashlib.sha256(signed.body).hexdigest() in text.replace("\n", "")
    # The report is itself signed by the configured verifier key (B-T: the configured TSA).
    again = server.request("POST", "/v1/contracts/verify?name=report.pdf", report.body).json()
    (signature,) = again["signatures"]
    assert again["indication"] == "TOTAL-PASSED", again
    assert "verifier" in signature["signer"] and signature["coverage"] == "entire-file"
    assert signature["proven_time"]

    html = server.request("POST", "/v1/contracts/verify", signed.body, headers={"Accept": "text/html"})
    assert html.status == 200 and html.headers["content-type"].startswith("text/html")
    page = html.body.decode("utf-8")
    assert "验证通过" in page and "Verification passed" in page
    assert hashlib.sha256(signed.body).hexdigest() in page
    plain = server.request(
        "POST", "/v1/contracts/verify", signed.body, headers={"Accept": "application/json"}
    )
    assert plain.json()["indication"] == "TOTAL-PASSED"


def test_an_unsigned_contract_is_not_filed(server):
    reply = server.request("POST", "/v1/contracts/file", server.contract.read_bytes())
    assert reply.status == 422
    error = reply.json()["error"]
    assert error["exit_code"] in (3, 4) and "not filed" in error["message"]


def test_a_tampered_contract_does_not_verify(server):
    signed = server.request(
        "POST",
        sign_path(key="supplier", seal="supplier-seal", at_text=PURCHASER_BLOCK),
        server.contract.read_bytes(),
    )
    assert signed.status == 200, signed.body[:300]
    body = bytearray(signed.body)
    spot = len(server.contract.read_bytes()) // 2  # inside the signed byte range
    body[spot] ^= 0x01
    report = server.request("POST", "/v1/contracts/verify", bytes(body)).json()
    assert report["indication"] != "TOTAL-PASSED"


def test_wrong_or_missing_api_key_is_refused(server):
    pdf = server.contract.read_bytes()
    for key in ("sk_not-a-key", PLATFORM_KEY + "x", None):
        reply = server.request("POST", sign_path(key="hsm"), pdf, api_key=key)
        assert reply.status == 401, reply.body
        assert reply.json()["error"]["type"] == "Unauthenticated"
    assert server.request("GET", "/v1/seals", api_key="sk_not-a-key").status == 401


def test_a_client_cannot_use_another_clients_seal_or_key(server):
    pdf = server.contract.read_bytes()
    stolen = server.request(
        "POST", sign_path(key="other", seal="supplier-seal", at_text=PURCHASER_BLOCK), pdf, api_key=OTHER_KEY
    )
    assert stolen.status == 403
    assert (
        stolen.json()["error"]["type"] == "Forbidden" and "supplier-seal" in stolen.json()["error"]["message"]
    )
    assert server.request("POST", sign_path(key="hsm"), pdf, api_key=OTHER_KEY).status == 403
    assert server.request("GET", "/v1/seals/supplier-seal", api_key=OTHER_KEY).status == 403
    # the honest twin: its own key and seal
    own = server.request(
        "POST", sign_path(key="other", seal="other-seal", at_text=PURCHASER_BLOCK), pdf, api_key=OTHER_KEY
    )
    assert own.status == 200, own.body[:300]
    assert own.headers["x-sealkit-seal"] == server.seals["other"]


def test_a_seal_the_signer_does_not_hold_is_refused_by_the_registry_rule(server):
    # Both aliases are the platform's, but the supplier's certificate is not a holder of the HSM's seal.
    reply = server.request(
        "POST",
        sign_path(key="supplier", seal="hsm-seal", at_text=PURCHASER_BLOCK),
        server.contract.read_bytes(),
    )
    assert reply.status == 409
    error = reply.json()["error"]
    assert error["exit_code"] == 7 and error["code"] == "seal-refused" and "holder" in error["message"]


def test_the_configured_default_seal_is_not_handed_out(server):
    # [sign] seal names the supplier's seal; a client that names no seal gets an invisible signature.
    reply = server.request(
        "POST", sign_path(key="other", invisible="true"), server.contract.read_bytes(), api_key=OTHER_KEY
    )
    assert reply.status == 200, reply.body[:300]
    assert "x-sealkit-seal" not in reply.headers


def test_an_operation_the_client_was_not_given_is_refused(server):
    reply = server.request(
        "POST", "/v1/bids/encrypt?opens_at=2020-01-01T00:00&to=centre", b"bid", api_key=OTHER_KEY
    )
    assert reply.status == 403


def test_a_body_over_the_limit_is_refused(server):
    big = b"%PDF-1.7\n" + b"0" * (MAX_BODY_MB << 20)
    declared = server.request("POST", "/v1/contracts/verify", big)
    assert declared.status == 413
    assert declared.json()["error"]["type"] == "TooLarge"

    def chunks():  # no Content-Length: the limit holds while streaming
        for start in range(0, len(big), 1 << 16):
            yield big[start : start + (1 << 16)]

    streamed = server.request("POST", "/v1/contracts/verify", chunks(), chunked=True)
    assert streamed.status == 413
    # the honest twin just under the limit gets a report
    assert server.request("POST", "/v1/contracts/verify", server.contract.read_bytes()).status == 200


def test_a_bid_is_not_opened_before_its_opening_time(server):
    bid = "投标文件 ".encode() * 1000
    beijing = dt.timezone(dt.timedelta(hours=8))
    soon = (dt.datetime.now(beijing) + dt.timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    reply = server.request(
        "POST",
        "/v1/bids/encrypt?"
        + urllib.parse.urlencode(
            {"opens_at": soon.isoformat(), "to": "centre", "sign_key": "supplier", "name": "bid.pdf"}
        ),
        bid,
    )
    assert reply.status == 201, reply.body
    record = reply.json()
    assert record["opens_at"].endswith("+08:00")  # no zone: Beijing time
    early = server.request("POST", f"/v1/bids/{record['id']}/open?key=opener")
    assert early.status == 403
    assert early.json()["error"]["type"] == "NotYetOpen"
    assert bid not in early.body

    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    reply = server.request(
        "POST",
        "/v1/bids/encrypt?"
        + urllib.parse.urlencode({"opens_at": past, "to": "centre", "sign_key": "supplier"}),
        bid,
    )
    assert reply.status == 201, reply.body
    opened = server.request("POST", f"/v1/bids/{reply.json()['id']}/open?key=opener")
    assert opened.status == 200, opened.body[:300]
    assert opened.body == bid
    assert "supplier" in urllib.parse.unquote(opened.headers["x-sealkit-signer"])


def test_a_kept_bid_is_deleted_only_after_its_opening_time(server):
    def keep(opens_at: str) -> str:
        query = urllib.parse.urlencode({"opens_at": opens_at, "to": "centre", "sign_key": "supplier"})
        reply = server.request("POST", "/v1/bids/encrypt?" + query, b"bid " * 100)
        assert reply.status == 201, reply.body
        return reply.json()["id"]

    store = server.base / "work" / "bids"
    future = keep((dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat())
    early = server.request("DELETE", f"/v1/bids/{future}")
    assert early.status == 403 and early.json()["error"]["type"] == "NotYetOpen"
    assert (store / f"{future}.p7m").is_file()
    assert (
        server.request("DELETE", f"/v1/bids/{future}", api_key=OTHER_KEY).status == 403
    )  # not its operation

    past = keep((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat())
    assert server.request("POST", f"/v1/bids/{past}/open?key=opener").status == 200
    deleted = server.request("DELETE", f"/v1/bids/{past}")
    assert deleted.status == 200 and deleted.json()["deleted"] is True
    assert not list(store.glob(f"{past}.*"))
    assert server.request("GET", f"/v1/bids/{past}").status == 404
    assert server.request("POST", f"/v1/bids/{past}/open?key=opener").status == 404


def test_bid_ids_are_not_paths(server):
    for bid_id in ("..%2F..%2Fsealkit", "0" * 31, "../access"):
        assert server.request("POST", f"/v1/bids/{bid_id}/open?key=opener").status in (404, 400)
        assert server.request("DELETE", f"/v1/bids/{bid_id}").status in (404, 400, 405)


def test_seals_list_shows_only_the_clients_seals(server):
    seals = server.request("GET", "/v1/seals").json()
    assert sorted(s["alias"] for s in seals) == ["hsm-seal", "supplier-seal"]
    assert all(s["status"] == "enabled" for s in seals), seals
    one = server.request("GET", f"/v1/seals/{server.seals['hsm']}").json()
    assert one["alias"] == "hsm-seal"


def test_health_metrics_access_log_and_openapi(server):
    assert server.request("GET", "/healthz", api_key=None).json()["status"] == "ok"
    server.request("GET", "/v1/seals", api_key="sk_wrong")
    metrics = server.request("GET", "/metrics", api_key=None).body.decode()
    assert 'sealkit_requests_total{route="/v1/seals",method="GET",status="401"}' in metrics
    assert "sealkit_requests_in_flight" in metrics
    spec = server.request("GET", "/openapi.json", api_key=None).json()
    assert {"/v1/contracts/sign", "/v1/contracts/verify", "/v1/contracts/file", "/v1/bids/encrypt"} <= set(
        spec["paths"]
    )
    log = server.access_log.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in log.splitlines()]
    assert any(e["client"] == "platform" for e in entries)
    assert any(e["status"] == 401 and e["client"] is None for e in entries)
    assert PLATFORM_KEY not in log and OTHER_KEY not in log and "sk_wrong" not in log


def test_no_request_leaves_files_behind(server):
    scratch = server.base / "work" / "tmp"
    for _ in range(50):  # the last response's clean-up runs just after its body was sent
        if not list(scratch.iterdir()):
            break
        time.sleep(0.1)
    assert list(scratch.iterdir()) == []


def test_sigterm_lets_a_signature_in_flight_finish(server):
    process, port = start_server(server.base / "sealkit.toml", server.env)
    second = Server("127.0.0.1", port, server.base, server.contract, server.seals, server.access_log)
    try:
        pdf = server.contract.read_bytes()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.putrequest("POST", sign_path(key="supplier", seal="supplier-seal", at_text=PURCHASER_BLOCK))
        conn.putheader("Authorization", f"Bearer {PLATFORM_KEY}")
        conn.putheader("Content-Length", str(len(pdf)))
        conn.endheaders()
        conn.send(pdf[: len(pdf) // 2])
        reading = False
        for _ in range(100):  # until the server is reading this request's body
            metrics = second.request("GET", "/metrics", api_key=None).body.decode()
            reading = "sealkit_requests_in_flight 2" in metrics
            if reading:
                break
            time.sleep(0.05)
        assert reading
        process.send_signal(signal.SIGTERM)
        conn.send(pdf[len(pdf) // 2 :])
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body[:300]
        assert body.startswith(b"%PDF") and response.getheader("X-Sealkit-Seal") == server.seals["supplier"]
        # uvicorn stops after the request and ends with the signal it caught, as systemd expects
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
