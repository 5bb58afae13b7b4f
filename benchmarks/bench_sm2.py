"""SM2 sign/verify throughput: sealkit's backends against `openssl speed sm2` (and gmssl for reference).

    python benchmarks/bench_sm2.py [--seconds N] [--rounds R] [--no-gmssl]

`openssl speed` runs first (its own process, one core); then each sealkit backend signs and verifies a
20-byte message (what `openssl speed` signs) for N CPU-seconds each, in this process, with the default user
ID — so sealkit's numbers include Z caching, e = SM3(Z || M) and the DER checks. Both sides count operations
per CPU second (`openssl speed` divides by user CPU time by default). Ratios are sealkit / OpenSSL.
Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from sealkit import sm2

MSG = b"0123456789abcdefghij"  # 20 bytes, like openssl speed


def openssl_speed(seconds: int) -> tuple[float, float] | None:
    """(signs/s, verifies/s) from `openssl speed -seconds N sm2`, or None."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "speed", "-seconds", str(seconds), "sm2"], capture_output=True, text=True, check=False
    ).stdout
    m = re.search(r"SM2 \(CurveSM2\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)", out)
    return (float(m.group(1)), float(m.group(2))) if m else None


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per CPU-second of fn, run for about `seconds` of CPU time (after a short warm-up).

    CPU time, not wall-clock, because that is what `openssl speed` divides by (unless -elapsed), and it keeps
    the ratio meaningful on a machine shared with other work.
    """
    for _ in range(3):
        fn()
    count, start = 0, time.process_time()
    while True:
        for _ in range(20):
            fn()
        count += 20
        used = time.process_time() - start
        if used >= seconds:
            return count / used


def bench_sealkit(backend: str, seconds: float) -> tuple[float, float]:
    key = sm2.generate_private_key(backend=backend)
    pub = key.public_key()
    sig = key.sign(MSG)
    return rate(lambda: key.sign(MSG), seconds), rate(lambda: pub.verify(sig, MSG), seconds)


_SPEED_CDEF = """
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;
EVP_MD_CTX *EVP_MD_CTX_new(void);
void EVP_MD_CTX_free(EVP_MD_CTX *ctx);
const EVP_MD *EVP_sm3(void);
int EVP_PKEY_CTX_set1_id(EVP_PKEY_CTX *ctx, const void *id, int len);
int EVP_DigestSignInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, void *e, EVP_PKEY *pkey);
int EVP_DigestSign(EVP_MD_CTX *ctx, unsigned char *sig, size_t *siglen, const unsigned char *tbs, size_t n);
"""


def bench_speed_loop_in_process(seconds: float) -> float | None:
    """`openssl speed`'s own sign loop (EVP_DigestSign, then EVP_DigestSignInit again), run through cffi in
    this process on the same libcrypto: the same-process, same-conditions reference for signing."""
    if "openssl" not in sm2.available_backends():
        return None
    backend = sm2.get_backend("openssl")
    ffi, lib = backend.ffi, backend.lib  # type: ignore[attr-defined]
    ffi.cdef(_SPEED_CDEF, override=True)
    key = sm2.generate_private_key(backend="openssl")
    pkey = key._state.pkey  # type: ignore[attr-defined]
    md = ffi.gc(lib.EVP_MD_CTX_new(), lib.EVP_MD_CTX_free)
    pctx = ffi.new("EVP_PKEY_CTX **")
    sig, siglen = ffi.new("unsigned char[]", 80), ffi.new("size_t *", 80)

    def init() -> None:
        assert lib.EVP_DigestSignInit(md, pctx, lib.EVP_sm3(), ffi.NULL, pkey) == 1
        lib.EVP_PKEY_CTX_set1_id(pctx[0], sm2.DEFAULT_UID, len(sm2.DEFAULT_UID))

    def one() -> None:
        siglen[0] = 80
        assert lib.EVP_DigestSign(md, sig, siglen, MSG, len(MSG)) == 1
        init()

    init()
    return rate(one, seconds)


def bench_gmssl(seconds: float) -> tuple[float, float] | None:
    try:
        from gmssl import sm2 as gm
    except ImportError:
        return None
    while True:
        key = sm2.generate_private_key()
        pub_hex = key.public_key().encoded_point()[1:].hex()
        if not pub_hex.startswith("04"):  # gmssl lstrip("04") quirk
            break
    crypt = gm.CryptSM2(private_key=f"{key.private_value:064x}", public_key=pub_hex)
    k_hex = f"{sm2.generate_private_key().private_value:064x}"  # gmssl takes k from the caller
    sig = crypt.sign_with_sm3(MSG, k_hex)
    short = min(seconds, 1.0)
    return rate(lambda: crypt.sign_with_sm3(MSG, k_hex), short), rate(
        lambda: crypt.verify_with_sm3(sig, MSG), short
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=2, help="seconds per measurement (default 2)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved openssl/sealkit rounds (default 3)"
    )
    parser.add_argument("--no-gmssl", action="store_true", help="skip gmssl")
    args = parser.parse_args()

    # Interleave `openssl speed` with the openssl backend so that load from other work on the machine hits
    # both alike; report medians, and the median of the per-round ratios.
    ref_s: list[float] = []
    ref_v: list[float] = []
    ours_s: list[float] = []
    ours_v: list[float] = []
    has_openssl = "openssl" in sm2.available_backends()
    loop_s: list[float] = []
    for _ in range(args.rounds):
        ref = openssl_speed(args.seconds)
        if ref:
            ref_s.append(ref[0])
            ref_v.append(ref[1])
        if has_openssl:
            s, v = bench_sealkit("openssl", args.seconds)
            ours_s.append(s)
            ours_v.append(v)
            in_proc = bench_speed_loop_in_process(args.seconds)
            if in_proc:
                loop_s.append(in_proc)
    ref_sign, ref_verify = _median(ref_s), _median(ref_v)

    rows: list[tuple[str, float, float, str]] = []
    if ref_s:
        rows.append(("openssl speed sm2 (C)", ref_sign, ref_verify, f"{1:>9.2f}{1:>10.2f}"))
    if ours_s:
        ratio = ""
        if ref_s:
            rs = _median([a / b for a, b in zip(ours_s, ref_s, strict=True)])
            rv = _median([a / b for a, b in zip(ours_v, ref_v, strict=True)])
            ratio = f"{rs:>9.2f}{rv:>10.2f}"
        rows.append(("sealkit openssl backend", _median(ours_s), _median(ours_v), ratio))
    others = [("sealkit python backend", bench_sealkit("python", args.seconds))]
    if not args.no_gmssl:
        gm = bench_gmssl(args.seconds)
        if gm:
            others.append(("gmssl 3.2.2 (pure Python)", gm))
    for name, (s, v) in others:
        rows.append((name, s, v, f"{s / ref_sign:>9.2f}{v / ref_verify:>10.2f}" if ref_s else ""))

    print(f"{'implementation':<28}{'sign/s':>10}{'verify/s':>11}{'sign ×':>9}{'verify ×':>10}")
    for name, s, v, ratio in rows:
        print(f"{name:<28}{s:>10.0f}{v:>11.0f}{ratio}")
    print(f"({args.rounds} interleaved rounds of {args.seconds} CPU-s; medians; ratios vs OpenSSL)")
    if loop_s and ours_s:
        rs = _median([a / b for a, b in zip(ours_s, loop_s, strict=True)])
        print(
            f"openssl speed's sign loop run in this process: {_median(loop_s):.0f} signs/s; "
            f"sealkit openssl backend / that = {rs:.2f}"
        )
    if not ref_s:
        print("(openssl speed not available: no ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
