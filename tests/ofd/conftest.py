"""Fixtures for the OFD tests: an SM2 test PKI (signers, a seal maker under a separate seal authority, a
TSA), seals made by sealkit, and the sample OFD contract."""

import datetime as dt

import pytest

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_ofd import sample_contract_ofd
from sealkit.seal import SealSpec, make_seal, render_seal
from sealkit.ukey import open_key


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """Signers under one SM2 root, the seal maker under another (seal trust is kept apart)."""
    signing = make_test_pki(tmp_path_factory.mktemp("ofd-signing"), "sm2", name="OFD Signing Root")
    sealing = make_test_pki(tmp_path_factory.mktemp("ofd-sealing"), "sm2", name="OFD Seal Authority Root")
    return {
        "signing": signing,
        "sealing": sealing,
        "supplier": signing.issue("supplier", "sign"),
        "purchaser": signing.issue("purchaser", "sign"),
        "stranger": signing.issue("stranger", "sign"),
        "encrypt": signing.issue("encrypt-only", "encrypt"),
        "maker": sealing.issue("maker", "seal-maker"),
        "rsa": make_test_pki(tmp_path_factory.mktemp("ofd-rsa"), "rsa").issue("rsa-signer", "sign"),
    }


@pytest.fixture(scope="session")
def seal_image():
    return render_seal("contract", "某某信息技术有限公司")


def _seal(pki, seal_image, holder: str, es_id: str, *, days: int = 365, start_days: int = -1) -> bytes:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    spec = SealSpec(
        es_id=es_id,
        name="sealkit 测试单位合同专用章",  # the holders' unit (O=sealkit 测试单位)
        holder_certs=[pki[holder].certificate.dump()],
        valid_start=now + dt.timedelta(days=start_days),
        valid_end=now + dt.timedelta(days=days),
        picture=seal_image.png,
        width_mm=round(seal_image.width_mm),
        height_mm=round(seal_image.height_mm),
    )
    with open_key(pki["maker"].keyref) as maker:
        return make_seal(spec, maker, pki["maker"].certificate)


@pytest.fixture(scope="session")
def seals(pki, seal_image):
    return {
        "supplier": _seal(pki, seal_image, "supplier", "37010200000001"),
        "purchaser": _seal(pki, seal_image, "purchaser", "37010200000002"),
    }


@pytest.fixture(scope="session")
def make_holder_seal(pki, seal_image):
    return lambda holder, es_id, **kw: _seal(pki, seal_image, holder, es_id, **kw)


@pytest.fixture(scope="session")
def contract_bytes():
    return sample_contract_ofd(pages=3)


@pytest.fixture()
def contract(tmp_path, contract_bytes):
    path = tmp_path / "contract.ofd"
    path.write_bytes(contract_bytes)
    return path


@pytest.fixture(scope="session")
def anchors(pki):
    return {"trust": [pki["signing"].root.cert_path], "seal_trust": [pki["sealing"].root.cert_path]}
