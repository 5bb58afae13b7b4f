"""Client certificates for ``sealkit serve``: uvicorn's TLS options from the settings, the client's
certificate handed to the application (the ASGI TLS extension, which uvicorn does not fill in itself), and
the clients known by their certificates.

OpenSSL checks the chain to ``client_ca`` during the handshake (``client_cert = "required"``: no certificate,
no connection). The application then maps the certificate to a ``[[service.clients]]`` entry by its SHA-256
(``cert_sha256``) or its subject (``cert_subject``, so a renewed certificate keeps working), and checks it
once more through :mod:`sealkit.validation` for client authentication (path to ``client_ca``, validity,
key usage and extended key usage), the same rules as every other certificate sealkit trusts. Verdicts are
cached for a few minutes per certificate.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from sealkit.errors import ConfigError
from sealkit.service.auth import Refused
from sealkit.service.settings import ClientSpec, ServiceSettings

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
VERDICT_TTL_S = 300.0


def uvicorn_tls_options(settings: ServiceSettings) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.run`` (empty without TLS)."""
    if settings.tls_cert is None and settings.tls_key is None:
        if settings.client_ca is not None:
            raise ConfigError(
                "[service] client_ca needs TLS: set tls_cert and tls_key (or --tls-cert/--tls-key)"
            )
        return {}
    if settings.tls_cert is None or settings.tls_key is None:
        raise ConfigError("TLS needs both a certificate and a key ([service] tls_cert and tls_key)")
    options: dict[str, Any] = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    if settings.client_ca is not None:
        if not settings.client_ca.is_file():
            raise ConfigError(f"[service] client_ca {settings.client_ca} does not exist")
        options |= {
            "ssl_ca_certs": str(settings.client_ca),
            "ssl_cert_reqs": ssl.CERT_REQUIRED if settings.client_cert == "required" else ssl.CERT_OPTIONAL,
            "http": ClientCertificateProtocol,
        }
    return options


class ClientCertificateProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol that puts the client's certificate into ``scope["extensions"]["tls"]``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            self.app = _with_client_certificate(self.app, der)


def _with_client_certificate(app: ASGIApp, der: bytes) -> ASGIApp:
    chain = [ssl.DER_cert_to_PEM_cert(der)]

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        extensions = dict(scope.get("extensions") or {})
        extensions["tls"] = {"client_cert_chain": chain, "client_cert_error": None}
        scope["extensions"] = extensions
        await app(scope, receive, send)

    return wrapped


def client_certificate(scope: Scope) -> bytes | None:
    """The DER of the client's certificate, if the connection presented one."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None


def fingerprint(der: bytes) -> str:
    """The certificate's SHA-256 (hex), as ``cert_sha256`` holds it."""
    return hashlib.sha256(der).hexdigest()


def subject(der: bytes) -> str:
    """The certificate's subject in RFC 4514 form, as ``cert_subject`` holds it."""
    from cryptography import x509

    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def client_id_lines(path: str | Path) -> list[str]:
    """The configuration lines that name the client holding the certificate at ``path`` (PEM or DER)."""
    from sealkit.certs import load_certificate

    der = load_certificate(Path(path), what="client certificate").dump()
    return [f'cert_sha256 = ["{fingerprint(der)}"]', f"cert_subject = {_toml_string(subject(der))}"]


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class CertificateClients:
    """Finds the client a certificate belongs to and checks the certificate with :mod:`sealkit.validation`."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._clients = [c for c in settings.clients if c.cert_sha256 or c.cert_subject]
        self._anchors = [settings.client_ca] if settings.client_ca is not None else []
        self._verdicts: dict[str, tuple[float, str | None]] = {}

    async def identify(self, der: bytes) -> ClientSpec | Refused | None:
        """The client for ``der``; None if no client has it; a :class:`Refused` if it may not be used."""
        digest = fingerprint(der)
        name = subject(der)
        found = [c for c in self._clients if digest in c.cert_sha256 or c.cert_subject == name]
        if not found:
            return None
        if len(found) > 1:
            names = ", ".join(c.name for c in found)
            return Refused(401, "Unauthenticated", f"the client certificate names several clients ({names})")
        problem = await self._problem(digest, der)
        if problem is not None:
            return Refused(
                403, "Forbidden", f"the client certificate is not accepted: {problem}", exit_code=6
            )
        return found[0]

    async def _problem(self, digest: str, der: bytes) -> str | None:
        cached = self._verdicts.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        from asn1crypto import x509 as asn1_x509

        from sealkit.validation import Purpose, async_validate_certificate

        if not self._anchors:
            problem: str | None = "the service has no client_ca to check it against"
        else:
            result = await async_validate_certificate(
                asn1_x509.Certificate.load(der), self._anchors, purpose=Purpose.CLIENT_AUTHENTICATION
            )
            problem = None if result.ok else result.message
        self._verdicts[digest] = (time.monotonic() + VERDICT_TTL_S, problem)
        return problem
