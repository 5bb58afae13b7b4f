"""The seal a person sees must be the seal the signature carries (``seal-image``; forger's a12 and a14).

Every attack file is made here: honest sealkit signatures through ``sign_pdf``, and forgeries through the
same stamping code with the signing revision altered before pyHanko signs it (so that the signature
covers the forgery and only the imprint check can see it).
"""

import datetime as dt
import io

import pytest
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from sealkit.dev.pki import make_test_pki
from sealkit.pdf import FieldSpec, Placement, SealAppearance, prepare_fields, verify_pdf
from sealkit.pdf.appearance import build_appearance, slice_strips
from sealkit.pdf.document import resolve_spots
from sealkit.pdf.fields import field_widgets
from sealkit.pdf.imprint_pixels import picture_image, same_picture
from sealkit.pdf.stamping import _add_stamp
from sealkit.pdf.verify_imprint import IMAGE_ONLY, MISMATCH, NOT_COMPARED
from sealkit.seal import SealSpec, make_seal, render_seal, seal_signed_attribute
from sealkit.ukey import open_key
from tests.pdf_verify.cms_forge import resign
from tests.pdf_verify.contracts import contract_pdf, sign
from tests.pdf_verify.unchecked_signing import sign_as_holder

RECT = (30.0, 40.0, 45.0, 45.0)  # x, y, w, h in mm on page 3


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """SM2 and RSA signers, a seal maker, the signers' seal (济南市示范中学合同专用章) and another
    unit's seal picture (山东省财政厅)."""
    base = tmp_path_factory.mktemp("imprint")
    maker_pki = make_test_pki(base / "maker", "sm2", name="sealkit Test Seal Authority CA")
    maker = maker_pki.issue("maker", "seal-maker")
    own = render_seal("contract", "济南市示范中学", serial="3701020000001")
    other = render_seal("official", "山东省财政厅", serial="3700000000001")
    now = dt.datetime.now(dt.UTC)
    signers = {}
    for kind in ("sm2", "rsa"):
        pki = make_test_pki(base / kind, kind)
        holder = pki.issue(f"purchaser-{kind}", "sign", organization="济南市示范中学")
        spec = SealSpec(
            es_id=f"3701020200000{1 if kind == 'sm2' else 2}",
            name="济南市示范中学合同专用章",
            holder_certs=[holder.certificate.dump()],
            valid_start=now - dt.timedelta(days=1),
            valid_end=now + dt.timedelta(days=365),
            picture=own.png,
            width_mm=40,
            height_mm=40,
        )
        with open_key(maker.keyref) as maker_key:
            seal_der = make_seal(spec, maker_key, maker.certificate)
        signers[kind] = {"pki": pki, "holder": holder, "seal": seal_der}
    contract = base / "contract.pdf"
    contract.write_bytes(contract_pdf())
    prepared = base / "prepared.pdf"
    placement = Placement(page=3, rect_mm=RECT)
    # the imprint is tested here, verified without a seal checker: the fields do not require a checked seal
    # (that is tests/pdf_verify/test_seal_requirements.py)
    supplier = FieldSpec(
        "供应商", Placement(page=3, rect_mm=(120, 40, 45, 45)), size_mm=(45, 45), seal_required=False
    )
    purchaser = FieldSpec("采购人", placement, size_mm=(45, 45), cross_page=True, seal_required=False)
    prepare_fields(contract, prepared, [supplier, purchaser])
    return {
        "own": own,
        "other": other,
        "signers": signers,
        "contract": contract,
        "prepared": prepared,
        "dir": base,
    }


def _seal_sign(
    world,
    kind,
    source,
    *,
    image=None,
    field=None,
    placement=None,
    tamper=None,
    seal=True,
    text=None,
    size=(40, 40),
):
    """Sign ``source`` as sealkit does, showing ``image`` (default: the seal's own picture); ``tamper`` may
    change the signing revision (writer, field name) before pyHanko signs it."""
    signer = world["signers"][kind]
    holder = signer["holder"]
    appearance = SealAppearance(image or world["own"].png, *size, text=text)
    attributes = [seal_signed_attribute(signer["seal"])] if seal else []
    return sign_as_holder(
        source,
        holder,
        signer["pki"].root,
        world["dir"],
        field=field,
        appearance=appearance,
        placement=placement,
        attributes=attributes,
        tamper=tamper,
    )


def _verify(world, kind, data):
    report = verify_pdf(data, trust=[world["signers"][kind]["pki"].root.cert_path])
    return report, report.signatures[-1]


def _seal_image(verdict):
    return next(c for c in verdict.checks if c.name == "seal-image")


def _set_appearance(writer, widget, stream_data=None, form=None):
    """Give ``widget`` a new normal appearance: ``form``, or its current one with ``stream_data``."""
    if form is None:
        old = widget["/AP"]["/N"]
        entries = {k: v for k, v in old.items() if k not in ("/Length", "/Filter", "/DecodeParms")}
        form = writer.add_object(generic.StreamObject(entries, stream_data=stream_data))
    widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): form})


# --- honest seals pass, and say that the imprint is the seal's picture ---------------------------------


@pytest.mark.parametrize("kind", ["sm2", "rsa"])
def test_honest_seal_on_one_page_passes(world, kind):
    data = _seal_sign(world, kind, world["contract"], placement=Placement(page=3, rect_mm=RECT))
    report, verdict = _verify(world, kind, data)
    assert report.indication == "TOTAL-PASSED", verdict.reasons
    check = _seal_image(verdict)
    assert check.level == "pass"
    assert (
        "the seal's own picture (identical pixels)" in check.detail
        and "on page 3 (40.0×40.0 mm)" in check.detail
    )


@pytest.mark.parametrize("kind", ["sm2", "rsa"])
def test_honest_seal_with_reserved_cross_page_strips_passes(world, kind):
    data = _seal_sign(world, kind, world["prepared"], field="采购人")
    report, verdict = _verify(world, kind, data)
    assert report.indication == "TOTAL-PASSED", verdict.reasons
    detail = _seal_image(verdict).detail
    assert _seal_image(verdict).level == "pass"
    assert all(f"cross-page strip {i}/3 on page {i}" in detail for i in (1, 2, 3))


def test_honest_first_signature_strips_are_stamps_and_pass(world):
    placement = Placement(page=3, rect_mm=RECT, cross_page=True)
    data = _seal_sign(world, "rsa", world["contract"], placement=placement)
    report, verdict = _verify(world, "rsa", data)
    assert report.indication == "TOTAL-PASSED", verdict.reasons
    detail = _seal_image(verdict).detail
    assert _seal_image(verdict).level == "pass" and detail.count("a Stamp annotation on page") == 3


def test_sealkit_caption_under_the_seal_is_clipped_and_passes(world):
    placement = Placement(page=3, rect_mm=(30, 40, 60, 70))
    data = _seal_sign(world, "sm2", world["contract"], placement=placement, text="采购人 张三\n2026-12-03")
    report, verdict = _verify(world, "sm2", data)
    assert report.indication == "TOTAL-PASSED" and _seal_image(verdict).level == "pass", verdict.checks


def test_the_seal_shown_smaller_than_its_size_is_said(world):
    data = _seal_sign(
        world, "sm2", world["contract"], placement=Placement(page=3, rect_mm=RECT), size=(20, 20)
    )
    _, verdict = _verify(world, "sm2", data)
    size = next(c for c in verdict.checks if c.name == "seal-size")
    assert _seal_image(verdict).level == "pass" and size.level == "warning"
    assert "shows it at 20.0×20.0 mm, the seal's size is 40.0×40.0 mm" in size.detail


# --- forgeries fail ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sm2", "rsa"])
def test_a14_another_units_seal_shown_fails(world, kind):
    data = _seal_sign(world, kind, world["prepared"], field="采购人", image=world["other"].png)
    report, verdict = _verify(world, kind, data)
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "SIG_CONSTRAINTS_FAILURE")
    assert verdict.reasons == [MISMATCH]
    detail = _seal_image(verdict).detail
    assert "the field's widget on page 3: shows another picture" in detail
    assert "cross-page strip 1/3 on page 1: shows another picture" in detail


def test_a14_after_an_earlier_signature_names_the_imprint_as_the_cause(world):
    """As in the demo: the supplier signs first (an image-only seal), then the purchaser shows another
    unit's seal. The supplier's signature fails as a consequence; the document says why."""
    first = world["dir"] / "supplier-first.pdf"
    first.write_bytes(_seal_sign(world, "rsa", world["prepared"], field="供应商", seal=False))
    data = _seal_sign(world, "sm2", first, field="采购人", image=world["other"].png)
    trust = [world["signers"][k]["pki"].root.cert_path for k in ("sm2", "rsa")]
    report = verify_pdf(data, trust=trust)
    supplier, purchaser = report.signatures  # the supplier's comes first, as in the demo
    assert supplier.reasons == ["modification.unverified-signature"] and purchaser.reasons == [MISMATCH]
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "SIG_CONSTRAINTS_FAILURE")


def test_one_cross_page_strip_swapped_fails(world):
    other_strip = slice_strips(world["other"].png, 3)[1]

    def swap(writer, name):
        _, _, strips = field_widgets(writer, name)
        widget = strips[1][0]
        box = widget["/AP"]["/N"]["/BBox"]
        size = (float(box[2]), float(box[3]))
        image_pt = (40 * 72 / 25.4 / 3, 40 * 72 / 25.4)
        _set_appearance(
            writer, widget, form=build_appearance(writer, other_strip, size, image_pt, align="right")
        )

    data = _seal_sign(world, "sm2", world["prepared"], field="采购人", tamper=swap)
    report, verdict = _verify(world, "sm2", data)
    assert report.indication == "TOTAL-FAILED" and verdict.reasons == [MISMATCH]
    detail = _seal_image(verdict).detail
    assert "cross-page strip 2/3 on page 2: shows another picture" in detail
    assert "strip 1/3" not in detail and "widget" not in detail


@pytest.mark.parametrize(
    "overlay",
    [
        b"q 1 1 1 rg 40 40 30 20 re f Q",  # a white box over part of the seal
        b"q BT /Helv 14 Tf 30 55 Td (VOID) Tj ET Q",  # text over the seal
        b"q 0 0 1 rg 0 0 5 5 re f Q",  # a drawing beside the seal, inside the widget
    ],
    ids=["white-box", "text", "drawing-beside"],
)
def test_right_picture_with_anything_painted_with_it_fails(world, overlay):
    def paint_over(writer, name):
        widget = field_widgets(writer, name)[1][0][0]
        _set_appearance(writer, widget, widget["/AP"]["/N"].data + b"\n" + overlay)

    data = _seal_sign(
        world, "rsa", world["contract"], placement=Placement(page=3, rect_mm=RECT), tamper=paint_over
    )
    report, verdict = _verify(world, "rsa", data)
    assert report.indication == "TOTAL-FAILED" and verdict.reasons == [MISMATCH], verdict.checks
    assert "the field's widget on page 3" in _seal_image(verdict).detail


def test_a_second_image_beside_the_seal_fails(world):
    def two_images(writer, name):
        widget = field_widgets(writer, name)[1][0][0]
        old = widget["/AP"]["/N"]
        old["/Resources"]["/XObject"][pdf_name("/Other")] = old["/Resources"]["/XObject"]["/Seal"]
        _set_appearance(writer, widget, old.data + b"\nq 5 0 0 5 0 0 cm /Other Do Q")

    data = _seal_sign(
        world, "rsa", world["contract"], placement=Placement(page=3, rect_mm=RECT), tamper=two_images
    )
    _, verdict = _verify(world, "rsa", data)
    assert verdict.reasons == [MISMATCH] and "paints 2 images" in _seal_image(verdict).detail


def test_another_seal_stamped_elsewhere_while_sealing_fails(world):
    """The widget shows the right seal; a stamp annotation added in the same revision shows another."""

    def extra_stamp(writer, name):
        spot = resolve_spots(writer, None, Placement(page=1, rect_mm=RECT), (113.4, 113.4))[0]
        _add_stamp(writer, spot, world["other"].png, (113.4, 113.4), None)

    placement = Placement(page=3, rect_mm=RECT)
    data = _seal_sign(world, "sm2", world["contract"], placement=placement, tamper=extra_stamp)
    report, verdict = _verify(world, "sm2", data)
    assert report.indication == "TOTAL-FAILED" and verdict.reasons == [MISMATCH]
    detail = _seal_image(verdict).detail
    assert "a Stamp annotation on page 1: shows another picture" in detail and "widget" not in detail


# --- foreign encodings of the same picture: compared on paper, or said to be not comparable ----------------


def _replace_seal_image(writer, name, image_stream):
    widget = field_widgets(writer, name)[1][0][0]
    form = widget["/AP"]["/N"]
    form["/Resources"]["/XObject"][pdf_name("/Seal")] = writer.add_object(image_stream)


def _jpeg_of(png: bytes) -> tuple[bytes, tuple[int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    paper = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("RGB")
    out = io.BytesIO()
    paper.save(out, "JPEG", quality=60)
    return out.getvalue(), image.size


def test_the_same_picture_as_jpeg_matches_on_paper(world):
    jpeg, (width, height) = _jpeg_of(world["own"].png)

    def as_jpeg(writer, name):
        entries = {
            "/Type": "/XObject", "/Subtype": "/Image", "/Width": width, "/Height": height,
            "/ColorSpace": "/DeviceRGB", "/BitsPerComponent": 8, "/Filter": "/DCTDecode",
        }  # fmt: skip
        stream = generic.StreamObject(
            {
                pdf_name(k): pdf_name(v) if isinstance(v, str) else generic.NumberObject(v)
                for k, v in entries.items()
            },
            encoded_data=jpeg,
        )
        _replace_seal_image(writer, name, stream)

    data = _seal_sign(
        world, "sm2", world["contract"], placement=Placement(page=3, rect_mm=RECT), tamper=as_jpeg
    )
    report, verdict = _verify(world, "sm2", data)
    check = _seal_image(verdict)
    assert (
        report.indication == "TOTAL-PASSED"
        and check.level == "pass"
        and "same picture on paper" in check.detail
    )


@pytest.mark.parametrize("picture", ["own", "other"])
def test_an_indexed_colour_embedding_is_compared_too(world, picture):
    """A 16-colour indexed image on white: the seal's own picture matches, another unit's seal fails
    (not merely "could not be compared")."""
    image = Image.open(io.BytesIO(world[picture].png)).convert("RGBA")
    paper = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("RGB")
    indexed = paper.quantize(16)
    palette = bytes(indexed.getpalette()[: 16 * 3])

    def as_indexed(writer, name):
        space = generic.ArrayObject(
            [
                pdf_name("/Indexed"),
                pdf_name("/DeviceRGB"),
                generic.NumberObject(15),
                generic.ByteStringObject(palette),
            ]
        )
        entries = {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(indexed.width),
            pdf_name("/Height"): generic.NumberObject(indexed.height),
            pdf_name("/ColorSpace"): space,
            pdf_name("/BitsPerComponent"): generic.NumberObject(8),
        }
        stream = generic.StreamObject(entries, stream_data=indexed.tobytes())
        stream.compress()
        _replace_seal_image(writer, name, stream)

    data = _seal_sign(
        world, "rsa", world["contract"], placement=Placement(page=3, rect_mm=RECT), tamper=as_indexed
    )
    _, verdict = _verify(world, "rsa", data)
    check = _seal_image(verdict)
    if picture == "own":
        assert check.level == "pass" and "same picture on paper" in check.detail, check.detail
    else:
        assert check.level == "fail" and verdict.reasons == [MISMATCH] and "another picture" in check.detail


def test_an_encoding_sealkit_cannot_decode_is_indeterminate_never_a_pass(world):
    def as_jbig2(writer, name):
        entries = {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(100),
            pdf_name("/Height"): generic.NumberObject(100),
            pdf_name("/ColorSpace"): pdf_name("/DeviceGray"),
            pdf_name("/BitsPerComponent"): generic.NumberObject(1),
            pdf_name("/Filter"): pdf_name("/JBIG2Decode"),
        }
        _replace_seal_image(writer, name, generic.StreamObject(entries, encoded_data=b"\0" * 16))

    data = _seal_sign(
        world, "sm2", world["contract"], placement=Placement(page=3, rect_mm=RECT), tamper=as_jbig2
    )
    _, verdict = _verify(world, "sm2", data)
    check = _seal_image(verdict)
    # never a pass: an electronic seal whose imprint nobody could check is INDETERMINATE
    assert check.level == "fail" and check.detail.startswith(NOT_COMPARED)
    assert verdict.reasons == ["imprint-not-compared.seal-image"]
    assert (verdict.indication, verdict.sub_indication) == ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")


def test_pixel_comparison_limits(world):
    """Encoding noise passes; one character of the unit's name changed, or another seal, does not."""
    own = picture_image(world["own"].png)
    jpeg = picture_image(_jpeg_of(world["own"].png)[0])
    half = own.resize((own.width // 2, own.height // 2), Image.Resampling.LANCZOS)
    renamed = picture_image(render_seal("contract", "济南市示范大学", serial="3701020000001").png)
    assert same_picture(own, own) == (True, "identical pixels")
    assert same_picture(own, jpeg)[0] and same_picture(own, half)[0]
    assert not same_picture(own, renamed)[0]
    assert not same_picture(own, picture_image(world["other"].png))[0]


# --- no seal: an image proves nothing; a text stamp naming someone else ---------------------------------


def test_image_only_signature_gets_no_pass_mark(world):
    data = _seal_sign(world, "rsa", world["contract"], placement=Placement(page=3, rect_mm=RECT), seal=False)
    report, verdict = _verify(world, "rsa", data)
    check = _seal_image(verdict)
    assert report.indication == "TOTAL-PASSED" and check.level == "warning" and not check.ok
    assert check.detail.startswith(IMAGE_ONLY)
    as_json = report.to_dict()["signatures"][-1]["checks"]
    assert any(
        c["name"] == "seal-image" and c["level"] == "warning" and IMAGE_ONLY in c["detail"] for c in as_json
    )


def test_a12_contents_resigned_by_another_warns_that_the_stamp_names_someone_else(rsa_pki):
    honest = sign(contract_pdf(), rsa_pki.signer("Buyer Ltd"), "buyer")
    mallory = rsa_pki.identity("Mallory Ltd")
    forged = resign(honest, mallory.key_path, mallory.certificate, kind="rsa")
    trust = [rsa_pki.root.cert_path]
    honest_verdict = verify_pdf(honest, trust=trust).signatures[0]
    verdict = verify_pdf(forged, trust=trust).signatures[0]
    assert not [c for c in honest_verdict.checks if c.name == "appearance"]
    warning = next(c for c in verdict.checks if c.name == "appearance")
    assert warning.level == "warning" and "appearance.names-other-signer" in warning.detail
    assert "Digitally signed by Buyer Ltd" in warning.detail and "'Mallory Ltd'" in warning.detail
