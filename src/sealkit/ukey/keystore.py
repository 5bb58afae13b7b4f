"""sealkit's software key store: one directory per key under ``$SEALKIT_HOME/keys/NAME/``.

Each entry holds ``key.pem`` (encrypted PKCS#8, mode 0600), ``meta.json`` (kind, creation time) and, once
imported, ``cert.pem`` and ``chain.pem``. It is the default home of the demo's keys and of server-side seal
keys; reference a key as ``keystore:NAME``. The password comes from the usual PIN sources
(:mod:`sealkit.ukey.pins`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from asn1crypto import pem as asn1_pem
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sealkit.atomic import write_atomic
from sealkit.certs import load_certificates
from sealkit.errors import InvalidInput, KeyNotFound
from sealkit.ukey import _sm2
from sealkit.ukey.base import KeyInfo, KeyKind
from sealkit.ukey.keyref import _check_store_name
from sealkit.ukey.pins import ChainedPinSource
from sealkit.ukey.software import SoftwareKey, check_certificate_matches, load_private_key

#: ``--type`` names of ``sealkit keys generate`` / ``sealkit token keygen``.
KEY_TYPES = {"sm2": KeyKind.SM2, "rsa2048": KeyKind.RSA, "p256": KeyKind.P256}


def key_kind(type_name: str) -> KeyKind:
    try:
        return KEY_TYPES[type_name]
    except KeyError:
        raise InvalidInput(f"unknown key type {type_name!r}: use {', '.join(KEY_TYPES)}") from None


class KeyStore:
    """The key store directory ``root`` (usually ``config.home / "keys"``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _entry(self, name: str, *, must_exist: bool = True) -> Path:
        _check_store_name(name)
        entry = self.root / name
        if must_exist and not (entry / "key.pem").is_file():
            raise KeyNotFound(f"no key {name!r} in the key store {self.root}")
        return entry

    def generate(self, name: str, type_name: str, pins: ChainedPinSource) -> KeyInfo:
        """Make a new key ``name`` of ``type_name`` (``sm2``, ``rsa2048``, ``p256``), password-encrypted."""
        kind = key_kind(type_name)
        entry = self._entry(name, must_exist=False)
        if (entry / "key.pem").exists():
            raise InvalidInput(f"key {name!r} already exists in the key store")
        password = pins.require(f"password for the new key store key {name!r}").encode()
        if not password:
            raise InvalidInput("the key store password must not be empty")
        key: Any
        if kind is KeyKind.SM2:
            key = _sm2.generate()
            pem = _sm2.private_pem(key, password)
        else:
            key = (
                rsa.generate_private_key(65537, 2048)
                if kind is KeyKind.RSA
                else ec.generate_private_key(ec.SECP256R1())
            )
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(password),
            )
        entry.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(entry / "key.pem", pem, mode=0o600)
        meta = {"kind": str(kind), "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        write_atomic(entry / "meta.json", json.dumps(meta).encode())
        return self.info(name)

    def open(self, name: str, pins: ChainedPinSource) -> SoftwareKey:
        """The key ``name`` with its certificate and chain (if imported)."""
        entry = self._entry(name)
        key = load_private_key((entry / "key.pem").read_bytes(), f"keystore:{name}", pins)
        cert = load_certificates(entry / "cert.pem")[0] if (entry / "cert.pem").is_file() else None
        chain = load_certificates(entry / "chain.pem") if (entry / "chain.pem").is_file() else []
        return SoftwareKey(key, label=f"keystore:{name}", certificate=cert, chain=chain)

    def import_cert(
        self, name: str, cert_path: str | Path, pins: ChainedPinSource, chain_path: str | Path | None = None
    ) -> KeyInfo:
        """Attach a certificate (and chain) to key ``name``, after checking it certifies that key."""
        entry = self._entry(name)
        certs = load_certificates(cert_path)
        chain = load_certificates(chain_path) if chain_path else certs[1:]
        handle = self.open(name, pins)
        check_certificate_matches(certs[0], handle.public_key_info(), f"keystore:{name}")
        write_atomic(entry / "cert.pem", asn1_pem.armor("CERTIFICATE", certs[0].dump()))
        if chain:
            write_atomic(
                entry / "chain.pem", b"".join(asn1_pem.armor("CERTIFICATE", c.dump()) for c in chain)
            )
        return self.info(name)

    def info(self, name: str) -> KeyInfo:
        entry = self._entry(name)
        meta: dict[str, Any] = {}
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        kind = KeyKind(meta["kind"]) if meta.get("kind") in set(KeyKind) else None
        extra: dict[str, object] = {"created": meta.get("created"), "path": str(entry)}
        has_cert = (entry / "cert.pem").is_file()
        if has_cert:
            cert = load_certificates(entry / "cert.pem")[0]
            extra["subject"] = cert.subject.human_friendly
            extra["not_after"] = cert["tbs_certificate"]["validity"]["not_after"].native.isoformat()
        return KeyInfo(
            label=name, key_id=b"", kind=kind, has_certificate=has_cert, uri=f"keystore:{name}", extra=extra
        )

    def list(self) -> list[KeyInfo]:
        if not self.root.is_dir():
            return []
        return [self.info(p.name) for p in sorted(self.root.iterdir()) if (p / "key.pem").is_file()]
