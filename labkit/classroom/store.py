"""The class service's memory: every trainee's latest result per exercise, in one SQLite file.

A trainee's kernel sends the results of its progress file (:mod:`labkit.progress_store`); the service records them
under the name the hub vouched for (never a name from the request). A result replaces the stored one only when it
is at least as recent (``at``), so a late catch-up of an old result never hides a newer one. ``received`` is the
service's own clock: the class table's "last activity".
"""

from __future__ import annotations

import datetime as _dt
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import InputError

__all__ = ["StoredResult", "ResultStore", "MAX_BATCH", "MAX_MESSAGE"]

MAX_BATCH = 200  # results in one POST (there are about 40 exercises)
MAX_MESSAGE = 500  # characters of a checker's message kept
_EXERCISE = re.compile(r"\d{2}\.\d{1,2}")
_CHAPTER = "README (A class on JupyterHub: the class service)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    user TEXT NOT NULL,
    exercise TEXT NOT NULL,
    passed INTEGER NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    received TEXT NOT NULL,
    PRIMARY KEY (user, exercise)
)
"""


@dataclass(frozen=True)
class StoredResult:
    """One trainee's latest result of one exercise; ``at`` from the trainee's check, ``received`` from the service
    (both ISO 8601, UTC)."""

    user: str
    exercise: str
    passed: bool
    message: str
    at: str
    attempts: int
    received: str


def _instant(value: object, field: str) -> str:
    try:
        parsed = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InputError("A result's time is ISO 8601", rule="class-result-time", value=value,
                         chapter=_CHAPTER) from None
    if parsed.tzinfo is None:
        raise InputError("A result's time carries its time zone", rule="class-result-time", value=value,
                         chapter=_CHAPTER)
    return parsed.astimezone(_dt.timezone.utc).isoformat()


def _validated(item: object) -> tuple[str, bool, str, str, int]:
    if not isinstance(item, dict):
        raise InputError("Each result is an object", rule="class-result-shape", value=item, chapter=_CHAPTER)
    exercise = item.get("exercise")
    if not isinstance(exercise, str) or not _EXERCISE.fullmatch(exercise):
        raise InputError("An exercise id looks like 05.1", rule="class-result-exercise", value=exercise,
                         chapter=_CHAPTER)
    passed, message, attempts = item.get("passed"), item.get("message", ""), item.get("attempts", 1)
    if not isinstance(passed, bool):
        raise InputError("'passed' is true or false", rule="class-result-passed", value=passed, chapter=_CHAPTER)
    if not isinstance(message, str):
        raise InputError("'message' is text", rule="class-result-message", value=message, chapter=_CHAPTER)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        raise InputError("'attempts' is a positive whole number", rule="class-result-attempts", value=attempts,
                         chapter=_CHAPTER)
    return exercise, passed, message[:MAX_MESSAGE], _instant(item.get("at"), "at"), attempts


class ResultStore:
    """SQLite storage of the class's results (``path``; ``":memory:"`` for a throw-away one). Thread-safe."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, user: str, items: Iterable[object], *, received: str | None = None) -> int:
        """Store ``user``'s results (dicts with ``exercise``, ``passed``, ``message``, ``at``, ``attempts``).

        All or nothing: one bad item raises :class:`~labkit.InputError` (rules ``class-result-*``,
        ``class-batch-size``) and nothing is stored. Returns how many were taken (newer than what was stored)."""
        items = list(items)
        if not items or len(items) > MAX_BATCH:
            raise InputError(f"Send between 1 and {MAX_BATCH} results at a time", rule="class-batch-size",
                             value=len(items), chapter=_CHAPTER)
        rows = [_validated(item) for item in items]
        received = received or _dt.datetime.now(_dt.timezone.utc).isoformat()
        taken = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for exercise, passed, message, at, attempts in rows:
                    cursor = self._db.execute(
                        "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (user, exercise) DO UPDATE SET passed=excluded.passed, "
                        "message=excluded.message, at=excluded.at, attempts=excluded.attempts, "
                        "received=excluded.received WHERE excluded.at >= results.at",
                        (user, exercise, int(passed), message, at, attempts, received))
                    taken += cursor.rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return taken

    def results(self, user: str | None = None) -> list[StoredResult]:
        """Every stored result (of one ``user`` if given), ordered by user then exercise."""
        query = "SELECT user, exercise, passed, message, at, attempts, received FROM results"
        args: tuple = ()
        if user is not None:
            query, args = query + " WHERE user = ?", (user,)
        with self._lock:
            found = self._db.execute(query + " ORDER BY user, exercise", args).fetchall()
        return [StoredResult(u, e, bool(p), m, a, n, r) for u, e, p, m, a, n, r in found]
