"""``/v1/contracts``: sign (PDF in, signed PDF out), verify (JSON, or the report document: a PDF signed by
the configured verifier key, or HTML), file (the filing record)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from sealkit.service.app import context, discard, error_body, safe_name
from sealkit.service.auth import Refused, allowed
from sealkit.service.runtime import body_to_file, in_thread

router = APIRouter(prefix="/v1/contracts", tags=["contracts"])

PDF_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The PDF, as the raw request body.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def _body(request: Request, scratch: Path, name: str | None) -> Path:
    target = scratch / safe_name(name, "contract.pdf")
    return await body_to_file(request, target, context(request).settings.max_body)


@router.post(
    "/sign",
    openapi_extra=PDF_BODY,
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}, "description": "The signed PDF."}},
)
async def sign(
    request: Request,
    key: str | None = Query(None, description="Key alias (default: the client's only key)."),
    seal: str | None = Query(None, description="Seal alias: imprint and SESeal from the registry."),
    field: str | None = Query(None, description="Prepared field to fill (default: whose turn it is)."),
    page: int | None = Query(None, description="Page for rect (from 1; -1 is the last)."),
    rect: str | None = Query(None, description="X,Y,W,H in mm from the page's lower-left."),
    at_text: str | None = Query(None, description="Centre the seal on this text."),
    offset: str = Query("0,0", description="Move the seal DX,DY mm from the text."),
    occurrence: Literal["first", "last", "all"] = "first",
    cross_page: str | None = Query(None, description="'all' or pages like 1,2,3 for a cross-page seal."),
    invisible: bool = False,
    reason: str | None = None,
    location: str | None = None,
    certify: bool = False,
    timestamp: bool = Query(False, description="Add a signature timestamp from the configured TSA (B-T)."),
    ltv: bool = Query(False, description="Also embed validation data and a document timestamp (B-LTA)."),
    name: str | None = Query(None, description="The file's name, for the reports."),
) -> FileResponse:
    """Sign the PDF in the body with the client's key (and seal); the answer is the signed PDF."""
    from sealkit.flows import SealPlacement, parse_numbers, parse_pages, sign_contract

    ctx = context(request)
    client = ctx.authorise(request, "sign")
    if key is None:
        if len(client.keys) != 1:
            raise Refused(400, "InvalidInput", "give key=ALIAS: this client has several keys")
        key = next(iter(client.keys))
    allowed(client, "key", key, client.keys)
    if seal is not None:
        allowed(client, "seal", seal, client.seals)
    spec = ctx.settings.keys[key]
    pages = parse_pages(cross_page or None, "cross_page")
    where = SealPlacement(
        page=page,
        rect=parse_numbers(rect, 4, "rect") if rect is not None else None,  # type: ignore[arg-type]
        at_text=at_text,
        offset=parse_numbers(offset, 2, "offset"),  # type: ignore[arg-type]
        occurrence=occurrence,
        cross_page=pages,
    )
    timeout = ctx.settings.timeout_s
    with ctx.in_flight.enter(client.name):
        scratch = ctx.scratch()
        try:
            source = await _body(request, scratch, name)
            output = scratch / "signed.pdf"

            def work() -> Any:
                with ctx.keys.use(key, timeout) as handle:
                    return sign_contract(
                        source,
                        output,
                        key=handle,
                        config=ctx.flow_config,
                        cert=spec.cert,
                        chain=spec.chain,
                        field_name=field,
                        seal_id=ctx.settings.seals[seal] if seal else None,
                        placement=where,
                        invisible=invisible,
                        reason=reason,
                        location=location,
                        certify=certify,
                        tsa="" if timestamp or ltv else None,
                        ltv=ltv,
                        actor=client.name,  # the use register names the client that had the seal used
                    )

            result = await in_thread(work, timeout)
        except BaseException:
            discard(scratch)
            raise
    ctx.metrics.events["sign"] += 1
    headers = {
        "X-Sealkit-Sha256": result.sha256,
        "X-Sealkit-Field": quote(result.signature.field),
        "X-Sealkit-Level": result.level,
    }
    if result.seal_id:
        headers["X-Sealkit-Seal"] = result.seal_id
    return FileResponse(
        output,
        media_type="application/pdf",
        headers=headers,
        background=BackgroundTask(discard, scratch),
    )


async def _verified(
    request: Request, operation: str, name: str | None, online: bool, require_seal: bool | None = None
) -> tuple[Path, Any]:
    """The body on disk and its verification report (the scratch directory is the file's parent);
    ``require_seal`` None: ``[verify] require_seal``."""
    from sealkit.flows import verify_contract

    ctx = context(request)
    client = ctx.authorise(request, operation)
    with ctx.in_flight.enter(client.name):
        scratch = ctx.scratch()
        try:
            source = await _body(request, scratch, name)
            report = await in_thread(
                lambda: verify_contract(
                    source, config=ctx.flow_config, online=online, require_seal=require_seal
                ),
                ctx.settings.timeout_s,
            )
        except BaseException:
            discard(scratch)
            raise
    ctx.metrics.events[operation] += 1
    return source, report


REPORT_TYPES = {"application/pdf": "pdf", "text/html": "html", "application/json": "json"}


def _wanted(format_: str | None, accept: str) -> str:
    """``json``, ``pdf`` or ``html``: the ``format`` parameter, else the first type in Accept we make."""
    if format_ is not None:
        return format_
    for item in accept.split(","):
        kind = REPORT_TYPES.get(item.split(";")[0].strip().lower())
        if kind:
            return kind
    return "json"


@router.post(
    "/verify",
    openapi_extra=PDF_BODY,
    responses={
        200: {
            "description": "The verification report: JSON, or the report document (PDF signed by the "
            "verifier key, or HTML) with ?format= or Accept.",
            "content": {"application/json": {}, "application/pdf": {}, "text/html": {}},
        }
    },
)
async def verify(
    request: Request,
    name: str | None = None,
    online: bool = False,
    format: Literal["json", "pdf", "html"] | None = Query(  # noqa: A002 - the parameter's public name
        None, description="json (default), or the report document: pdf (signed) or html; or use Accept."
    ),
    require_seal: bool | None = None,
) -> Any:
    """Verify every signature and seal of the PDF in the body; the answer is the report (200 whatever the
    verdict: read ``indication``, TOTAL-PASSED only when everything passed). As a document, the verdict is
    in the ``X-Sealkit-Indication`` header and the document's SHA-256 in ``X-Sealkit-Report-Sha256``.
    ``require_seal``: every signature must carry an electronic seal (default ``[verify] require_seal``)."""
    from sealkit.report import make_report

    wanted = _wanted(format, request.headers.get("accept", ""))
    if wanted == "pdf":
        from sealkit.report import require_verifier_key

        require_verifier_key(context(request).flow_config)  # refused before the body is read
    source, report = await _verified(request, "verify", name, online, require_seal)
    try:
        if wanted == "json":
            data: dict[str, Any] = report.to_dict()
            return data
        ctx = context(request)
        body = source.read_bytes()
        made = await in_thread(
            lambda: make_report(report, body, wanted, config=ctx.flow_config), ctx.settings.timeout_s
        )
    finally:
        discard(source.parent)
    headers = {
        "X-Sealkit-Indication": report.indication,
        "X-Sealkit-Report-Sha256": made.sha256,
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(Path(source.stem).name)}.report.{wanted}",
    }
    return Response(made.data, media_type=made.media_type, headers=headers)


@router.post("/file", openapi_extra=PDF_BODY)
async def file(
    request: Request, name: str | None = None, online: bool = False, allow_unsealed: bool = False
) -> JSONResponse:
    """Verify the contract, then answer its filing record; 422 with the report unless TOTAL-PASSED. Every
    signature must carry an electronic seal unless ``allow_unsealed`` (as ``sealkit file``)."""
    from sealkit.pdf import filing_record

    source, report = await _verified(request, "file", name, online, require_seal=not allow_unsealed)
    try:
        if not report.passed:
            code = 3 if report.indication == "TOTAL-FAILED" else 4
            kind = "VerificationFailed" if code == 3 else "VerificationIndeterminate"
            message = f"{source.name} is not filed: verification is {report.indication}"
            return JSONResponse(error_body(kind, message, code, report=report.to_dict()), status_code=422)
        record = filing_record(source.read_bytes(), source.name, report)
    finally:
        discard(source.parent)
    return JSONResponse(dict(record))
