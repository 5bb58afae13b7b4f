"""Seal findings of the fourth forger round, each attack with an honest twin:

- a03: a seal whose validity times are written without a zone (local Beijing time, as Chinese seal systems
  write them) is judged in Beijing time, not UTC (8 hours more validity), and applying it does not re-encode
  it (which crashed and could change what the maker signed);
- a07: a certificate belongs to a unit only when an attribute *is* the unit's code (bare or behind a CA's
  prefix), not when free text mentions it, in lower case or full-width; an O naming another organisation
  outweighs a code in OU/CN — at issuance and in the PDF seal check;
- a15: a unit seal whose name does not tell its unit fails closed (``seal.unit-unknown``);
- a09: a registry that does not know the seal (another registry signed by the same key) gives
  ``seal.revocation-unknown`` (INDETERMINATE / TRY_LATER), a revocation list past its nextUpdate too; the
  report says how fresh the revocation state is (the registry's last change, the list's issuedAt).
"""

import datetime as dt
import shutil

import pytest
from asn1crypto import core

from sealkit.errors import InvalidInput, SealError
from sealkit.flows import verify_contract
from sealkit.seal import (
    HeadSigner,
    Revocation,
    SealRegistry,
    load_revocation_list,
    make_revocation_list,
    make_seal,
    make_seal_checker,
    parse_seal,
    verify_seal,
)
from sealkit.seal import asn1 as seal_asn1
from sealkit.seal.crypto import sign_with
from sealkit.seal.make import make_ses_signature
from sealkit.seal.parse import parse_signature
from sealkit.seal.registry import parse_utc
from sealkit.seal.units import unit_extension
from sealkit.seal.verify import verify_ses_signature
from sealkit.timefmt import BEIJING, format_time
from sealkit.ukey import open_key

from .conftest import UNIT_NAME, UNIT_USCC
from .custody_helpers import make_world
from .test_binding_and_cli import signed_data_with_seal
from .test_forgeries import NOW, UNTIL, make_cert, seal_spec


@pytest.fixture()
def registry(tmp_path):
    with SealRegistry(f"sqlite:///{tmp_path / 'issue.db'}", actor="registrar") as reg:
        yield reg


# --- a03: times without a zone are Beijing time; the seal is applied as its maker wrote it ---------------


def zoneless_seal(pki, valid_end_local: dt.datetime) -> bytes:
    """A maker-signed seal whose validEnd is a GeneralizedTime without a zone (Beijing wall-clock time)."""
    spec = seal_spec("ZONELESS-1", pki["holder"].certificate)
    spec.valid_start = NOW - dt.timedelta(days=2)
    honest = seal_asn1.SESeal.load(make_seal(spec, open_key(pki["maker"].keyref), pki["maker"].certificate))
    info = honest["eSealInfo"]
    raw = valid_end_local.strftime("%Y%m%d%H%M%S").encode()
    info["property"]["validEnd"] = core.GeneralizedTime.load(b"\x18" + bytes([len(raw)]) + raw)
    with open_key(pki["maker"].keyref) as maker:
        algorithm, signature = sign_with(maker, info.dump())
    seal = {"eSealInfo": info, "cert": pki["maker"].certificate.dump(), "signAlgID": algorithm}
    return bytes(seal_asn1.SESeal({**seal, "signedValue": signature}).dump())


def test_a_seal_time_without_a_zone_is_beijing_time(pki, makers):
    beijing_now = dt.datetime.now(BEIJING).replace(microsecond=0, tzinfo=None)
    expired = zoneless_seal(pki, beijing_now - dt.timedelta(hours=3))  # 3 h ago in Beijing: expired
    assert parse_seal(expired).valid_end.utcoffset() == dt.timedelta(hours=8)
    result = verify_seal(expired, trust=makers)
    report = result.to_dict()
    assert (result.failed_step, report["reason"]) == ("seal-validity", "seal.expired-no-poe")
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    # The honest twin: 3 hours from now in Beijing time is still valid.
    valid = zoneless_seal(pki, beijing_now + dt.timedelta(hours=3))
    assert verify_seal(valid, trust=makers).ok
    assert parse_seal(valid).valid_end - dt.datetime.now(dt.UTC) < dt.timedelta(hours=3, minutes=1)


@pytest.mark.parametrize("zoneless", [True, False], ids=["zoneless-seal", "sealkit-seal"])
def test_applying_a_seal_keeps_its_exact_bytes(pki, makers, zoneless):
    if zoneless:
        seal = zoneless_seal(pki, dt.datetime.now(BEIJING).replace(tzinfo=None) + dt.timedelta(days=1))
    else:
        spec = seal_spec("KEEP-1", pki["holder"].certificate)
        seal = make_seal(spec, open_key(pki["maker"].keyref), pki["maker"].certificate)
    holder = pki["holder"]
    with open_key(holder.keyref) as key:
        ses = make_ses_signature(seal, key, holder.certificate, b"contract")
    assert parse_signature(ses).seal.der == seal and seal in ses  # not re-encoded
    result = verify_ses_signature(ses, b"contract", trust=makers)
    assert result.ok, result.reason
    assert verify_ses_signature(ses, b"other", trust=makers).reason_code == "seal.document-hash"


def test_applying_something_that_is_not_one_seal_is_refused(pki):
    spec = seal_spec("KEEP-2", pki["holder"].certificate)
    seal = make_seal(spec, open_key(pki["maker"].keyref), pki["maker"].certificate)
    holder = pki["holder"]
    with open_key(holder.keyref) as key, pytest.raises(InvalidInput, match="not one DER SEQUENCE"):
        make_ses_signature(seal + b"\x00", key, holder.certificate, b"contract")


# --- a07: unit membership: the code must be the attribute's value; O of another unit vetoes -----------

OTHER_UNIT = "济南市示范中学"
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in UNIT_USCC)
ATTACKS = {
    "OU-mentions-code": {
        "organization_name": OTHER_UNIT,
        "organizational_unit_name": f"对接{UNIT_USCC}项目组",
    },
    "CN-says-not-A": {"organization_name": OTHER_UNIT, "common_name": f"李四（非{UNIT_USCC}员工）"},
    "CN-full-width": {"organization_name": OTHER_UNIT, "common_name": FULL_WIDTH},
    "full-width-no-O": {"common_name": FULL_WIDTH},
    "serial-lower-case": {"organization_name": OTHER_UNIT, "serial_number": UNIT_USCC.lower()},
    "OU-code-but-O-other": {"organization_name": OTHER_UNIT, "organizational_unit_name": f"USCC:{UNIT_USCC}"},
    "CN-code-but-O-other": {"organization_name": OTHER_UNIT, "common_name": f"经办人@{UNIT_USCC}"},
    "O-zero-width": {"organization_name": "山东省示范\u200b数据研究院"},
}
HONEST = {
    "organizationIdentifier": {"organization_identifier": f"NTRCN-{UNIT_USCC}", "common_name": "张三"},
    "organizationIdentifier-O-short-name": {
        "organization_name": "示范院",
        "organization_identifier": UNIT_USCC,
    },
    "serialNumber": {"serial_number": UNIT_USCC, "common_name": "李四"},
    "OU-prefix": {"organizational_unit_name": f"统一社会信用代码：{UNIT_USCC}", "common_name": "王五"},
    "CN-at": {"common_name": f"赵六@{UNIT_USCC}"},
    "O-name": {"organization_name": f" {UNIT_NAME}　", "common_name": "钱七"},
}


@pytest.mark.parametrize("subject", list(ATTACKS.values()), ids=list(ATTACKS))
def test_a_certificate_that_only_mentions_the_code_is_refused_at_issuance(
    tmp_path, registry, form, pki, maker, subject
):
    holder = make_cert(tmp_path, "f", {"common_name": "李四", **subject}, pki["ca"].root)
    with pytest.raises(SealError, match="does not belong to 山东省示范数据研究院"):
        registry.issue(form, "contract", [holder.certificate], *maker, UNTIL)
    assert registry.list_seals() == []


@pytest.mark.parametrize("subject", list(HONEST.values()), ids=list(HONEST))
def test_members_as_chinese_cas_write_them_are_accepted_at_issuance(
    tmp_path, registry, form, pki, maker, subject
):
    holder = make_cert(tmp_path, "h", subject, pki["ca"].root)
    record = registry.issue(form, "contract", [holder.certificate], *maker, UNTIL)
    assert record.es_id


def unit_seal_for(pki, holder, name=UNIT_NAME + "合同专用章", *, extension=True):
    """A unit seal (type 1) made outside any registry for ``holder``: with sealkit's unit extension, or
    (``extension=False``) as another seal system makes it, the unit only in its name."""
    spec = seal_spec("PDF-1", holder.certificate)
    spec.name = name
    if extension:
        spec.extensions = [unit_extension(UNIT_USCC, UNIT_NAME)]
    return make_seal(spec, open_key(pki["maker"].keyref), pki["maker"].certificate)


def seal_check(pki, makers, holder, seal):
    """The PDF verifier's seal check of a CMS signature by ``holder`` carrying ``seal``."""
    signed = signed_data_with_seal(seal, holder, open_key(holder.keyref))
    return make_seal_checker(makers)(signed, None)


@pytest.mark.parametrize("case", ["OU-mentions-code", "CN-full-width", "OU-code-but-O-other"])
def test_the_pdf_seal_check_refuses_a_signer_that_only_mentions_the_code(tmp_path, pki, makers, case):
    holder = make_cert(tmp_path, "f", {"common_name": "李四", **ATTACKS[case]}, pki["ca"].root)
    report = seal_check(pki, makers, holder, unit_seal_for(pki, holder))
    assert not report["ok"] and report["reason"] == "seal.signer-not-of-unit"
    assert (report["indication"], report["sub_indication"]) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE")
    assert report["unit_code"] == UNIT_USCC and report["signer_matches_unit"] is False


@pytest.mark.parametrize("case", ["organizationIdentifier", "OU-prefix", "CN-at"])
def test_the_pdf_seal_check_accepts_a_member(tmp_path, pki, makers, case):
    holder = make_cert(tmp_path, "h", HONEST[case], pki["ca"].root)
    report = seal_check(pki, makers, holder, unit_seal_for(pki, holder))
    assert report["ok"], report.get("message")
    assert report["signer_matches_unit"] is True


# --- a15: a unit seal whose name does not tell its unit fails closed ------------------------------------

NAMES = [
    UNIT_NAME + "合同专用章",
    UNIT_NAME + "合同章",
    UNIT_NAME + "电子签章",
    UNIT_NAME + "公章（电子）",
    UNIT_NAME + "合同专用章(电子)",
]


@pytest.mark.parametrize("name", NAMES)
def test_a_unit_seal_of_another_unit_is_refused_whatever_its_purpose(tmp_path, pki, makers, name):
    stranger = make_cert(
        tmp_path, "s", {"organization_name": OTHER_UNIT, "common_name": "王"}, pki["ca"].root
    )
    report = seal_check(pki, makers, stranger, unit_seal_for(pki, stranger, name, extension=False))
    assert not report["ok"] and report["reason"] == "seal.signer-not-of-unit"
    assert report["unit"] == UNIT_NAME
    member = make_cert(tmp_path, "m", {"organization_name": UNIT_NAME, "common_name": "李"}, pki["ca"].root)
    assert seal_check(pki, makers, member, unit_seal_for(pki, member, name, extension=False))["ok"]


def test_a_unit_seal_named_only_by_its_unit_or_an_unknown_purpose(tmp_path, pki, makers):
    stranger = make_cert(
        tmp_path, "s", {"organization_name": OTHER_UNIT, "common_name": "王"}, pki["ca"].root
    )
    member = make_cert(tmp_path, "m", {"organization_name": UNIT_NAME, "common_name": "李"}, pki["ca"].root)
    # The seal named just after its unit (the round seal's arc): members pass, others cannot be placed.
    report = seal_check(pki, makers, stranger, unit_seal_for(pki, stranger, UNIT_NAME, extension=False))
    assert not report["ok"] and report["reason"] == "seal.unit-unknown"
    assert (report["indication"], report["sub_indication"]) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE")
    assert seal_check(pki, makers, member, unit_seal_for(pki, member, UNIT_NAME, extension=False))["ok"]
    # A purpose sealkit does not know: the unit cannot be told, even for a member — fail closed.
    odd = UNIT_NAME + "骑缝专用印鉴"
    report = seal_check(pki, makers, member, unit_seal_for(pki, member, odd, extension=False))
    assert not report["ok"] and report["reason"] == "seal.unit-unknown" and odd in report["message"]
    # The same in the GB/T 38540 SES_Signature path (OFD).
    seal = unit_seal_for(pki, stranger, UNIT_NAME + "电子签章", extension=False)
    with open_key(stranger.keyref) as key:
        ses = make_ses_signature(seal, key, stranger.certificate, b"doc")
    assert verify_ses_signature(ses, b"doc", trust=makers).reason_code == "seal.signer-not-of-unit"


# --- a09: replayed or foreign revocation state ------------------------------------------------------------


@pytest.fixture()
def registries(tmp_path, form, pki, maker):
    """A registry with a signed head: a seal issued, a backup taken, then the seal revoked; and another
    registry signed by the same key that never heard of the seal."""
    registry_id = pki["ca"].issue("registry-fix", "sign")

    def head():
        return HeadSigner(open_key(registry_id.keyref), registry_id.certificate, owned=True)

    url = f"sqlite:///{tmp_path / 'r.db'}"
    with SealRegistry(url, actor="registrar", signer=head()) as registry:
        record = registry.issue(form, "contract", [pki["holder"].certificate], *maker, UNTIL)
    shutil.copy(tmp_path / "r.db", tmp_path / "backup.db")
    with SealRegistry(url, actor="registrar", signer=head()) as registry:
        registry.revoke(record.es_id, "imprint-void", note="UKey lost")
    with SealRegistry(f"sqlite:///{tmp_path / 'other.db'}", actor="mallory", signer=head()) as other:
        other.issue(form, "official", [pki["holder"].certificate], *maker, UNTIL)
    signed = signed_data_with_seal(record.seal_der, pki["holder"], open_key(pki["holder"].keyref))

    def check(name, lists=()):
        path = tmp_path / name
        with SealRegistry(f"sqlite:///{path}", read_only=True, head_cert=registry_id.certificate) as reg:
            return make_seal_checker(
                [pki["maker_ca"].root.certificate], registry=reg, revocation_lists=lists
            )(signed, None)

    return record, signed, check


def test_a_registry_that_does_not_know_the_seal_leaves_its_revocation_unknown(registries):
    _record, _signed, check = registries
    report = check("other.db")
    assert not report["ok"] and report["reason"] == "seal.revocation-unknown"
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "TRY_LATER")
    assert "does not know seal" in report["message"]
    # The honest twin: the registry that issued and revoked it.
    current = check("r.db")
    assert current["reason"] == "seal.revoked-no-poe" and current["indication"] == "INDETERMINATE"


def test_the_report_says_how_old_the_registry_state_is(registries, tmp_path):
    """A backup from before the revocation cannot be told from the current state by its signature; the
    report gives the time of its last change (its newest audit entry) so that a reader sees how old it is."""
    _record, _signed, check = registries

    def last_change(name):
        with SealRegistry(f"sqlite:///{tmp_path / name}", read_only=True) as registry:
            entry = registry.audit_entries()[-1]
        return entry["action"], format_time(parse_utc(entry["time"]))

    backup, current = check("backup.db"), check("r.db")
    [backup_state], [current_state] = backup["revocation_evidence"], current["revocation_evidence"]
    assert backup_state["source"] == current_state["source"] == "registry"
    action, when = last_change("backup.db")  # as of the issue (and the head's first signing, if it came last)
    assert action in ("issue", "sign-head") and when == backup_state["state_as_of"]
    assert last_change("r.db") == ("revoke", current_state["state_as_of"])  # as of the revocation
    assert f"registry as of {backup_state['state_as_of']}" in backup["detail"]
    assert backup["ok"]  # (what the state says; its age is in the report)


def test_revocation_lists_report_their_age_and_expire_at_next_update(registries, pki, makers):
    record, signed, _check = registries
    key, cert = open_key(pki["maker"].keyref), pki["maker"].certificate
    hour = dt.timedelta(hours=1)

    def checked(entries, **times):
        rev_list = load_revocation_list(make_revocation_list(entries, key, cert, **times), makers)
        return make_seal_checker(makers, revocation_lists=[rev_list])(signed, None)

    stale = checked([], issued_at=NOW - 3 * hour, next_update=NOW - hour)
    assert not stale["ok"] and stale["reason"] == "seal.revocation-unknown"
    assert (stale["indication"], stale["sub_indication"]) == ("INDETERMINATE", "TRY_LATER")
    assert stale["revocation_evidence"][0]["current"] is False
    fresh = checked([], issued_at=NOW - hour, next_update=NOW + 24 * hour)
    assert fresh["ok"] and fresh["revocation_evidence"][0]["current"] is True
    assert "next update" in fresh["detail"]
    undated = checked([], issued_at=NOW - hour)  # no nextUpdate: the list speaks as of its issuedAt
    assert undated["ok"] and set(undated["revocation_evidence"][0]) == {"source", "issued_at"}
    revoked = Revocation(record.es_id, NOW - 2 * hour, "imprint-void")
    listed = checked([revoked], issued_at=NOW - hour, next_update=NOW - dt.timedelta(minutes=1))
    assert listed["reason"] == "seal.revoked-no-poe"  # a stale list still proves a revocation it names


def test_the_pdf_verdict_of_an_unknown_revocation_state(tmp_path, pki, form, maker):
    """End to end: a contract sealed from registry A, verified against an empty registry B: INDETERMINATE /
    TRY_LATER; against A, TOTAL-PASSED, and the seal line says how fresh A's state is."""
    world = make_world(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, pki, form, maker)
    world.grant()
    out, _ = world.sign("signed.pdf")
    with SealRegistry(f"sqlite:///{tmp_path / 'b.db'}", actor="b"):
        pass

    def verify(url):
        report = verify_contract(
            out,
            trust=[pki["ca"].root.cert_path],
            seal_maker_trust=[pki["maker_ca"].root.cert_path],
            registry_url=url,
        )
        return report.signatures[0]

    unknown = verify(f"sqlite:///{tmp_path / 'b.db'}")
    assert (unknown.indication, unknown.sub_indication) == ("INDETERMINATE", "TRY_LATER")
    assert unknown.seal["reason"] == "seal.revocation-unknown"
    known = verify(world.url)
    assert known.indication == "TOTAL-PASSED"
    assert "revocation state: registry as of" in known.seal["detail"]
