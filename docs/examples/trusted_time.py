"""Runnable example: sign a contract with trusted time (B-T, B-LTA) and verify it offline and online.

It uses the test PKI and the local TSA/OCSP/CRL services of :mod:`sealkit.dev` (never for real documents)::

    python docs/examples/trusted_time.py        # or: ... trusted_time.py rsa

Every step is a ``sealkit`` command, printed before it runs, exactly as you would type it.
"""

import datetime as dt
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from sealkit.dev.issuing import issue_with_revocation
from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import blank_pdf
from sealkit.dev.services import PkiServices

kind = sys.argv[1] if len(sys.argv) > 1 else "sm2"
work = Path(tempfile.mkdtemp(prefix="sealkit-trusted-time-"))
pki = make_test_pki(work / "pki", kind)
contract = work / "contract.pdf"
contract.write_bytes(blank_pdf())
root = str(pki.root.cert_path)


def sealkit(*args: str) -> int:
    print("$ sealkit", " ".join(shlex.quote(a.replace(str(work) + "/", "")) for a in args))
    done = subprocess.run([sys.executable, "-m", "sealkit_cli.main", *args], cwd=work, check=False)
    print(f"(exit {done.returncode})\n")
    return done.returncode


with PkiServices.start(pki) as services:
    supplier = issue_with_revocation(pki, "supplier", ocsp_url=services.ocsp_url, crl_url=services.crl_url)
    key = ["--key", supplier.keyref, "--cert", str(supplier.cert_path), "--chain", root, "--invisible"]
    sealkit("sign", str(contract), "-o", str(work / "contract-bt.pdf"), *key, "--tsa", services.tsa_url)
    sealkit("sign", str(contract), "-o", str(work / "contract-lta.pdf"), *key, "--tsa", services.tsa_url,
            "--ltv", "--trust", root)  # fmt: skip
    # offline: the certificate names OCSP/CRL, the PDF carries no status: INDETERMINATE / TRY_LATER (exit 4)
    sealkit("verify", str(work / "contract-bt.pdf"), "--trust", root)
    sealkit("verify", str(work / "contract-lta.pdf"), "--trust", root)  # offline: embedded OCSP
    # The supplier's certificate is revoked an hour after signing: the timestamped signature stays valid.
    services.revoke(supplier.certificate.serial_number, at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    sealkit("verify", str(work / "contract-bt.pdf"), "--trust", root, "--online", "--json")
    # A certificate revoked *before* it signed: TOTAL-FAILED / REVOKED (exit 3).
    early = issue_with_revocation(pki, "early", ocsp_url=services.ocsp_url, crl_url=services.crl_url)
    services.revoke(early.certificate.serial_number, at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    sealkit("sign", str(contract), "-o", str(work / "early.pdf"), "--key", early.keyref,
            "--cert", str(early.cert_path), "--invisible", "--tsa", services.tsa_url)  # fmt: skip
    sealkit("verify", str(work / "early.pdf"), "--trust", root, "--online")
print("files in", work)
