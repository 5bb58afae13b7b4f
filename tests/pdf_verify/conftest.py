"""Shared fixtures: one RSA and one P-256 test PKI per session, and signed contracts."""

import pytest

from tests.pdf_verify.contracts import Pki, contract_pdf, sign


@pytest.fixture(scope="session")
def rsa_pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki-rsa"), "rsa")


@pytest.fixture(scope="session")
def p256_pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki-p256"), "p256")


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki-other"), "rsa")


@pytest.fixture(scope="session")
def contract():
    return contract_pdf()


@pytest.fixture(scope="session")
def signed(rsa_pki, contract):
    """The contract signed by the buyer (RSA); the supplier field is still empty."""
    return sign(contract, rsa_pki.signer("Buyer Ltd"), "buyer")


@pytest.fixture(scope="session")
def trust(rsa_pki):
    return [rsa_pki.root.cert_path]
