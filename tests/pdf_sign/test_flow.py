"""The contract flow: prepared fields, supplier then purchaser, signing order, placement, failures."""

import datetime as dt
import subprocess

import pytest
from pypdf import PdfReader

from sealkit.dev.sample_contract import PURCHASER_BLOCK, SUPPLIER_BLOCK
from sealkit.errors import (
    CertificateError,
    InvalidInput,
    PdfPasswordRequired,
    SigningOrderError,
    TextNotFound,
)
from sealkit.pdf import (
    FieldSpec,
    Placement,
    SealAppearance,
    prepare_fields,
    read_signing_order,
    sign_pdf,
    verify_pdf,
)
from sealkit.ukey import open_key
from tests.helpers.shared import SAMPLE_FILES

from .conftest import appearance, pdfsig, sha256

MM = 72 / 25.4
CORPUS = SAMPLE_FILES


def widgets(path, field_name=None):
    reader = PdfReader(path)
    found = []
    for index, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if field_name is None or annot.get("/T") == field_name:
                found.append((index + 1, annot.get("/Subtype"), [float(v) for v in annot["/Rect"]]))
    return found


@pytest.fixture
def prepared(contract, tmp_path):
    out = tmp_path / "prepared.pdf"
    prepare_fields(
        contract,
        out,
        [
            # signed with seal pictures here, not electronic seals (test_seal_requirements has those)
            FieldSpec("供应商", Placement.at_text(SUPPLIER_BLOCK), seal_required=False),
            FieldSpec("采购人", Placement.at_text(PURCHASER_BLOCK), seal_required=False),
        ],
        order=["供应商", "采购人"],
    )
    return out


def test_supplier_then_purchaser_both_valid(
    prepared, rsa_pki, supplier_seal, purchaser_seal, nss_db, tmp_path
):
    supplier, purchaser = rsa_pki.issue("供应商"), rsa_pki.issue("采购人")
    step1, step2 = tmp_path / "s1.pdf", tmp_path / "s2.pdf"
    with open_key(supplier.keyref) as key:
        sign_pdf(
            prepared,
            step1,
            key,
            cert=supplier.cert_path,
            field="供应商",
            appearance=appearance(supplier_seal),
            certify=True,
            placement=Placement(cross_page=True),
        )
    with open_key(purchaser.keyref) as key:
        sign_pdf(
            step1, step2, key, cert=purchaser.cert_path, field="采购人", appearance=appearance(purchaser_seal)
        )
    verdicts = pdfsig(step2, nss_db)
    assert [v["Signature Field Name"] for v in verdicts] == ["供应商", "采购人"]
    assert all(v["Signature Validation"] == "Signature is Valid." for v in verdicts)
    assert all(v["Certificate Validation"] == "Certificate is Trusted." for v in verdicts)
    report = verify_pdf(step2, trust=[rsa_pki.root.cert_path])
    assert report.passed, [(v.field, v.reasons) for v in report.signatures]
    assert read_signing_order(PdfReaderHandler(step2)) == ["供应商", "采购人"]


class PdfReaderHandler:
    """pyHanko's reader over a file, for read_signing_order."""

    def __new__(cls, path):
        from pyhanko.pdf_utils.reader import PdfFileReader

        return PdfFileReader(open(path, "rb"))


def test_signing_order_refuses_out_of_turn_and_twice(prepared, rsa_key, rsa_signer, tmp_path):
    out = tmp_path / "out.pdf"
    with pytest.raises(SigningOrderError, match="after '供应商'"):
        sign_pdf(prepared, out, rsa_key, cert=rsa_signer.cert_path, field="采购人")
    assert not out.exists()
    with pytest.raises(SigningOrderError, match="not in the signing order"):
        sign_pdf(prepared, out, rsa_key, cert=rsa_signer.cert_path, field="见证人")
    sign_pdf(prepared, out, rsa_key, cert=rsa_signer.cert_path, field="供应商")
    with pytest.raises(SigningOrderError, match="already signed"):
        sign_pdf(out, tmp_path / "again.pdf", rsa_key, cert=rsa_signer.cert_path, field="供应商")
    assert not (tmp_path / "again.pdf").exists()


def test_keyword_placement_lands_on_the_text_and_at_true_size(
    contract, rsa_key, rsa_signer, seal_png, tmp_path
):
    out = tmp_path / "kw.pdf"
    result = sign_pdf(
        contract,
        out,
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=SealAppearance(seal_png, 42, 38),
        placement=Placement.at_text(SUPPLIER_BLOCK),
    )
    bbox = subprocess.run(
        ["pdftotext", "-bbox", "-f", "3", "-l", "3", str(contract), "-"], capture_output=True, text=True
    ).stdout
    line = next(row for row in bbox.splitlines() if SUPPLIER_BLOCK in row)
    x_min, y_min, x_max, y_max = (float(v) for v in __import__("re").findall(r'"([\d.]+)"', line)[:4])
    page_height = float(PdfReader(contract).pages[2].mediabox.height)
    text_cx, text_cy = (x_min + x_max) / 2, page_height - (y_min + y_max) / 2
    ((page, _, rect),) = widgets(out, result.field)
    assert page == 3
    assert abs((rect[0] + rect[2]) / 2 - text_cx) < 1.0
    assert abs((rect[1] + rect[3]) / 2 - text_cy) < 2.0
    assert abs((rect[2] - rect[0]) - 42 * MM) < 0.01 and abs((rect[3] - rect[1]) - 38 * MM) < 0.01
    assert result.stamps[0].rect_mm[2:] == (42.0, 38.0)


def test_page_rect_placement_and_occurrence_all(contract, rsa_key, rsa_signer, supplier_seal, tmp_path):
    out = tmp_path / "rect.pdf"
    seal = appearance(supplier_seal)
    sign_pdf(
        contract,
        out,
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=seal,
        placement=Placement.at_rect(2, (100, 50, 40, 40)),
    )
    ((page, _, rect),) = widgets(out, "Signature1")
    assert page == 2
    assert [round(v / MM, 2) for v in rect] == [100.0, 50.0, 140.0, 90.0]
    out_all = tmp_path / "all.pdf"
    result = sign_pdf(
        contract,
        out_all,
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=seal,
        placement=Placement.at_text("合同编号", occurrence="all"),
    )
    assert [s.page for s in result.stamps] == [1, 1, 2, 3]
    assert verify_pdf(out_all, trust=[]).signatures[0].intact


def test_cross_page_seal_one_strip_per_page(
    contract, rsa_key, rsa_signer, supplier_seal, tmp_path, rsa_pki, nss_db
):
    out = tmp_path / "cross.pdf"
    result = sign_pdf(
        contract,
        out,
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=appearance(supplier_seal),
        placement=Placement.at_text(SUPPLIER_BLOCK, cross_page=True),
    )
    stamps = [w for w in widgets(out) if w[1] == "/Stamp"]
    assert [p for p, _, _ in stamps] == [1, 2, 3]
    page_width = float(PdfReader(out).pages[0].mediabox.width)
    for _, _, rect in stamps:
        assert abs(rect[2] - page_width) < 0.01  # at the right edge
        assert abs((rect[2] - rect[0]) - 40 / 3 * MM) < 0.01 and abs((rect[3] - rect[1]) - 40 * MM) < 0.01
    assert [s.kind for s in result.stamps] == ["field", "strip", "strip", "strip"]
    assert pdfsig(out, nss_db)[0]["Signature Validation"] == "Signature is Valid."
    assert verify_pdf(out, trust=[rsa_pki.root.cert_path]).passed
    # a later signer may not add strips: they would change pages the first signature covers
    with pytest.raises(InvalidInput, match="first signature"):
        sign_pdf(
            out,
            tmp_path / "later.pdf",
            rsa_key,
            cert=rsa_signer.cert_path,
            appearance=appearance(supplier_seal),
            placement=Placement(cross_page=True),
        )
    assert not (tmp_path / "later.pdf").exists()


def test_failures_leave_no_output_and_input_untouched(
    contract, rsa_pki, rsa_key, rsa_signer, seal_png, tmp_path
):
    before = sha256(contract)
    out = tmp_path / "out.pdf"
    other = rsa_pki.issue("别人")
    now = dt.datetime.now(dt.UTC)
    expired = rsa_pki.issue(
        "过期", not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
    )
    future = rsa_pki.issue(
        "未生效", not_before=now + dt.timedelta(days=1), not_after=now + dt.timedelta(days=30)
    )
    with pytest.raises(CertificateError, match="does not match"):
        sign_pdf(contract, out, rsa_key, cert=other.cert_path)
    for identity, message in ((expired, "expired"), (future, "not valid before")):
        with open_key(identity.keyref) as key, pytest.raises(CertificateError, match=message):
            sign_pdf(contract, out, key, cert=identity.cert_path)
    with pytest.raises(TextNotFound, match="不存在的关键字"):
        sign_pdf(
            contract,
            out,
            rsa_key,
            cert=rsa_signer.cert_path,
            appearance=SealAppearance(seal_png),
            placement=Placement.at_text("不存在的关键字"),
        )
    with pytest.raises(InvalidInput, match="input"):
        sign_pdf(contract, contract, rsa_key, cert=rsa_signer.cert_path)
    assert not out.exists()
    assert sha256(contract) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contract.pdf"]


def _first_page_mm(path, password) -> tuple[float, float]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt(password or "")
    box = reader.pages[0].cropbox
    return float(box.width) / 72 * 25.4, float(box.height) / 72 * 25.4


@pytest.mark.parametrize("sample", sorted(p.name for p in CORPUS.glob("*.pdf")))
def test_every_corpus_file_signs_and_verifies(sample, rsa_key, rsa_signer, supplier_seal, nss_db, tmp_path):
    source = CORPUS / sample
    out = tmp_path / "signed.pdf"
    password = "openpassword" if "password" in sample else None
    if password:
        with pytest.raises(PdfPasswordRequired):
            sign_pdf(source, out, rsa_key, cert=rsa_signer.cert_path)
        assert not out.exists()
        with pytest.raises(PdfPasswordRequired, match="wrong"):
            sign_pdf(source, out, rsa_key, cert=rsa_signer.cert_path, password="wrong")
        assert not out.exists()
    placed = {"appearance": appearance(supplier_seal), "placement": Placement.at_rect(1, (20, 20, 40, 40))}
    if _first_page_mm(source, password) < (60, 60):  # tiny image pages: the seal would be off the page
        with pytest.raises(InvalidInput, match="does not fit on page 1"):
            sign_pdf(source, out, rsa_key, cert=rsa_signer.cert_path, password=password, **placed)
        assert not out.exists()
        placed = {}
    sign_pdf(source, out, rsa_key, cert=rsa_signer.cert_path, password=password, **placed)
    (verdict,) = [v for v in pdfsig(out, nss_db, password) if v["Signature Field Name"] == "Signature1"]
    assert verdict["Signature Validation"] == "Signature is Valid."
    assert verdict["Certificate Validation"] == "Certificate is Trusted."
