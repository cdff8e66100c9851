"""The Python that trainees' servers and kernels run: the kit's own environment, as trainees can reach it.

Single-user servers run as the trainees' system users, so the interpreter, its standard library, the kit's
packages and labkit itself must be readable by users other than the one who installed them. :func:`runtime` checks
each and makes what is missing in ``STATE/runtime``:

* everything reachable: trainees run the kit's virtual environment directly;
* the interpreter closed to others (a Python built under ``/root`` by pyenv: ``/root`` is closed): a *bridge*
  environment from a system Python of the same version (``/usr/bin/python3.X``) that loads the kit environment's
  ``site-packages`` (a ``.pth`` file) and shares its ``share/`` and ``etc/`` (JupyterLab's assets, the server
  extensions). Compiled packages for CPython 3.X work with any 3.X.y;
* the checkout or its ``.venv`` closed to others (a clone in a private folder): the bridge gets its own copy of the
  packages, labkit and ``share/``/``etc/``, as hard links where the file system allows (no extra space), rebuilt at
  every hub start so it follows the checkout.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import LabError

__all__ = ["Runtime", "others_can_use", "runtime"]

_CHAPTER = "README (A class on JupyterHub)"
_LABKIT = Path(__file__).resolve().parents[1]  # the labkit package folder this hub imports


@dataclass(frozen=True)
class Runtime:
    """``python``: the interpreter to start single-user servers with; ``bin``: folders for their ``PATH``;
    ``workspace``: :mod:`labkit.classroom.workspace` as a file members can run; ``bridge``: ``"none"``, ``"link"``
    (bridge over the kit's environment) or ``"copy"`` (bridge with its own copy)."""

    python: str
    bin: tuple[str, ...]
    workspace: str
    bridge: str = "none"


def others_can_use(path: str | Path, *, execute: bool = False) -> bool:
    """Whether a user other than the owner (and not in its group) can reach ``path``: every folder on the way
    searchable (``o+x``), the target readable (``o+r``) and, with ``execute``, executable (``o+x``)."""
    path = Path(os.path.abspath(path))
    try:
        for folder in reversed(path.parents):
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if stat.S_ISDIR(mode):
        return bool(mode & stat.S_IXOTH) and bool(mode & stat.S_IROTH)
    return bool(mode & stat.S_IROTH) and (not execute or bool(mode & stat.S_IXOTH))


def _base() -> str | None:
    """This environment's base interpreter, if others can run it (and read its standard library)."""
    real = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    if others_can_use(real, execute=True) and others_can_use(sysconfig.get_paths()["stdlib"]):
        return real
    return None


def _interpreter() -> str | None:
    """A Python of this version that others can run: this one's base interpreter, else a system one."""
    if _base():
        return _base()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        if os.path.exists(candidate) and others_can_use(os.path.realpath(candidate), execute=True):
            return candidate
    return None


def _copy(source: Path, target: Path) -> None:
    """``source`` to ``target`` as hard links (same file system), else as a plain copy; modes kept."""
    if subprocess.run(["cp", "-al", str(source), str(target)], capture_output=True).returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["cp", "-a", str(source), str(target)], check=True, capture_output=True)


def runtime(state: str | Path) -> Runtime:
    """The runtime for trainees' servers (see the module docstring). Raises :class:`~labkit.LabError`
    ``classroom-runtime`` when no Python of this version can be run by other users."""
    site = Path(sysconfig.get_paths()["purelib"])
    venv = Path(sys.prefix)
    venv_bin = str(Path(sys.executable).parent)
    workspace = _LABKIT / "classroom" / "workspace.py"
    shared = [venv / name for name in ("share", "etc") if (venv / name).exists()]
    readable = all(others_can_use(p) for p in (site, _LABKIT, workspace, *shared))
    if readable and _base() and others_can_use(sys.executable, execute=True):
        return Runtime(sys.executable, (venv_bin,), str(workspace))
    interpreter = _interpreter()
    if interpreter is None:
        raise LabError(f"This Python ({os.path.realpath(sys.executable)}) is closed to other users and there is no "
                       f"system python{sys.version_info.major}.{sys.version_info.minor} they could run: make the "
                       "venv from a Python everyone can run (make PYTHON=/usr/bin/python3 ...)",
                       rule="classroom-runtime", value=sys.executable, chapter=_CHAPTER)
    bridge = Path(state) / "runtime"
    subprocess.run([interpreter, "-m", "venv", "--without-pip", "--clear", str(bridge)], check=True,
                   capture_output=True)
    python = bridge / "bin" / "python"
    own_site = bridge / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    if readable:
        kind, lines = "link", [f"import site; site.addsitedir({str(site)!r})"]
        for folder in shared:
            (bridge / folder.name).symlink_to(folder)
    else:
        kind = "copy"
        _copy(site, bridge / "kit-site")
        for pth in (bridge / "kit-site").glob("*.pth"):  # the editable install points into the closed checkout
            if str(_LABKIT.parent) in pth.read_text(errors="replace"):
                pth.unlink()
        (bridge / "kit-src").mkdir()
        _copy(_LABKIT, bridge / "kit-src" / "labkit")
        for folder in shared:
            _copy(folder, bridge / folder.name)
        lines = [f"import site; site.addsitedir({str(bridge / 'kit-site')!r})", str(bridge / "kit-src")]
        workspace = bridge / "kit-src" / "labkit" / "classroom" / "workspace.py"
    (own_site / "labkit-kit.pth").write_text("\n".join(lines) + "\n")
    command = bridge / "bin" / "labkit"  # the command line, for a trainee's terminal
    command.write_text(f"#!{python}\nimport sys\nfrom labkit.cli import main\nsys.exit(main())\n")
    command.chmod(0o755)
    for folder in (bridge, bridge / "bin", bridge / "lib", own_site.parent, own_site):
        folder.chmod(folder.stat().st_mode | 0o055)
    return Runtime(str(python), (str(python.parent),), str(workspace), kind)
