"""OFD seal signatures follow the PDF path's rules through the same functions: the signer must belong to the
seal's unit (forger4 a04), a timestamp proves its time only within its TSA certificate's validity (a13), and
signing refuses a seal whose maker does not chain to the seal-maker anchors, or that the signer may not use
(a14). Each attack has an honest twin."""

import datetime as dt

import pytest
from asn1crypto import tsp

from sealkit.dev.pki import make_test_pki
from sealkit.dev.responses import KeyedIdentity, timestamp_token
from sealkit.errors import SealError
from sealkit.ofd import sign as sign_module
from sealkit.seal import SealSpec, make_seal
from sealkit.seal.codes import uscc_check_char
from sealkit.seal.units import unit_extension
from sealkit.ukey import open_key
from tests.ofd.helpers import sign, verify

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
LATER = NOW + dt.timedelta(days=3)  # the 1-day seal has expired; certificates have not
OTHER_UNIT = "山东省示范数据研究院"
OTHER_CODE = "91370100MA3C4X123" + uscc_check_char("91370100MA3C4X123")
OWN_UNIT = "sealkit 测试单位"  # the O= of every test signer
OWN_CODE = "91370100MA3C4X456" + uscc_check_char("91370100MA3C4X456")


def _seal(identity, holder, seal_image, es_id: str, unit: str, code: str, *, days: int = 30) -> bytes:
    spec = SealSpec(
        es_id=es_id,
        name=f"{unit}合同专用章",
        holder_certs=[holder.certificate.dump()],
        valid_start=NOW - dt.timedelta(days=1),
        valid_end=NOW + dt.timedelta(days=days),
        picture=seal_image.png,
        width_mm=round(seal_image.width_mm),
        height_mm=round(seal_image.height_mm),
        extensions=[unit_extension(code, unit)],
    )
    with open_key(identity.keyref) as key:
        return make_seal(spec, key, identity.certificate)


# --- a04: the signer belongs to the seal's unit ---


def test_seal_of_another_unit_fails_and_the_unit_is_reported(pki, seal_image, contract, tmp_path, anchors):
    seal = _seal(pki["maker"], pki["stranger"], seal_image, "37010200000041", OTHER_UNIT, OTHER_CODE)
    with pytest.raises(SealError, match="does not belong to"):  # sealkit itself refuses to sign
        sign(pki, {}, contract, tmp_path / "refused.ofd", who="stranger", seal=seal)
    assert not (tmp_path / "refused.ofd").exists()
    # another tool signs it anyway
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sign_module, "check_seal_use", lambda *_a, **_k: None)
        patch.setattr(sign_module, "_self_check", lambda *_a: None)
        forged = sign(pki, {}, contract, tmp_path / "forged.ofd", who="stranger", seal=seal).read_bytes()
    report = verify(forged, anchors)
    (verdict,) = report.signatures
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE")
    assert "seal.signer-not-of-unit" in verdict.reasons
    assert verdict.seal["unit"] == OTHER_UNIT and verdict.seal["unit_code"] == OTHER_CODE
    assert verdict.seal["signer_matches_unit"] is False
    assert any(s["name"] == "signer-unit" and not s["ok"] for s in verdict.seal["steps"])


def test_seal_of_the_signers_unit_passes(pki, seal_image, contract, tmp_path, anchors):
    seal = _seal(pki["maker"], pki["stranger"], seal_image, "37010200000042", OWN_UNIT, OWN_CODE)
    signed = sign(pki, {}, contract, tmp_path / "s.ofd", who="stranger", seal=seal).read_bytes()
    report = verify(signed, anchors)
    assert report.indication == "TOTAL-PASSED", report.to_dict()
    seal_report = report.signatures[0].seal
    assert seal_report["unit"] == OWN_UNIT and seal_report["unit_code"] == OWN_CODE
    assert seal_report["signer_matches_unit"] is True


# --- a13: a timestamp proves its time only within its TSA certificate's validity ---


class _FixedTsa:
    """A TSA that dates its tokens ``when`` (a TSA clock or a forger's choice)."""

    def __init__(self, identity, when: dt.datetime) -> None:
        self.identity, self.when = identity, when

    async def async_timestamp(self, digest: bytes, algorithm: str):
        imprint = tsp.MessageImprint({"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest})
        return timestamp_token(KeyedIdentity.load(self.identity), imprint, nonce=None, gen_time=self.when)


def _stamped(pki, seal_image, contract, path, tsa, when):
    seal = _seal(pki["maker"], pki["supplier"], seal_image, "37010200000043", OWN_UNIT, OWN_CODE, days=1)
    return sign(pki, {}, contract, path, seal=seal, timestamper=_FixedTsa(tsa, when)).read_bytes()


def test_timestamp_before_its_tsa_certificate_proves_nothing(pki, seal_image, contract, tmp_path, anchors):
    late_tsa = pki["signing"].issue("tsa-late", "tsa", not_before=NOW - dt.timedelta(hours=1))
    signed = _stamped(pki, seal_image, contract, tmp_path / "s.ofd", late_tsa, NOW - dt.timedelta(hours=12))
    verdict = verify(signed, anchors, validation_time=LATER).signatures[0]
    assert (verdict.indication, verdict.sub_indication) == ("INDETERMINATE", None)
    assert "evaluation.seal-expired-no-poe" in verdict.reasons
    assert (
        verdict.timestamp["trusted"]
        and "outside its TSA certificate's validity" in verdict.timestamp["problem"]
    )
    assert verdict.proven_time is None and verdict.seal["time_source"] != "timestamp"
    assert any(c.name == "timestamp" and not c.ok for c in verdict.checks)


def test_timestamp_in_the_future_proves_nothing(pki, seal_image, contract, tmp_path, anchors):
    tsa = pki["signing"].issue("tsa-fast-clock", "tsa")
    signed = _stamped(pki, seal_image, contract, tmp_path / "s.ofd", tsa, NOW + dt.timedelta(days=2))
    verdict = verify(signed, anchors).signatures[0]
    assert "after the validation time" in verdict.timestamp["problem"] and verdict.proven_time is None


def test_timestamp_within_its_tsa_certificate_proves_the_time(pki, seal_image, contract, tmp_path, anchors):
    tsa = pki["signing"].issue("tsa-honest", "tsa")
    signed = _stamped(pki, seal_image, contract, tmp_path / "s.ofd", tsa, NOW)
    verdict = verify(signed, anchors, validation_time=LATER).signatures[0]
    assert verdict.indication == "TOTAL-PASSED", verdict.to_dict()
    assert verdict.timestamp["problem"] is None and verdict.seal["time_source"] == "timestamp"


# --- a14: signing checks the seal as PDF signing does ---


@pytest.fixture(scope="module")
def rogue_maker(tmp_path_factory):
    rogue = make_test_pki(tmp_path_factory.mktemp("rogue"), "sm2", name="Rogue Seal Authority")
    return rogue.issue("rogue-maker", "seal-maker")


def test_signing_refuses_a_seal_from_an_untrusted_maker(
    pki, seal_image, contract, tmp_path, anchors, rogue_maker
):
    seal = _seal(rogue_maker, pki["supplier"], seal_image, "37010200000044", OWN_UNIT, OWN_CODE)
    out = tmp_path / "s.ofd"
    with pytest.raises(SealError, match=r"seal 37010200000044: .*\[seal\.maker-untrusted\]"):
        sign(pki, {}, contract, out, seal=seal, seal_trust=anchors["seal_trust"])
    assert not out.exists()
    # without the anchors signing cannot know; the verifier that has them does not trust the seal
    verdict = verify(sign(pki, {}, contract, out, seal=seal).read_bytes(), anchors).signatures[0]
    assert verdict.indication == "INDETERMINATE" and "trust.seal-maker" in verdict.reasons


def test_signing_with_a_trusted_maker_and_the_anchors(pki, seal_image, contract, tmp_path, anchors):
    seal = _seal(pki["maker"], pki["supplier"], seal_image, "37010200000045", OWN_UNIT, OWN_CODE)
    out = sign(pki, {}, contract, tmp_path / "s.ofd", seal=seal, seal_trust=anchors["seal_trust"])
    assert verify(out.read_bytes(), anchors).indication == "TOTAL-PASSED"
