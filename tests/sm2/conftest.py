"""Shared fixtures for the sealkit.sm2 tests: the vectors, both backends, the openssl CLI."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from sealkit import sm2
from tests.helpers.shared import VECTORS

VECTORS_PATH = VECTORS
BACKENDS = sm2.available_backends()


@pytest.fixture(scope="session")
def vectors() -> dict:
    return json.loads(VECTORS_PATH.read_text())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each available backend in turn (openssl, python)."""
    return request.param


@pytest.fixture(params=BACKENDS)
def other_backend(request: pytest.FixtureRequest) -> str:
    return request.param


OPENSSL = shutil.which("openssl")
needs_openssl_cli = pytest.mark.skipif(OPENSSL is None, reason="no openssl command")


def openssl(*args: str, input: bytes | None = None) -> bytes:
    """Run the openssl CLI; raise with its stderr on failure."""
    assert OPENSSL is not None
    proc = subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def openssl_ok(*args: str, input: bytes | None = None) -> bool:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=False).returncode == 0
