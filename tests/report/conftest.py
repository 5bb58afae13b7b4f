"""A world for report tests: the demo's two-party contract, a timestamped contract from a local TSA, an RSA
verifier key that signs the reports, and a configuration file naming them all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sealkit.dev.demo import run_demo
from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import SUPPLIER_BLOCK, write_sample_contract
from sealkit.dev.services import PkiServices
from tests.helpers.fonts import extract_cjk_font

REPO = Path(__file__).resolve().parents[2]


@dataclass
class World:
    base: Path
    demo: Path  # the demo's directory
    contract: Path  # the two-party signed contract (supplier RSA, purchaser SM2 with a registry seal)
    stamped: Path  # a contract signed with a signature timestamp from the local TSA
    config: Path  # trust anchors, seal makers, registry, TSA and the [report] verifier key
    tsa_url: str
    verifier_cert: Path
    rsa_root: Path
    nss_db: Path

    def env(self, **extra: str) -> dict[str, str]:
        path = os.pathsep.join([str(REPO / "src"), str(REPO / "cli"), os.environ.get("PYTHONPATH", "")])
        return {**os.environ, "PYTHONPATH": path, "SEALKIT_CONFIG": str(self.config), **extra}


@pytest.fixture(scope="session")
def font_file(tmp_path_factory):
    return extract_cjk_font(tmp_path_factory.mktemp("font-home"))


@pytest.fixture(autouse=True)
def _shared_font(font_file, monkeypatch):
    monkeypatch.setenv("SEALKIT_CJK_FONT", str(font_file))


@pytest.fixture(scope="session")
def world(tmp_path_factory, font_file):
    os.environ["SEALKIT_CJK_FONT"] = str(font_file)
    base = tmp_path_factory.mktemp("report-world")
    demo = run_demo(base / "demo")
    rsa = make_test_pki(base / "demo" / "pki" / "rsa", "rsa")  # the demo's RSA CA, reused
    verifier = rsa.issue("verifier", organization="济南市公共资源交易中心 验证服务")
    with PkiServices.start(rsa) as services:
        stamped = _stamped_contract(base, rsa, services.tsa_url)
        config = base / "sealkit.toml"
        q = json.dumps
        config.write_text(
            f"""
[trust]
anchors = [{q(str(demo.files["sm2_root"]))}, {q(str(demo.files["rsa_root"]))}]
seal_makers = [{q(str(demo.files["seal_authority_root"]))}]

[registry]
url = {q("sqlite:///" + str(demo.files["registry"]))}
signing_cert = {q(str(demo.files["registry_cert"]))}

[tsa]
url = {q(services.tsa_url)}

[report]
key = {q(verifier.keyref)}
cert = {q(str(verifier.cert_path))}
chain = [{q(str(rsa.root.cert_path))}]
""",
            encoding="utf-8",
        )
        nss = base / "nss"
        nss.mkdir()
        subprocess.run(
            ["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True, capture_output=True
        )
        subprocess.run(
            [
                "certutil",
                "-A",
                "-n",
                "rsa-root",
                "-t",
                "CT,C,C",
                "-i",
                str(rsa.root.cert_path),
                "-d",
                f"sql:{nss}",
            ],
            check=True,
            capture_output=True,
        )
        yield World(
            base,
            base / "demo",
            demo.files["signed"],
            stamped,
            config,
            services.tsa_url,
            verifier.cert_path,
            rsa.root.cert_path,
            nss,
        )


def _stamped_contract(base: Path, rsa, tsa_url: str) -> Path:
    from sealkit.flows import SealPlacement, sign_contract
    from sealkit.seal import render_seal

    signer = rsa.issue("stamped-signer", organization="山东齐鲁示范科技有限公司")
    contract = write_sample_contract(base / "stamped.pdf", pages=2)
    imprint = render_seal("official", "山东齐鲁示范科技有限公司", serial="3701020012345")
    out = base / "stamped.signed.pdf"
    sign_contract(
        contract,
        out,
        key=signer.keyref,
        cert=signer.cert_path,
        chain=[rsa.root.cert_path],
        seal_image=imprint.png,
        placement=SealPlacement(at_text=SUPPLIER_BLOCK),
        tsa=tsa_url,
    )
    return out


def sealkit(world: World, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", *args],
        capture_output=True,
        text=True,
        env=world.env(**env),
        cwd=world.base,
    )


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdfsig(path: Path, nss_db: Path) -> list[dict[str, str]]:
    """pdfsig's verdict per signature (pdfsig always exits 0)."""
    text = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss_db}", str(path)], capture_output=True, text=True, check=False
    ).stdout
    return [
        dict(re.findall(r"^[ \t]+- ([^:\n]+): (.*)$", block, flags=re.M))
        for block in re.split(r"^Signature #\d+:", text, flags=re.M)[1:]
    ]
