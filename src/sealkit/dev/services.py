"""A TEST TSA, OCSP responder and CRL server over HTTP on 127.0.0.1, for one test PKI (RSA, P-256 or SM2).

:class:`PkiServices` runs a ``ThreadingHTTPServer`` on a free port in a daemon thread::

    with PkiServices.start(pki) as services:       # pki = sealkit.dev.pki.make_test_pki(dir, "rsa")
        services.tsa_url, services.ocsp_url, services.crl_url
        services.revoke(serial, at=when, reason="key_compromise")
        services.tsa_mode = "wrong-nonce"           # or "http-error", "garbage", "refuse", "wrong-imprint"

Tokens, OCSP responses and CRLs are signed with the PKI's own keys (TSA and OCSP identities issued with
the roles ``tsa`` and ``ocsp``; CRLs by the root), so SM2 services sign with SM2-with-SM3.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from asn1crypto import ocsp, tsp

from sealkit.dev.pki import Identity, TestPki
from sealkit.dev.responses import (
    KeyedIdentity,
    Revocation,
    certificate_list,
    ocsp_response,
    timestamp_response,
    timestamp_token,
)

TSA_MODES = ("ok", "http-error", "garbage", "wrong-content-type", "refuse", "wrong-nonce", "wrong-imprint")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass
class PkiServices:
    """The services of one PKI, with revocation state and failure modes that tests control."""

    pki: TestPki
    ca: KeyedIdentity
    tsa: KeyedIdentity
    responder: KeyedIdentity
    revoked: dict[int, Revocation] = field(default_factory=dict)
    tsa_mode: str = "ok"
    requests: dict[str, int] = field(default_factory=lambda: {"tsa": 0, "ocsp": 0, "crl": 0})
    base_url: str = ""
    _crl_number: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    @contextlib.contextmanager
    def start(cls, pki: TestPki, *, port: int = 0) -> Iterator[PkiServices]:
        """Issue the TSA and OCSP identities (once per PKI directory) and serve on 127.0.0.1:``port`` (0: a
        free port) until the block ends."""
        services, server = cls.bind(pki, port=port)
        thread = threading.Thread(target=server.serve_forever, name="pki-services", daemon=True)
        thread.start()
        try:
            yield services
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    @classmethod
    def bind(cls, pki: TestPki, *, port: int = 0) -> tuple[PkiServices, ThreadingHTTPServer]:
        """The services and their HTTP server, listening on 127.0.0.1:``port`` but not yet serving."""
        tsa = pki.issue("tsa", "tsa") if not (pki.directory / "tsa").exists() else _existing(pki, "tsa")
        responder = (
            pki.issue("ocsp", "ocsp") if not (pki.directory / "ocsp").exists() else _existing(pki, "ocsp")
        )
        services = cls(
            pki, KeyedIdentity.load(pki.root), KeyedIdentity.load(tsa), KeyedIdentity.load(responder)
        )
        handler = type("Handler", (_Handler,), {"services": services})
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        services.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        return services, server

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/crl"

    def revoke(self, serial: int, *, at: dt.datetime | None = None, reason: str = "key_compromise") -> None:
        """Revoke ``serial`` as of ``at`` (default: now) for ``reason``; OCSP and CRL reflect it at once."""
        with self._lock:
            self.revoked[serial] = Revocation(at or utcnow(), reason)

    # --- answers ---

    def answer_tsa(self, body: bytes) -> tuple[int, str, bytes]:
        mode = self.tsa_mode
        if mode == "http-error":
            return 500, "text/plain", b"TSA out of order"
        if mode == "garbage":
            return 200, "application/timestamp-reply", b"\x30\x03\x02\x01"
        if mode == "wrong-content-type":
            return 200, "text/html", b"<html>login</html>"
        request = tsp.TimeStampReq.load(body)
        imprint = request["message_imprint"]
        if mode == "refuse":
            return 200, "application/timestamp-reply", timestamp_response(None, refused="bad_alg")
        nonce = request["nonce"].native
        if mode == "wrong-nonce":
            nonce = (nonce or 0) + 1
        if mode == "wrong-imprint":
            imprint = tsp.MessageImprint(
                {
                    "hash_algorithm": imprint["hash_algorithm"],
                    "hashed_message": bytes(len(imprint["hashed_message"].native)),
                }
            )
        token = timestamp_token(self.tsa, imprint, nonce=nonce, gen_time=utcnow())
        return 200, "application/timestamp-reply", timestamp_response(token)

    def answer_ocsp(self, body: bytes) -> tuple[int, str, bytes]:
        request = ocsp.OCSPRequest.load(body)
        with self._lock:
            revoked = dict(self.revoked)
        response = ocsp_response(
            request, issuer=self.ca.cert, responder=self.responder, revoked=revoked, now=utcnow()
        )
        return 200, "application/ocsp-response", response.dump()

    def answer_crl(self) -> tuple[int, str, bytes]:
        with self._lock:
            self._crl_number += 1
            revoked, number = dict(self.revoked), self._crl_number
        return (
            200,
            "application/pkix-crl",
            certificate_list(self.ca, revoked=revoked, now=utcnow(), number=number).dump(),
        )


def _existing(pki: TestPki, name: str) -> Identity:
    return Identity(name, pki.kind, pki.directory / name / "cert.pem", pki.directory / name / "key.pem")


class _Handler(BaseHTTPRequestHandler):
    services: ClassVar[PkiServices]

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        route = self.path.rstrip("/")
        if route == "/tsa":
            self._count("tsa")
            self._reply(*self.services.answer_tsa(body))
        elif route == "/ocsp":
            self._count("ocsp")
            self._reply(*self.services.answer_ocsp(body))
        else:
            self._reply(404, "text/plain", b"not found")

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/crl":
            self._count("crl")
            self._reply(*self.services.answer_crl())
        else:
            self._reply(404, "text/plain", b"not found")

    def _count(self, name: str) -> None:
        with self.services._lock:
            self.services.requests[name] += 1

    def _reply(self, code: int, content_type: str, data: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
        pass
