"""Writing output files so that a reader never sees half a file.

A result file is either the old one or the complete new one, never a mix: the bytes go to a
temporary file in the same directory (same file system, so the rename is atomic), are flushed
to disk, then renamed over the target.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows only: no newline translation


def write_atomic(
    path: Path, data: str | bytes | bytearray | memoryview | Iterable[bytes]
) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8; an iterable of bytes piece by
    piece, never held whole) in one atomic step.

    Parent directories are created. On any failure the temporary file is removed and an
    existing file at ``path`` is left untouched. An existing file keeps its permissions;
    a new one gets the usual ``0o666`` less the process umask.

    >>> write_atomic(Path("out/result.json"), result.to_json())  # doctest: +SKIP
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never follow or reuse someone else's file; 0o666 lets the kernel apply the umask.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if isinstance(data, str):
                handle.write(data.encode("utf-8"))
            elif isinstance(data, bytes | bytearray | memoryview):
                handle.write(data)
            else:
                for piece in data:
                    handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _keep_mode(path: Path, temporary: Path) -> None:
    """Give the new file the permission bits of the one it replaces, if any."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    os.chmod(temporary, mode)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it (POSIX); best effort."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
