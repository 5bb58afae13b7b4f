"""Hostile packages are refused cleanly — one line saying why, no traceback, nothing expanded or written:
zip-slip and absolute names, a member that expands to 1 GB, entity expansion and external entities,
deep nesting, duplicates, symbolic links, member-count limits."""

import io
import struct
import subprocess
import sys
import zipfile
import zlib

import pytest

from sealkit.errors import OfdError
from sealkit.ofd import package as package_module
from sealkit.ofd import read_package, verify_ofd
from sealkit.ofd.model import load_document
from tests.ofd.helpers import members, rewrite


def _zip(entries) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(zipfile.ZipInfo(name), content)
    return out.getvalue()


def _bomb(name: str, size: int = 1 << 30) -> bytes:
    """A valid ZIP whose member ``name`` inflates to ``size`` zero bytes, built from one 1 MiB deflate
    block repeated (full flushes make blocks independent), so nothing near ``size`` is ever in memory."""
    chunk = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    data = block * (size // chunk) + tail
    crc = 0
    zeros = bytes(chunk)
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    raw = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0x21,
        crc,
        len(data),
        size,
        len(raw),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    end_offset = len(local) + len(raw) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(raw), end_offset, 0)
    return local + raw + data + central + raw + end


def _refused(data: bytes, match: str) -> None:
    with pytest.raises(OfdError, match=match) as info:
        read_package(data)
    assert "\n" not in str(info.value)
    report = verify_ofd(data)
    assert report.indication == "TOTAL-FAILED" and report.sub_indication == "FORMAT_FAILURE"
    assert "format.unreadable-ofd" in report.file["reasons"]


@pytest.mark.parametrize(
    "name, match",
    [
        ("../evil.xml", "escapes the package"),
        ("Doc_0/../../evil.xml", "escapes the package"),
        ("/etc/cron.d/evil", "absolute path"),
        ("C:/evil.xml", "absolute path"),
        ("Doc_0\\..\\evil.xml", "not a plain path"),
    ],
)
def test_zip_slip_names_are_refused(contract_bytes, name, match):
    _refused(rewrite(contract_bytes, lambda f: f.__setitem__(name, b"x")), match)


def test_a_member_expanding_to_1_gb_is_refused_without_expanding_it():
    bomb = _bomb("OFD.xml")
    assert len(bomb) < 4 * 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:  # the bomb is a well-formed ZIP
        (info,) = archive.infolist()
        assert info.file_size == 1 << 30
        with archive.open(info) as member:
            assert member.read(4096) == bytes(4096)
    _refused(bomb, "expands to 1073741824 bytes")


def test_ratio_limit_catches_a_smaller_bomb(monkeypatch):
    bomb = _bomb("OFD.xml", 64 << 20)  # 64 MiB: under the size limits, but no real part deflates 1000x
    _refused(bomb, "compression bomb")


def test_a_lying_header_is_refused(contract_bytes):
    data = bytearray(contract_bytes)
    # the central directory's uncompressed size of the first member, made smaller than the truth
    at = data.rfind(b"PK\x01\x02")
    first = data.find(b"PK\x01\x02")
    assert first <= at
    struct.pack_into("<I", data, first + 24, 10)
    with pytest.raises(OfdError):
        read_package(bytes(data))


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_names_symlinks_and_limits(contract_bytes, monkeypatch):
    _refused(_zip([("OFD.xml", b"<a/>"), ("OFD.xml", b"<b/>")]), "appears twice")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("OFD.xml", b"<a/>")
        link = zipfile.ZipInfo("Doc_0/link")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    _refused(out.getvalue(), "symbolic link")
    monkeypatch.setattr(package_module, "MAX_MEMBERS", 5)
    _refused(contract_bytes, "members is over the 5 limit")


def test_not_an_ofd():
    _refused(b"%PDF-1.7 not a zip", "not a readable ZIP")
    _refused(_zip([("hello.txt", b"hi")]), "no OFD.xml")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE ofd:OFD [
 <!ENTITY a "ha">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>&i;</ofd:DocRoot></ofd:DocBody></ofd:OFD>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>&x;</ofd:DocRoot></ofd:DocBody></ofd:OFD>
"""


@pytest.mark.parametrize(
    "content",
    [
        BILLION_LAUGHS,
        XXE,
        XXE.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"),
    ],
    ids=["billion-laughs", "external-entity", "utf-16-external-entity"],
)
def test_entities_are_refused(contract_bytes, content):
    data = rewrite(contract_bytes, lambda f: f.__setitem__("OFD.xml", content))
    package = read_package(data)
    with pytest.raises(OfdError, match="DOCTYPE") as info:
        load_document(package)
    assert "root:" not in str(info.value)  # nothing of /etc/passwd leaks into the message
    report = verify_ofd(data)
    assert report.sub_indication == "FORMAT_FAILURE" and "DOCTYPE" in report.file["error"]


def test_deep_nesting_is_refused(contract_bytes):
    deep = (
        b'<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016">'
        + b"<a>" * 100_000
        + b"</a>" * 100_000
        + b"</ofd:Page>"
    )
    data = rewrite(contract_bytes, lambda f: f.__setitem__("Doc_0/Pages/Page_0/Content.xml", deep))
    from sealkit.ofd import find_text

    with pytest.raises(OfdError, match="not well-formed XML") as info:
        find_text(load_document(read_package(data)), "政府采购合同")
    assert "\n" not in str(info.value)


def test_cli_gives_one_line_for_a_hostile_package(tmp_path, contract_bytes):
    path = tmp_path / "evil.ofd"
    path.write_bytes(rewrite(contract_bytes, lambda f: f.__setitem__("../../evil", b"x")))
    result = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "verify", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "escapes the package" in result.stdout


def test_members_helper_roundtrip(contract_bytes):
    assert set(members(contract_bytes)) == set(read_package(contract_bytes).files)


def test_signing_refuses_a_hostile_package(pki, seals, contract_bytes, tmp_path):
    from sealkit.ukey import open_key

    source = tmp_path / "evil.ofd"
    source.write_bytes(rewrite(contract_bytes, lambda f: f.__setitem__("../outside.txt", b"x")))
    from sealkit.ofd import sign_ofd

    with open_key(pki["supplier"].keyref) as key, pytest.raises(OfdError, match="escapes the package"):
        sign_ofd(source, tmp_path / "out.ofd", key, seal=seals["supplier"], cert=pki["supplier"].cert_path)
    assert not (tmp_path / "out.ofd").exists() and not (tmp_path.parent / "outside.txt").exists()
