"""Benchmark: OFD sign and verify (sealkit.ofd) for a 3-page and a 300-page contract.

No other OFD signer runs on this machine (a JVM is installed but ofdrw is not, and its Maven repository is
out of reach), so the named peer is
sealkit's own PAdES path on a PDF of the same contract and page count, with the same SM2 key and anchors:
``sign_pdf``/``verify_pdf`` against ``sign_ofd``/``verify_ofd``, measured in the same run. Prints the median
wall time of each (in-process) and the OFD/PDF ratios.
Run: ``.venv/bin/python benchmarks/bench_ofd.py [runs]``.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sealkit.dev.pki import make_test_pki  # noqa: E402
from sealkit.dev.sample_contract import write_sample_contract  # noqa: E402
from sealkit.dev.sample_ofd import sample_contract_ofd  # noqa: E402
from sealkit.ofd import sign_ofd, verify_ofd  # noqa: E402
from sealkit.pdf import Placement, SealAppearance, sign_pdf, verify_pdf  # noqa: E402
from sealkit.seal import SealSpec, make_seal, render_seal  # noqa: E402
from sealkit.ukey import open_key  # noqa: E402

BLOCK = "供应商（乙方）（盖章）："


def median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        signing = make_test_pki(folder / "signing", "sm2")
        sealing = make_test_pki(folder / "sealing", "sm2", name="Seal Authority Root")
        signer, maker = signing.issue("supplier"), sealing.issue("maker", "seal-maker")
        image = render_seal("contract", "某某信息技术有限公司")
        now = dt.datetime.now(dt.UTC)
        spec = SealSpec(
            "37010200000001",
            "合同专用章",
            [signer.certificate.dump()],
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=30),
            image.png,
            40,
            40,
        )
        with open_key(maker.keyref) as maker_key:
            seal = make_seal(spec, maker_key, maker.certificate)
        trust, seal_trust = [signing.root.cert_path], [sealing.root.cert_path]
        print(f"median of {runs} runs, in-process, SM2 key in a file; peer: sealkit's PDF path, same pages")
        print(
            f"{'pages':>5}  {'OFD sign':>9}  {'PDF sign':>9}  {'ratio':>5}  {'OFD verify':>10}  "
            f"{'PDF verify':>10}  {'ratio':>5}"
        )
        for pages in (3, 300):
            ofd, pdf = folder / f"c{pages}.ofd", folder / f"c{pages}.pdf"
            ofd.write_bytes(sample_contract_ofd(pages=pages))
            write_sample_contract(pdf, pages=pages)
            with open_key(signer.keyref) as key:
                ofd_sign = median(
                    lambda ofd=ofd: sign_ofd(
                        ofd,
                        folder / "s.ofd",
                        key,
                        seal=seal,
                        cert=signer.cert_path,
                        placement=Placement.at_text(BLOCK),
                    ),
                    runs,
                )
                appearance = SealAppearance(image.png, 40, 40)
                pdf_sign = median(
                    lambda pdf=pdf, appearance=appearance: sign_pdf(
                        pdf,
                        folder / "s.pdf",
                        key,
                        cert=signer.cert_path,
                        appearance=appearance,
                        placement=Placement.at_text(BLOCK),
                    ),
                    runs,
                )
            assert verify_ofd(folder / "s.ofd", trust=trust, seal_trust=seal_trust).passed
            ofd_verify = median(
                lambda: verify_ofd(folder / "s.ofd", trust=trust, seal_trust=seal_trust), runs
            )
            pdf_verify = median(lambda: verify_pdf(folder / "s.pdf", trust=trust), runs)
            signing = f"{ofd_sign * 1000:7.0f}ms  {pdf_sign * 1000:7.0f}ms  {ofd_sign / pdf_sign:5.2f}"
            verifying = (
                f"{ofd_verify * 1000:8.0f}ms  {pdf_verify * 1000:8.0f}ms  {ofd_verify / pdf_verify:5.2f}"
            )
            print(f"{pages:>5}  {signing}  {verifying}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
