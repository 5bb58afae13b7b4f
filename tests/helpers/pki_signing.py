"""Contracts signed for the trust tests: a one-page PDF, signed by a test identity through sealkit.pdf."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sealkit.dev.pki import Identity, TestPki
from sealkit.dev.sample_contract import blank_pdf
from sealkit.pdf import sign_pdf
from sealkit.ukey import open_key

__all__ = ["blank_pdf", "sign_contract"]


def sign_contract(
    source: Path, output: Path, signer: Identity, pki: TestPki, *, timestamper: Any = None
) -> Path:
    """Sign ``source`` into ``output`` as ``signer`` (PAdES; B-T with a ``timestamper``)."""
    with open_key(signer.keyref) as key:
        sign_pdf(
            source, output, key, cert=signer.cert_path, chain=[pki.root.cert_path], timestamper=timestamper
        )
    return output
