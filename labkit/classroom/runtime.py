"""The Python that trainees' servers and kernels run: the kit's own environment, as trainees can reach it.

Single-user servers run as the trainees' system users, so the interpreter, its standard library and the kit's
packages must be readable by users other than the one who installed them. :func:`runtime` checks that:

* when the virtual environment's interpreter is usable by others, trainees run it directly;
* when it is not (a Python built under ``/root`` by pyenv, for example: ``/root`` is closed to others), a small
  *bridge* environment is made in ``STATE/runtime`` from a system Python of the same version (``/usr/bin/python3.X``)
  that loads the kit environment's ``site-packages`` (a ``.pth`` file) and shares its ``share/`` and ``etc/``
  (JupyterLab's assets, the server extensions). Compiled packages for CPython 3.X work with any 3.X.y.

When the kit's ``site-packages`` itself is closed to others, no bridge helps: :class:`~labkit.LabError`
``classroom-runtime`` says to put the checkout where other users can read it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabError

__all__ = ["Runtime", "others_can_use", "runtime"]

_CHAPTER = "README (A class on JupyterHub: set-up)"


@dataclass(frozen=True)
class Runtime:
    """``python``: the interpreter to start single-user servers with; ``bin``: folders for their ``PATH``;
    ``bridge``: whether it is a bridge environment (see the module docstring)."""

    python: str
    bin: tuple[str, ...]
    bridge: bool


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


def _base_usable() -> bool:
    real = os.path.realpath(sys.executable)
    return others_can_use(real, execute=True) and others_can_use(sysconfig.get_paths()["stdlib"])


def _system_python() -> str | None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        if os.path.exists(candidate) and others_can_use(os.path.realpath(candidate), execute=True):
            return candidate
    return None


def runtime(state: str | Path) -> Runtime:
    """The runtime for trainees' servers (making the bridge in ``state/runtime`` when needed; see the module)."""
    site = sysconfig.get_paths()["purelib"]
    venv_bin = str(Path(sys.executable).parent)
    if not others_can_use(site):
        raise LabError("Trainees' servers run as their own users, who cannot read the kit's packages: put the "
                       "checkout (and its .venv) in a folder other users can read", rule="classroom-runtime",
                       value=site, chapter=_CHAPTER)
    if _base_usable():
        return Runtime(sys.executable, (venv_bin,), bridge=False)
    system = _system_python()
    if system is None:
        raise LabError(f"This Python ({os.path.realpath(sys.executable)}) is closed to other users and there is no "
                       f"system python{sys.version_info.major}.{sys.version_info.minor} to bridge with: make the "
                       "venv from a Python everyone can run (make PYTHON=/usr/bin/python3 ...)",
                       rule="classroom-runtime", value=sys.executable, chapter=_CHAPTER)
    bridge = Path(state) / "runtime"
    python = bridge / "bin" / "python"
    pth = bridge / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / \
        "labkit-venv.pth"
    line = f"import site; site.addsitedir({site!r})\n"
    if not python.exists() or not pth.exists() or pth.read_text() != line:
        subprocess.run([system, "-m", "venv", "--without-pip", "--clear", str(bridge)], check=True,
                       capture_output=True)
        pth.write_text(line)
        for shared in ("share", "etc"):
            link = bridge / shared
            if not link.exists():
                link.symlink_to(Path(sys.prefix) / shared)
        command = bridge / "bin" / "labkit"  # the command line, for a trainee's terminal
        command.write_text(f"#!{python}\nimport sys\nfrom labkit.cli import main\nsys.exit(main())\n")
        command.chmod(0o755)
    for folder in [bridge, *bridge.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(folder.stat().st_mode | 0o055)
    return Runtime(str(python), (str(python.parent),), bridge=True)
