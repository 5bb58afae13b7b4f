# ruff: noqa: E501 - long PDF literals read better on one line
"""A key written twice in a dictionary (``structure.duplicate-key``) is found wherever an update writes it:
directly, nested, behind escapes, comments and strings, inside object streams, and where sealkit's lexer
cannot read the object but pyHanko can. Each attack has an honest twin that reads one way only.

:func:`sealkit.pdf.verify_structure.update_syntax_problems` reads objects with sealkit's lexer and with
pyHanko's strict parser only where the lexer gives up; the differential test checks that it flags every
object that pyHanko's strict parser alone (the lexer switched off) flags.
"""

from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from sealkit.pdf import verify_pdf, verify_structure
from tests.pdf_verify import forgeries as f
from tests.pdf_verify import xref_forgeries as x

PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] %s /Resources << /Font << /Helv 4 0 R >> >> >>"

#: (name, the page dictionary's extra entries with a repeated key, the same without the repetition)
CASES = [
    ("plain", b"/Contents 11 0 R /Contents 99 0 R", b"/Contents 11 0 R"),
    ("escaped", b"/Contents 11 0 R /C#6fntents 99 0 R", b"/Contents 11 0 R /C#6fntentsX 99 0 R"),
    (
        "nested",
        b"/Contents 11 0 R /Group << /S /Transparency /CS /DeviceRGB /S /Other >>",
        b"/Contents 11 0 R /Group << /S /Transparency /CS /DeviceRGB >>",
    ),
    (
        "in-array",
        b"/Contents 11 0 R /Extra [1 << /A 1 /B [<< /C 2 /C 3 >>] >>]",
        b"/Contents 11 0 R /Extra [1 << /A 1 /B [<< /C 2 /D 3 >>] >>]",
    ),
    (
        "after-comment",
        b"/Contents 11 0 R % >> /Contents 99 0 R\n /Contents 99 0 R",
        b"/Contents 11 0 R % >> /Contents 99 0 R\n",
    ),
    (
        "after-string",
        b"/Contents 11 0 R /T (a\\) >> /Contents \\(b\\\\) /Contents 99 0 R",
        b"/Contents 11 0 R /T (a\\) >> /Contents \\(b\\\\)",
    ),
    ("after-hex", b"/Contents 11 0 R /H <41 42 >/Contents 99 0 R", b"/Contents 11 0 R /H <41 42 >"),
    # the lexer gives up on these (a vertical tab in a reference, a six-digit generation); pyHanko reads them
    (
        "vertical-tab-ref",
        b"/Foo 1\x0b0 R /Contents 11 0 R /Contents 99 0 R",
        b"/Foo 1\x0b0 R /Contents 11 0 R",
    ),
    (
        "long-generation",
        b"/Foo 1 000000 R /Contents 11 0 R /Contents 99 0 R",
        b"/Foo 1 000000 R /Contents 11 0 R",
    ),
]


@pytest.fixture(scope="module")
def signed_contract(signed):
    return signed


def _direct(signed: bytes, entries: bytes) -> bytes:
    return f.raw_update(
        signed, {99: f.content_stream(b"BT /Helv 12 Tf 72 740 Td (FORGED) Tj ET"), 10: PAGE % entries}
    )


def _in_object_stream(signed: bytes, entries: bytes) -> bytes:
    members = x.objstm([(10, PAGE % entries)])
    return x.xref_stream_update(signed, {99: f.content_stream(b"BT ET"), 50: members}, {10: (50, 0)}, 51)


def _flagged(data: bytes) -> set[str]:
    """The objects that update_syntax_problems flags, over every revision ("object N G …")."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    details = [
        d
        for r in range(reader.xrefs.total_revisions)
        for _, d in verify_structure.update_syntax_problems(reader, r)
    ]
    return {re.match(r"object \d+ \d+(?: \(in object stream \d+\))?", d).group() for d in details}  # type: ignore[union-attr]


@pytest.mark.parametrize("build", [_direct, _in_object_stream], ids=["direct", "object-stream"])
@pytest.mark.parametrize(("name", "repeated", "honest"), CASES, ids=[c[0] for c in CASES])
def test_every_object_pyhanko_flags_is_flagged(signed_contract, build, name, repeated, honest, monkeypatch):
    attack, twin = build(signed_contract, repeated), build(signed_contract, honest)
    ours = _flagged(attack)
    assert ours and all("10 0" in o for o in ours), ours
    assert _flagged(twin) == set()
    with monkeypatch.context() as m:  # pyHanko's strict parser alone, as before the lexer read objects
        m.setattr(verify_structure, "_lex", lambda data, position: None)
        theirs = _flagged(attack)
        assert theirs and theirs <= ours
        assert _flagged(twin) == set()


@pytest.mark.parametrize("build", [_direct, _in_object_stream], ids=["direct", "object-stream"])
@pytest.mark.parametrize("case", ["escaped", "vertical-tab-ref"])
def test_repeated_key_in_a_later_update_fails_the_signature(signed_contract, trust, build, case):
    repeated = dict((c[0], c[1]) for c in CASES)[case]
    report = verify_pdf(build(signed_contract, repeated), trust=trust)
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    assert "structure.duplicate-key" in report.signatures[0].reasons


def test_repeated_key_found_in_a_file_as_in_bytes(signed_contract, trust, tmp_path):
    """Verifying a path reads objects through a memory map of the file: the same finding as from bytes."""
    attack = tmp_path / "attack.pdf"
    attack.write_bytes(_in_object_stream(signed_contract, CASES[1][1]))
    from_file, from_bytes = verify_pdf(attack, trust=trust), verify_pdf(attack.read_bytes(), trust=trust)
    assert "structure.duplicate-key" in from_file.signatures[0].reasons
    assert from_file.signatures[0].reasons == from_bytes.signatures[0].reasons


def test_repeated_key_in_a_signed_object_stream_fails(contract, rsa_pki, trust):
    """Signed content with a key written twice inside an object stream: the signature cannot say what was
    signed."""
    ambiguous = _in_object_stream(contract, CASES[0][1])
    report = verify_pdf(f.sign_as(ambiguous, rsa_pki.signer("Buyer Ltd"), "buyer"), trust=trust)
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    failed = [
        c.detail for c in report.signatures[0].checks if c.name == "ambiguous-syntax" and c.level == "fail"
    ]
    assert any("object 10 0 (in object stream 50)" in d and "/Contents" in d for d in failed), failed


def test_honest_object_stream_update_reads_one_way(contract, rsa_pki, trust):
    honest = _in_object_stream(contract, CASES[0][2])
    report = verify_pdf(f.sign_as(honest, rsa_pki.signer("Buyer Ltd"), "buyer"), trust=trust)
    assert "structure.duplicate-key" not in report.signatures[0].reasons
    assert not [c for c in report.signatures[0].checks if c.name == "ambiguous-syntax" and c.level == "fail"]
