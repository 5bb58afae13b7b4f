"""A signed OFD is read one way only: a package that a streaming ZIP reader (local headers, front to back)
and a central-directory reader could read differently is refused as a structure failure — a forged ZIP
prepended to the untouched signed package, an unlisted local entry with a forged page before the real one,
a local header that disagrees with its directory entry, bytes hidden after a deflate stream or after the
end record — while what honest writers produce (zipfile, java.util.zip with data descriptors, Info-ZIP,
streaming writers, ZIP64 records, a comment, directory entries) still verifies."""

import io
import shutil
import struct
import subprocess
import zipfile
import zlib

import pytest

from sealkit.errors import OfdError, OfdStructureError
from sealkit.ofd import read_package
from tests.ofd.helpers import members, sign, verify

PAGE = "Doc_0/Pages/Page_0/Content.xml"


@pytest.fixture(scope="module")
def signed(pki, seals, contract_bytes, tmp_path_factory):
    directory = tmp_path_factory.mktemp("layout")
    (directory / "c.ofd").write_bytes(contract_bytes)
    return sign(pki, seals, directory / "c.ofd", directory / "s.ofd").read_bytes()


def _forged_page(files: dict[str, bytes]) -> bytes:
    page = files[PAGE]
    forged = page.replace("叁".encode(), "玖".encode(), 1)
    assert forged != page
    return forged


def _zip(files: dict[str, bytes], **options) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, **options) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def _refused(data: bytes, anchors, reason: str) -> None:
    with pytest.raises(OfdStructureError) as info:
        read_package(data)
    assert info.value.reason == reason and "\n" not in str(info.value)
    report = verify(data, anchors)
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    assert report.file["reasons"] == [reason], report.file


def _passes(data: bytes, anchors) -> None:
    report = verify(data, anchors)
    assert report.indication == "TOTAL-PASSED", report.to_dict()


def _entries(data: bytes) -> tuple[int, int, list[int]]:
    """(central directory offset, its size, the offsets of its entries' offset fields)."""
    end = data.rfind(b"PK\x05\x06")
    size, offset = struct.unpack_from("<II", data, end + 12)
    fields, pos = [], offset
    while pos < offset + size:
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        fields.append(pos + 42)
        pos += 46 + n + m + k
    return offset, size, fields


def _insert(data: bytes, at: int, blob: bytes) -> bytes:
    """``blob`` inserted at byte ``at`` (before the central directory), every offset after it fixed."""
    offset, size, fields = _entries(data)
    out = bytearray(data[:at] + blob + data[at:])
    shift = len(blob)
    for field in fields:
        (value,) = struct.unpack_from("<I", data, field)
        struct.pack_into("<I", out, field + shift, value + shift if value >= at else value)
    end = out.rfind(b"PK\x05\x06")
    struct.pack_into("<I", out, end + 16, offset + shift)
    return bytes(out)


def _local_entry(name: str, content: bytes) -> bytes:
    one = _zip({name: content})
    return one[: one.rfind(b"PK\x01\x02")]


# --- the attacks (forger4 a01) and their honest twin ---


def test_honest_twin_passes(signed, anchors):
    _passes(signed, anchors)


def test_forged_zip_prepended_to_the_signed_package(signed, anchors):
    forged = dict(members(signed))
    forged[PAGE] = _forged_page(forged)
    _refused(_zip(forged) + signed, anchors, "structure.zip-prefix")


def test_unlisted_local_entry_with_a_forged_page_first(signed, anchors):
    files = members(signed)
    _refused(_insert(signed, 0, _local_entry(PAGE, _forged_page(files))), anchors, "structure.zip-prefix")


def test_unlisted_local_entry_between_entries(signed, anchors):
    files = members(signed)
    _offset, _size, fields = _entries(signed)
    second = sorted(struct.unpack_from("<I", signed, f)[0] for f in fields)[1]
    forged = _insert(signed, second, _local_entry(PAGE, _forged_page(files)))
    _refused(forged, anchors, "structure.zip-unlisted-data")


def test_local_header_names_another_member(signed, anchors):
    """The local header of Page_1's content says Page_0: a streaming reader sees two Page_0s."""
    start = signed.index(b"Doc_0/Pages/Page_1/Content.xml")
    assert signed[start - 30 : start - 26] == b"PK\x03\x04"
    forged = signed[:start] + PAGE.encode() + signed[start + len(PAGE) :]
    _refused(forged, anchors, "structure.zip-header-mismatch")


def test_local_header_with_other_sizes(signed, anchors):
    start = signed.index(PAGE.encode()) - 30
    assert signed[start : start + 4] == b"PK\x03\x04"
    forged = bytearray(signed)
    (size,) = struct.unpack_from("<I", signed, start + 22)
    struct.pack_into("<I", forged, start + 22, size + 1)
    _refused(bytes(forged), anchors, "structure.zip-header-mismatch")


def test_bytes_after_the_end_record(signed, anchors):
    _refused(signed + b"\x00" * 10, anchors, "structure.zip-trailer")


def test_a_comment_that_hides_a_zip(signed, anchors):
    """A reader that takes the last end record it finds would open the ZIP inside the comment."""
    hidden = _zip({"OFD.xml": members(signed)["OFD.xml"]})
    with_comment = bytearray(signed)
    end = signed.rfind(b"PK\x05\x06")
    struct.pack_into("<H", with_comment, end + 20, len(hidden))
    _refused(bytes(with_comment) + hidden, anchors, "structure.zip-trailer")


def test_data_hidden_after_a_deflate_stream(signed, anchors):
    """Page_0's compressed size grows over a second deflate stream: a reader that stops where the first
    stream ends and one that reads the declared size would disagree on where the next entry starts."""
    files = members(signed)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    page = raw.compress(files[PAGE]) + raw.flush()
    trailer = b"hidden bytes after the stream"
    built = _hand_zip([(n, c, 8, (page + trailer) if n == PAGE else None) for n, c in files.items()])
    _refused(built, anchors, "structure.zip-unlisted-data")


def test_a_hand_built_twin_passes(signed, anchors):
    _passes(_hand_zip([(n, c, 8, None) for n, c in members(signed).items()]), anchors)


def test_signing_refuses_an_ambiguous_input(pki, seals, contract_bytes, tmp_path):
    source = tmp_path / "c.ofd"
    source.write_bytes(_zip({"OFD.xml": b"<x/>"}) + contract_bytes)
    with pytest.raises(OfdError, match="readers could see different contents"):
        sign(pki, seals, source, tmp_path / "out.ofd")
    assert not (tmp_path / "out.ofd").exists() and source.read_bytes().endswith(contract_bytes)


def test_a_unicode_path_field_naming_another_member(signed, anchors):
    """Readers that prefer the Info-ZIP Unicode Path field (Commons Compress does) would see Page_0 twice."""
    other = "Doc_0/Pages/Page_1/Content.xml"
    field = b"\x01" + struct.pack("<I", zlib.crc32(other.encode())) + PAGE.encode()
    extra = struct.pack("<HH", 0x7075, len(field)) + field
    built = _hand_zip([(n, c, 8, None) for n, c in members(signed).items()], extras={other: extra})
    _refused(built, anchors, "structure.zip-header-mismatch")


def test_two_directory_entries_for_one_local_entry(signed, anchors):
    data = _hand_zip([(n, c, 8, None) for n, c in members(signed).items()])
    _offset, _size, fields = _entries(data)
    doubled = bytearray(data)
    struct.pack_into("<I", doubled, fields[1], struct.unpack_from("<I", data, fields[0])[0])
    _refused(bytes(doubled), anchors, "structure.zip-unlisted-data")


def _hand_zip(
    entries: list[tuple[str, bytes, int, bytes | None]], extras: dict[str, bytes] | None = None
) -> bytes:
    """A ZIP written here (not by zipfile): (name, content, method, raw data or None to deflate it), with
    ``extras`` as local extra fields by name."""
    body, central = b"", b""
    for name, content, method, raw in entries:
        raw_name, extra = name.encode(), (extras or {}).get(name, b"")
        if raw is None:
            deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
            raw = deflater.compress(content) + deflater.flush() if method == 8 else content
        fields = (20, 0x800, method, 0, 0x21, zlib.crc32(content), len(raw), len(content), len(raw_name))
        header = struct.pack("<HHHHHIIIHH", *fields, 0)
        central += (
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + header
            + struct.pack("<HHHII", 0, 0, 0, 0o644 << 16, len(body))
            + raw_name
        )
        body += b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields, len(extra)) + raw_name + extra + raw
    end = struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(body), 0)
    return body + central + b"PK\x05\x06" + end


# --- what honest writers produce still verifies ---


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors, as streaming writers do."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        self.data += chunk
        return len(chunk)


def test_streaming_writer_with_data_descriptors(signed, anchors):
    stream = _Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members(signed).items():
            archive.writestr(name, content)
    data = bytes(stream.data)
    assert struct.unpack_from("<H", data, 6)[0] & 0x8  # flag bit 3: sizes follow the data
    _passes(data, anchors)


def test_zip64_records_directory_entries_and_a_comment(signed, anchors):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.comment = "OFD 电子合同".encode()
        folders = set()
        for name, content in members(signed).items():
            folder = name.rpartition("/")[0]
            if folder and folder not in folders:  # zip4j (ofdrw) writes the folders too
                folders.add(folder)
                archive.writestr(zipfile.ZipInfo(folder + "/"), b"")
            with archive.open(name, "w", force_zip64=True) as member:
                member.write(content)
    data = out.getvalue()
    assert b"\x01\x00\x10\x00" in data  # a ZIP64 extra field in the local headers
    _passes(data, anchors)


def test_zip64_end_records_that_some_writers_always_add(signed, anchors):
    data = _zip(members(signed))
    end = data.rfind(b"PK\x05\x06")
    entries, size, offset = struct.unpack_from("<HII", data, end + 10)
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
    _passes(data[:end] + record + locator + data[end:], anchors)


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP is not installed")
def test_info_zip_to_a_file_and_to_a_pipe(signed, anchors, tmp_path):
    folder = tmp_path / "unpacked"
    for name, content in members(signed).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    subprocess.run(["zip", "-q", "-r", "-X", str(tmp_path / "a.ofd"), "."], cwd=folder, check=True)
    _passes((tmp_path / "a.ofd").read_bytes(), anchors)
    piped = subprocess.run(["zip", "-q", "-r", "-X", "-", "."], cwd=folder, check=True, capture_output=True)
    _passes(piped.stdout, anchors)


JAVA_WRITER = """
import java.io.*;
import java.util.*;
import java.util.zip.*;

public class Rezip {
    public static void main(String[] a) throws Exception {
        try (ZipFile in = new ZipFile(a[0]);
             ZipOutputStream out = new ZipOutputStream(new FileOutputStream(a[1]))) {
            out.setComment("written by java.util.zip");
            for (ZipEntry e : Collections.list(in.entries())) {
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(in.getInputStream(e).readAllBytes());
                out.closeEntry();
            }
        }
    }
}
"""


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime")
def test_java_zip_output_stream(signed, anchors, tmp_path):
    (tmp_path / "Rezip.java").write_text(JAVA_WRITER)
    (tmp_path / "in.ofd").write_bytes(signed)
    subprocess.run(
        ["java", str(tmp_path / "Rezip.java"), str(tmp_path / "in.ofd"), str(tmp_path / "out.ofd")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = (tmp_path / "out.ofd").read_bytes()
    assert struct.unpack_from("<H", data, 6)[0] & 0x808 == 0x808  # data descriptors, UTF-8 names
    _passes(data, anchors)
