"""``sealkit ltv-update``: embed validation data and refresh a contract's archive timestamp (PAdES B-LTA)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from sealkit_cli.common import emit, get_config, json_option

from sealkit import trust
from sealkit.errors import ConfigError, InvalidInput


@click.command("ltv-update")
@click.argument("pdf", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output PDF (default: PDF with -lta).")
@click.option("--tsa", "tsa_url", help="RFC 3161 TSA URL (default: [tsa] url or SEALKIT_TSA).")
@click.option(
    "--trust",
    "anchors",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Trust anchor (PEM/DER); repeatable (default: [trust] anchors).",
)
@json_option
def ltv_update(
    pdf: str, output: str | None, tsa_url: str | None, anchors: tuple[str, ...], as_json: bool
) -> None:
    """Add OCSP/CRL validation data and a fresh document timestamp to PDF, online.

    Run it once after signing (B-LT + B-LTA), then again before the last timestamp's TSA certificate
    expires. Nothing is written if the TSA, an OCSP responder or a CRL server fails.
    """
    # pyHanko logs validation details at WARNING; the command reports one line instead.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)
    config = get_config()
    url = tsa_url or config.tsa_url
    if not url:
        raise ConfigError("no TSA: pass --tsa URL, set SEALKIT_TSA or [tsa] url in the configuration")
    trust_anchors = list(anchors) or [str(p) for p in config.trust_anchors]
    if not trust_anchors:
        raise InvalidInput("no trust anchors: pass --trust FILE or set [trust] anchors in the configuration")
    source = Path(pdf)
    target = Path(output) if output else source.with_name(f"{source.stem}-lta{source.suffix}")
    result = trust.ltv_update(source, target, url, trust_anchors=trust_anchors)
    what = "validation data and a document timestamp" if result.signatures else "a fresh archive timestamp"
    emit(
        {"input": str(source), "tsa": url, **result.to_json()},
        as_json,
        f"{target}: added {what} (DSS: {result.ocsps} OCSP, {result.crls} CRL, {result.certs} certificates)",
    )
