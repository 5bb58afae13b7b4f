"""Signatures per second through sealkit's PKCS#11 layer vs raw python-pkcs11, same SoftHSM2 key.

Run: ``.venv/bin/python benchmarks/bench_token.py [seconds]``. Makes a throw-away SoftHSM2 token with an
RSA-2048 and a P-256 key (pkcs11-tool), then for 1 and 4 threads measures sealkit (``open_key`` +
``sign``: URI resolution once, module lock, DER conversion) and python-pkcs11 directly (one session per
thread for the raw peer, itself serialised by a lock since SoftHSM runs unlocked under python-pkcs11).
Prints the ratio sealkit / raw.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pkcs11
from pkcs11 import Mechanism, ObjectClass

from sealkit.ukey import open_key

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"
MESSAGE = b"x" * 1024


def _setup(directory: Path) -> None:
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", PIN, "--so-pin", "5678"],
        check=True,
        capture_output=True,
    )
    for kind, key_id, label in (("rsa:2048", "01", "rsa"), ("EC:prime256v1", "02", "ec")):
        subprocess.run(
            [
                "pkcs11-tool",
                "--module",
                MODULE,
                "--token-label",
                "bench",
                "--login",
                "--pin",
                PIN,
                "--keypairgen",
                "--key-type",
                kind,
                "--id",
                key_id,
                "--label",
                label,
            ],
            check=True,
            capture_output=True,
        )


def _run(fn, threads: int, seconds: float) -> float:
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def worker(i: int) -> None:
        while time.monotonic() < deadline:
            fn()
            counts[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / seconds


def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _setup(Path(tmp))
        os.environ["SEALKIT_PIN"] = PIN
        lib = pkcs11.lib(MODULE)
        token = lib.get_token(token_label="bench")
        raw_session = token.open(user_pin=PIN)
        raw_lock = threading.Lock()
        print(f"SoftHSM2, {seconds:.0f} s per run; peer: python-pkcs11 called directly")
        for label, mech in (("rsa", Mechanism.SHA256_RSA_PKCS), ("ec", Mechanism.ECDSA)):
            key = open_key(f"pkcs11:token=bench;object={label}?module-path={MODULE}")
            raw_key = raw_session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            data = MESSAGE if label == "rsa" else b"\x01" * 32

            def raw_sign(k=raw_key, m=mech, d=data) -> None:
                with raw_lock:
                    k.sign(d, mechanism=m)

            for threads in (1, 4):
                ours = _run(lambda k=key: k.sign(MESSAGE), threads, seconds)
                theirs = _run(raw_sign, threads, seconds)
                name = "RSA-2048" if label == "rsa" else "P-256"
                print(
                    f"{name:8} {threads} thread(s): sealkit {ours:8.0f}/s  raw {theirs:8.0f}/s"
                    f"  ratio {ours / theirs:.2f}"
                )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
