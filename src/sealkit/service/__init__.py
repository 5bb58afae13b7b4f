"""``sealkit serve``: sealkit as an HTTP service for web platforms (FastAPI on uvicorn, OpenAPI at /docs).

The library does the work (:mod:`sealkit.flows`, :mod:`sealkit.envelope`, the seal registry); this package
adds what a shared service needs: API-key clients allowed only their key and seal aliases and operations
(:mod:`~sealkit.service.settings`, :mod:`~sealkit.service.auth`), request bodies streamed to temporary files
under a size limit, one signing at a time per key, timeouts, an access log and Prometheus metrics
(:mod:`~sealkit.service.runtime`), and the routes (``routes_*``). :func:`create_app` builds the application
from a :class:`~sealkit.config.Config` whose ``[service]`` section is described in docs/deploy.md.

FastAPI and uvicorn are the optional extra ``sealkit[service]``.
"""

from __future__ import annotations

from sealkit.service.app import create_app
from sealkit.service.auth import hash_api_key, new_api_key
from sealkit.service.settings import ClientSpec, KeySpec, ServiceSettings

__all__ = ["ClientSpec", "KeySpec", "ServiceSettings", "create_app", "hash_api_key", "new_api_key"]
