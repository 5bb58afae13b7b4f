"""Draw an OFD's pages as a person would roughly see them: each glyph's box and text, and every StampAnnot's
seal picture in its Boundary (cut by its Clip). There is no OFD renderer on Debian; this is the check that the
seal sits where it belongs.

    python -m tests.ofd.render signed.ofd out_dir/     # writes out_dir/page-1.png, ...
"""

import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from sealkit.fonts import cjk_font_path
from sealkit.ofd.model import load_document, page_box, page_glyphs
from sealkit.ofd.package import read_package
from sealkit.ofd.signatures import list_signatures, parse_signature_xml
from sealkit.ofd.xmlparse import parse_xml
from sealkit.seal.parse import parse_signature

SCALE = 4  # pixels per millimetre


def render(data: bytes) -> list[Image.Image]:
    """One RGB image per page."""
    package = read_package(data)
    document = load_document(package)
    stamps: dict[str, list] = {}
    if document.signatures_path:
        root = parse_xml(package.read(document.signatures_path), document.signatures_path)
        for record in list_signatures(root, document.signatures_path):
            sig = parse_signature_xml(package.read(record.base_loc), record.base_loc)
            seal = parse_signature(package.read(sig.signed_value_path)).seal
            picture = Image.open(io.BytesIO(seal.picture)).convert("RGBA")
            for stamp in sig.stamps:
                stamps.setdefault(stamp.page_ref, []).append((stamp, picture))
    font = ImageFont.truetype(str(cjk_font_path()), 14)
    pages = []
    for page in document.pages:
        _, _, width, height = page_box(document, page)
        image = Image.new("RGB", (round(width * SCALE), round(height * SCALE)), "white")
        draw = ImageDraw.Draw(image)
        for glyph in page_glyphs(document, page):
            x, y, w, h = (v * SCALE for v in glyph.box)
            draw.rectangle((x, y, x + w, y + h), outline=(200, 200, 220))
            draw.text((x + 1, y + 1), glyph.char, fill="black", font=font)
        for stamp, picture in stamps.get(page.id, []):
            x, y, w, h = stamp.boundary
            scaled = picture.resize((round(w * SCALE), round(h * SCALE)))
            left, top = round(x * SCALE), round(y * SCALE)
            if stamp.clip is not None:
                cx, cy, cw, ch = (round(v * SCALE) for v in stamp.clip)
                scaled = scaled.crop((cx, cy, cx + cw, cy + ch))
                left, top = left + cx, top + cy
            image.paste(scaled, (left, top), scaled)
            draw.rectangle((x * SCALE, y * SCALE, (x + w) * SCALE, (y + h) * SCALE), outline=(255, 0, 0))
        pages.append(image)
    return pages


def main(argv: list[str]) -> None:
    source, target = Path(argv[0]), Path(argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for number, image in enumerate(render(source.read_bytes()), start=1):
        image.save(target / f"page-{number}.png")


if __name__ == "__main__":
    main(sys.argv[1:])
