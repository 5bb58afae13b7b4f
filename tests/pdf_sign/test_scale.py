"""Large documents (issue 13): keyword search that reads only what it needs, many seals in one update, and
cross-page seals in groups of N pages.

- ``first``/``last``/a page given with the keyword find exactly what a full scan finds there, on a long
  generated contract, and the full scan agrees with an independent extractor (pypdf);
- a keyword broken over text runs, or spaced out, is still found where it is drawn;
- ``occurrence="all"`` puts one seal per hit and every stamp shows the same appearance object;
- a cross-page seal in groups of N: every group's strips have the seal's height, sit against the right edge,
  are 1/N of the seal wide, and their images put side by side are the whole imprint again.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pyhanko.pdf_utils.reader import PdfFileReader

from sealkit.errors import InvalidInput, TextNotFound
from sealkit.pdf import SUPPLIER_BLOCK, Placement, SealAppearance, sign_pdf, verify_pdf, write_sample_contract
from sealkit.pdf.appearance import _open_png
from sealkit.pdf.placement import cross_page_groups, find_text

FOOTER = "合同编号"  # in every page's footer of the sample contract, and in the title block of page 1
PAGES = 120


@pytest.fixture(scope="module")
def long_contract(tmp_path_factory, font_file) -> Path:
    import os

    os.environ["SEALKIT_CJK_FONT"] = str(font_file)
    return write_sample_contract(tmp_path_factory.mktemp("long") / "long.pdf", pages=PAGES)


def test_full_scan_agrees_with_pypdf(long_contract):
    from pypdf import PdfReader

    hits = find_text(long_contract, FOOTER)
    per_page = [sum(1 for h in hits if h.page_index == i) for i in range(PAGES)]
    reader = PdfReader(long_contract)
    expected = ["".join(page.extract_text().split()).count(FOOTER) for page in reader.pages]
    assert per_page == expected
    assert per_page[0] == 2 and set(per_page[1:]) == {1}
    assert [h.page_index for h in find_text(long_contract, SUPPLIER_BLOCK)] == [PAGES - 1]


@pytest.mark.parametrize("keyword", [FOOTER, SUPPLIER_BLOCK, "第 7 页"])
def test_first_last_and_page_find_what_the_full_scan_finds(long_contract, keyword):
    everything = find_text(long_contract, keyword)
    assert everything
    assert find_text(long_contract, keyword, occurrence="first") == everything[:1]
    assert find_text(long_contract, keyword, occurrence="last") == everything[-1:]
    for page in (1, 2, 7, 61, PAGES - 1, PAGES, -1, -PAGES):
        index = page - 1 if page > 0 else PAGES + page
        on_page = [h for h in everything if h.page_index == index]
        assert find_text(long_contract, keyword, page=page) == on_page
        assert find_text(long_contract, keyword, page=page, occurrence="first") == on_page[:1]
        assert find_text(long_contract, keyword, page=page, occurrence="last") == on_page[-1:]


def test_a_page_outside_the_document_is_a_clear_error(long_contract):
    with pytest.raises(InvalidInput, match=f"the document has {PAGES} pages"):
        find_text(long_contract, FOOTER, page=PAGES + 1)


def test_search_from_bytes_a_stream_and_a_path_agree(long_contract):
    by_path = find_text(long_contract, SUPPLIER_BLOCK, occurrence="last")
    assert find_text(long_contract.read_bytes(), SUPPLIER_BLOCK, occurrence="last") == by_path
    with long_contract.open("rb") as stream:
        assert find_text(stream, SUPPLIER_BLOCK, occurrence="last") == by_path


def _raw_pdf(content: bytes, media: bytes = b"[0 0 595 842]") -> bytes:
    """A one-page PDF with ``content`` and Helvetica as /F1, written by hand."""
    return _write_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox " + media + b" /Resources << /Font << /F1 5 0 R >> >>"
            b" /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ]
    )


def _write_objects(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the catalog first) with a classic xref table."""
    out, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_a_keyword_broken_over_runs_is_found_where_it_is_drawn():
    # "Sign here" as three text objects, the last a TJ with kerning; moved by a cm and a non-zero MediaBox
    content = (
        b"1 0 0 1 100 100 cm BT /F1 12 Tf 200 500 Td (Si) Tj ET BT /F1 12 Tf 209.34 500 Td (gn h) Tj ET"
        b" BT /F1 12 Tf 234 500 Td [(e) 120 (re)] TJ ET"
    )
    (hit,) = find_text(_raw_pdf(content, b"[100 100 695 942]"), "Sign here")
    x1, y1, x2, y2 = hit.box
    assert abs(x1 - 300) < 1 and 345 < x2 < 355  # from the first glyph to the end of "re"
    assert y1 < 600 < y2 and y2 - y1 < 20  # on the baseline at y = 600, one line high
    # spaced out, or without the space: whitespace is ignored on both sides
    assert find_text(_raw_pdf(b"BT /F1 12 Tf 200 500 Td (S i g n   h e r e) Tj ET"), "Signhere")
    assert not find_text(_raw_pdf(content), "Sign there")


def test_cjk_keyword_on_the_last_page_is_where_fpdf2_drew_it(long_contract):
    (hit,) = find_text(long_contract, SUPPLIER_BLOCK, occurrence="last")
    x1, y1, x2, y2 = hit.box
    # fpdf2 wrote the block in a cell at x = 108 mm (1 mm inner margin), 11 pt type, 12 CJK characters wide
    assert abs(x1 - (20 + 88 + 1) * 72 / 25.4) < 1 and abs((x2 - x1) - 12 * 11) < 1
    assert 8 < y2 - y1 < 16


def test_a_keyword_limited_to_a_page_without_it_is_not_found(long_contract, rsa_key, rsa_signer, tmp_path):
    seal = _seal()
    with pytest.raises(TextNotFound, match="not on page 3"):
        sign_pdf(
            long_contract,
            tmp_path / "o.pdf",
            rsa_key,
            cert=rsa_signer.cert_path,
            appearance=seal,
            placement=Placement.at_text(SUPPLIER_BLOCK, page=3),
        )
    assert not (tmp_path / "o.pdf").exists()


def _seal() -> SealAppearance:
    """A seal whose every column differs (a gradient with a ring), so misplaced strips would show."""
    image = Image.new("RGBA", (200, 200))
    image.putdata(
        [
            (255 - x, (x * 7) % 256, y, 255 if (x - 100) ** 2 + (y - 100) ** 2 < 95**2 else 0)
            for y in range(200)
            for x in range(200)
        ]
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SealAppearance(buffer.getvalue(), 40, 40)


def test_occurrence_all_puts_one_seal_per_hit_sharing_one_appearance(
    long_contract, rsa_key, rsa_signer, rsa_pki, tmp_path
):
    out = tmp_path / "all.pdf"
    result = sign_pdf(
        long_contract,
        out,
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=_seal(),
        placement=Placement.at_text(FOOTER, occurrence="all"),
    )
    assert [s.kind for s in result.stamps] == ["field"] + ["seal"] * PAGES
    assert sorted(s.page for s in result.stamps) == [1, 1, *range(2, PAGES + 1)]
    with out.open("rb") as handle:
        reader = PdfFileReader(handle)
        forms = set()
        for index in range(PAGES):
            page = reader.root["/Pages"]["/Kids"][index].get_object()
            for annot in page.get("/Annots", []):
                annot = annot.get_object()
                if annot["/Subtype"] == "/Stamp":
                    forms.add(annot["/AP"].raw_get("/N").reference)
        assert len(forms) == 1  # one image in the file, not one per page
    assert verify_pdf(out, trust=[rsa_pki.root.cert_path]).indication == "TOTAL-PASSED"


def test_groups_of_n_pages_and_a_lone_last_page_joins_the_group_before():
    pages = list(range(1, 46))
    assert [len(g) for g in cross_page_groups(pages, 20)] == [20, 20, 5]
    assert [len(g) for g in cross_page_groups(list(range(1, 42)), 20)] == [20, 21]
    assert cross_page_groups(pages, None) == [pages]
    assert cross_page_groups([3, 4], 20) == [[3, 4]]
    assert sum(cross_page_groups(pages, 7), []) == pages
    with pytest.raises(InvalidInput, match="at least two pages"):
        Placement(cross_page=True, cross_page_group=1)
    with pytest.raises(InvalidInput, match="give cross_page too"):
        Placement(cross_page_group=5)


def _strip_image(annot) -> Image.Image:  # type: ignore[no-untyped-def]
    """The image a strip's appearance shows, with its soft mask as alpha."""
    xobject = annot["/AP"]["/N"]["/Resources"]["/XObject"]["/Seal"]
    size = (int(xobject["/Width"]), int(xobject["/Height"]))
    rgb = Image.frombytes("RGB", size, xobject.data)
    rgb.putalpha(Image.frombytes("L", size, xobject["/SMask"].data))
    return rgb


def test_grouped_cross_page_strips_reassemble_into_whole_imprints(
    long_contract, rsa_key, rsa_signer, rsa_pki, tmp_path
):
    seal = _seal()
    out = tmp_path / "grouped.pdf"
    result = sign_pdf(
        long_contract,
        out,
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=seal,
        placement=Placement.at_text(SUPPLIER_BLOCK, cross_page=True, cross_page_group=50),
    )
    strips = [s for s in result.stamps if s.kind == "strip"]
    assert [s.page for s in strips] == list(range(1, PAGES + 1))
    groups = [strips[:50], strips[50:100], strips[100:]]  # 50, 50 and 20 pages
    whole = _open_png(seal.image_png)
    with out.open("rb") as handle:
        reader = PdfFileReader(handle)
        kids = reader.root["/Pages"]["/Kids"]
        for group in groups:
            # geometry: each strip 1/len(group) of the seal wide, full height, at the right edge, same height
            widths = [s.rect_mm[2] for s in group]
            assert all(abs(w - 40 / len(group)) < 0.02 for w in widths)
            assert abs(sum(widths) - 40) < 0.1
            assert all(abs(s.rect_mm[0] + s.rect_mm[2] - 210) < 0.02 for s in group)
            assert {s.rect_mm[1] for s in group} == {group[0].rect_mm[1]} and group[0].rect_mm[3] == 40
            # images: the strips side by side, left to right by page, are the whole imprint
            images = []
            for stamp in group:
                page = kids[stamp.page - 1].get_object()
                (annot,) = [a.get_object() for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Stamp"]
                images.append(_strip_image(annot))
            assert sum(i.width for i in images) == whole.width
            joined = Image.new("RGBA", whole.size)
            left = 0
            for image in images:
                joined.paste(image, (left, 0))
                left += image.width
            assert ImageChops.difference(joined, whole).getbbox() is None
    assert verify_pdf(out, trust=[rsa_pki.root.cert_path]).indication == "TOTAL-PASSED"


def test_cli_cross_page_group_and_keyword_on_a_page(long_contract, rsa_signer, seal_png, tmp_path):
    from .test_cli import run

    (tmp_path / "seal.png").write_bytes(seal_png)
    common = ["--key", rsa_signer.keyref, "--cert", str(rsa_signer.cert_path), "--seal-image", "seal.png"]
    done = run("sign", str(long_contract), "-o", "g.pdf", *common, "--cross-page-group", "20", cwd=tmp_path)
    assert done.returncode != 0 and "give --cross-page too" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "g.pdf").exists()
    done = run(
        "sign",
        str(long_contract),
        "-o",
        "g.pdf",
        *common,
        "--at-text",
        FOOTER,
        "--page",
        "7",
        "--cross-page",
        "--cross-page-group",
        "40",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    import json

    stamps = json.loads(done.stdout)["stamps"]
    assert stamps[0]["page"] == 7 and stamps[0]["kind"] == "field"
    strips = [s for s in stamps[1:] if s["kind"] == "strip"]
    assert len(strips) == PAGES and {round(s["rect_mm"][2], 2) for s in strips} == {1.0}


def _three_pages(inner_count: int) -> bytes:
    """Three pages, two of them under an intermediate /Pages node that says it holds ``inner_count``."""
    page = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>"
    return _write_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 3 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [4 0 R 5 0 R] /Count %d >>" % inner_count,
            page % 3,
            page % 3,
            page % 2,
        ]
    )


@pytest.mark.parametrize("inner_count", [2, 1])
def test_a_page_tree_whose_counts_lie_is_refused_not_sealed_on_the_wrong_pages(
    inner_count, rsa_key, rsa_signer, rsa_pki, tmp_path
):
    from sealkit.errors import PdfError

    source = tmp_path / "in.pdf"
    source.write_bytes(_three_pages(inner_count))
    sign = lambda: sign_pdf(  # noqa: E731
        source,
        tmp_path / "o.pdf",
        rsa_key,
        cert=rsa_signer.cert_path,
        appearance=_seal(),
        placement=Placement(cross_page=True),
    )
    if inner_count == 2:  # the honest twin: one strip on each of the three pages
        result = sign()
        assert [(s.page, s.kind) for s in result.stamps] == [(1, "strip"), (2, "strip"), (3, "strip")]
        assert verify_pdf(tmp_path / "o.pdf", trust=[rsa_pki.root.cert_path]).indication == "TOTAL-PASSED"
    else:
        with pytest.raises(PdfError, match="/Count is not the number of pages"):
            sign()
        assert not (tmp_path / "o.pdf").exists()
