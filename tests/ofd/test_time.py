"""Time in OFD verification: a claimed time proves nothing (judged at the validation time, default now); an
intact timestamp from a trusted TSA proves when the seal was applied, and seal validity, seal revocation and
the certificates are judged then."""

import datetime as dt

import pytest

from sealkit.dev.sample_ofd import sample_contract_ofd
from sealkit.dev.services import PkiServices
from sealkit.seal import Revocation
from sealkit.trust import make_timestamper
from tests.ofd.helpers import members, rewrite, sign, verify

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)  # the 30-day seal has expired, certificates have not


@pytest.fixture(scope="module")
def tsa(pki):
    with PkiServices.start(pki["signing"]) as services:
        yield services


@pytest.fixture(scope="module")
def short_seal(make_holder_seal):
    return make_holder_seal("supplier", "37010200000030", days=30)


@pytest.fixture(scope="module")
def stamped(pki, seals, tsa, short_seal, tmp_path_factory):
    directory = tmp_path_factory.mktemp("stamped")
    (directory / "c.ofd").write_bytes(sample_contract_ofd(pages=2))
    return sign(
        pki,
        seals,
        directory / "c.ofd",
        directory / "s.ofd",
        seal=short_seal,
        timestamper=make_timestamper(tsa.tsa_url),
    ).read_bytes()


@pytest.fixture(scope="module")
def unstamped(pki, seals, short_seal, tmp_path_factory):
    directory = tmp_path_factory.mktemp("unstamped")
    (directory / "c.ofd").write_bytes(sample_contract_ofd(pages=2))
    return sign(pki, seals, directory / "c.ofd", directory / "s.ofd", seal=short_seal).read_bytes()


def test_timestamp_is_verified_and_proves_the_time(stamped, anchors):
    report = verify(stamped, anchors)
    assert report.passed, report.to_dict()
    verdict = report.signatures[0]
    assert verdict.timestamp["intact"] and verdict.timestamp["trusted"]
    assert verdict.seal["time_source"] == "timestamp" and verdict.proven_time == verdict.timestamp["time"]
    assert any(c.name == "timestamp" and c.ok for c in verdict.checks)


def test_claimed_time_proves_nothing(unstamped, anchors):
    """Honest now; sixty days later the 30-day seal has expired and nothing proves it was used before."""
    assert verify(unstamped, anchors).passed
    later = verify(unstamped, anchors, validation_time=LATER).signatures[0]
    assert later.indication == "INDETERMINATE"
    assert "evaluation.seal-expired-no-poe" in later.reasons
    assert later.claimed_time is not None and later.proven_time is None  # the claim is reported, not believed


def test_timestamp_keeps_an_expired_seal_valid(stamped, anchors):
    later = verify(stamped, anchors, validation_time=LATER)
    assert later.passed, later.to_dict()


def test_seal_revocation_against_the_proven_time(stamped, unstamped, anchors):
    es_id = "37010200000030"
    before = {es_id: Revocation(es_id, dt.datetime.now(dt.UTC) - dt.timedelta(days=1), "key_compromise")}
    after = {es_id: Revocation(es_id, dt.datetime.now(dt.UTC) + dt.timedelta(days=1), "dissolved")}
    failed = verify(stamped, anchors, revocations=before.get).signatures[0]
    assert failed.indication == "TOTAL-FAILED" and "revoked.seal" in failed.reasons
    kept = verify(stamped, anchors, revocations=after.get, validation_time=LATER - dt.timedelta(days=55))
    assert kept.passed, kept.to_dict()
    unproven = verify(unstamped, anchors, revocations=before.get).signatures[0]
    assert unproven.indication == "INDETERMINATE" and "evaluation.seal-revoked-no-poe" in unproven.reasons


def test_a_timestamp_moved_from_another_signature_is_caught(stamped, unstamped, anchors):
    """The token of one signature pasted into another's SignedValue.dat covers other data."""
    from sealkit.seal import asn1

    name = "Doc_0/Signs/Sign_0/SignedValue.dat"
    token = asn1.SES_Signature.load(members(stamped)[name])["timeStamp"]

    def paste(files):
        value = asn1.SES_Signature.load(files[name])
        value["timeStamp"] = token.native
        files[name] = value.dump(force=True)

    verdict = verify(rewrite(unstamped, paste), anchors).signatures[0]
    assert "crypto.timestamp-invalid" in verdict.reasons and verdict.indication == "TOTAL-FAILED"


def test_untrusted_tsa_proves_nothing(stamped, pki):
    only_seals = {"trust": [pki["sealing"].root.cert_path], "seal_trust": [pki["sealing"].root.cert_path]}
    verdict = verify(stamped, only_seals).signatures[0]
    assert verdict.timestamp["intact"] and not verdict.timestamp["trusted"]
    assert verdict.seal["time_source"] != "timestamp"


def test_a_registry_that_does_not_know_the_seal_leaves_its_revocation_unknown(unstamped, anchors, tmp_path):
    """forger4 a09 for OFD: a registry that never held the seal (another unit's, a copy from before it was
    issued) cannot say it is not revoked: INDETERMINATE / TRY_LATER, not a pass and not a crash."""
    from sealkit.seal import SealRegistry
    from sealkit.seal.binding import revocation_lookup

    with SealRegistry(f"sqlite:///{tmp_path / 'other.db'}", actor="registrar") as other:
        result = verify(unstamped, anchors, revocations=revocation_lookup(other)).signatures[0]
    assert (result.indication, result.sub_indication) == ("INDETERMINATE", "TRY_LATER"), result.to_dict()
    assert "try-later.seal" in result.reasons
