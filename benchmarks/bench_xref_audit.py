"""Benchmark: the xref audit (``sealkit.pdf.xref_audit.audit_xref``) against SHA-256 of the same file.

Peer: ``hashlib.file_digest(f, "sha256")`` over the whole file — one pass over every byte in C, which
``verify_pdf`` makes anyway for the report; the last column is the audit's share of a whole in-process
``verify_pdf`` of the same file (trust anchor given, offline). Documents (generated here): the 3-page
test contract, signed, and a 20-page file with ~100 MiB of incompressible image data, signed. Both run
on a read-only memory map, as in ``verify_pdf``; the least CPU time (user + system of this process)
of ``--runs`` runs is reported.

Run: ``.venv/bin/python benchmarks/bench_xref_audit.py [--runs 5] [--mib 100]``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import mmap
import os
import tempfile
import time
from pathlib import Path

from sealkit.pdf import verify_pdf
from sealkit.pdf.xref_audit import audit_xref


def image_pdf(pages: int, mib: int) -> bytes:
    """``pages`` pages, each drawing one image of ``mib / pages`` MiB of random (incompressible) data."""
    objects: dict[int, bytes] = {1: b"<< /Type /Catalog /Pages 2 0 R >>"}
    kids, number = [], 3
    for index in range(pages):
        data = os.urandom(mib * 2**20 // pages)
        objects[number] = (
            b"<< /Type /XObject /Subtype /Image /Width 1024 /Height 1024 /ColorSpace /DeviceRGB"
            b" /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(data)
            + data
            + b"\nendstream"
        )
        text = b"q 500 0 0 500 50 50 cm /Im0 Do Q BT /F1 12 Tf 72 800 Td (Page %d) Tj ET" % index
        objects[number + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
        objects[number + 2] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
            b" /Resources << /XObject << /Im0 %d 0 R >> >> >>" % (number + 1, number)
        )
        kids.append(number + 2)
        number += 3
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), pages)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for key in sorted(objects):
        offsets[key] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (key, objects[key]))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % number)
    for key in range(1, number):
        out.write(b"%010d 00000 n \n" % offsets[key])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (number, xref))
    return out.getvalue()


def cpu(function, runs: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mib", type=int, default=100)
    args = parser.parse_args()
    from tests.pdf_verify.contracts import Pki, contract_pdf, sign

    with tempfile.TemporaryDirectory() as folder:
        pki = Pki(Path(folder), "rsa")
        signer = pki.signer("Bench")
        box = (10, 10, 110, 60)
        documents = {
            "3-page contract": sign(contract_pdf(), signer),
            f"{args.mib} MiB of images": sign(image_pdf(20, args.mib), signer, "s", new_field_box=box),
        }
        columns = ("size", "audit CPU s", "sha256 CPU s", "ratio", "of verify")
        print(f"{'document':<22} " + " ".join(f"{c:>12}" for c in columns))
        for name, data in documents.items():
            path = Path(folder) / "doc.pdf"
            path.write_bytes(data)
            with path.open("rb") as handle:
                view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                assert not audit_xref(view).findings  # type: ignore[arg-type]
                ours = cpu(lambda: audit_xref(view), args.runs)  # type: ignore[arg-type]  # noqa: B023
                peer = cpu(lambda: (handle.seek(0), hashlib.file_digest(handle, "sha256")), args.runs)  # noqa: B023
                view.close()
            whole = cpu(lambda: verify_pdf(path, trust=[pki.root.cert_path]), args.runs)  # noqa: B023
            values = (
                f"{len(data)}",
                f"{ours:.4f}",
                f"{peer:.4f}",
                f"{ours / peer:.2f}",
                f"{ours / whole:.1%}",
            )
            print(f"{name:<22} " + " ".join(f"{v:>12}" for v in values))


if __name__ == "__main__":
    main()
