"""What a reader sees: long unit names and several signatures stay inside the page, Chinese is real text in
an embedded subset font, and the red frame on a thumbnail is where the seal is."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from PIL import Image

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import write_sample_contract
from sealkit.flows import SealPlacement, sign_contract
from sealkit.pdf import verify_pdf
from sealkit.report import build_document, render_pdf
from sealkit.report.thumbs import WIDTH_PX, render_thumbnails
from sealkit.seal import render_seal

UNITS = [
    "示范中学",  # 4 characters
    "济南市历下区示范路第八中学",
    "山东省济南市历下区示范路八号教育科技装备服务有限责任公司",
    "中华人民共和国山东省济南市历下区人民政府办公室示范教育科技装备集中采购服务总中心",  # 40
]
A4_WIDTH_PT = 595.28
MARGIN_PT = 16 / 25.4 * 72


@pytest.fixture(scope="module")
def many_signers(tmp_path_factory):
    base = tmp_path_factory.mktemp("many")
    pki = make_test_pki(base / "pki", "sm2")
    source = write_sample_contract(base / "contract.pdf", pages=2)
    for i, unit in enumerate(UNITS):
        signer = pki.issue(f"signer-{i}", organization=unit)
        imprint = render_seal("official", unit[:20], serial="3701020012345")
        out = base / f"signed-{i}.pdf"
        sign_contract(
            source,
            out,
            key=signer.keyref,
            cert=signer.cert_path,
            seal_image=imprint.png,
            seal_size=(36, 36),
            placement=SealPlacement(page=2, rect=(15 + 45 * i, 40, 36, 36)),
        )
        source = out
    return source, pki


def test_long_unit_names_and_several_signatures_stay_on_the_page(many_signers, tmp_path):
    assert [len(u) for u in UNITS][0] == 4 and len(UNITS[-1]) == 40
    signed, pki = many_signers
    data = signed.read_bytes()
    report = verify_pdf(data, trust=[pki.root.cert_path], name="contract.pdf")
    assert report.passed and len(report.signatures) == 4
    out = tmp_path / "report.pdf"
    out.write_bytes(render_pdf(build_document(report, data)))

    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    (font,) = [line for line in fonts.splitlines() if "CID TrueType" in line]
    assert re.search(r"yes\s+yes\s+yes", font)  # embedded, subset, with a ToUnicode map

    bbox = subprocess.run(["pdftotext", "-bbox", str(out), "-"], capture_output=True, text=True, check=True)
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', bbox.stdout
    )
    assert words
    right = A4_WIDTH_PT - MARGIN_PT + 1
    overflowing = [(w, float(x1)) for x0, x1, w in words if float(x1) > right or float(x0) < MARGIN_PT - 1]
    assert not overflowing, overflowing[:5]
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for unit in UNITS:
        assert unit in flat  # wrapped, never cut


def test_the_red_frame_is_where_the_seal_is(many_signers):
    signed, _ = many_signers
    rect = (15 / 25.4 * 72, 40 / 25.4 * 72, 51 / 25.4 * 72, 76 / 25.4 * 72)  # the first seal, in points
    (thumb,), left_out = render_thumbnails(signed.read_bytes(), [(1, rect)])
    assert left_out == 0 and thumb.page == 2 and thumb.width_px == WIDTH_PX
    image = Image.open(io.BytesIO(thumb.png)).convert("RGB")
    red = [
        (x, y)
        for y in range(image.height)
        for x in range(image.width)
        if image.getpixel((x, y)) == (220, 0, 0)  # the frame's exact colour
    ]
    xs, ys = [p[0] for p in red], [p[1] for p in red]
    scale = WIDTH_PX / A4_WIDTH_PT
    expected = (rect[0] * scale, (841.89 - rect[3]) * scale, rect[2] * scale, (841.89 - rect[1]) * scale)
    found = (min(xs), min(ys), max(xs), max(ys))
    assert all(abs(a - b) <= 4 for a, b in zip(found, expected, strict=True)), (found, expected)
