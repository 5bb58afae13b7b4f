"""Benchmark: what reserving a seal's use costs when its grant's count comes from the audit chain (issue 10).

``reserve_use`` now reads the seal's use entries from the chain, checks every use of the seal (and the
chain, and its signed head) and counts from the chain. Peer, measured in the same run on the same registry:
``check_seal`` — the chain check every signing with a registry seal already made before (seal and revocation
rows against an intact, head-signed chain). Registries (SQLite, signed head) hold one seal with a grant
without a limit and N uses, each reserved and completed; the uses are written in one transaction (a valid
chain, one head signature) to build large registries quickly. Times are the least of ``runs`` CPU times
(process time: what the call itself costs, whatever else the shared machine runs).

Run: ``.venv/bin/python benchmarks/bench_registry_uses.py [--runs 5] [--uses 100,1000,5000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from sealkit.dev.pki import make_test_pki
from sealkit.seal import HeadSigner, SealRegistry, load_form, schema
from sealkit.seal.crypto import cert_digest
from sealkit.seal.grants import GrantRequest
from sealkit.ukey import open_key

EXAMPLE_FORM = Path(__file__).resolve().parents[1] / "docs" / "examples" / "unit.toml"


def build(base: Path, uses: int) -> tuple[str, str, HeadSigner, object]:
    ca = make_test_pki(base / "ca", "p256")
    holder = ca.issue("holder", "sign", organization=load_form(EXAMPLE_FORM).name)
    maker = ca.issue("maker", "seal-maker")
    registry_id = ca.issue("registry", "sign")
    until = dt.date.today() + dt.timedelta(days=365)
    url = f"sqlite:///{base / 'r.db'}"
    signer = HeadSigner(open_key(registry_id.keyref), registry_id.certificate)
    with SealRegistry(url, actor="bench", signer=signer) as registry:
        seal = registry.issue(
            load_form(EXAMPLE_FORM),
            "contract",
            [holder.certificate],
            open_key(maker.keyref),
            maker.certificate,
            until,
        )
        grant = registry.grant(seal.es_id, GrantRequest(holder.certificate, until)).grant_id
        digest = cert_digest(holder.certificate.dump())
        with registry.transaction() as tx:
            for n in range(1, uses + 1):
                use_id = f"U{n:08d}"
                row = {"es_id": seal.es_id, "grant_id": grant, "status": "reserved", "purpose": "contract"}
                who = {"signer_sha256": digest, "signer_subject": "holder", "actor": "bench"}
                tx.conn.execute(schema.uses.insert().values(use_id=use_id, reserved_at=tx.now, **row, **who))
                details = {"seal": seal.es_id, "grant": grant, "purpose": "contract", "signer": digest}
                tx.record("use-reserve", f"use:{use_id}", details)
                done = {"status": "done", "document": f"d{n}.pdf", "sha256": "0" * 64, "sm3": "0" * 64}
                tx.conn.execute(
                    schema.uses.update().where(schema.uses.c.use_id == use_id).values(done_at=tx.now, **done)
                )
                tx.record("use", f"use:{use_id}", {"seal": seal.es_id, **done})
    return url, seal.es_id, signer, holder.certificate


def cpu(call, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def measure(count: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url, es_id, signer, holder = build(Path(tmp), count)
        with SealRegistry(url, signer=signer, actor="bench") as registry:
            peer = cpu(lambda: registry.check_seal(es_id), runs)

            def reserve() -> None:
                use = registry.reserve_use(es_id, holder)
                registry.fail_use(use.use_id, "benchmark")  # gives the count back; one more entry

            ours = cpu(reserve, runs)
            entries = len(registry.audit_entries())
    return {"uses": count, "entries": entries, "check_seal_s": peer, "reserve_and_fail_s": ours}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uses", default="100,1000,5000")
    args = parser.parse_args()
    rows = []
    for count in (int(n) for n in args.uses.split(",")):
        row = measure(count, args.runs)
        rows.append(row)
        peer, ours = row["check_seal_s"], row["reserve_and_fail_s"]
        print(
            f"{count:>6} uses ({row['entries']} entries): check_seal {peer * 1000:8.1f} ms, "
            f"reserve_use + fail_use {ours * 1000:8.1f} ms, ratio {ours / peer:5.2f}"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
