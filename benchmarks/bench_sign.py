"""Benchmark: ``sealkit sign`` vs ``pyhanko sign addsig pemder`` on the same 3-page contract and RSA key.

Peer: pyHanko's own CLI (.venv/bin/pyhanko), invisible signature in a new field, same key and certificate.
Prints the median wall time of each CLI over a few runs and their ratio, plus sealkit's in-process sign
time (visible seal at a keyword) for context. Run: ``.venv/bin/python benchmarks/bench_sign.py [runs]``.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import SUPPLIER_BLOCK, write_sample_contract
from sealkit.pdf import Placement, SealAppearance, sign_pdf
from sealkit.ukey import open_key

BIN = Path(sys.executable).parent


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = dict(os.environ, SEALKIT_HOME=str(tmp / "home"))
        os.environ["SEALKIT_HOME"] = env["SEALKIT_HOME"]
        signer = make_test_pki(tmp / "pki", "rsa").issue("bench")
        contract = write_sample_contract(tmp / "contract.pdf", pages=3)
        sealkit_cmd = [
            str(BIN / "sealkit"),
            "sign",
            str(contract),
            "-o",
            str(tmp / "a.pdf"),
            "--key",
            signer.keyref,
            "--cert",
            str(signer.cert_path),
            "--invisible",
        ]
        pyhanko_cmd = [
            str(BIN / "pyhanko"),
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "pemder",
            "--no-pass",
            "--key",
            str(signer.key_path),
            "--cert",
            str(signer.cert_path),
            str(contract),
            str(tmp / "b.pdf"),
        ]
        timed(sealkit_cmd, env), timed(pyhanko_cmd, env)  # warm-up (font cache, page cache)
        ours = statistics.median(timed(sealkit_cmd, env) for _ in range(runs))
        peer = statistics.median(timed(pyhanko_cmd, env) for _ in range(runs))

        image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
        ImageDraw.Draw(image).ellipse((8, 8, 392, 392), outline=(215, 0, 15, 255), width=16)
        png = io.BytesIO()
        image.save(png, "PNG")
        seal = SealAppearance(png.getvalue(), 40, 40)
        with open_key(signer.keyref) as key:
            in_process = []
            for _ in range(runs):
                start = time.perf_counter()
                sign_pdf(
                    contract,
                    tmp / "c.pdf",
                    key,
                    cert=signer.cert_path,
                    appearance=seal,
                    placement=Placement.at_text(SUPPLIER_BLOCK),
                )
                in_process.append(time.perf_counter() - start)
        print(f"runs: {runs} (median)")
        print(f"sealkit sign CLI (invisible, RSA-2048):      {ours * 1000:7.1f} ms")
        print(f"pyhanko sign addsig pemder (peer):          {peer * 1000:7.1f} ms")
        print(f"ratio sealkit/pyhanko CLI:                  {ours / peer:7.2f}x")
        print(f"sign_pdf in-process (visible seal, keyword): {statistics.median(in_process) * 1000:7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
