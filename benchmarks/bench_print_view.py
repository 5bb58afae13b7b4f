"""Benchmark: what the ``print-view`` check (:mod:`sealkit.pdf.print_view`) adds to ``verify_pdf``.

The 3-page contract of tests/pdf_verify/contracts.py, signed by two parties (RSA-2048 test keys), is
verified in-process in turns with the check and without it (the peer: the same verifier with
``print_view_checks`` replaced by a no-op), after one untimed warm-up each. Prints the median time of each and
their ratio, and the median time of the check alone over every revision of the file.
Run: ``.venv/bin/python benchmarks/bench_print_view.py [runs]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sealkit.pdf import verify_pdf, verify_signature  # noqa: E402
from sealkit.pdf.print_view import _Revision  # noqa: E402
from tests.pdf_verify.contracts import Pki, contract_pdf, sign  # noqa: E402


def main(runs: int) -> None:
    pki = Pki(Path(tempfile.mkdtemp(prefix="bench-pv-")), "rsa")
    data = sign(sign(contract_pdf(), pki.signer("Buyer Ltd"), "buyer"), pki.signer("Supplier Co"), "supplier")
    trust = [pki.root.cert_path]
    real = verify_signature.print_view_checks

    def without(*args: object) -> None:
        return None

    timings: dict[str, list[float]] = {"with": [], "without": []}
    for function in (real, without):
        verify_signature.print_view_checks = function  # type: ignore[assignment]
        assert verify_pdf(data, trust=trust).passed  # warm-up
    for _ in range(runs):
        for label, function in (("with", real), ("without", without)):
            verify_signature.print_view_checks = function  # type: ignore[assignment]
            start = time.perf_counter()
            verify_pdf(data, trust=trust)
            timings[label].append(time.perf_counter() - start)
    verify_signature.print_view_checks = real

    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    revisions = reader.xrefs.total_revisions
    alone = []
    for _ in range(runs):
        start = time.perf_counter()
        for revision in range(revisions):
            _Revision(reader, data, [len(data)] * revisions, revision).findings()
        alone.append(time.perf_counter() - start)
    with_, without_ = statistics.median(timings["with"]), statistics.median(timings["without"])
    print(
        f"verify_pdf, 2 signatures: {with_ * 1000:.1f} ms with print-view, {without_ * 1000:.1f} ms without"
    )
    print(f"ratio with/without: {with_ / without_:.3f}")
    print(f"print-view alone over all {revisions} revisions: {statistics.median(alone) * 1000:.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
