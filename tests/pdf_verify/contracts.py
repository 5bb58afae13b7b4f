# ruff: noqa: E501 - long PDF literals and assertions read better on one line
"""Test material: a small contract PDF written byte by byte, test PKIs, and pyHanko signing.

The contract has three pages of text, a filled text field ``amount`` and two empty signature fields
(``buyer`` and ``supplier``) with widgets on the last page — the shape sealkit's ``prepare`` produces.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from sealkit.dev.pki import make_test_pki


def contract_pdf(pages: int = 3) -> bytes:
    """A deterministic contract PDF (no signatures yet)."""
    objects: dict[int, bytes] = {}
    page_ids = [10 + 2 * i for i in range(pages)]
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>"
    objects[2] = (
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % pages
    )
    objects[3] = b"<< /Fields [5 0 R 6 0 R 7 0 R] /DR << /Font << /Helv 4 0 R >> >> /DA (/Helv 10 Tf 0 g) >>"
    objects[4] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    last = page_ids[-1]
    objects[5] = (
        b"<< /FT /Tx /T (amount) /V (100000.00) /DA (/Helv 10 Tf 0 g) /Type /Annot /Subtype /Widget"
        b" /Rect [300 700 500 720] /P %d 0 R /F 4 /AP << /N 8 0 R >> >>" % page_ids[0]
    )
    objects[6] = (
        b"<< /FT /Sig /T (buyer) /Type /Annot /Subtype /Widget /Rect [72 100 222 200] /P %d 0 R /F 4 >>"
        % last
    )
    objects[7] = (
        b"<< /FT /Sig /T (supplier) /Type /Annot /Subtype /Widget /Rect [300 100 450 200] /P %d 0 R /F 4 >>"
        % last
    )
    ap = b"/Tx BMC BT /Helv 10 Tf 2 6 Td (100000.00) Tj ET EMC"
    objects[8] = (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 20] /Resources << /Font << /Helv 4 0 R >> >>"
        + (b" /Length %d >>\nstream\n%s\nendstream" % (len(ap), ap))
    )
    for index, page in enumerate(page_ids):
        text = f"BT /Helv 12 Tf 72 740 Td (Procurement contract No. 2024-17, page {index + 1}) Tj ET".encode()
        if index == 0:
            text += b"\nBT /Helv 11 Tf 72 705 Td (Contract amount, CNY:) Tj ET"
        annots = b" /Annots [5 0 R]" if index == 0 else b""
        if page == last:
            annots = b" /Annots [6 0 R 7 0 R]"
        objects[page] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
            b" /Resources << /Font << /Helv 4 0 R >> >>%s >>" % (page + 1, annots)
        )
        objects[page + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, objects[number]))
    size = max(objects) + 1
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        if number in offsets:
            out.write(b"%010d 00000 n \n" % offsets[number])
        else:
            out.write(b"0000000000 65535 f \n")
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


class Pki:
    """An RSA or P-256 test PKI with a root and named signers (made once per test session)."""

    def __init__(self, directory: Path, kind: str = "rsa") -> None:
        self.pki = make_test_pki(directory, kind)
        self.root = self.pki.root
        self._signers: dict[str, signers.SimpleSigner] = {}

    def identity(self, name: str, **kwargs):
        return self.pki.issue(name, "sign", **kwargs)

    def signer(self, name: str, **kwargs) -> signers.SimpleSigner:
        key = (name, tuple(sorted(kwargs.items())))
        if key not in self._signers:
            ident = self.identity(name, **kwargs)
            loaded = signers.SimpleSigner.load(
                str(ident.key_path), str(ident.cert_path), ca_chain_files=(str(self.root.cert_path),)
            )
            assert loaded is not None
            self._signers[key] = loaded
        return self._signers[key]


def sign(
    data: bytes,
    signer: signers.SimpleSigner,
    field: str = "buyer",
    *,
    new_field_box: tuple[int, int, int, int] | None = None,
    md_algorithm: str = "sha256",
    signing_time: dt.datetime | None = None,
) -> bytes:
    """Sign ``data`` in ``field`` (incrementally) and return the signed file."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    if new_field_box is not None:
        append_signature_field(writer, SigFieldSpec(field, box=new_field_box, on_page=-1))
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm=md_algorithm, subfilter=None)
    pdf_signer = signers.PdfSigner(meta, signer=signer)
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out)
    return out.getvalue()
