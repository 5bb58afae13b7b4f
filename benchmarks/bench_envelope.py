"""Envelope throughput and peak RSS: sealkit vs OpenSSL on the same machine, same file, same run.

    .venv/bin/python benchmarks/bench_envelope.py [--size-mib 1024] [--dir /tmp]

Peers: ``openssl cms -encrypt/-decrypt`` (RSA-2048 recipient, AES-256-CBC and AES-256-GCM) and
``openssl enc -sm4-cbc`` (SM4, no key transport). Every run is a separate process (interpreter start-up
and imports included for sealkit); wall time and peak RSS come from ``os.wait4``. Prints MB/s and the
ratio sealkit / OpenSSL (goal ≥ 0.9). Temporary files are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEALKIT = """
import sys
from sealkit.envelope import decrypt_file, encrypt_file, load_certificates
from sealkit.ukey import open_key
op, src, dst, cert, key, cipher = sys.argv[1:7]
if op == "encrypt":
    encrypt_file(src, dst, load_certificates(cert), content_cipher=cipher, allow_unsigned=True)
else:
    decrypt_file(src, dst, open_key("file:" + key), allow_unsigned=True)
"""


def run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status:
        raise SystemExit(f"failed: {' '.join(argv)}: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def sealkit(op: str, src: Path, dst: Path, cert: Path, key: Path, cipher: str) -> list[str]:
    return [sys.executable, "-c", SEALKIT, op, str(src), str(dst), str(cert), str(key), cipher]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-envelope-", dir=args.dir))
    try:
        bench(work, args.size_mib)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(work: Path, size_mib: int) -> None:
    plain, cert, key = work / "bid.bin", work / "cert.pem", work / "key.pem"
    block = os.urandom(1 << 20)
    with open(plain, "wb") as f:
        for i in range(size_mib):
            f.write(block[i % 1024 :] + block[: i % 1024])
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-subj", "/CN=bench", "-days", "2"],
        check=True, capture_output=True,
    )  # fmt: skip
    mb = size_mib * (1 << 20) / 1e6
    out, back = work / "env", work / "back"
    sk_key = os.urandom(16).hex()
    iv = os.urandom(16).hex()
    cases = [
        (
            "RSA + AES-256-CBC",
            "aes-256-cbc",
            ["openssl", "cms", "-encrypt", "-binary", "-outform", "DER", "-aes256", "-in", plain, "-out", out,
             "-recip", cert],
            ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", out, "-recip", cert, "-inkey", key,
             "-out", back],
        ),
        (
            "RSA + AES-256-GCM",
            "aes-256-gcm",
            ["openssl", "cms", "-encrypt", "-binary", "-outform", "DER", "-aes-256-gcm", "-in", plain,
             "-out", out, "-recip", cert],
            ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", out, "-recip", cert, "-inkey", key,
             "-out", back],
        ),
        (
            "SM4-CBC (openssl enc)",
            "sm4-cbc",
            ["openssl", "enc", "-sm4-cbc", "-K", sk_key, "-iv", iv, "-in", plain, "-out", out],
            ["openssl", "enc", "-d", "-sm4-cbc", "-K", sk_key, "-iv", iv, "-in", out, "-out", back],
        ),
    ]  # fmt: skip
    print(f"file: {size_mib} MiB; MB/s (peak RSS MiB); ratio = sealkit / openssl throughput")
    print(f"{'case':24} {'op':8} {'sealkit':>18} {'openssl':>18} {'ratio':>6}")
    for name, cipher, peer_encrypt, peer_decrypt in cases:
        for op, peer in (("encrypt", peer_encrypt), ("decrypt", peer_decrypt)):
            if op == "encrypt":
                ours = sealkit("encrypt", plain, out, cert, key, cipher)
                ours_time, ours_rss = run(ours)
                peer_time, peer_rss = run([str(a) for a in peer])
                # sealkit decrypts its own envelope
                sealkit_envelope = work / "sealkit-env"
                run(sealkit("encrypt", plain, sealkit_envelope, cert, key, cipher))
            else:
                ours_time, ours_rss = run(sealkit("decrypt", sealkit_envelope, back, cert, key, cipher))
                peer_time, peer_rss = run([str(a) for a in peer])
            ours_col = f"{mb / ours_time:9.0f} ({ours_rss:5.0f})"
            peer_col = f"{mb / peer_time:9.0f} ({peer_rss:5.0f})"
            print(f"{name:24} {op:8} {ours_col} {peer_col} {peer_time / ours_time:6.2f}")
            back.unlink(missing_ok=True)
        out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
