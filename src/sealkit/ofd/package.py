"""Reading and writing the OFD container (a ZIP) without trusting it.

An OFD file is a ZIP of XML parts and resources (GB/T 33190-2016 §7). :func:`read_package` opens one and
refuses, with a one-line :class:`~sealkit.errors.OfdError`, anything a hostile sender could use against the
reader: a ZIP that readers could read two ways (:mod:`sealkit.ofd.ziplayout`), too many members, a member
or a total that expands beyond the limits, a compression ratio that only a bomb has, names that escape the
package (``..``, absolute paths, backslashes, drive letters, NUL), duplicate names, symbolic links, encrypted
members and compression methods other than stored and deflated. Sizes are the ZIP headers' claims;
inflating never returns more bytes than the header claims and the CRC is checked, so a lying header ends in
a refusal too.

Members are kept in memory in their package order, under their names without a leading slash; OFD paths
(``/Doc_0/Document.xml``) are mapped with :func:`to_member`. :func:`write_package` writes a package back
(deflated, fixed timestamps, the given order).
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sealkit.errors import OfdError, OfdStructureError
from sealkit.ofd.ziplayout import ZipEntry, read_layout

#: The limits of :func:`read_package` (bytes and counts).
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
#: A member that expands more than this many times is a bomb (real XML deflates by 5-20x, never 200x) ...
MAX_RATIO = 200
#: ... unless it is this small in total.
RATIO_FLOOR = 1024 * 1024

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass
class OfdPackage:
    """The members of an OFD container: name (no leading slash) -> bytes, in package order."""

    files: dict[str, bytes] = field(default_factory=dict)

    def __contains__(self, path: str) -> bool:
        return to_member(path) in self.files

    def read(self, path: str) -> bytes:
        """The bytes of the OFD path ``path`` (``/Doc_0/Document.xml`` or ``Doc_0/Document.xml``)."""
        name = to_member(path)
        try:
            return self.files[name]
        except KeyError:
            raise OfdError(f"the package has no file /{name}") from None

    def paths(self) -> list[str]:
        """Every file as an absolute OFD path (``/OFD.xml``), in package order."""
        return ["/" + name for name in self.files]

    def copy(self) -> OfdPackage:
        return OfdPackage(dict(self.files))


def to_member(path: str) -> str:
    """The ZIP member name of an OFD path: no leading slash, no ``.`` segments; refuses ``..``."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise OfdError(f"invalid path in the package: {path!r}")
    return "/".join(parts)


def resolve(base_file: str, location: str) -> str:
    """The absolute OFD path of ``location`` as written in ``base_file`` (absolute, or relative to the
    folder of ``base_file``, GB/T 33190 ST_Loc); ``..`` may climb inside the package, never out of it."""
    location = location.strip().replace("\\", "/")
    if not location:
        raise OfdError(f"an empty location in {base_file}")
    parts = [] if location.startswith("/") else to_member(base_file).split("/")[:-1]
    for part in location.split("/"):
        if part == "..":
            if not parts:
                raise OfdError(f"location {location!r} in {base_file} leaves the package")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/" + to_member("/".join(parts))


def is_ofd(data: bytes) -> bool:
    """Whether ``data`` is a ZIP whose root holds ``OFD.xml`` (the content decides, not the file name)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(info.filename.lstrip("/") == "OFD.xml" for info in archive.infolist()[:MAX_MEMBERS])
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _check_name(name: str) -> None:
    if not name or "\x00" in name or "\\" in name:
        raise OfdError(f"refusing the package: member name {name!r} is not a plain path")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise OfdError(f"refusing the package: member {name!r} has an absolute path")
    if any(part in ("..", ".") for part in name.split("/")):
        raise OfdError(f"refusing the package: member {name!r} escapes the package (..)")


def read_package(data: bytes) -> OfdPackage:
    """Open the OFD container ``data`` within the limits above and read one way only
    (:func:`sealkit.ofd.ziplayout.read_layout`); :class:`OfdError` otherwise."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise OfdError(f"refusing the package: {len(data)} bytes is over the {MAX_PACKAGE_BYTES} byte limit")
    if not data.startswith(b"PK"):
        raise OfdError("not an OFD file: not a readable ZIP (it does not start with a ZIP entry)")
    infos = read_layout(data)
    if len(infos) > MAX_MEMBERS:
        raise OfdError(f"refusing the package: {len(infos)} members is over the {MAX_MEMBERS} limit")
    total, seen, wanted = 0, set(), []
    for info in infos:
        _check_name(info.name)
        if info.is_dir:
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise OfdError(f"refusing the package: member {info.name!r} is a symbolic link")
        if info.flags & 0x1:
            raise OfdError(f"refusing the package: member {info.name!r} is encrypted")
        if info.name in seen:
            raise OfdError(f"refusing the package: member {info.name!r} appears twice")
        seen.add(info.name)
        if info.size > MAX_MEMBER_BYTES:
            raise OfdError(
                f"refusing the package: member {info.name!r} expands to {info.size} bytes "
                f"(limit {MAX_MEMBER_BYTES})"
            )
        if info.size > RATIO_FLOOR and info.size > MAX_RATIO * max(info.compressed_size, 1):
            raise OfdError(
                f"refusing the package: member {info.name!r} expands {info.size} bytes from "
                f"{info.compressed_size} (a compression bomb)"
            )
        total += info.size
        if total > MAX_TOTAL_BYTES:
            raise OfdError(f"refusing the package: it expands to over {MAX_TOTAL_BYTES} bytes")
        wanted.append(info)
    files = {info.name: _content(data, info) for info in wanted}
    if "OFD.xml" not in files:
        raise OfdError("not an OFD file: the package has no OFD.xml at its root")
    return OfdPackage(files)


def _content(data: bytes, info: ZipEntry) -> bytes:
    """A member's bytes: stored or deflated (what OFD readers read), exactly its declared size and CRC, the
    deflate stream ending exactly where its compressed size does (nothing hidden after it)."""
    raw = memoryview(data)[info.data_start : info.data_start + info.compressed_size]
    if info.method == zipfile.ZIP_STORED:
        content = bytes(raw)
    elif info.method == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            content = inflater.decompress(raw, info.size + 1)
        except zlib.error as exc:
            raise OfdError(f"refusing the package: member {info.name!r} is damaged ({exc})") from None
        if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
            raise OfdStructureError(
                f"refusing the package: member {info.name!r}'s compressed data does not end where its "
                "size says (readers could see different contents)",
                "structure.zip-unlisted-data",
            )
    else:
        raise OfdError(
            f"refusing the package: member {info.name!r} uses compression method {info.method} "
            "(OFD readers read stored and deflated members only)"
        )
    if len(content) != info.size:
        raise OfdError(f"refusing the package: member {info.name!r} is not its declared size")
    if zlib.crc32(content) != info.crc:
        raise OfdError(f"refusing the package: member {info.name!r} is damaged (CRC mismatch)")
    return content


def write_package(files: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> bytes:
    """A ZIP of ``files`` (member name -> bytes) in the given order, deflated, with fixed timestamps."""
    items = files.items() if isinstance(files, Mapping) else files
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in items:
            info = zipfile.ZipInfo(to_member(name), date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()
