"""The OFD page model: the entry (OFD.xml), the first document, its pages and their sizes, and the text on
each page with positions good enough to put a seal on a keyword (CJK included).

Coordinates are GB/T 33190's: millimetres from the page's top-left corner, y downwards. A text object has a
``Boundary`` on the page, an optional ``CTM`` and a font ``Size``; each ``TextCode`` starts at ``X``,``Y``
(the baseline, inside the boundary) and advances by ``DeltaX``/``DeltaY`` (``g N V`` repeats ``V`` N times).
A glyph without an advance is taken as one em wide (half an em for ASCII). Keyword search runs over the
characters of the page in reading order, ignoring white space and with full-width forms folded (NFKC), so a
keyword split across text objects is found as well.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from sealkit.errors import OfdError
from sealkit.ofd.package import OfdPackage, resolve
from sealkit.ofd.xmlparse import child, children, local, parse_xml, required, text

Box = tuple[float, float, float, float]  # x, y, w, h in mm from the top-left
DEFAULT_PAGE: Box = (0.0, 0.0, 210.0, 297.0)
MAX_PAGES = 10_000


@dataclass(frozen=True)
class OfdPage:
    """One page: number from 1, its object ID (what ``PageRef`` names), its content part, its box."""

    number: int
    id: str
    path: str
    box: Box

    @property
    def size(self) -> tuple[float, float]:
        return self.box[2], self.box[3]


@dataclass(frozen=True)
class Glyph:
    """One character of a page and its box (mm, top-left origin)."""

    char: str
    box: Box


@dataclass(frozen=True)
class TextHit:
    """Where a keyword is: page number (from 1) and the box around it (mm, top-left origin)."""

    page: int
    box: Box


@dataclass
class OfdDocument:
    """The parts of an OFD package that signing and verification need (the first document only)."""

    package: OfdPackage
    entry: etree._Element  # OFD.xml
    doc_body: etree._Element
    document_path: str  # /Doc_0/Document.xml
    signatures_path: str | None  # /Doc_0/Signs/Signatures.xml, if the document is signed
    pages: list[OfdPage]

    def page(self, number: int) -> OfdPage:
        """Page ``number`` (from 1; negative counts from the end)."""
        count = len(self.pages)
        index = number - 1 if number > 0 else count + number
        if number == 0 or not 0 <= index < count:
            raise OfdError(f"page {number} does not exist: the document has {count} pages")
        return self.pages[index]

    def page_by_id(self, page_id: str) -> OfdPage | None:
        return next((p for p in self.pages if p.id == page_id), None)


def numbers(value: str | None, what: str, count: int | None = None) -> list[float]:
    """The numbers of an ST_Array/ST_Box attribute."""
    try:
        result = [float(v) for v in (value or "").split()]
    except ValueError:
        raise OfdError(f"{what} is not a list of numbers: {value!r}") from None
    if count is not None and len(result) != count:
        raise OfdError(f"{what} needs {count} numbers, not {value!r}")
    return result


def _box(value: str | None, what: str) -> Box:
    x, y, w, h = numbers(value, what, 4)
    return x, y, w, h


def load_document(package: OfdPackage) -> OfdDocument:
    """Parse OFD.xml and the first document's Document.xml and page list."""
    entry = parse_xml(package.read("OFD.xml"), "OFD.xml")
    if local(entry) != "OFD":
        raise OfdError("OFD.xml is not an OFD entry (its root is not <ofd:OFD>)")
    body = required(entry, "DocBody", "OFD.xml")
    doc_root = text(body, "DocRoot")
    if not doc_root:
        raise OfdError("OFD.xml names no DocRoot")
    document_path = resolve("/OFD.xml", doc_root)
    signatures = text(body, "Signatures")
    signatures_path = resolve("/OFD.xml", signatures) if signatures else None
    document = parse_xml(package.read(document_path), document_path)
    common = child(document, "CommonData")
    default_box = DEFAULT_PAGE
    if common is not None:
        area = child(common, "PageArea")
        physical = text(area, "PhysicalBox") if area is not None else None
        if physical:
            default_box = _box(physical, f"{document_path} PhysicalBox")
    pages_element = required(document, "Pages", document_path)
    pages = []
    for number, element in enumerate(children(pages_element, "Page"), start=1):
        if number > MAX_PAGES:
            raise OfdError(f"refusing the document: more than {MAX_PAGES} pages")
        page_id, base = element.get("ID"), element.get("BaseLoc")
        if not page_id or not base:
            raise OfdError(f"{document_path}: page {number} has no ID or BaseLoc")
        path = resolve(document_path, base)
        pages.append(OfdPage(number, page_id, path, default_box))
    if not pages:
        raise OfdError(f"{document_path} lists no pages")
    return OfdDocument(package, entry, body, document_path, signatures_path, pages)


def page_box(document: OfdDocument, page: OfdPage) -> Box:
    """The page's PhysicalBox: its own ``Area`` if it has one, else the document's default."""
    root = parse_xml(document.package.read(page.path), page.path)
    area = child(root, "Area")
    physical = text(area, "PhysicalBox") if area is not None else None
    return _box(physical, f"{page.path} PhysicalBox") if physical else page.box


def _deltas(value: str | None, what: str) -> list[float]:
    """An ST_Array of advances with the ``g N V`` compression expanded."""
    tokens = (value or "").split()
    out: list[float] = []
    i = 0
    try:
        while i < len(tokens):
            if tokens[i] == "g":
                repeat = int(tokens[i + 1])
                if not 0 <= repeat <= 100_000:
                    raise OfdError(f"{what}: a repeat count of {repeat}")
                out.extend([float(tokens[i + 2])] * repeat)
                i += 3
            else:
                out.append(float(tokens[i]))
                i += 1
    except (ValueError, IndexError):
        raise OfdError(f"{what} is not a valid advance list: {value!r}") from None
    return out


def _apply(ctm: list[float] | None, x: float, y: float) -> tuple[float, float]:
    if not ctm:
        return x, y
    a, b, c, d, e, f = ctm
    return a * x + c * y + e, b * x + d * y + f


def _text_objects(element: etree._Element, depth: int = 0) -> Iterator[etree._Element]:
    for node in element.iterchildren():
        name = local(node)
        if name == "TextObject":
            yield node
        elif name in ("Content", "Layer", "PageBlock") and depth < 32:
            yield from _text_objects(node, depth + 1)


def page_glyphs(document: OfdDocument, page: OfdPage) -> list[Glyph]:
    """Every character drawn on ``page`` as text, with its box, in content order."""
    root = parse_xml(document.package.read(page.path), page.path)
    content = child(root, "Content")
    glyphs: list[Glyph] = []
    if content is None:
        return glyphs
    for obj in _text_objects(content):
        what = f"{page.path} TextObject {obj.get('ID', '?')}"
        bx, by, _, _ = _box(obj.get("Boundary"), f"{what} Boundary")
        size = numbers(obj.get("Size"), f"{what} Size", 1)[0]
        ctm = numbers(obj.get("CTM"), f"{what} CTM", 6) if obj.get("CTM") else None
        x = y = 0.0
        for code in children(obj, "TextCode"):
            content_text = code.text or ""
            x = float(code.get("X", x))
            y = float(code.get("Y", y))
            dx = _deltas(code.get("DeltaX"), f"{what} DeltaX")
            dy = _deltas(code.get("DeltaY"), f"{what} DeltaY")
            for i, char in enumerate(content_text):
                advance = dx[i] if i < len(dx) else (size * 0.5 if char.isascii() else size)
                corners = [
                    _apply(ctm, x, y - size * 0.85),
                    _apply(ctm, x + advance, y + size * 0.15),
                ]
                left, right = sorted(c[0] for c in corners)
                top, bottom = sorted(c[1] for c in corners)
                glyphs.append(Glyph(char, (bx + left, by + top, right - left, bottom - top)))
                x += advance
                y += dy[i] if i < len(dy) else 0.0
    return glyphs


def _fold(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def find_text(document: OfdDocument, keyword: str) -> list[TextHit]:
    """Every place ``keyword`` is drawn, page by page (white space ignored, full-width forms folded)."""
    wanted = "".join(_fold(c) for c in keyword if not c.isspace())
    if not wanted:
        raise OfdError("the keyword is empty")
    hits = []
    for page in document.pages:
        glyphs = [g for g in page_glyphs(document, page) if not g.char.isspace()]
        line = "".join(_fold(g.char) for g in glyphs)
        start = line.find(wanted)
        while start >= 0:
            boxes = [g.box for g in glyphs[start : start + len(wanted)]]
            left = min(b[0] for b in boxes)
            top = min(b[1] for b in boxes)
            right = max(b[0] + b[2] for b in boxes)
            bottom = max(b[1] + b[3] for b in boxes)
            hits.append(TextHit(page.number, (left, top, right - left, bottom - top)))
            start = line.find(wanted, start + len(wanted))
    return hits
