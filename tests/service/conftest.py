"""A real ``sealkit serve`` in a subprocess on 127.0.0.1 (a free port), with a SoftHSM RSA key, SM2 file keys,
a seal registry and two API clients; requests go over HTTP with the standard library."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sealkit.dev.demo import PURCHASER_FORM
from sealkit.dev.pki import Role, make_test_pki
from sealkit.dev.sample_contract import write_sample_contract
from sealkit.dev.services import PkiServices
from sealkit.seal import SealRegistry, form_from_dict
from sealkit.service import hash_api_key
from sealkit.ukey import open_key
from tests.helpers.softhsm import USER_PIN, activate, make_softhsm
from tests.helpers.tokens import certify_token_key

REPO = Path(__file__).resolve().parents[2]
PLATFORM_KEY = "sk_platform-test-key-0123456789abcdef"  # test-only API keys
OTHER_KEY = "sk_other-test-key-0123456789abcdef"
MAX_BODY_MB = 2


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    host: str
    port: int
    base: Path
    contract: Path
    seals: dict[str, str]
    access_log: Path
    env: dict | None = None

    def request(self, method, path, body=None, *, api_key=PLATFORM_KEY, headers=None, chunked=False) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        sent = dict(headers or {})
        if api_key is not None:
            sent["Authorization"] = f"Bearer {api_key}"
        try:
            conn.request(method, path, body=body, headers=sent, encode_chunked=chunked)
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()


def _config(base: Path, world: dict) -> Path:
    def q(path) -> str:
        return json.dumps(str(path))

    text = f"""
[trust]
anchors = [{q(world["sm2"].root.cert_path)}, {q(world["rsa"].root.cert_path)}]
seal_makers = [{q(world["sm2"].root.cert_path)}]

[registry]
url = {q(world["url"])}

[tsa]
url = {q(world["tsa_url"])}

[sign]
seal = {q(world["seals"]["supplier"])}   # a default seal the service must not hand out

[report]
key = {q(world["verifier"].keyref)}
cert = {q(world["verifier"].cert_path)}

[service]
work_dir = {q(base / "work")}
max_body_mb = {MAX_BODY_MB}
timeout_s = 120

[service.keys.hsm]
key = {q(world["hsm_uri"])}
cert = {q(world["hsm_cert"])}

[service.keys.supplier]
key = {q(world["supplier"].keyref)}
cert = {q(world["supplier"].cert_path)}

[service.keys.other]
key = {q(world["other"].keyref)}
cert = {q(world["other"].cert_path)}

[service.keys.opener]
key = {q(world["opener"].keyref)}
cert = {q(world["opener"].cert_path)}

[service.seals]
hsm-seal = {q(world["seals"]["hsm"])}
supplier-seal = {q(world["seals"]["supplier"])}
other-seal = {q(world["seals"]["other"])}

[service.recipients]
centre = {q(world["opener"].cert_path)}

[[service.clients]]
name = "platform"
api_key_sha256 = "{hash_api_key(PLATFORM_KEY)}"
keys = ["hsm", "supplier", "opener"]
seals = ["hsm-seal", "supplier-seal"]
recipients = ["centre"]
operations = ["sign", "verify", "file", "seals", "bids.encrypt", "bids.open"]

[[service.clients]]
name = "other"
api_key_sha256 = "{hash_api_key(OTHER_KEY)}"
keys = ["other"]
seals = ["other-seal"]
operations = ["sign", "verify"]
"""
    path = base / "sealkit.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_world(base: Path) -> dict:
    """Keys, certificates, a registry with one seal per signer, and a contract."""
    sm2 = make_test_pki(base / "pki-sm2", "sm2")
    rsa = make_test_pki(base / "pki-rsa", "rsa")
    world = {
        "sm2": sm2,
        "rsa": rsa,
        "supplier": sm2.issue("supplier", organization=PURCHASER_FORM["unit"]["name"]),
        "other": sm2.issue("other", organization=PURCHASER_FORM["unit"]["name"]),
        "opener": sm2.issue("opener", Role.ENCRYPT),
        "verifier": rsa.issue("verifier", organization="sealkit 测试验证服务"),  # signs report PDFs
        "url": f"sqlite:///{base / 'registry.sqlite3'}",
    }
    authority = sm2.issue("authority", Role.SEAL_MAKER)
    hsm = make_softhsm(base / "softhsm", label="service")
    hsm.keypair("rsa:2048", "01", "sign")
    world["hsm"] = hsm
    world["hsm_uri"] = hsm.uri("sign")
    with pytest.MonkeyPatch.context() as mp:
        activate(hsm, mp)
        mp.setenv("SEALKIT_PIN", USER_PIN)
        world["hsm_cert"] = certify_token_key(
            rsa, world["hsm_uri"], base / "hsm-cert.pem", name="平台签章", role="sign", store=False
        )
    from sealkit.pdf import load_certificate

    holders = {
        "hsm": load_certificate(world["hsm_cert"]),
        "supplier": world["supplier"].certificate,
        "other": world["other"].certificate,
    }
    until = dt.date.today() + dt.timedelta(days=30)
    with SealRegistry(world["url"], actor="test") as registry, open_key(authority.keyref) as maker:
        form = form_from_dict(PURCHASER_FORM)
        world["seals"] = {
            name: registry.issue(
                form,
                "contract",
                [cert],
                maker,
                authority.certificate,
                until,
                # the token's certificate names the test unit, not the school
                allow_foreign_holder="service test: SoftHSM key" if name == "hsm" else None,
            ).es_id
            for name, cert in holders.items()
        }
    world["contract"] = write_sample_contract(base / "contract.pdf", pages=2)
    return world


def start_server(config: Path, env: dict) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sealkit_cli.main", "--config", str(config), "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    line = process.stderr.readline()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"sealkit serve did not start: {line}{process.stderr.read()}")
    return process, int(line.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("service")
    world = make_world(base)
    with PkiServices.start(world["sm2"]) as services:
        world["tsa_url"] = services.tsa_url
        yield from _serve(base, world)


def _serve(base: Path, world: dict):
    config = _config(base, world)
    env = {
        **world["hsm"].env(),
        "SEALKIT_PIN": USER_PIN,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "src"), str(REPO / "cli"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    env.pop("SEALKIT_CONFIG", None)
    process, port = start_server(config, env)
    try:
        yield Server("127.0.0.1", port, base, world["contract"], world["seals"], base / "work" / "access.log")
    finally:
        process.terminate()
        process.wait(timeout=60)
