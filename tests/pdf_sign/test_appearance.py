"""Seal images on the page: a scanned imprint cleaned by ``clean_imprint``, checked on a poppler rendering."""

import io
import subprocess

import pytest
from PIL import Image

from sealkit.errors import InvalidInput
from sealkit.pdf import Placement, SealAppearance, clean_imprint, sign_pdf

from .conftest import PAPER

MM = 72 / 25.4
DPI = 60


def test_clean_imprint_makes_the_paper_transparent_and_crops_to_the_ink(scanned_imprint_png):
    scan = Image.open(io.BytesIO(scanned_imprint_png))
    assert scan.mode == "RGB"
    cleaned = Image.open(io.BytesIO(clean_imprint(scanned_imprint_png)))
    assert cleaned.mode == "RGBA"
    # cropped to the ring (drawn at 60..460 of 520 px, blurred a little; 2 px margin), the smudge is gone
    assert 400 <= cleaned.width <= 412 and 400 <= cleaned.height <= 412
    alpha = cleaned.getchannel("A")
    assert alpha.getpixel((cleaned.width // 2, 12)) == 255 or alpha.getpixel((cleaned.width // 2, 10)) == 255
    # between the ring and the star: paper, now fully transparent
    assert alpha.getpixel((cleaned.width // 2, cleaned.height // 2 + 110)) == 0
    # the star keeps its red
    r, g, b, a = cleaned.getpixel((cleaned.width // 2, cleaned.height // 2))
    assert a == 255 and r > 150 and g < 80 and b < 80


def test_clean_imprint_refuses_a_blank_scan():
    blank = io.BytesIO()
    Image.new("RGB", (100, 100), PAPER).save(blank, "PNG")
    with pytest.raises(InvalidInput, match="no ink"):
        clean_imprint(blank.getvalue())


def _render_box(pdf, page: int, rect_mm: tuple[float, float, float, float], tmp_path) -> Image.Image:
    """The page rendered by pdftoppm at 60 dpi, cropped to ``rect_mm`` (x, y, w, h from the lower left)."""
    prefix = tmp_path / f"render-{pdf.stem}"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(DPI),
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
    scale = DPI / 25.4
    x, y, w, h = rect_mm
    top = image.height - (y + h) * scale
    return image.crop((round(x * scale), round(top), round((x + w) * scale), round(top + h * scale)))


def _paper_pixels(image: Image.Image) -> int:
    """Pixels that look like the scan's off-white paper (not white, not ink)."""
    return sum(
        1
        for r, g, b in _rgb(image)
        if min(r, g, b) >= 236 and max(r, g, b) <= 251 and r - b >= 4 and abs(r - g) <= 4
    )


def _red_pixels(image: Image.Image) -> int:
    return sum(1 for r, g, b in _rgb(image) if r > 150 and g < 110 and b < 110)


def _rgb(image: Image.Image) -> list[tuple[int, int, int]]:
    data = image.convert("RGB").tobytes()
    return [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), 3)]


def test_scanned_imprint_signs_without_its_paper(
    contract, rsa_key, rsa_signer, scanned_imprint_png, tmp_path
):
    box = (120.0, 60.0, 40.0, 40.0)
    raw, cleaned = tmp_path / "raw.pdf", tmp_path / "cleaned.pdf"
    for out, png in ((raw, scanned_imprint_png), (cleaned, clean_imprint(scanned_imprint_png))):
        sign_pdf(
            contract,
            out,
            rsa_key,
            cert=rsa_signer.cert_path,
            appearance=SealAppearance(png, 40, 40),
            placement=Placement.at_rect(3, box),
        )
    raw_box, clean_box = _render_box(raw, 3, box, tmp_path), _render_box(cleaned, 3, box, tmp_path)
    # the uncleaned scan hides the contract under a sheet of paper; the cleaned one shows ink only
    assert _paper_pixels(raw_box) > 0.5 * raw_box.width * raw_box.height
    assert _paper_pixels(clean_box) < 0.005 * clean_box.width * clean_box.height  # a few blended edge pixels
    assert _red_pixels(clean_box) > 0.05 * clean_box.width * clean_box.height
