"""The xref audit (issue 10): every forgery that makes pyHanko and poppler read the cross-reference layer
differently is TOTAL-FAILED / FORMAT_FAILURE with a ``structure.*`` reason, in the signed revisions too;
honest files written by pyHanko, qpdf/pikepdf (linearized, object streams, xref streams), hybrid-reference
files and DSS updates still pass; and sealkit signs an ambiguous unsigned input only as a clean rewrite."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib

import pytest
from pyhanko.sign.validation.dss import DocumentSecurityStore

from sealkit.errors import PdfError
from sealkit.exit_codes import exit_code_for
from sealkit.pdf import verify_pdf
from sealkit.pdf.xref_audit import audit_xref
from tests.pdf_verify import forgeries as f
from tests.pdf_verify import xref_forgeries as x
from tests.pdf_verify.contracts import contract_pdf, sign


def _failed(report, reason: str) -> None:
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE"), report.to_dict()
    for sig in report.signatures:
        assert (sig.indication, sig.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
        assert reason in sig.reasons, sig.reasons


def _passed(data: bytes, trust) -> None:
    assert audit_xref(data).findings == []
    report = verify_pdf(data, trust=trust)
    assert report.passed, report.to_dict()


@pytest.fixture(scope="module")
def buyer(rsa_pki):
    return rsa_pki.signer("Buyer Ltd")


# -- forgeries after signing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "forge", "reason"), x.AFTER_SIGNING, ids=[a[0] for a in x.AFTER_SIGNING])
def test_forgery_after_signing_fails(signed, trust, name, forge, reason):
    _failed(verify_pdf(forge(signed), trust=trust), reason)


def test_comment_between_header_tokens_is_an_object_header(signed):
    forged = x.dup_subsection(signed)
    evil = forged.index(b"10 0 %x\nobj")
    assert any(f"offset {evil}" in f.detail for f in audit_xref(forged).findings)


# -- shadows planted before signing, switched on after ------------------------------------------------------


def test_hidden_shadow_in_signed_revision_fails_even_before_the_switch(buyer, trust):
    signed = sign(x.unsigned_with_hidden_shadow(), buyer)
    _failed(verify_pdf(signed, trust=trust), "structure.unregistered-object")
    _failed(verify_pdf(x.startxref_plus(signed), trust=trust), "structure.startxref")
    _failed(verify_pdf(x.free_then_used(signed), trust=trust), "structure.duplicate-xref-entry")
    _failed(verify_pdf(x.type3_entry(signed), trust=trust), "structure.xref-entry-type")


def test_duplicate_entry_in_signed_revision_fails(buyer, trust):
    signed = sign(x.unsigned_with_duplicate_entry(), buyer)
    _failed(verify_pdf(signed, trust=trust), "structure.duplicate-xref-entry")
    forged = x.reregister_evil_copy(signed)
    _failed(verify_pdf(forged, trust=trust), "structure.duplicate-xref-entry")
    assert "structure.duplicate-object" in verify_pdf(forged, trust=trust).signatures[0].reasons


@pytest.mark.parametrize("comment", [1200, 100 * 1024], ids=["1KiB", "100KiB"])
def test_linearized_first_object_after_a_long_comment_fails(buyer, trust, comment):
    """forger2 a03: poppler reads the first object wherever it is; /L is a length the file reaches only
    after an empty update appended to the signed file (then poppler rebuilds the xref by scanning and
    shows revision 1's forged stamp)."""
    dry = sign(x.unsigned_far_linearized(comment, 1), buyer)
    length = len(dry) + 2000
    unsigned = x.unsigned_far_linearized(comment, length)
    assert unsigned.index(b"/Linearized") > comment
    assert "structure.linearization" in audit_xref(unsigned).reasons
    signed = sign(unsigned, buyer)
    _failed(verify_pdf(signed, trust=trust), "structure.linearization")
    forged = x.pad_update(signed, length)
    assert len(forged) == length
    _failed(verify_pdf(forged, trust=trust), "structure.linearization")
    assert any("a later revision or of the file" in f.detail for f in audit_xref(forged).findings)


def test_stray_linearized_dictionary_reaching_the_file_length_fails(buyer, trust):
    """A /Linearized dictionary that is not the first object, with /L a length the file reaches later."""
    contract = contract_pdf()
    dry = sign(f.raw_update(contract, {99: b"<< /Linearized 1 /L %010d >>" % 1}), buyer)
    length = len(dry) + 2000
    signed = sign(f.raw_update(contract, {99: b"<< /Linearized 1 /L %010d >>" % length}), buyer)
    assert verify_pdf(signed, trust=trust).passed  # no length the file has: nothing to switch yet
    _failed(verify_pdf(x.pad_update(signed, length), trust=trust), "structure.linearization")


def test_linearized_trap_fails(buyer, trust):
    dry = sign(x.unsigned_linearized_trap(1), buyer)
    signed = sign(x.unsigned_linearized_trap(len(dry) + 200), buyer)
    _failed(verify_pdf(signed, trust=trust), "structure.linearization")
    forged = x.pad_to_linearized_length(signed)
    _failed(verify_pdf(forged, trust=trust), "structure.linearization")
    _failed(verify_pdf(forged, trust=trust), "structure.after-eof")
    _failed(verify_pdf(forged, trust=trust), "structure.unreached-xref")


@pytest.mark.parametrize("type_name", [b"/XRef", b"/X#52ef"])
def test_xref_stream_outside_the_chain_fails(signed, trust, type_name):
    """An xref stream object that no startxref, /Prev or /XRefStm reaches (a reader rebuilding the xref
    may use it), its /Type written plainly or with a name escape."""
    stray = b"<< /Type %s /Size 1 /W [1 4 2] /Length 0 >>\nstream\n\nendstream" % type_name
    forged = x.xref_stream_update(signed, {60: stray}, {}, 61)
    _failed(verify_pdf(forged, trust=trust), "structure.unreached-xref")


def test_trailing_spaces_after_eof_fail(signed, trust):
    _failed(verify_pdf(signed + b"   \n", trust=trust), "structure.after-eof")


def test_objstm_with_inconsistent_first_fails(signed, trust):
    members = x.objstm([(10, x._body(signed, 10))]).replace(b"/First ", b"/First 1", 1)
    forged = x.xref_stream_update(signed, {50: members}, {10: (50, 0)}, 51)
    _failed(verify_pdf(forged, trust=trust), "structure.object-stream")


def test_overlapping_index_ranges_fail(signed, trust):
    row = bytes([1]) + (signed.find(b"\n10 0 obj") + 1).to_bytes(4, "big") + bytes(2)
    forged = x.xref_stream_update(signed, {}, {}, 60, rows_override=[(10, row), (10, row), (60, None)])
    _failed(verify_pdf(forged, trust=trust), "structure.duplicate-xref-entry")


# -- honest twins -------------------------------------------------------------------------------------------


def test_incremental_updates_and_two_parties_pass(signed, rsa_pki, trust):
    _passed(signed, trust)
    _passed(sign(signed, rsa_pki.signer("Supplier Co"), "supplier"), trust)


def test_dss_update_passes(signed, rsa_pki, trust):
    out = io.BytesIO(signed)
    from pyhanko.pdf_utils.reader import PdfFileReader

    contents = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].pkcs7_content
    DocumentSecurityStore.add_dss(out, contents, certs=[rsa_pki.pki.root.certificate])
    updated = out.getvalue()
    assert len(updated) > len(signed)
    _passed(updated, trust)


def test_hybrid_reference_file_passes(buyer, trust):
    """A hand-made hybrid-reference file: the font dictionary in an object stream, listed free in the table
    and as type 2 in the /XRefStm stream."""
    honest = contract_pdf()
    xref_at = honest.rindex(b"\nxref\n") + 1
    font = x._body(honest, 4)  # the font dictionary moves into an object stream
    old = b"4 0 obj\n%s\nendobj\n" % font
    body = bytearray(honest[:xref_at].replace(old, b" " * (len(old) - 1) + b"\n"))
    offsets = {int(m.group(1)): m.start() for m in re.finditer(rb"(?m)^(\d+) 0 obj", body)}
    stm_at = len(body)
    body += b"30 0 obj\n" + x.objstm([(4, font)]) + b"\nendobj\n"
    rows = bytes([2]) + (30).to_bytes(4, "big") + bytes(2)
    packed = zlib.compress(rows)
    xs_at = len(body)
    body += (
        b"31 0 obj\n<< /Type /XRef /Size 32 /Index [4 1] /W [1 4 2] /Filter /FlateDecode"
        b" /Length %d >>\nstream\n" % len(packed)
    )
    body += packed + b"\nendstream\nendobj\n"
    table_at = len(body)
    body += b"xref\n0 32\n0000000000 65535 f \n"
    for number in range(1, 32):
        where = {30: stm_at, 31: xs_at}.get(number, offsets.get(number if number != 4 else -1))
        body += b"%010d 00000 n \n" % where if where is not None else b"0000000000 00000 f \n"
    body += b"trailer\n<< /Size 32 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (xs_at, table_at)
    hybrid = bytes(body)
    assert audit_xref(hybrid).findings == []
    _passed(sign(hybrid, buyer), trust)


def _pikepdf(data: bytes, **save) -> bytes:
    pike = pytest.importorskip("pikepdf")
    out = io.BytesIO()
    with pike.open(io.BytesIO(data)) as pdf:
        pdf.save(out, **save)
    return out.getvalue()


def test_object_streams_and_xref_streams_pass(buyer, rsa_pki, trust):
    pike = pytest.importorskip("pikepdf")
    data = _pikepdf(contract_pdf(), object_stream_mode=pike.ObjectStreamMode.generate)
    assert b"/ObjStm" in data and b"/XRef" in data
    assert audit_xref(data).findings == []
    once = sign(data, buyer)
    _passed(once, trust)
    _passed(sign(once, rsa_pki.signer("Supplier Co"), "supplier"), trust)


def test_linearized_input_passes(buyer, trust, tmp_path, rsa_pki):
    if shutil.which("qpdf"):
        (tmp_path / "in.pdf").write_bytes(contract_pdf())
        subprocess.run(["qpdf", "--linearize", tmp_path / "in.pdf", tmp_path / "lin.pdf"], check=True)
        linearized = (tmp_path / "lin.pdf").read_bytes()
    else:
        linearized = _pikepdf(contract_pdf(), linearize=True)
    assert b"/Linearized" in linearized[:1024]
    assert audit_xref(linearized).findings == []
    once = sign(linearized, buyer)
    _passed(once, trust)
    _passed(sign(once, rsa_pki.signer("Supplier Co"), "supplier"), trust)  # /L stays revision 1's end


def test_linearized_with_object_streams_passes(buyer, trust):
    pike = pytest.importorskip("pikepdf")
    data = _pikepdf(contract_pdf(), linearize=True, object_stream_mode=pike.ObjectStreamMode.generate)
    assert audit_xref(data).findings == []
    _passed(sign(data, buyer), trust)


# -- the sign side: whatever sealkit signs, sealkit verifies ------------------------------------------------


@pytest.fixture(scope="module")
def buyer_key(rsa_pki):
    from sealkit.ukey import open_key

    ident = rsa_pki.identity("Buyer Ltd")
    with open_key(f"file:{ident.key_path}") as key:
        yield key, ident


def _unsigned_with_duplicate_key() -> bytes:
    contract = contract_pdf()
    page1 = x._body(contract, 10)
    update = {
        10: page1.replace(b"/Contents 11 0 R", b"/Contents 11 0 R /Contents 41 0 R"),
        40: x.stamp_annot(41),
    }
    return f.raw_update(contract, {**update, 41: f.content_stream(x.AMOUNT_AP)})


@pytest.mark.parametrize(
    "unsigned",
    [
        x.unsigned_with_hidden_shadow,
        x.unsigned_with_duplicate_entry,
        lambda: x.unsigned_linearized_trap(20000),
        lambda: x.unsigned_far_linearized(1200, 60000),
        lambda: x.unsigned_far_linearized(100 * 1024, 200000),
        _unsigned_with_duplicate_key,
    ],
    ids=[
        "hidden-shadow",
        "duplicate-entry",
        "linearized-trap",
        "far-linearized",
        "far-linearized-100k",
        "duplicate-key",
    ],
)
def test_sealkit_signs_a_clean_rewrite_of_an_ambiguous_input(unsigned, buyer_key, trust, tmp_path):
    from sealkit.pdf.sign import sign_pdf

    key, ident = buyer_key
    source = tmp_path / "in.pdf"
    source.write_bytes(unsigned())
    before = source.read_bytes()
    result = sign_pdf(source, tmp_path / "out.pdf", key, cert=ident.cert_path, field="buyer")
    assert source.read_bytes() == before  # the input is never modified
    assert any("clean rewrite" in w for w in result.warnings)
    out = (tmp_path / "out.pdf").read_bytes()
    assert b"FORGED" not in out or unsigned is _unsigned_with_duplicate_key  # hidden pages are gone
    _passed(out, trust)


@pytest.mark.parametrize(
    "unsigned",
    [x.unsigned_with_duplicate_entry, lambda: x.unsigned_far_linearized(1200, 60000)],
    ids=["duplicate-entry", "far-linearized"],
)
def test_sealkit_refuses_to_sign_an_ambiguous_signed_input(unsigned, buyer, buyer_key, tmp_path):
    from sealkit.pdf.sign import sign_pdf

    key, ident = buyer_key
    source = tmp_path / "in.pdf"
    source.write_bytes(sign(unsigned(), buyer))
    with pytest.raises(PdfError, match="already signed") as refused:
        sign_pdf(source, tmp_path / "out.pdf", key, cert=ident.cert_path, field="supplier")
    assert "\n" not in str(refused.value)
    assert exit_code_for(refused.value) == 9
    assert not (tmp_path / "out.pdf").exists()


HEADERS = [b"10 0 obj", b"10 0 %x\nobj", b"10" + b" " * 300 + b"0 obj", b"10 0 %" + b"a" * 1000 + b"\nobj"]


@pytest.mark.parametrize("header", HEADERS)
def test_headers_with_spaces_or_comments_between_tokens_are_found(header):
    """The backward match around each 'obj' sees what a forward tokenizer sees (within 4 KiB)."""
    from sealkit.pdf.xref_audit import find_headers

    data = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n" + header + b"\n<<>>\nendobj\n"
    assert find_headers(data) == [(9, 1, 0), (29, 10, 0)]
