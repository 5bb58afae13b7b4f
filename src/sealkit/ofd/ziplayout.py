"""The layout of an OFD container (a ZIP), read one way only: what a central-directory reader and a streaming
reader see must be the same members with the same bytes.

ZIP has two indexes of its members: the local file headers, read front to back by streaming readers
(``java.util.zip.ZipInputStream``, Apache Commons Compress' ``ZipArchiveInputStream``, which ofdrw's reader
uses), and the central directory at the end, read by random-access readers (Python's :mod:`zipfile`,
``java.util.zip.ZipFile``). A forger who makes them disagree — another ZIP prepended to a signed package, a
local entry the central directory does not list, a local header whose name or sizes differ from its directory
entry — shows a reader one contract while sealkit verifies another. :func:`read_layout` therefore accepts a
package only when

- the end-of-central-directory record (and for ZIP64 its locator and record, back to back before it) ends the
  file, followed only by its comment, and the comment holds no ZIP record signature;
- the central directory ends exactly where that record begins and starts at the offset it records (no
  prefix: the offsets are not shifted as :mod:`zipfile` would allow for a self-extracting archive);
- the members' local entries start at byte 0 and tile everything before the central directory: header,
  name, extra field, the compressed data of the size the directory records, and a data descriptor when
  flag bit 3 is set — nothing between, before or after them, no entry the directory does not list;
- each local header agrees with its directory entry: name bytes, method, the encryption, data-descriptor and
  UTF-8 flags, and CRC and sizes (with a data descriptor: the header's are zero or the same, the
  descriptor's are the same); an Info-ZIP Unicode Path field, if any, names the same path.

What honest writers produce passes: zipfile (``write_package``), ofdrw (zip4j: entries appended back to
back, directory entries, UTF-8 names), ``java.util.zip.ZipOutputStream`` and streaming writers (data
descriptors with or without signature, ZIP64 sizes), Info-ZIP, ZIP64 records and a ZIP comment. Failures
raise :class:`~sealkit.errors.OfdStructureError` with a ``structure.zip-*`` reason.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sealkit.errors import OfdError, OfdStructureError

_LOCAL, _CENTRAL, _END, _END64, _LOCATOR64, _DESCRIPTOR = (
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"PK\x06\x06",
    b"PK\x06\x07",
    b"PK\x07\x08",
)
_SIGNATURES = (_LOCAL, _CENTRAL, _END, _END64, _LOCATOR64, _DESCRIPTOR)
#: Flag bits that must be the same in a local header and its directory entry: encrypted, data descriptor,
#: strong encryption, UTF-8 names, masked local header.
_SAME_FLAGS = 0x0001 | 0x0008 | 0x0040 | 0x0800 | 0x2000
_MAX32 = 0xFFFFFFFF
_ZIP64_EXTRA, _UNICODE_PATH_EXTRA = 0x0001, 0x7075

#: Reasons (report codes) of :class:`OfdStructureError`.
PREFIX, UNLISTED, MISMATCH, TRAILER = (
    "structure.zip-prefix",
    "structure.zip-unlisted-data",
    "structure.zip-header-mismatch",
    "structure.zip-trailer",
)


@dataclass(frozen=True)
class ZipEntry:
    """One member as the central directory lists it, its local entry checked against it."""

    name: str
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    external_attr: int
    #: Where the compressed data is in the package.
    data_start: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


def _refuse(reason: str, detail: str) -> OfdStructureError:
    return OfdStructureError(f"refusing the package: {detail} (readers could see different contents)", reason)


def _extras(raw: bytes) -> dict[int, bytes]:
    """The extra-field records (tag -> data); trailing padding shorter than a record header is ignored (as
    zipalign writes), a record that runs past the field is refused."""
    found: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(raw):
        tag, size = struct.unpack_from("<HH", raw, pos)
        if pos + 4 + size > len(raw):
            raise _refuse(MISMATCH, "an extra field runs past its header")
        found.setdefault(tag, raw[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return found


def _decode(raw: bytes, flags: int) -> str:
    if flags & 0x800:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(MISMATCH, f"member name {raw!r} is flagged UTF-8 but is not") from None
    return raw.decode("cp437")  # as zipfile and the ZIP specification read names without the flag


def _unicode_path(extras: dict[int, bytes], name: str) -> None:
    """An Info-ZIP Unicode Path field (which some readers prefer to the name) must name the same path."""
    field = extras.get(_UNICODE_PATH_EXTRA)
    if field is None:
        return
    try:
        other = field[5:].decode("utf-8")
    except UnicodeDecodeError:
        other = None
    if len(field) < 5 or other != name:
        raise _refuse(MISMATCH, f"member {name!r} carries a Unicode Path field naming another path")


def _end_record(data: bytes) -> tuple[int, int, int, int]:
    """(entries, central directory offset, its size, where the central directory must end)."""
    end = data.rfind(_END, max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(data):
        raise OfdError("not an OFD file: not a readable ZIP (no end-of-central-directory record)")
    disk, cd_disk, here, entries, cd_size, cd_offset, comment = struct.unpack_from("<HHHHIIH", data, end + 4)
    earlier = data.rfind(_END, max(0, len(data) - 22 - 0xFFFF), end)
    while earlier >= 0:
        if earlier + 22 <= len(data) and earlier + 22 + struct.unpack_from("<H", data, earlier + 20)[
            0
        ] == len(data):
            raise _refuse(TRAILER, "two end-of-directory records, one in the other's comment")
        earlier = data.rfind(_END, max(0, len(data) - 22 - 0xFFFF), earlier)
    if end + 22 + comment != len(data):
        raise _refuse(TRAILER, f"{len(data) - end - 22 - comment} bytes after the end-of-directory comment")
    tail = data[end + 22 :]
    if any(sig in tail for sig in _SIGNATURES):
        raise _refuse(TRAILER, "the ZIP comment holds a ZIP record")
    if disk or cd_disk or here != entries:
        raise _refuse(TRAILER, "a multi-disk (split) ZIP")
    cd_end, locator = end, end - 20
    if locator >= 0 and data[locator : locator + 4] == _LOCATOR64:  # ZIP64 (some writers always add it)
        zdisk, record, disks = struct.unpack_from("<IQI", data, locator + 4)
        if zdisk or disks != 1 or data[record : record + 4] != _END64:
            raise _refuse(TRAILER, "a ZIP64 locator that does not point at a ZIP64 record")
        (length,) = struct.unpack_from("<Q", data, record + 4)
        if record + 12 + length != locator or length < 44:
            raise _refuse(TRAILER, "bytes between the ZIP64 record and its locator")
        disk, cd_disk, here64, entries64, size64, offset64 = struct.unpack_from("<IIQQQQ", data, record + 16)
        if disk or cd_disk or here64 != entries64:
            raise _refuse(TRAILER, "a multi-disk (split) ZIP")
        for small, large in ((entries, entries64), (cd_size, size64), (cd_offset, offset64)):
            if small not in (0xFFFF, _MAX32) and small != large:
                raise _refuse(TRAILER, "the ZIP64 record disagrees with the end-of-directory record")
        entries, cd_size, cd_offset, cd_end = entries64, size64, offset64, record
    elif _MAX32 in (cd_size, cd_offset) or 0xFFFF in (entries, here):
        raise _refuse(TRAILER, "ZIP64 sizes without a ZIP64 locator")
    if cd_offset + cd_size != cd_end:
        where = "bytes before the first entry" if cd_offset + cd_size < cd_end else "a central directory"
        raise _refuse(PREFIX, f"{where} that the end-of-directory record does not account for")
    return entries, cd_offset, cd_size, cd_end


def _central(data: bytes, entries: int, cd_offset: int, cd_end: int) -> list[tuple[ZipEntry, int, bytes]]:
    """The directory entries with their local header offsets and raw names."""
    found: list[tuple[ZipEntry, int, bytes]] = []
    pos = cd_offset
    while pos < cd_end:
        if data[pos : pos + 4] != _CENTRAL or pos + 46 > cd_end:
            raise _refuse(TRAILER, f"the central directory is damaged at byte {pos}")
        fields = struct.unpack_from("<HHHHIIIHHHHHII", data, pos + 8)
        (flags, method, _t, _d, crc, csize, usize, nlen, xlen, clen, disk, _i, attr, offset) = fields
        raw_name = data[pos + 46 : pos + 46 + nlen]
        extras = _extras(data[pos + 46 + nlen : pos + 46 + nlen + xlen])
        zip64 = extras.get(_ZIP64_EXTRA, b"")
        values = list(struct.unpack_from(f"<{len(zip64) // 8}Q", zip64)) if zip64 else []
        resolved = []
        for value in (usize, csize, offset):
            if value == _MAX32:
                if not values:
                    raise _refuse(MISMATCH, "a ZIP64 size without its ZIP64 extra field")
                value = values.pop(0)
            resolved.append(value)
        usize, csize, offset = resolved
        if disk not in (0, 0xFFFF):
            raise _refuse(TRAILER, "a multi-disk (split) ZIP")
        name = _decode(raw_name, flags)
        _unicode_path(extras, name)
        entry = ZipEntry(name, flags, method, crc, csize, usize, attr, 0)
        found.append((entry, offset, raw_name))
        pos += 46 + nlen + xlen + clen
    if pos != cd_end or len(found) != entries:
        raise _refuse(TRAILER, "the central directory does not hold the entries its end record counts")
    return found


def _descriptor_end(data: bytes, pos: int, entry: ZipEntry, expected_next: int) -> int:
    """Where the data descriptor at ``pos`` ends, if it repeats the entry's CRC and sizes and the next entry
    (or the central directory) follows it; refused otherwise."""
    for signed in (True, False):
        start = pos + 4 if signed else pos
        if signed and data[pos : pos + 4] != _DESCRIPTOR:
            continue
        for fmt, width in (("<III", 12), ("<IQQ", 20)):
            if start + width != expected_next:
                continue
            if struct.unpack_from(fmt, data, start) == (entry.crc, entry.compressed_size, entry.size):
                return expected_next
    raise _refuse(UNLISTED, f"member {entry.name!r}: its data descriptor is not what the directory lists")


def read_layout(data: bytes) -> list[ZipEntry]:
    """The members of the ZIP ``data`` in package order, once the layout above is checked."""
    entries, cd_offset, _size, cd_end = _end_record(data)
    listed = sorted(_central(data, entries, cd_offset, cd_end), key=lambda item: item[1])
    out: list[ZipEntry] = []
    pos = 0
    for index, (entry, offset, raw_name) in enumerate(listed):
        if offset != pos:
            if pos == 0:
                raise _refuse(PREFIX, f"{offset} bytes before the first entry")
            what = "overlapping entries" if offset < pos else f"{offset - pos} unlisted bytes at byte {pos}"
            raise _refuse(UNLISTED, what)
        if data[pos : pos + 4] != _LOCAL or pos + 30 > cd_offset:
            raise _refuse(MISMATCH, f"member {entry.name!r} has no local header where the directory says")
        fields = struct.unpack_from("<HHHHIIIHH", data, pos + 6)
        (flags, method, _t, _d, crc, csize, usize, nlen, xlen) = fields
        if data[pos + 30 : pos + 30 + nlen] != raw_name:
            raise _refuse(MISMATCH, f"member {entry.name!r} has another name in its local header")
        extras = _extras(data[pos + 30 + nlen : pos + 30 + nlen + xlen])
        _unicode_path(extras, entry.name)
        if method != entry.method or (flags ^ entry.flags) & _SAME_FLAGS:
            raise _refuse(MISMATCH, f"member {entry.name!r}: its local header's method or flags differ")
        if _MAX32 in (usize, csize):
            zip64 = extras.get(_ZIP64_EXTRA, b"")
            if len(zip64) < 16:
                raise _refuse(MISMATCH, f"member {entry.name!r}: ZIP64 sizes without a ZIP64 field")
            usize, csize = struct.unpack_from("<QQ", zip64)
        claimed = (crc, csize, usize)
        actual = (entry.crc, entry.compressed_size, entry.size)
        described = entry.flags & 0x8
        deferred = described and all(c in (0, a) for c, a in zip(claimed, actual, strict=True))
        if claimed != actual and not deferred:
            raise _refuse(MISMATCH, f"member {entry.name!r}: its local header's CRC or sizes differ")
        start = pos + 30 + nlen + xlen
        pos = start + entry.compressed_size
        if pos > cd_offset:
            raise _refuse(MISMATCH, f"member {entry.name!r} runs into the central directory")
        if described:
            if entry.method == 0 and _DESCRIPTOR in data[start:pos]:
                raise _refuse(UNLISTED, f"stored member {entry.name!r} holds a data descriptor signature")
            following = listed[index + 1][1] if index + 1 < len(listed) else cd_offset
            pos = _descriptor_end(data, pos, entry, following)
        out.append(
            ZipEntry(
                entry.name,
                entry.flags,
                entry.method,
                entry.crc,
                entry.compressed_size,
                entry.size,
                entry.external_attr,
                start,
            )
        )
    if pos != cd_offset:
        where = "before the central directory" if out else "before the central directory, and no entries"
        raise _refuse(PREFIX if not out else UNLISTED, f"{cd_offset - pos} unlisted bytes {where}")
    return out


__all__ = ["MISMATCH", "PREFIX", "TRAILER", "UNLISTED", "ZipEntry", "read_layout"]
