# ruff: noqa: E501 - long PDF literals read better on one line
"""An independent review of the verifier: forgeries that should not be TOTAL-PASSED.

Each test builds its attack file in code from the test contract. Attacks the verifier still lets through are
marked ``xfail(strict=True)`` with the missing rule in the reason, so the suite stays green and turns red the
day the hole is closed (then drop the marker). The others are rejections that must stay rejections.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from asn1crypto import tsp
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pyhanko.sign.timestamps import TimeStamper

from sealkit.pdf import verify_pdf
from tests.helpers.pki_responses import KeyedIdentity, timestamp_token
from tests.pdf_verify import forgeries as f

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
EVIL_TEXT = b"BT /Helv 12 Tf 72 740 Td (Contract amount: 1.00 CNY) Tj ET"


@pytest.fixture(scope="module")
def buyer(rsa_pki):
    return rsa_pki.signer("Buyer Ltd")


@pytest.fixture(scope="module")
def supplier(rsa_pki):
    return rsa_pki.signer("Supplier Co")


@pytest.fixture(scope="module")
def signed_contract(contract, buyer):
    return f.sign_as(contract, buyer, "buyer")


def _body(data: bytes, number: int) -> bytes:
    return re.findall(rb"\n%d 0 obj\n(.*?)\nendobj" % number, data, re.S)[-1]


def _update(data: bytes, objects: list[bytes], entries: list[tuple[int, int, int]]) -> bytes:
    """Append the raw ``objects`` (whole ``N G obj … endobj`` texts) and a classic xref section whose
    ``entries`` are (object number, generation, index into ``objects``)."""
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    size = int(re.findall(rb"/Size (\d+)", data)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", data)[-1]
    out = bytearray(data)
    offsets = []
    for text in objects:
        offsets.append(len(out))
        out += text + b"\n"
    xref_at = len(out)
    out += b"xref\n"
    for number, generation, index in sorted(entries):
        out += b"%d 1\n%010d %05d n \n" % (number, offsets[index], generation)
    out += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        prev,
        xref_at,
    )
    return bytes(out)


def _not_passed(report) -> None:
    assert not report.passed, [(s.field, s.indication, s.reasons) for s in report.signatures]


# -- parser differentials: what pyHanko compares is not what a viewer shows -------------------------------


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: a page rewritten with a duplicate key (/Contents 11 0 R /Contents 99 0 R); pyHanko "
    "keeps the first value (unchanged), poppler/pdftoppm the last (the forged text). Rule missing: an "
    "update whose dictionaries repeat a key is a modification (or parse updates strictly)",
)
def test_duplicate_key_in_rewritten_page(signed_contract, trust):
    page1 = _body(signed_contract, 10).replace(b"/Contents 11 0 R", b"/Contents 11 0 R /Contents 99 0 R")
    forged = f.raw_update(signed_contract, {99: f.content_stream(EVIL_TEXT), 10: page1})
    _not_passed(verify_pdf(forged, trust=trust))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: the amount widget rewritten with /AP << /N 8 0 R /N 99 0 R >>; pyHanko compares "
    "the first /N (unchanged), viewers draw the last (1200000.00). Same missing rule: duplicate keys",
)
def test_duplicate_key_in_widget_appearance(signed_contract, trust):
    widget = _body(signed_contract, 5).replace(b"/AP << /N 8 0 R >>", b"/AP << /N 8 0 R /N 99 0 R >>")
    assert b"/N 99 0 R" in widget
    appearance = f.overlay_annotation(98)[99]
    forged = f.raw_update(signed_contract, {99: appearance, 5: widget})
    _not_passed(verify_pdf(forged, trust=trust))


def test_duplicate_key_where_pyhanko_sees_the_change_is_rejected(signed_contract, trust):
    page1 = _body(signed_contract, 10).replace(b"/Contents 11 0 R", b"/Contents 99 0 R /Contents 11 0 R")
    forged = f.raw_update(signed_contract, {99: f.content_stream(EVIL_TEXT), 10: page1})
    report = verify_pdf(forged, trust=trust)
    _not_passed(report)
    assert "modification.page-content" in report.signatures[0].reasons


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: the update registers object 11 with generation 1 ('11 1 obj'); the signed page "
    "still refers to '11 0 R', which no longer exists, so viewers show page 1 without its text (hide "
    "attack), while pyHanko's history keeps (11, 0) defined. Rule missing: a new generation of an object "
    "number frees the old one (compare as 'freed after signing')",
)
def test_new_generation_hides_page_content(signed_contract, trust):
    forged = _update(signed_contract, [b"11 1 obj\n" + f.content_stream(b"") + b"\nendobj"], [(11, 1, 0)])
    _not_passed(verify_pdf(forged, trust=trust))


def test_stream_with_short_length_is_rejected(signed_contract, trust):
    """/Length covers the signed bytes only; poppler reads on to endstream and shows the extra text."""
    body = re.search(rb"stream\n(.*?)\nendstream", _body(signed_contract, 11), re.S).group(1)  # type: ignore[union-attr]
    tricky = b"<< /Length %d >>\nstream\n%s\n%s\nendstream" % (len(body), body, EVIL_TEXT)
    report = verify_pdf(f.raw_update(signed_contract, {11: tricky}), trust=trust)
    _not_passed(report)


def test_hybrid_section_with_two_definitions_is_rejected(signed_contract, trust):
    """The classic table registers an identical copy of object 11, the /XRefStm stream the forged one."""
    forged = f.raw_update(
        signed_contract, {11: _body(signed_contract, 11)}, hybrid={11: f.content_stream(EVIL_TEXT)}
    )
    _not_passed(verify_pdf(forged, trust=trust))


def test_xref_entry_pointing_at_another_objects_header_is_rejected(signed_contract, trust):
    forged = _update(
        signed_contract, [b"12 0 obj\n" + f.content_stream(EVIL_TEXT) + b"\nendobj"], [(11, 0, 0)]
    )
    _not_passed(verify_pdf(forged, trust=trust))


# -- document timestamps as carriers ------------------------------------------------------------------------


class FixedTimeTSA(TimeStamper):
    """A TSA answering with a token of ``identity`` at ``gen_time`` (a test PKI's TSA, or a fake one)."""

    def __init__(self, identity: KeyedIdentity, gen_time: dt.datetime) -> None:
        super().__init__()
        self.identity = identity
        self.gen_time = gen_time

    async def async_timestamp(self, message_digest, md_algorithm):  # type: ignore[no-untyped-def]
        imprint = tsp.MessageImprint(
            {"hash_algorithm": {"algorithm": md_algorithm}, "hashed_message": message_digest}
        )
        return timestamp_token(self.identity, imprint, nonce=None, gen_time=self.gen_time)


@pytest.fixture(scope="module")
def tsa(rsa_pki):
    """A TSA whose certificate was valid long before the tokens it is made to date in the past."""
    return KeyedIdentity.load(
        rsa_pki.pki.issue("Review TSA", "tsa", not_before=NOW - dt.timedelta(days=400), days=800)
    )


def _visible_document_timestamp(data: bytes, timestamper: TimeStamper) -> bytes:
    """One update: a new /DocTimeStamp field with a widget over the amount whose /AP paints 1200000.00."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    append_signature_field(writer, SigFieldSpec("stamp", box=f.AMOUNT_RECT, on_page=0))
    fields = writer.root["/AcroForm"]["/Fields"]
    widget = fields[len(fields) - 1].get_object()
    widget["/AP"] = generic.DictionaryObject({pdf_name("/N"): f._appearance(writer)})
    out = io.BytesIO()
    signers.PdfTimeStamper(timestamper, field_name="stamp").timestamp_pdf(writer, "sha256", output=out)
    return out.getvalue()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: anyone with a trusted (public) TSA and no signing key adds a /DocTimeStamp field "
    "whose visible widget paints 1200000.00 over the amount; only a seal-overlap warning. Rule B says "
    "document timestamps are invisible, but form_rules/_certification_failures only enforce it on P=1",
)
def test_visible_document_timestamp_over_the_amount(signed_contract, trust, tsa):
    forged = _visible_document_timestamp(signed_contract, FixedTimeTSA(tsa, NOW))
    _not_passed(verify_pdf(forged, trust=trust))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: the same visible document timestamp on a DocMDP P=2 certified contract (rule M "
    "allows only A and B there)",
)
def test_visible_document_timestamp_on_certified_contract(contract, buyer, trust, tsa):
    certified = f.sign_as(contract, buyer, "buyer", certify=2)
    forged = _visible_document_timestamp(certified, FixedTimeTSA(tsa, NOW))
    _not_passed(verify_pdf(forged, trust=trust))


def test_visible_document_timestamp_on_p1_is_rejected(contract, buyer, trust, tsa):
    certified = f.sign_as(contract, buyer, "buyer", certify=1)
    report = verify_pdf(_visible_document_timestamp(certified, FixedTimeTSA(tsa, NOW)), trust=trust)
    _not_passed(report)
    assert "modification.docmdp-violation" in report.signatures[0].reasons


# -- time: what a timestamp proves --------------------------------------------------------------------------


def _sign_with_timestamp(data: bytes, signer, timestamper: TimeStamper) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="buyer", md_algorithm="sha256")
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer, timestamper=timestamper).sign_pdf(writer, output=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def expired_buyer(rsa_pki):
    return rsa_pki.signer(
        "Expired Buyer", not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(days=30)
    )


def test_honest_timestamp_rescues_an_expired_certificate(contract, expired_buyer, trust, tsa):
    """The twin: a trusted TSA's token from inside the signer's validity proves the signature in time."""
    report = verify_pdf(
        _sign_with_timestamp(contract, expired_buyer, FixedTimeTSA(tsa, NOW - dt.timedelta(days=60))),
        trust=trust,
    )
    assert report.passed, [(s.field, s.reasons) for s in report.signatures]


def test_timestamp_by_a_certificate_without_timestamping_eku_is_no_proof(
    contract, rsa_pki, expired_buyer, trust
):
    not_a_tsa = KeyedIdentity.load(rsa_pki.pki.issue("Not A TSA", "sign"))
    forged = _sign_with_timestamp(
        contract, expired_buyer, FixedTimeTSA(not_a_tsa, NOW - dt.timedelta(days=60))
    )
    report = verify_pdf(forged, trust=trust)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")


def test_timestamp_older_than_its_tsa_certificate(contract, rsa_pki, expired_buyer, trust):
    young_tsa = KeyedIdentity.load(
        rsa_pki.pki.issue(
            "Young TSA", "tsa", not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=300)
        )
    )
    forged = _sign_with_timestamp(
        contract, expired_buyer, FixedTimeTSA(young_tsa, NOW - dt.timedelta(days=60))
    )
    _not_passed(verify_pdf(forged, trust=trust))


def test_timestamp_from_the_future(contract, rsa_pki, trust, tsa):
    not_yet = rsa_pki.signer(
        "Future Buyer", not_before=NOW + dt.timedelta(days=10), not_after=NOW + dt.timedelta(days=400)
    )
    forged = _sign_with_timestamp(contract, not_yet, FixedTimeTSA(tsa, NOW + dt.timedelta(days=20)))
    _not_passed(verify_pdf(forged, trust=trust))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: anyone with a trusted (public) TSA fills the buyer's *prepared* 'supplier' "
    "field with a /DocTimeStamp and gives its widget an /AP showing a 'Supplier Co' seal; the report says "
    "Signature 'supplier': TOTAL-PASSED and modification lta-updates, though the supplier never signed. "
    "Rule missing: a document timestamp may not fill a prepared signature field nor carry an appearance",
)
def test_document_timestamp_fills_the_suppliers_prepared_field_with_a_seal(signed_contract, trust, tsa):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_contract), strict=False)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == "supplier":
            seal = f._appearance(
                writer, b"1 0 0 RG 10 10 130 80 re S BT /Helv 10 Tf 20 45 Td (Supplier Co SEAL) Tj ET"
            )
            field["/AP"] = generic.DictionaryObject({pdf_name("/N"): seal})
            writer.update_container(field)
    out = io.BytesIO()
    signers.PdfTimeStamper(FixedTimeTSA(tsa, NOW), field_name="supplier").timestamp_pdf(
        writer, "sha256", output=out
    )
    report = verify_pdf(out.getvalue(), trust=trust)
    assert [s.field for s in report.signatures] == ["buyer", "supplier"]
    _not_passed(report)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: the update's trailer says /Root 1 0 R /Root 60 0 R; pyHanko reads the first "
    "(the signed catalog), poppler the last: a new catalog, page tree and page 1 with forged text. Rule "
    "missing: duplicate keys (here in the trailer) make an update unreadable",
)
def test_duplicate_root_in_trailer(signed_contract, trust):
    prev = int(re.findall(rb"startxref\s+(\d+)", signed_contract)[-1])
    objects = {
        60: _body(signed_contract, 1).replace(b"/Pages 2 0 R", b"/Pages 61 0 R"),
        61: _body(signed_contract, 2).replace(b"10 0 R", b"62 0 R"),
        62: _body(signed_contract, 10)
        .replace(b"/Contents 11 0 R", b"/Contents 63 0 R")
        .replace(b"/Parent 2 0 R", b"/Parent 61 0 R"),
        63: f.content_stream(EVIL_TEXT),
    }
    out = bytearray(signed_contract)
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n60 4\n" + b"".join(b"%010d 00000 n \n" % offsets[n] for n in sorted(objects))
    out += b"trailer\n<< /Size 64 /Root 1 0 R /Root 60 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        prev,
        xref_at,
    )
    _not_passed(verify_pdf(bytes(out), trust=trust))


def test_two_xref_entries_for_one_object_are_rejected(signed_contract, trust):
    original = b"11 0 obj\n" + _body(signed_contract, 11) + b"\nendobj"
    forged = b"11 0 obj\n" + f.content_stream(EVIL_TEXT) + b"\nendobj"
    for order in ((0, 1), (1, 0)):
        data = _update(signed_contract, [original, forged], [])
        head, tail = data.rsplit(b"xref\n", 1)
        offsets = [data.index(original, len(signed_contract)), data.index(forged, len(signed_contract))]
        rows = b"".join(b"11 1\n%010d 00000 n \n" % offsets[i] for i in order)
        _not_passed(verify_pdf(head + b"xref\n" + rows + tail, trust=trust))


def test_update_whose_prev_skips_the_signed_revision_is_not_passed(signed_contract, trust):
    first_xref = int(re.findall(rb"startxref\s+(\d+)", signed_contract)[0])
    last_xref = int(re.findall(rb"startxref\s+(\d+)", signed_contract)[-1])
    update = f.raw_update(signed_contract, {11: f.content_stream(EVIL_TEXT)})
    forged = update.replace(b"/Prev %d >>" % last_xref, b"/Prev %d >>" % first_xref)
    assert forged != update
    _not_passed(verify_pdf(forged, trust=trust))


# -- document timestamps that do not prove what they claim ------------------------------------------------


def _document_timestamp(data: bytes, timestamper: TimeStamper) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = io.BytesIO()
    signers.PdfTimeStamper(timestamper, field_name="archive").timestamp_pdf(writer, "sha256", output=out)
    return out.getvalue()


def test_trusted_document_timestamp_before_the_signature_proves_nothing(contract, expired_buyer, trust, tsa):
    stamped = _document_timestamp(contract, FixedTimeTSA(tsa, NOW - dt.timedelta(days=60)))
    forged = f.sign_as(stamped, expired_buyer, "buyer")
    report = verify_pdf(forged, trust=trust)
    _not_passed(report)
    buyer = next(s for s in report.signatures if s.field == "buyer")
    assert buyer.sub_indication == "OUT_OF_BOUNDS_NO_POE" and buyer.proven_time is None


def test_untrusted_document_timestamp_is_no_proof_of_existence(contract, expired_buyer, trust, other_pki):
    foreign_tsa = KeyedIdentity.load(other_pki.pki.issue("Foreign TSA", "tsa"))
    signed = f.sign_as(contract, expired_buyer, "buyer")
    report = verify_pdf(
        _document_timestamp(signed, FixedTimeTSA(foreign_tsa, NOW - dt.timedelta(days=60))), trust=trust
    )
    _not_passed(report)
    buyer = next(s for s in report.signatures if s.field == "buyer")
    assert buyer.sub_indication == "OUT_OF_BOUNDS_NO_POE" and buyer.proven_time is None


def test_honest_document_timestamp_proves_existence(contract, expired_buyer, trust, tsa):
    """The twin: a trusted archive timestamp from inside the signer's validity carries the proof."""
    signed = f.sign_as(contract, expired_buyer, "buyer")
    report = verify_pdf(
        _document_timestamp(signed, FixedTimeTSA(tsa, NOW - dt.timedelta(days=60))), trust=trust
    )
    assert report.passed, [(s.field, s.reasons) for s in report.signatures]


# -- certificate paths ------------------------------------------------------------------------------------


def _certificate(folder, name: str, issuer, *, is_ca: bool, usage: set[str], path_len: int | None = None):
    """An RSA identity issued by ``issuer`` (a sealkit.pki Identity) with exactly these extensions."""
    import secrets

    from sealkit import pki as test_pki
    from sealkit.sm2 import x509 as sm2_x509

    key, pem = test_pki._generate_key("rsa")
    cert = sm2_x509.build_certificate(
        {"country_name": "CN", "organization_name": "review", "common_name": name},
        key.public_key(),
        issuer.certificate,
        test_pki._load_key("rsa", issuer.key_path.read_bytes()),
        serial=secrets.randbits(62),
        not_before=NOW - dt.timedelta(days=1),
        not_after=NOW + dt.timedelta(days=30),
        is_ca=is_ca,
        key_usage=usage,
        path_len=path_len,
    )
    (folder / name).mkdir(parents=True, exist_ok=True)
    identity = test_pki.Identity(name, "rsa", folder / name / "cert.pem", folder / name / "key.pem")
    identity.key_path.write_bytes(pem)
    identity.cert_path.write_bytes(sm2_x509.to_pem(cert))
    return identity


def _signed_by(contract: bytes, leaf, chain) -> bytes:
    signer = signers.SimpleSigner.load(
        str(leaf.key_path), str(leaf.cert_path), ca_chain_files=tuple(str(c.cert_path) for c in chain)
    )
    return f.sign_as(contract, signer, "buyer")


SIGNING = {"digital_signature", "non_repudiation"}


@pytest.mark.parametrize(
    ("case", "sub"),
    [
        ("leaf-as-intermediate", "NO_CERTIFICATE_CHAIN_FOUND"),
        ("ca-without-keycertsign", "NO_CERTIFICATE_CHAIN_FOUND"),
        ("path-length-exceeded", "NO_CERTIFICATE_CHAIN_FOUND"),
        ("signer-without-signing-key-usage", "CHAIN_CONSTRAINTS_FAILURE"),
    ],
)
def test_certificate_path_tricks_are_rejected(tmp_path, contract, rsa_pki, trust, case, sub):
    root = rsa_pki.root
    if case == "leaf-as-intermediate":
        issuer = rsa_pki.identity("Buyer Ltd")
        chain = [_certificate(tmp_path, "leaf", issuer, is_ca=False, usage=SIGNING), issuer, root]
    elif case == "ca-without-keycertsign":
        issuer = _certificate(tmp_path, "ca", root, is_ca=True, usage={"digital_signature"})
        chain = [_certificate(tmp_path, "leaf", issuer, is_ca=False, usage=SIGNING), issuer, root]
    elif case == "path-length-exceeded":
        top = _certificate(tmp_path, "ca0", root, is_ca=True, usage={"key_cert_sign"}, path_len=0)
        below = _certificate(tmp_path, "ca1", top, is_ca=True, usage={"key_cert_sign"})
        chain = [_certificate(tmp_path, "leaf", below, is_ca=False, usage=SIGNING), below, top, root]
    else:
        chain = [_certificate(tmp_path, "leaf", root, is_ca=False, usage={"key_cert_sign"}), root]
    report = verify_pdf(_signed_by(contract, chain[0], chain[1:]), trust=trust)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", sub)


def test_honest_intermediate_passes(tmp_path, contract, rsa_pki, trust):
    ca = _certificate(tmp_path, "ca", rsa_pki.root, is_ca=True, usage={"key_cert_sign", "crl_sign"})
    leaf = _certificate(tmp_path, "leaf", ca, is_ca=False, usage=SIGNING)
    assert verify_pdf(_signed_by(contract, leaf, [ca, rsa_pki.root]), trust=trust).passed


def test_signature_timestamp_moved_from_another_signature_is_rejected(contract, expired_buyer, trust, tsa):
    """A trusted token over one signature's value, copied into another signature of the same signer."""
    from asn1crypto import cms

    from sealkit.pdf.verify_policy import _der_length
    from tests.pdf_verify.tampering import contents_span, replace_contents_hex

    def cms_of(data: bytes) -> cms.ContentInfo:
        start, end = contents_span(data)
        raw = bytes.fromhex(data[start + 1 : end - 1].decode())
        return cms.ContentInfo.load(raw[: _der_length(raw)])

    stamped = _sign_with_timestamp(contract, expired_buyer, FixedTimeTSA(tsa, NOW - dt.timedelta(days=60)))
    writer = IncrementalPdfFileWriter(io.BytesIO(contract), strict=False)
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="buyer", md_algorithm="sha256"), signer=expired_buyer
    ).sign_pdf(writer, output=out, bytes_reserved=16384)
    plain = out.getvalue()
    token = next(
        a
        for a in cms_of(stamped)["content"]["signer_infos"][0]["unsigned_attrs"]
        if a["type"].native == "signature_time_stamp_token"
    )
    target = cms_of(plain)
    target["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes([token])
    report = verify_pdf(replace_contents_hex(plain, target.dump().hex().upper().encode()), trust=trust)
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE")
    assert "crypto.timestamp-invalid" in report.signatures[0].reasons


# -- rule C: a later signer's seal over signed content --------------------------------------------------------


def _with_drawn_marks(contract: bytes) -> bytes:
    """Before signing, page 1 gets signed content that is not text: a vector-drawn approval mark (a red box
    with a stroke) and a small inline image (BI … ID … EI)."""
    from tests.pdf_verify.tampering import incremental, page

    def change(writer):
        target = page(writer)
        marks = writer.add_object(
            generic.StreamObject(
                stream_data=b"q 1 0 0 RG 4 w 100 560 120 60 re S 100 560 m 220 620 l S Q\n"
                b"q 60 0 0 20 300 560 cm BI /W 2 /H 1 /CS /G /BPC 8 ID \x00\x80 EI Q"
            )
        )
        target["/Contents"] = generic.ArrayObject([target.raw_get("/Contents"), marks])
        writer.update_container(target)

    return incremental(contract, change)


def _later_signature_in_new_field(data: bytes, signer, box) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    append_signature_field(writer, SigFieldSpec("late", box=box, on_page=0))
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="late", md_algorithm="sha256"), signer=signer
    ).sign_pdf(writer, output=out)
    return out.getvalue()


def _overlap_warnings(report) -> list[str]:
    return [c.detail for s in report.signatures for c in s.checks if c.name == "seal-overlap"]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="silent overlay: rule C lets a later signer put a seal anywhere, and the only safeguard, the "
    "seal-overlap warning (overlap.CoverFinder), sees text runs, XObjects (Do) and annotations but not "
    "vector paths nor inline images: a seal over a drawn approval mark or an inline-image scan passes "
    "TOTAL-PASSED without any warning",
)
@pytest.mark.parametrize("box", [(100, 560, 220, 620), (300, 560, 360, 580)], ids=["vector", "inline-image"])
def test_later_seal_over_drawn_content_is_reported(contract, buyer, supplier, trust, box):
    signed = f.sign_as(_with_drawn_marks(contract), buyer, "buyer")
    report = verify_pdf(_later_signature_in_new_field(signed, supplier, box), trust=trust)
    assert _overlap_warnings(report), "no seal-overlap warning"


def test_later_seal_over_text_is_reported(contract, buyer, supplier, trust):
    """The twin: a seal over the signed title text is named in a warning."""
    signed = f.sign_as(_with_drawn_marks(contract), buyer, "buyer")
    report = verify_pdf(_later_signature_in_new_field(signed, supplier, (72, 735, 200, 760)), trust=trust)
    assert any("Procurement contract" in w for w in _overlap_warnings(report))


# -- a "later signature" nobody verifies ------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes with NO key and NO TSA: a new signature field 'x' whose /V is a bogus signature "
    "dictionary (/Contents <00>, /ByteRange [0 0 0 0]) and whose /Kids hold its widget (painting 1200000.00 "
    "over the amount) and a sub-field 'k' with /T. verify._signature_fields descends into kids that have /T "
    "and never yields 'x' itself, so its /V is never verified; form_rules._new_field ignores /T kids and "
    "accepts 'x' as rule C ('signed in the same update'); with a bogus /DocTimeStamp as /V it passes even on a DocMDP P=2 certified contract. Rules missing: every LaterSignature must be a "
    "signature that verify_pdf verified and that passed; a field with /V must not also have /T kids",
)
@pytest.mark.parametrize(
    ("certify", "value"),
    [
        (
            None,
            b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /Contents <00> /ByteRange [0 0 0 0] >>",
        ),
        (2, b"<< /Type /DocTimeStamp /SubFilter /ETSI.RFC3161 /Contents <00> /ByteRange [0 0 0 0] >>"),
    ],
    ids=["plain-bogus-sig", "certified-p2-bogus-doctimestamp"],
)
def test_unverified_later_signature_with_a_sub_field(contract, buyer, trust, certify, value):
    signed_contract = f.sign_as(contract, buyer, "buyer", certify=certify)
    form = _body(signed_contract, 3).replace(b"7 0 R ]", b"7 0 R 80 0 R ]")
    page1 = _body(signed_contract, 10).replace(b"/Annots [5 0 R]", b"/Annots [5 0 R 82 0 R]")
    assert b"80 0 R" in form and b"82 0 R" in page1
    forged = f.raw_update(
        signed_contract,
        {
            3: form,
            10: page1,
            80: b"<< /FT /Sig /T (x) /V 81 0 R /Kids [82 0 R 84 0 R] >>",
            81: value,
            82: b"<< /Type /Annot /Subtype /Widget /Parent 80 0 R /Rect [300 700 500 720] /P 10 0 R /F 4 /AP << /N 83 0 R >> >>",
            83: f.overlay_annotation(82)[83],
            84: b"<< /T (k) /Parent 80 0 R >>",
        },
    )
    report = verify_pdf(forged, trust=trust)
    _not_passed(report)


def test_bogus_later_signature_without_sub_field_is_rejected(signed_contract, trust):
    """The twin: the same bogus 'x' without the /T kid is enumerated, verified and fails."""
    form = _body(signed_contract, 3).replace(b"7 0 R ]", b"7 0 R 80 0 R ]")
    page1 = _body(signed_contract, 10).replace(b"/Annots [5 0 R]", b"/Annots [5 0 R 82 0 R]")
    forged = f.raw_update(
        signed_contract,
        {
            3: form,
            10: page1,
            80: b"<< /FT /Sig /T (x) /V 81 0 R /Kids [82 0 R] >>",
            81: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /Contents <00> /ByteRange [0 0 0 0] >>",
            82: b"<< /Type /Annot /Subtype /Widget /Parent 80 0 R /Rect [300 700 500 720] /P 10 0 R /F 4 /AP << /N 83 0 R >> >>",
            83: f.overlay_annotation(82)[83],
        },
    )
    report = verify_pdf(forged, trust=trust)
    _not_passed(report)
    assert report.indication == "TOTAL-FAILED"


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes: a later signer lists its (genuine) new field 'late' 10,000 times in /AcroForm "
    "/Fields, then a bogus 'signed' field 'x' painting 1200000.00 over the amount. verify._signature_fields "
    "counts every popped entry (seen ones too) against _MAX_FIELDS and silently stops before 'x', so 'x' is "
    "never verified, while form_rules accepts each entry as rule C. Rules missing: stopping the field walk "
    "early must be a verdict (too-complex), a field listed twice is a modification, and (as above) every "
    "LaterSignature must be a verified, passing signature",
)
def test_field_walk_limit_hides_an_unverified_later_signature(signed_contract, supplier, trust):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_contract), strict=False)
    append_signature_field(writer, SigFieldSpec("late", box=(400, 20, 500, 60), on_page=2))
    fields = writer.root["/AcroForm"]["/Fields"]
    late = fields.raw_get(len(fields) - 1)
    for _ in range(10_000):
        fields.append(late)
    bogus_value = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Sig"),
                pdf_name("/Filter"): pdf_name("/Adobe.PPKLite"),
                pdf_name("/SubFilter"): pdf_name("/adbe.pkcs7.detached"),
                pdf_name("/Contents"): generic.ByteStringObject(b"\x00"),
                pdf_name("/ByteRange"): generic.ArrayObject([generic.NumberObject(0)] * 4),
            }
        )
    )
    page1 = writer.root["/Pages"]["/Kids"][0].get_object()
    bogus = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Sig"),
                pdf_name("/T"): generic.TextStringObject("x"),
                pdf_name("/V"): bogus_value,
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): f._numbers(f.AMOUNT_RECT),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/P"): writer.root["/Pages"]["/Kids"].raw_get(0),
                pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): f._appearance(writer)}),
            }
        )
    )
    fields.append(bogus)
    page1["/Annots"].append(bogus)
    writer.update_container(page1)
    writer.update_container(writer.root["/AcroForm"])
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="late", md_algorithm="sha256"), signer=supplier
    ).sign_pdf(writer, output=out)
    _not_passed(verify_pdf(out.getvalue(), trust=trust))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="forgery passes (replace, not just hide): the update's xref registers object 11 with generation "
    "1 but points at a definition written '11 0 obj' with forged text. pyHanko never reads (11, 1) and "
    "keeps (11, 0) from the signed revision; the header is registered, so hidden-objects is silent; "
    "poppler finds no (11, 0) entry, rebuilds the xref by scanning, takes the last '11 0 obj' and shows "
    "the forged text on page 1. Rules missing: a new generation frees the old object; an xref entry whose "
    "header has another number or generation makes the update unreadable",
)
def test_new_generation_entry_pointing_at_a_forged_generation_zero(signed_contract, trust):
    forged = _update(
        signed_contract, [b"11 0 obj\n" + f.content_stream(EVIL_TEXT) + b"\nendobj"], [(11, 1, 0)]
    )
    _not_passed(verify_pdf(forged, trust=trust))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="silent overlay on another page: a later signer's new field widget (/P page 1, blank area) is also "
    "appended to page 3's /Annots, where it covers a signed penalty clause. The report names page 1 only "
    "(RuleContext.annot_page keeps the first page) and seal-overlap checks page 1 only. Rule missing: an "
    "annotation listed on two pages, or on a page other than its /P, is a modification",
)
def test_later_seal_listed_on_a_second_page(contract, buyer, supplier, trust):
    from tests.pdf_verify.tampering import incremental, page

    def penalty_clause(writer):
        target = page(writer, 2)
        clause = writer.add_object(
            generic.StreamObject(
                stream_data=b"BT /Helv 12 Tf 72 600 Td (Penalty: 5% of the amount per day) Tj ET"
            )
        )
        target["/Contents"] = generic.ArrayObject([target.raw_get("/Contents"), clause])
        writer.update_container(target)

    signed = f.sign_as(incremental(contract, penalty_clause), buyer, "buyer")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    append_signature_field(writer, SigFieldSpec("late", box=(72, 590, 400, 620), on_page=0))
    fields = writer.root["/AcroForm"]["/Fields"]
    page3 = writer.root["/Pages"]["/Kids"][2].get_object()
    page3["/Annots"].append(fields.raw_get(len(fields) - 1))
    writer.update_container(page3)
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="late", md_algorithm="sha256"), signer=supplier
    ).sign_pdf(writer, output=out)
    report = verify_pdf(out.getvalue(), trust=trust)
    assert _overlap_warnings(report) or not report.passed


# -- certificate purpose ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["tsa", "ocsp"])
def test_certificate_of_another_purpose_signs_the_contract(contract, rsa_pki, trust, role):
    identity = rsa_pki.pki.issue(f"Review {role}", role)
    signer = signers.SimpleSigner.load(
        str(identity.key_path), str(identity.cert_path), ca_chain_files=(str(rsa_pki.root.cert_path),)
    )
    _not_passed(verify_pdf(f.sign_as(contract, signer, "buyer"), trust=trust))


def test_encryption_certificate_cannot_sign_the_contract(contract, rsa_pki, trust):
    identity = rsa_pki.pki.issue("Review encrypt", "encrypt")
    signer = signers.SimpleSigner.load(
        str(identity.key_path), str(identity.cert_path), ca_chain_files=(str(rsa_pki.root.cert_path),)
    )
    report = verify_pdf(f.sign_as(contract, signer, "buyer"), trust=trust)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE")
