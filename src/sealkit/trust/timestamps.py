"""An RFC 3161 timestamp client that pyHanko signs with, and that fails with one clear line.

:class:`TsaClient` is a pyHanko :class:`~pyhanko.sign.timestamps.HTTPTimeStamper`: pass it as
``sign_pdf(..., timestamper=make_timestamper(url))`` for PAdES B-T, or to :class:`~pyhanko.sign.signers.
PdfTimeStamper` for document timestamps. Every failure becomes a :class:`~sealkit.errors.ServiceError`
naming the TSA and the cause — unreachable, timed out, HTTP error, not a timestamp reply, refused, wrong
nonce, wrong imprint — so that signing stops before the output file is renamed into place.

**Message imprint.** The imprint is computed with the signature's own digest: SHA-256 for RSA and ECDSA
signatures, SM3 for SM2-with-SM3 signatures (GM/T 0033, as Chinese TSAs expect). A TSA that does not
support SM3 answers ``badAlg``, which is reported as such. The token's own signature algorithm is the
TSA's business (RSA, ECDSA or SM2-with-SM3): validation handles all three.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from asn1crypto import cms, core, tsp
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from sealkit.errors import ServiceError

DEFAULT_TIMEOUT = 10.0


class TsaClient(HTTPTimeStamper):
    """pyHanko's HTTP timestamper with strict response checks and :class:`ServiceError` failures."""

    def __init__(
        self, url: str, *, timeout: float = DEFAULT_TIMEOUT, auth: tuple[str, str] | None = None
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ServiceError(f"TSA URL {url!r} is not an http(s) URL")
        super().__init__(url, timeout=timeout, auth=auth)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            return await super().async_request_tsa_response(req)
        except TimestampRequestError as exc:
            raise ServiceError(f"TSA {self.url}: {_describe(exc.__cause__ or exc)}") from None
        except TimeoutError:
            raise ServiceError(f"TSA {self.url}: no answer within {self.timeout:g} s") from None
        except ValueError as exc:  # asn1crypto could not even load the reply
            raise ServiceError(f"TSA {self.url} sent a malformed reply: {_describe(exc)}") from None

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        nonce, req = self.request_cms(message_digest, md_algorithm)  # type: ignore[no-untyped-call]
        response = await self.async_request_tsa_response(req)
        return check_response(response, nonce=nonce, digest=message_digest, url=self.url)


def make_timestamper(
    url: str, *, timeout: float = DEFAULT_TIMEOUT, auth: tuple[str, str] | None = None
) -> TsaClient:
    """The timestamper for ``url``: give it to ``sign_pdf(timestamper=…)`` or to the LTV functions."""
    return TsaClient(url, timeout=timeout, auth=auth)


def check_response(
    response: tsp.TimeStampResp, *, nonce: int | None, digest: bytes, url: str
) -> cms.ContentInfo:
    """The token of a TSA reply, after checking status, nonce and imprint; :class:`ServiceError` otherwise."""
    try:
        status_info = _status_info(response)
        if status_info["status"].native not in ("granted", "granted_with_mods"):
            text = "; ".join(status_info["status_string"].native or []) or "no reason given"
            fail = ", ".join(sorted(status_info["fail_info"].native or [])) or "unspecified"
            raise ServiceError(f"TSA {url} refused the request: {text} ({fail})")
        token = response["time_stamp_token"]
        if token["content_type"].native != "signed_data":
            raise ServiceError(f"TSA {url} answered without a timestamp token")
        tst_info = token["content"]["encap_content_info"]["content"].parsed
        got_nonce = tst_info["nonce"].native
        imprint = tst_info["message_imprint"]["hashed_message"].native
    except ServiceError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ServiceError(f"TSA {url} sent a malformed reply: {_describe(exc)}") from None
    if nonce is not None and got_nonce != nonce:
        raise ServiceError(f"TSA {url} answered with the wrong nonce (replayed or foreign reply)")
    if imprint != digest:
        raise ServiceError(f"TSA {url} timestamped other data than requested (message imprint mismatch)")
    assert isinstance(token, cms.ContentInfo)
    return token


def _status_info(response: tsp.TimeStampResp) -> tsp.PKIStatusInfo:
    """The PKIStatusInfo, also of a refusal (no token), which asn1crypto's TimeStampResp will not parse."""
    try:
        status = response["status"]
    except ValueError:
        status = tsp.PKIStatusInfo.load(core.Sequence.load(response.dump())[0].dump())
    assert isinstance(status, tsp.PKIStatusInfo)
    return status


def _describe(exc: BaseException) -> str:
    """One line for a transport error."""
    if isinstance(exc, aiohttp.ContentTypeError):
        return "the reply is not application/timestamp-reply"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status} {exc.message}".strip()
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out"
    text: Any = str(exc) or type(exc).__name__
    return " ".join(str(text).split())
