"""``fixtures/make_fixtures.py``, run as a user runs it: what it writes is usable as documented."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from sealkit.pdf import verify_pdf
from sealkit.pdf.fields import field_widgets, read_signing_order, signature_fields
from sealkit.seal import image_size_mm

SCRIPT = Path(__file__).resolve().parents[2] / "fixtures" / "make_fixtures.py"


@pytest.fixture(scope="module")
def fixtures_dir(tmp_path_factory, font_file):
    out = tmp_path_factory.mktemp("fixtures") / "made"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), "--date", "2025-03-01"],
        capture_output=True,
        text=True,
        env={**os.environ, "SEALKIT_CJK_FONT": str(font_file)},
    )
    assert done.returncode == 0, done.stderr
    assert "prepared:" in done.stdout
    return out


def test_writes_the_documented_files(fixtures_dir):
    assert sorted(p.name for p in fixtures_dir.iterdir()) == [
        "contract.pdf",
        "prepared.pdf",
        "purchaser-seal.png",
        "supplier-seal.png",
    ]
    assert len(PdfReader(fixtures_dir / "contract.pdf").pages) == 3


def test_prepared_contract_has_both_empty_fields_the_order_and_the_reserved_strips(fixtures_dir):
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(fixtures_dir / "prepared.pdf", "rb") as handle:
        reader = PdfFileReader(handle)
        assert signature_fields(reader) == {"供应商": False, "采购人": False}
        assert read_signing_order(reader) == ["供应商", "采购人"]
        assert len(field_widgets(reader, "供应商")[2]) == 0
        assert len(field_widgets(reader, "采购人")[2]) == 3  # the purchaser's cross-page seal, reserved
    report = verify_pdf(fixtures_dir / "prepared.pdf")
    assert sorted(report.file["unsigned_fields"]) == ["供应商", "采购人"]


def test_seal_images_are_rendered_imprints_at_40_mm(fixtures_dir):
    for name in ("supplier-seal.png", "purchaser-seal.png"):
        data = (fixtures_dir / name).read_bytes()
        image = Image.open(fixtures_dir / name)
        assert image.mode == "RGBA"
        assert image_size_mm(data) == pytest.approx((40, 40), abs=0.1)
    assert (fixtures_dir / "supplier-seal.png").read_bytes() != (
        fixtures_dir / "purchaser-seal.png"
    ).read_bytes()
