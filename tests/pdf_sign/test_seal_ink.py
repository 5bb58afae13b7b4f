"""The seal on a signed page, as a person sees it (pdftoppm): true size in mm, and ink, not paint — the
black text under the imprint stays dark. The twin with the blend mode removed (an opaque stamp) fails the
same check."""

import subprocess

import pytest
from PIL import Image

from sealkit.dev.sample_contract import SUPPLIER_BLOCK
from sealkit.pdf import Placement, SealAppearance, sign_pdf
from sealkit.pdf.placement import find_text

DPI = 300


def _render(pdf: bytes, page: int, tmp_path, name: str) -> Image.Image:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(DPI),
            "-f",
            str(page + 1),
            "-l",
            str(page + 1),
            "-png",
            str(path),
            str(tmp_path / name),
        ],
        check=True,
    )
    (png,) = sorted(tmp_path.glob(f"{name}-*.png"))
    return Image.open(png).convert("RGB")


def _is_red(p):
    return p[0] > 150 and p[1] < 110 and p[2] < 110


@pytest.fixture
def signed(contract, rsa_key, rsa_signer, supplier_seal, tmp_path):
    out = tmp_path / "signed.pdf"
    look = SealAppearance(
        supplier_seal.png, supplier_seal.width_mm, supplier_seal.height_mm, text="张明华 2026-12-03"
    )
    sign_pdf(
        contract,
        out,
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=look,
        placement=Placement.at_text(SUPPLIER_BLOCK),
    )
    return contract.read_bytes(), out.read_bytes()


def _text_under_seal(before: Image.Image, after: Image.Image, box):
    """The anchor text's dark pixels (from the unsigned page) and how they look on the signed page."""
    left, top, right, bottom = box
    dark = [
        (x, y) for y in range(top, bottom) for x in range(left, right) if max(before.getpixel((x, y))) < 90
    ]
    return [after.getpixel(p) for p in dark]


def test_text_under_the_seal_stays_dark_and_the_seal_is_true_to_size(signed, tmp_path):
    original, signed_pdf = signed
    (hit,) = find_text(original, SUPPLIER_BLOCK)[:1]
    before = _render(original, hit.page_index, tmp_path, "before")
    after = _render(signed_pdf, hit.page_index, tmp_path, "after")
    opaque_pdf = signed_pdf.replace(b"/BM /Multiply", b"/BM /Normal  ")
    assert opaque_pdf != signed_pdf  # the blend mode is there, in plain sight
    opaque = _render(opaque_pdf, hit.page_index, tmp_path, "opaque")

    x1, y1, x2, y2 = hit.box
    height_pt = before.height * 72 / DPI
    box = (
        round(x1 * DPI / 72),
        round((height_pt - y2) * DPI / 72),
        round(x2 * DPI / 72),
        round((height_pt - y1) * DPI / 72),
    )
    ink = _text_under_seal(before, after, box)
    paint = _text_under_seal(before, opaque, box)
    assert len(ink) > 200
    hidden = sum(1 for p in ink if _is_red(p)) / len(ink)
    hidden_by_paint = sum(1 for p in paint if _is_red(p)) / len(paint)
    assert hidden < 0.02, f"{hidden:.0%} of the text under the seal turned red"
    assert hidden_by_paint > 0.1  # the check fails for an opaque stamp (defect 5)
    assert sum(p[0] for p in ink) / len(ink) < 120  # darker than the ink alone (R = 230)

    # the seal's size on the page: the red pixels' extent around the anchor, in mm
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    reach = round(30 / 25.4 * DPI)
    reds = [
        (x, y)
        for y in range(cy - reach, cy + reach)
        for x in range(cx - reach, cx + reach, 1)
        if _is_red(after.getpixel((x, y)))
    ]
    xs, ys = [p[0] for p in reds], [p[1] for p in reds]
    width_mm = (max(xs) - min(xs) + 1) * 25.4 / DPI
    height_mm = (max(ys) - min(ys) + 1) * 25.4 / DPI
    assert width_mm == pytest.approx(40, abs=0.2) and height_mm == pytest.approx(40, abs=0.2)

    # the seal text: black, under the ring, never over it
    below = [
        (x, y)
        for y in range(max(ys) + 1, max(ys) + round(8 / 25.4 * DPI))
        for x in range(min(xs), max(xs))
        if max(after.getpixel((x, y))) < 90 and max(before.getpixel((x, y))) > 200
    ]
    assert below, "the seal text is not under the seal"


def test_report_gives_the_seal_size_in_millimetres(signed, tmp_path):
    """Defect 7: the report said "(119×119)" in points without saying so."""
    import json

    from sealkit.pdf import verify_pdf

    path = tmp_path / "signed-for-report.pdf"
    path.write_bytes(signed[1])
    text = json.dumps(verify_pdf(path).to_dict(), ensure_ascii=False)
    assert "the image proves nothing about the signer (40.0×" in text and " mm on page " in text


def test_seal_text_never_goes_over_the_seal(contract, supplier_seal):
    """Defect 6: in a box with no room under the seal the text is refused, not printed over the ring."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from sealkit.errors import InvalidInput
    from sealkit.pdf.appearance import MM, build_appearance

    look = SealAppearance(supplier_seal.png, 40, 40, text="张明华 2026-12-03")
    assert look.box_pt[1] > look.size_pt[1] + 2 * 9  # a band of at least one 9 pt line under the seal
    with open(contract, "rb") as handle:
        writer = IncrementalPdfFileWriter(handle)
        build_appearance(writer, look.image_png, look.box_pt, look.size_pt, text=look.text)
        with pytest.raises(InvalidInput, match="no room for the text under the seal"):
            build_appearance(writer, look.image_png, (42 * MM, 42 * MM), look.size_pt, text=look.text)
