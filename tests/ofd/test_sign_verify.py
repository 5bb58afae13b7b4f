"""Signing and verifying OFD contracts: the layout ofdrw writes, tampering in every part of the package
(each rejected with its reason, each with an honest twin that passes), two signers, the final mode."""

import re

import pytest

from sealkit.errors import CertificateError, OfdError, SealError, TextNotFound
from sealkit.ofd import load_document, read_package, sign_ofd
from sealkit.ofd.signatures import parse_signature_xml
from sealkit.pdf import Placement
from sealkit.ukey import open_key
from tests.ofd.helpers import PURCHASER_BLOCK, SUPPLIER_BLOCK, members, rewrite, sign, verify

SIGN = "Doc_0/Signs/Sign_0/"


@pytest.fixture(scope="module")
def signed_bytes(pki, seals, tmp_path_factory):
    directory = tmp_path_factory.mktemp("signed")
    from sealkit.dev.sample_ofd import sample_contract_ofd

    (directory / "c.ofd").write_bytes(sample_contract_ofd(pages=3))
    return sign(pki, seals, directory / "c.ofd", directory / "s.ofd").read_bytes()


def test_layout_as_ofdrw_writes_it(signed_bytes, contract_bytes):
    files = members(signed_bytes)
    original = members(contract_bytes)
    added = [n for n in files if n not in original]
    assert added == [
        "Doc_0/Signs/Signatures.xml",
        SIGN + "Seal.esl",
        SIGN + "Signature.xml",
        SIGN + "SignedValue.dat",
    ]
    assert b"<ofd:Signatures>/Doc_0/Signs/Signatures.xml</ofd:Signatures>" in files["OFD.xml"]
    signatures = files["Doc_0/Signs/Signatures.xml"].decode()
    assert re.search(
        r"<ofd:MaxSignId>s002</ofd:MaxSignId><ofd:Signature ID=\"s001\" Type=\"Seal\" "
        r"BaseLoc=\"/Doc_0/Signs/Sign_0/Signature.xml\"/>",
        signatures,
    )
    xml = files[SIGN + "Signature.xml"].decode()
    order = [m.group(1) for m in re.finditer(r"<ofd:(\w+)", xml)]
    top = [
        t
        for t in order
        if t
        in (
            "Provider",
            "SignatureMethod",
            "SignatureDateTime",
            "References",
            "StampAnnot",
            "Seal",
            "SignedValue",
        )
    ]
    assert top == [
        "Provider",
        "SignatureMethod",
        "SignatureDateTime",
        "References",
        "StampAnnot",
        "Seal",
        "SignedValue",
    ]
    assert "<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>" in xml
    assert '<ofd:References CheckMethod="SM3">' in xml
    assert re.search(r"<ofd:SignatureDateTime>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</ofd:SignatureDateTime>", xml)
    parsed = parse_signature_xml(files[SIGN + "Signature.xml"], "/" + SIGN + "Signature.xml")
    # every file but this signature's own two and the (open) signature list, Seal.esl and OFD.xml included
    assert set(parsed.references) == {"/" + n for n in files} - {
        "/" + SIGN + "Signature.xml",
        "/" + SIGN + "SignedValue.dat",
        "/Doc_0/Signs/Signatures.xml",
    }
    # the stamp sits on the last page (by its object ID, not its number), centred on the keyword
    document = load_document(read_package(signed_bytes))
    (stamp,) = parsed.stamps
    assert stamp.page_ref == document.pages[-1].id != "3"
    assert stamp.id == "s002"
    x, y, w, h = stamp.boundary
    assert (w, h) == (40, 40)
    assert 110 < x + w / 2 < 165 and 215 < y + h / 2 < 230


def test_signed_contract_passes(signed_bytes, anchors):
    report = verify(signed_bytes, anchors)
    assert report.indication == "TOTAL-PASSED", report.to_dict()
    (verdict,) = report.signatures
    assert verdict.field == "s001" and verdict.intact and verdict.trusted
    assert verdict.coverage == "entire-revision" and verdict.modification == "none"
    names = [s["name"] for s in verdict.seal["steps"]]
    assert names[:8] == [
        "signature",
        "signer-in-certlist",
        "signer-unit",
        "maker-signature",
        "maker-certificate",
        "seal-validity",
        "seal-revocation",
        "signer-certificate",
    ]
    assert names[-1] == "data-hash"
    assert verdict.seal["time_source"].startswith("validation time")
    assert verdict.seal["unit"] == "sealkit测试单位" and verdict.seal["signer_matches_unit"] is True


def test_input_untouched_and_output_not_over_input(pki, seals, contract, contract_bytes):
    with open_key(pki["supplier"].keyref) as key, pytest.raises(Exception, match="over the input"):
        sign_ofd(contract, contract, key, seal=seals["supplier"], cert=pki["supplier"].cert_path)
    assert contract.read_bytes() == contract_bytes


def test_rezipped_package_still_passes(signed_bytes, anchors):
    """Honest twin of every tamper below: rewriting the ZIP (order, compression) changes no file."""
    assert verify(rewrite(signed_bytes, lambda files: None), anchors).passed


def _replace(name, old, new):
    def change(files):
        assert old in files[name], (name, old)
        files[name] = files[name].replace(old, new, 1)

    return change


def _delete(name):
    return lambda files: files.pop(name)


def _add(name, content):
    return lambda files: files.__setitem__(name, content)


def _flip_last(name):
    def change(files):
        data = bytearray(files[name])
        data[-3] ^= 0x01
        files[name] = bytes(data)

    return change


def _drop_reference(files):
    xml = files[SIGN + "Signature.xml"].decode()
    files[SIGN + "Signature.xml"] = re.sub(
        r'<ofd:Reference FileRef="/Doc_0/Res/logo.png">.*?</ofd:Reference>', "", xml, count=1
    ).encode()


TAMPERS = {
    "page content": (
        _replace("Doc_0/Pages/Page_0/Content.xml", b"86000.00", b"96000.00"),
        "integrity.reference-mismatch",
    ),
    "resource": (_flip_last("Doc_0/Res/logo.png"), "integrity.reference-mismatch"),
    "OFD.xml": (_replace("OFD.xml", b"ZFCG", b"XXXX"), "integrity.reference-mismatch"),
    "Document.xml page removed": (
        _replace("Doc_0/Document.xml", b'<ofd:Page ID="', b'<ofd:Pagex ID="'),
        "integrity.reference-mismatch",
    ),
    "Signature.xml": (_replace(SIGN + "Signature.xml", b'Boundary="', b'Boundary="1'), "integrity.data-hash"),
    "SignedValue.dat": (_flip_last(SIGN + "SignedValue.dat"), "crypto.signature-invalid"),
    "SignedValue.dat garbage": (
        _add(SIGN + "SignedValue.dat", b"\x30\x03\x02\x01\x04"),
        "format.unreadable-signature",
    ),
    "Seal.esl": (_flip_last(SIGN + "Seal.esl"), "integrity.seal-file"),
    "file added": (_add("Doc_0/Res/extra.png", b"\x89PNG fake"), "modification.uncovered-file"),
    "page added": (_add("Doc_0/Pages/Page_3/Content.xml", b"<x/>"), "modification.uncovered-file"),
    "reference removed": (_drop_reference, "integrity.data-hash"),
    "referenced file deleted": (_delete("Doc_0/PublicRes.xml"), "integrity.missing-file"),
    "Signatures.xml type": (
        _replace("Doc_0/Signs/Signatures.xml", b'Type="Seal"', b'Type="Sign"'),
        "format.unsupported-type",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_is_rejected_with_its_reason(name, signed_bytes, anchors):
    change, reason = TAMPERS[name]
    report = verify(rewrite(signed_bytes, change), anchors)
    assert report.indication == "TOTAL-FAILED", (name, report.to_dict())
    (verdict,) = report.signatures
    assert reason in verdict.reasons, (name, verdict.reasons)


def test_reference_removed_also_leaves_the_file_uncovered(signed_bytes, anchors):
    verdict = verify(rewrite(signed_bytes, _drop_reference), anchors).signatures[0]
    assert {"integrity.data-hash", "modification.uncovered-file"} <= set(verdict.reasons)
    assert any("/Doc_0/Res/logo.png" in c.detail for c in verdict.checks if c.name == "coverage")


def test_signature_removed_from_the_list_fails_the_document(pki, seals, signed_bytes, tmp_path, anchors):
    path = tmp_path / "s.ofd"
    path.write_bytes(signed_bytes)
    two = sign(pki, seals, path, tmp_path / "two.ofd", "purchaser").read_bytes()
    hidden = rewrite(
        two,
        lambda f: f.__setitem__(
            "Doc_0/Signs/Signatures.xml",
            re.sub(rb'<ofd:Signature ID="s001"[^>]*/>', b"", f["Doc_0/Signs/Signatures.xml"]),
        ),
    )
    report = verify(hidden, anchors)
    assert report.indication == "TOTAL-FAILED"
    assert "modification.unlisted-signature" in report.file["reasons"]
    assert verify(two, anchors).passed  # the twin: both listed


def test_two_signers(pki, seals, contract, tmp_path, anchors):
    first = sign(pki, seals, contract, tmp_path / "1.ofd", "supplier")
    second = sign(pki, seals, first, tmp_path / "2.ofd", "purchaser")
    report = verify(second, anchors)
    assert report.passed, report.to_dict()
    one, two = report.signatures
    assert (one.field, two.field) == ("s001", "s003")
    assert one.modification == "form-filling" and two.modification == "none"
    files = members(second.read_bytes())
    assert "Doc_0/Signs/Sign_1/SignedValue.dat" in files
    assert b"<ofd:MaxSignId>s004</ofd:MaxSignId>" in files["Doc_0/Signs/Signatures.xml"]
    # the second signature protects the first one's parts
    parsed = parse_signature_xml(
        files["Doc_0/Signs/Sign_1/Signature.xml"], "/Doc_0/Signs/Sign_1/Signature.xml"
    )
    assert {"/Doc_0/Signs/Sign_0/Signature.xml", "/Doc_0/Signs/Sign_0/SignedValue.dat"} <= set(
        parsed.references
    )


def test_final_signature_closes_the_document(pki, seals, contract, tmp_path, anchors):
    final = sign(pki, seals, contract, tmp_path / "1.ofd", "supplier", final=True)
    report = verify(final, anchors)
    assert report.passed and report.signatures[0].coverage == "entire-file"
    with pytest.raises(OfdError, match="closed to more signatures"):
        sign(pki, seals, final, tmp_path / "2.ofd", "purchaser")
    assert not (tmp_path / "2.ofd").exists()
    # a final signature protects Signatures.xml: touching it is caught
    changed = rewrite(final.read_bytes(), _replace("Doc_0/Signs/Signatures.xml", b"s002", b"s009"))
    assert "integrity.reference-mismatch" in verify(changed, anchors).signatures[0].reasons


def test_rsa_keys_are_refused_with_the_reason(pki, seals, contract, tmp_path):
    with open_key(pki["rsa"].keyref) as key, pytest.raises(OfdError, match="SM2 only"):
        sign_ofd(contract, tmp_path / "o.ofd", key, seal=seals["supplier"], cert=pki["rsa"].cert_path)
    assert not (tmp_path / "o.ofd").exists()


def test_encryption_certificate_cannot_seal(pki, seals, contract, tmp_path):
    with open_key(pki["encrypt"].keyref) as key, pytest.raises(CertificateError, match="digitalSignature"):
        sign_ofd(contract, tmp_path / "o.ofd", key, seal=seals["supplier"], cert=pki["encrypt"].cert_path)


def test_seal_of_another_holder_is_refused(pki, seals, contract, tmp_path):
    with open_key(pki["stranger"].keyref) as key, pytest.raises(SealError, match="not a holder"):
        sign_ofd(contract, tmp_path / "o.ofd", key, seal=seals["supplier"], cert=pki["stranger"].cert_path)


def test_verifier_catches_a_signer_outside_the_certlist(pki, seals, contract, tmp_path, anchors, monkeypatch):
    from sealkit.ofd import sign as sign_module
    from sealkit.seal import parse_seal

    monkeypatch.setattr(sign_module, "_check_seal", lambda seal, cert, now, makers: parse_seal(seal))
    monkeypatch.setattr(sign_module, "_self_check", lambda *_a: None)  # which also refuses seal.* reasons
    forged = sign(pki, seals, contract, tmp_path / "f.ofd", "stranger", seal=seals["supplier"])
    verdict = verify(forged, anchors).signatures[0]
    assert "seal.not-holder" in verdict.reasons and verdict.indication == "TOTAL-FAILED"


def test_no_output_when_the_new_signature_fails_its_seal_checks(pki, seals, contract, tmp_path, monkeypatch):
    from sealkit.errors import OfdError
    from sealkit.ofd import sign as sign_module
    from sealkit.seal import parse_seal

    monkeypatch.setattr(sign_module, "_check_seal", lambda seal, cert, now, makers: parse_seal(seal))
    with pytest.raises(OfdError, match=r"does not verify \(seal\.not-holder"):
        sign(pki, seals, contract, tmp_path / "f.ofd", "stranger", seal=seals["supplier"])
    assert not (tmp_path / "f.ofd").exists()


def test_seal_and_signer_anchors_are_separate(signed_bytes, anchors):
    swapped = {"trust": anchors["trust"], "seal_trust": anchors["trust"]}
    verdict = verify(signed_bytes, swapped).signatures[0]
    assert "trust.seal-maker" in verdict.reasons and verdict.indication == "INDETERMINATE"
    wrong = {"trust": anchors["seal_trust"], "seal_trust": anchors["seal_trust"]}
    verdict = verify(signed_bytes, wrong).signatures[0]
    assert "trust.no-chain" in verdict.reasons and not verdict.trusted


def test_placement_by_rectangle_and_cross_page(pki, seals, contract, tmp_path, anchors):
    placement = Placement.at_rect(2, (20, 30, 40, 40), cross_page=True)
    out = sign(pki, seals, contract, tmp_path / "r.ofd", placement=placement)
    files = members(out.read_bytes())
    parsed = parse_signature_xml(files[SIGN + "Signature.xml"], "/" + SIGN + "Signature.xml")
    document = load_document(read_package(out.read_bytes()))
    seal, *strips = parsed.stamps
    assert seal.page_ref == document.pages[1].id
    assert seal.boundary == (20, 297 - 30 - 40, 40, 40)  # mm from the lower-left -> OFD's top-left
    assert [s.page_ref for s in strips] == [p.id for p in document.pages]
    for i, strip in enumerate(strips):  # ofdrw's riding seal: each page shows its slice at the right edge
        x, _, w, _ = strip.boundary
        cx, _, cw, _ = strip.clip
        assert abs(x + cx - (210 - cw)) < 0.01 and abs(cw - 40 / 3) < 0.01 and w == 40
        assert abs(cx - i * 40 / 3) < 0.01
    assert [s.id for s in parsed.stamps] == ["s002", "s003", "s004", "s005"]
    assert verify(out, anchors).passed


def test_keyword_not_found(pki, seals, contract, tmp_path):
    with pytest.raises(TextNotFound):
        sign(pki, seals, contract, tmp_path / "o.ofd", placement=Placement.at_text("不存在的文字"))
    assert not (tmp_path / "o.ofd").exists()


def test_keyword_positions_cjk(contract_bytes):
    from sealkit.ofd import find_text

    document = load_document(read_package(contract_bytes))
    (supplier,) = find_text(document, SUPPLIER_BLOCK)
    (purchaser_last,) = [h for h in find_text(document, PURCHASER_BLOCK) if h.page == 3]
    assert supplier.page == 3 and abs(supplier.box[0] - 110) < 0.01
    assert abs(supplier.box[2] - 12 * 4.2) < 0.01  # twelve full-width characters of 4.2 mm
    assert abs(purchaser_last.box[1] - supplier.box[1]) < 0.01
    assert find_text(document, "供应商(乙方)(盖章):")  # half-width forms find the full-width text


def test_rendered_seal_sits_on_the_keyword(signed_bytes, tmp_path):
    """The seal's red ink is drawn around the supplier's block on the last page, nowhere else."""
    from tests.ofd.render import SCALE, render

    pages = render(signed_bytes)
    assert len(pages) == 3

    def red(image, box):
        raw = image.crop(tuple(round(v * SCALE) for v in box)).tobytes()
        return sum(1 for i in range(0, len(raw), 3) if raw[i] > 180 and raw[i + 1] < 90 and raw[i + 2] < 90)

    last = pages[-1]
    assert red(last, (110, 200, 170, 250)) > 2000  # around 供应商（乙方）（盖章）： at (110, 222)
    assert red(last, (0, 0, 105, 297)) == 0 and red(pages[0], (0, 0, 210, 297)) == 0
    last.save(tmp_path / "page-3.png")
