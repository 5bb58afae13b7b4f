"""A field prepared for a seal takes only a sealed signature; ``require_seal`` asks it of every signature.

The forger's attack: Mallory holds *some* certificate that chains to a trusted signer anchor. Behind the
purchaser's seal picture she re-signs /Contents (or strips the purchaser's revision and signs the field
again with the same picture) — her CMS carries no GB/T 38540 seal. The picture proves nothing; only the
requirement written before the first signature (or the verifier's policy) can refuse it. Every file is
made here: honest signatures through ``sign_pdf``, forgeries through the same stamping code and pyHanko,
bypassing sealkit's own refusal as a forger's tool would.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from sealkit.dev.pki import make_test_pki
from sealkit.errors import FieldRequirementError, InvalidInput
from sealkit.flows import verify_contract
from sealkit.pdf import FieldSpec, Placement, SealAppearance, prepare_fields, sign_pdf
from sealkit.pdf.field_requirements import read_requirements
from sealkit.pdf.verify_imprint import IMAGE_ONLY
from sealkit.seal import SealSpec, make_seal, render_seal, seal_signed_attribute
from sealkit.seal.units import unit_extension
from sealkit.ukey import open_key
from tests.pdf_verify.cms_forge import resign
from tests.pdf_verify.contracts import contract_pdf
from tests.pdf_verify.contracts import sign as contract_sign
from tests.pdf_verify.tampering import incremental
from tests.pdf_verify.unchecked_signing import sign_as_holder

UNIT_A = ("12370102MB0000042B", "济南市示范中学")
UNIT_B = ("12370102MB00000014", "山东省财政厅")
PURCHASER_RECT = (30.0, 40.0, 45.0, 45.0)
SUPPLIER_RECT = (120.0, 40.0, 45.0, 45.0)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A signer PKI (purchaser of unit A, another unit's holder, the supplier, Mallory: all trusted), a seal
    maker, the seals of units A and B, and the contract prepared with 供应商 (no seal) and 采购人 (a seal of
    unit A), the supplier already signed."""
    base = tmp_path_factory.mktemp("seal-requirements")
    pki = make_test_pki(base / "signers", "rsa")
    maker_pki = make_test_pki(base / "maker", "sm2", name="sealkit Test Seal Authority CA")
    maker = maker_pki.issue("maker", "seal-maker")
    people = {
        "purchaser": pki.issue("purchaser", "sign", organization=UNIT_A[1]),
        "other": pki.issue("other-unit", "sign", organization=UNIT_B[1]),
        "supplier": pki.issue("supplier", "sign", organization="山东某某信息技术有限公司"),
        "mallory": pki.issue("mallory", "sign", organization="Mallory Ltd"),
    }
    now = dt.datetime.now(dt.UTC)
    seals, pictures = {}, {}
    for key, (uscc, unit), holder, serial in (
        ("A", UNIT_A, people["purchaser"], "3701020000001"),
        ("B", UNIT_B, people["other"], "3700000000001"),
    ):
        pictures[key] = render_seal("contract", unit, serial=serial).png
        spec = SealSpec(
            es_id=f"37010202000{len(seals) + 1:03d}",
            name=f"{unit}合同专用章",
            holder_certs=[holder.certificate.dump()],
            valid_start=now - dt.timedelta(days=1),
            valid_end=now + dt.timedelta(days=365),
            picture=pictures[key],
            width_mm=40,
            height_mm=40,
            extensions=[unit_extension(uscc, unit)],
        )
        with open_key(maker.keyref) as maker_key:
            seals[key] = make_seal(spec, maker_key, maker.certificate)
    contract = base / "contract.pdf"
    contract.write_bytes(contract_pdf())
    prepared = base / "prepared.pdf"
    prepare_fields(
        contract,
        prepared,
        [
            FieldSpec("供应商", Placement(page=3, rect_mm=SUPPLIER_RECT), (45, 45), seal_required=False),
            FieldSpec("采购人", Placement(page=3, rect_mm=PURCHASER_RECT), (45, 45), unit=UNIT_A[0]),
        ],
        order=["供应商", "采购人"],
    )
    world = {
        "dir": base,
        "pki": pki,
        "maker_root": maker_pki.root.cert_path,
        "people": people,
        "seals": seals,
        "pictures": pictures,
        "contract": contract,
        "prepared": prepared,
    }
    supplier_signed = base / "supplier-signed.pdf"
    supplier_signed.write_bytes(sign(world, prepared, "supplier", "供应商", picture="B"))
    world["supplier_signed"] = supplier_signed
    return world


def sign(
    world, source, who, field=None, *, seal=None, picture=None, placement=None, forger=False, size=40
) -> bytes:
    """``who`` signs ``field`` of ``source`` showing ``picture`` (default: the seal's) and carrying ``seal``
    ("A", "B" or None). ``forger``: through the stamping code and pyHanko, without sealkit's refusal."""
    person = world["people"][who]
    image = world["pictures"][picture or seal or "A"]
    appearance = SealAppearance(image, size, size)
    attributes = [seal_signed_attribute(world["seals"][seal])] if seal else []
    return sign_as_holder(
        source,
        person,
        world["pki"].root,
        world["dir"],
        field=field,
        appearance=appearance,
        placement=placement,
        attributes=attributes,
        unchecked=forger,
    )


def verify(world, data, **options):
    report = verify_contract(
        data, trust=[world["pki"].root.cert_path], seal_maker_trust=[world["maker_root"]], **options
    )
    return report, {s.field: s for s in report.signatures}


def requirement_check(verdict):
    return [c for c in verdict.checks if c.name == "seal-required"]


def assert_refused(report, verdict, reason, detail):
    assert report.indication == "TOTAL-FAILED" and report.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert verdict.indication == "TOTAL-FAILED" and verdict.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert reason in verdict.reasons, verdict.reasons
    assert any(c.level == "fail" and c.detail == detail for c in requirement_check(verdict)), verdict.checks


@pytest.fixture(scope="module")
def honest(world):
    """The purchaser seals its field with the seal of unit A."""
    return sign(world, world["supplier_signed"], "purchaser", "采购人", seal="A")


# --- the requirement is written before the first signature --------------------------------------------


def test_prepare_writes_the_requirements_into_the_signed_catalog(world):
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(world["supplier_signed"].read_bytes()), strict=False)
    signed_revision = reader.xrefs.total_revisions - 2  # what the supplier's signature covers
    found = read_requirements(reader.get_historical_resolver(signed_revision).root)
    assert found is not None and found.problem is None
    assert found.fields["采购人"].seal and found.fields["采购人"].unit == UNIT_A[0]
    assert not found.fields["供应商"].seal and found.fields["供应商"].unit is None


def test_field_spec_checks_the_unit_code_with_gb_32100():
    with pytest.raises(InvalidInput, match="not a unified social credit code: check character"):
        FieldSpec("采购人", Placement(page=1, rect_mm=PURCHASER_RECT), unit="12370102MB0000042C")
    with pytest.raises(InvalidInput, match="takes none"):
        FieldSpec("采购人", Placement(page=1, rect_mm=PURCHASER_RECT), seal_required=False, unit=UNIT_A[0])
    assert FieldSpec("x", Placement(page=1, rect_mm=PURCHASER_RECT)).seal_required  # the default: 盖章


# --- honest twin, and the forger's re-signature ----------------------------------------------------------


def test_the_purchaser_sealing_its_field_passes(world, honest):
    report, verdicts = verify(world, honest)
    assert report.indication == "TOTAL-PASSED", verdicts["采购人"].reasons
    (check,) = requirement_check(verdicts["采购人"])
    assert check.level == "pass"
    assert check.detail == (
        "field '采购人' requires an electronic seal: the signature carries seal 37010202000001 "
        f"({UNIT_A[1]}合同专用章) of unit {UNIT_A[0]}"
    )
    assert not requirement_check(verdicts["供应商"])  # a field prepared without a seal


def test_mallory_resigning_contents_behind_the_purchasers_seal_fails(world, honest):
    mallory = world["people"]["mallory"]
    forged = resign(honest, mallory.key_path, mallory.certificate, kind="rsa")
    report, verdicts = verify(world, forged)
    verdict = verdicts["采购人"]
    assert "Mallory" in (verdict.signer or "")
    assert_refused(
        report,
        verdict,
        "sig-constraints.seal-required",
        "field '采购人' requires an electronic seal; the signature carries none",
    )
    assert any(IMAGE_ONLY in c.detail for c in verdict.checks if c.name == "seal-image")
    # the supplier's signature is intact, but the later "signature" over the contract failed
    assert verdicts["供应商"].reasons == ["modification.unverified-signature"]


def test_mallory_remaking_the_last_revision_with_the_same_picture_fails(world):
    # the purchaser's revision stripped (the supplier-signed file), the field signed again by Mallory
    forged = sign(world, world["supplier_signed"], "mallory", "采购人", picture="A", forger=True)
    report, verdicts = verify(world, forged)
    assert_refused(
        report,
        verdicts["采购人"],
        "sig-constraints.seal-required",
        "field '采购人' requires an electronic seal; the signature carries none",
    )


def test_mallory_signing_beside_the_prepared_field_fails_too(world):
    from pyhanko.sign import signers

    mallory = world["people"]["mallory"]
    simple = signers.SimpleSigner.load(
        str(mallory.key_path), str(mallory.cert_path), ca_chain_files=(str(world["pki"].root.cert_path),)
    )
    forged = contract_sign(
        world["supplier_signed"].read_bytes(), simple, "甲方", new_field_box=(200, 300, 330, 430)
    )
    report, verdicts = verify(world, forged)
    assert_refused(
        report,
        verdicts["甲方"],
        "sig-constraints.seal-required",
        "field '甲方' (not a prepared field) requires an electronic seal; the signature carries none",
    )


def test_sealkit_refuses_to_sign_a_sealed_field_without_a_seal(world):
    target = world["dir"] / "refused.pdf"
    with open_key(world["people"]["mallory"].keyref) as key, pytest.raises(FieldRequirementError) as caught:
        sign_pdf(
            world["supplier_signed"],
            target,
            key,
            cert=world["people"]["mallory"].cert_path,
            field="采购人",
            appearance=SealAppearance(world["pictures"]["A"], 40, 40),
        )
    assert str(caught.value) == (
        "field '采购人' requires an electronic seal; the signature carries none: "
        f"sign with --seal SEAL-ID, a registry seal of unit {UNIT_A[0]}"
    )
    assert not target.exists()


# --- the unit -------------------------------------------------------------------------------------------


def test_another_units_seal_in_the_field_fails_naming_both_units(world):
    forged = sign(world, world["supplier_signed"], "other", "采购人", seal="B", forger=True)
    report, verdicts = verify(world, forged)
    assert_refused(
        report,
        verdicts["采购人"],
        "sig-constraints.seal-unit",
        f"field '采购人' requires a seal of unit {UNIT_A[0]}; the signature carries seal 37010202000002 "
        f"({UNIT_B[1]}合同专用章) of unit {UNIT_B[0]}",
    )
    assert verdicts["采购人"].seal["ok"] is True  # a good seal, of the wrong unit


def test_sealkit_refuses_another_units_seal_up_front(world):
    with pytest.raises(FieldRequirementError, match=f"of unit {UNIT_A[0]}; .* of unit {UNIT_B[0]}"):
        sign(world, world["supplier_signed"], "other", "采购人", seal="B")


# --- the requirement cannot be changed, removed or added after the first signature ---------------------


def _set_fields(entries):
    def change(writer):
        private = writer.root["/PieceInfo"]["/Sealkit"]["/Private"]
        if entries is None:
            del private["/Fields"]
        else:
            private[pdf_name("/Fields")] = entries
        writer.update_root()

    return change


def _unsealed(name):
    return generic.ArrayObject(
        [
            generic.DictionaryObject(
                {
                    pdf_name("/T"): generic.TextStringObject(name),
                    pdf_name("/Seal"): generic.BooleanObject(False),
                }
            )
        ]
    )


@pytest.mark.parametrize("entries", [None, "unsealed"], ids=["removed", "relaxed"])
def test_removing_or_relaxing_the_requirement_after_signing_is_reported(world, entries):
    changed = incremental(
        world["supplier_signed"].read_bytes(), _set_fields(_unsealed("采购人") if entries else None)
    )
    forged = sign(world, changed, "mallory", "采购人", picture="A", forger=True)
    report, verdicts = verify(world, forged)
    supplier = verdicts["供应商"]
    assert report.indication == "TOTAL-FAILED" and supplier.indication == "TOTAL-FAILED"
    assert "modification.catalog-changed" in supplier.reasons, supplier.reasons
    assert supplier.sub_indication == "HASH_FAILURE"


def test_adding_a_requirement_only_after_the_first_signature_is_reported(world):
    contract = world["dir"] / "plain-prepared.pdf"
    prepare_fields(
        world["contract"],
        contract,
        [FieldSpec("供应商", Placement(page=3, rect_mm=SUPPLIER_RECT), (45, 45), seal_required=False)],
    )
    signed = sign(world, contract, "supplier", "供应商", picture="B")
    later = generic.ArrayObject(
        [
            generic.DictionaryObject(
                {
                    pdf_name("/T"): generic.TextStringObject("采购人"),
                    pdf_name("/Seal"): generic.BooleanObject(True),
                }
            )
        ]
    )
    changed = incremental(signed, _set_fields(later))
    report, verdicts = verify(world, changed)
    assert report.indication == "TOTAL-FAILED"
    assert "modification.catalog-changed" in verdicts["供应商"].reasons, verdicts["供应商"].reasons


# --- the verifier's policy for documents without prepared fields -------------------------------------------


@pytest.fixture(scope="module")
def plain_sealed(world):
    """The contract with no prepared requirements, sealed by the purchaser in its 'buyer' field."""
    return sign(world, world["contract"], "purchaser", "buyer", seal="A", size=30)


def test_require_seal_passes_a_sealed_signature(world, plain_sealed):
    report, verdicts = verify(world, plain_sealed, require_seal=True)
    assert report.indication == "TOTAL-PASSED", verdicts["buyer"].reasons
    (check,) = requirement_check(verdicts["buyer"])
    assert check.level == "pass" and check.detail.startswith(
        "the verification policy (require_seal) requires"
    )


def test_require_seal_refuses_mallorys_resignature_which_passes_without_it(world, plain_sealed):
    mallory = world["people"]["mallory"]
    forged = resign(plain_sealed, mallory.key_path, mallory.certificate, kind="rsa")
    report, verdicts = verify(world, forged)
    assert report.indication == "TOTAL-PASSED"  # the picture alone proves nothing, and nothing asked more
    report, verdicts = verify(world, forged, require_seal=True)
    assert_refused(
        report,
        verdicts["buyer"],
        "sig-constraints.seal-required",
        "the verification policy (require_seal) requires an electronic seal; the signature carries none",
    )


def test_require_seal_comes_from_the_configuration(world, plain_sealed, tmp_path):
    from sealkit.config import load_config
    from sealkit.errors import ConfigError

    mallory = world["people"]["mallory"]
    forged = resign(plain_sealed, mallory.key_path, mallory.certificate, kind="rsa")
    config_file = tmp_path / "sealkit.toml"
    config_file.write_text("[verify]\nrequire_seal = true\n", encoding="utf-8")
    report, _ = verify(world, forged, config=load_config(config_file))
    assert report.indication == "TOTAL-FAILED" and report.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    report, _ = verify(world, forged, config=load_config(config_file), require_seal=False)
    assert report.indication == "TOTAL-PASSED"  # the caller's explicit choice wins over the file
    config_file.write_text('[verify]\nrequire_seal = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[verify\] require_seal .* must be true or false"):
        verify(world, forged, config=load_config(config_file))


def test_a_required_seal_that_no_seal_checker_verified_is_not_a_pass(world, plain_sealed):
    from sealkit.pdf import verify_pdf

    report = verify_pdf(plain_sealed, trust=[world["pki"].root.cert_path], require_seal=True)
    verdict = report.signatures[0]
    assert report.indication == "INDETERMINATE" and verdict.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert "trust.seal-not-checked" in verdict.reasons


# --- the CLI: exit codes and one-line errors -------------------------------------------------------------


def _cli(capsys, *args):
    from sealkit_cli.main import run

    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def test_cli_prepare_records_requirements_and_refuses_bad_ones(world, capsys, tmp_path):
    out = tmp_path / "p.pdf"
    field = ["--field", "采购人@3:30,40,45,45", "--field", "供应商@3:120,40,45,45"]
    bad = "12370102MB0000042C"
    code, _, err = _cli(capsys, "prepare", world["contract"], "-o", out, *field, "--unit", f"采购人@{bad}")
    assert code == 2 and "not a unified social credit code" in _one_line(err) and not out.exists()
    code, _, err = _cli(capsys, "prepare", world["contract"], "-o", out, *field, "--unsealed", "乙")
    assert code == 2 and _one_line(err).endswith("--unsealed names no --field: 乙") and not out.exists()
    code, _, err = _cli(
        capsys,
        "prepare",
        world["contract"],
        "-o",
        out,
        *field,
        "--unsealed",
        "采购人",
        "--unit",
        f"采购人@{UNIT_A[0]}",
    )
    assert code == 2 and "takes none" in _one_line(err) and not out.exists()
    code, stdout, _ = _cli(
        capsys,
        "prepare",
        world["contract"],
        "-o",
        out,
        *field,
        "--unsealed",
        "供应商",
        "--unit",
        f"采购人@{UNIT_A[0]}",
        "--json",
    )
    assert code == 0
    fields = {f["name"]: f for f in json.loads(stdout)["fields"]}
    assert fields["采购人"]["seal_required"] and fields["采购人"]["unit"] == UNIT_A[0]
    assert not fields["供应商"]["seal_required"] and fields["供应商"]["unit"] is None
    code, stdout, _ = _cli(capsys, "prepare", world["contract"], "-o", tmp_path / "q.pdf", *field)
    assert code == 0 and "采购人 (page 3, seal required)" in stdout  # the default: every field is for a seal


def test_cli_sign_refuses_a_picture_in_a_sealed_field(world, capsys, tmp_path):
    mallory = world["people"]["mallory"]
    picture = tmp_path / "seal.png"
    picture.write_bytes(world["pictures"]["A"])
    out = tmp_path / "x.pdf"
    key = ["--key", mallory.keyref, "--cert", mallory.cert_path]
    image = ["--seal-image", picture, "--seal-size", "40,40"]
    source = world["supplier_signed"]
    code, _, err = _cli(capsys, "sign", source, "-o", out, *key, "--field", "采购人", *image)
    assert code == 9 and not out.exists()
    assert _one_line(err) == (
        "sealkit: field '采购人' requires an electronic seal; the signature carries none: "
        f"sign with --seal SEAL-ID, a registry seal of unit {UNIT_A[0]}"
    )


def test_cli_verify_require_seal_and_file_exit_codes(world, capsys, tmp_path, plain_sealed, honest):
    mallory = world["people"]["mallory"]
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(resign(plain_sealed, mallory.key_path, mallory.certificate, kind="rsa"))
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(honest)
    anchors = ["--trust", world["pki"].root.cert_path, "--seal-maker-trust", world["maker_root"]]
    assert _cli(capsys, "verify", forged, *anchors)[0] == 0
    code, out, err = _cli(capsys, "verify", forged, *anchors, "--require-seal")
    assert code == 3 and "Overall: TOTAL-FAILED / SIG_CONSTRAINTS_FAILURE" in out
    assert "✗ seal-required: the verification policy (require_seal) requires an electronic seal" in out
    assert _one_line(err).endswith("forged.pdf does not verify: TOTAL-FAILED / SIG_CONSTRAINTS_FAILURE")
    # filing (备案) requires every signature sealed, unless told otherwise
    folder = tmp_path / "filings"
    code, _, err = _cli(capsys, "file", forged, *anchors, "-o", folder)
    assert code == 3 and "is not filed" in _one_line(err) and not folder.exists()
    assert _cli(capsys, "file", forged, *anchors, "-o", folder, "--allow-unsealed")[0] == 0
    # the supplier signed unsealed in its field, so the sealed contract is filed with --allow-unsealed only
    assert _cli(capsys, "file", sealed, *anchors, "-o", folder)[0] == 3
    assert _cli(capsys, "verify", sealed, *anchors)[0] == 0
    code, out, _ = _cli(capsys, "file", sealed, *anchors, "-o", folder, "--allow-unsealed", "--json")
    assert code == 0 and json.loads(out)["indication"] == "TOTAL-PASSED"


# --- requirements sealkit cannot read; preparing in two steps -----------------------------------------------


def test_requirements_that_cannot_be_read_refuse_signing_and_fail_verification(world):
    broken = generic.ArrayObject(
        [
            generic.DictionaryObject(
                {
                    pdf_name("/T"): generic.TextStringObject("采购人"),
                    pdf_name("/Seal"): generic.BooleanObject(True),
                    pdf_name("/Unit"): generic.TextStringObject("not-a-code"),
                }
            )
        ]
    )
    prepared = world["dir"] / "broken-requirements.pdf"
    prepared.write_bytes(incremental(world["prepared"].read_bytes(), _set_fields(broken)))
    with pytest.raises(
        FieldRequirementError, match="cannot be read: .* not a valid USCC: prepare the document"
    ):
        sign(world, prepared, "supplier", "供应商", picture="B")
    forged = sign(world, prepared, "supplier", "供应商", picture="B", forger=True)
    report, verdicts = verify(world, forged)
    assert_refused(
        report,
        verdicts["供应商"],
        "sig-constraints.requirements-unreadable",
        "the field requirements cannot be read: field '采购人' names a unit that is not a valid USCC",
    )


def test_preparing_in_two_steps_keeps_the_order_and_every_requirement(world, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from sealkit.pdf import read_signing_order

    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    supplier = FieldSpec("供应商", Placement(page=3, rect_mm=SUPPLIER_RECT), (45, 45), seal_required=False)
    prepare_fields(world["contract"], first, [supplier])
    purchaser = FieldSpec("采购人", Placement(page=3, rect_mm=PURCHASER_RECT), (45, 45), unit=UNIT_A[0])
    prepare_fields(first, second, [purchaser], order=["供应商", "采购人"])
    reader = PdfFileReader(io.BytesIO(second.read_bytes()), strict=False)
    found = read_requirements(reader.root)
    assert found is not None and set(found.fields) == {"供应商", "采购人"}
    assert found.fields["采购人"].unit == UNIT_A[0] and not found.fields["供应商"].seal
    assert read_signing_order(reader) == ["供应商", "采购人"]


# --- the seal must be the signer's, and a document timestamp is no party's seal -----------------------------


def test_mallory_copying_the_purchasers_seal_into_her_signature_fails_as_not_its_holder(world):
    forged = sign(world, world["supplier_signed"], "mallory", "采购人", seal="A", forger=True)
    report, verdicts = verify(world, forged)
    verdict = verdicts["采购人"]
    assert report.indication == "TOTAL-FAILED" and verdict.indication == "TOTAL-FAILED"
    assert verdict.seal["ok"] is False and verdict.seal["reason"] == "seal.not-holder"
    assert "seal.invalid" in verdict.reasons  # the requirement is met in form; the seal is not hers
    assert [c.level for c in requirement_check(verdict)] == ["pass"]


def test_a_document_timestamp_in_a_field_prepared_for_a_seal_fails(world):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from sealkit.dev.responses import KeyedIdentity
    from tests.pdf_verify.test_review_forgeries import FixedTimeTSA

    tsa = KeyedIdentity.load(world["pki"].issue("tsa", "tsa"))
    writer = IncrementalPdfFileWriter(io.BytesIO(world["prepared"].read_bytes()), strict=False)
    out = io.BytesIO()
    stamper = FixedTimeTSA(tsa, dt.datetime.now(dt.UTC).replace(microsecond=0))
    signers.PdfTimeStamper(stamper, field_name="采购人").timestamp_pdf(writer, "sha256", output=out)
    report, verdicts = verify(world, out.getvalue())
    assert_refused(
        report,
        verdicts["采购人"],
        "sig-constraints.seal-required",
        "field '采购人' requires an electronic seal; the document timestamp carries none",
    )


# -- forger5 a1: the first signer writes the revision it signs ---------------------------------------------


def _drop_requirements(writer):
    private = writer.root["/PieceInfo"]["/Sealkit"]["/Private"]
    del private["/Fields"]
    del private["/SigningOrder"]
    writer.update_root()


def _garble_piece_info(writer):
    writer.root[pdf_name("/PieceInfo")] = generic.ArrayObject([writer.root["/PieceInfo"]])
    writer.update_root()


def _rename_purchaser_field(writer):
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if str(field.get("/T")) == "采购人":
            field[pdf_name("/T")] = generic.TextStringObject("采购人\u200b")
            writer.mark_update(ref)
    del writer.root["/PieceInfo"]["/Sealkit"]["/Private"]["/SigningOrder"]
    writer.update_root()


@pytest.mark.parametrize(
    ("change", "field", "who", "seal", "reason", "detail"),
    [
        (
            _drop_requirements,
            "采购人",
            "mallory",
            None,
            "sig-constraints.requirements-changed",
            "the requirement of field '供应商', written in revision 2, was removed in revision 3, "
            "before this signature",
        ),
        (
            _garble_piece_info,
            "采购人",
            "mallory",
            None,
            "sig-constraints.requirements-unreadable",
            "the field requirements cannot be read: /PieceInfo is not a dictionary",
        ),
        (
            _rename_purchaser_field,
            "采购人\u200b",
            "other",
            "B",
            "sig-constraints.requirements-changed",
            "the requirements name field '采购人', which the signed document does not have",
        ),
    ],
    ids=["dropped", "garbled", "renamed"],
)
def test_the_first_signer_cannot_drop_the_requirements_it_signs(
    world, change, field, who, seal, reason, detail
):
    """Before anyone signs, anyone can edit the prepared contract; Mallory drops (or garbles) the
    requirements in her own update, or renames the purchaser's field to a look-alike, and signs it behind the
    purchaser's picture. Requirements once written may only grow until the signature, and must name fields
    the signed document has."""
    changed = incremental(world["prepared"].read_bytes(), change)
    forged = sign(world, changed, who, field, seal=seal, picture=seal or "A", forger=True)
    report, verdicts = verify(world, forged)
    assert_refused(report, verdicts[field], reason, detail)
