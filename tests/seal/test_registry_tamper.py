"""A registry that notices tampering (issue 10, item 13), on SQLite and a real PostgreSQL: signing and
verifying check a seal's own audit entries, the chain's head is signed by the registry key so that a chain
recomputed behind sealkit's back is caught, and readers work on a read-only registry."""

import datetime as dt
import json
import stat

import pytest
from sealkit_cli.main import run
from sqlalchemy import create_engine, text

from sealkit.errors import AuditChainBroken, RegistryError, SealRevoked
from sealkit.seal import HeadSigner, SealRegistry, make_seal_checker, usable_seal
from sealkit.seal import audit as audit_mod
from sealkit.seal.crypto import sign_with
from sealkit.ukey import open_key

from .test_binding_and_cli import signed_data_with_seal

UNTIL = dt.date.today() + dt.timedelta(days=365)


@pytest.fixture(scope="module")
def registry_id(pki):
    """The registry key's certificate, from the signers' CA (any CA will do: the certificate is pinned)."""
    return pki["ca"].issue("registry", "sign")


def signer(identity):
    return HeadSigner(open_key(identity.keyref), identity.certificate, owned=True)


def populate(url, form, pki, maker, head_signer=None):
    """An enabled official seal and a revoked contract seal; returns their IDs."""
    with SealRegistry(url, actor="registrar", signer=head_signer) as registry:
        holders = [pki["holder"].certificate]
        official = registry.issue(form, "official", holders, *maker, UNTIL).es_id
        contract = registry.issue(form, "contract", holders, *maker, UNTIL).es_id
        registry.revoke(contract, "imprint-void", note="UKey lost")
    return official, contract


def sql(url, *statements):
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def undo_revocation(url, es_id):
    """What the issue observed: the seal set back to enabled, its revocation row deleted."""
    sql(
        url,
        f"UPDATE seals SET status = 'enabled' WHERE es_id = '{es_id}'",
        f"DELETE FROM revocations WHERE es_id = '{es_id}'",
    )


def recompute_chain(url):
    """The attacker who knows the keyless scheme: every subject's last state digest set to its rows now, then
    every hash recomputed, so the chain is consistent again."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit ORDER BY seq"))]
        states = audit_mod.subject_states(conn)
        last = {row["subject"]: i for i, row in enumerate(rows)}
        prev = audit_mod.GENESIS
        for i, row in enumerate(rows):
            if last[row["subject"]] == i:
                row["state_digest"] = states.get(row["subject"], audit_mod.GENESIS)
            row["prev_hash"] = prev
            row["hash"] = prev = audit_mod.entry_hash(row)
            conn.execute(
                text("UPDATE audit SET state_digest = :s, prev_hash = :p, hash = :h WHERE seq = :q"),
                {"s": row["state_digest"], "p": row["prev_hash"], "h": row["hash"], "q": row["seq"]},
            )
    engine.dispose()
    return prev


@pytest.mark.parametrize(
    ("edits", "problem"),
    [
        (["UPDATE seals SET status = 'enabled' WHERE es_id = '{id}'"], "seal:{id} does not match"),
        (
            [
                "UPDATE seals SET status = 'enabled' WHERE es_id = '{id}'",
                "DELETE FROM revocations WHERE es_id = '{id}'",
            ],
            "revocation:{id} was deleted",
        ),
    ],
    ids=["status", "status-and-revocation"],
)
def test_a_seal_set_back_to_enabled_is_refused_for_signing(registry_url, form, pki, maker, edits, problem):
    official, contract = populate(registry_url, form, pki, maker)
    holder = pki["holder"].certificate
    with SealRegistry(registry_url) as registry, pytest.raises(SealRevoked):  # before the edit: revoked
        usable_seal(registry, contract, holder)
    sql(registry_url, *[e.format(id=contract) for e in edits])
    with SealRegistry(registry_url) as registry:
        with pytest.raises(AuditChainBroken, match=problem.format(id=contract)):
            usable_seal(registry, contract, holder)
        assert usable_seal(registry, official, holder).es_id == official  # the honest twin


def test_a_deleted_revocation_row_fails_verification_with_the_registry(
    registry_url, form, pki, maker, makers
):
    _, contract = populate(registry_url, form, pki, maker)
    with SealRegistry(registry_url) as registry:
        der = registry.get(contract).seal_der
        checker = make_seal_checker(makers, registry=registry)
        signed = signed_data_with_seal(der, pki["holder"], open_key(pki["holder"].keyref))
        assert checker(signed, None)["reason"] == "seal.revoked-no-poe"  # honest: the revocation is seen
    sql(registry_url, f"DELETE FROM revocations WHERE es_id = '{contract}'")
    with SealRegistry(registry_url, read_only=True) as registry:
        report = make_seal_checker(makers, registry=registry)(signed, None)
    assert not report["ok"] and report["reason"] == "seal.registry-tampered"
    assert f"revocation:{contract} was deleted" in report["message"]


def test_a_recomputed_chain_is_caught_by_the_signed_head(registry_url, form, pki, maker, registry_id):
    official, contract = populate(registry_url, form, pki, maker, signer(registry_id))
    holder = pki["holder"].certificate
    with SealRegistry(registry_url, head_cert=registry_id.certificate) as registry:
        honest = registry.audit_verify()
        assert honest.ok and honest.signed is True, honest.problems
    undo_revocation(registry_url, contract)
    recompute_chain(registry_url)
    # The keyless chain itself is consistent again: only the (stale) signed head gives the forgery away.
    with SealRegistry(registry_url) as registry:  # no certificate: refused, saying which key to set
        report = registry.audit_verify()
        assert report.unchecked == report.problems[0] and "[registry] signing_cert" in report.unchecked
        assert report.problems[1:] and all("signed audit head" in p for p in report.problems[1:])
    with SealRegistry(registry_url, head_cert=registry_id.certificate) as registry:
        report = registry.audit_verify()
        assert not report.ok and "chain ends at entry" in report.problems[0]
        with pytest.raises(AuditChainBroken, match="signed audit head"):
            usable_seal(registry, contract, holder)
        with pytest.raises(AuditChainBroken):  # the whole chain is suspect, so every seal is refused
            usable_seal(registry, official, holder)


def test_a_head_re_signed_by_another_key_or_deleted_is_caught(tmp_path, form, pki, maker, registry_id):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _, contract = populate(url, form, pki, maker, signer(registry_id))
    undo_revocation(url, contract)
    head = recompute_chain(url)
    mallory = pki["ca"].issue("mallory", "sign")
    with SealRegistry(url) as registry:
        seq = registry.audit_entries()[-1]["seq"]
    algorithm, signature = sign_with(open_key(mallory.keyref), audit_mod.head_message(seq, head))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_head SET seq = :q, hash = :h, algorithm = :a, signature = :s, cert_sha256 = :c"
            ),
            {
                "q": seq,
                "h": head,
                "a": algorithm,
                "s": signature,
                "c": audit_mod.cert_digest(mallory.certificate.dump()),
            },
        )
    with SealRegistry(url, head_cert=registry_id.certificate) as registry:
        assert registry.audit_verify().problems == [
            "the audit head was signed by another certificate than the registry's"
        ]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    engine.dispose()
    with SealRegistry(url, head_cert=registry_id.certificate) as registry:
        assert "not signed" in registry.audit_verify().problems[0]


def test_a_writer_without_the_key_cannot_extend_a_signed_chain(tmp_path, form, pki, maker, registry_id):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    official, _ = populate(url, form, pki, maker, signer(registry_id))
    with SealRegistry(url) as registry:
        with pytest.raises(RegistryError, match="signing_key"):
            registry.set_enabled(official, False)
        assert registry.get(official).status == "enabled"
    with SealRegistry(url, signer=signer(registry_id)) as registry:
        assert registry.set_enabled(official, False).status == "disabled"  # with the key it works
        report = registry.audit_verify()
        assert report.ok and report.signed is True


def test_a_registry_key_its_certificate_does_not_certify_is_refused(tmp_path, pki, registry_id):
    with pytest.raises(Exception, match="does not match the registry key"):
        SealRegistry(
            f"sqlite:///{tmp_path / 'r.db'}",
            signer=HeadSigner(open_key(pki["holder"].keyref), registry_id.certificate),
        )
    enc = pki["ca"].issue("registry-enc", "encrypt")
    with pytest.raises(Exception, match="registry-signing"):
        SealRegistry(
            f"sqlite:///{tmp_path / 'r.db'}", signer=HeadSigner(open_key(enc.keyref), enc.certificate)
        )


def test_readers_work_on_a_read_only_registry(tmp_path, form, pki, maker, makers, registry_id):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "registry.sqlite3"
    url = f"sqlite:///{path}"
    official, contract = populate(url, form, pki, maker, signer(registry_id))
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = path.read_bytes()
    try:
        for opened in (
            SealRegistry(url, read_only=True, head_cert=registry_id.certificate),
            SealRegistry(url + "?mode=ro", head_cert=registry_id.certificate),
        ):
            with opened as registry:
                assert registry.read_only
                assert usable_seal(registry, official, pki["holder"].certificate).es_id == official
                assert registry.checked_revocation(contract).reason == "imprint-void"
                assert registry.audit_verify().signed is True
                with pytest.raises(RegistryError, match="read-only"):
                    registry.set_enabled(official, False)
        assert path.read_bytes() == before
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with pytest.raises(RegistryError, match="no registry file"):
        SealRegistry(f"sqlite:///{tmp_path / 'missing.db'}", read_only=True)


def test_cli_audit_checks_the_head_signature(tmp_path, capsys, monkeypatch, form, pki, maker, registry_id):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    config = tmp_path / "sealkit.toml"
    config.write_text(
        f'[registry]\nurl = "{url}"\nsigning_key = "{registry_id.keyref}"\n'
        f'signing_cert = "{registry_id.cert_path}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SEALKIT_CONFIG", str(config))
    from sealkit import load_config
    from sealkit.seal import open_registry

    with open_registry(config=load_config(config)) as registry:  # the configured key signs every change
        holders = [pki["holder"].certificate]
        es_id = registry.issue(form, "contract", holders, *maker, UNTIL).es_id
        registry.revoke(es_id, "other")
    code = run(["--config", str(config), "seal", "audit", "--verify", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["signed"] is True
    code = run(["seal", "audit", "--verify", "--registry", url + "?mode=ro"])
    assert code == 0 and "head signature verified" in capsys.readouterr().out
    undo_revocation(url, es_id)
    recompute_chain(url)
    code = run(["--config", str(config), "seal", "audit", "--verify"])
    err = capsys.readouterr().err
    assert code == 10 and err.count("\n") == 1 and "signed audit head" in err


def test_the_registry_key_is_opened_only_for_a_change(tmp_path, capsys, form, pki, maker, registry_id):
    """Reading commands never touch the registry key (a token would ask for its PIN); changes need it."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    official, _ = populate(url, form, pki, maker, signer(registry_id))
    config = tmp_path / "sealkit.toml"
    config.write_text(
        f'[registry]\nurl = "{url}"\nsigning_key = "file:{tmp_path / "missing.pem"}"\n'
        f'signing_cert = "{registry_id.cert_path}"\n',
        encoding="utf-8",
    )
    code = run(["--config", str(config), "seal", "list", "--json"])
    assert code == 0 and len(json.loads(capsys.readouterr().out)["seals"]) == 2
    code = run(["--config", str(config), "seal", "disable", official])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "missing.pem" in err
    with SealRegistry(url, head_cert=registry_id.certificate) as registry:
        assert registry.get(official).status == "enabled" and registry.audit_verify().ok


def test_a_change_never_launders_an_edit_behind_sealkits_back(tmp_path, form, pki, maker):
    """Enabling a seal whose revocation was deleted would record the forged state as sealkit's own."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    official, contract = populate(url, form, pki, maker)
    sql(url, f"UPDATE seals SET status = 'disabled' WHERE es_id = '{contract}'")
    sql(url, f"DELETE FROM revocations WHERE es_id = '{contract}'")
    with SealRegistry(url) as registry:
        with pytest.raises(AuditChainBroken):
            registry.set_enabled(contract, True)
        assert registry.get(contract).status == "disabled"
        assert registry.set_enabled(official, False).status == "disabled"  # an untouched seal still changes
