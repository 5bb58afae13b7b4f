"""Memory stays flat: a 200 MiB bid is encrypted and opened (signed, GCM) by the CLI in a subprocess whose
peak RSS must stay under 100 MiB."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

SIZE = 200 << 20
LIMIT_KIB = 100 << 10


def _cli(*args):
    code = "import sys; from sealkit_cli.main import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_peak_rss_of_a_200_mib_bid(rsa_pki, tmp_path):
    bid = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(bid, "wb") as f:
        for i in range(SIZE >> 20):
            f.write(block[i:] + block[:i])
    ids = rsa_pki.ids
    env, plain = tmp_path / "big.p7m", tmp_path / "big.out"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    _cli(
        "bid",
        "encrypt",
        bid,
        "-o",
        env,
        "--to",
        ids["bidder-enc"].cert_path,
        "--sign",
        ids["bidder-sign"].keyref,
        "--sign-cert",
        ids["bidder-sign"].cert_path,
        "--quiet",
    )
    _cli("bid", "decrypt", env, "-o", plain, "--key", ids["bidder-enc"].keyref, "--quiet")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert plain.stat().st_size == SIZE
    with open(bid, "rb") as a, open(plain, "rb") as b:
        while chunk := a.read(8 << 20):
            assert chunk == b.read(8 << 20)
    assert before < LIMIT_KIB, "an earlier child already used too much memory to measure"
    assert peak < LIMIT_KIB, f"peak RSS {peak / 1024:.0f} MiB"
    print(f"peak RSS {peak / 1024:.1f} MiB for a {SIZE >> 20} MiB bid")
