# ruff: noqa: E501 - long PDF literals and assertions read better on one line
"""Attacks made against a freshly signed contract: each must fail, for the right reason."""

import pytest

from sealkit.pdf import verify_pdf
from tests.pdf_verify import tampering as t
from tests.pdf_verify.contracts import sign


def categories(report):
    return {r.split(".")[0] for s in report.signatures for r in s.reasons} | {
        r.split(".")[0] for r in report.file["reasons"]
    }


def reasons(report):
    return {r for s in report.signatures for r in s.reasons} | set(report.file["reasons"])


def assert_rejected(report, *expected):
    assert report.indication == "TOTAL-FAILED", report.to_dict()
    assert not report.passed
    found = reasons(report)
    assert any(any(r == e or r.startswith(e + ".") for r in found) for e in expected), found


def test_honest_signature_passes(signed, trust):
    report = verify_pdf(signed, trust=trust)
    assert report.passed
    (sig,) = report.signatures
    assert (sig.field, sig.coverage, sig.modification, sig.algorithm) == (
        "buyer",
        "entire-file",
        "none",
        "RSA-SHA256",
    )
    assert sig.intact and sig.trusted and sig.signer.startswith("Common Name: Buyer Ltd")
    assert report.file["unsigned_fields"] == ["supplier"]


def test_only_an_end_of_line_may_follow_the_last_eof(signed, trust):
    """Padding after %%EOF is how a /Linearized length is met after signing (issue 10, a02)."""
    assert signed.endswith(b"%%EOF\n") and verify_pdf(signed, trust=trust).passed
    assert_rejected(verify_pdf(signed + b"\r\n \x00\x00\n", trust=trust), "structure.after-eof")


CHANGES = {
    "page-content": (t.replace_page_content, "modification.page-content"),
    "overlay-annotation": (t.add_overlay_annotation, "modification.annotation-added"),
    "field-value": (t.change_field_value, "modification.field-changed"),
    "new-page": (t.add_page, "modification.page-added"),
    "changed-object": (t.change_font, "modification.default-resources"),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_incremental_update_after_signing_fails(signed, trust, name):
    change, reason = CHANGES[name]
    report = verify_pdf(t.incremental(signed, change), trust=trust)
    assert_rejected(report, reason)
    (sig,) = report.signatures
    assert sig.intact and sig.trusted  # the signature itself is fine: the document changed
    assert sig.coverage == "entire-revision"
    detail = next(c.detail for c in sig.checks if c.name == "modification" and not c.ok)
    assert "changed after signing" in detail


def test_changed_field_value_is_named(signed, trust):
    report = verify_pdf(t.incremental(signed, t.change_field_value), trust=trust)
    detail = next(c.detail for c in report.signatures[0].checks if c.name == "modification")
    assert "form field 'amount' (object 5): /V: 100000.00 became 1.00" in detail
    assert report.signatures[0].modification == "other"


def test_new_page_is_named(signed, trust):
    report = verify_pdf(t.incremental(signed, t.add_page), trust=trust)
    detail = next(c.detail for c in report.signatures[0].checks if c.name == "modification")
    assert "page count changed from 3 to 4" in detail


def test_hidden_update_after_eof(signed, trust):
    assert_rejected(
        verify_pdf(t.hidden_update_after_eof(signed), trust=trust), "modification.unaccounted-bytes"
    )


def test_hidden_update_behind_empty_xref(signed, trust):
    report = verify_pdf(t.hidden_update_behind_empty_xref(signed), trust=trust)
    assert_rejected(report, "structure.unregistered-object")


@pytest.mark.parametrize("tail", [b"X", b"%comment\n", b"\n1 0 obj\n<<>>\nendobj\n"])
def test_bytes_after_eof(signed, trust, tail):
    assert_rejected(verify_pdf(signed + tail, trust=trust), "modification.unaccounted-bytes")


def test_signature_wrapping_moved_byte_range(signed, trust):
    # The second range is moved forward: the bytes it leaves behind join the unsigned gap.
    (_, len1, start2, len2), _, _ = t.byte_range(signed)
    attacked = t.set_byte_range(signed, b"/ByteRange [0 %d %d %d]" % (len1, start2 + 12, len2 - 12))
    assert_rejected(verify_pdf(attacked, trust=trust), "coverage.gap-not-contents")


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("zeroed", b"", "format.contents-not-cms"),
        ("garbage", b"DEADBEEF" * 40, "format.contents-not-cms"),
        ("truncated", None, "format.contents-not-cms"),
    ],
)
def test_universal_forgery_contents(signed, trust, name, body, expected):
    if body is None:
        start, end = t.contents_span(signed)
        body = signed[start + 1 : start + 1 + 200]
    assert_rejected(verify_pdf(t.replace_contents_hex(signed, body), trust=trust), expected)


def test_emptied_contents(signed, trust):
    start, end = t.contents_span(signed)
    emptied = signed[:start] + b"<>" + b" " * (end - start - 2) + signed[end:]
    report = verify_pdf(emptied, trust=trust)
    assert_rejected(report, "format", "coverage")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"/ByteRangX [0 1 2 3]", "coverage.byte-range-missing"),
        (b"/ByteRange null", "coverage.byte-range-malformed"),
        (b"/ByteRange [0 10 20]", "coverage.byte-range-malformed"),
        (b"/ByteRange [0 10 20 30 40 50]", "coverage.byte-range-malformed"),
        (b"/ByteRange [0 -1 20 30]", "coverage.byte-range-malformed"),
        (b"/ByteRange [0 1.5 20 30]", "coverage.byte-range-malformed"),
        (b"/ByteRange (0 10 20 30)", "coverage.byte-range-malformed"),
    ],
)
def test_malformed_byte_range(signed, trust, text, expected):
    assert_rejected(verify_pdf(t.set_byte_range(signed, text), trust=trust), expected)


def _with_range(signed, transform):
    numbers, _, _ = t.byte_range(signed)
    return t.set_byte_range(signed, b"/ByteRange [%d %d %d %d]" % tuple(transform(*numbers)))


@pytest.mark.parametrize(
    ("name", "transform", "expected"),
    [
        ("not-at-zero", lambda a, b, c, d: (5, b - 5, c, d), "coverage.byte-range-not-at-start"),
        ("gap-wider", lambda a, b, c, d: (a, b - 2, c + 2, d - 2), "coverage.gap-not-contents"),
        ("gap-narrower", lambda a, b, c, d: (a, b + 2, c - 2, d + 2), "coverage.gap-not-contents"),
        ("overlap", lambda a, b, c, d: (a, c + 10, c, d), "coverage.byte-range-overlap"),
        ("beyond-file", lambda a, b, c, d: (a, b, c, d + 100), "coverage.byte-range-outside-file"),
        ("short-tail", lambda a, b, c, d: (a, b, c, d - 30), "coverage.partial"),
    ],
)
def test_byte_range_anomalies(signed, trust, name, transform, expected):
    assert_rejected(verify_pdf(_with_range(signed, transform), trust=trust), expected)


def test_second_signature_keeps_first_valid(signed, rsa_pki, trust):
    both = sign(signed, rsa_pki.signer("Supplier Co"), "supplier")
    report = verify_pdf(both, trust=trust)
    assert report.passed, report.to_dict()
    first, second = report.signatures
    assert (first.coverage, first.modification) == ("entire-revision", "form-filling")
    assert (second.coverage, second.modification) == ("entire-file", "none")
    assert report.file["unsigned_fields"] == []


def test_new_signature_field_after_signing_is_allowed(signed, rsa_pki, trust):
    extra = sign(signed, rsa_pki.signer("Witness"), "witness", new_field_box=(72, 300, 222, 360))
    assert verify_pdf(extra, trust=trust).passed


def test_tampering_after_second_signature_fails_both(signed, rsa_pki, trust):
    both = sign(signed, rsa_pki.signer("Supplier Co"), "supplier")
    report = verify_pdf(t.incremental(both, t.change_field_value), trust=trust)
    assert [s.indication for s in report.signatures] == ["TOTAL-FAILED", "TOTAL-FAILED"]


def test_inputs_are_not_modified(tmp_path, signed, trust):
    path = tmp_path / "c.pdf"
    path.write_bytes(signed)
    verify_pdf(path, trust=trust)
    assert path.read_bytes() == signed
