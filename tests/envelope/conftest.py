"""Fixtures for the envelope tests: RSA and SM2 test PKIs, a random bid file, and the token fixtures
(SoftHSM2, the SM2 test token) of tests/helpers."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from sealkit.dev.pki import make_test_pki
from tests.envelope.keys import read_cert, soft_handle
from tests.helpers.softhsm import softhsm_token  # noqa: F401
from tests.helpers.testtoken import make_testtoken, testtoken_module  # noqa: F401
from tests.helpers.tokens import use_testtoken  # noqa: F401


def _pki(tmp_path_factory, kind, identities):
    pki = make_test_pki(tmp_path_factory.mktemp(f"{kind}-pki"), kind)
    ids = {name: pki.issue(name, role) for name, role in identities}
    return SimpleNamespace(
        pki=pki,
        root=read_cert(pki.root.cert_path),
        ids=ids,
        cert=lambda name: read_cert(ids[name].cert_path),
        key=lambda name, **kw: soft_handle(ids[name], **kw),
    )


@pytest.fixture(scope="session")
def rsa_pki(tmp_path_factory):
    """The shared RSA test PKI: encryption identities and a bidder's signing identity."""
    return _pki(
        tmp_path_factory,
        "rsa",
        [
            ("bidder-enc", "encrypt"),
            ("platform-backup", "encrypt"),
            ("other-enc", "encrypt"),
            ("bidder-sign", "sign"),
        ],
    )


@pytest.fixture(scope="session")
def sm2_pki(tmp_path_factory):
    """The shared SM2 test PKI (sealkit.dev.pki): the same roles; ``signer`` is the signing identity."""
    ns = _pki(
        tmp_path_factory,
        "sm2",
        [("sm2-bidder-enc", "encrypt"), ("sm2-platform-backup", "encrypt"), ("sm2-bidder-sign", "sign")],
    )
    ns.signer = ns.ids["sm2-bidder-sign"]
    return ns


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
