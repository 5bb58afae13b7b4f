"""Grants enforced at use, on SQLite and a real PostgreSQL: a live grant lets its holder sign and the use is
registered; no grant, an expired or withdrawn or suspended grant, the wrong purpose, or a used-up count is
refused before anything is written (no output file, no register entry)."""

import datetime as dt
import hashlib

import pytest

from sealkit import sm2
from sealkit.config import Config
from sealkit.errors import GrantRefused, PdfError, SealError
from sealkit.flows import SealPlacement
from sealkit.seal import parse_seal
from sealkit.seal.grants import GrantRequest

from .conftest import UNIT_NAME
from .custody_helpers import UNTIL, make_world


@pytest.fixture()
def world(registry_url, tmp_path, pki, form, maker):
    return make_world(registry_url, tmp_path, pki, form, maker)


def refused(world, name, match, **kwargs):
    before = len(world.uses())
    with pytest.raises(GrantRefused, match=match):
        world.sign(name, **kwargs)
    assert not (world.base / name).exists()  # nothing written
    assert len(world.uses()) == before  # no register entry


def test_grant_sign_register(world):
    grant_id = world.grant(purposes=["contract"], max_uses=5)
    out, result = world.sign("signed.pdf")
    data = out.read_bytes()
    [use] = world.uses()
    assert (use.status, use.grant_id, use.purpose, use.es_id) == ("done", grant_id, "contract", world.seal_id)
    doc = use.document
    assert doc.sha256 == result.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.sm3 == bytes(sm2.sm3(data)).hex()
    assert (doc.name, doc.field, doc.page) == ("signed.pdf", result.signature.field, 1)
    assert doc.rect == (120.0, 40.0, 40.0, 40.0)  # x, y, width, height in mm, as --rect
    assert doc.revision_sha256 == doc.sha256  # no later revision: the signed revision is the file
    assert use.signer_sha256 == hashlib.sha256(world.pki["holder"].certificate.dump()).hexdigest()
    assert result.to_dict()["register_entry"] == use.use_id and result.to_dict()["grant"] == grant_id
    with world.registry() as registry:
        assert registry.audit_verify().ok
        actions = [
            (e["action"], e["subject"]) for e in registry.audit_entries() if e["subject"][:4] in "grantuse:"
        ]
        assert ("grant", f"grant:{grant_id}") in actions
        assert [a for a, s in actions if s == f"use:{use.use_id}"] == ["use-reserve", "use"]
        assert registry.get_grant(grant_id).used == 1


def test_seal_without_grants_is_used_and_registered_unless_grants_are_required(world):
    world.sign("free.pdf")
    [use] = world.uses()
    assert use.status == "done" and use.grant_id is None
    strict = Config(raw={"registry": {"grants_required": True}})
    refused(world, "strict.pdf", "requires one", config=strict)
    world.grant()
    world.sign("strict-granted.pdf", config=strict)
    assert [u.status for u in world.uses()] == ["done", "done"]


def test_no_grant_for_this_signer(world, pki, form, maker):
    colleague = pki["ca"].issue("colleague", "sign", organization=UNIT_NAME)
    with world.registry() as registry:  # a seal with a second holder, who alone has a grant
        handle, cert = maker
        other = registry.issue(
            form, "official", [pki["holder"].certificate, colleague.certificate], handle, cert, UNTIL
        )
    world.seal_id = other.es_id
    world.grant(holder=colleague.certificate)
    refused(world, "x.pdf", "no grant of seal")


def test_expired_grant(world):
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    world.grant(valid_from=yesterday - dt.timedelta(days=5), until=yesterday)
    refused(world, "x.pdf", "expired")


def test_wrong_purpose(world):
    world.grant(purposes=["bid"])
    refused(world, "x.pdf", "is for bid, not contract")
    world.sign("bid.pdf", purpose="bid")
    assert [u.purpose for u in world.uses()] == ["bid"]


def test_exhausted_count(world):
    grant_id = world.grant(max_uses=1)
    world.sign("one.pdf")
    refused(world, "two.pdf", r"used up \(1 of 1 uses\)")
    with world.registry() as registry:
        assert registry.get_grant(grant_id).used == 1


def test_withdraw_suspend_resume(world):
    grant_id = world.grant()
    with world.registry() as registry:
        registry.suspend_grant(grant_id, "on leave")
    refused(world, "s.pdf", "suspended")
    with world.registry() as registry:
        registry.resume_grant(grant_id)
    world.sign("ok.pdf")
    with world.registry() as registry:
        assert registry.withdraw_grant(grant_id, "left the unit").status == "withdrawn"
        with pytest.raises(SealError, match="withdrawn"):
            registry.resume_grant(grant_id)
    refused(world, "w.pdf", "withdrawn")
    with world.registry() as registry:
        grant = registry.get_grant(grant_id)
        assert len(grant.suspensions) == 1 and grant.suspensions[0][1] is not None
        assert registry.audit_verify().ok


def test_a_failed_signing_is_marked_failed_and_gives_the_use_back(world):
    grant_id = world.grant(max_uses=1)
    with pytest.raises(PdfError):  # fails after the reservation: the text is not in the contract
        world.sign("bad.pdf", placement=SealPlacement(at_text="不存在的文字"))
    assert not (world.base / "bad.pdf").exists()
    [use] = world.uses()
    assert use.status == "failed" and use.document is None and "signing failed" in use.note
    world.sign("good.pdf")  # the failed use did not count
    with world.registry() as registry:
        assert registry.get_grant(grant_id).used == 1


def test_grants_go_to_holders_only_and_extending_keeps_grants_and_register(world, pki, maker):
    with world.registry() as registry, pytest.raises(SealError, match="not a holder"):
        registry.grant(world.seal_id, GrantRequest(pki["other"].certificate, UNTIL))
    grant_id = world.grant(max_uses=3)
    world.sign("before.pdf")
    with world.registry() as registry:
        extended = registry.extend(world.seal_id, UNTIL + dt.timedelta(days=365), *maker)
        assert extended.version == 2
    world.sign("after.pdf")
    uses = world.uses()
    assert [(u.grant_id, u.status) for u in uses] == [(grant_id, "done")] * 2
    with world.registry() as registry:
        assert registry.get_grant(grant_id).used == 2
        assert parse_seal(registry.get(world.seal_id).seal_der).valid_end == extended.valid_end
        assert registry.audit_verify().ok


def test_an_existing_registry_gains_the_custody_tables(tmp_path, pki, form, maker):
    """A registry made before grants (schema 2) is migrated when opened for writing; its chain stays
    intact."""
    import sqlite3

    from sealkit.seal import SealRegistry
    from sealkit.seal.schema import LATEST

    path = tmp_path / "old.sqlite3"
    world = make_world(f"sqlite:///{path}", tmp_path, pki, form, maker)
    with sqlite3.connect(path) as db:  # roll the schema back to version 2, as an older sealkit left it
        db.execute("DROP TABLE grants")
        db.execute("DROP TABLE uses")
        db.execute("DELETE FROM schema_version WHERE version = 3")
    with SealRegistry(f"sqlite:///{path}?mode=ro") as registry:  # a reader does not migrate
        assert registry.audit_verify().ok
    world.grant(max_uses=1)
    world.sign("after-migration.pdf")
    with sqlite3.connect(path) as db:
        assert max(v for (v,) in db.execute("SELECT version FROM schema_version")) == LATEST == 3
    with world.registry() as registry:
        assert registry.audit_verify().ok and [u.status for u in registry.uses()] == ["done"]
