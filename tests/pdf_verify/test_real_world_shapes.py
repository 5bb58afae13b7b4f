"""Whatever sealkit signs, sealkit verifies; what it cannot sign, it refuses in one line (issue 10, item 17).

A 1,627-file real-world corpus found files that ``sealkit sign`` signed and ``sealkit verify`` then rejected,
and refusals that printed pyHanko's warnings on stderr. The files belong to other projects (qpdf's test
suite: ``weird-tokens.pdf``, ``bad17.pdf``, ``issue-141b.pdf``, ``form-errors.pdf``,
``form-bad-fields-array.pdf``), so these tests write PDFs with the same features, byte by byte:

- names whose bytes are not UTF-8 (``/F#e5``), which pyHanko rewrote as other names (``/F#C3#A5``) when
  signing touched their object: the signed page lost its font and its text; and reals such as
  ``-0.000000001``, which pyHanko wrote as ``-1E-9`` (not PDF), so the signed file could not be read again;
- a trailer with a repeated key and a key without a value, a cross-reference stream without ``/Length``,
  and forms whose ``/Fields`` is a name or lists a number: refused, with nothing on stderr but that line
  (pyHanko's warnings only with ``--verbose``).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sealkit_cli.main import run

from sealkit.pdf import verify_pdf

ROOT = Path(__file__).resolve().parents[2]
WEIRD = (
    b"[ /ABCDEF+#ba#da#cc#e5 /ABCEDEF+#cf#80 /one+#a0two /text#2fplain 0.00001 1000000000000 -0.000000001 ]"
)
TEXT = b"BT /F#e5 24 Tf 72 720 Td (Potato) Tj ET"


def build_pdf(objects: dict[int, bytes], trailer: bytes = b"") -> bytes:
    """A PDF with a correct classic cross-reference table around ``objects``."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xbf\xf7\xa2\xfe\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, objects[number]))
    xref, size = out.tell(), max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n")
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, trailer, xref))
    return out.getvalue()


def weird_tokens_pdf() -> bytes:
    """weird-tokens.pdf's features where signing rewrites them: the catalog, and the page whose font is
    named ``/F#e5`` (one byte 0xE5, not UTF-8)."""
    return build_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R /Extra " + WEIRD + b" >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F#e5 5 0 R >> >> /Extra " + WEIRD + b" >>",
            4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(TEXT), TEXT),
            5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        }
    )


@pytest.fixture(scope="module")
def seal_png(tmp_path_factory) -> Path:
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((8, 8, 192, 192), outline=(200, 0, 0, 255), width=10)
    path = tmp_path_factory.mktemp("seal") / "seal.png"
    image.save(path)
    return path


def _sign(source: Path, output: Path, ident, seal_png: Path, x_mm: int, field: str) -> None:
    code = run(
        ["sign", str(source), "-o", str(output), "--key", ident.keyref, "--cert", str(ident.cert_path)]
        + ["--seal-image", str(seal_png), "--page", "1", "--rect", f"{x_mm},20,40,40", "--field", field]
    )
    assert code == 0 and output.is_file()


def _last_page_object(data: bytes) -> bytes:
    return re.findall(rb"\n3 0 obj\n(.*?)endobj", data, re.S)[-1]


@pytest.fixture(scope="module")
def weird_signed(rsa_pki, seal_png, tmp_path_factory) -> tuple[Path, Path]:
    """weird tokens signed by the buyer (visible, on the page with the odd font name), then the supplier."""
    folder = tmp_path_factory.mktemp("weird")
    (folder / "in.pdf").write_bytes(weird_tokens_pdf())
    _sign(folder / "in.pdf", folder / "one.pdf", rsa_pki.identity("Buyer Ltd"), seal_png, 20, "buyer")
    _sign(folder / "one.pdf", folder / "two.pdf", rsa_pki.identity("Supplier Ltd"), seal_png, 90, "supplier")
    return folder / "one.pdf", folder / "two.pdf"


def test_weird_tokens_signed_by_two_parties_verify(weird_signed, trust):
    for path in weird_signed:
        report = verify_pdf(path, trust=trust)
        assert report.indication == "TOTAL-PASSED", (path.name, report.to_dict())


def test_signing_keeps_names_and_writes_reals_as_pdf_reals(weird_signed):
    """The rewritten page still names its font /F#E5 (the content says /F#e5), and no real is written with an
    exponent (pyHanko wrote -1E-9)."""
    for path in weird_signed:
        data = path.read_bytes()
        page = _last_page_object(data)
        assert b"/Annots" in page, "the page was not rewritten: the test would prove nothing"
        assert re.search(rb"/F#[eE]5\s+5 0 R", page) and b"#C3#A5" not in page.upper()
        assert re.search(rb"/ABCDEF\+#BA#DA#CC#E5 /ABCEDEF\+#CF#80 /one\+#A0two", page, re.I)
        assert b"-0.000000001" in page
        assert not re.search(rb"[0-9]E-?[0-9]", data.split(b"stream", 1)[0] + page)


def test_an_update_that_swaps_a_font_name_for_its_utf8_twin_is_a_change(weird_signed, trust):
    """The attacker's twin: /F#e5 → /F#C3#A5 after signing unhooks the signed page's font (its text
    disappears); both read as the text "/Få", but they are different names."""
    data = weird_signed[0].read_bytes()
    page = _last_page_object(data)
    forged = re.sub(rb"/F#[eE]5", b"/F#C3#A5", page)
    start = len(data) + 1
    update = b"\n3 0 obj\n" + forged + b"endobj\n"
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    size = int(re.findall(rb"/Size (\d+)", data)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", data)[-1]
    xref = len(data) + len(update)
    update += b"xref\n0 1\n0000000000 65535 f \n3 1\n%010d 00000 n \n" % start
    update += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        prev,
        xref,
    )
    report = verify_pdf(data + update, trust=trust)
    assert report.indication == "TOTAL-FAILED"
    assert "modification.page-resources" in report.signatures[0].reasons


# -- refusals: one line, nothing else on stderr -------------------------------------------------------------

PAGE = {
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [7 0 R] >>",
    7: b"<< /FT /Tx /T (Text Box 1) /Type /Annot /Subtype /Widget /Rect [100 700 200 720] /P 3 0 R /V (x) >>",
}


def _bad17() -> bytes:
    """A trailer with a key given twice and a key without a value."""
    return build_pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", **PAGE}, trailer=b" /K 1 /K 2 /Something")


def _issue_141b() -> bytes:
    """A cross-reference stream with an empty key and no /Length (qpdf issue 141)."""
    return (
        b"%PDF-100 0 obj<</Type/XRef/Size 0/[]/W[0 0 0]/ 0>>stream\n0endstream\nendobj\nstartxref\n7\n%%EOF"
    )


def _form(fields: bytes) -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields %s /NeedAppearances true >> >>" % fields
    return build_pdf({1: catalog, 5: b"12", **PAGE})


REFUSALS = {
    "bad17": (_bad17, "cannot read the PDF, it is damaged"),
    "issue-141b": (_issue_141b, "a required entry /Length is missing"),
    "form-errors": (
        lambda: _form(b"[7 0 R 5 0 R % not a dictionary\n]"),
        "entry 2 of its /Fields is a number",
    ),
    "form-bad-fields-array": (lambda: _form(b"/potato"), "its /Fields is a name, not an array"),
}


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'cli'}"}
    for name in ("SEALKIT_DEBUG", "SEALKIT_CONFIG"):
        env.pop(name, None)
    command = [sys.executable, "-c", "import sys; from sealkit_cli.main import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, env=env)


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_damaged_pdf_is_refused_in_one_line(name, rsa_pki, tmp_path):
    make, reason = REFUSALS[name]
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(make())
    ident = rsa_pki.identity("Buyer Ltd")
    output = tmp_path / "out.pdf"
    args = ["sign", str(source), "-o", str(output), "--key", ident.keyref, "--cert", str(ident.cert_path)]
    result = _cli([*args, "--invisible"], tmp_path)
    assert result.returncode == 9, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sealkit: ") and reason in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not output.exists() and source.read_bytes() == make()


def test_pyhankos_warnings_appear_with_verbose(rsa_pki, tmp_path):
    """The twin: the lines the quiet refusal hides exist, and --verbose shows them."""
    source = tmp_path / "form-errors.pdf"
    source.write_bytes(REFUSALS["form-errors"][0]())
    ident = rsa_pki.identity("Buyer Ltd")
    args = ["-v", "sign", str(source), "-o", str(tmp_path / "o.pdf"), "--key", ident.keyref]
    result = _cli([*args, "--cert", str(ident.cert_path), "--invisible"], tmp_path)
    assert result.returncode == 9
    assert "WARNING pyhanko" in result.stderr and len(result.stderr.splitlines()) > 1


def test_an_ltv_update_keeps_the_names_too(weird_signed, rsa_pki, trust, tmp_path):
    """ltv-update rewrites the catalog (for the DSS): in a process of its own it too writes names back with
    their bytes, or the verifier would see the signed catalog changed."""
    from sealkit.dev.services import PkiServices

    out = tmp_path / "lta.pdf"
    with PkiServices.start(rsa_pki.pki) as services:
        args = ["ltv-update", str(weird_signed[0]), "-o", str(out), "--tsa", services.tsa_url]
        result = _cli([*args, "--trust", str(trust[0])], tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"#C2#BA" not in out.read_bytes().upper()
    report = verify_pdf(out, trust=trust)
    assert report.indication == "TOTAL-PASSED", report.to_dict()
