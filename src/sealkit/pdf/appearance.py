"""What a seal looks like on the page: the imprint at its true size in millimetres, optional text, strips.

:class:`SealAppearance` is the imprint (PNG with alpha) and its physical size. :func:`clean_imprint` turns a
scan (red ink on white paper) into such a PNG: near-white pixels become transparent and the image is cropped
to the ink. :func:`build_appearance` renders a form XObject for a widget or stamp annotation: the image at
exactly ``width_mm × height_mm`` centred in the annotation's box, drawn as ink (the ``/Multiply`` blend mode:
the printed text under the seal stays black and readable, as on paper), the optional text (signer, date) in
the project's CJK font in a band *under* the seal, never over it, and a ``/Matrix`` that counter-rotates the
form on pages with ``/Rotate`` so the seal stays upright. :func:`slice_strips` cuts the imprint into the
vertical strips of a cross-page seal (骑缝章).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from sealkit.errors import InvalidInput

MM = 72 / 25.4  # PDF points per millimetre
TEXT_PT = 9  #: size of the text under the seal: readable at 100 % zoom
TEXT_LEADING_PT = 11
TEXT_GAP_PT = 2  #: between the seal's edge and its text

#: The counter-rotation of an appearance, by page /Rotate (clockwise on display).
_MATRICES = {0: (1, 0, 0, 1), 90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}


@dataclass(frozen=True)
class SealAppearance:
    """A seal imprint (PNG, transparent background) shown at ``width_mm × height_mm``, with optional text."""

    image_png: bytes
    width_mm: float = 40.0
    height_mm: float = 40.0
    text: str | None = None

    def __post_init__(self) -> None:
        if not (0 < self.width_mm <= 300 and 0 < self.height_mm <= 300):
            raise InvalidInput(f"seal size {self.width_mm}×{self.height_mm} mm is not plausible")
        _open_png(self.image_png)

    @property
    def size_pt(self) -> tuple[float, float]:
        """The imprint's size in points."""
        return self.width_mm * MM, self.height_mm * MM

    @property
    def box_pt(self) -> tuple[float, float]:
        """The box the appearance needs: the imprint, and with text a band under it (and an empty one above,
        so the seal stays centred where it is placed), as wide as the text."""
        width, height = self.size_pt
        if not self.text:
            return width, height
        band = text_band_pt(self.text)
        return max(width, text_width_pt(self.text) + 2 * TEXT_GAP_PT), height + 2 * band


def text_band_pt(text: str) -> float:
    """The height of the text band under a seal."""
    return len(text.splitlines() or [""]) * TEXT_LEADING_PT + TEXT_GAP_PT


def text_width_pt(text: str) -> float:
    """The width of the widest line of ``text`` in the CJK font at ``TEXT_PT``."""
    from PIL import ImageFont

    from sealkit.fonts import cjk_font_path

    font = ImageFont.truetype(str(cjk_font_path()), 1000)
    return max((font.getlength(line) for line in text.splitlines()), default=0.0) * TEXT_PT / 1000


def _open_png(data: bytes):  # type: ignore[no-untyped-def]
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError):
        raise InvalidInput(
            "the seal image is not a readable PNG or JPEG image: give the seal imprint"
        ) from None
    return image.convert("RGBA")


def clean_imprint(png: bytes, *, threshold: int = 200, margin_px: int = 2) -> bytes:
    """A scanned imprint with its paper made transparent and cropped to the ink; returns PNG bytes.

    A pixel is paper when its lightest and darkest channels are both above ``threshold`` (white and light
    grey); red ink keeps its colour with full opacity, and pixels close to paper fade out smoothly.
    """
    from PIL import Image

    image = _open_png(png)
    pixels = image.load()
    assert pixels is not None
    width, height = image.size
    for y in range(height):
        for x in range(width):
            r, g, b, a = pixels[x, y]
            lightness = min(r, g, b)
            if lightness >= threshold:
                pixels[x, y] = (r, g, b, 0)
            elif lightness > threshold - 40:
                pixels[x, y] = (r, g, b, a * (threshold - lightness) // 40)
    box = image.getchannel("A").getbbox()
    if box is None:
        raise InvalidInput("the seal image has no ink: every pixel is background")
    left, top, right, bottom = box
    box = (
        max(left - margin_px, 0),
        max(top - margin_px, 0),
        min(right + margin_px, width),
        min(bottom + margin_px, height),
    )
    out = io.BytesIO()
    Image.Image.crop(image, box).save(out, format="PNG", optimize=True)
    return out.getvalue()


def slice_strips(png: bytes, count: int) -> list[bytes]:
    """Cut the imprint into ``count`` vertical strips of equal width, left to right (PNG bytes each)."""
    if count < 1:
        raise InvalidInput("a cross-page seal needs at least one page")
    image = _open_png(png)
    width, height = image.size
    if width < count:
        raise InvalidInput(f"the seal image ({width} px wide) is too narrow for {count} strips")
    strips = []
    for left, right in strip_bounds(width, count):
        out = io.BytesIO()
        image.crop((left, 0, right, height)).save(out, format="PNG")
        strips.append(out.getvalue())
    return strips


def strip_bounds(width: int, count: int) -> list[tuple[int, int]]:
    """The pixel columns (left, right) of each of ``count`` strips of an imprint ``width`` pixels wide: the
    one slicing that :func:`slice_strips` cuts and the verifier compares strips against."""
    return [(width * index // count, width * (index + 1) // count) for index in range(count)]


def build_appearance(
    writer: BasePdfFileWriter,
    image_png: bytes,
    box_pt: tuple[float, float],
    image_pt: tuple[float, float],
    *,
    rotate: int = 0,
    text: str | None = None,
    align: Literal["centre", "right"] = "centre",
) -> generic.IndirectObject:
    """A form XObject of ``box_pt`` (visible width, height) with the image at ``image_pt`` in its centre.

    ``align="right"`` puts the image against the right edge of the box (as seen on the page), vertically
    centred: the strips of a cross-page seal touch the edge of the paper.
    """
    from pyhanko.pdf_utils.content import PdfResources, ResourceType
    from pyhanko.pdf_utils.images import pil_image

    box_w, box_h = box_pt
    img_w, img_h = image_pt
    if img_w > box_w + 0.01 or img_h > box_h + 0.01:
        raise InvalidInput(
            f"the signature box ({box_w / MM:.1f}×{box_h / MM:.1f} mm) is smaller than the seal "
            f"({img_w / MM:.1f}×{img_h / MM:.1f} mm)"
        )
    resources = PdfResources()  # type: ignore[no-untyped-call]
    resources[ResourceType.XOBJECT][pdf_name("/Seal")] = pil_image(_open_png(image_png), writer)
    resources[ResourceType.EXT_G_STATE][pdf_name("/Ink")] = generic.DictionaryObject(  # type: ignore[no-untyped-call]
        {pdf_name("/Type"): pdf_name("/ExtGState"), pdf_name("/BM"): pdf_name("/Multiply")}
    )
    left = box_w - img_w if align == "right" else (box_w - img_w) / 2
    bottom = (box_h - img_h) / 2
    band = text_band_pt(text) if text else 0.0
    if text and bottom < band:
        if box_h - img_h < band - 0.01:
            raise InvalidInput(
                f"the signature box ({box_w / MM:.1f}×{box_h / MM:.1f} mm) has no room for the text under "
                f"the seal ({img_h / MM:.1f} mm high, the text needs {band / MM:.1f} mm more): "
                "drop the seal text or prepare a taller field"
            )
        bottom = band
    ops = [b"q /Ink gs %.4f 0 0 %.4f %.4f %.4f cm /Seal Do Q" % (img_w, img_h, left, bottom)]
    if text:
        text_ops, text_resources = _text_block(writer, text, box_w, bottom)
        ops.append(text_ops)
        resources += text_resources
    form = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(generic.FloatObject(v) for v in (0, 0, box_w, box_h)),  # type: ignore[no-untyped-call]
            pdf_name("/Matrix"): generic.ArrayObject(
                generic.NumberObject(v)  # type: ignore[no-untyped-call]
                for v in (*_MATRICES[rotate % 360], 0, 0)
            ),
            pdf_name("/Resources"): resources.as_pdf_object(),
        },
        stream_data=b"\n".join(ops),
    )
    return writer.add_object(form)


def _text_block(writer: BasePdfFileWriter, text: str, box_w: float, band_h: float):  # type: ignore[no-untyped-def]
    """The appearance text (signer, time...) in the CJK font, black, centred in the band under the seal and
    clipped to that band, so that a verifier can see that the text never covers the seal."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBox, TextBoxStyle

    from sealkit.fonts import cjk_font_path

    style = TextBoxStyle(
        font=GlyphAccumulatorFactory(str(cjk_font_path())),
        font_size=TEXT_PT,
        leading=TEXT_LEADING_PT,
        text_color=(0, 0, 0),
        box_layout_rule=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(0, 0, TEXT_GAP_PT, 0),
        ),
    )
    box = TextBox(style, writer, box=layout.BoxConstraints(box_w, band_h), font_name="SealText")
    box.content = text
    clip = b"0 0 %.4f %.4f re W n " % (box_w, band_h)
    return b"q " + clip + box.render() + b" Q", box.resources  # type: ignore[no-untyped-call]
