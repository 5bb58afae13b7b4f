"""Seal imprints as PNG: rendered from a layout (official, contract, finance, legal representative, invoice,
oval) or cleaned from a scan.

Every image is one ink colour (seal red ``SEAL_RED`` by default) with the picture in the alpha channel on a
transparent background, at 600 dpi with the dpi stored in the PNG, so ``pixels / 600 * 25.4`` gives
millimetres and the ink of the border reaches the image's edges: the image's size is the seal's size.
Rendering is deterministic (same input and font, same bytes). The layout (:mod:`sealkit.seal.imprint.layout`)
follows seal makers' practice; the drawing is :mod:`sealkit.seal.imprint.draw`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from PIL import Image, ImageChops

from sealkit.atomic import write_atomic
from sealkit.errors import InvalidInput
from sealkit.seal.imprint.draw import DPI, SEAL_RED, draw_layout, find_font, parse_ink, px
from sealkit.seal.imprint.layout import KINDS as _LAYOUTS
from sealkit.seal.imprint.layout import grid_columns, layout_seal, personal_seal_text

__all__ = [
    "DPI",
    "KINDS",
    "SEAL_RED",
    "SIZES_MM",
    "SealImage",
    "find_font",
    "grid_columns",
    "image_size_mm",
    "imprint_from_scan",
    "personal_seal_text",
    "px",
    "render_seal",
]

KINDS = ("official", "contract", "finance", "legal-rep", "invoice", "oval")

#: Default sizes in mm: (width, height).
SIZES_MM: dict[str, tuple[float, float]] = {kind: spec.size for kind, spec in _LAYOUTS.items()}


@dataclass(frozen=True)
class SealImage:
    """A PNG imprint and its size in millimetres."""

    png: bytes
    width_mm: float
    height_mm: float

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the PNG to ``path`` atomically."""
        write_atomic(path, self.png)


def _serial_ok(value: str | None, what: str, lengths: tuple[int, int]) -> None:
    if value is not None and not (
        value.isascii() and value.isalnum() and lengths[0] <= len(value) <= lengths[1]
    ):
        raise InvalidInput(f"the {what} must be {lengths[0]} to {lengths[1]} letters and digits")


def render_seal(
    kind: str,
    name: str,
    *,
    serial: str | None = None,
    shape: str | None = None,
    font: str | os.PathLike[str] | None = None,
    size_mm: float | tuple[float, float] | None = None,
    ink: str | tuple[int, int, int] | None = None,
    ink_texture: bool = False,
    taxpayer: str | None = None,
    purpose: str | None = None,
) -> SealImage:
    """Render a seal imprint.

    ``kind``: official, contract, finance (``shape`` square, the default, or round), legal-rep (``name`` is
    the person), invoice (needs ``taxpayer``, the unit's taxpayer number) or oval. ``serial`` (the 13-digit
    seal code) goes on the lower arc of round seals and in a line on ovals and squares. ``size_mm`` is the
    width (and height of ovals) within what practice allows for the kind; ``ink`` a colour name or
    ``#RRGGBB``; ``ink_texture`` adds uneven density and worn edges (deterministic). ``purpose`` replaces the
    kind's purpose line (e.g. 业务专用章 on an oval).
    """
    if kind not in KINDS:
        raise InvalidInput(f"unknown seal kind {kind!r}: use one of {', '.join(KINDS)}")
    if shape not in (None, "square", "round") or (shape == "round" and kind != "finance"):
        raise InvalidInput("--shape round is for finance seals only (the other kinds have one shape)")
    _serial_ok(serial, "serial number", (1, 20))
    if taxpayer is not None:
        taxpayer = taxpayer.strip().upper()
        _serial_ok(taxpayer, "taxpayer number", (15, 20))
    colour = parse_ink(ink)
    layout_kind = "finance-round" if kind == "finance" and shape == "round" else kind
    size = (size_mm, size_mm) if isinstance(size_mm, int | float) else size_mm
    if size is not None and kind not in ("invoice", "oval"):
        size = (size[0], size[0])
    layout = layout_seal(layout_kind, name, serial=serial, taxpayer=taxpayer, purpose=purpose, size=size)
    png = draw_layout(layout, find_font(font), ink=colour, texture=ink_texture)
    return SealImage(png, layout.width, layout.height)


def imprint_from_scan(
    data: bytes, width_mm: float, height_mm: float | None = None, *, threshold: int = 60
) -> SealImage:
    """A scanned imprint made usable: near-white becomes transparent, the ink becomes seal red, the image is
    cropped to its content and scaled to ``width_mm`` (``height_mm`` defaults to keep the aspect ratio)."""
    try:
        scan = Image.open(io.BytesIO(data))
        scan.load()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files
        raise InvalidInput(f"the imprint is not a readable image: {exc}") from None
    rgba = scan.convert("RGBA")
    r, g, b, a = rgba.split()
    ink = ImageChops.invert(ImageChops.darker(ImageChops.darker(r, g), b))  # 255 - min(R, G, B)
    ink = ImageChops.multiply(ink, a)
    ink = ink.point(lambda v: 0 if v < threshold else min(255, (v - threshold) * 255 // (255 - threshold)))
    box = ink.getbbox()
    if box is None:
        raise InvalidInput("the imprint is blank: no ink found")
    ink = ink.crop(box)
    if height_mm is None:
        height_mm = round(width_mm * ink.height / ink.width, 1)
    size = (px(width_mm), px(height_mm))
    image = Image.new("RGBA", size, (*SEAL_RED, 0))
    image.putalpha(ink.resize(size, Image.Resampling.LANCZOS))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI))
    return SealImage(out.getvalue(), width_mm, height_mm)


def image_size_mm(png: bytes) -> tuple[float, float]:
    """The size in mm of a PNG, from its pixels and stored dpi (600 when absent)."""
    with Image.open(io.BytesIO(png)) as image:
        dpi = image.info.get("dpi", (DPI, DPI))
        return image.width / float(dpi[0]) * 25.4, image.height / float(dpi[1]) * 25.4
