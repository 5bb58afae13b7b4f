"""Verification with a registry shows, for each sealed signature, its use-register entry (found by the SHA-256
of the signed revision) and whether the signer held a grant at the signing time — the timestamp's when there
is one — and warns of a seal used outside the register."""

import datetime as dt

import pytest

from sealkit import timefmt
from sealkit.dev.services import PkiServices
from sealkit.flows import verify_contract
from sealkit.pdf import Placement, SealAppearance, sign_pdf
from sealkit.seal import seal_signed_attribute, usable_seal
from sealkit.seal.grants import Grant
from sealkit.ukey import open_key

from .custody_helpers import make_world


@pytest.fixture()
def world(registry_url, tmp_path, pki, form, maker):
    return make_world(registry_url, tmp_path, pki, form, maker)


def verify(world, path):
    report = verify_contract(
        path,
        trust=[world.pki["ca"].root.cert_path],
        seal_maker_trust=[world.pki["maker_ca"].root.cert_path],
        registry_url=world.url,
    )
    [signature] = report.signatures
    check = next(c for c in signature.checks if c.name == "seal-custody")
    return signature, check


def test_verification_reports_the_grant_and_the_register_entry(world):
    grant_id = world.grant(purposes=["contract"])
    out, _ = world.sign("signed.pdf")
    [use] = world.uses()
    signature, check = verify(world, out)
    custody = signature.seal["custody"]
    assert custody["register_entry"]["use_id"] == use.use_id
    assert custody["register_entry"]["sha256"] == use.document.sha256
    assert custody["held_grant"] is True and custody["grant"]["grant_id"] == grant_id
    assert custody["time_source"].startswith("register")  # no timestamp: the register's own time, said so
    assert check.ok and check.level == "pass" and f"register entry {use.use_id}" in check.detail
    assert signature.indication == "TOTAL-PASSED"

    # Withdrawn later: the signer still held the grant when signing.
    with world.registry() as registry:
        registry.withdraw_grant(grant_id)
    signature, check = verify(world, out)
    assert signature.seal["custody"]["held_grant"] is True and check.ok


def test_a_seal_used_outside_the_register_is_a_warning(world, tmp_path):
    world.grant()
    world.sign("registered.pdf")  # the register has an entry, but not for this document
    holder = world.pki["holder"]
    with world.registry() as registry:
        seal = usable_seal(registry, world.seal_id, holder.certificate)  # bypasses the register
    out = tmp_path / "outside.pdf"
    with open_key(holder.keyref) as key:
        sign_pdf(
            world.contract,
            out,
            key,
            cert=holder.cert_path,
            appearance=SealAppearance(seal.image_png, seal.width_mm, seal.height_mm),
            placement=Placement.at_rect(1, (20, 20, 40, 40)),
            extra_signed_attributes=[seal_signed_attribute(seal.seseal_der)],
        )
    signature, check = verify(world, out)
    assert signature.seal["custody"]["register_entry"] is None
    assert not check.ok and check.level == "warning" and "used outside the register" in check.detail
    assert signature.seal["ok"] is True  # the seal itself is fine: custody is a warning, not a failure


def test_the_grant_is_judged_at_the_timestamp(world, tmp_path):
    world.grant()
    with PkiServices.start(world.pki["ca"]) as services:
        out, _ = world.sign("stamped.pdf", tsa=services.tsa_url)
        signature, check = verify(world, out)
    custody = signature.seal["custody"]
    assert custody["time_source"] == "timestamp" and custody["held_grant"] is True, custody
    proven = dt.datetime.fromisoformat(signature.proven_time)
    assert custody["time"] == timefmt.format_time(proven)
    assert check.ok


def test_a_grant_covers_the_moments_it_was_live():
    """The rule verification applies at the proven time: withdrawn or suspended later still covered."""
    t = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    grant = Grant(
        "G000001", "S", "h", "holder", t, t + 10 * hour, ["contract"], 3, "withdrawn",
        [(t + 2 * hour, t + 3 * hour)], t + 5 * hour, t, "admin",
    )  # fmt: skip
    assert grant.problem_at(t + hour, "contract") is None
    assert grant.problem_at(t + 2 * hour) is None  # the second the suspension was recorded
    assert "suspended" in grant.problem_at(t + 2 * hour + dt.timedelta(seconds=1))
    assert grant.problem_at(t + 4 * hour) is None  # resumed
    assert "withdrawn" in grant.problem_at(t + 5 * hour + dt.timedelta(seconds=1))
    assert "starts" in grant.problem_at(t - hour)
    assert "not bid" in grant.problem_at(t + hour, "bid")
