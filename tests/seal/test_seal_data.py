"""SESeal / SES_Signature: strict round trips, tolerant reading of variants, and verification in the
standard's order with each step made to fail."""

import datetime as dt

import pytest
from asn1crypto import core

from sealkit.errors import DecodingError
from sealkit.pki import make_test_pki
from sealkit.seal import (
    SealSpec,
    asn1,
    make_seal,
    make_ses_signature,
    parse_seal,
    parse_signature,
    verify_seal,
    verify_ses_signature,
)
from sealkit.seal.crypto import sign_with
from sealkit.ukey import open_key
from sealkit.validation import normalise_sm2_signature

from .conftest import UNIT_NAME

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def seq(*items):
    """A DER SEQUENCE of already built values (the way a non-conforming producer would write them)."""
    body = b"".join(item if isinstance(item, bytes) else item.dump() for item in items)
    n = len(body)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return core.Sequence.load(b"\x30" + length + body)


def spec_for(holder_cert, **overrides):
    values = dict(
        es_id="37010201000001",
        name=UNIT_NAME + "合同专用章",
        holder_certs=[holder_cert.dump()],
        valid_start=NOW - dt.timedelta(days=1),
        valid_end=NOW + dt.timedelta(days=60),
        picture=b"\x89PNG fake imprint",
        width_mm=40,
        height_mm=40,
        create_date=NOW,
    )
    values.update(overrides)
    return SealSpec(**values)


@pytest.fixture(scope="module")
def sm2_pki(tmp_path_factory):
    ca = make_test_pki(tmp_path_factory.mktemp("sm2-pki"), "sm2")
    return ca, ca.issue("maker", "seal-maker"), ca.issue("holder", "sign", organization=UNIT_NAME)


@pytest.fixture(scope="module")
def seal_der(pki):
    maker = open_key(pki["maker"].keyref)
    return make_seal(spec_for(pki["holder"].certificate), maker, pki["maker"].certificate)


def test_strict_round_trip(pki, seal_der):
    strict = asn1.SESeal.load(seal_der, strict=True)
    assert strict.dump(force=True) == seal_der
    parsed = parse_seal(seal_der)
    assert (parsed.version, parsed.header_id, parsed.vid) == (4, "ES", "sealkit")
    assert parsed.es_id == "37010201000001" and parsed.name == UNIT_NAME + "合同专用章"
    assert parsed.certs == [pki["holder"].certificate.dump()]
    assert parsed.valid_end == NOW + dt.timedelta(days=60)
    assert parsed.picture == b"\x89PNG fake imprint" and (parsed.width_mm, parsed.height_mm) == (40, 40)
    assert parsed.maker_cert == pki["maker"].certificate.dump()
    assert strict["eSealInfo"]["property"]["createDate"].dump()[0] == 0x18  # GeneralizedTime


def test_sm2_seal_and_signature(sm2_pki):
    ca, maker, holder = sm2_pki
    der = make_seal(spec_for(holder.certificate), open_key(maker.keyref), maker.certificate)
    assert parse_seal(der).sign_alg == asn1.SM2_WITH_SM3
    assert verify_seal(der, trust=[ca.root.certificate]).ok
    sig = make_ses_signature(der, open_key(holder.keyref), holder.certificate, b"contract")
    result = verify_ses_signature(sig, b"contract", trust=[ca.root.certificate])
    assert result.ok, result.reason
    assert parse_signature(sig).sign_alg == asn1.SM2_WITH_SM3


def test_sm2_signature_encodings(sm2_pki):
    _, _, holder = sm2_pki
    der = open_key(holder.keyref).sign(b"x")
    parsed = core.Sequence.load(der)
    raw = parsed[0].native.to_bytes(32, "big") + parsed[1].native.to_bytes(32, "big")
    assert normalise_sm2_signature(der) == der
    assert normalise_sm2_signature(b"\x00" + der) == der
    assert normalise_sm2_signature(raw) == der
    with pytest.raises(DecodingError):
        normalise_sm2_signature(b"\x01" * 63)


def test_variant_octet_string_and_leading_zero_sm2(sm2_pki):
    """signedValue as OCTET STRING holding 00 || DER: read tolerantly, still verifies."""
    ca, maker, holder = sm2_pki
    der = make_seal(spec_for(holder.certificate), open_key(maker.keyref), maker.certificate)
    strict = asn1.SESeal.load(der)
    variant = seq(
        strict["eSealInfo"],
        core.OctetString(strict["cert"].native),
        core.ObjectIdentifier(asn1.SM2_WITH_SM3),
        core.OctetString(b"\x00" + strict["signedValue"].native),
    ).dump()
    assert verify_seal(variant, trust=[ca.root.certificate]).ok


def _v1_seal(maker_handle, maker_cert, holder_cert, time_cls):
    info = seq(
        asn1.SES_Header({"ID": "ES", "version": 1, "Vid": "vendor"}),
        core.IA5String("V1-0001"),
        seq(
            core.Integer(1),
            core.UTF8String("旧版印章"),
            asn1.CertInfoList([holder_cert.dump()]),
            time_cls(NOW),
            time_cls(NOW - dt.timedelta(days=1)),
            time_cls(NOW + dt.timedelta(days=30)),
        ),
        asn1.SES_ESPictrueInfo({"type": "png", "data": b"img", "width": 40, "height": 40}),
    )
    cert = core.OctetString(maker_cert.dump())
    oid = core.ObjectIdentifier("1.2.840.10045.4.3.2")
    _, signature = sign_with(maker_handle, seq(info, cert, oid).dump())
    return seq(info, seq(cert, oid, core.OctetBitString(signature))).dump()


@pytest.mark.parametrize("time_cls", [core.UTCTime, core.GeneralizedTime], ids=["utctime", "generalizedtime"])
def test_v1_seal_reads_and_verifies(pki, time_cls, makers):
    der = _v1_seal(
        open_key(pki["maker"].keyref), pki["maker"].certificate, pki["holder"].certificate, time_cls
    )
    parsed = parse_seal(der)
    assert (parsed.version, parsed.es_id, parsed.name) == (1, "V1-0001", "旧版印章")
    assert parsed.certs == [pki["holder"].certificate.dump()]
    result = verify_seal(der, trust=makers)
    assert result.ok, result.reason
    if time_cls is core.UTCTime:
        asn1.V1_SESeal.load(der).native  # the strict v1 classes read the conforming file


def test_untagged_timestamp_is_read(pki, seal_der):
    holder = open_key(pki["holder"].keyref)
    sig = asn1.SES_Signature.load(make_ses_signature(seal_der, holder, pki["holder"].certificate, b"doc"))
    tagged = sig.copy()
    tagged["timeStamp"] = b"token"
    assert parse_signature(tagged.dump()).timestamp == b"token"
    untagged = seq(*[sig[i] for i in range(4)], core.OctetBitString(b"token"))
    assert parse_signature(untagged.dump()).timestamp == b"token"


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30\x03\x02\x01\x04", b"\x04\x02ab", b"garbage" * 5],
    ids=["empty", "short-seq", "not-seq", "garbage"],
)
def test_malformed_seal_is_a_decoding_error(data):
    with pytest.raises(DecodingError):
        parse_seal(data)
    assert verify_seal(data).failed_step == "format"


def test_version_mismatch_is_refused(pki, seal_der):
    strict = asn1.SESeal.load(seal_der)
    info = strict["eSealInfo"].copy()
    info["header"]["version"] = 1
    bad = asn1.SESeal(
        {**{k: strict[k] for k in ("cert", "signAlgID", "signedValue")}, "eSealInfo": info}
    ).dump()
    with pytest.raises(DecodingError, match="version"):
        parse_seal(bad)


# --- verification order: each step fails on its own ---


@pytest.fixture(scope="module")
def signed(pki, seal_der):
    holder = open_key(pki["holder"].keyref)
    return make_ses_signature(seal_der, holder, pki["holder"].certificate, b"the contract")


def test_signature_verifies_in_order(pki, signed, makers):
    result = verify_ses_signature(signed, b"the contract", trust=makers)
    assert result.ok, result.reason
    assert [s.name for s in result.steps][1:] == [
        "signer-signature",
        "signer-in-certlist",
        "signer-unit",
        "maker-signature",
        "maker-certificate",
        "seal-validity",
        "signer-certificate",
        "document-hash",
    ]


def test_step1_signer_signature(pki, signed, makers):
    sig = asn1.SES_Signature.load(signed).copy()
    value = bytearray(sig["signature"].native)
    value[-3] ^= 1
    sig["signature"] = bytes(value)
    result = verify_ses_signature(sig.dump(), b"the contract", trust=makers)
    assert result.failed_step == "signer-signature"
    assert [s.ok for s in result.steps][2:] == [None] * 7


def test_step2_signer_not_in_certlist(pki, seal_der, makers):
    other = open_key(pki["other"].keyref)
    sig = make_ses_signature(seal_der, other, pki["other"].certificate, b"the contract")
    assert verify_ses_signature(sig, b"the contract", trust=makers).failed_step == ("signer-in-certlist")


def test_step3_maker_signature(pki, seal_der, makers):
    tampered = seal_der.replace("合同专用章".encode(), "财务专用章".encode())
    assert tampered != seal_der
    holder = open_key(pki["holder"].keyref)
    sig = make_ses_signature(tampered, holder, pki["holder"].certificate, b"the contract")
    result = verify_ses_signature(sig, b"the contract", trust=makers)
    assert result.failed_step == "maker-signature"
    assert verify_seal(tampered, trust=makers).failed_step == "maker-signature"


def test_step4_maker_certificate_untrusted(tmp_path, signed):
    stranger = make_test_pki(tmp_path, "p256", name="Stranger CA")
    result = verify_ses_signature(signed, b"the contract", trust=[stranger.root.certificate])
    assert result.failed_step == "maker-certificate"
    assert result.reason_code == "seal.maker-untrusted" and "no path to a trust anchor" in result.reason


def test_step5_seal_validity_at_signing_time(pki, signed, makers):
    late = NOW + dt.timedelta(days=90)
    result = verify_ses_signature(signed, b"the contract", trust=makers, at_time=late)
    assert result.failed_step == "seal-validity" and result.reason_code == "seal.expired"

    future = spec_for(pki["holder"].certificate, valid_start=NOW + dt.timedelta(days=1))
    seal = make_seal(future, open_key(pki["maker"].keyref), pki["maker"].certificate)
    sig = make_ses_signature(
        seal, open_key(pki["holder"].keyref), pki["holder"].certificate, b"doc", time=NOW
    )
    result = verify_ses_signature(sig, b"doc", trust=makers)
    assert result.failed_step == "seal-validity" and result.reason_code == "seal.not-yet-valid"


def test_step6_signer_certificate_at_signing_time(pki, makers):
    short = pki["ca"].issue("short-lived", "sign", days=10, organization=UNIT_NAME)
    maker = open_key(pki["maker"].keyref)
    seal = make_seal(spec_for(short.certificate), maker, pki["maker"].certificate)
    sig = make_ses_signature(seal, open_key(short.keyref), short.certificate, b"doc")
    result = verify_ses_signature(sig, b"doc", trust=makers, at_time=NOW + dt.timedelta(days=20))
    assert result.failed_step == "signer-certificate"


def test_step7_document_hash(pki, signed, makers):
    result = verify_ses_signature(signed, b"the contract, altered", trust=makers)
    assert result.failed_step == "document-hash"


def test_seal_spec_is_checked(pki, maker):
    handle, cert = maker
    with pytest.raises(Exception, match="ends before it starts"):
        make_seal(spec_for(pki["holder"].certificate, valid_end=NOW - dt.timedelta(days=5)), handle, cert)
    with pytest.raises(Exception, match="does not match"):
        make_seal(spec_for(pki["holder"].certificate), handle, pki["holder"].certificate)
