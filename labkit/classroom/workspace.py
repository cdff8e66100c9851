"""A trainee's workspace: the chapter notebooks in their home, never the solutions, never over their edits.

At every spawn the hub (root) calls :func:`prepare`: it reads the files this member should have from the kit's
``notebooks/`` folder (:func:`files_for`: the chapter notebooks; instructors also get ``solutions/``, ``instructor/``
and the class-view notebook), then a child process running **as the member** (their uid and gids, in their home)
writes the ones never given before (:func:`populate`). Writing as the member means a symbolic link planted in a
home cannot make root write anywhere, and every file belongs to its owner.

``~/.labkit/workspace.json`` lists what was given. A file listed there is never written again, even if the trainee
changed, renamed or deleted it; a notebook the kit gains later (a new chapter) is not listed yet, so the next
spawn adds it beside the trainee's files. A path the trainee already uses for a file of their own is left alone.

Standard library only: this file is also run as a script by that child (``python -I workspace.py HOME``), with the
files as a tar stream on standard input and a JSON report on standard output.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["TRAINEE_FILES", "INSTRUCTOR_FILES", "PRIVATE_FOLDERS", "Report", "files_for", "populate", "prepare"]

TRAINEE_FILES = ("*.ipynb",)  # the chapter notebooks, at the top of notebooks/
INSTRUCTOR_FILES = ("*.ipynb", "solutions/*.ipynb", "instructor/*.ipynb")
PRIVATE_FOLDERS = ("solutions", "instructor")  # what only instructors may read
MANIFEST = ".labkit/workspace.json"


@dataclass(frozen=True)
class Report:
    """What a spawn did to a home: files ``added``, and files ``kept`` as they were (given before, or the
    trainee's own file at that path)."""

    added: tuple[str, ...]
    kept: tuple[str, ...]


def files_for(source: str | Path, *, instructor: bool, extra: dict[str, str | Path] | None = None) -> dict[str, bytes]:
    """The files a member gets, ``{relative path: content}``, read from ``source`` (the kit's notebooks folder).

    Trainees: the chapter notebooks only. Instructors: also the solutions and instructor notebooks, and ``extra``
    (``{path in the home: file}``, such as the class-view notebook)."""
    source = Path(source)
    found: dict[str, bytes] = {}
    for pattern in INSTRUCTOR_FILES if instructor else TRAINEE_FILES:
        for path in sorted(source.glob(pattern)):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                found[path.relative_to(source).as_posix()] = path.read_bytes()
    if instructor:
        for rel, path in (extra or {}).items():
            found[PurePosixPath(rel).as_posix()] = Path(path).read_bytes()
    return found


def _safe(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(parts) and not PurePosixPath(rel).is_absolute() and ".." not in parts and parts[0] != ".labkit"


def _read_manifest(home: Path) -> list[str]:
    try:
        given = json.loads((home / MANIFEST).read_text(encoding="utf-8")).get("given", [])
        return [str(g) for g in given] if isinstance(given, list) else []
    except (OSError, ValueError, AttributeError):
        return []


def _write_manifest(home: Path, given: list[str]) -> None:
    folder = home / ".labkit"
    folder.mkdir(mode=0o700, exist_ok=True)
    tmp = folder / f".workspace.json.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"version": 1, "given": sorted(set(given))}, handle, indent=1)
    os.replace(tmp, folder / "workspace.json")


def populate(home: str | Path, files: dict[str, bytes]) -> Report:
    """Write into ``home`` the ``files`` never given before (run as the home's owner; see the module docstring)."""
    home = Path(home)
    given = _read_manifest(home)
    added, kept = [], []
    for rel, data in sorted(files.items()):
        if not _safe(rel):
            continue
        target = home / rel
        if rel in given or os.path.lexists(target):
            kept.append(rel)
            given.append(rel)
            continue
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:  # appeared meanwhile: the trainee's
            kept.append(rel)
            given.append(rel)
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        added.append(rel)
        given.append(rel)
    _write_manifest(home, given)
    return Report(tuple(added), tuple(kept))


def _pack(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _unpack(data: bytes) -> dict[str, bytes]:
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        for member in tar.getmembers():
            if member.isfile():
                files[member.name] = tar.extractfile(member).read()
    return files


def prepare(home: str | Path, files: dict[str, bytes], *, uid: int, gid: int, python: str = sys.executable,
            script: str = __file__, timeout: float = 60.0) -> Report:
    """Run :func:`populate` in a child process as ``uid``/``gid`` (called by the hub, as root), with ``python``
    running ``script`` (this file, or a copy the member can read: :class:`~labkit.classroom.runtime.Runtime`)."""
    import pwd

    user = pwd.getpwuid(uid).pw_name

    def become_member() -> None:  # between fork and exec: drop root for good before touching the home
        os.setgid(gid)
        os.initgroups(user, gid)
        os.setuid(uid)

    done = subprocess.run([python, "-I", script, str(home)], input=_pack(files), capture_output=True,
                          timeout=timeout, preexec_fn=become_member, cwd=str(home), check=False,  # noqa: PLW1509
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"})
    if done.returncode != 0:
        raise RuntimeError(f"preparing {home} failed: {done.stderr.decode(errors='replace')[-500:]}")
    report = json.loads(done.stdout)
    return Report(tuple(report["added"]), tuple(report["kept"]))


def main(argv: list[str] | None = None) -> int:
    """``python workspace.py HOME`` (files as a tar stream on stdin: the hub's child), or
    ``python -m labkit.classroom.workspace HOME --from NOTEBOOKS`` (as the member, e.g. a Kubernetes postStart
    hook reading the notebooks baked into the image)."""
    import argparse

    parser = argparse.ArgumentParser(description="Give a home the kit's notebooks it never had")
    parser.add_argument("home")
    parser.add_argument("--from", dest="source", help="the notebooks folder to read (instead of stdin)")
    parser.add_argument("--instructor", action="store_true", help="also solutions/ and instructor/")
    args = parser.parse_args(argv)
    files = files_for(args.source, instructor=args.instructor) if args.source else _unpack(sys.stdin.buffer.read())
    result = populate(args.home, files)
    json.dump({"added": list(result.added), "kept": list(result.kept)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
