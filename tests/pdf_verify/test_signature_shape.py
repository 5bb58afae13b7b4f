"""A signature field added after signing has the shape honest tools write (sealkit.pdf.signature_shape).

forger3 (issue 10, third round) added *document timestamps* — allowed after signing — whose widget poppler
paints over signed text: no /AP but /MK /BG (a white box over a word), or a widget with its own /FT /Btn and
an /MK /CA caption (a new amount), on plain, P=1 certified and the demo's two-party contracts. Each attack
is built here with pyHanko and must fail by its reason; the twins — pyHanko's and sealkit's own timestamps,
PDFBox's empty-appearance shape, a later signer's visible seal — must still pass.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper

from sealkit.dev.responses import KeyedIdentity
from sealkit.pdf import verify_pdf
from tests.pdf_verify import forgeries as f
from tests.pdf_verify.test_review_forgeries import NOW, FixedTimeTSA

#: The amount field's widget on page 1 of the test contract (drawn "100000.00").
AMOUNT = f.AMOUNT_RECT
WHITE = [1, 1, 1]


@pytest.fixture(scope="module")
def buyer(rsa_pki):
    return rsa_pki.signer("Buyer Ltd")


@pytest.fixture(scope="module")
def signed_contract(contract, buyer):
    return f.sign_as(contract, buyer, "buyer")


@pytest.fixture(scope="module")
def stamper(rsa_pki) -> TimeStamper:
    return FixedTimeTSA(KeyedIdentity.load(rsa_pki.pki.issue("Shape TSA", "tsa")), NOW)


def _pdf(value):  # type: ignore[no-untyped-def]
    """A Python value as a pyHanko PDF object (names start with "/", strings are bytes)."""
    if isinstance(value, dict):
        return generic.DictionaryObject({pdf_name(k): _pdf(v) for k, v in value.items()})
    if isinstance(value, list):
        return generic.ArrayObject(_pdf(v) for v in value)
    if isinstance(value, str) and value.startswith("/"):
        return pdf_name(value)
    if isinstance(value, bytes):
        return pdf_string(value.decode())
    if isinstance(value, float):
        return generic.FloatObject(value)
    return generic.NumberObject(value)


def _form(writer, content: bytes, bbox=(0, 0, 0, 0)) -> generic.IndirectObject:
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): _pdf(list(bbox)),
            pdf_name("/Resources"): generic.DictionaryObject(
                {
                    pdf_name("/Font"): generic.DictionaryObject(
                        {pdf_name("/Helv"): generic.IndirectObject(4, 0, writer)}
                    )
                }
            ),
        },
        stream_data=content,
    )
    return writer.add_object(stream)


def _add_field(
    data: bytes,
    name: str,
    widget: dict,
    *,
    kid: bool = False,
    rect=(0, 0, 0, 0),
    appearance: Callable | None = None,
) -> IncrementalPdfFileWriter:
    """A writer with a new /Sig field ``name`` on page 1 whose widget (merged with the field, or a kid)
    has pyHanko's invisible entries plus ``widget``; ``appearance(writer)`` gives its /AP."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    field = generic.DictionaryObject({pdf_name("/FT"): pdf_name("/Sig"), pdf_name("/T"): pdf_string(name)})
    entries = _pdf({"/Type": "/Annot", "/Subtype": "/Widget", "/F": 132, "/Rect": [float(v) for v in rect]})
    entries[pdf_name("/P")] = page_ref
    entries.update(_pdf(widget))
    if appearance is not None:
        entries[pdf_name("/AP")] = appearance(writer)
    if kid:
        field_ref = writer.add_object(field)
        entries[pdf_name("/Parent")] = field_ref
        widget_ref = writer.add_object(entries)
        field[pdf_name("/Kids")] = generic.ArrayObject([widget_ref])
    else:
        field.update(entries)
        field_ref = widget_ref = writer.add_object(field)
    page = page_ref.get_object()
    page["/Annots"].append(widget_ref)
    writer.update_container(page)
    form = writer.root["/AcroForm"]
    form["/Fields"].append(field_ref)
    writer.update_container(form)
    return writer


def _timestamp(writer: IncrementalPdfFileWriter, stamper: TimeStamper, name: str = "archive") -> bytes:
    out = io.BytesIO()
    signers.PdfTimeStamper(stamper, field_name=name).timestamp_pdf(writer, "sha256", output=out)
    return out.getvalue()


def _pushbutton(caption: bytes) -> dict:
    """forger3's a06 widget: its own /FT /Btn (push button), /DA and an /MK caption on a white box."""
    return {"/FT": "/Btn", "/Ff": 65536, "/DA": b"/Helv 10 Tf 0 g", "/MK": {"/BG": WHITE, "/CA": caption}}


def _failed(report, *reasons: str, field: str = "buyer") -> list[str]:
    verdict = next(s for s in report.signatures if s.field == field)
    assert (verdict.indication, verdict.sub_indication) == ("TOTAL-FAILED", "HASH_FAILURE"), verdict.reasons
    assert set(reasons) <= set(verdict.reasons), verdict.reasons
    return [c.detail for c in verdict.checks if c.name == "modification" and not c.ok]


def _passed(report) -> None:
    assert report.indication == "TOTAL-PASSED", [
        (s.field, s.indication, s.reasons) for s in report.signatures
    ]


# -- document timestamps as painters (forger3 a02, a06, a06b, a07) -------------------------------------------


def test_timestamp_background_without_appearance_is_visible(signed_contract, trust, stamper):
    """a02: no /AP, /MK /BG white on a rectangle with area: poppler paints a white box over the amount."""
    forged = _timestamp(_add_field(signed_contract, "archive", {"/MK": {"/BG": WHITE}}, rect=AMOUNT), stamper)
    details = _failed(verify_pdf(forged, trust=trust), "modification.visible-timestamp")
    assert any("'archive'" in d and "/MK /BG" in d and "page 1, [300 700 500 720]" in d for d in details), (
        details
    )
    assert any("no appearance on a rectangle with area" in d for d in details), details


def test_timestamp_pushbutton_caption_is_a_new_field(signed_contract, trust, stamper):
    """a06: a kid widget with /FT /Btn and /MK /CA: poppler draws a push button with another amount."""
    writer = _add_field(signed_contract, "archive", _pushbutton(b"1200000.00"), kid=True, rect=AMOUNT)
    details = _failed(
        verify_pdf(_timestamp(writer, stamper), trust=trust),
        "modification.new-field",
        "modification.visible-timestamp",
    )
    assert any("declares /FT /Btn" in d and "page 1, [300 700 500 720]" in d for d in details), details
    assert any("/MK /BG, /CA" in d for d in details), details


def test_timestamp_pushbutton_on_a_p1_certified_contract(contract, buyer, trust, stamper):
    """a06b: P=1 lets document timestamps through; this one is not the shape of one."""
    certified = f.sign_as(contract, buyer, "buyer", certify=1)
    writer = _add_field(certified, "archive", _pushbutton(b"1200000.00"), kid=True, rect=AMOUNT)
    _failed(
        verify_pdf(_timestamp(writer, stamper), trust=trust),
        "modification.new-field",
        "modification.visible-timestamp",
    )


@pytest.mark.parametrize(
    ("widget", "kid", "reason"),
    [
        ({"/MK": {"/BG": WHITE}}, False, "modification.visible-timestamp"),  # drawn /MK, even on [0 0 0 0]
        ({"/MK": {"/I": 0}}, False, "modification.visible-timestamp"),
        ({"/F": 4 | 32}, False, "modification.visible-timestamp"),  # NoView: print only
        ({"/FT": "/Tx"}, True, "modification.new-field"),
        ({"/Ff": 1}, False, "modification.new-field"),
        ({"/DA": b"/Helv 12 Tf 0 g"}, False, "modification.new-field"),
        ({"/Opt": [b"a"]}, False, "modification.new-field"),
        ({"/Subtype": "/FreeText"}, False, "modification.new-field"),
    ],
)
def test_timestamp_entries_outside_the_allow_list(signed_contract, trust, stamper, widget, kid, reason):
    forged = _timestamp(_add_field(signed_contract, "archive", widget, kid=kid), stamper)
    _failed(verify_pdf(forged, trust=trust), reason)


def test_timestamp_appearance_that_paints_on_a_zero_rectangle(signed_contract, trust, stamper):
    """Squeezed to nothing by today's viewers, but not what a timestamp writes: named, not trusted."""
    paint = b"1 1 1 rg 0 0 200 20 re f 0 g BT /Helv 10 Tf 2 6 Td (1200000.00) Tj ET"
    writer = _add_field(signed_contract, "archive", {}, appearance=lambda w: _ap(w, paint, (0, 0, 200, 20)))
    details = _failed(verify_pdf(_timestamp(writer, stamper), trust=trust), "modification.visible-timestamp")
    assert any("its appearance (/AP /N) paints" in d for d in details), details


def test_timestamp_appearance_with_states(signed_contract, trust, stamper):
    def states(writer):  # type: ignore[no-untyped-def]
        on = _form(writer, b"", (0, 0, 0, 0))
        return generic.DictionaryObject({pdf_name("/N"): generic.DictionaryObject({pdf_name("/On"): on})})

    forged = _timestamp(_add_field(signed_contract, "archive", {}, appearance=states), stamper)
    _failed(verify_pdf(forged, trust=trust), "modification.visible-timestamp")


def _ap(writer, content: bytes, bbox=(0, 0, 0, 0)) -> generic.DictionaryObject:
    return generic.DictionaryObject({pdf_name("/N"): _form(writer, content, bbox)})


def test_timestamp_over_the_demo_contract(tmp_path, rsa_pki):
    """a07: the sealed two-party demo contract (registry, seal makers), and its honest twin."""
    from sealkit.config import load_config
    from sealkit.dev.demo import run_demo
    from sealkit.dev.pki import make_test_pki
    from sealkit.flows import verify_contract

    demo = run_demo(tmp_path / "demo")
    rsa = make_test_pki(tmp_path / "demo" / "pki" / "rsa", "rsa", name="sealkit Demo RSA Root CA")
    tsa = FixedTimeTSA(KeyedIdentity.load(rsa.issue("Public TSA", "tsa")), NOW)
    signed = demo.files["signed"].read_bytes()

    def verify(data: bytes):  # type: ignore[no-untyped-def]
        return verify_contract(
            data,
            trust=[demo.files["sm2_root"], demo.files["rsa_root"]],
            seal_maker_trust=[demo.files["seal_authority_root"]],
            registry_url=f"sqlite:///{demo.files['registry']}",
            config=load_config(demo.files["config"]),  # pins the registry's certificate
        )

    writer = _add_field(signed, "archive", _pushbutton(b"23,440.00"), kid=True, rect=(486, 543, 538, 556))
    report = verify(_timestamp(writer, tsa))
    for field in ("供应商", "采购人"):
        _failed(report, "modification.new-field", "modification.visible-timestamp", field=field)
    honest = io.BytesIO()
    signers.PdfTimeStamper(tsa).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(signed), strict=False), "sha256", output=honest
    )
    _passed(verify(honest.getvalue()))


# -- honest document timestamps -----------------------------------------------------------------------------


def test_pyhanko_document_timestamp_passes(signed_contract, trust, stamper):
    """pyHanko writes /FT /Sig, /T, /TU, /Type /Annot, /Subtype /Widget, /F 132, /Rect [0 0 0 0], /P, /V."""
    out = io.BytesIO()
    signers.PdfTimeStamper(stamper).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(signed_contract), strict=False), "sha256", output=out
    )
    _passed(verify_pdf(out.getvalue(), trust=trust))


def test_pyhanko_document_timestamp_on_a_p1_certified_contract_passes(contract, buyer, trust, stamper):
    certified = f.sign_as(contract, buyer, "buyer", certify=1)
    out = io.BytesIO()
    signers.PdfTimeStamper(stamper).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(certified), strict=False), "sha256", output=out
    )
    _passed(verify_pdf(out.getvalue(), trust=trust))


@pytest.mark.parametrize(
    ("content", "rect"),
    [
        (b"", (0, 0, 0, 0)),  # PDFBox / EU DSS: an empty form XObject, /BBox [0 0 0 0]
        (b"% DSBlank\n", (0, 0, 0, 0)),  # Acrobat's blank layer
        (b"/Tx BMC q n Q EMC", (0, 0, 0, 0)),  # marked content, state, an unpainted path
        (b"", AMOUNT),  # an empty appearance on a rectangle with area paints nothing
    ],
)
def test_document_timestamp_with_an_empty_appearance_passes(signed_contract, trust, stamper, content, rect):
    writer = _add_field(
        signed_contract, "archive", {"/MK": {"/R": 0}}, rect=rect, appearance=lambda w: _ap(w, content)
    )
    report = verify_pdf(_timestamp(writer, stamper), trust=trust)
    _passed(report)
    later = [c.detail for c in report.signatures[0].checks if c.name == "later-signature"]
    assert later == ["document timestamp added later in a new field: invisible"], later


def test_sealkit_ltv_update_passes(signed_contract, rsa_pki, trust, tmp_path):
    """sealkit's own B-LTA update (validation data, then pyHanko's document timestamp)."""
    from sealkit_cli.main import run

    from sealkit.dev.services import PkiServices

    source, out = tmp_path / "signed.pdf", tmp_path / "lta.pdf"
    source.write_bytes(signed_contract)
    with PkiServices.start(rsa_pki.pki) as services:
        code = run(
            ["ltv-update", str(source), "-o", str(out), "--tsa", services.tsa_url, "--trust", str(trust[0])]
        )
    assert code == 0
    report = verify_pdf(out, trust=trust)
    _passed(report)
    assert any(s.timestamp and s.timestamp.get("time") for s in report.signatures), report.to_dict()


# -- later signers' new fields (allow-list item c) and prepared fields (item a) ---------------------------


@pytest.fixture(scope="module")
def seal_png(tmp_path_factory) -> Path:
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((8, 8, 192, 192), outline=(200, 0, 0, 255), width=10)
    path = tmp_path_factory.mktemp("shape-seal") / "seal.png"
    image.save(path)
    return path


def test_second_signers_visible_seal_in_a_new_field_passes(
    signed_contract, rsa_pki, trust, seal_png, tmp_path
):
    """``sealkit sign`` into a new field (pyHanko's widget, sealkit's seal appearance): passes, the report
    names where the seal lies."""
    from sealkit_cli.main import run

    source, out = tmp_path / "signed.pdf", tmp_path / "two.pdf"
    source.write_bytes(signed_contract)
    ident = rsa_pki.identity("Inspector Co")
    args = ["sign", str(source), "-o", str(out), "--key", ident.keyref, "--cert", str(ident.cert_path)]
    assert (
        run(
            [
                *args,
                "--seal-image",
                str(seal_png),
                "--page",
                "2",
                "--rect",
                "120,40,40,40",
                "--field",
                "inspector",
            ]
        )
        == 0
    )
    report = verify_pdf(out, trust=trust)
    _passed(report)
    later = [c.detail for c in report.signatures[0].checks if c.name == "later-signature"]
    assert len(later) == 1 and "signature 'inspector' added later in a new field: page 2 [" in later[0], later


def _sign_new_field(data: bytes, signer, widget: dict, *, kid: bool) -> bytes:
    writer = _add_field(
        data, "second", widget, kid=kid, rect=AMOUNT, appearance=lambda w: _ap(w, b"", (0, 0, 200, 20))
    )
    out = io.BytesIO()
    meta = signers.PdfSignatureMetadata(field_name="second", md_algorithm="sha256")
    signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


def test_second_signers_new_field_with_a_button_widget(signed_contract, rsa_pki, trust):
    forged = _sign_new_field(
        signed_contract, rsa_pki.signer("Supplier Co"), _pushbutton(b"1200000.00"), kid=True
    )
    details = _failed(verify_pdf(forged, trust=trust), "modification.new-field", "modification.appearance")
    assert any("new signature field 'second', its widget: declares /FT /Btn" in d for d in details), details


def test_second_signers_new_field_with_mk_is_named(signed_contract, rsa_pki, trust):
    """poppler draws /MK only when it makes an appearance (none here: pyHanko writes one); any viewer that
    regenerates would draw it: not the shape of a signature."""
    forged = _sign_new_field(
        signed_contract, rsa_pki.signer("Supplier Co"), {"/MK": {"/BG": WHITE}}, kid=False
    )
    _failed(verify_pdf(forged, trust=trust), "modification.appearance")


def test_second_signers_plain_new_field_passes(signed_contract, rsa_pki, trust):
    """The twin: the same field without /MK, a later signer's visible seal over the amount (a warning)."""
    report = verify_pdf(
        _sign_new_field(signed_contract, rsa_pki.signer("Supplier Co"), {}, kid=True), trust=trust
    )
    _passed(report)
    warnings = [c.detail for c in report.signatures[0].checks if c.name == "seal-overlap"]
    assert warnings and "page 1 [300 700 500 720]" in warnings[0], warnings


def test_filling_a_prepared_field_may_not_add_mk(signed_contract, rsa_pki, trust):
    """Item (a): signing the prepared 'supplier' field may give its widget an appearance, nothing else."""
    mk = lambda widget: widget.update(_pdf({"/MK": {"/BG": WHITE, "/CA": b"x"}}))  # noqa: E731
    forged = _fill_supplier(signed_contract, rsa_pki.signer("Supplier Co"), mk)
    details = _failed(verify_pdf(forged, trust=trust), "modification.field-changed")
    assert any("'supplier'" in d and "/MK" in d for d in details), details


def test_timestamp_widget_whose_parent_is_another_field(signed_contract, trust, stamper):
    """A kid widget's /Parent lends it /FT, /DA and /V (poppler walks the /Parent chain): here the signed
    amount text field, so with an appearance regenerated it would be a text box showing another value."""
    writer = _add_field(signed_contract, "archive", {}, kid=True, appearance=lambda w: _ap(w, b""))
    fields = writer.root["/AcroForm"]["/Fields"]
    widget = fields[len(fields) - 1].get_object()["/Kids"][0]
    widget[pdf_name("/Parent")] = generic.IndirectObject(5, 0, writer)  # the 'amount' /Tx field
    writer.update_container(widget)
    details = _failed(verify_pdf(_timestamp(writer, stamper), trust=trust), "modification.new-field")
    assert any("its /Parent is not its field" in d for d in details), details


def test_new_top_level_field_with_a_parent(signed_contract, trust, stamper):
    """A field listed in the form's /Fields has no parent to inherit from."""
    forged = _timestamp(_add_field(signed_contract, "archive", {"/Parent": 0}), stamper)
    details = _failed(verify_pdf(forged, trust=trust), "modification.new-field")
    assert any("carries /Parent" in d for d in details), details


def test_timestamp_as_a_kid_widget_passes(signed_contract, trust, stamper):
    """The twin: pyHanko with combine_annotation=False writes the widget as the field's only kid."""
    writer = _add_field(signed_contract, "archive", {}, kid=True)
    _passed(verify_pdf(_timestamp(writer, stamper), trust=trust))


def _fill_supplier(data: bytes, signer, change: Callable) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        if ref.get_object().get("/T") == "supplier":
            change(ref.get_object())
            writer.update_container(ref.get_object())
    out = io.BytesIO()
    meta = signers.PdfSignatureMetadata(field_name="supplier", md_algorithm="sha256")
    signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


def test_filling_a_prepared_field_may_set_its_locked_flag(signed_contract, rsa_pki, trust):
    """iText's PdfSigner ORs Locked (128) into the /F of the field it signs: that alone passes."""
    report = verify_pdf(
        _fill_supplier(
            signed_contract, rsa_pki.signer("Supplier Co"), lambda w: w.update(_pdf({"/F": 4 | 128}))
        ),
        trust=trust,
    )
    _passed(report)


def test_filling_a_prepared_field_may_not_hide_it_from_view(signed_contract, rsa_pki, trust):
    """Any other flag is a change of the field: NoView (32) would show the seal in print only."""
    forged = _fill_supplier(
        signed_contract, rsa_pki.signer("Supplier Co"), lambda w: w.update(_pdf({"/F": 4 | 32 | 128}))
    )
    details = _failed(verify_pdf(forged, trust=trust), "modification.field-changed")
    assert any("'supplier'" in d and "/F" in d for d in details), details
