"""Fixtures for PDF signing tests: test PKIs, rendered seal imprints (and one hand-made scan), a sample
contract, pdfsig/OpenSSL checks."""

import hashlib
import io
import math
import random
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import PURCHASER, SUPPLIER, write_sample_contract
from sealkit.pdf import SealAppearance
from sealkit.seal import SealImage, render_seal
from sealkit.ukey import open_key
from tests.helpers.fonts import extract_cjk_font

PAPER = (247, 245, 238)


@pytest.fixture(scope="session")
def font_file(tmp_path_factory):
    return extract_cjk_font(tmp_path_factory.mktemp("font-home"))


@pytest.fixture(autouse=True)
def _shared_font(font_file, monkeypatch):
    monkeypatch.setenv("SEALKIT_CJK_FONT", str(font_file))


@pytest.fixture(scope="session")
def rsa_pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki-rsa"), "rsa")


@pytest.fixture(scope="session")
def p256_pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki-p256"), "p256")


@pytest.fixture(scope="session")
def rsa_signer(rsa_pki):
    return rsa_pki.issue("供应商经办人")


@pytest.fixture
def rsa_key(rsa_signer):
    with open_key(rsa_signer.keyref) as key:
        yield key


@pytest.fixture(scope="session")
def supplier_seal() -> SealImage:
    """The supplier's 合同专用章 as sealkit renders it: 40×40 mm, 600 dpi, seal red on transparency."""
    return render_seal("contract", SUPPLIER)


@pytest.fixture(scope="session")
def purchaser_seal() -> SealImage:
    """The purchaser's 合同专用章 (40×40 mm)."""
    return render_seal("contract", PURCHASER)


@pytest.fixture(scope="session")
def seal_png(supplier_seal) -> bytes:
    return supplier_seal.png


def appearance(seal: SealImage, text: str | None = None) -> SealAppearance:
    """A rendered imprint shown at its true size."""
    return SealAppearance(seal.png, seal.width_mm, seal.height_mm, text=text)


@pytest.fixture(scope="session")
def scanned_imprint_png() -> bytes:
    """A hand-made "scan" of a stamped imprint: red ink on off-white, slightly noisy paper, no alpha.

    Drawn with Pillow (ring, star, a grey smudge) and blurred a little, the way a 300 dpi flatbed scan of
    a real imprint looks; ``clean_imprint`` must make the paper transparent and crop to the ink.
    """
    rng = random.Random(20250101)
    size = 520
    image = Image.new("RGB", (size, size), PAPER)
    pixels = image.load()
    assert pixels is not None
    for _ in range(6000):  # paper grain
        x, y = rng.randrange(size), rng.randrange(size)
        shade = rng.randint(-6, 3)
        pixels[x, y] = tuple(max(0, min(255, c + shade)) for c in PAPER)
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 60, 460, 460), outline=(196, 22, 28), width=14)
    star = [
        (260 + radius * math.sin(math.pi * k / 5), 260 - radius * math.cos(math.pi * k / 5))
        for k in range(10)
        for radius in ((80, 31)[k % 2],)
    ]
    draw.polygon(star, fill=(196, 22, 28))
    draw.rectangle((10, 480, 120, 510), fill=(222, 220, 216))  # a light smudge on the paper
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def contract_bytes(tmp_path_factory, font_file):
    import os

    os.environ["SEALKIT_CJK_FONT"] = str(font_file)
    path = tmp_path_factory.mktemp("contract") / "contract.pdf"
    write_sample_contract(path, pages=3)
    return path.read_bytes()


@pytest.fixture
def contract(tmp_path, contract_bytes):
    path = tmp_path / "contract.pdf"
    path.write_bytes(contract_bytes)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory, rsa_pki, p256_pki):
    """An NSS database trusting the RSA and P-256 test roots, for pdfsig."""
    db = tmp_path_factory.mktemp("nss")
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{db}"], check=True, capture_output=True)
    for name, pki in (("rsa-root", rsa_pki), ("p256-root", p256_pki)):
        subprocess.run(
            ["certutil", "-A", "-n", name, "-t", "CT,C,C", "-i", str(pki.root.cert_path), "-d", f"sql:{db}"],
            check=True,
            capture_output=True,
        )
    return db


def pdfsig(path: Path, nss_db: Path | None = None, password: str | None = None) -> list[dict[str, str]]:
    """pdfsig's verdict per signature: field, signature and certificate lines (pdfsig always exits 0)."""
    args = ["pdfsig"]
    if nss_db is not None:
        args += ["-nssdir", f"sql:{nss_db}"]
    if password:
        args += ["-upw", password]
    text = subprocess.run([*args, str(path)], capture_output=True, text=True, check=False).stdout
    result = []
    for block in re.split(r"^Signature #\d+:", text, flags=re.M)[1:]:
        fields = dict(re.findall(r"^[ \t]+- ([^:\n]+): (.*)$", block, flags=re.M))
        result.append(fields)
    return result


def byte_range_parts(data: bytes, index: int = -1) -> tuple[bytes, bytes]:
    """(signed bytes, DER CMS) of the ``index``-th signature, from its /ByteRange and /Contents."""
    ranges = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    a, b, c, d = (int(v) for v in ranges[index])
    signed = data[a : a + b] + data[c : c + d]
    contents = data[a + b : c].strip(b"<>")
    from asn1crypto import cms

    info = cms.ContentInfo.load(bytes.fromhex(contents.decode()), strict=False)
    return signed, info.dump(force=True)
