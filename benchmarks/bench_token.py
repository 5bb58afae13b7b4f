"""Signatures per second through sealkit's PKCS#11 layer vs raw python-pkcs11, same SoftHSM2 key.

Run: ``.venv/bin/python benchmarks/bench_token.py [seconds] [rounds]``. Makes a throw-away SoftHSM2 token with
an RSA-2048 and a P-256 key (pkcs11-tool), then for 1 and 4 threads measures sealkit (``open_key`` once, then
``sign(message)``: module lock, session check, DER output) and python-pkcs11 directly on its own session,
serialised by a lock as well (SoftHSM runs unlocked under python-pkcs11). The raw peer produces the same
output: RSA signs the message with CKM_SHA256_RSA_PKCS; for P-256 it hashes the message (hashlib), signs with
CKM_ECDSA and DER-encodes r||s (``encode_dss_signature``); the "call" column is the bare ``sign`` of a ready
digest. Runs alternate and the best of ``rounds`` is kept, so background load hits both alike. Prints the
ratio sealkit / raw.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pkcs11
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
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


def main(seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _setup(Path(tmp))
        os.environ["SEALKIT_PIN"] = PIN
        lib = pkcs11.lib(MODULE)
        token = lib.get_token(token_label="bench")
        raw_session = token.open(user_pin=PIN)
        raw_lock = threading.Lock()
        print(f"SoftHSM2, {seconds:g} s per run, best of {rounds}; peer: python-pkcs11 called directly")
        print(
            f"{'key':8} {'threads':>7} {'sealkit/s':>10} {'raw/s':>8} {'ratio':>6} {'call/s':>8} {'ratio':>6}"
        )
        for label in ("rsa", "ec"):
            key = open_key(f"pkcs11:token=bench;object={label}?module-path={MODULE}")
            raw_key = raw_session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            digest = hashlib.sha256(MESSAGE).digest()

            if label == "rsa":

                def raw_sign(k=raw_key) -> None:
                    with raw_lock:
                        k.sign(MESSAGE, mechanism=Mechanism.SHA256_RSA_PKCS)

                raw_call = raw_sign
            else:

                def raw_sign(k=raw_key) -> None:
                    d = hashlib.sha256(MESSAGE).digest()
                    with raw_lock:
                        sig = k.sign(d, mechanism=Mechanism.ECDSA)
                    encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))

                def raw_call(k=raw_key, d=digest) -> None:
                    with raw_lock:
                        k.sign(d, mechanism=Mechanism.ECDSA)

            for threads in (1, 4):
                best = {"ours": 0.0, "raw": 0.0, "call": 0.0}
                for _ in range(rounds):
                    for name, fn in (
                        ("ours", lambda k=key: k.sign(MESSAGE)),
                        ("raw", raw_sign),
                        ("call", raw_call),
                    ):
                        best[name] = max(best[name], _run(fn, threads, seconds))
                name = "RSA-2048" if label == "rsa" else "P-256"
                ours, raw, call = best["ours"], best["raw"], best["call"]
                print(
                    f"{name:8} {threads:7} {ours:10.0f} {raw:8.0f} {ours / raw:6.2f}"
                    f" {call:8.0f} {ours / call:6.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
