"""Benchmark: verifying a B-LTA contract with sealkit.trust vs pyHanko (API and ``pyhanko sign validate``).

    .venv/bin/python benchmarks/bench_ltv.py [runs]

Builds an RSA B-LTA contract against local services (TSA, OCSP, CRL on 127.0.0.1, from tests/helpers),
then times, offline and on the same file:

- sealkit: :func:`sealkit.trust.evaluate_signature` (timestamp validation, signer validation at the
  timestamp's time with the embedded DSS data, per-certificate revocation report);
- pyHanko API: ``validate_pdf_signature`` with a validation context built from the DSS;
- pyHanko CLI: ``pyhanko sign validate --trust root.pem --soft-revocation-check`` (a process, so
  interpreter start-up is included; compare with sealkit's in-process time plus start-up below).

Prints medians in milliseconds and the ratios. Temporary files are deleted at the end.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko.sign.validation.dss import DocumentSecurityStore  # noqa: E402

from sealkit.dev.issuing import issue_with_revocation  # noqa: E402
from sealkit.dev.pki import make_test_pki  # noqa: E402
from sealkit.dev.services import PkiServices  # noqa: E402
from sealkit.trust import add_validation_info, evaluate_signature, ltv_context, make_timestamper  # noqa: E402
from tests.helpers.pki_signing import blank_pdf, sign_contract  # noqa: E402


def _median_ms(function, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(runs: int = 15) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pki = make_test_pki(work / "pki", "rsa")
        (work / "c.pdf").write_bytes(blank_pdf())
        with PkiServices.start(pki) as services:
            signer = issue_with_revocation(pki, "bench", ocsp_url=services.ocsp_url, crl_url=services.crl_url)
            sign_contract(
                work / "c.pdf", work / "bt.pdf", signer, pki, timestamper=make_timestamper(services.tsa_url)
            )
            add_validation_info(
                work / "bt.pdf",
                work / "lta.pdf",
                validation_context=ltv_context([pki.root.cert_path]),
                timestamper=make_timestamper(services.tsa_url),
            )
        lta = work / "lta.pdf"
        root = pki.root.cert_path

        def sealkit_run() -> None:
            with lta.open("rb") as handle:
                signature = PdfFileReader(handle).embedded_regular_signatures[0]
                assert evaluate_signature(signature, [root]).passed

        def pyhanko_api() -> None:
            with lta.open("rb") as handle:
                reader = PdfFileReader(handle)
                signature = reader.embedded_regular_signatures[0]
                context = DocumentSecurityStore.read_dss(reader).as_validation_context(
                    {"trust_roots": [pki.root.certificate], "retroactive_revinfo": True}
                )
                assert validate_pdf_signature(signature, context).bottom_line

        cli = [str(ROOT / ".venv/bin/pyhanko"), "sign", "validate", "--trust", str(root), "--trust-replace"]
        cli += ["--retroactive-revinfo", "--soft-revocation-check", "--executive-summary", str(lta)]

        def pyhanko_cli() -> None:
            subprocess.run(cli, check=True, capture_output=True)

        startup = [sys.executable, "-c", "import sealkit.trust, sealkit.pdf"]

        def sealkit_startup() -> None:
            subprocess.run(startup, check=True, capture_output=True)

        sealkit_run()
        pyhanko_api()  # warm-up (imports, caches)
        s = _median_ms(sealkit_run, runs)
        p = _median_ms(pyhanko_api, runs)
        c = _median_ms(pyhanko_cli, max(3, runs // 3))
        u = _median_ms(sealkit_startup, max(3, runs // 3))
        print(f"B-LTA contract: {lta.stat().st_size} bytes, {runs} runs (medians)")
        print(f"sealkit evaluate_signature (offline, in-process): {s:8.1f} ms")
        print(
            f"pyHanko validate_pdf_signature (DSS context):     {p:8.1f} ms   sealkit/pyHanko = {s / p:.2f}"
        )
        print(f"pyhanko sign validate CLI (process):              {c:8.1f} ms")
        print(
            f"sealkit start-up + in-process evaluation:         {u + s:8.1f} ms   vs CLI = {(u + s) / c:.2f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
