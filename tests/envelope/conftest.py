"""Fixtures for the envelope tests: RSA and SM2 test PKIs, a random bid file, and the token fixtures
(SoftHSM2, the SM2 test token) of tests/helpers."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from sealkit.pki import make_test_pki
from tests.envelope.keys import Sm2Ca, read_cert, rsa_handle
from tests.helpers.softhsm import softhsm_token  # noqa: F401
from tests.helpers.testtoken import make_testtoken, testtoken_module  # noqa: F401
from tests.helpers.tokens import use_testtoken  # noqa: F401


@pytest.fixture(scope="session")
def rsa_pki(tmp_path_factory):
    pki = make_test_pki(tmp_path_factory.mktemp("rsa-pki"), "rsa")
    ids = {
        name: pki.issue(name, role)
        for name, role in (
            ("bidder-enc", "encrypt"),
            ("platform-backup", "encrypt"),
            ("other-enc", "encrypt"),
            ("bidder-sign", "sign"),
        )
    }
    return SimpleNamespace(
        pki=pki,
        root=read_cert(pki.root.cert_path),
        ids=ids,
        cert=lambda name: read_cert(ids[name].cert_path),
        key=lambda name, **kw: rsa_handle(ids[name], **kw),
    )


@pytest.fixture(scope="session")
def sm2_pki(tmp_path_factory):
    """The shared SM2 test PKI (sealkit.pki) with a bidder's signing identity."""
    pki = make_test_pki(tmp_path_factory.mktemp("sm2-pki"), "sm2")
    return SimpleNamespace(
        pki=pki, root=read_cert(pki.root.cert_path), signer=pki.issue("sm2-bidder-sign", "sign")
    )


@pytest.fixture(scope="session")
def sm2_ca():
    ca = Sm2Ca()
    ca.bidder_key, ca.bidder_cert = ca.issue("sm2 bidder enc")
    ca.backup_key, ca.backup_cert = ca.issue("sm2 platform backup")
    ca.signer_key, ca.signer_cert = ca.issue("sm2 bidder sign")
    return ca


@pytest.fixture
def bid(tmp_path):
    path = tmp_path / "bid.pdf"
    path.write_bytes(b"%PDF-1.7 bid " + os.urandom(300_001))
    return path


@pytest.fixture
def out_dir(tmp_path):
    path = tmp_path / "out"
    path.mkdir()
    return path
