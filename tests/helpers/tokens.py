"""Token fixtures shared by the ukey and envelope tests: the SM2 test token made current, references to its
keys, and certificates from a test CA for keys generated on a token.

Use from a conftest::

    from tests.helpers.softhsm import softhsm_token  # noqa: F401
    from tests.helpers.testtoken import make_testtoken, testtoken_module  # noqa: F401
    from tests.helpers.tokens import use_testtoken  # noqa: F401
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit.dev.pki import TestPki
from sealkit.sm2 import x509 as sm2_x509
from tests.helpers.testtoken import DEFAULT_USER_PIN, ENV_DIR, TestTokenDir


@pytest.fixture
def use_testtoken(testtoken_module: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """``use(*token_dirs) -> module path``: point the test token at the directories and re-initialise it
    (sealkit's shared sessions are dropped first); SEALKIT_PIN is the test token's user PIN."""
    from sealkit.ukey import close_all_sessions
    from sealkit.ukey.p11module import get_module

    def use(*dirs: TestTokenDir | Path) -> Path:
        close_all_sessions()
        monkeypatch.setenv(ENV_DIR, ":".join(os.fspath(d) for d in dirs))
        get_module(testtoken_module).reinitialize()
        return testtoken_module

    monkeypatch.setenv("SEALKIT_PIN", DEFAULT_USER_PIN)
    yield use
    close_all_sessions()


def token_uri(module: Path | str, tok: TestTokenDir, obj: str = "sign", **query: str) -> str:
    """``pkcs11:`` reference of object ``obj`` on the test token ``tok`` (query attributes appended)."""
    q = "&".join([f"module-path={module}", *(f"{k}={v}" for k, v in query.items())])
    return f"pkcs11:token={tok.label.replace(' ', '%20')};object={obj}?{q}"


def certify_token_key(
    pki: TestPki,
    keyref: str,
    path: Path,
    *,
    name: str,
    role: str = "encrypt",
    serial: int | None = None,
    store: bool = True,
    **open_kw: Any,
) -> Path:
    """Have ``pki``'s root certify the public key of the token key ``keyref`` (role ``encrypt`` or
    ``sign``), write the certificate to ``path`` (PEM) and, with ``store``, put it on the token next to the
    key (``import_token_cert``)."""
    from cryptography.hazmat.primitives import serialization

    from sealkit import sm2
    from sealkit.ukey import import_token_cert, open_key

    public = open_key(keyref, **open_kw).public_key_info()
    root_pem = pki.root.key_path.read_bytes()
    if pki.kind == "sm2":
        issuer_key: Any = sm2.load_pem_private_key(root_pem)
    else:
        issuer_key = serialization.load_pem_private_key(root_pem, None)
    if role == "encrypt":
        usage = {"key_encipherment", "data_encipherment"}
        if public.algorithm != "rsa":
            usage.add("key_agreement")
    else:
        usage = {"digital_signature", "non_repudiation"}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = sm2_x509.build_certificate(
        {"country_name": "CN", "organization_name": "sealkit 测试单位", "common_name": name},
        public,
        pki.root.certificate,
        issuer_key,
        serial=serial if serial is not None else secrets.randbits(63) | 1 << 62,
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=30),
        key_usage=usage,
    )
    path.write_bytes(sm2_x509.to_pem(cert))
    if store:
        import_token_cert(keyref, path, **open_kw)
    return path
