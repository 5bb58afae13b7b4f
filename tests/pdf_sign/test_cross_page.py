"""A cross-page seal (骑缝章) stamped by the second signer, in widgets reserved before the first signature.

The purchaser's field is prepared with ``FieldSpec(..., cross_page=True)``: one more, empty widget per page.
The supplier signs first (certifying, with their own cross-page seal), the purchaser second, filling the
reserved widgets with the strips of their seal: both signatures pass in sealkit's verifier and in pdfsig.
Whatever else touches the pages after the first signature still fails it: strips that were not reserved,
reserved strips moved, added, filled without a signature, or changed after the purchaser signed.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from sealkit.dev.sample_contract import PURCHASER_BLOCK, SUPPLIER_BLOCK
from sealkit.errors import InvalidInput
from sealkit.pdf import (
    FieldSpec,
    Placement,
    SealAppearance,
    prepare_fields,
    sign_pdf,
    verify_pdf,
)
from sealkit.pdf.fields import field_widgets
from sealkit.seal import render_seal
from sealkit.ukey import open_key

from .conftest import appearance, pdfsig

MM = 72 / 25.4
STRIPS_AT_MM = 70.0  # the purchaser's strips sit lower than the supplier's (centred on the page)


def prepare(source: Path, out: Path, *, reserve: bool = True) -> Path:
    purchaser = (
        FieldSpec(
            "采购人",
            Placement.at_text(PURCHASER_BLOCK),
            size_mm=(40, 40),
            cross_page=True,
            cross_page_at_mm=STRIPS_AT_MM,
            seal_required=False,  # these tests sign with seal pictures, not electronic seals
        )
        if reserve
        else FieldSpec("采购人", Placement.at_text(PURCHASER_BLOCK), seal_required=False)
    )
    prepare_fields(
        source,
        out,
        [FieldSpec("供应商", Placement.at_text(SUPPLIER_BLOCK), seal_required=False), purchaser],
        order=["供应商", "采购人"],
    )
    return out


def sign_as(identity, source: Path, out: Path, **kwargs):  # type: ignore[no-untyped-def]
    with open_key(identity.keyref) as key:
        return sign_pdf(source, out, key, cert=identity.cert_path, **kwargs)


def sign_with_extra(identity, source: Path, out: Path, field: str, seal: SealAppearance, change) -> None:  # type: ignore[no-untyped-def]
    """Sign ``field`` the way sign_pdf does, but let ``change(writer)`` alter the revision first."""
    from sealkit.pdf.sign import _pyhanko_sign, load_certificate
    from sealkit.pdf.signer import HandleSigner
    from sealkit.pdf.stamping import prepare_signature_field

    writer, name, _ = prepare_signature_field(
        source.read_bytes(), field=field, appearance=seal, placement=None, password=None
    )
    change(writer)
    buffer = io.BytesIO()
    with open_key(identity.keyref) as key:
        signer = HandleSigner(key, load_certificate(identity.cert_path))
        _pyhanko_sign(
            writer,
            signer,
            buffer,
            field_name=name,
            reason=None,
            location=None,
            subfilter="ETSI.CAdES.detached",
            certify=False,
            timestamper=None,
        )
    out.write_bytes(buffer.getvalue())


def incremental(source: Path, out: Path, change) -> Path:  # type: ignore[no-untyped-def]
    writer = IncrementalPdfFileWriter(io.BytesIO(source.read_bytes()), strict=False)
    change(writer)
    with out.open("wb") as handle:
        writer.write(handle)
    return out


def strip_widgets(handler, field: str = "采购人"):  # type: ignore[no-untyped-def]
    return field_widgets(handler, field)[2]


def red_pixels(pdf: Path, page: int, rect_mm, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    """Seal-red pixels inside ``rect_mm`` on ``page``, as pdftoppm renders it at 60 dpi."""
    prefix = tmp_path / f"{pdf.stem}-p{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(prefix),
        ],
        check=True,
        capture_output=True,
    )
    image = Image.open(f"{prefix}.png").convert("RGB")
    scale = 60 / 25.4
    x, y, w, h = rect_mm
    top = image.height - (y + h) * scale
    box = image.crop((round(x * scale), round(top), round((x + w) * scale), round(top + h * scale)))
    data = box.tobytes()
    return sum(1 for i in range(0, len(data), 3) if data[i] > 150 and data[i + 1] < 110 and data[i + 2] < 110)


@pytest.fixture(scope="module")
def parties(rsa_pki):
    return rsa_pki.issue("供应商单位"), rsa_pki.issue("采购人单位")


@pytest.fixture(scope="module")
def flow(tmp_path_factory, contract_bytes, parties, supplier_seal, purchaser_seal):
    """prepared.pdf → s1.pdf (supplier, certifying, own strips) → s2.pdf (purchaser fills reserved strips)."""
    folder = tmp_path_factory.mktemp("cross-page")
    (folder / "contract.pdf").write_bytes(contract_bytes)
    prepared = prepare(folder / "contract.pdf", folder / "prepared.pdf")
    supplier, purchaser = parties
    first = sign_as(
        supplier,
        prepared,
        folder / "s1.pdf",
        field="供应商",
        appearance=appearance(supplier_seal),
        placement=Placement(cross_page=True),
        certify=True,
    )
    second = sign_as(
        purchaser, folder / "s1.pdf", folder / "s2.pdf", field="采购人", appearance=appearance(purchaser_seal)
    )
    return folder, first, second


def test_prepare_reserves_one_empty_widget_per_page(contract, tmp_path):
    result = prepare_fields(
        contract,
        tmp_path / "p.pdf",
        [FieldSpec("采购人", Placement.at_text(PURCHASER_BLOCK), size_mm=(40, 40), cross_page=True)],
    )
    (field,) = result.fields
    assert field.page == 3
    assert [page for page, _ in field.cross_page] == [1, 2, 3]
    for _, (x, y, w, h) in field.cross_page:
        assert (round(x + w, 2), round(w, 2), h) == (210.0, 13.33, 40.0)  # at the right edge of A4
        assert abs(y + h / 2 - 297 / 2) < 0.01  # centred vertically by default
    with (tmp_path / "p.pdf").open("rb") as handle:
        reader = PdfFileReader(handle)
        _, main, strips = field_widgets(reader, "采购人")
        assert len(main) == 1 and len(strips) == 3
        assert all("/AP" not in widget and "/T" not in widget for widget, _ in strips)
        assert [str(widget["/NM"]) for widget, _ in strips] == [
            f"sealkit-cross-page {i}/3" for i in (1, 2, 3)
        ]
    report = verify_pdf(tmp_path / "p.pdf")
    assert report.file["unsigned_fields"] == ["采购人"]


def test_purchaser_fills_the_reserved_strips_and_both_signatures_pass(flow, rsa_pki, nss_db, tmp_path):
    folder, first, second = flow
    assert [s.kind for s in first.stamps] == ["field", "strip", "strip", "strip"]
    assert [(s.page, s.kind) for s in second.stamps] == [
        (3, "field"),
        (1, "strip"),
        (2, "strip"),
        (3, "strip"),
    ]
    for stamp in second.stamps[1:]:
        x, y, w, h = stamp.rect_mm
        assert round(x + w, 2) == 210.0 and abs(y + h / 2 - STRIPS_AT_MM) < 0.01

    report = verify_pdf(folder / "s2.pdf", trust=[rsa_pki.root.cert_path])
    assert report.indication == "TOTAL-PASSED", [(v.field, v.reasons) for v in report.signatures]
    assert [(v.field, v.indication) for v in report.signatures] == [
        ("供应商", "TOTAL-PASSED"),
        ("采购人", "TOTAL-PASSED"),
    ]
    verdicts = pdfsig(folder / "s2.pdf", nss_db)
    assert [v["Signature Field Name"] for v in verdicts] == ["供应商", "采购人"]
    assert all(v["Signature Validation"] == "Signature is Valid." for v in verdicts)
    assert all(v["Certificate Validation"] == "Certificate is Trusted." for v in verdicts)

    # on paper: the reserved boxes are empty after the first signature and show the strips after the second
    for stamp in second.stamps[1:]:
        assert red_pixels(folder / "s1.pdf", stamp.page, stamp.rect_mm, tmp_path) == 0
        assert red_pixels(folder / "s2.pdf", stamp.page, stamp.rect_mm, tmp_path) > 100


def test_strips_not_reserved_are_still_refused_after_a_signature(
    tmp_path, contract, parties, supplier_seal, purchaser_seal, rsa_pki
):
    from sealkit.pdf.stamping import _add_strips

    supplier, purchaser = parties
    prepared = prepare(contract, tmp_path / "prepared.pdf", reserve=False)
    sign_as(supplier, prepared, tmp_path / "s1.pdf", field="供应商", appearance=appearance(supplier_seal))
    seal = appearance(purchaser_seal)
    with pytest.raises(InvalidInput, match="reserved before the first signature"):
        sign_as(
            purchaser,
            tmp_path / "s1.pdf",
            tmp_path / "refused.pdf",
            field="采购人",
            appearance=seal,
            placement=Placement(cross_page=True),
        )
    assert not (tmp_path / "refused.pdf").exists()
    # a signer who adds the strips anyway, in the revision of their signature
    sign_with_extra(
        purchaser,
        tmp_path / "s1.pdf",
        tmp_path / "forced.pdf",
        "采购人",
        seal,
        lambda writer: _add_strips(writer, Placement(cross_page=True), seal),
    )
    report = verify_pdf(tmp_path / "forced.pdf", trust=[rsa_pki.root.cert_path])
    first, second = report.signatures
    assert first.indication == "TOTAL-FAILED" and "modification.annotation-added" in first.reasons
    assert second.indication == "TOTAL-PASSED"


def _move_first_strip(writer) -> None:  # type: ignore[no-untyped-def]
    widget, ref = strip_widgets(writer)[0]
    widget["/Rect"] = generic.ArrayObject(generic.FloatObject(v) for v in (100, 400, 140, 510))
    writer.mark_update(ref)


def _add_a_kid(writer) -> None:  # type: ignore[no-untyped-def]
    field, main, _ = field_widgets(writer, "采购人")
    page_ref = writer.find_page_for_modification(0)[0]
    extra = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in (100, 400, 140, 510)),
                pdf_name("/P"): page_ref,
                pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): main[0][0]["/AP"].raw_get("/N")}),
            }
        )
    )
    field["/Kids"].append(extra)
    writer.register_annotation(page_ref, extra)


@pytest.mark.parametrize(
    ("change", "reason"),
    [(_move_first_strip, "modification.field-changed"), (_add_a_kid, "modification.annotation-added")],
    ids=["strip-moved", "kid-added"],
)
def test_reserved_widgets_change_only_their_appearance(
    change, reason, flow, parties, purchaser_seal, rsa_pki, tmp_path
):
    folder, _, _ = flow
    sign_with_extra(
        parties[1], folder / "s1.pdf", tmp_path / "bad.pdf", "采购人", appearance(purchaser_seal), change
    )
    report = verify_pdf(tmp_path / "bad.pdf", trust=[rsa_pki.root.cert_path])
    assert report.signatures[0].indication == "TOTAL-FAILED"
    assert reason in report.signatures[0].reasons


def _other_image(writer, widgets) -> None:  # type: ignore[no-untyped-def]
    from sealkit.pdf.appearance import build_appearance

    forged = render_seal("contract", "另一家公司")
    for widget, ref in widgets:
        box = [float(v) for v in widget["/Rect"]]
        size = (box[2] - box[0], box[3] - box[1])
        form = build_appearance(writer, forged.png, size, size)
        widget["/AP"] = generic.DictionaryObject({pdf_name("/N"): form})
        writer.mark_update(ref)


def test_reserved_strips_filled_without_signing_fail_the_first_signature(flow, rsa_pki, tmp_path):
    folder, _, _ = flow
    forged = incremental(
        folder / "s1.pdf", tmp_path / "forged.pdf", lambda writer: _other_image(writer, strip_widgets(writer))
    )
    report = verify_pdf(forged, trust=[rsa_pki.root.cert_path])
    (first,) = report.signatures
    assert first.indication == "TOTAL-FAILED" and "modification.field-changed" in first.reasons


def test_strips_changed_after_the_purchaser_signed_fail_both(flow, rsa_pki, tmp_path):
    folder, _, _ = flow
    forged = incremental(
        folder / "s2.pdf",
        tmp_path / "forged.pdf",
        lambda writer: _other_image(writer, strip_widgets(writer)[1:2]),
    )
    report = verify_pdf(forged, trust=[rsa_pki.root.cert_path])
    assert [v.indication for v in report.signatures] == ["TOTAL-FAILED", "TOTAL-FAILED"]
    assert all("modification.signed-field-changed" in v.reasons for v in report.signatures)


def test_filling_a_reserved_field_needs_a_seal_that_fits(flow, parties, tmp_path):
    folder, _, _ = flow
    purchaser = parties[1]
    with pytest.raises(InvalidInput, match="reserves a cross-page seal"):
        sign_as(purchaser, folder / "s1.pdf", tmp_path / "x.pdf", field="采购人")
    big = render_seal("official", "某市公共资源交易中心")  # 42 mm: larger than the 40 mm reservation
    with pytest.raises(InvalidInput, match="larger than the cross-page seal reserved"):
        sign_as(
            purchaser,
            folder / "s1.pdf",
            tmp_path / "x.pdf",
            field="采购人",
            appearance=SealAppearance(big.png, 40, 42),
        )
    with pytest.raises(InvalidInput, match="reserves its cross-page seal on pages 1, 2, 3"):
        sign_as(
            purchaser,
            folder / "s1.pdf",
            tmp_path / "x.pdf",
            field="采购人",
            appearance=SealAppearance(big.png, 40, 40),
            placement=Placement(cross_page=(1, 2)),
        )
    assert not (tmp_path / "x.pdf").exists()


def test_field_spec_checks_the_cross_page_seal():
    at = Placement.at_text(PURCHASER_BLOCK)
    with pytest.raises(InvalidInput, match="at least two pages"):
        FieldSpec("采购人", at, cross_page=(1,))
    with pytest.raises(InvalidInput, match="twice"):
        FieldSpec("采购人", at, cross_page=(1, 1))
    with pytest.raises(InvalidInput, match="given twice"):
        FieldSpec("采购人", Placement.at_text(PURCHASER_BLOCK, cross_page=(1, 2)), cross_page=(2, 3))
    with pytest.raises(InvalidInput, match="give cross_page too"):
        FieldSpec("采购人", at, cross_page_at_mm=50)
    spec = FieldSpec("采购人", Placement.at_text(PURCHASER_BLOCK, cross_page=[1, 2], cross_page_at_mm=60))
    assert (spec.cross_page, spec.cross_page_at_mm) == ((1, 2), 60)
