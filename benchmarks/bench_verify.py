"""Benchmark: ``sealkit verify`` vs ``pyhanko sign validate`` and poppler's ``pdfsig`` on one signed contract.

The same 3-page contract (tests/pdf_verify/contracts.py), signed by two parties with RSA-2048 test keys, is
verified by each CLI with the same trust anchor (pdfsig through an NSS database). Prints the median wall time
of each CLI and the ratios (goal: sealkit at most 0.7× pyHanko), then in-process batch throughput:
``verify_pdf`` files/s (after one untimed warm-up file, as in a long batch) vs ``pdfsig`` files/s (goal: at
least 0.6× pdfsig), and the same ratio by CPU time per file (pdfsig's includes starting its process, as its
files/s does), which a loaded machine disturbs less. The CLIs run in turns (sealkit,
pyHanko, pdfsig, sealkit, …) so that a shared machine's changing load hits all of them alike; the load
average is printed with the results, and the CPU time (user + system) of each CLI, which load inflates
less. Every CLI runs as installed code runs, from bytecode: PYTHONDONTWRITEBYTECODE is dropped for them, so
the warm-up run writes sealkit's ``__pycache__`` (pyHanko's site-packages has its .pyc files already; with
the variable set, sealkit alone recompiled its ~60 modules on every run, ~150 ms of CPU).
Run: ``.venv/bin/python benchmarks/bench_verify.py [runs]``.
"""

from __future__ import annotations

import os
import resource
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


CPU: dict[str, list[float]] = {}
#: The CLIs' environment: with bytecode, like an installed package (see the module docstring).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def wall(args: list[str]) -> float:
    """Wall time of one run (its CPU time goes to :data:`CPU` under the command's name)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(Path(args[0]).name, []).append(cpu)
    return elapsed


def medians(commands: list[list[str]], runs: int) -> list[float]:
    """Median wall time of each command, run in turns."""
    for args in commands:
        wall(args)  # warm the page cache
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for args, series in zip(commands, times, strict=True):
            series.append(wall(args))
    return [statistics.median(series) for series in times]


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
        sealkit, pyhanko, pdfsig = medians(
            [
                [str(BIN / "sealkit"), "verify", str(pdf), "--trust", root],
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
                ["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)],
            ],
            runs,
        )
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"CLI wall time (median of {runs}, in turns), 3-page contract with 2 RSA signatures:")
        print(f"  sealkit verify        {sealkit * 1000:7.0f} ms")
        print(
            f"  pyhanko sign validate {pyhanko * 1000:7.0f} ms   sealkit/pyhanko = {sealkit / pyhanko:.2f}"
            " (goal <= 0.7)"
        )
        print(f"  pdfsig                {pdfsig * 1000:7.0f} ms   sealkit/pdfsig  = {sealkit / pdfsig:.2f}")
        cpu = {name: statistics.median(values) for name, values in CPU.items()}
        print(
            f"CPU time (median): sealkit {cpu['sealkit'] * 1000:.0f} ms, "
            f"pyhanko {cpu['pyhanko'] * 1000:.0f} ms   "
            f"sealkit/pyhanko = {cpu['sealkit'] / cpu['pyhanko']:.2f}"
        )

        batch = 20
        verify_pdf(signed, trust=[root])  # warm-up, untimed: lazy imports and caches are paid once per batch
        ours_time = theirs_time = ours_cpu = 0.0
        pdfsig_runs = len(CPU["pdfsig"])
        for _ in range(batch):  # in turns too
            start, cpu_start = time.perf_counter(), time.process_time()
            verify_pdf(signed, trust=[root])
            ours_time += time.perf_counter() - start
            ours_cpu += time.process_time() - cpu_start
            theirs_time += wall(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)])
        ours, theirs = batch / ours_time, batch / theirs_time
        theirs_cpu = sum(CPU["pdfsig"][pdfsig_runs:])
        print(f"Batch ({batch} files): verify_pdf {ours:.1f} files/s, pdfsig {theirs:.1f} files/s")
        print(f"  sealkit throughput / pdfsig = {ours / theirs:.2f} (goal >= 0.6)")
        print(
            f"  CPU per file: verify_pdf {ours_cpu / batch * 1000:.1f} ms, pdfsig"
            f" {theirs_cpu / batch * 1000:.1f} ms (its process included)"
            f"   by CPU time = {theirs_cpu / ours_cpu:.2f}"
        )
        now = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"Load average after the CLI runs: {load}; after the batch: {now}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
