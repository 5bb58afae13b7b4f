# ruff: noqa: E501 - long assertions read better on one line
"""Further attempts to get around the modification rules (beyond issue 10's list), each with a twin."""

from __future__ import annotations

import pytest

from sealkit.pdf import verify_pdf
from tests.pdf_verify import forgeries as f
from tests.pdf_verify.test_forgeries import assert_forged, assert_passes

BYPASSES = [
    # (builder, reason, words the report must name)
    (f.redefine_page_content, "modification.page-content", ("page 1", "/Contents", "object 11")),
    (f.hybrid_page_content, "modification.page-content", ("page 1", "object 11")),
    (
        f.annots_to_indirect_array,
        "modification.annotation-added",
        ("page 1", "/FreeText", "[300 700 500 720]"),
    ),
    (f.swap_widget_parent, "modification.signed-field-changed", ("'buyer'", "/Parent")),
    (f.page_resources_xobject, "modification.page-resources", ("page 1", "/Resources")),
    (f.copied_field_in_fields, "modification.field-changed", ("'amount' (object 994)", "1200000.00")),
    (f.open_action_javascript, "modification.action-added", ("/OpenAction",)),
    (f.names_javascript, "modification.action-added", ("/Names", "/JavaScript")),
    (f.object_stream_update, "modification.field-changed", ("'amount'", "/V", "1.00")),
    (f.page_tree_cycle, "modification.page-added", ("/Kids: 3 entries became 4",)),
    (f.page_count_lie, "modification.page-changed", ("/Count: 3 became 2",)),
]


@pytest.mark.parametrize(("build", "reason", "words"), BYPASSES, ids=[b[0].__name__ for b in BYPASSES])
def test_bypass_fails(signed, trust, build, reason, words):
    assert_forged(verify_pdf(build(signed), trust=trust), reason, *words)


@pytest.mark.parametrize(
    "build",
    [f.redefine_identically, lambda data: f.annots_to_indirect_array(data, extra=False)],
    ids=["same-object-written-again", "annots-made-indirect-unchanged"],
)
def test_twins_that_change_nothing_a_reader_sees_pass(signed, trust, build):
    """Rewriting an object with the same content, or moving /Annots into an indirect array that holds the
    same annotations, changes no value: the rules compare values, so these pass."""
    assert_passes(verify_pdf(build(signed), trust=trust))


def test_freed_page_content_fails(signed, trust):
    """Freeing the object a signed page draws (a revision whose xref marks it free)."""
    import re

    prev = int(re.findall(rb"startxref\s+(\d+)", signed)[-1])
    size = int(re.findall(rb"/Size (\d+)", signed)[-1])
    xref_at = len(signed)
    tail = (
        b"xref\n0 1\n0000000011 65535 f \n11 1\n0000000000 00001 f \ntrailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (size, prev, xref_at)
    )
    report = verify_pdf(signed + tail, trust=trust)
    assert report.indication == "TOTAL-FAILED"
    assert {r for s in report.signatures for r in s.reasons} & {
        "modification.page-content",
        "modification.unreadable-update",
    }
