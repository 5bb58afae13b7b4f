"""Roles: with `[registry] admin_certs`, issuing, extending, revoking and granting need a request signed by
an administrator's key, verified by the registry and recorded (the certificate's digest and the signature)
in the audit entry; uses of a seal need no administrator."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from sealkit.config import Config
from sealkit.errors import NotAuthorised
from sealkit.exit_codes import EXIT_CODES
from sealkit.seal import open_registry
from sealkit.seal.crypto import cert_digest
from sealkit.seal.grants import GrantRequest
from sealkit.seal.roles import AdminKey, check_approval
from sealkit.ukey import open_key

UNTIL = dt.date.today() + dt.timedelta(days=365)


@pytest.fixture(scope="module")
def admins(pki):
    return {"admin": pki["ca"].issue("seal-admin", "sign"), "clerk": pki["ca"].issue("clerk", "sign")}


def test_administrators_changes_need_their_signed_request(tmp_path, form, pki, maker, admins):
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    admin = admins["admin"]
    config = Config(raw={"registry": {"url": url, "admin_certs": [str(admin.cert_path)]}}, env={})
    holders = [pki["holder"].certificate]
    with open_registry(config=config, actor="clerk") as registry:
        with pytest.raises(NotAuthorised, match="needs a seal administrator"):
            registry.issue(form, "contract", holders, *maker, UNTIL)
        assert registry.list_seals() == []  # refused inside the transaction: nothing kept
    clerk = admins["clerk"]
    with open_key(clerk.keyref) as key:
        for cert, problem in (
            (clerk.certificate, "is not a seal administrator"),
            (admin.certificate, "does not verify"),
        ):
            # the clerk's own certificate; the administrator's certificate with the clerk's key
            with (
                open_registry(config=config, admin=AdminKey(key, cert)) as registry,
                pytest.raises(NotAuthorised, match=problem),
            ):
                registry.issue(form, "contract", holders, *maker, UNTIL)
    with (
        open_key(admin.keyref) as key,
        open_registry(config=config, actor="alice", admin=AdminKey(key, admin.certificate)) as registry,
    ):
        seal = registry.issue(form, "contract", holders, *maker, UNTIL)
        grant = registry.grant(seal.es_id, GrantRequest(pki["holder"].certificate, UNTIL))
    with open_registry(config=config, actor="bob") as registry:
        with pytest.raises(NotAuthorised):
            registry.withdraw_grant(grant.grant_id)
        use = registry.reserve_use(seal.es_id, pki["holder"].certificate)  # a use needs no administrator
        assert use.grant_id == grant.grant_id
        entries = registry.audit_entries()
        assert registry.audit_verify().ok
    approved = [e for e in entries if e["action"] in ("issue", "grant")]
    assert [e["actor"] for e in approved] == ["alice", "alice"]
    for entry in approved:
        details = json.loads(entry["details"])
        assert details["admin_cert_sha256"] == cert_digest(admin.certificate.dump())
        assert check_approval(entry, [admin.certificate]) is None
        assert check_approval(entry, [clerk.certificate]) == "not approved by an administrator"
    forged = dict(approved[1], actor="mallory")  # the signature covers the actor too
    assert check_approval(forged, [admin.certificate]) == "the administrator's signature does not verify"
    assert EXIT_CODES[NotAuthorised] == 15


def test_cli_grant_with_and_without_the_admin_key(tmp_path, form, pki, maker, admins):
    admin = admins["admin"]
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    config_file = tmp_path / "sealkit.toml"
    config_file.write_text(
        f'[registry]\nurl = "{url}"\nadmin_certs = ["{admin.cert_path}"]\n', encoding="utf-8"
    )
    config = Config(raw={"registry": {"url": url, "admin_certs": [str(admin.cert_path)]}}, env={})
    with (
        open_key(admin.keyref) as key,
        open_registry(config=config, admin=AdminKey(key, admin.certificate)) as reg,
    ):
        seal = reg.issue(form, "contract", [pki["holder"].certificate], *maker, UNTIL)

    def run(*args):
        command = [sys.executable, "-m", "sealkit_cli.main", "--config", str(config_file), "seal", *args]
        return subprocess.run(command, capture_output=True, text=True)

    holder = str(pki["holder"].cert_path)
    until = UNTIL.isoformat()
    refused = run("grant", seal.es_id, "--to", holder, "--until", until)
    assert refused.returncode == 15 and "--admin-key" in refused.stderr and "Traceback" not in refused.stderr
    made = run(
        "grant", seal.es_id, "--to", holder, "--until", until, "--purpose", "contract", "--max-uses", "2",
        "--admin-key", admin.keyref, "--admin-cert", str(admin.cert_path), "--actor", "alice", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    grant = json.loads(made.stdout)
    assert (grant["purposes"], grant["max_uses"], grant["granted_by"]) == (["contract"], 2, "alice")
    assert grant["valid_until"] == f"{until}T23:59:59+08:00"  # a date without a zone: Beijing time
    listed = run("grants", seal.es_id, "--json")
    assert [g["grant_id"] for g in json.loads(listed.stdout)["grants"]] == [grant["grant_id"]]
    assert run("withdraw", grant["grant_id"]).returncode == 15
    withdrawn = run(
        "withdraw",
        grant["grant_id"],
        "--admin-key",
        admin.keyref,
        "--admin-cert",
        str(admin.cert_path),
        "--json",
    )
    assert withdrawn.returncode == 0 and json.loads(withdrawn.stdout)["status"] == "withdrawn"
