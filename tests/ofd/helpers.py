"""Shared helpers for the OFD tests: sign a contract, rewrite a package with plain :mod:`zipfile`."""

import io
import zipfile
from pathlib import Path

from sealkit.ofd import sign_ofd, verify_ofd
from sealkit.ukey import open_key

SUPPLIER_BLOCK = "供应商（乙方）（盖章）："
PURCHASER_BLOCK = "采购人（甲方）（盖章）："


def sign(pki, seals, source: Path, target: Path, who: str = "supplier", **options) -> Path:
    from sealkit.pdf import Placement

    options.setdefault(
        "placement", Placement.at_text(SUPPLIER_BLOCK if who == "supplier" else PURCHASER_BLOCK)
    )
    with open_key(pki[who].keyref) as key:
        sign_ofd(
            source, target, key, seal=options.pop("seal", seals.get(who)), cert=pki[who].cert_path, **options
        )
    return target


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rewrite(data: bytes, change) -> bytes:
    """The package with ``change(files)`` applied to its member dict (order kept), rezipped by zipfile."""
    files = members(data)
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def verify(data_or_path, anchors, **options):
    return verify_ofd(data_or_path, trust=anchors["trust"], seal_trust=anchors["seal_trust"], **options)
