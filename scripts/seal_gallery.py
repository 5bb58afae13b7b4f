#!/usr/bin/env python3
"""Write docs/seal-gallery.png: every kind of seal imprint sealkit renders, for unit names of 2, 3, 4, 6,
7, 10, 12, 17 and 23 characters (a person's name of 2 to 4 for the legal representative), without and
with a serial.

Usage: scripts/seal_gallery.py [OUTPUT]   (default docs/seal-gallery.png; the output is deterministic)
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from sealkit.seal.images import render_seal
from sealkit.seal.imprint.draw import find_font

NAMES = {
    2: "宏达",
    3: "鲁信社",
    4: "齐鲁书社",
    6: "济南市财政局",
    7: "山东省人民医院",
    10: "山东省示范数据研究院",
    12: "济南示范数据科技有限公司",
    17: "山东省济南市历下区示范数据研究中心",
    23: "中国人民解放军联勤保障部队第九六〇医院采购中心",
}
PEOPLE = {2: "张明", 3: "张明华", 4: "欧阳明华"}
ROWS = (
    ("official", {}, "公章 official 42 mm"),
    ("contract", {}, "合同专用章 contract 40 mm"),
    ("finance", {}, "财务专用章 finance 22 mm"),
    ("finance", {"shape": "round"}, "财务专用章 finance round 38 mm"),
    ("invoice", {"taxpayer": "91370102MA3C0XXX4B"}, "发票专用章 invoice 40×30 mm"),
    ("oval", {"purpose": "业务专用章"}, "oval 45×30 mm"),
    ("legal-rep", {}, "法人章 legal-rep 20 mm"),
)
SERIAL = "3701020012345"
PX_PER_MM = 4
CELL = 50 * PX_PER_MM
LABEL_W = 270


def _seal(kind: str, name: str, options: dict[str, str], serial: str | None) -> Image.Image:
    options = dict(options)
    if kind == "invoice":  # a well-formed USCC for the gallery
        options["taxpayer"] = "91350100M000100Y43"
    seal = render_seal(kind, name, serial=serial, **options)  # type: ignore[arg-type]
    image = Image.open(io.BytesIO(seal.png))
    size = (round(seal.width_mm * PX_PER_MM), round(seal.height_mm * PX_PER_MM))
    return image.resize(size, Image.Resampling.LANCZOS)


def make_gallery(lengths: Sequence[int] = tuple(NAMES), rows: Sequence[tuple] = ROWS) -> bytes:  # type: ignore[type-arg]
    """The gallery as PNG bytes: one row per kind and serial, one column per name length."""
    face = find_font()
    label_font = ImageFont.truetype(str(face.path), 20, index=face.index)
    small = ImageFont.truetype(str(face.path), 16, index=face.index)
    lines = [(kind, options, title, serial) for kind, options, title in rows for serial in (None, SERIAL)]
    sheet = Image.new("RGB", (LABEL_W + CELL * len(lengths), 40 + CELL * len(lines)), "white")
    draw = ImageDraw.Draw(sheet)
    for column, n in enumerate(lengths):
        draw.text(
            (LABEL_W + column * CELL + CELL // 2, 20), f"{n} 字", fill="black", font=label_font, anchor="mm"
        )
    for row, (kind, options, title, serial) in enumerate(lines):
        top = 40 + row * CELL
        draw.line((0, top, sheet.width, top), fill=(220, 220, 220))
        draw.text((8, top + CELL // 2 - 14), title, fill="black", font=small)
        draw.text(
            (8, top + CELL // 2 + 10), f"serial {serial}" if serial else "no serial", fill="gray", font=small
        )
        for column, n in enumerate(lengths):
            name = PEOPLE.get(n) if kind == "legal-rep" else NAMES[n]
            if name is None:
                continue
            assert len(name) == n, name
            seal = _seal(kind, name, options, serial)
            left = LABEL_W + column * CELL + (CELL - seal.width) // 2
            sheet.paste(seal, (left, top + (CELL - seal.height) // 2), seal)
    out = io.BytesIO()
    sheet.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def main(argv: Sequence[str] = ()) -> int:
    output = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "docs" / "seal-gallery.png"
    output.write_bytes(make_gallery())
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
