"""Benchmark: ``sealkit serve`` under load, against the library signing in-process on the same token key.

Starts the real server (subprocess, 127.0.0.1, free port) with the test world of tests/service: a SoftHSM RSA
key and a registry seal. 8 concurrent clients × 25 contracts each are signed over HTTP on that one key (the
server serialises the key); every output is verified afterwards. Peer: :func:`sealkit.flows.sign_contract`
in this process, sequentially, on the same key, seal and contract. Prints p50/p95 latency, throughput of
both and their ratio. First, on the fresh server, one large bid (``--bid-mb``, default 256) is streamed
through ``/v1/bids/encrypt`` and ``/open`` and the server's peak RSS (VmHWM) is printed.

Run: ``PYTHONPATH=src:cli:. .venv/bin/python benchmarks/bench_service.py [--clients 8] [--per-client 25]``
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import hashlib
import http.client
import os
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

from sealkit.dev.sample_contract import PURCHASER_BLOCK
from sealkit.flows import SealPlacement, sign_contract, verify_contract
from sealkit.ukey import open_key
from tests.helpers.softhsm import USER_PIN, activate
from tests.service.conftest import PLATFORM_KEY, REPO, Server, _config, make_world, start_server


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--bid-mb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        base = Path(tmp_name)
        world = make_world(base)
        world["tsa_url"] = "http://127.0.0.1:9/unused"
        config = _config(base, world)
        text = config.read_text().replace(f"max_body_mb = {2}", f"max_body_mb = {args.bid_mb + 16}")
        text = text.replace("timeout_s = 120", "timeout_s = 600\nmax_inflight_per_client = 64")
        config.write_text(text)
        env = {
            **world["hsm"].env(),
            "SEALKIT_PIN": USER_PIN,
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "cli")]),
        }
        process, port = start_server(config, env)
        server = Server(
            "127.0.0.1", port, base, world["contract"], world["seals"], base / "work" / "access.log"
        )
        try:
            run_bid(server, args, process.pid)
            run_load(server, world, args)
        finally:
            process.terminate()
            process.wait(timeout=120)


def run_load(server: Server, world: dict, args: argparse.Namespace) -> None:
    pdf = server.contract.read_bytes()
    path = "/v1/contracts/sign?" + urllib.parse.urlencode(
        {"key": "hsm", "seal": "hsm-seal", "at_text": PURCHASER_BLOCK}
    )
    server.request("POST", path, pdf)  # warm-up: the key opens, modules load

    def one_client(index: int) -> list[tuple[float, bytes, int]]:
        results = []
        for _ in range(args.per_client):
            start = time.perf_counter()
            reply = server.request("POST", path, pdf)
            results.append((time.perf_counter() - start, reply.body, reply.status))
        return results

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
        batches = list(pool.map(one_client, range(args.clients)))
    wall = time.perf_counter() - start
    results = [r for batch in batches for r in batch]
    latencies = [r[0] for r in results]
    failed = [r[2] for r in results if r[2] != 200]
    service_rate = len(results) / wall

    # every output verifies (after the timing)
    out = server.base / "outputs"
    out.mkdir()
    bad = 0
    for i, (_, body, status) in enumerate(results):
        if status != 200:
            continue
        target = out / f"{i}.pdf"
        target.write_bytes(body)
        bad += (
            verify_contract(
                target,
                trust=[world["sm2"].root.cert_path, world["rsa"].root.cert_path],
                registry_url=world["url"],
            ).indication
            != "TOTAL-PASSED"
        )

    # peer: the library, in-process, sequentially, on the same token key
    import pytest

    count = max(10, args.per_client)
    with pytest.MonkeyPatch.context() as mp:
        activate(world["hsm"], mp)
        mp.setenv("SEALKIT_PIN", USER_PIN)
        with open_key(world["hsm_uri"]) as key:
            where = SealPlacement(at_text=PURCHASER_BLOCK)
            lib = []
            for i in range(count):
                t0 = time.perf_counter()
                sign_contract(
                    server.contract,
                    out / f"lib{i}.pdf",
                    key=key,
                    cert=world["hsm_cert"],
                    seal_id=world["seals"]["hsm"],
                    registry_url=world["url"],
                    placement=where,
                )
                lib.append(time.perf_counter() - t0)
    library_rate = count / sum(lib)

    print(
        f"service: {len(results)} contracts, {args.clients} clients on one SoftHSM key, "
        f"{len(failed)} failed, {bad} did not verify"
    )
    p50, p95 = (percentile(latencies, p) * 1000 for p in (50, 95))
    print(f"  latency p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    print(f"  throughput {service_rate:.2f} contracts/s")
    print(
        f"library (peer, in-process, sequential): {library_rate:.2f} contracts/s, "
        f"median {statistics.median(lib) * 1000:.0f} ms"
    )
    print(f"ratio service/library throughput: {service_rate / library_rate:.2f}")


def run_bid(server: Server, args: argparse.Namespace, pid: int) -> None:
    """One large bid streamed through a fresh server: encrypt, then open; the server's peak RSS."""
    before = peak_rss_mib(pid)
    size = args.bid_mb << 20
    block = hashlib.sha256(b"bid").digest() * 2048  # 64 KiB

    def chunks():
        for _ in range(size // len(block)):
            yield block

    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    t0 = time.perf_counter()
    query = urllib.parse.urlencode({"opens_at": past, "to": "centre", "sign_key": "supplier"})
    reply = server.request("POST", f"/v1/bids/encrypt?{query}", chunks(), chunked=True)
    encrypted = time.perf_counter() - t0
    assert reply.status == 201, reply.body[:300]
    bid_id = reply.json()["id"]
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=600)
    conn.request(
        "POST", f"/v1/bids/{bid_id}/open?key=opener", headers={"Authorization": f"Bearer {PLATFORM_KEY}"}
    )
    response = conn.getresponse()
    received = 0
    while chunk := response.read(1 << 20):  # streamed: the client does not hold the bid either
        received += len(chunk)
    conn.close()
    assert response.status == 200 and received == size, (response.status, received)
    print(
        f"bid of {args.bid_mb} MiB: encrypt {encrypted:.1f} s, open {time.perf_counter() - t0:.1f} s; "
        f"server peak RSS {peak_rss_mib(pid):.0f} MiB ({before:.0f} MiB after start-up)"
    )


if __name__ == "__main__":
    main()
