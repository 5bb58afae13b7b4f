"""API keys: random tokens given to clients once, stored only as their SHA-256, checked in constant time;
and which client a request comes from, by its API key or its TLS client certificate (:mod:`.tls`).

A client sends ``Authorization: Bearer KEY`` (or ``X-API-Key: KEY``). The key never reaches a log: the access
log names the client, not the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sealkit.service.settings import ClientSpec


class Refused(Exception):
    """A request the service refuses before any work: HTTP ``status``, a type name and one line."""

    exit_code = 2

    def __init__(self, status: int, kind: str, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.exit_code = exit_code


def new_api_key() -> str:
    """A fresh API key (256 random bits, URL-safe)."""
    return "sk_" + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """What the configuration stores for ``key``: its SHA-256 in hex (random keys need no salt)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def authenticate(
    headers: dict[str, str],
    clients: Iterable[ClientSpec],
    certificate: tuple[str, ClientSpec | Refused | None] | None = None,
) -> ClientSpec:
    """The client the request's TLS certificate or API key names; :class:`Refused` (401) otherwise.

    ``certificate`` is the client certificate's SHA-256 and what
    :class:`~sealkit.service.tls.CertificateClients` found for it. A certificate that belongs to a client
    names it (an API key sent as well must be that client's); one that belongs to none leaves the API key
    to decide.
    """
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else headers.get("x-api-key", "")
    by_cert = certificate[1] if certificate is not None else None
    if isinstance(by_cert, Refused):
        raise by_cert
    if not key:
        if by_cert is not None:
            return by_cert
        if certificate is not None:
            raise Refused(
                401,
                "Unauthenticated",
                f"the client certificate (SHA-256 {certificate[0]}) is no client's; no API key was sent",
            )
        raise Refused(401, "Unauthenticated", "no API key: send Authorization: Bearer KEY")
    digest = hash_api_key(key)
    found = None
    for client in clients:  # compare with every client so that timing says nothing about which matched
        if hmac.compare_digest(digest, client.api_key_sha256 or "-"):
            found = client
    if found is None:
        raise Refused(401, "Unauthenticated", "the API key is not valid")
    if by_cert is not None and found is not by_cert:
        raise Refused(
            401, "Unauthenticated", "the API key and the client certificate belong to different clients"
        )
    return found


def require(client: ClientSpec, operation: str) -> None:
    if operation not in client.operations:
        raise Refused(403, "Forbidden", f"client {client.name!r} may not use {operation}")


def allowed(client: ClientSpec, what: str, alias: str, granted: frozenset[str]) -> None:
    """Refuse (403) an alias the client was not given; the same answer whether or not it exists."""
    if alias not in granted:
        raise Refused(403, "Forbidden", f"client {client.name!r} may not use {what} {alias!r}")
