"""The picture of a seal layout: the font, the border, the star, every glyph in its box, the ink.

One font for every kind: Noto Serif CJK SC Bold (Debian ``fonts-noto-cjk``), a 宋体 (Song) face of seal
weight, else AR PL UMing (``fonts-arphic-uming``) thickened; ``[seal] font`` in the configuration overrides
both. A glyph fills its layout box with its em square (CJK) or its cap height (digits and Latin letters of
serials and taxpayer numbers), so condensed boxes give condensed glyphs and the ink never leaves the box.
Drawing is supersampled and deterministic: the same layout, font and ink give the same PNG bytes; the
optional ink texture (uneven density, worn edges) is seeded from the layout itself.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from sealkit.errors import ConfigError, InvalidInput
from sealkit.seal.imprint.layout import Glyph, SealLayout

DPI = 600
SUPERSAMPLE = 2
SEAL_RED = (0xE6, 0x00, 0x12)
INKS = {
    "red": SEAL_RED,
    "blue": (0x1D, 0x3F, 0xBB),
    "purple": (0x7A, 0x1F, 0x8C),
    "black": (0x1A, 0x1A, 0x1A),
}

#: The seal faces, best first: (file, family name of the face to use), and the Debian packages that hold them.
FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC"),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", "AR PL UMing CN"),
)
FONT_PACKAGES = "fonts-noto-cjk (or fonts-arphic-uming)"
_RENDER_SIZE = 256  # px per em when rasterising a glyph before it is scaled into its box


def px(mm: float, scale: int = 1) -> int:
    """Millimetres to pixels at 600 dpi (times ``scale``)."""
    return round(mm * DPI / 25.4) * scale


def parse_ink(ink: str | tuple[int, int, int] | None) -> tuple[int, int, int]:
    """An ink colour: a name (red, blue, purple, black), ``#RRGGBB``, or an RGB tuple; red by default."""
    if ink is None:
        return SEAL_RED
    if isinstance(ink, tuple):
        return ink
    value = ink.strip().lower()
    if value in INKS:
        return INKS[value]
    hexa = value.removeprefix("#")
    if len(hexa) == 6 and all(c in "0123456789abcdef" for c in hexa):
        return int(hexa[0:2], 16), int(hexa[2:4], 16), int(hexa[4:6], 16)
    raise InvalidInput(f"ink {ink!r} is neither {', '.join(INKS)} nor a #RRGGBB colour")


@dataclass(frozen=True)
class SealFont:
    """A face of a font file (``index`` in a collection), and whether it needs thickening for a seal."""

    path: Path
    index: int
    bold: bool

    @functools.cached_property
    def font(self) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.path), _RENDER_SIZE, index=self.index)

    @functools.cached_property
    def codepoints(self) -> frozenset[int]:
        from fontTools.ttLib import TTCollection, TTFont

        if self.path.suffix.lower() in (".ttc", ".otc"):
            face = TTCollection(str(self.path), lazy=True).fonts[self.index]
        else:
            face = TTFont(str(self.path), lazy=True)
        return frozenset(face.getBestCmap() or {})

    def has(self, char: str) -> bool:
        return ord(char) in self.codepoints


def find_font(path: str | os.PathLike[str] | None = None) -> SealFont:
    """The seal font: ``path`` (its first face, or its Simplified Chinese face) if given, else the first of
    :data:`FONTS` that is installed."""
    if path:
        font = Path(path)
        if not font.is_file():
            raise ConfigError(f"seal font {font} does not exist")
        return _face(font, None)
    for file, family in FONTS:
        if Path(file).is_file():
            return _face(Path(file), family)
    raise ConfigError(
        f"no seal font: install the Debian package {FONT_PACKAGES} (scripts/bootstrap.sh does), "
        'or set [seal] font = "..." in the configuration'
    )


@functools.lru_cache(maxsize=8)
def _face(path: Path, family: str | None) -> SealFont:
    faces = []
    for index in range(16):
        try:
            faces.append((index, ImageFont.truetype(str(path), 20, index=index).getname()))
        except OSError:
            break
    if not faces:
        raise ConfigError(f"seal font {path} is not a font Pillow can read")
    wanted = [f for f in faces if f[1][0] == family] or [f for f in faces if " SC" in (f[1][0] or "")]
    index, (_, style) = (wanted or faces)[0]
    return SealFont(path, index, "bold" in (style or "").lower())


@functools.lru_cache(maxsize=4096)
def _cell(font: SealFont, char: str, face: str) -> Image.Image:
    """``char`` rasterised in its em square (``cjk``) or cap-height cell (``digit``), before scaling."""
    f = font.font
    if face == "digit":
        top = min(f.getbbox(c, anchor="ls")[1] for c in "0H")
        width = max(f.getlength(c) for c in "0123456789ABCDEFGHJKLMNPQRTUWXY")
        pad = _RENDER_SIZE * 0.03
        box = (-width / 2, top - pad, width / 2, pad)
        origin = (-f.getlength(char) / 2, 0.0)
    else:
        ref = f.getbbox("国", anchor="ls")
        middle = (ref[1] + ref[3]) / 2
        advance = f.getlength(char) or _RENDER_SIZE
        box = (0.0, middle - _RENDER_SIZE / 2, advance, middle + _RENDER_SIZE / 2)
        origin = (0.0, 0.0)
    size = (max(1, round(box[2] - box[0])), max(1, round(box[3] - box[1])))
    cell = Image.new("L", size, 0)
    ImageDraw.Draw(cell).text((origin[0] - box[0], origin[1] - box[1]), char, font=f, fill=255, anchor="ls")
    if not font.bold:  # a book face is too light for a seal
        cell = cell.filter(ImageFilter.MaxFilter(7))
    return cell


class _Canvas:
    def __init__(self, layout: SealLayout) -> None:
        self.size = (px(layout.width), px(layout.height))
        self.scale = self.size[0] * SUPERSAMPLE / layout.width  # supersampled px per mm
        self.mask = Image.new("L", (self.size[0] * SUPERSAMPLE, self.size[1] * SUPERSAMPLE), 0)
        self.draw = ImageDraw.Draw(self.mask)
        self.cx, self.cy = self.mask.width / 2, self.mask.height / 2

    def at(self, x: float, y: float) -> tuple[float, float]:
        return self.cx + x * self.scale, self.cy + y * self.scale

    def border(self, layout: SealLayout) -> None:
        w, h = self.mask.size
        inner = round(layout.border * self.scale)
        if layout.shape == "square":
            self.draw.rectangle((0, 0, w - 1, h - 1), fill=255)
            self.draw.rectangle((inner, inner, w - 1 - inner, h - 1 - inner), fill=0)
        else:
            self.draw.ellipse((0, 0, w - 1, h - 1), fill=255)
            self.draw.ellipse((inner, inner, w - 1 - inner, h - 1 - inner), fill=0)

    def star(self, cx: float, cy: float, radius: float) -> None:
        x0, y0 = self.at(cx, cy)
        r = radius * self.scale
        points = []
        for i in range(10):
            angle = math.pi * i / 5
            rr = r if i % 2 == 0 else r * 0.381966
            points.append((x0 + rr * math.sin(angle), y0 - rr * math.cos(angle)))
        self.draw.polygon(points, fill=255)

    def glyph(self, glyph: Glyph, font: SealFont) -> None:
        box = glyph.box
        size = (max(1, round(box.w * self.scale)), max(1, round(box.h * self.scale)))
        image = _cell(font, glyph.char, glyph.face).resize(size, Image.Resampling.LANCZOS)
        if box.angle:
            image = image.rotate(-box.angle, resample=Image.Resampling.BICUBIC, expand=True)
        x, y = self.at(box.cx, box.cy)
        left, top = round(x - image.width / 2), round(y - image.height / 2)
        area = (left, top, left + image.width, top + image.height)
        self.mask.paste(ImageChops.lighter(self.mask.crop(area), image), area)


def draw_layout(
    layout: SealLayout,
    font: SealFont,
    *,
    ink: tuple[int, int, int] = SEAL_RED,
    texture: bool = False,
) -> bytes:
    """The layout as a PNG: ``ink`` with the picture in the alpha channel, transparent elsewhere, 600 dpi."""
    missing = sorted({g.char for g in layout.glyphs if not font.has(g.char)})
    if missing:
        raise InvalidInput(f"the seal font {font.path.name} has no glyph for {''.join(missing)!r}")
    canvas = _Canvas(layout)
    canvas.border(layout)
    if layout.star:
        canvas.star(layout.star.cx, layout.star.cy, layout.star.radius)
    for glyph in layout.glyphs:
        canvas.glyph(glyph, font)
    alpha = canvas.mask.resize(canvas.size, Image.Resampling.LANCZOS)
    if texture:
        alpha = _worn(alpha, hashlib.sha256(repr(layout).encode()).digest())
    image = Image.new("RGBA", canvas.size, (*ink, 0))
    image.putalpha(alpha)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


def _noise(rng: random.Random, size: tuple[int, int], cells: tuple[int, int], low: int) -> Image.Image:
    small = Image.frombytes("L", cells, bytes(rng.randrange(low, 256) for _ in range(cells[0] * cells[1])))
    return small.resize(size, Image.Resampling.BICUBIC)


def _worn(alpha: Image.Image, seed: bytes) -> Image.Image:
    """Uneven ink density and worn edges, the same for the same seed."""
    rng = random.Random(seed)
    w, h = alpha.size
    density = _noise(rng, alpha.size, (max(2, w // 60), max(2, h // 60)), 175)
    alpha = ImageChops.multiply(alpha, density)
    edges = ImageChops.subtract(alpha, alpha.filter(ImageFilter.MinFilter(5))).filter(
        ImageFilter.MaxFilter(5)
    )
    speckle = _noise(rng, alpha.size, (max(2, w // 3), max(2, h // 3)), 0)
    speckle = speckle.point(lambda v: 150 if v > 215 else 0)  # fine, sparse, partial wear
    wear = ImageChops.multiply(edges.point(lambda v: 255 if v > 40 else 0), speckle)
    return ImageChops.subtract(alpha, wear.filter(ImageFilter.GaussianBlur(0.8)))
