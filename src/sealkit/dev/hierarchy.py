"""``sealkit dev pki DIR``: a clearly labelled TEST hierarchy for trying sealkit without a real CA.

:func:`write_dev_pki` makes an SM2 and an RSA test root (their names say "sealkit Test") and issues, with
keys:

=================  ====  ==============================================================
name               kind  for
=================  ====  ==============================================================
purchaser          SM2   signing contracts (the purchaser's seal holder)
seal-authority     SM2   making seals (制章者)
bidder             SM2   signing bids
bidder-enc         SM2   opening bids (encryption certificate)
tsa                SM2   the test TSA (``sealkit dev tsa DIR``)
supplier           RSA   signing contracts
platform           SM2   the trading platform's bid-opening key (encryption)
=================  ====  ==============================================================

Files in ``DIR``: ``NAME.pem`` is a bundle (private key, certificate, root) usable as ``--key file:NAME.pem``
with no ``--cert``; ``NAME.crt`` is the certificate alone; ``sm2-root.crt``, ``rsa-root.crt`` and
``trust-anchors.pem`` (both roots) are what verifiers trust. The keys are unencrypted: TEST ONLY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sealkit.atomic import write_atomic
from sealkit.dev.pki import Identity, Role, TestPki, make_test_pki

IDENTITIES: tuple[tuple[str, str, Role], ...] = (
    ("purchaser", "sm2", Role.SIGN),
    ("seal-authority", "sm2", Role.SEAL_MAKER),
    ("bidder", "sm2", Role.SIGN),
    ("bidder-enc", "sm2", Role.ENCRYPT),
    ("tsa", "sm2", Role.TSA),
    ("supplier", "rsa", Role.SIGN),
    ("platform", "sm2", Role.ENCRYPT),
)
TSA_PORT = 3161


@dataclass
class DevPki:
    """The test hierarchy in ``directory``: the two roots and every identity by name."""

    directory: Path
    roots: dict[str, TestPki]
    identities: dict[str, Identity] = field(default_factory=dict)

    @property
    def trust_anchors(self) -> Path:
        return self.directory / "trust-anchors.pem"

    def bundle(self, name: str) -> Path:
        """``NAME.pem``: key, certificate and root, for ``--key file:…``."""
        return self.directory / f"{name}.pem"

    def certificate(self, name: str) -> Path:
        """``NAME.crt``: the certificate alone."""
        return self.directory / f"{name}.crt"

    def config_lines(self, tsa_port: int = TSA_PORT) -> str:
        """sealkit.toml lines that trust these roots and use the test TSA."""
        return (
            "# TEST hierarchy: never use these keys or this configuration for real documents\n"
            "[trust]\n"
            f'anchors = ["{self.trust_anchors.resolve()}"]\n'
            "[tsa]\n"
            f'url = "http://127.0.0.1:{tsa_port}/tsa"\n'
            f"# start the test TSA first: sealkit dev tsa {self.directory} --background\n"
        )


def write_dev_pki(directory: str | Path) -> DevPki:
    """Create (or reuse) the test hierarchy in ``directory``; see the module docstring for the files."""
    directory = Path(directory)
    roots = {kind: make_test_pki(directory / kind, kind) for kind in ("sm2", "rsa")}
    result = DevPki(directory, roots)
    for kind, pki in roots.items():
        _write_if_changed(directory / f"{kind}-root.crt", pki.root.cert_path.read_bytes())
    anchors = b"".join(pki.root.cert_path.read_bytes() for pki in roots.values())
    _write_if_changed(result.trust_anchors, anchors)
    for name, kind, role in IDENTITIES:
        pki = roots[kind]
        existing = Identity(name, kind, pki.directory / name / "cert.pem", pki.directory / name / "key.pem")
        identity = existing if existing.cert_path.is_file() else pki.issue(name, role)
        result.identities[name] = identity
        cert = identity.cert_path.read_bytes()
        key = identity.key_path.read_bytes()
        _write_if_changed(result.certificate(name), cert)
        _write_if_changed(result.bundle(name), key + cert + pki.root.cert_path.read_bytes(), mode=0o600)
    return result


def _write_if_changed(path: Path, data: bytes, mode: int | None = None) -> None:
    if not (path.is_file() and path.read_bytes() == data):
        write_atomic(path, data, mode=mode or 0o644)
