"""Seals anyone could make, and how they are refused now (issue 10, items 9–12), each attack with an honest
twin: makers need their own anchors and a real path (intermediates, basicConstraints, keyUsage); a holder
must belong to the seal's unit; every unit code passes GB 32100."""

import datetime as dt
import json
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sealkit_cli.main import run

from sealkit.dev.pki import Role
from sealkit.errors import CertificateError, DecodingError, InvalidInput, SealError, VerificationFailed
from sealkit.seal import (
    Revocation,
    SealRegistry,
    SealSpec,
    check_seal_in_signature,
    load_revocation_list,
    make_revocation_list,
    make_seal,
    parse_seal,
    seal_unit,
)
from sealkit.seal.crypto import sign_with
from sealkit.seal.revlist import RevokedSeal, SealRevocationList, TBSSealRevocationList
from sealkit.sm2 import x509 as sm2_x509
from sealkit.ukey import open_key

from .conftest import EXAMPLE_FORM, UNIT_NAME, UNIT_USCC
from .test_binding_and_cli import signed_data_with_seal

UNTIL = dt.date.today() + dt.timedelta(days=365)
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


class Made:
    """A certificate made for one test, with its key file (an Identity look-alike)."""

    def __init__(self, directory, name, cert, key):
        self.certificate = cert
        self.key_path = directory / f"{name}.key.pem"
        self.key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.cert_path = directory / f"{name}.pem"
        self.cert_path.write_bytes(sm2_x509.to_pem(cert))

    @property
    def keyref(self):
        return f"file:{self.key_path}"


def make_cert(
    directory, name, subject, issuer, *, is_ca=False, usage=("digital_signature", "non_repudiation")
):
    """A P-256 certificate with exactly ``subject``, issued by ``issuer`` (an Identity or a Made)."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = serialization.load_pem_private_key(issuer.key_path.read_bytes(), None)
    cert = sm2_x509.build_certificate(
        {"country_name": "CN", **subject},
        key.public_key(),
        issuer.certificate,
        issuer_key,
        serial=secrets.randbits(62) | 1 << 61,
        not_before=NOW - dt.timedelta(days=1),
        not_after=NOW + dt.timedelta(days=700),
        is_ca=is_ca,
        key_usage=set(usage) | ({"key_cert_sign"} if is_ca else set()),
    )
    return Made(directory, name, cert, key)


def seal_spec(es_id, holder):
    """A contract seal of the example unit made outside any registry (no sealkit unit extension)."""
    return SealSpec(
        es_id=es_id,
        name=UNIT_NAME + "合同专用章",
        holder_certs=[holder.dump()],
        valid_start=NOW - dt.timedelta(days=1),
        valid_end=NOW + dt.timedelta(days=30),
        picture=b"\x89PNG",
        width_mm=40,
        height_mm=40,
    )


@pytest.fixture()
def registry(tmp_path):
    with SealRegistry(f"sqlite:///{tmp_path / 'r.db'}", actor="registrar") as reg:
        yield reg


def cli(capsys, *args):
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# --- item 9: a supplier's ordinary certificate cannot make seals -----------------------------------------


def test_a_signer_certificate_cannot_issue_seals(registry, form, pki, makers):
    supplier = pki["ca"].issue("supplier", Role.SIGN, organization="山东齐鲁示范科技有限公司")
    with open_key(supplier.keyref) as key, pytest.raises(CertificateError, match="seal.maker-untrusted"):
        registry.issue(
            form,
            "contract",
            [pki["holder"].certificate],
            key,
            supplier.certificate,
            UNTIL,
            maker_trust=makers,
        )
    assert registry.list_seals() == []
    handle, cert = open_key(pki["maker"].keyref), pki["maker"].certificate
    record = registry.issue(
        form, "contract", [pki["holder"].certificate], handle, cert, UNTIL, maker_trust=makers
    )
    assert record.status == "enabled"  # the honest twin: the seal authority's maker


def test_a_seal_made_by_a_signer_certificate_is_not_trusted(tmp_path, pki, makers):
    """The seal made outside any registry with a supplier's certificate that chains to the *signer* anchor."""
    supplier = pki["ca"].issue("supplier", Role.SIGN)
    spec = seal_spec("37010202000077", pki["holder"].certificate)
    forged = make_seal(spec, open_key(supplier.keyref), supplier.certificate)
    signed = signed_data_with_seal(forged, pki["holder"], open_key(pki["holder"].keyref))
    report = check_seal_in_signature(signed, None, trust=makers)
    assert not report["ok"] and report["failed_step"] == "maker-certificate"
    assert report["reason"] == "seal.maker-untrusted"
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    # Even when the verifier was (wrongly) given the signers' CA: no anchors of its own, no trust.
    assert check_seal_in_signature(signed, None, trust=[])["reason"] == "seal.maker-untrusted"
    honest = make_seal(spec, open_key(pki["maker"].keyref), pki["maker"].certificate)
    twin = check_seal_in_signature(
        signed_data_with_seal(honest, pki["holder"], open_key(pki["holder"].keyref)), None, trust=makers
    )
    assert twin["ok"], twin
    assert (twin["unit"], twin["unit_code"], twin["signer_matches_unit"]) == (UNIT_NAME, None, True)


def test_cli_issue_refuses_a_maker_outside_the_seal_maker_anchors(tmp_path, capsys, pki):
    supplier = pki["ca"].issue("supplier-cli", Role.SIGN)
    base = [
        "seal",
        "issue",
        "--form",
        str(EXAMPLE_FORM),
        "--kind",
        "official",
        "--holder-cert",
        str(pki["holder"].cert_path),
    ]
    tail = ["--valid-until", UNTIL.isoformat(), "--registry", f"sqlite:///{tmp_path / 'c.db'}"]
    code, _, err = cli(
        capsys,
        *base,
        "--maker",
        supplier.keyref,
        "--maker-cert",
        str(supplier.cert_path),
        "--seal-maker-trust",
        str(pki["maker_ca"].root.cert_path),
        *tail,
    )
    assert code == 6 and err.count("\n") == 1 and "seal.maker-untrusted" in err
    code, _, err = cli(
        capsys, *base, "--maker", pki["maker"].keyref, "--maker-cert", str(pki["maker"].cert_path), *tail
    )
    assert code == 2 and "no seal-maker trust anchors" in err and err.count("\n") == 1
    code, out, err = cli(
        capsys,
        *base,
        "--maker",
        pki["maker"].keyref,
        "--maker-cert",
        str(pki["maker"].cert_path),
        "--seal-maker-trust",
        str(pki["maker_ca"].root.cert_path),
        *tail,
    )
    assert code == 0, err
    assert out.strip() == "37010201000001"


# --- item 12: the maker's and the revocation list's paths are real paths ---------------------------------


def test_maker_path_needs_its_intermediate_and_a_real_ca(tmp_path, pki, makers):
    root = pki["maker_ca"].root
    sub_ca = make_cert(
        tmp_path,
        "sub-ca",
        {"common_name": "Seal Authority Sub CA", "organization_name": "x"},
        root,
        is_ca=True,
    )
    maker = make_cert(tmp_path, "sub-maker", {"common_name": "maker 2", "organization_name": "x"}, sub_ca)
    not_ca = make_cert(tmp_path, "not-ca", {"common_name": "Not a CA", "organization_name": "x"}, root)
    rogue = make_cert(tmp_path, "rogue-maker", {"common_name": "maker 3", "organization_name": "x"}, not_ca)
    encipher_only = make_cert(
        tmp_path, "enc", {"common_name": "enc", "organization_name": "x"}, root, usage=("key_encipherment",)
    )
    spec = seal_spec("X-1", pki["holder"].certificate)

    def check(maker_id, *carried):
        seal = make_seal(spec, open_key(maker_id.keyref), maker_id.certificate)
        signed = signed_data_with_seal(seal, pki["holder"], open_key(pki["holder"].keyref))
        if carried:  # the intermediate travels among the CMS certificates
            signed["certificates"] = [*signed["certificates"], *[c.certificate for c in carried]]
        return check_seal_in_signature(signed, None, trust=makers)

    assert check(maker, sub_ca)["ok"]  # honest: the path runs through the intermediate
    assert check(maker)["reason"] == "seal.maker-untrusted"  # no intermediate, no path
    assert check(rogue, not_ca)["reason"] == "seal.maker-untrusted"  # issued by an end entity
    refused = check(encipher_only)
    assert refused["reason"] == "seal.maker-untrusted" and "seal-making" in refused["message"]


def test_revocation_list_authority_path(tmp_path, registry, form, pki, maker, makers):
    record = registry.issue(form, "contract", [pki["holder"].certificate], *maker, UNTIL)
    registry.revoke(record.es_id, "merged", successor="91350100M000100Y43")
    entries = registry.revocations()
    honest = make_revocation_list(entries, open_key(pki["maker"].keyref), pki["maker"].certificate)
    assert [e.es_id for e in load_revocation_list(honest, makers).entries] == [record.es_id]
    holder_list = make_revocation_list(entries, open_key(pki["holder"].keyref), pki["holder"].certificate)
    with pytest.raises(VerificationFailed, match="not trusted: .*no path"):
        load_revocation_list(holder_list, makers)
    enc = make_cert(
        tmp_path,
        "enc",
        {"common_name": "enc", "organization_name": "x"},
        pki["maker_ca"].root,
        usage=("key_encipherment",),
    )
    enc_list = make_revocation_list(entries, open_key(enc.keyref), enc.certificate)
    with pytest.raises(VerificationFailed, match="revocation-list-signing"):
        load_revocation_list(enc_list, makers)


# --- item 10: a holder must belong to the unit ------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        {"organization_name": UNIT_NAME, "common_name": "李静"},
        {"organization_name": "别名", "organization_identifier": f"NTRCN-{UNIT_USCC}", "common_name": "a"},
        {"organization_name": "别名", "serial_number": UNIT_USCC, "common_name": "b"},
        # A code in OU or CN counts when no O names another organisation (test_seal_trust_gaps: the veto).
        {"organizational_unit_name": f"USCC:{UNIT_USCC}", "common_name": "c"},
        {"common_name": f"经办人@{UNIT_USCC}"},
        {"organization_name": "山东省示范数据研究院 ", "common_name": "d"},  # spacing is not a difference
    ],
    ids=["O", "organizationIdentifier", "serialNumber", "OU", "CN", "O-spacing"],
)
def test_holders_of_the_unit_are_accepted(tmp_path, registry, form, pki, maker, subject):
    holder = make_cert(tmp_path, "h", subject, pki["ca"].root)
    record = registry.issue(form, "contract", [holder.certificate], *maker, UNTIL)
    assert seal_unit(parse_seal(record.seal_der)).uscc == UNIT_USCC


@pytest.mark.parametrize(
    "subject",
    [
        {"organization_name": "济南市示范中学", "common_name": "王建国"},  # another unit (the issue's case)
        {"organization_name": UNIT_NAME + "分院", "common_name": "x"},  # a longer name is another unit
        {
            "organization_name": "x",
            "serial_number": "9" + UNIT_USCC,
            "common_name": "y",
        },  # code inside another
        {"organization_name": "x", "common_name": UNIT_NAME},  # the name in CN is not the organisation
    ],
    ids=["other-unit", "longer-name", "code-inside-longer", "name-in-CN"],
)
def test_foreign_holders_are_refused_at_issuance(tmp_path, registry, form, pki, maker, subject):
    holder = make_cert(tmp_path, "f", subject, pki["ca"].root)
    with pytest.raises(SealError, match="does not belong to 山东省示范数据研究院"):
        registry.issue(form, "contract", [pki["holder"].certificate, holder.certificate], *maker, UNTIL)
    assert registry.list_seals() == []


def test_override_is_recorded_and_signed_into_the_seal(tmp_path, registry, form, pki, maker):
    agent = make_cert(
        tmp_path, "agent", {"organization_name": "个人", "common_name": "经办人 赵磊"}, pki["ca"].root
    )
    record = registry.issue(
        form,
        "contract",
        [agent.certificate],
        *maker,
        UNTIL,
        allow_foreign_holder="经办人个人证书，见鲁财〔2026〕1号",
    )
    issued = [e for e in registry.audit_entries(f"seal:{record.es_id}") if e["action"] == "issue"][0]
    details = json.loads(issued["details"])["foreign_holders"]
    assert details["reason"] == "经办人个人证书，见鲁财〔2026〕1号"
    assert "经办人 赵磊" in details["certificates"][0]["subject"]
    signed = signed_data_with_seal(record.seal_der, agent, open_key(agent.keyref))
    report = check_seal_in_signature(signed, None, trust=[pki["maker_ca"].root.certificate])
    assert report["ok"] and report["signer_matches_unit"] is False  # allowed by the maker, and said so
    assert "allowed by the seal's maker" in _summary(report)


def _summary(report):
    from sealkit.seal.binding import _summary as summary

    return summary(report)


def test_a_seal_made_elsewhere_for_another_unit_fails_the_seal_check(tmp_path, pki, makers):
    """A seal made elsewhere (no sealkit unit extension) of unit A, used by a holder of unit B: the seal
    check fails."""
    school = make_cert(
        tmp_path, "school", {"organization_name": "济南市示范中学", "common_name": "王建国"}, pki["ca"].root
    )
    spec = seal_spec("FOREIGN-1", school.certificate)
    seal = make_seal(spec, open_key(pki["maker"].keyref), pki["maker"].certificate)
    report = check_seal_in_signature(
        signed_data_with_seal(seal, school, open_key(school.keyref)), None, trust=makers
    )
    assert not report["ok"] and report["reason"] == "seal.signer-not-of-unit"
    assert report["failed_step"] == "signer-unit" and report["signer_matches_unit"] is False
    assert report["unit"] == UNIT_NAME and report["indication"] == "TOTAL-FAILED"
    spec.holder_certs = [pki["holder"].certificate.dump()]  # the honest twin: the unit's own holder
    seal = make_seal(spec, open_key(pki["maker"].keyref), pki["maker"].certificate)
    twin = check_seal_in_signature(
        signed_data_with_seal(seal, pki["holder"], open_key(pki["holder"].keyref)), None, trust=makers
    )
    assert twin["ok"] and twin["signer_matches_unit"] is True


def test_cli_issue_refuses_a_foreign_holder_in_one_line(tmp_path, capsys, pki):
    school = make_cert(
        tmp_path, "school", {"organization_name": "济南市示范中学", "common_name": "王建国"}, pki["ca"].root
    )
    args = [
        "seal",
        "issue",
        "--form",
        str(EXAMPLE_FORM),
        "--kind",
        "contract",
        "--holder-cert",
        str(school.cert_path),
        "--maker",
        pki["maker"].keyref,
        "--maker-cert",
        str(pki["maker"].cert_path),
        "--seal-maker-trust",
        str(pki["maker_ca"].root.cert_path),
        "--valid-until",
        UNTIL.isoformat(),
        "--registry",
        f"sqlite:///{tmp_path / 'c.db'}",
    ]
    code, _, err = cli(capsys, *args)
    assert code == 7 and err.count("\n") == 1 and "济南市示范中学" in err and "--allow-foreign-holder" in err
    code, out, err = cli(capsys, *args, "--allow-foreign-holder", "临时授权", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "enabled"


# --- item 11: every unit code passes GB 32100 ------------------------------------------------------------


def test_successor_and_merged_codes_are_checked(registry, form, pki, maker):
    record = registry.issue(form, "contract", [pki["holder"].certificate], *maker, UNTIL)
    with pytest.raises(InvalidInput, match="successor unit '123'"):
        registry.revoke(record.es_id, "merged", successor="123")
    with pytest.raises(InvalidInput, match="merged unit 'BAD'"):
        registry.merge([UNIT_USCC, "BAD"], "91350100M000100Y43")
    with pytest.raises(InvalidInput, match="check character"):
        registry.merge([UNIT_USCC], "91350100M000100Y44")
    assert registry.get(record.es_id).status == "enabled"  # nothing happened
    assert registry.merge([UNIT_USCC.lower()], "91350100M000100Y43") == [record.es_id]  # honest twin


def test_cli_bad_unit_codes_are_one_line_errors(tmp_path, capsys, pki, form, maker):
    url = f"sqlite:///{tmp_path / 'u.db'}"
    with SealRegistry(url) as registry:
        es_id = registry.issue(form, "contract", [pki["holder"].certificate], *maker, UNTIL).es_id
    code, _, err = cli(
        capsys, "seal", "revoke", es_id, "--reason", "merged", "--successor", "123", "--registry", url
    )
    assert code == 2 and err.count("\n") == 1 and "successor" in err and "18 characters" in err
    code, _, err = cli(
        capsys, "seal", "merge", "--units", "X,BAD", "--into", "91350100M000100Y43", "--registry", url
    )
    assert code == 2 and err.count("\n") == 1 and "'X'" in err
    code, _, err = cli(
        capsys,
        "seal",
        "merge",
        "--units",
        f"{UNIT_USCC},BAD",
        "--into",
        "91350100M000100Y43",
        "--registry",
        url,
    )
    assert code == 2 and "'BAD'" in err
    code, _, err = cli(
        capsys,
        "seal",
        "revoke",
        es_id,
        "--reason",
        "merged",
        "--successor",
        "91350100M000100Y43",
        "--registry",
        url,
    )
    assert code == 0, err


def test_a_revocation_list_with_a_bad_successor_is_refused(pki, makers):
    entry = RevokedSeal({"esID": "37010202000001", "revokedAt": NOW, "reason": "merged", "successor": "123"})
    tbs = TBSSealRevocationList({"version": 1, "issuedAt": NOW, "entries": [entry]})
    algorithm, signature = sign_with(open_key(pki["maker"].keyref), tbs.dump())
    data = SealRevocationList(
        {
            "tbsList": tbs,
            "cert": pki["maker"].certificate.dump(),
            "signAlgID": algorithm,
            "signedValue": signature,
        }
    ).dump()
    with pytest.raises(DecodingError, match="successor of seal 37010202000001"):
        load_revocation_list(data, makers)
    good = make_revocation_list(
        [Revocation("37010202000001", NOW, "merged", "91350100M000100Y43")],
        open_key(pki["maker"].keyref),
        pki["maker"].certificate,
    )
    assert load_revocation_list(good, makers).entries[0].successor == "91350100M000100Y43"
