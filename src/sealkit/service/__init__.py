"""``sealkit serve``: sealkit as an HTTP service for web platforms (FastAPI on uvicorn, OpenAPI at /docs).

The library does the work (:mod:`sealkit.flows`, :mod:`sealkit.envelope`, the seal registry); this package
adds what a shared service needs: clients (by API key or TLS client certificate) allowed only their key and
seal aliases and operations (:mod:`~sealkit.service.settings`, :mod:`~sealkit.service.auth`,
:mod:`~sealkit.service.tls`), retention of kept bids (:mod:`~sealkit.service.retention`), request bodies
streamed to temporary files under a size limit, one signing at a time per key, timeouts, an access log and
Prometheus metrics (:mod:`~sealkit.service.runtime`), and the routes (``routes_*``). :func:`create_app`
builds the application from a :class:`~sealkit.config.Config` whose ``[service]`` section is described in
docs/deploy.md.

FastAPI and uvicorn are the optional extra ``sealkit[service]``.
"""

from __future__ import annotations

from sealkit.service.app import create_app
from sealkit.service.auth import hash_api_key, new_api_key
from sealkit.service.settings import ClientSpec, KeySpec, ServiceSettings
from sealkit.service.tls import client_id_lines, uvicorn_tls_options

__all__ = [
    "ClientSpec",
    "KeySpec",
    "ServiceSettings",
    "client_id_lines",
    "create_app",
    "hash_api_key",
    "new_api_key",
    "uvicorn_tls_options",
]
