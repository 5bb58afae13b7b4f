"""``sealkit serve`` over TLS with client certificates: a real server on 127.0.0.1, certificates from the test
PKI. A client's certificate names it (by SHA-256 or by subject) and gives it exactly what its API key would;
an unregistered certificate, no certificate, a certificate from another CA, or a client reaching for another
client's seal are refused."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import ssl
import urllib.parse
from pathlib import Path

import pytest

from sealkit.dev import pki as dev_pki
from sealkit.dev.pki import Role, make_test_pki
from sealkit.dev.sample_contract import PURCHASER_BLOCK, write_sample_contract
from sealkit.service import hash_api_key
from sealkit.service.auth import Refused
from sealkit.service.settings import ClientSpec, ServiceSettings
from sealkit.service.tls import CertificateClients, client_id_lines, fingerprint
from tests.service.conftest import REPO, Reply, start_server

B_KEY = "sk_client-b-test-key-0123456789abcdef"


def _q(path: object) -> str:
    return json.dumps(str(path))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("tls")
    tls = make_test_pki(base / "pki-tls", "rsa")
    rogue = make_test_pki(base / "pki-rogue", "rsa", name="Rogue Root")
    sm2 = make_test_pki(base / "pki-sm2", "sm2")
    ids = {
        "server": tls.issue("server", Role.TLS_SERVER),
        "a": tls.issue("client-a", Role.TLS_CLIENT),
        "b": tls.issue("client-b", Role.TLS_CLIENT, organization="B 单位"),
        "unknown": tls.issue("client-x", Role.TLS_CLIENT),
        "rogue-b": rogue.issue("client-b", Role.TLS_CLIENT, organization="B 单位"),
    }
    # B's renewed certificate: a new key and serial, the same subject, from the same CA
    renewals = dev_pki.TestPki(base / "renewed", "rsa", tls.root)
    ids["b-renewed"] = renewals.issue("client-b", Role.TLS_CLIENT, organization="B 单位")
    signer_a, signer_b = sm2.issue("signer-a"), sm2.issue("signer-b")
    (a_line, _), (_, b_subject) = client_id_lines(ids["a"].cert_path), client_id_lines(ids["b"].cert_path)
    text = f"""
[trust]
anchors = [{_q(sm2.root.cert_path)}]

[service]
work_dir = {_q(base / "work")}
tls_cert = {_q(ids["server"].cert_path)}
tls_key = {_q(ids["server"].key_path)}
client_ca = {_q(tls.root.cert_path)}

[service.keys.a]
key = {_q(signer_a.keyref)}
cert = {_q(signer_a.cert_path)}

[service.keys.b]
key = {_q(signer_b.keyref)}
cert = {_q(signer_b.cert_path)}

[service.seals]
a-seal = "37010000000001"
b-seal = "37010000000002"

[[service.clients]]
name = "a"
{a_line}
keys = ["a"]
seals = ["a-seal"]
operations = ["sign", "verify"]

[[service.clients]]
name = "b"
{b_subject}
api_key_sha256 = "{hash_api_key(B_KEY)}"
keys = ["b"]
seals = ["b-seal"]
operations = ["sign", "verify"]
"""
    config = base / "sealkit.toml"
    config.write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "src"), str(REPO / "cli"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    env.pop("SEALKIT_CONFIG", None)
    process, port = start_server(config, env)
    try:
        yield {
            "port": port,
            "ca": tls.root.cert_path,
            "ids": ids,
            "contract": write_sample_contract(base / "contract.pdf", pages=1),
        }
    finally:
        process.terminate()
        process.wait(timeout=60)


def call(server, method, path, body=None, *, cert=None, headers=None) -> Reply:
    context = ssl.create_default_context(cafile=str(server["ca"]))  # checks the server's name: 127.0.0.1
    if cert is not None:
        identity = server["ids"][cert]
        context.load_cert_chain(identity.cert_path, identity.key_path)
    conn = http.client.HTTPSConnection("127.0.0.1", server["port"], context=context, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def sign(server, cert, *, seal=None, key=None, headers=None) -> Reply:
    where = {"at_text": PURCHASER_BLOCK, "seal": seal} if seal else {"invisible": "true"}
    query = {**where, **({"key": key} if key else {})}
    path = "/v1/contracts/sign?" + urllib.parse.urlencode(query)
    return call(server, "POST", path, server["contract"].read_bytes(), cert=cert, headers=headers)


def test_a_registered_certificate_signs_and_the_result_verifies(tls_server):
    signed = sign(tls_server, "a")
    assert signed.status == 200, signed.body[:300]
    assert signed.body.startswith(b"%PDF")
    report = call(tls_server, "POST", "/v1/contracts/verify", signed.body, cert="a")
    assert report.status == 200
    assert report.json()["indication"] == "TOTAL-PASSED", report.json()
    log = (Path(tls_server["contract"]).parent / "work" / "access.log").read_text(encoding="utf-8")
    assert '"client": "a"' in log


def test_a_client_named_by_subject_keeps_working_with_a_renewed_certificate(tls_server):
    for cert in ("b", "b-renewed"):
        reply = call(
            tls_server, "POST", "/v1/contracts/verify", tls_server["contract"].read_bytes(), cert=cert
        )
        assert reply.status == 200, (cert, reply.body[:300])


def test_an_unregistered_certificate_from_the_client_ca_is_refused(tls_server):
    reply = sign(tls_server, "unknown")
    assert reply.status == 401
    error = reply.json()["error"]
    der = ssl.PEM_cert_to_DER_cert(tls_server["ids"]["unknown"].cert_path.read_text())
    assert "is no client's" in error["message"] and fingerprint(der) in error["message"]


def test_no_certificate_no_connection(tls_server):
    with pytest.raises((ssl.SSLError, ConnectionError)):
        call(tls_server, "POST", "/v1/contracts/verify", tls_server["contract"].read_bytes())


def test_a_certificate_from_another_ca_with_a_clients_subject_gets_no_connection(tls_server):
    with pytest.raises((ssl.SSLError, ConnectionError)):
        call(tls_server, "POST", "/v1/contracts/verify", tls_server["contract"].read_bytes(), cert="rogue-b")


def test_client_a_may_not_use_client_bs_seal_or_key(tls_server):
    seal = sign(tls_server, "a", seal="b-seal")
    assert seal.status == 403
    assert "may not use seal 'b-seal'" in seal.json()["error"]["message"]
    key = sign(tls_server, "a", key="b")
    assert key.status == 403


def test_a_certificate_and_another_clients_api_key_together_are_refused(tls_server):
    reply = sign(tls_server, "a", headers={"Authorization": f"Bearer {B_KEY}"})
    assert reply.status == 401
    assert "different clients" in reply.json()["error"]["message"]


def test_the_validation_core_refuses_a_registered_certificate_not_meant_for_client_authentication(tmp_path):
    """Behind OpenSSL, sealkit.validation checks the certificate for client authentication: a TSA's
    certificate (extKeyUsage timeStamping only) registered as a client's is refused; the client's passes."""
    pki = make_test_pki(tmp_path / "pki", "rsa")
    tsa, client = pki.issue("tsa", Role.TSA), pki.issue("client", Role.TLS_CLIENT)
    tsa_der, client_der = (ssl.PEM_cert_to_DER_cert(i.cert_path.read_text()) for i in (tsa, client))
    settings = ServiceSettings(
        config=None,  # type: ignore[arg-type]
        work_dir=tmp_path,
        access_log=tmp_path / "log",
        clients=(ClientSpec("c", cert_sha256=frozenset({fingerprint(tsa_der), fingerprint(client_der)})),),
        client_ca=pki.root.cert_path,
    )
    clients = CertificateClients(settings)
    refused = asyncio.run(clients.identify(tsa_der))
    assert isinstance(refused, Refused) and refused.status == 403
    assert "client-authentication" in refused.message
    assert asyncio.run(clients.identify(client_der)) == settings.clients[0]


def test_client_id_prints_the_lines_that_name_a_client_and_client_ca_needs_tls(tmp_path):
    import subprocess
    import sys

    pki = make_test_pki(tmp_path / "pki", "rsa")
    client = pki.issue("client", Role.TLS_CLIENT)
    der = ssl.PEM_cert_to_DER_cert(client.cert_path.read_text())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "cli")])}
    shown = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "serve", "--client-id", str(client.cert_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        f'cert_sha256 = ["{fingerprint(der)}"]',
        'cert_subject = "CN=client,O=sealkit 测试单位,C=CN"',
    ]
    config = tmp_path / "sealkit.toml"
    config.write_text(
        f"[service]\nwork_dir = {_q(tmp_path / 'work')}\nclient_ca = {_q(pki.root.cert_path)}\n"
    )
    refused = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "--config", str(config), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode == 11
    assert refused.stderr.count("\n") == 1 and "client_ca needs TLS" in refused.stderr
