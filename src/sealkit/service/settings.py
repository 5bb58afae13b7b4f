"""The ``[service]`` section of the configuration: limits, key and seal aliases, clients.

::

    [service]
    work_dir = "/var/lib/sealkit/service"   # temporary files and stored bids (shared by instances)
    max_body_mb = 64                        # larger request bodies are refused (413)
    timeout_s = 120                         # a request still working after this gets 504
    max_inflight_per_client = 4             # more parallel requests from one client get 429
    access_log = "/var/log/sealkit/access.log"   # default: WORK_DIR/access.log
    bid_retention_days = 30                 # kept bids are deleted this long after their opening time
    tls_cert = "server.pem"                 # TLS (or sealkit serve --tls-cert/--tls-key)
    tls_key = "server.key"
    client_ca = "clients-ca.pem"            # ask clients for certificates issued by these CAs
    client_cert = "required"                # or "optional": clients without a certificate use API keys

    [service.keys.supplier]                 # a key alias: reference, certificate, chain
    key = "pkcs11:token=Supplier;object=sign?module-path=/usr/lib/x.so&pin-source=file:/etc/sealkit/pin"
    cert = "supplier.pem"

    [service.seals]                         # seal aliases -> registry seal IDs
    supplier-contract = "37010000000001"

    [service.recipients]                    # bid recipients (encryption certificates) by alias
    centre = "centre-enc.pem"

    [[service.clients]]
    name = "procurement-platform"
    api_key_sha256 = "…"                    # sealkit serve --new-api-key prints a key and this line
    cert_sha256 = ["…"]                     # and/or client certificates (sealkit serve --client-id CERT)
    cert_subject = "CN=…,O=…,C=CN"          # any certificate with this subject from client_ca
    keys = ["supplier"]
    seals = ["supplier-contract"]
    recipients = ["centre"]
    operations = ["sign", "verify", "file", "seals", "bids.encrypt", "bids.open"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealkit.config import Config
from sealkit.errors import ConfigError

OPERATIONS = ("sign", "verify", "file", "seals", "bids.encrypt", "bids.open")
CLIENT_CERT_MODES = ("required", "optional")


@dataclass(frozen=True)
class KeySpec:
    """A signing or decryption key the service may use, by alias."""

    alias: str
    keyref: str
    cert: Path | None = None
    chain: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ClientSpec:
    """A client: the SHA-256 of its API key (hex) and/or its TLS certificates (SHA-256 of the DER, or the
    subject in RFC 4514 form), and what it may use and do."""

    name: str
    api_key_sha256: str = ""
    keys: frozenset[str] = frozenset()
    seals: frozenset[str] = frozenset()
    recipients: frozenset[str] = frozenset()
    operations: frozenset[str] = frozenset()
    cert_sha256: frozenset[str] = frozenset()
    cert_subject: str | None = None


@dataclass(frozen=True)
class ServiceSettings:
    """The service's settings, checked when the service starts (a bad section is a ConfigError)."""

    config: Config
    work_dir: Path
    access_log: Path
    max_body: int = 64 << 20
    timeout_s: float = 120.0
    max_inflight_per_client: int = 4
    keys: dict[str, KeySpec] = field(default_factory=dict)
    seals: dict[str, str] = field(default_factory=dict)
    recipients: dict[str, Path] = field(default_factory=dict)
    clients: tuple[ClientSpec, ...] = ()
    bid_retention_days: float | None = None  # None: kept bids stay until deleted (DELETE /v1/bids/{id})
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    client_cert: str = "required"

    @classmethod
    def from_config(cls, config: Config) -> ServiceSettings:
        section = config.section("service")
        work_dir = config.resolve_path(str(section.get("work_dir", config.home / "service")))
        access_log = section.get("access_log")
        keys = {alias: _key(config, alias, value) for alias, value in _table(section, "keys").items()}
        seals = {str(k): str(v) for k, v in _table(section, "seals").items()}
        recipients = {str(k): config.resolve_path(str(v)) for k, v in _table(section, "recipients").items()}
        clients = tuple(_client(item, keys, seals, recipients) for item in section.get("clients", []))
        tls = {
            k: config.resolve_path(str(section[k]))
            for k in ("tls_cert", "tls_key", "client_ca")
            if section.get(k)
        }
        client_cert = str(section.get("client_cert", "required"))
        if client_cert not in CLIENT_CERT_MODES:
            raise ConfigError(f'[service] client_cert = "{client_cert}": use "required" or "optional"')
        by_cert = [c.name for c in clients if c.cert_sha256 or c.cert_subject]
        if by_cert and "client_ca" not in tls:
            raise ConfigError(
                f"client {by_cert[0]!r} is known by its certificate: set [service] client_ca (and TLS)"
            )
        retention = section.get("bid_retention_days")
        names = [c.name for c in clients]
        if len(set(names)) != len(names):
            raise ConfigError("[[service.clients]]: client names must be unique")
        try:
            return cls(
                config=config,
                work_dir=work_dir,
                access_log=config.resolve_path(str(access_log)) if access_log else work_dir / "access.log",
                max_body=int(float(section.get("max_body_mb", 64)) * (1 << 20)),
                timeout_s=float(section.get("timeout_s", 120)),
                max_inflight_per_client=int(section.get("max_inflight_per_client", 4)),
                keys=keys,
                seals=seals,
                recipients=recipients,
                clients=clients,
                bid_retention_days=float(retention) if retention is not None else None,
                client_cert=client_cert,
                **tls,
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[service] has a value of the wrong type: {exc}") from None


def _table(section: dict[str, Any], name: str) -> dict[str, Any]:
    value = section.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[service.{name}] must be a table")
    return value


def _key(config: Config, alias: str, value: Any) -> KeySpec:
    if isinstance(value, str):
        return KeySpec(alias, value)
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        raise ConfigError(f'[service.keys.{alias}] needs key = "KEYREF"')
    cert = config.resolve_path(value["cert"]) if value.get("cert") else None
    chain = tuple(config.resolve_path(p) for p in value.get("chain", []))
    return KeySpec(alias, value["key"], cert, chain)


def _client(
    item: Any, keys: dict[str, KeySpec], seals: dict[str, str], recipients: dict[str, Path]
) -> ClientSpec:
    if not isinstance(item, dict) or not item.get("name"):
        raise ConfigError("[[service.clients]] entries need a name")
    name = str(item["name"])
    digest = str(item.get("api_key_sha256", "")).lower()
    if digest and not _is_sha256(digest):
        raise ConfigError(
            f"client {name!r}: api_key_sha256 must be 64 hex digits (sealkit serve --new-api-key makes one)"
        )
    prints = item.get("cert_sha256", [])
    prints = [prints] if isinstance(prints, str) else prints
    fingerprints = frozenset(str(p).lower().replace(":", "") for p in prints)
    if not all(_is_sha256(p) for p in fingerprints):
        raise ConfigError(
            f"client {name!r}: cert_sha256 takes SHA-256 fingerprints (sealkit serve --client-id CERT)"
        )
    subject = _subject(name, str(item["cert_subject"])) if item.get("cert_subject") else None
    if not (digest or fingerprints or subject):
        raise ConfigError(f"client {name!r}: give api_key_sha256, cert_sha256 or cert_subject")
    spec = ClientSpec(
        name=name,
        api_key_sha256=digest,
        cert_sha256=fingerprints,
        cert_subject=subject,
        keys=frozenset(item.get("keys", [])),
        seals=frozenset(item.get("seals", [])),
        recipients=frozenset(item.get("recipients", [])),
        operations=frozenset(item.get("operations", [])),
    )
    for what, wanted, known in (
        ("keys", spec.keys, keys),
        ("seals", spec.seals, seals),
        ("recipients", spec.recipients, recipients),
        ("operations", spec.operations, OPERATIONS),
    ):
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            raise ConfigError(f"client {name!r}: unknown {what} {', '.join(unknown)}")
    return spec


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _subject(name: str, text: str) -> str:
    """The RFC 4514 subject as the service compares it (the certificate's own rendering of it)."""
    from cryptography import x509

    try:
        return x509.Name.from_rfc4514_string(text).rfc4514_string()
    except ValueError:
        raise ConfigError(
            f"client {name!r}: cert_subject {text!r} is not an RFC 4514 name (CN=…,O=…,C=CN, no spaces "
            "after commas; sealkit serve --client-id CERT prints it)"
        ) from None
