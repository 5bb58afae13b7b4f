"""A sample OFD 政府采购合同 for tests, benchmarks and the demo (development use: not a general OFD writer).

The package has what real OFD contracts have: OFD.xml with DocInfo, Document.xml with the page list and
CommonData (A4 PhysicalBox, MaxUnitID), PublicRes.xml (a 宋体 font), DocumentRes.xml with a PNG (the
purchaser's logo, drawn on page 1 by an ImageObject), and one Content.xml per page with CJK TextObjects whose
TextCodes carry DeltaX advances. The last page holds the signature blocks "采购人（甲方）（盖章）：" and
"供应商（乙方）（盖章）：" where seals are placed by keyword. The text is the PDF sample's
(:mod:`sealkit.pdf.sample_contract`), so both formats tell the same contract.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

from sealkit.atomic import atomic_output
from sealkit.errors import InvalidInput
from sealkit.ofd.package import write_package
from sealkit.ofd.xmlparse import make, serialise, sub
from sealkit.pdf.sample_contract import (
    _TERMS,
    DEFAULT_GOODS,
    PURCHASER,
    PURCHASER_BLOCK,
    SUPPLIER,
    SUPPLIER_BLOCK,
    rmb_upper,
)

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 20.0
LINE_WIDTH = PAGE_W - 2 * MARGIN


class _Page:
    """The text objects of one page, with IDs from the document's counter."""

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.root = make("Page")
        self.layer = sub(sub(self.root, "Content"), "Layer", {"ID": self._id(), "Type": "Body"})

    def _id(self) -> str:
        self.counter[0] += 1
        return str(self.counter[0])

    def text(self, x: float, y: float, value: str, size: float = 4.2) -> None:
        """``value`` on one line, its top-left at ``x``,``y`` mm."""
        advances = [size * 0.5 if c.isascii() else size for c in value]
        width = sum(advances) or size
        obj = sub(
            self.layer,
            "TextObject",
            {
                "ID": self._id(),
                "Boundary": f"{x:g} {y:g} {width:.3f} {size * 1.2:.3f}",
                "Font": "2",
                "Size": f"{size:g}",
            },
        )
        code = sub(obj, "TextCode", {"X": "0", "Y": f"{size:g}"}, value)
        if len(value) > 1:
            code.set("DeltaX", " ".join(f"{a:g}" for a in advances[:-1]))

    def image(self, x: float, y: float, w: float, h: float, resource: str) -> None:
        sub(
            self.layer,
            "ImageObject",
            {
                "ID": self._id(),
                "Boundary": f"{x:g} {y:g} {w:g} {h:g}",
                "CTM": f"{w:g} 0 0 {h:g} 0 0",
                "ResourceID": resource,
            },
        )


def _wrap(value: str, size: float) -> list[str]:
    lines, current, width = [], "", 0.0
    for char in value:
        advance = size * 0.5 if char.isascii() else size
        if width + advance > LINE_WIDTH:
            lines.append(current)
            current, width = "", 0.0
        current += char
        width += advance
    return [*lines, current] if current else lines


def _logo_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 112, 112), outline=(30, 60, 140), width=8)
    draw.rectangle((45, 45, 75, 75), fill=(30, 60, 140))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def sample_contract_ofd(
    *,
    pages: int = 3,
    purchaser: str = PURCHASER,
    supplier: str = SUPPLIER,
    contract_no: str = "ZFCG-2026-00042",
    date: dt.date | None = None,
) -> bytes:
    """The bytes of a ``pages``-page OFD contract between ``purchaser`` (甲方) and ``supplier`` (乙方)."""
    if pages < 1:
        raise InvalidInput("a contract has at least one page")
    date = date or dt.date(2026, 12, 1)
    counter = [2]  # 1: the logo, 2: the font
    sheets = [_Page(counter) for _ in range(pages)]
    first = sheets[0]
    first.image(MARGIN, 15, 12, 12, "1")
    first.text(80, 18, "政府采购合同", 7.0)
    y = 36.0
    for line in (
        f"合同编号：{contract_no}",
        f"采购人（甲方）：{purchaser}",
        f"供应商（乙方）：{supplier}",
        "甲乙双方根据政府采购结果，经协商一致，订立本合同。",
    ):
        first.text(MARGIN, y, line)
        y += 8
    total = sum((g.amount for g in DEFAULT_GOODS), DEFAULT_GOODS[0].amount * 0)
    for good in DEFAULT_GOODS:
        first.text(MARGIN, y, f"{good.name}  {good.spec}  {good.quantity} × {good.unit_price} 元")
        y += 7
    first.text(MARGIN, y + 2, f"合同总价：人民币 {total} 元（大写：{rmb_upper(total)}）")
    terms = [f"第{i}条 {title}：{body}" for i, (title, body) in enumerate(_TERMS, start=1)]
    body_pages = sheets[1:] if pages > 1 else sheets
    per_page = -(-len(terms) // len(body_pages))
    for index, sheet in enumerate(body_pages):
        y = 30.0 if sheet is not first else y + 14
        for term in terms[index * per_page : (index + 1) * per_page]:
            for line in _wrap(term, 4.2):
                if y < 200:
                    sheet.text(MARGIN, y, line)
                y += 6.5
            y += 2
    last = sheets[-1]
    last.text(MARGIN, 222, PURCHASER_BLOCK)
    last.text(MARGIN, 232, purchaser, 3.5)
    last.text(110, 222, SUPPLIER_BLOCK)
    last.text(110, 232, supplier, 3.5)
    last.text(MARGIN, 250, f"签订日期：{date:%Y年%m月%d日}", 3.5)
    for number, sheet in enumerate(sheets, start=1):
        sheet.text(80, 282, f"合同编号：{contract_no}  第 {number} 页 共 {pages} 页", 3.0)
    return write_package(_parts(sheets, counter[0], contract_no, date))


def _parts(sheets: list[_Page], max_id: int, contract_no: str, date: dt.date) -> list[tuple[str, bytes]]:
    entry = make("OFD", {"Version": "1.0", "DocType": "OFD"})
    body = sub(entry, "DocBody")
    info = sub(body, "DocInfo")
    sub(info, "DocID", text_value=contract_no.replace("-", "").lower().ljust(32, "0")[:32])
    sub(info, "Title", text_value=f"政府采购合同 {contract_no}")
    sub(info, "CreationDate", text_value=f"{date:%Y-%m-%d}")
    sub(info, "Creator", text_value="sealkit sample contract")
    sub(body, "DocRoot", text_value="Doc_0/Document.xml")
    document = make("Document")
    common = sub(document, "CommonData")
    sub(common, "MaxUnitID", text_value=str(max_id))
    sub(sub(common, "PageArea"), "PhysicalBox", text_value=f"0 0 {PAGE_W:g} {PAGE_H:g}")
    sub(common, "PublicRes", text_value="PublicRes.xml")
    sub(common, "DocumentRes", text_value="DocumentRes.xml")
    pages = sub(document, "Pages")
    parts: list[tuple[str, bytes]] = [("OFD.xml", serialise(entry)), ("Doc_0/Document.xml", b"")]
    public = make("Res", {"BaseLoc": "Res"})
    sub(sub(public, "Fonts"), "Font", {"ID": "2", "FontName": "宋体", "FamilyName": "宋体"})
    resources = make("Res", {"BaseLoc": "Res"})
    media = sub(sub(resources, "MultiMedias"), "MultiMedia", {"ID": "1", "Type": "Image", "Format": "PNG"})
    sub(media, "MediaFile", text_value="logo.png")
    parts += [("Doc_0/PublicRes.xml", serialise(public)), ("Doc_0/DocumentRes.xml", serialise(resources))]
    parts.append(("Doc_0/Res/logo.png", _logo_png()))
    for index, sheet in enumerate(sheets):
        page_id = str(max_id + 1 + index)
        sub(pages, "Page", {"ID": page_id, "BaseLoc": f"Pages/Page_{index}/Content.xml"})
        parts.append((f"Doc_0/Pages/Page_{index}/Content.xml", serialise(sheet.root)))
    common[0].text = str(max_id + len(sheets))
    parts[1] = ("Doc_0/Document.xml", serialise(document))
    return parts


def write_sample_contract_ofd(path: str | os.PathLike[str], **options: object) -> Path:
    """Write :func:`sample_contract_ofd` to ``path`` (all or nothing)."""
    data = sample_contract_ofd(**options)  # type: ignore[arg-type]
    target = Path(path)
    with atomic_output(target) as handle:
        handle.write(data)
    return target
