"""Fixtures for the trusted-time and revocation tests: test PKIs with live TSA/OCSP/CRL services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sealkit.dev.pki import make_test_pki
from sealkit.dev.services import PkiServices
from tests.helpers.pki_signing import blank_pdf

KINDS = ["rsa", "p256", "sm2"]


def _pki_available(kind: str, directory: Path) -> bool:
    try:
        make_test_pki(directory, kind)
    except NotImplementedError:
        return False
    return True


@pytest.fixture(scope="module", params=KINDS)
def services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PkiServices]:
    """A test PKI of each kind, with its TSA, OCSP responder and CRL server on 127.0.0.1."""
    directory = tmp_path_factory.mktemp(f"pki-{request.param}")
    if not _pki_available(request.param, directory):
        pytest.skip(f"sealkit.dev.pki cannot make {request.param} PKIs yet")
    with PkiServices.start(make_test_pki(directory, request.param)) as running:
        yield running


@pytest.fixture(scope="session")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "contract.pdf"
    path.write_bytes(blank_pdf())
    return path
