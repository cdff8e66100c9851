"""Safe writes: a file is replaced whole or not at all, and private keys are readable by their owner only.

``openssl`` writes its ``-out`` file in place; labkit writes through a temporary file in the same folder and a
rename, so a reader (or ``openssl ca``) sees the old file or the new one and a killed process leaves the old one.
What OpenSSL does with a symbolic link is kept: the link's target is written (still atomically) and the link stays.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from labkit.errors import InputError

__all__ = ["write_atomic", "write_private", "write_new", "check_output", "write_pair", "owned_folder", "release_folder",
           "clear_abandoned"]


def check_output(path: str | Path) -> Path:
    """The real file a write to ``path`` replaces (a symbolic link's target), refusing what is no place for a file:
    a folder, a FIFO, a device or a socket (rule ``output-is-regular-file``), a missing folder
    (``output-folder-exists``), a folder labkit may not write into (``output-writable``) or a link that leads back to
    itself (``symlink-loop``). Nothing is written: a command checks its outputs with this before it changes anything
    (a CA before it uses up a serial or a CRL number)."""
    path = Path(path)
    target = Path(os.path.realpath(path))  # a symbolic link's target (OpenSSL writes through links too)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("The output path is a symbolic link that leads back to itself", rule="symlink-loop",
                             value=str(path)) from None
        raise InputError(f"Cannot write there: {exc.strerror}", rule="output-path", value=str(path)) from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else (
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise InputError(f"The output path is {kind}; give a file name", rule="output-is-regular-file",
                         value=str(path))
    if not target.parent.is_dir():
        raise InputError("The folder to write into does not exist", rule="output-folder-exists",
                         value=str(path.parent))
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise InputError("Cannot write into the folder: permission denied (labkit writes a temporary file beside "
                         "the target and renames it)", rule="output-writable", value=str(path))
    return target


def write_atomic(path: str | Path, data: bytes | str, *, mode: int = 0o644, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename; returns ``path``.

    A reader sees the old file or the new one, never half of one; a killed process leaves the old file untouched.
    The file gets ``mode`` whatever the umask (0644: readable by all; keys: :func:`write_private`). A symbolic link
    is written through to its target. ``fsync=False`` skips flushing to disk (still atomic for other processes;
    only a power cut could lose it). Refusals (:func:`check_output`) and write errors name ``path``, never the
    temporary file.
    """
    path = Path(path)
    target = check_output(path)
    tmp = _temporary(target.parent, target.name, data, mode, fsync, path)
    try:
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"Cannot write the file: {exc.strerror}", rule="output-writable", value=str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _temporary(folder: Path, name: str, data: bytes | str, mode: int, fsync: bool, shown: Path) -> str:
    """A hidden temporary file ``.NAME.*.tmp`` in ``folder`` holding ``data`` with ``mode`` (flushed to disk when
    ``fsync``), for :func:`write_atomic` and :func:`write_new` to move into place: its path. A failure leaves no
    temporary file and names ``shown`` (rule ``output-writable``)."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"Cannot write the file: {exc.strerror}", rule="output-writable", value=str(shown)) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"Cannot write the file: {exc.strerror}", rule="output-writable", value=str(shown)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_new(path: str | Path, data: bytes | str, *, mode: int = 0o644) -> Path:
    """Write a file that must not exist yet (a CA's ``newcerts/SERIAL.pem``), whole or not at all: through a temporary
    file in the same folder, then a hard link to ``path`` (which fails if ``path`` exists: ``FileExistsError``, never
    an overwrite) and the temporary name removed. A process killed midway leaves no file at ``path`` (at worst a
    hidden ``.NAME.*.tmp``), never a short or empty one. ``mode`` is set whatever the umask."""
    path = Path(path)
    tmp = _temporary(path.parent, path.name, data, mode, True, path)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        raise InputError(f"Cannot write the file: {exc.strerror}", rule="output-writable", value=str(path)) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def check_distinct(outputs, inputs=()) -> None:
    """Refuse before anything is written when two of ``outputs`` are one file (rule ``output-paths-differ``: one
    would overwrite the other) or an output is one of ``inputs`` (``output-is-input``: the file read would be
    replaced). Paths are compared as the files they lead to (symbolic links followed); None and ``-`` are skipped."""
    seen: dict[str, str] = {}
    for path in inputs:
        if path is not None and str(path) != "-":
            seen[os.path.realpath(path)] = "input"
    for path in outputs:
        if path is None or str(path) == "-":
            continue
        target = os.path.realpath(path)
        if seen.get(target) == "output":
            raise InputError("Two output files are the same file: one would overwrite the other",
                             rule="output-paths-differ", value=str(path))
        if seen.get(target) == "input":
            raise InputError("The output file is the file being read: it would be replaced; write to another file",
                             rule="output-is-input", value=str(path))
        seen[target] = "output"


def check_key_out(path: str | Path | None, option: str = "--key-out") -> None:
    """Refuse (InputError ``key-out-exists``) a private-key output that would replace a file already there with
    other content: a key replaced is a key lost, and every certificate made for it with it (``openssl req -keyout``
    overwrites without a word; labkit does not). None passes; the same bytes again pass."""
    if path is None:
        return
    target = Path(os.path.realpath(path))
    if target.is_file() and target.stat().st_size:
        raise InputError(f"{option} names a file that already exists: labkit never replaces a private key (the "
                         "certificates made for it would be orphaned); move it away or choose another name",
                         rule="key-out-exists", value=str(path))


def write_private(path: str | Path, data: bytes | str) -> Path:
    """:func:`write_atomic` with mode 0600, for private keys."""
    return write_atomic(path, data, mode=0o600)


def write_pair(first: tuple[str | Path, bytes | str, int], second: tuple[str | Path, bytes | str, int]) -> None:
    """Write two files that belong together (a private key and its CSR) as a pair: both or neither.

    Each is ``(path, data, mode)``. The two paths must differ (rule ``output-paths-differ``). Both are checked
    before anything is written; if the second write fails, the first file is put back as it was (or removed).
    """
    (path_a, data_a, mode_a), (path_b, data_b, mode_b) = first, second
    target_a = check_output(path_a)
    check_output(path_b)
    check_distinct([path_a, path_b])
    before = target_a.read_bytes() if target_a.is_file() else None
    before_mode = stat.S_IMODE(target_a.stat().st_mode) if before is not None else None
    write_atomic(path_a, data_a, mode=mode_a)
    try:
        write_atomic(path_b, data_b, mode=mode_b)
    except BaseException:
        if before is None:
            target_a.unlink(missing_ok=True)
        else:
            write_atomic(path_a, before, mode=before_mode)
        raise


_OWNER = ".labkit-owner"  # the process id of the labkit process building a folder


def owned_folder(parent: str | Path, prefix: str, suffix: str) -> Path:
    """A new private (0700) folder in ``parent`` (``tempfile.mkdtemp``), tagged with this process's id so that
    :func:`clear_abandoned` can remove it once the process is gone (a SIGKILL leaves it behind). Raises OSError as
    ``mkdtemp`` does. Remove the tag (:func:`release_folder`) before the folder is renamed into place."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    (folder / _OWNER).write_text(str(os.getpid()))
    return folder


def release_folder(folder: Path) -> None:
    """Remove the owner tag of a folder made by :func:`owned_folder` (it is about to become a real one)."""
    (folder / _OWNER).unlink(missing_ok=True)


def clear_abandoned(parent: str | Path, pattern: str) -> list[Path]:
    """Remove the folders in ``parent`` matching the glob ``pattern`` whose owner process (:func:`owned_folder`) no
    longer runs; returns them. A folder without a readable tag, or of a live process, is left alone."""
    import shutil

    removed = []
    for folder in Path(parent).glob(pattern):
        try:
            owner = int((folder / _OWNER).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
        except PermissionError:
            continue  # another user's live process
    return removed
