"""Memory stays flat: a 200 MiB bid is encrypted and opened (signed, GCM) by the CLI, each in a dedicated
child process whose own peak RSS must stay under 100 MiB.

The child reports its own high-water mark (``VmHWM`` from ``/proc/self/status``), which belongs to the
process image started by ``exec`` alone. Neither ``RUSAGE_CHILDREN`` (the maximum over every child pytest
ever waited for) nor ``wait4``/``RUSAGE_SELF`` of the child would do: Linux carries the pre-``exec`` memory
map's high-water mark — with ``vfork`` that is the pytest process itself — into the child's ``ru_maxrss``,
so the figure would depend on what earlier tests did in the pytest process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SIZE = 200 << 20
LIMIT_KIB = 100 << 10

#: Runs the CLI in-process, then prints this process's own peak RSS (KiB) as the last stdout line.
_WRAPPER = """
import sys
from sealkit_cli.main import run
code = run(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(f"\\nVmHWM {peak}")
sys.exit(code)
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


def measured_run(*args: object) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``sealkit ARGS`` in a fresh child: the finished process and its own peak RSS in KiB."""
    run = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *map(str, args)], capture_output=True, text=True, check=False
    )
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert last.startswith("VmHWM "), (run.stdout, run.stderr)
    return run, int(last.split()[1])


def peak_rss_kib(*args: object) -> int:
    """Run ``sealkit ARGS`` in a fresh child, which must succeed; its own peak RSS in KiB."""
    run, peak = measured_run(*args)
    assert run.returncode == 0, run.stderr
    return peak


def test_peak_rss_of_a_200_mib_bid(rsa_pki, tmp_path):
    bid = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(bid, "wb") as f:
        for i in range(SIZE >> 20):
            f.write(block[i:] + block[:i])
    ids = rsa_pki.ids
    env, plain = tmp_path / "big.p7m", tmp_path / "big.out"
    encrypt_peak = peak_rss_kib(
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
    decrypt_peak = peak_rss_kib(
        "bid", "decrypt", env, "-o", plain, "--key", ids["bidder-enc"].keyref, "--quiet"
    )
    assert plain.stat().st_size == SIZE
    with open(bid, "rb") as a, open(plain, "rb") as b:
        while chunk := a.read(8 << 20):
            assert chunk == b.read(8 << 20)
    assert encrypt_peak < LIMIT_KIB, f"encrypt: peak RSS {encrypt_peak / 1024:.0f} MiB"
    assert decrypt_peak < LIMIT_KIB, f"decrypt: peak RSS {decrypt_peak / 1024:.0f} MiB"
    print(
        f"peak RSS for a {SIZE >> 20} MiB bid: encrypt {encrypt_peak / 1024:.1f} MiB, "
        f"decrypt {decrypt_peak / 1024:.1f} MiB"
    )


def test_peak_is_the_childs_own_whatever_the_parent_holds():
    """The measure must not see the parent's memory (the reason RUSAGE_CHILDREN / wait4 were flaky)."""
    ballast = bytearray(150 << 20)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # touch every page
    assert peak_rss_kib("--version") < LIMIT_KIB
    del ballast
