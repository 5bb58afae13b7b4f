"""Benchmark: ``sealkit verify`` vs ``pyhanko sign validate`` and poppler's ``pdfsig`` on one signed contract.

The same 3-page contract (tests/pdf_verify/contracts.py), signed by two parties with RSA-2048 test keys, is
verified by each CLI with the same trust anchor (pdfsig through an NSS database). Prints the median wall time
of each CLI and the ratios, then in-process batch throughput: ``verify_pdf`` files/s vs ``pdfsig`` files/s
(goal: at least 1/3 of pdfsig). Run: ``.venv/bin/python benchmarks/bench_verify.py [runs]``.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sealkit.pdf import verify_pdf  # noqa: E402
from tests.pdf_verify.contracts import Pki, contract_pdf, sign  # noqa: E402

BIN = Path(sys.executable).parent


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, check=False)
    return time.perf_counter() - start


def median(args: list[str], runs: int) -> float:
    wall(args)  # warm the page cache
    return statistics.median(wall(args) for _ in range(runs))


def main(runs: int = 5) -> None:
    if not shutil.which("pdfsig") or not shutil.which("certutil"):
        sys.exit("pdfsig/certutil not installed")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pki = Pki(folder / "pki", "rsa")
        signed = sign(sign(contract_pdf(), pki.signer("Buyer")), pki.signer("Supplier"), "supplier")
        pdf = folder / "contract.pdf"
        pdf.write_bytes(signed)
        root = str(pki.root.cert_path)
        nss = folder / "nss"
        nss.mkdir()
        subprocess.run(
            ["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True, capture_output=True
        )
        subprocess.run(
            ["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", root, "-d", f"sql:{nss}"],
            check=True,
            capture_output=True,
        )
        assert verify_pdf(pdf, trust=[root]).passed
        sealkit = median([str(BIN / "sealkit"), "verify", str(pdf), "--trust", root], runs)
        pyhanko = median(
            [
                str(BIN / "pyhanko"),
                "sign",
                "validate",
                "--trust",
                root,
                "--trust-replace",
                "--no-revocation-check",
                str(pdf),
            ],
            runs,
        )
        pdfsig = median(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], runs)
        print(f"CLI wall time (median of {runs}), 3-page contract with 2 RSA signatures:")
        print(f"  sealkit verify        {sealkit * 1000:7.0f} ms")
        print(f"  pyhanko sign validate {pyhanko * 1000:7.0f} ms   sealkit/pyhanko = {sealkit / pyhanko:.2f}")
        print(f"  pdfsig                {pdfsig * 1000:7.0f} ms   sealkit/pdfsig  = {sealkit / pdfsig:.2f}")

        batch = 20
        start = time.perf_counter()
        for _ in range(batch):
            verify_pdf(signed, trust=[root])
        ours = batch / (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(batch):
            subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, check=False)
        theirs = batch / (time.perf_counter() - start)
        print(f"Batch ({batch} files): verify_pdf {ours:.1f} files/s, pdfsig {theirs:.1f} files/s")
        print(f"  sealkit throughput / pdfsig = {ours / theirs:.2f} (goal >= 0.33)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
