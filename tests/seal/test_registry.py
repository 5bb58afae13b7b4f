"""The lifecycle registry on SQLite and a real PostgreSQL: operations, the audit chain against edits behind
sealkit's back, two processes racing, and a process killed inside a transaction."""

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from sealkit.errors import InvalidInput, SealError, SealNotFound, SealRevoked
from sealkit.seal import SealRegistry, parse_seal, verify_seal
from sealkit.seal.registry import PAUSE_ENV

from .conftest import wait_for_file

UNTIL = dt.date.today() + dt.timedelta(days=365)
SUCCESSOR = "91350100M000100Y43"


def issue(registry, form, pki, maker, kind="official"):
    handle, cert = maker
    return registry.issue(form, kind, [pki["holder"].certificate], handle, cert, UNTIL)


def test_lifecycle(registry_url, form, pki, maker, makers):
    with SealRegistry(registry_url, actor="alice") as registry:
        official = issue(registry, form, pki, maker)
        contract = issue(registry, form, pki, maker, "contract")
        assert official.es_id == "37010201000001" and contract.es_id == "37010202000001"
        assert contract.name == "山东省示范数据研究院合同专用章"
        assert verify_seal(official.seal_der, trust=makers).ok

        extended = registry.extend(official.es_id, UNTIL + dt.timedelta(days=365), *maker)
        assert extended.version == 2 and extended.valid_end > official.valid_end
        assert parse_seal(extended.seal_der).valid_end == extended.valid_end
        assert [v for v, _, _ in registry.versions(official.es_id)] == [1, 2]

        assert registry.set_enabled(contract.es_id, False).status == "disabled"
        assert registry.set_enabled(contract.es_id, True).status == "enabled"
        revoked = registry.revoke(contract.es_id, "imprint-void", note="imprint lost")
        assert revoked.status == "revoked" and revoked.revocation.reason == "imprint-void"
        with pytest.raises(SealRevoked):
            registry.extend(contract.es_id, UNTIL, *maker)
        with pytest.raises(SealRevoked):
            registry.set_enabled(contract.es_id, True)
        with pytest.raises(SealRevoked):
            registry.revoke(contract.es_id, "other")
        with pytest.raises(InvalidInput):
            registry.revoke(official.es_id, "bored")
        with pytest.raises(SealNotFound):
            registry.get("nope")

        assert registry.merge([form.uscc], SUCCESSOR) == [official.es_id]
        merged = registry.get(official.es_id)
        assert (merged.status, merged.revocation.reason, merged.revocation.successor) == (
            "revoked",
            "merged",
            SUCCESSOR,
        )
        with pytest.raises(SealError, match="no unrevoked seal"):
            registry.merge([form.uscc], SUCCESSOR)

        assert {r.es_id for r in registry.list_seals(status="revoked")} == {official.es_id, contract.es_id}
        assert registry.list_seals(unit="91350100M000100Y43") == []
        report = registry.audit_verify()
        assert report.ok, report.problems
        actions = [e["action"] for e in registry.audit_entries()]
        assert actions.count("revoke") == 4 and actions[0] == "unit"
        assert {e["actor"] for e in registry.audit_entries()} == {"alice"}


def test_expiring_filter(tmp_path, form, pki, maker):
    with SealRegistry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        soon = registry.issue(
            form, "official", [pki["holder"].certificate], *maker, dt.date.today() + dt.timedelta(days=10)
        )
        issue(registry, form, pki, maker, "contract")
        assert [r.es_id for r in registry.list_seals(expiring_within=dt.timedelta(days=30))] == [soon.es_id]


# --- edits behind sealkit's back ---


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE seals SET status = 'enabled' WHERE kind = 'contract'", "seal:37010202000001 does not match"),
        (
            "UPDATE seals SET valid_end = '2099-12-31T15:59:59Z' WHERE kind = 'official'",
            "seal:37010201000001",
        ),
        (
            "UPDATE seal_versions SET seal_der = X'00' WHERE version = 1 AND es_id LIKE '%01000001'",
            "seal:37010201",
        ),
        ("DELETE FROM revocations", "revocation:37010202000001 was deleted"),
        (
            "UPDATE revocations SET revoked_at = '2099-01-01T00:00:00Z'",
            "revocation:37010202000001 does not match",
        ),
        ("UPDATE units SET name = '别的单位'", "unit:12370102MB00000014 does not match"),
        ("UPDATE audit SET actor = 'mallory' WHERE seq = 2", "audit entry 2 was altered"),
        ("DELETE FROM audit WHERE seq = 3", "audit entry 4 found where 3 was expected"),
        ("UPDATE audit SET seq = seq + 100 WHERE seq = 2", "found where"),
        (
            "INSERT INTO revocations VALUES ('X1', '2025-01-01T00:00:00Z', 'other', NULL, NULL, 'local')",
            "revocation:X1 exists but the audit trail never recorded it",
        ),
    ],
)
def test_audit_catches_edits_behind_sealkits_back(tmp_path, form, pki, maker, sql, problem):
    path = tmp_path / "registry.sqlite3"
    with SealRegistry(f"sqlite:///{path}") as registry:
        issue(registry, form, pki, maker)
        contract = issue(registry, form, pki, maker, "contract")
        registry.extend(contract.es_id, UNTIL + dt.timedelta(days=1), *maker)
        registry.revoke(contract.es_id, "other")
        assert registry.audit_verify().ok
    with sqlite3.connect(path) as conn:
        conn.execute(sql)
    with SealRegistry(f"sqlite:///{path}") as registry:
        report = registry.audit_verify()
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems


# --- processes ---

WORKER = textwrap.dedent(
    """
    import sys, datetime as dt
    from sealkit.seal import SealRegistry
    from sealkit.ukey import open_key, load_certificates
    url, keyref, cert, extend_id, count, revoke_id, name = sys.argv[1:]
    handle, maker_cert = open_key(keyref), load_certificates(cert)[0]
    with SealRegistry(url, actor=name) as registry:
        for i in range(int(count)):
            registry.extend(extend_id, dt.date(2030, 1, 1) + dt.timedelta(days=i), handle, maker_cert)
        registry.revoke(revoke_id, "dissolved", note=name)
    """
)


def test_two_processes_lose_nothing(registry_url, form, pki, maker):
    with SealRegistry(registry_url) as registry:
        shared = issue(registry, form, pki, maker)
        a = issue(registry, form, pki, maker, "contract")
        b = issue(registry, form, pki, maker, "finance")
    count = 12
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                registry_url,
                pki["maker"].keyref,
                str(pki["maker"].cert_path),
                shared.es_id,
                str(count),
                target.es_id,
                name,
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for target, name in ((a, "worker-a"), (b, "worker-b"))
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    with SealRegistry(registry_url) as registry:
        assert registry.get(shared.es_id).version == 1 + 2 * count
        assert [v for v, _, _ in registry.versions(shared.es_id)] == list(range(1, 2 + 2 * count))
        assert registry.get(a.es_id).status == registry.get(b.es_id).status == "revoked"
        entries = registry.audit_entries()
        assert sum(e["action"] == "extend" for e in entries) == 2 * count
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
        report = registry.audit_verify()
        assert report.ok, report.problems


def test_kill_inside_a_transaction_leaves_the_registry_consistent(registry_url, tmp_path, form, pki, maker):
    with SealRegistry(registry_url) as registry:
        seal = issue(registry, form, pki, maker)
        before = registry.audit_verify()
    marker = tmp_path / "in-transaction"
    env = {**os.environ, PAUSE_ENV: str(marker)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sealkit_cli.main",
            "seal",
            "revoke",
            seal.es_id,
            "--reason",
            "other",
            "--registry",
            registry_url,
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_file(marker, process, "sealkit seal revoke")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    with SealRegistry(registry_url) as registry:
        assert registry.get(seal.es_id).status == "enabled"
        assert registry.revocation(seal.es_id) is None
        report = registry.audit_verify()
        assert report.ok and report.head == before.head
        assert registry.revoke(seal.es_id, "other").status == "revoked"  # no lock left behind
        assert registry.audit_verify().ok
