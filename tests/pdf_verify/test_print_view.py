# ruff: noqa: E501 - long PDF literals read better on one line
"""A signed contract that prints something other than what the screen shows (issue 10, forger3 a05).

The signer signs what the screen shows; whoever prints the filed contract reads the paper. Every attack
below is in the *signed* revision itself (nothing changes after signing) unless it says otherwise, and must
give TOTAL-FAILED / SIG_CONSTRAINTS_FAILURE with ``sig-constraints.print-differs`` and the page and
rectangle. The honest twins pass. Where PDFium implements the feature, the test also renders page 1 for the
screen and for printing (pypdfium2's print mode) to show that the difference is real. (PDFium ignores an
annotation's own /OC and applies no /Alternates or PostScript; poppler applies no usage at all: those
variants are real for readers that follow ISO 32000 — the standard's /D /AS and 8.9.5.4 — such as Acrobat.)
"""

from __future__ import annotations

import pytest

from sealkit.pdf import verify_pdf
from tests.pdf_verify import forgeries as f
from tests.pdf_verify.contracts import contract_pdf, sign

REASON = "sig-constraints.print-differs"
VIEWERS_DIFFER = "sig-constraints.viewers-differ"
TEXT = (
    b"BT /Helv 12 Tf 72 740 Td (Procurement contract No. 2024-17, page 1) Tj ET\n"
    b"BT /Helv 14 Tf 72 680 Td (Contract amount: CNY 1,200,000.00) Tj ET"
)
PAINT = b"1 1 1 rg 0 0 260 22 re f 0 g BT /Helv 14 Tf 2 6 Td (Contract amount: CNY 9,900,000.00) Tj ET"
OVER_AMOUNT = b"[72 674 332 696]"
IN_MARGIN = b"[400 780 560 800]"
CATALOG = b"<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R%s >>"
PRINT_ONLY_GROUP = (
    b"<< /Type /OCG /Name (Print) /Usage << /View << /ViewState /OFF >> /Print << /PrintState /ON >> >> >>"
)
SAME_GROUP = (
    b"<< /Type /OCG /Name (Both) /Usage << /View << /ViewState /ON >> /Print << /PrintState /ON >> >> >>"
)
APPLIED = b"/AS [<< /Event /View /OCGs [62 0 R] /Category [/View] >> << /Event /Print /OCGs [62 0 R] /Category [/Print] >>]"


def _page(annots: bytes = b"", resources: bytes = b"") -> bytes:
    return (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 11 0 R"
        b" /Resources << /Font << /Helv 4 0 R >>%s >> /Annots [5 0 R%s] >>" % (resources, annots)
    )


def _annotation(
    flags: int, rect: bytes = OVER_AMOUNT, extra: bytes = b"", subtype: bytes = b"/FreeText"
) -> dict[int, bytes]:
    """Annotation 60 on page 1 painting a white box and another amount (appearance 61)."""
    return {
        10: _page(b" 60 0 R"),
        60: b"<< /Type /Annot /Subtype %s /Rect %s /F %d /DA (/Helv 14 Tf 0 g) /Contents () /P 10 0 R"
        b" /AP << /N 61 0 R >>%s >>" % (subtype, rect, flags, extra),
        61: b"<< /Type /XObject /Subtype /Form /BBox [0 0 260 22] /Resources << /Font << /Helv 4 0 R >> >>"
        b" /Length %d >>\nstream\n%s\nendstream" % (len(PAINT), PAINT),
    }


def _optional(group: bytes, config: bytes, objects: dict[int, bytes]) -> dict[int, bytes]:
    return {
        **objects,
        1: CATALOG % b" /OCProperties 64 0 R",
        62: group,
        64: b"<< /OCGs [62 0 R] /D << %s >> >>" % config,
    }


def _oc_content(oc: bytes) -> dict[int, bytes]:
    """Page 1's own content paints the other amount inside marked content /OC /oc1 (``oc``: object 62 or 63)."""
    body = (
        TEXT
        + b"\n/OC /oc1 BDC "
        + PAINT.replace(b"0 0 260 22 re", b"72 674 260 22 re").replace(b"2 6 Td", b"74 680 Td")
        + b" EMC"
    )
    return {10: _page(resources=b" /Properties << /oc1 %s >>" % oc), 11: f.content_stream(body)}


def _image(number: int, value: bytes, extra: bytes = b"") -> bytes:
    return (
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8%s"
        b" /Length 1 >>\nstream\n%s\nendstream" % (extra, value)
    )


def _xobject_page(xobject: bytes, objects: dict[int, bytes]) -> dict[int, bytes]:
    body = TEXT + b"\nq 260 22 0 0 72 674 cm /X1 Do Q"
    return {**objects, 10: _page(resources=b" /XObject << /X1 %s >>" % xobject), 11: f.content_stream(body)}


ATTACKS = {
    # a05: printed, never shown
    "print-noview": _annotation(4 | 32),
    # shown only on mouse-over, always printed
    "print-noview-togglenoview": _annotation(4 | 32 | 256),
    # a white box and another amount over the amount, shown on screen only: the paper shows the amount under it
    "screen-only-overlay": _annotation(0),
    # /F as a real number: poppler reads no flags, PDFium 36
    "flags-real-number": {**_annotation(0), 60: _annotation(0)[60].replace(b"/F 0", b"/F 36.0")},
    # a text field without appearance whose /MK background viewers paint on screen only, over the amount
    "widget-background-screen-only": {
        10: _page(b" 60 0 R"),
        60: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (cover) /V (9,900,000.00) /DA (/Helv 14 Tf 0 g) /MK << /BG [1] >> /Rect [72 674 332 696] /F 0 /P 10 0 R >>",
        3: b"<< /Fields [5 0 R 6 0 R 7 0 R 60 0 R] /DR << /Font << /Helv 4 0 R >> >> /DA (/Helv 10 Tf 0 g) >>",
    },
    # optional content: View and Print usage applied by /D /AS (the standard, PDFium)
    "oc-annotation-usage-applied": _optional(
        PRINT_ONLY_GROUP, b"/OFF [62 0 R] " + APPLIED, _annotation(4, extra=b" /OC 62 0 R")
    ),
    # the same usage without /AS, on page content: PDFium alone applies it (the standard and poppler show it on both)
    "oc-content-usage-pdfium": _optional(PRINT_ONLY_GROUP, b"/ON [62 0 R]", _oc_content(b"62 0 R")),
    # page content in a print-only group
    "oc-page-content": _optional(PRINT_ONLY_GROUP, b"/OFF [62 0 R] " + APPLIED, _oc_content(b"62 0 R")),
    # a membership expression over the group: shown on screen, not printed, over the amount
    "ocmd-visibility-expression": _optional(
        PRINT_ONLY_GROUP,
        b"/OFF [62 0 R] " + APPLIED,
        {**_oc_content(b"63 0 R"), 63: b"<< /Type /OCMD /VE [/Not 62 0 R] >>"},
    ),
    # an image whose alternate is printed instead
    "image-default-for-printing": _xobject_page(
        b"65 0 R",
        {
            65: _image(65, b"\xff", b" /Alternates [<< /Image 66 0 R /DefaultForPrinting true >>]"),
            66: _image(66, b"\x00"),
        },
    ),
    # PostScript sent to PostScript printers only
    "postscript-xobject": _xobject_page(
        b"65 0 R", {65: b"<< /Type /XObject /Subtype /PS /Length 11 >>\nstream\n(9900000) =\nendstream"}
    ),
    # JavaScript that runs before printing
    "will-print-action": {
        1: CATALOG
        % b" /AA << /WP << /S /JavaScript /JS (this.getField\\('amount'\\).value = '9900000.00';) >> >>"
    },
}

HONEST = {
    # shown and printed alike (the usual print flag on stamps and signature widgets: 4, 4|128, 4|64|128|512)
    "print": _annotation(4),
    "print-locked": _annotation(4 | 64 | 128 | 512),
    # never shown, never printed
    "hidden": _annotation(2 | 4),
    "noview-without-print": _annotation(32),
    # a hidden widget without appearance
    "hidden-widget-no-appearance": {
        10: _page(b" 60 0 R"),
        60: b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (hidden) /Rect [72 674 332 696] /F 2 /P 10 0 R >>",
        3: b"<< /Fields [5 0 R 6 0 R 7 0 R 60 0 R] /DR << /Font << /Helv 4 0 R >> >> /DA (/Helv 10 Tf 0 g) >>",
    },
    # an empty signature field without appearance, not printed, over text: viewers draw nothing
    "empty-signature-widget-no-print": {
        10: _page(b" 60 0 R"),
        60: b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (old) /Rect [72 674 332 696] /F 0 /P 10 0 R >>",
        3: b"<< /Fields [5 0 R 6 0 R 7 0 R 60 0 R] /DR << /Font << /Helv 4 0 R >> >> /DA (/Helv 10 Tf 0 g) >>",
    },
    # a link over text paints nothing
    "link-without-appearance": {
        10: _page(b" 60 0 R"),
        60: b"<< /Type /Annot /Subtype /Link /Rect [72 674 332 696] /Border [0 0 0] /A << /S /URI /URI (https://example.org/) >> >>",
    },
    # optional content whose view and print states agree
    "oc-same-states": _optional(SAME_GROUP, b"/ON [62 0 R] " + APPLIED, _annotation(4, extra=b" /OC 62 0 R")),
    "oc-off-everywhere": _optional(
        b"<< /Type /OCG /Name (Draft) >>", b"/OFF [62 0 R]", _oc_content(b"62 0 R")
    ),
    # an image with an alternate that is not the printing default
    "image-alternate-not-for-printing": _xobject_page(
        b"65 0 R", {65: _image(65, b"\xff", b" /Alternates [<< /Image 66 0 R >>]"), 66: _image(66, b"\x00")}
    ),
}


def _prepared(objects: dict[int, bytes]) -> bytes:
    base = contract_pdf()
    objects = {11: f.content_stream(TEXT), **objects}
    return f.raw_update(base, objects)


@pytest.fixture(scope="module")
def buyer(rsa_pki):
    return rsa_pki.signer("Buyer Ltd")


def _print_view(report) -> list[str]:
    return [c.detail for s in report.signatures for c in s.checks if c.name == "print-view" and not c.ok]


def _pdfium_differs(data: bytes, rect: tuple[int, int, int, int] = (72, 674, 332, 696)) -> bool:
    """Does PDFium draw the rectangle on page 1 differently on screen and for printing?"""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        height = page.get_height()
        box = (rect[0], int(height - rect[3]), rect[2], int(height - rect[1]))
        screen = page.render(scale=1, may_draw_forms=True).to_pil().crop(box).tobytes()
        paper = page.render(scale=1, may_draw_forms=True, optimize_mode="print").to_pil().crop(box).tobytes()
        return screen != paper
    finally:
        document.close()


PDFIUM_SHOWS = {
    "print-noview",
    "print-noview-togglenoview",
    "screen-only-overlay",
    "flags-real-number",
    "oc-content-usage-pdfium",
    "oc-page-content",
    "ocmd-visibility-expression",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_signed_content_that_prints_differently_fails(name, buyer, trust):
    signed = f.sign_as(_prepared(ATTACKS[name]), buyer, "buyer")
    report = verify_pdf(signed, trust=trust)
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == ("TOTAL-FAILED", "SIG_CONSTRAINTS_FAILURE"), sig.to_dict()
    # an annotation hidden by its /OC is also drawn by PDFium, which ignores an annotation's /OC
    # optional content that one viewer prints differently is also read differently by the viewers
    assert REASON in sig.reasons and set(sig.reasons) <= {REASON, VIEWERS_DIFFER}, sig.reasons
    details = _print_view(report)
    where = "the document" if name == "will-print-action" else "page 1"
    assert details and all(d.startswith(where) for d in details), details
    assert all("in the signed document" in d for d in details), details
    if name in PDFIUM_SHOWS:
        assert _pdfium_differs(signed), (
            "PDFium draws the same on screen and on paper: the variant is not real"
        )


def test_a05_names_the_rectangle_and_flags(buyer, trust):
    signed = f.sign_as(_prepared(ATTACKS["print-noview"]), buyer, "buyer")
    (detail,) = _print_view(verify_pdf(signed, trust=trust))
    assert detail == (
        "page 1 [72 674 332 696], in the signed document: a FreeText annotation (object 60) is printed but"
        " not shown on screen (/F 36: Print, NoView)"
    )


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_twins_pass(name, buyer, rsa_pki, trust):
    signed = f.sign_as(_prepared(HONEST[name]), buyer, "buyer")
    report = verify_pdf(signed, trust=trust)
    assert report.passed, report.to_dict()
    assert not _print_view(report)
    if name not in ("hidden-widget-no-appearance",):
        assert not _pdfium_differs(signed)
    both = sign(signed, rsa_pki.signer("Supplier Co"), "supplier")
    assert verify_pdf(both, trust=trust).passed


def test_screen_only_annotation_over_nothing_is_a_warning(buyer, trust):
    """A non-printing annotation in the margin (a button, a note): the paper leaves it out, nothing is hidden."""
    signed = f.sign_as(_prepared(_annotation(0, rect=IN_MARGIN)), buyer, "buyer")
    report = verify_pdf(signed, trust=trust)
    assert report.passed, report.to_dict()
    (detail,) = _print_view(report)
    assert "shown on screen but not printed (/F 0: no Print flag)" in detail and "[400 780 560 800]" in detail
    levels = {c.level for c in report.signatures[0].checks if c.name == "print-view"}
    assert levels == {"warning"}


def test_screen_only_overlay_names_what_the_paper_shows(buyer, trust):
    signed = f.sign_as(_prepared(ATTACKS["screen-only-overlay"]), buyer, "buyer")
    (detail,) = _print_view(verify_pdf(signed, trust=trust))
    assert "on paper what it covers shows instead: text 'Contract amount: CNY 1,200,000" in detail, detail


def test_later_signer_widget_printed_only_fails_both(buyer, rsa_pki, trust):
    """The supplier's prepared widget is flagged Print|NoView before the buyer signs (empty: nothing drawn);
    the supplier's signature gives it an appearance that prints but never shows. The buyer's signature
    reports it as added after signing, the supplier's as signed."""
    widget = (
        b"<< /FT /Sig /T (supplier) /Type /Annot /Subtype /Widget /Rect [300 100 450 200] /P 14 0 R /F 36 >>"
    )
    signed = f.sign_as(_prepared({7: widget}), buyer, "buyer")
    assert verify_pdf(signed, trust=trust).passed  # the empty widget draws nothing
    both = sign(signed, rsa_pki.signer("Supplier Co"), "supplier")
    report = verify_pdf(both, trust=trust)
    first, second = report.signatures
    assert REASON in first.reasons and REASON in second.reasons
    assert any("page 3 [300 100 450 200], added after signing" in c.detail for c in first.checks)
    assert any("page 3 [300 100 450 200], in the signed document" in c.detail for c in second.checks)


@pytest.mark.parametrize("name", ["print-noview", "screen-only-overlay", "oc-annotation-usage-applied"])
def test_sealkit_sign_refuses_an_input_its_verifier_would_fail(name, rsa_pki, tmp_path):
    """Whatever sealkit signs, sealkit verifies: an input that prints other content than it shows is refused
    in one line, nothing is written, the input is untouched; its honest twin signs."""
    from sealkit_cli.main import run

    ident = rsa_pki.identity("Buyer Ltd")
    source, output = tmp_path / "in.pdf", tmp_path / "out.pdf"
    data = _prepared(ATTACKS[name])
    source.write_bytes(data)
    args = ["sign", str(source), "-o", str(output), "--key", ident.keyref, "--cert", str(ident.cert_path)]
    assert run([*args, "--invisible"]) == 9
    assert not output.exists() and source.read_bytes() == data
    source.write_bytes(_prepared(HONEST[sorted(HONEST)[0]]))
    assert run([*args, "--invisible"]) == 0 and verify_pdf(output, trust=[rsa_pki.root.cert_path]).passed


VIEW_ON_GROUP = (
    b"<< /Type /OCG /Name (Usage) /Usage << /View << /ViewState /ON >> /Print << /PrintState /ON >> >> >>"
)
PATTERN_PAINT = b"/OC /oc1 BDC " + PAINT + b" EMC"
GLYPH = b"1000 0 d0 /OC /oc1 BDC " + PAINT + b" EMC"
OC_RESOURCES = b"/Resources << /Font << /Helv 4 0 R >> /Properties << /oc1 62 0 R >> >>"

#: forger5: optional content that viewers read differently, or that the first walk did not reach
ROUND5 = {
    # a3a: OFF in /D, but the group's usage says ON: poppler hides it, PDFium shows it (screen and paper)
    "oc-usage-against-default": (
        _optional(VIEW_ON_GROUP, b"/OFF [62 0 R]", _oc_content(b"62 0 R")),
        {VIEWERS_DIFFER},
    ),
    # a3b: OFF in /D, ON in an alternate configuration meant for viewing, which PDFium starts from
    "oc-alternate-configuration": (
        {
            **_optional(
                OCG_PLAIN := b"<< /Type /OCG /Name (Plain) >>", b"/OFF [62 0 R]", _oc_content(b"62 0 R")
            ),
            64: b"<< /OCGs [62 0 R] /D << /OFF [62 0 R] >> /Configs [<< /Intent /View /ON [62 0 R] >>] >>",
        },
        {VIEWERS_DIFFER},
    ),
    # a4p: the printed-only group inside a tiling pattern's own content
    "oc-in-pattern": (
        _optional(
            PRINT_ONLY_GROUP,
            b"/OFF [62 0 R] " + APPLIED,
            {
                10: _page(resources=b" /Pattern << /P1 66 0 R >>"),
                11: f.content_stream(TEXT + b"\nq /Pattern cs /P1 scn 72 674 260 22 re f Q"),
                66: b"<< /Type /Pattern /PatternType 1 /PaintType 1 /TilingType 1 /BBox [0 0 260 22]"
                b" /XStep 260 /YStep 22 /Matrix [1 0 0 1 72 674] %s /Length %d >>\nstream\n%s\nendstream"
                % (OC_RESOURCES, len(PATTERN_PAINT), PATTERN_PAINT),
            },
        ),
        {REASON, VIEWERS_DIFFER},
    ),
    # a4t: the printed-only group inside a Type3 glyph
    "oc-in-type3-glyph": (
        _optional(
            PRINT_ONLY_GROUP,
            b"/OFF [62 0 R] " + APPLIED,
            {
                10: _page().replace(b"/Font << /Helv 4 0 R >>", b"/Font << /Helv 4 0 R /T3 67 0 R >>"),
                11: f.content_stream(TEXT + b"\nBT /T3 1000 Tf 72 674 Td (a) Tj ET"),
                67: b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0]"
                b" /CharProcs << /a 68 0 R >> /Encoding << /Type /Encoding /Differences [97 /a] >>"
                b" /FirstChar 97 /LastChar 97 /Widths [1000] %s >>" % OC_RESOURCES,
                68: f.content_stream(GLYPH),
            },
        ),
        {REASON, VIEWERS_DIFFER},
    ),
    # a6h: printed, never shown, in a rectangle no coordinate check accepts (PDFium still draws it)
    "unreadable-rectangle": (_annotation(4 | 32, rect=b"[0 -2000000 612 792]"), {REASON}),
}


@pytest.mark.parametrize("name", sorted(ROUND5))
def test_optional_content_viewers_read_differently_fails(name, buyer, trust):
    objects, reasons = ROUND5[name]
    signed = f.sign_as(_prepared(objects), buyer, "buyer")
    sig = verify_pdf(signed, trust=trust).signatures[0]
    assert (sig.indication, sig.sub_indication) == ("TOTAL-FAILED", "SIG_CONSTRAINTS_FAILURE"), sig.to_dict()
    assert set(sig.reasons) == reasons, sig.reasons


def test_an_alternate_configuration_that_agrees_passes(buyer, trust):
    """The twin of oc-alternate-configuration: a viewing configuration that leaves the group as /D does."""
    objects = {
        **_optional(OCG_PLAIN, b"/OFF [62 0 R]", _oc_content(b"62 0 R")),
        64: b"<< /OCGs [62 0 R] /D << /OFF [62 0 R] >> /Configs [<< /Intent /View /OFF [62 0 R] >>] >>",
    }
    assert verify_pdf(f.sign_as(_prepared(objects), buyer, "buyer"), trust=trust).passed
