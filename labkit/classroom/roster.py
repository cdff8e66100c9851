"""The class roster: who may log in to the hub, and as what.

A roster is a CSV file with one member a line, ``username,role``, where the role is ``trainee`` or ``instructor``
(a first line ``username,role`` is taken as a header; blank lines and lines starting with ``#`` are skipped)::

    username,role
    alice,trainee
    bob,trainee
    carol,instructor

Each member becomes a system user of that name (``useradd``, as The Littlest JupyterHub does), so a name follows the
portable POSIX user-name rules that ``useradd`` accepts on Debian: a lower-case letter or ``_`` first, then lower-case
letters, digits, ``_`` or ``-``, 32 characters at most. JupyterHub lower-cases names at login, so upper-case is refused
here rather than surprising someone later.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import InputError

__all__ = ["ROLES", "Member", "Roster", "read_roster", "parse_roster"]

ROLES = ("trainee", "instructor")
_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_RESERVED = {"root", "admin", "nobody", "daemon", "bin", "sys", "www-data", "jupyterhub"}
_CHAPTER = "README (A class on JupyterHub: the roster)"


@dataclass(frozen=True)
class Member:
    """One line of the roster: ``name`` (the hub and system user name) and ``role`` (``trainee``/``instructor``)."""

    name: str
    role: str

    @property
    def instructor(self) -> bool:
        return self.role == "instructor"


@dataclass(frozen=True)
class Roster:
    """The whole class, in file order."""

    members: tuple[Member, ...]

    @property
    def trainees(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members if not m.instructor)

    @property
    def instructors(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members if m.instructor)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members)

    def role_of(self, name: str) -> str | None:
        return next((m.role for m in self.members if m.name == name), None)


def parse_roster(text: str, *, source: str = "roster") -> Roster:
    """Read roster text (see the module docstring). Raises :class:`~labkit.InputError` naming the line:
    ``roster-columns``, ``roster-username``, ``roster-role``, ``roster-duplicate``, ``roster-empty``,
    ``roster-no-instructor``."""
    members: list[Member] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and [c.lower() for c in cells[:2]] == ["username", "role"]:
            continue
        where = f"{source} line {number}"
        if len(cells) != 2:
            raise InputError(f"{where}: write 'username,role'", rule="roster-columns", value=",".join(cells),
                             chapter=_CHAPTER)
        name, role = cells[0], cells[1].lower()
        if not _NAME.fullmatch(name) or name in _RESERVED:
            raise InputError(f"{where}: a user name is a lower-case letter or '_' then lower-case letters, digits, "
                             "'_' or '-' (32 at most), and not a system account", rule="roster-username",
                             value=name, chapter=_CHAPTER)
        if role not in ROLES:
            raise InputError(f"{where}: the role is 'trainee' or 'instructor'", rule="roster-role", value=role,
                             chapter=_CHAPTER)
        if name in seen:
            raise InputError(f"{where}: {name} is already on the roster", rule="roster-duplicate", value=name,
                             chapter=_CHAPTER)
        seen.add(name)
        members.append(Member(name, role))
    if not members:
        raise InputError(f"{source} names nobody", rule="roster-empty", value=source, chapter=_CHAPTER)
    roster = Roster(tuple(members))
    if not roster.instructors:
        raise InputError(f"{source} has no instructor: nobody could see the class", rule="roster-no-instructor",
                         value=source, chapter=_CHAPTER)
    return roster


def read_roster(path: str | Path) -> Roster:
    """:func:`parse_roster` on a file (``InputError`` rule ``roster-file`` when it cannot be read)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"The roster cannot be read ({getattr(exc, 'strerror', None) or exc})", rule="roster-file",
                         value=str(path), chapter=_CHAPTER) from None
    return parse_roster(text, source=path.name)
