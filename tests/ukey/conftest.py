"""Shared helpers for the ukey tests: openssl CLI wrappers, test PKIs and the token fixtures."""

import subprocess
from pathlib import Path

import pytest

from sealkit.dev.pki import make_test_pki
from tests.helpers.softhsm import softhsm_token  # noqa: F401
from tests.helpers.testtoken import make_testtoken, testtoken_module  # noqa: F401
from tests.helpers.tokens import use_testtoken  # noqa: F401


def openssl(*args: str, input: bytes | None = None) -> bytes:
    result = subprocess.run(["openssl", *args], input=input, capture_output=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def openssl_ok(*args: str) -> bool:
    return subprocess.run(["openssl", *args], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="session")
def rsa_pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki-rsa"), "rsa")


@pytest.fixture(scope="session")
def p256_pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki-p256"), "p256")


def pubkey_of(cert_path: Path, out: Path) -> Path:
    out.write_bytes(openssl("x509", "-in", str(cert_path), "-pubkey", "-noout"))
    return out
