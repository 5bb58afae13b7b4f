"""A signed registry is checked against a pinned certificate, and a grant's count is the audit chain's.

forger4 a02: with no ``[registry] signing_cert`` (the default) a signed registry whose revocation was undone,
whose chain was recomputed and whose head row was rewritten or deleted passed every reader. Now the chain
itself records that its head is signed and by which certificate (a ``sign-head`` entry), and a reader without
a configured certificate refuses a registry that is signed, in one line naming the key to set.

forger4 a17: a grant for one use, used, got its use back when the ``uses`` row was marked failed or deleted
in SQL. Now the count that gates a use comes from the chain's own use entries, and every use of the seal is
checked against the chain before a new one is reserved. Each attack has its honest twin.
"""

import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from sealkit.errors import AuditChainBroken, ConfigError, GrantRefused, RegistryCertificateMissing
from sealkit.exit_codes import EXIT_CODES
from sealkit.seal import SealRegistry, make_seal_checker, usable_seal
from sealkit.seal import audit as audit_mod
from sealkit.seal.grants import GrantRequest, chain_uses
from sealkit.seal.uses import SignedDocument
from sealkit.ukey import open_key

from .custody_helpers import UNTIL
from .test_binding_and_cli import signed_data_with_seal
from .test_registry_tamper import populate, recompute_chain, signer, sql, undo_revocation

SET_CERT = r"set \[registry\] signing_cert"


@pytest.fixture(scope="module")
def registry_id(pki):
    return pki["ca"].issue("registry", "sign")


def head_sql(url, statement, **values):
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text(statement), values)
    engine.dispose()


# --- a02: a signed registry needs its certificate ---


def test_the_chain_records_once_that_its_head_is_signed(tmp_path, form, pki, maker, registry_id):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    official, _ = populate(url, form, pki, maker, signer(registry_id))
    with SealRegistry(url, signer=signer(registry_id)) as registry:
        registry.set_enabled(official, False)
        marks = [e for e in registry.audit_entries() if e["action"] == audit_mod.SIGNED_ACTION]
        report = registry.audit_verify()
    assert len(marks) == 1 and marks[0]["subject"] == audit_mod.SIGNED_SUBJECT
    assert json.loads(marks[0]["details"])["cert_sha256"] == audit_mod.cert_digest(
        registry_id.certificate.dump()
    )
    assert (
        report.ok
        and report.signed is True
        and report.signed_by == json.loads(marks[0]["details"])["cert_sha256"]
    )


def test_an_unsigned_registry_is_read_without_a_certificate(tmp_path, form, pki, maker):
    """The honest twin of the refusals below (the README tour's registry has no key)."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    official, _ = populate(url, form, pki, maker)
    with SealRegistry(url, read_only=True) as registry:
        report = registry.audit_verify()
        assert report.ok and report.signed is False and report.unchecked is None
        assert usable_seal(registry, official, pki["holder"].certificate).es_id == official
    assert not any(e["action"] == audit_mod.SIGNED_ACTION for e in SealRegistry(url).audit_entries())


@pytest.mark.parametrize("head", ["rewritten", "deleted"])
def test_a_tampered_signed_registry_is_refused_without_its_certificate(
    registry_url, form, pki, maker, makers, registry_id, head
):
    official, contract = populate(registry_url, form, pki, maker, signer(registry_id))
    holder = pki["holder"]
    with SealRegistry(registry_url, read_only=True, head_cert=registry_id.certificate) as registry:
        assert usable_seal(registry, official, holder.certificate).es_id == official  # honest, pinned
        der = registry.get(contract).seal_der
    signed = signed_data_with_seal(der, holder, open_key(holder.keyref))
    with (  # honest but not pinned: refused too
        SealRegistry(registry_url, read_only=True) as registry,
        pytest.raises(RegistryCertificateMissing, match=SET_CERT),
    ):
        usable_seal(registry, official, holder.certificate)
    undo_revocation(registry_url, contract)
    new_head = recompute_chain(registry_url)
    if head == "rewritten":
        head_sql(
            registry_url, "UPDATE audit_head SET seq = (SELECT max(seq) FROM audit), hash = :h", h=new_head
        )
    else:
        head_sql(registry_url, "DELETE FROM audit_head")
    with SealRegistry(registry_url, read_only=True) as registry:
        report = registry.audit_verify()
        assert not report.ok and report.signed is None and report.problems[0] == report.unchecked
        assert "signing_cert" in report.unchecked and "\n" not in report.unchecked
        with pytest.raises(RegistryCertificateMissing, match=SET_CERT):
            usable_seal(registry, contract, holder.certificate)
        seal_report = make_seal_checker(makers, registry=registry)(signed, None)
        assert not seal_report["ok"] and "signing_cert" in seal_report["message"]
    with SealRegistry(registry_url, read_only=True, head_cert=registry_id.certificate) as registry:
        problems = registry.audit_verify().problems
        expected = "signature does not verify" if head == "rewritten" else "the signed head was removed"
        assert any(expected in p for p in problems), problems
        with pytest.raises(AuditChainBroken):
            usable_seal(registry, contract, holder.certificate)


def test_a_writer_without_the_certificate_is_told_both_keys(tmp_path, form, pki, maker, registry_id):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    official, _ = populate(url, form, pki, maker, signer(registry_id))
    with (
        SealRegistry(url) as registry,
        pytest.raises(RegistryCertificateMissing, match=r"signing_cert.*signing_key"),
    ):
        registry.set_enabled(official, False)


def test_a_chain_signed_by_another_certificate_than_the_configured_one(
    tmp_path, form, pki, maker, registry_id
):
    """The chain names its certificate: a reader pinned to another one is told so."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    populate(url, form, pki, maker, signer(registry_id))
    other = pki["ca"].issue("registry-2", "sign")
    with SealRegistry(url, read_only=True, head_cert=other.certificate) as registry:
        problems = registry.audit_verify().problems
    assert "the audit chain says its head is signed by certificate" in problems[0]
    with SealRegistry(url, read_only=True, head_cert=registry_id.certificate) as registry:
        assert registry.audit_verify().problems == []  # the twin: the right certificate


def test_cli_audit_on_a_signed_registry_without_the_certificate(tmp_path, form, pki, maker, registry_id):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    populate(url, form, pki, maker, signer(registry_id))
    env = {
        "HOME": str(tmp_path),
        "SEALKIT_HOME": str(tmp_path / "home"),
        "SEALKIT_REGISTRY": url,
        "PATH": "/usr/bin:/bin",
    }

    def audit(*args):
        return subprocess.run(
            [sys.executable, "-m", "sealkit_cli.main", *args, "seal", "audit", "--verify"],
            capture_output=True,
            text=True,
            env={**env, "PYTHONPATH": ":".join(sys.path)},
            cwd=tmp_path,
        )

    refused = audit()
    assert refused.returncode == EXIT_CODES[ConfigError] == 11, refused.stderr
    assert refused.stderr.count("\n") == 1 and "[registry] signing_cert" in refused.stderr
    assert "Traceback" not in refused.stderr and not refused.stdout
    config = tmp_path / "sealkit.toml"
    config.write_text(f'[registry]\nsigning_cert = "{registry_id.cert_path}"\n', encoding="utf-8")
    checked = audit("--config", str(config))
    assert checked.returncode == 0 and "head signature verified" in checked.stdout, checked.stderr


# --- a17: a grant's count is the chain's ---


def _used_once(registry_url, form, pki, maker, registry_id):
    """A seal with a one-use grant, used once (reserved, then the document recorded)."""
    with SealRegistry(registry_url, actor="admin", signer=signer(registry_id)) as registry:
        holder = pki["holder"].certificate
        es_id = registry.issue(form, "contract", [holder], *maker, UNTIL).es_id
        grant = registry.grant(es_id, GrantRequest(holder, UNTIL, max_uses=1)).grant_id
        use = registry.reserve_use(es_id, holder)
        registry.complete_use(use.use_id, SignedDocument("one.pdf", "0" * 64, "1" * 64, "2" * 64))
    return es_id, grant, use.use_id


@pytest.mark.parametrize(
    "edit",
    ["UPDATE uses SET status = 'failed' WHERE use_id = '{id}'", "DELETE FROM uses WHERE use_id = '{id}'"],
    ids=["marked-failed", "deleted"],
)
def test_a_use_edited_behind_sealkit_does_not_give_the_use_back(
    registry_url, form, pki, maker, registry_id, edit
):
    es_id, grant, use_id = _used_once(registry_url, form, pki, maker, registry_id)
    holder = pki["holder"].certificate
    opened = {"signer": signer(registry_id), "actor": "clerk"}
    with SealRegistry(registry_url, **opened) as registry, pytest.raises(GrantRefused, match="used up"):
        registry.reserve_use(es_id, holder)  # honest: the one use is gone
    sql(registry_url, edit.format(id=use_id))
    with SealRegistry(registry_url, **opened) as registry:
        with pytest.raises(AuditChainBroken, match=f"use:{use_id} (was deleted|does not match)"):
            registry.reserve_use(es_id, holder)
        with registry.snapshot() as conn:  # the chain still counts the use, whatever the rows say
            assert chain_uses(conn, es_id) == {use_id: (grant, "done")}
    with SealRegistry(registry_url) as registry:
        assert len(registry.uses(es_id)) == (0 if "DELETE" in edit else 1)  # nothing new was reserved


def test_a_use_failed_by_sealkit_gives_the_use_back(tmp_path, form, pki, maker, registry_id):
    """The honest twin: a failure recorded by sealkit (in the chain) does give the count back."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    opened = {"signer": signer(registry_id), "actor": "clerk"}
    holder = pki["holder"].certificate
    with SealRegistry(url, **opened) as registry:
        es_id = registry.issue(form, "contract", [holder], *maker, UNTIL).es_id
        grant = registry.grant(es_id, GrantRequest(holder, UNTIL, max_uses=1)).grant_id
        first = registry.reserve_use(es_id, holder)
        with pytest.raises(GrantRefused, match="used up"):  # a reservation counts at once
            registry.reserve_use(es_id, holder)
        registry.fail_use(first.use_id, "signing failed")
        second = registry.reserve_use(es_id, holder)
        assert second.grant_id == grant
        with registry.snapshot() as conn:
            assert chain_uses(conn, es_id) == {
                first.use_id: (grant, "failed"),
                second.use_id: (grant, "reserved"),
            }


def test_a_use_of_another_seal_does_not_count(tmp_path, form, pki, maker, registry_id):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    holder = pki["holder"].certificate
    with SealRegistry(url, signer=signer(registry_id)) as registry:
        one = registry.issue(form, "contract", [holder], *maker, UNTIL).es_id
        two = registry.issue(form, "official", [holder], *maker, UNTIL).es_id
        registry.grant(one, GrantRequest(holder, UNTIL, max_uses=1))
        registry.grant(two, GrantRequest(holder, UNTIL, max_uses=1))
        registry.reserve_use(one, holder)
        assert registry.reserve_use(two, holder).es_id == two
        with registry.snapshot() as conn:
            assert len(chain_uses(conn, one)) == len(chain_uses(conn, two)) == 1
