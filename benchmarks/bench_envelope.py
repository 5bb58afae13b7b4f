"""Envelope throughput and peak RSS: sealkit vs OpenSSL doing the same work, same file, same run.

    .venv/bin/python benchmarks/bench_envelope.py [--size-mib 1024] [--repeat 3] [--cases sm4,signed,rsa]
                                                  [--rss-gib 2] [--baseline CHECKOUT] [--dir /tmp]

Cases (each is one process per run, interpreter start-up and imports included for sealkit; sealkit runs
as the ``sealkit bid`` CLI):

* ``sm4`` — an unsigned SM4-CBC GM/T 0010 envelope (``--allow-unsigned``) vs ``openssl enc -sm4-cbc``;
* ``signed`` — sign-then-encrypt with an SM2 key (SM3 over the content, then SM4-CBC) vs ``openssl dgst
  -sm3`` followed by ``openssl enc -sm4-cbc`` of the same file; opening: decrypt + verify vs ``openssl enc
  -d`` followed by ``openssl dgst -sm3`` of the output;
* ``rsa`` — RSA-2048 recipient with AES-256-CBC / AES-256-GCM vs ``openssl cms -encrypt/-decrypt``.

sealkit fsyncs what it writes before renaming it into place (a bid is all or nothing); OpenSSL does not. The
``+sync`` ratio compares with OpenSSL followed by ``sync FILE`` (the same durability). Times are the best of
``--repeat`` runs (the runs alternate, so background load hits both sides alike); peak RSS is each
process's own maximum (``/usr/bin/time %M``, not the benchmark's). ``--rss-gib N`` also opens one signed
N GiB bid and reports sealkit's peak RSS. ``--baseline DIR`` adds a column for the sealkit of another
checkout (``DIR/src``, ``DIR/cli``, e.g. from ``git archive``), run the same way. Temporary files go to
``--dir`` and are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

#: The ``sealkit`` command (what the console script runs), so that a baseline checkout runs the same way.
SEALKIT = [sys.executable, "-c", "from sealkit_cli.main import main; main()"]
TIME = "/usr/bin/time"


def run(argv: Sequence[object], stats: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command (``sh -c`` pipelines included: %M is the maximum over
    the shell's children)."""
    cmd = [TIME, "-f", "%M", "-o", str(stats), *map(str, argv)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, argv))}: {proc.stderr.decode(errors='replace')}")
    return elapsed, int(stats.read_text().split()[-1]) / 1024


def sh(*commands: Sequence[object]) -> list[str]:
    """One ``sh -c`` running the commands in order (stdout discarded)."""
    import shlex

    return [
        "sh",
        "-c",
        " && ".join(" ".join(shlex.quote(str(a)) for a in c) + " >/dev/null" for c in commands),
    ]


def make_file(path: Path, size_mib: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(size_mib):
            f.write(block[i % 1024 :] + block[: i % 1024])


def make_identities(work: Path) -> dict[str, Path]:
    """An SM2 test PKI (recipient + signer, through sealkit.dev.pki in a child process, so that this process
    stays small) and an RSA-2048 self-signed recipient (openssl)."""
    script = (
        "import sys; from sealkit.dev.pki import make_test_pki; p = make_test_pki(sys.argv[1], 'sm2'); "
        "p.issue('enc', 'encrypt'); p.issue('sign', 'sign')"
    )
    subprocess.run([sys.executable, "-c", script, str(work / "sm2")], check=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", work / "rsa-key.pem",
         "-out", work / "rsa-cert.pem", "-subj", "/CN=bench", "-days", "2"],
        check=True, capture_output=True,
    )  # fmt: skip
    return {
        "sm2_cert": work / "sm2" / "enc" / "cert.pem",
        "sm2_key": work / "sm2" / "enc" / "key.pem",
        "sign_cert": work / "sm2" / "sign" / "cert.pem",
        "sign_key": work / "sm2" / "sign" / "key.pem",
        "sm2_root": work / "sm2" / "root" / "cert.pem",
        "rsa_cert": work / "rsa-cert.pem",
        "rsa_key": work / "rsa-key.pem",
    }


Case = tuple[str, str, list, list[list], Path]


def cases(work: Path, ids: dict[str, Path], plain: Path, wanted: set[str]) -> list[Case]:
    """(name, op, sealkit argv, openssl commands run in order, the file openssl writes); each decrypt row
    reads what the encrypt row before it wrote."""
    env, peer_env, back = work / "env", work / "peer-env", work / "back"
    key, iv = os.urandom(16).hex(), os.urandom(16).hex()
    enc = ["openssl", "enc", "-sm4-cbc", "-K", key, "-iv", iv]
    dec = ["openssl", "enc", "-d", "-sm4-cbc", "-K", key, "-iv", iv]
    bid = [*SEALKIT, "bid"]
    open_sm2 = [*bid, "decrypt", env, "-o", back, "--key", f"file:{ids['sm2_key']}", "--quiet"]
    sign = ["--sign", f"file:{ids['sign_key']}", "--sign-cert", ids["sign_cert"]]
    out: list[Case] = []
    if "sm4" in wanted:
        out += [
            ("SM4-CBC unsigned", "encrypt",
             [*bid, "encrypt", plain, "-o", env, "--to", ids["sm2_cert"], "--allow-unsigned", "--quiet"],
             [[*enc, "-in", plain, "-out", peer_env]], peer_env),
            ("SM4-CBC unsigned", "decrypt", [*open_sm2, "--allow-unsigned"],
             [[*dec, "-in", peer_env, "-out", back]], back),
        ]  # fmt: skip
    if "signed" in wanted:
        out += [
            ("SM2-signed + SM4-CBC", "encrypt",
             [*bid, "encrypt", plain, "-o", env, "--to", ids["sm2_cert"], *sign, "--quiet"],
             [["openssl", "dgst", "-sm3", plain], [*enc, "-in", plain, "-out", peer_env]], peer_env),
            ("SM2-signed + SM4-CBC", "decrypt", [*open_sm2, "--trust", ids["sm2_root"]],
             [[*dec, "-in", peer_env, "-out", back], ["openssl", "dgst", "-sm3", back]], back),
        ]  # fmt: skip
    if "rsa" in wanted:
        for name, cipher, flag in (("RSA + AES-256-CBC", "aes-256-cbc", "-aes256"),
                                   ("RSA + AES-256-GCM", "aes-256-gcm", "-aes-256-gcm")):  # fmt: skip
            out += [
                (name, "encrypt",
                 [*bid, "encrypt", plain, "-o", env, "--to", ids["rsa_cert"], "--cipher", cipher,
                  "--allow-unsigned", "--quiet"],
                 [["openssl", "cms", "-encrypt", "-binary", "-outform", "DER", flag, "-in", plain, "-out",
                   peer_env, "-recip", ids["rsa_cert"]]], peer_env),
                (name, "decrypt",
                 [*bid, "decrypt", env, "-o", back, "--key", f"file:{ids['rsa_key']}", "--allow-unsigned",
                  "--quiet"],
                 [["openssl", "cms", "-decrypt", "-inform", "DER", "-in", peer_env, "-recip", ids["rsa_cert"],
                   "-inkey", ids["rsa_key"], "-out", back]], back),
            ]  # fmt: skip
    return out


def bench(
    work: Path, size_mib: int, repeat: int, wanted: set[str], rss_gib: int, baseline: Path | None
) -> None:
    stats = work / "time.txt"
    ids = make_identities(work)
    plain = work / "bid.bin"
    make_file(plain, size_mib)
    mb = size_mib * (1 << 20) / 1e6
    print(
        f"file: {size_mib} MiB, best of {repeat}; MB/s (peak RSS MiB); ratio = sealkit / openssl throughput"
    )
    base_env = None
    if baseline is not None:
        base_env = {**os.environ, "PYTHONPATH": f"{baseline / 'src'}:{baseline / 'cli'}"}
    head = f"{'case':22} {'op':8} {'sealkit':>14} {'openssl':>14} {'ratio':>6} {'+sync':>6}"
    print(head + (f" {'baseline':>14} {'ratio':>6}" if baseline else ""))
    for name, op, ours, peer_cmds, target in cases(work, ids, plain, wanted):
        variants = {"ours": ours, "peer": sh(*peer_cmds), "peer+sync": sh(*peer_cmds, ["sync", target])}
        if baseline is not None:
            variants["baseline"] = ours
        best: dict[str, tuple[float, float]] = {}
        for _ in range(repeat):
            for label, argv in variants.items():
                elapsed, rss = run(argv, stats, base_env if label == "baseline" else None)
                old = best.get(label, (float("inf"), 0.0))
                best[label] = (min(old[0], elapsed), max(old[1], rss))
        (t_ours, r_ours), (t_peer, r_peer) = best["ours"], best["peer"]
        t_sync = best["peer+sync"][0]
        line = (
            f"{name:22} {op:8} {mb / t_ours:7.0f} ({r_ours:4.0f}) {mb / t_peer:7.0f} ({r_peer:4.0f})"
            f" {t_peer / t_ours:6.2f} {t_sync / t_ours:6.2f}"
        )
        if baseline is not None:
            t_base, r_base = best["baseline"]
            line += f" {mb / t_base:7.0f} ({r_base:4.0f}) {t_peer / t_base:6.2f}"
        print(line, flush=True)
    if rss_gib:
        big = work / "big.bin"
        plain.unlink()
        make_file(big, rss_gib << 10)
        env, back = work / "big.env", work / "big.back"
        sign = ["--sign", f"file:{ids['sign_key']}", "--sign-cert", ids["sign_cert"]]
        run([*SEALKIT, "bid", "encrypt", big, "-o", env, "--to", ids["sm2_cert"], *sign, "--quiet"], stats)
        big.unlink()
        argv = [*SEALKIT, "bid", "decrypt", env, "-o", back, "--key", f"file:{ids['sm2_key']}", "--quiet"]
        seconds, rss = run(argv, stats)
        print(
            f"{rss_gib} GiB SM2-signed SM4-CBC bid: sealkit bid decrypt peak RSS {rss:.0f} MiB"
            f" ({seconds:.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="sm4,signed,rsa", help="comma-separated: sm4, signed, rsa")
    parser.add_argument("--rss-gib", type=int, default=0, help="also open one signed bid of this size")
    parser.add_argument("--baseline", type=Path, help="a checkout (src/, cli/) to compare with")
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    if not Path(TIME).exists():
        raise SystemExit(f"{TIME} is needed for per-process peak RSS (Debian package: time)")
    work = Path(tempfile.mkdtemp(prefix="bench-envelope-", dir=args.dir))
    try:
        bench(work, args.size_mib, args.repeat, set(args.cases.split(",")), args.rss_gib, args.baseline)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
