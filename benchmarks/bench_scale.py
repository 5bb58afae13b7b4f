"""Benchmark: signing and verifying large documents, ``sealkit`` vs pyHanko's CLI in the same run (issue 13).

Documents (generated here): sample contracts of 3, 300 and 3,000 pages, and 20 pages with 74 MiB of images
(``--big``: also 500 MiB of images, for memory). Peer: ``pyhanko sign addsig pemder`` (invisible signature,
new field, same RSA key) and ``pyhanko sign validate`` (same trust anchor, no revocation check). sealkit
signs with a 40 mm seal at the keyword of the last page (``--occurrence last``); on the 300-page contract
also at the footer keyword of every page (``--occurrence all``, 301 seals) and with a cross-page seal in
groups of 20 (``--cross-page --cross-page-group 20``). Every command runs in a fresh child; its peak RSS is
that child's own high-water mark (GNU time's %M); its wall time and its CPU time (user + system: what the
command itself costs, whatever else the shared machine runs) are the least of ``runs`` runs; sealkit and
pyHanko run in turns, so both see the same load.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--runs 3] [--big] [--only NAME]``.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import SUPPLIER_BLOCK, write_sample_contract

BIN = Path(sys.executable).parent
KEYWORD_ALL = "合同编号"  # in the footer of every page of the sample contract (and twice on page 1)
IMAGE_KEYWORD = "SEAL HERE"


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall time (s), CPU time (user + system, s) and the child's own peak RSS (MiB) of one run of ``args``.

    The RSS comes from GNU time, a small process that forks and execs the command: a child forked straight
    from this (large) benchmark process would inherit its high-water mark across exec.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%U %S %M", *args], env=env, capture_output=True
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{args[0]} failed: {done.stderr.decode(errors='replace').strip()[-400:]}")
        user, system, peak_kib = report.read().split()[-3:]
    return elapsed, float(user) + float(system), int(peak_kib) / 1024


Measured = tuple[float, float, float]


def measure(ours: list[str], peer: list[str], env: dict[str, str], runs: int) -> tuple[Measured, Measured]:
    """(fastest wall time, least CPU time, largest peak RSS) of each command over ``runs`` fresh children,
    run in turns so that both see the same load on a shared machine."""
    results: tuple[list[Measured], list[Measured]] = ([], [])
    for _ in range(runs):
        results[0].append(run_child(ours, env))
        results[1].append(run_child(peer, env))
    return (
        (min(r[0] for r in results[0]), min(r[1] for r in results[0]), max(r[2] for r in results[0])),
        (min(r[0] for r in results[1]), min(r[1] for r in results[1]), max(r[2] for r in results[1])),
    )


def image_document(path: Path, pages: int, total_mib: int) -> Path:
    """``pages`` pages, each a full-page RGB image of random pixels (stored uncompressed: ``total_mib`` in
    all), the last page with the Helvetica text ``SEAL HERE``; written as it goes, not held in memory."""
    per_page = total_mib * 1024 * 1024 // pages
    width = 1024
    height = per_page // (width * 3)
    size = width * height * 3
    offsets: list[int] = []
    with path.open("wb") as out:

        def obj(body: bytes, stream: bytes | None = None) -> int:
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % len(offsets) + body)
            if stream is not None:
                out.write(b"\nstream\n" + stream + b"\nendstream")
            out.write(b"\nendobj\n")
            return len(offsets)

        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = " ".join(f"{3 + 4 * i} 0 R" for i in range(pages)).encode()
        obj(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))
        chunk = os.urandom(1 << 20)
        for number in range(pages):
            first = 3 + 4 * number
            obj(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources"
                b" << /XObject << /Im0 %d 0 R >> /Font << /F1 %d 0 R >> >> >>"
                % (first + 2, first + 1, first + 3)
            )
            offsets.append(out.tell())
            out.write(
                b"%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                b"/BitsPerComponent 8 /Length %d >>\nstream\n" % (len(offsets), width, height, size)
            )
            left = size
            while left:
                piece = chunk[: min(left, len(chunk))]
                out.write(piece)
                left -= len(piece)
            out.write(b"\nendstream\nendobj\n")
            text = (
                b"BT /F1 14 Tf 380 150 Td (%s) Tj ET" % IMAGE_KEYWORD.encode() if number == pages - 1 else b""
            )
            content = b"q 555 0 0 700 20 100 cm /Im0 Do Q " + text
            compressed = zlib.compress(content)
            obj(b"<< /Length %d /Filter /FlateDecode >>" % len(compressed), compressed)
            obj(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref))
    return path


def seal_png(path: Path) -> Path:
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 392, 392), outline=(215, 0, 15, 255), width=16)
    draw.regular_polygon((200, 200, 70), 5, fill=(215, 0, 15, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def row(document: str, what: str, ours: Measured, peer: Measured) -> None:
    """One line: wall time, CPU time and peak RSS of sealkit and of pyHanko, and their ratios."""
    print(
        f"{document:<24} {what:<26} {ours[0]:6.2f}s {peer[0]:6.2f}s {ours[0] / peer[0]:5.2f}×"
        f" {ours[1]:6.2f}s {peer[1]:6.2f}s {ours[1] / peer[1]:5.2f}×"
        f" {ours[2]:6.0f} {peer[2]:6.0f} {ours[2] / peer[2]:5.2f}×",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also the 500 MiB image document (slow)")
    parser.add_argument("--only", help="only the document whose name contains this")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = dict(os.environ, SEALKIT_HOME=str(tmp / "home"))
        pki = make_test_pki(tmp / "pki", "rsa")
        signer = pki.issue("bench")
        root = str(pki.root.cert_path)
        seal = seal_png(tmp / "seal.png")
        last = ["--occurrence", "last"]
        documents: list[tuple[str, Path, str, list[tuple[str, list[str]]]]] = [
            ("3 pages", write_sample_contract(tmp / "c3.pdf", pages=3), SUPPLIER_BLOCK, []),
            (
                "300 pages",
                write_sample_contract(tmp / "c300.pdf", pages=300),
                SUPPLIER_BLOCK,
                [
                    ("--occurrence all (301)", ["--at-text", KEYWORD_ALL, "--occurrence", "all"]),
                    ("--cross-page-group 20", ["--page", "1", "--cross-page", "--cross-page-group", "20"]),
                ],
            ),
            ("3,000 pages", write_sample_contract(tmp / "c3000.pdf", pages=3000), SUPPLIER_BLOCK, []),
            ("20 pages, 74 MiB images", image_document(tmp / "img74.pdf", 20, 74), IMAGE_KEYWORD, []),
        ]
        if options.big:
            big = image_document(tmp / "img500.pdf", 40, 500)
            documents.append(("40 pages, 500 MiB images", big, IMAGE_KEYWORD, []))
        if options.only:
            documents = [d for d in documents if options.only in d[0]]
        key = ["--key", signer.keyref, "--cert", str(signer.cert_path)]
        print(
            f"{'document':<24} {'what':<26} {'wall':>7} {'peer':>7} {'ratio':>6}"
            f" {'CPU':>7} {'peer':>7} {'ratio':>6} {'RSS':>6} {'peer':>6} {'ratio':>6}  (MiB)"
        )
        for name, pdf, keyword, variants in documents:
            peer_out = tmp / "peer.pdf"
            peer_sign = [str(BIN / "pyhanko"), "sign", "addsig", "--field", "Sig1", "pemder", "--no-pass"]
            peer_sign += [
                "--key",
                str(signer.key_path),
                "--cert",
                str(signer.cert_path),
                str(pdf),
                str(peer_out),
            ]
            run_child(peer_sign, env)  # warm the page cache
            peer_verify = [str(BIN / "pyhanko"), "sign", "validate", "--trust", root, "--trust-replace"]
            peer_verify += ["--no-revocation-check", str(peer_out)]
            ours_out = tmp / "ours.pdf"
            seal_args = ["--seal-image", str(seal), "--seal-size", "40,40"]
            for label, ask in [("keyword, last page", ["--at-text", keyword, *last]), *variants]:
                ours_sign = [
                    str(BIN / "sealkit"),
                    "sign",
                    str(pdf),
                    "-o",
                    str(ours_out),
                    *key,
                    *seal_args,
                    *ask,
                ]
                row(name, "sign: " + label, *measure(ours_sign, peer_sign, env, options.runs))
                ours_verify = [str(BIN / "sealkit"), "verify", str(ours_out), "--trust", root]
                row("", "verify that", *measure(ours_verify, peer_verify, env, options.runs))


if __name__ == "__main__":
    main()
