"""Seal imprints as PNG: rendered templates (official, contract, legal representative, finance) and scans.

Every image is pure seal red (``SEAL_RED``) with the ink in the alpha channel on a transparent background, at
600 dpi with the dpi stored in the PNG, so ``pixels / 600 * 25.4`` gives millimetres. Rendering is
deterministic: the same input and font give the same bytes. Geometry follows the usual State Council habits
(国发〔1999〕25号): round seals with a star in the centre and the unit name left to right along the upper arc,
characters upright relative to the arc; special-purpose seals carry their purpose as horizontal text.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from sealkit.atomic import write_atomic
from sealkit.errors import ConfigError, InvalidInput

DPI = 600
SEAL_RED = (0xE6, 0x00, 0x12)
DEFAULT_FONT = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
FONT_PACKAGE = "fonts-arphic-uming"
SUPERSAMPLE = 3
KINDS = ("official", "contract", "legal-rep", "finance")

#: Standard sizes in mm: (width, height).
SIZES_MM: dict[str, tuple[float, float]] = {
    "official": (42, 42),
    "contract": (40, 40),
    "legal-rep": (20, 20),
    "finance": (22, 22),
    "finance-round": (38, 38),
}


@dataclass(frozen=True)
class SealImage:
    """A PNG imprint and its size in millimetres."""

    png: bytes
    width_mm: float
    height_mm: float

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the PNG to ``path`` atomically."""
        write_atomic(path, self.png)


def px(mm: float, scale: int = 1) -> int:
    """Millimetres to pixels at 600 dpi (times ``scale``)."""
    return round(mm * DPI / 25.4) * scale


def find_font(path: str | os.PathLike[str] | None = None) -> Path:
    """The font to render with: ``path`` if given, else AR PL UMing (Debian ``fonts-arphic-uming``)."""
    font = Path(path) if path else DEFAULT_FONT
    if not font.is_file():
        if path:
            raise ConfigError(f"seal font {font} does not exist")
        raise ConfigError(
            f"seal font {font} is missing: install the Debian package {FONT_PACKAGE} "
            '(scripts/bootstrap.sh does), or set [seal] font = "..." in the configuration'
        )
    return font


class _Canvas:
    """An alpha mask at SUPERSAMPLE times the final resolution; everything is drawn in mm."""

    def __init__(self, width_mm: float, height_mm: float, font: Path) -> None:
        self.scale = DPI / 25.4 * SUPERSAMPLE  # supersampled pixels per mm
        self.size = (px(width_mm), px(height_mm))
        self.mask = Image.new("L", (self.size[0] * SUPERSAMPLE, self.size[1] * SUPERSAMPLE), 0)
        self.draw = ImageDraw.Draw(self.mask)
        self.font = font
        self.cx = self.mask.width / 2
        self.cy = self.mask.height / 2

    def mm(self, value: float) -> float:
        return value * self.scale

    def ring(self, outer_mm: float, width_mm: float) -> None:
        r_out, r_in = self.mm(outer_mm), self.mm(outer_mm - width_mm)
        self.draw.ellipse((self.cx - r_out, self.cy - r_out, self.cx + r_out, self.cy + r_out), fill=255)
        self.draw.ellipse((self.cx - r_in, self.cy - r_in, self.cx + r_in, self.cy + r_in), fill=0)

    def square(self, width_mm: float, height_mm: float, border_mm: float) -> None:
        w, h, b = self.mm(width_mm) / 2, self.mm(height_mm) / 2, self.mm(border_mm)
        self.draw.rectangle((self.cx - w, self.cy - h, self.cx + w - 1, self.cy + h - 1), fill=255)
        self.draw.rectangle(
            (self.cx - w + b, self.cy - h + b, self.cx + w - b - 1, self.cy + h - b - 1), fill=0
        )

    def star(self, radius_mm: float, dy_mm: float = 0.0) -> None:
        r, inner = self.mm(radius_mm), self.mm(radius_mm) * 0.381966
        cy = self.cy + self.mm(dy_mm)
        points = []
        for i in range(10):
            angle = math.pi * i / 5
            rr = r if i % 2 == 0 else inner
            points.append((self.cx + rr * math.sin(angle), cy - rr * math.cos(angle)))
        self.draw.polygon(points, fill=255)

    def glyph(self, char: str, width_mm: float, height_mm: float) -> Image.Image:
        """``char`` as a mask exactly ``width_mm`` x ``height_mm`` (ink stretched to fill the box)."""
        size = 200
        font = ImageFont.truetype(str(self.font), size)
        left, top, right, bottom = font.getbbox(char)
        if right <= left or bottom <= top:
            raise InvalidInput(f"the seal font has no glyph for {char!r}")
        cell = Image.new("L", (int(right - left), int(bottom - top)), 0)
        ImageDraw.Draw(cell).text((-left, -top), char, font=font, fill=255)
        cell = cell.filter(ImageFilter.MaxFilter(5))  # 宋体 on seals is bolder than a book face
        return cell.resize(
            (max(1, round(self.mm(width_mm))), max(1, round(self.mm(height_mm)))), Image.Resampling.LANCZOS
        )

    def paste(self, glyph: Image.Image, x: float, y: float, angle_deg: float = 0.0) -> None:
        """Paste ``glyph`` centred on (x, y) px, rotated clockwise by ``angle_deg``."""
        if angle_deg:
            glyph = glyph.rotate(-angle_deg, resample=Image.Resampling.BICUBIC, expand=True)
        box = (round(x - glyph.width / 2), round(y - glyph.height / 2))
        layer = Image.new("L", self.mask.size, 0)
        layer.paste(glyph, box)
        self.mask = ImageChops.lighter(self.mask, layer)
        self.draw = ImageDraw.Draw(self.mask)

    def arc_text(
        self, text: str, radius_mm: float, char_h_mm: float, span_deg: float, *, bottom: bool
    ) -> None:
        """Characters evenly along an arc of ``span_deg`` centred at the top (or bottom), left to right,
        each upright relative to the arc; ``radius_mm`` is the radius of the characters' centres."""
        n = len(text)
        step = span_deg / n
        arc_len = math.radians(step) * radius_mm
        char_w = min(char_h_mm * 0.78, arc_len * 0.92)
        for i, char in enumerate(text):
            offset = -span_deg / 2 + step * (i + 0.5)
            theta = 180 - offset if bottom else offset  # clockwise from 12 o'clock
            x = self.cx + self.mm(radius_mm) * math.sin(math.radians(theta))
            y = self.cy - self.mm(radius_mm) * math.cos(math.radians(theta))
            rotation = theta - 180 if bottom else theta
            self.paste(self.glyph(char, char_w, char_h_mm), x, y, rotation)

    def line_text(self, text: str, y_mm: float, char_h_mm: float, width_mm: float) -> None:
        """A horizontal line of evenly spaced characters centred ``y_mm`` below the centre."""
        n = len(text)
        pitch = width_mm / n
        char_w = min(char_h_mm * 0.85, pitch * 0.9)
        for i, char in enumerate(text):
            x = self.cx + self.mm(-width_mm / 2 + pitch * (i + 0.5))
            self.paste(self.glyph(char, char_w, char_h_mm), x, self.cy + self.mm(y_mm))

    def grid_text(self, columns: list[str], inner_mm: float, gap_mm: float) -> None:
        """Columns of characters read right to left, top to bottom, filling an ``inner_mm`` square; each
        column's characters share its full height."""
        cell_w = (inner_mm - gap_mm * (len(columns) - 1)) / len(columns)
        for col, chars in enumerate(columns):
            cell_h = (inner_mm - gap_mm * (len(chars) - 1)) / len(chars)
            x_mm = inner_mm / 2 - cell_w / 2 - col * (cell_w + gap_mm)
            for row, char in enumerate(chars):
                y_mm = -inner_mm / 2 + cell_h / 2 + row * (cell_h + gap_mm)
                glyph = self.glyph(char, cell_w, cell_h)
                self.paste(glyph, self.cx + self.mm(x_mm), self.cy + self.mm(y_mm))

    def png(self) -> bytes:
        alpha = self.mask.resize(self.size, Image.Resampling.LANCZOS)
        image = Image.new("RGBA", self.size, (*SEAL_RED, 0))
        image.putalpha(alpha)
        out = io.BytesIO()
        image.save(out, format="PNG", dpi=(DPI, DPI), optimize=False)
        return out.getvalue()


def _round(name: str, diameter: float, purpose: str, serial: str | None, font: Path) -> bytes:
    canvas = _Canvas(diameter, diameter, font)
    r = diameter / 2
    ring = 1.2 if diameter >= 40 else 1.0
    canvas.ring(r, ring)
    char_h = diameter * 0.16
    text_r = r - ring - 0.9 - char_h / 2
    span = min(250.0, max(120.0, 24.0 * len(name)))
    canvas.arc_text(name, text_r, char_h, span, bottom=False)
    canvas.star(diameter / 6, dy_mm=-diameter * 0.01 if purpose else 0.0)
    if purpose:
        canvas.line_text(purpose, diameter * 0.27, diameter * 0.11, diameter * 0.55)
    if serial:
        serial_h = diameter * 0.055
        canvas.arc_text(
            serial, r - ring - 0.6 - serial_h / 2, serial_h, min(100.0, 7.0 * len(serial)), bottom=True
        )
    return canvas.png()


def _square(columns: list[str], side: float, font: Path) -> bytes:
    canvas = _Canvas(side, side, font)
    border = max(0.8, side * 0.05)
    canvas.square(side, side, border)
    margin = border + side * 0.05
    canvas.grid_text(columns, side - 2 * margin, side * 0.03)
    return canvas.png()


def grid_columns(text: str) -> list[str]:
    """Split ``text`` into columns for a square seal: as few empty cells as possible, then as square as
    possible; when cells are left over, the last columns hold one character fewer."""
    n = len(text)
    cols, rows = min(
        ((c, math.ceil(n / c)) for c in range(1, n + 1)),
        key=lambda cr: (cr[0] * cr[1] - n, abs(cr[0] - cr[1])),
    )
    short = cols * rows - n  # columns that hold rows - 1 characters
    result, start = [], 0
    for index in range(cols):
        length = rows - 1 if index >= cols - short else rows
        result.append(text[start : start + length])
        start += length
    return result


def personal_seal_text(name: str) -> str:
    """The four characters of a legal representative's square seal: 张三 -> 张三之印, 张明华 -> 张明华印."""
    name = "".join(name.split())
    if not 2 <= len(name) <= 4:
        raise InvalidInput(f"a personal square seal holds a name of 2 to 4 characters, not {len(name)}")
    return {2: name + "之印", 3: name + "印", 4: name}[len(name)]


def render_seal(
    kind: str,
    name: str,
    *,
    serial: str | None = None,
    shape: str | None = None,
    font: str | os.PathLike[str] | None = None,
) -> SealImage:
    """Render a seal imprint. ``kind``: official, contract, legal-rep (``name`` is the person) or finance
    (``shape`` square, the default, or round). ``serial`` is printed on the lower arc of round seals."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown seal kind {kind!r}: use one of {', '.join(KINDS)}")
    name = "".join(name.split())
    if not name:
        raise InvalidInput("the seal needs a name")
    if serial is not None and not (serial.isascii() and serial.isalnum() and len(serial) <= 20):
        raise InvalidInput("the serial number must be up to 20 letters and digits")
    font_path = find_font(font)
    if kind == "legal-rep":
        size = SIZES_MM["legal-rep"]
        text = personal_seal_text(name)
        png = _square([text[:2], text[2:]], size[0], font_path)
    elif kind == "finance" and shape != "round":
        size = SIZES_MM["finance"]
        if len(name) > 20:
            raise InvalidInput("the unit name is too long for a square finance seal (at most 20 characters)")
        png = _square(grid_columns(name + "财务专用章"), size[0], font_path)
    else:
        size = SIZES_MM["finance-round" if kind == "finance" else kind]
        purpose = {"official": "", "contract": "合同专用章", "finance": "财务专用章"}[kind]
        if len(name) > 24:
            raise InvalidInput("the unit name is too long for a round seal (at most 24 characters)")
        png = _round(name, size[0], purpose, serial, font_path)
    return SealImage(png, size[0], size[1])


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
