"""Where opened plaintext goes: a file that has no name until every check passed.

:func:`~sealkit.envelope.decrypt_file` writes plaintext before it knows whether the GCM tag and the inner
signature are good, so that plaintext must not outlive the process, whatever ends it (SIGKILL, power loss
included). It is written to an anonymous file: on Linux ``O_TMPFILE`` in the destination's directory (mode
0600), linked into place through ``/proc/self/fd/N`` only after the checks. Where ``O_TMPFILE`` or that link
is not available (other systems, some file systems), an ordinary temporary file is unlinked right after it is
made; once verified, its bytes are copied into a new named file that replaces the destination, so a name
only ever holds verified plaintext.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sealkit.atomic import check_destination
from sealkit.errors import InvalidInput

#: Set to False to use the portable fallback (tests do, to cover it on Linux too).
USE_O_TMPFILE = True
_UNSUPPORTED = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS}


@contextlib.contextmanager
def unnamed_output(
    destination: str | os.PathLike[str], *, protect: tuple[str | os.PathLike[str], ...] = ()
) -> Iterator[BinaryIO]:
    """A nameless file (mode 0600) in ``destination``'s directory that becomes ``destination`` when the
    block ends without an exception, and vanishes with the process otherwise."""
    dest = Path(destination)
    parent = check_destination(dest, protect=protect)
    fd, linkable = _open_anonymous(parent, dest.name)
    with os.fdopen(fd, "w+b") as handle:
        yield handle
        handle.flush()
        os.fsync(fd)
        if not (linkable and _link_into_place(fd, dest, parent)):
            _copy_into_place(handle, dest, parent)
    _sync_directory(parent)


def _open_anonymous(parent: Path, name: str) -> tuple[int, bool]:
    """A read-write descriptor of a file without a name in ``parent``; True if it is an O_TMPFILE one."""
    flag = getattr(os, "O_TMPFILE", None)
    if USE_O_TMPFILE and flag is not None:
        try:
            return os.open(parent, flag | os.O_RDWR, 0o600), True
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise InvalidInput(f"cannot write in {parent}: {exc.strerror}") from None
    try:
        fd, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=parent)
    except OSError as exc:
        raise InvalidInput(f"cannot write in {parent}: {exc.strerror}") from None
    os.unlink(path)
    os.fchmod(fd, 0o600)
    return fd, False


def _link_into_place(fd: int, dest: Path, parent: Path) -> bool:
    """Give the O_TMPFILE file ``fd`` the name ``dest`` (replacing it); False if linking is not possible.

    ``linkat(…, AT_SYMLINK_FOLLOW)`` on ``/proc/self/fd/N``: ``os.link`` calls it only with a directory
    descriptor (plain ``link()`` would try to link the /proc symlink itself and fail with EXDEV)."""
    source = f"/proc/self/fd/{fd}"
    try:
        dir_fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return False
    try:
        try:
            os.link(source, dest.name, dst_dir_fd=dir_fd, follow_symlinks=True)
            return True
        except FileExistsError:
            pass
        except OSError:
            return False
        staging = f".{dest.name}.{secrets.token_hex(8)}.part"  # link() never follows or replaces
        try:
            os.link(source, staging, dst_dir_fd=dir_fd, follow_symlinks=True)
        except OSError:
            return False
        os.replace(staging, dest.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return True
    finally:
        os.close(dir_fd)


def _copy_into_place(handle: BinaryIO, dest: Path, parent: Path) -> None:
    """Copy the verified bytes of ``handle`` to a new file that replaces ``dest``."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            handle.seek(0)
            shutil.copyfileobj(handle, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise


def _sync_directory(parent: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
