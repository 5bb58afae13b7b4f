"""Write output files all-or-nothing.

Every file sealkit produces goes through :func:`atomic_output`: bytes are written to a temporary file in the
destination's directory, flushed to disk, and renamed over the destination only when the ``with`` block ends
without an exception. A failed or interrupted run leaves nothing behind, and an input is never overwritten
unless the caller explicitly allows it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sealkit.errors import InvalidInput


@contextlib.contextmanager
def atomic_output(
    destination: str | os.PathLike[str],
    *,
    mode: int = 0o644,
    protect: tuple[str | os.PathLike[str], ...] = (),
    overwrite: bool = True,
) -> Iterator[BinaryIO]:
    """Open a temporary file that replaces ``destination`` when the block succeeds.

    ``protect`` lists input paths the destination must not be (sealkit never writes over its input).
    ``mode`` is applied before any byte is written (use ``0o600`` for plaintext and keys).
    """
    dest = Path(destination)
    for path in protect:
        if _same_file(dest, Path(path)):
            raise InvalidInput(f"refusing to write over the input file {dest}")
    if dest.exists() and not overwrite:
        raise InvalidInput(f"{dest} already exists")
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a directory")
    parent = dest.parent if str(dest.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInput(f"directory {parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w+b") as handle:  # readable too: pyHanko reads back what it signs
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_atomic(destination: str | os.PathLike[str], data: bytes, **kwargs: object) -> None:
    """Write ``data`` to ``destination`` all-or-nothing (see :func:`atomic_output`)."""
    with atomic_output(destination, **kwargs) as handle:  # type: ignore[arg-type]
        handle.write(data)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
