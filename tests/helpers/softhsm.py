"""A SoftHSM2 token in a temporary directory, and keys made with OpenSC's pkcs11-tool.

``make_softhsm(dir, label)`` writes a ``softhsm2.conf`` and initialises a token; ``activate`` makes it the
one the (already loaded) module sees. The ``softhsm_token`` fixture does both for one test (import it into a
conftest to use it).
"""

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
USER_PIN = "4321-user"
SO_PIN = "8765-so"


@dataclass
class SoftHsm:
    directory: Path
    conf: Path
    label: str

    def env(self) -> dict:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf)}

    def uri(self, obj: str, **query: str) -> str:
        q = "&".join([f"module-path={SOFTHSM_MODULE}", *(f"{k}={v}" for k, v in query.items())])
        return f"pkcs11:token={self.label};object={obj};type=private?{q}"

    def tool(self, *args: str, pin: bool = True) -> str:
        cmd = ["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", self.label, *args]
        if pin:
            cmd += ["--login", "--pin", USER_PIN]
        result = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def keypair(self, key_type: str, key_id: str, label: str) -> None:
        self.tool("--keypairgen", "--key-type", key_type, "--id", key_id, "--label", label)

    def public_key_pem(self, label: str, out: Path) -> Path:
        der = out.with_suffix(".der")
        self.tool("--read-object", "--type", "pubkey", "--label", label, "--output-file", str(der), pin=False)
        pem = subprocess.run(
            ["openssl", "pkey", "-pubin", "-inform", "DER", "-in", str(der)], capture_output=True, check=True
        ).stdout
        out.write_bytes(pem)
        return out


def make_softhsm(directory: Path, label: str = "sealkit-test") -> SoftHsm:
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    hsm = SoftHsm(directory, conf, label)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", USER_PIN, "--so-pin", SO_PIN],
        capture_output=True,
        env=hsm.env(),
        check=True,
    )
    return hsm


def activate(hsm: SoftHsm, monkeypatch) -> None:
    """Point SoftHSM at this token directory: it reads SOFTHSM2_CONF at C_Initialize, so re-initialise."""
    from sealkit.ukey import close_all_sessions
    from sealkit.ukey.p11module import get_module

    monkeypatch.setenv("SOFTHSM2_CONF", str(hsm.conf))
    close_all_sessions()
    get_module(SOFTHSM_MODULE).reinitialize()


@pytest.fixture
def softhsm_token(tmp_path, monkeypatch) -> Iterator[Callable[..., SoftHsm]]:
    """Factory: ``softhsm_token(label) -> SoftHsm``, a fresh token (own directory) made the one SoftHSM
    sees, with SEALKIT_PIN set to its user PIN; sessions are closed after the test."""
    from sealkit.ukey import close_all_sessions

    def make(label: str = "sealkit-test") -> SoftHsm:
        hsm = make_softhsm(tmp_path / f"softhsm-{label}", label=label)
        activate(hsm, monkeypatch)
        monkeypatch.setenv("SEALKIT_PIN", USER_PIN)
        return hsm

    yield make
    close_all_sessions()
