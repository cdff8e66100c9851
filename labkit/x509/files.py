"""Safe writes: a file is replaced whole or not at all, and private keys are readable by their owner only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from labkit.errors import InputError

__all__ = ["write_atomic", "write_private"]


def write_atomic(path: str | Path, data: bytes | str, *, mode: int = 0o644, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader sees the old file or the new one, never half of one; a killed process leaves the old file untouched.
    ``fsync=False`` skips flushing to disk (still atomic for other processes; only a power cut could lose it).
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not path.parent.is_dir():
        raise InputError("The folder to write into does not exist", rule="output-folder-exists", value=str(path.parent))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_private(path: str | Path, data: bytes | str) -> Path:
    """:func:`write_atomic` with mode 0600, for private keys."""
    return write_atomic(path, data, mode=0o600)
