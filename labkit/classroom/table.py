"""The instructor's class table: trainees by exercise, with who is stuck where.

:func:`build` turns stored results (:class:`~labkit.classroom.store.StoredResult`) and the roster's trainees into a
:class:`ClassTable`: one row per trainee, one column per exercise, each cell ``PASS``, ``NOT YET`` or ``not tried``;
then the trainee's last activity and the hint of their latest ``NOT YET``. :attr:`ClassTable.stuck` names the
exercise that most trainees are stuck on (latest result ``NOT YET``; ties go to the earlier exercise). The same
table is served as HTML, JSON and CSV by the class service and read back as a pandas DataFrame in the instructor's
notebook (:func:`labkit.classroom.class_table`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from labkit.classroom.store import StoredResult

__all__ = ["PASS", "NOT_YET", "NOT_TRIED", "TraineeRow", "Stuck", "ClassTable", "build", "exercise_key"]

PASS, NOT_YET, NOT_TRIED = "PASS", "NOT YET", "not tried"


def exercise_key(exercise: str) -> tuple[int, int]:
    """Sort key of an exercise id: ``05.2`` before ``05.10``."""
    notebook, _, number = exercise.partition(".")
    return int(notebook), int(number or 0)


@dataclass(frozen=True)
class TraineeRow:
    """One trainee: ``statuses`` in the order of :attr:`ClassTable.exercises`; ``last_activity`` (ISO 8601 UTC,
    when the service last heard from them, ``""`` if never); ``hint`` of the latest ``NOT YET`` (``"05.2: ..."``)."""

    trainee: str
    statuses: tuple[str, ...]
    last_activity: str
    hint: str

    @property
    def passed(self) -> int:
        return sum(s == PASS for s in self.statuses)


@dataclass(frozen=True)
class Stuck:
    """The exercise most trainees are stuck on: ``count`` of ``of`` trainees have ``NOT YET`` as their latest."""

    exercise: str
    title: str
    count: int
    of: int

    def __str__(self) -> str:
        return f"{self.exercise} {self.title}: {self.count} of {self.of} trainees stuck (NOT YET)"


@dataclass(frozen=True)
class ClassTable:
    """The class at one moment (see the module docstring). ``generated`` is the service's time (ISO 8601)."""

    exercises: tuple[str, ...]
    titles: tuple[str, ...]
    rows: tuple[TraineeRow, ...]
    stuck: Stuck | None
    generated: str

    def status(self, trainee: str, exercise: str) -> str:
        row = next(r for r in self.rows if r.trainee == trainee)
        return row.statuses[self.exercises.index(exercise)] if exercise in self.exercises else NOT_TRIED

    def records(self) -> list[dict[str, object]]:
        """One dict per trainee: ``trainee``, each exercise id, ``passed``, ``last activity``, ``latest hint``."""
        return [{"trainee": r.trainee, **dict(zip(self.exercises, r.statuses, strict=True)), "passed": r.passed,
                 "last activity": r.last_activity, "latest hint": r.hint} for r in self.rows]

    def columns(self) -> list[str]:
        return ["trainee", *self.exercises, "passed", "last activity", "latest hint"]

    def frame(self):
        """The table as a pandas DataFrame indexed by trainee (columns: exercises, then passed, last activity,
        latest hint)."""
        import pandas as pd

        return pd.DataFrame(self.records(), columns=self.columns()).set_index("trainee")

    def csv(self) -> str:
        """The table as CSV text (a header line, then one line per trainee)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.records())
        return out.getvalue()

    def to_json(self) -> dict:
        return {"exercises": list(self.exercises), "titles": list(self.titles), "generated": self.generated,
                "stuck": None if self.stuck is None else {"exercise": self.stuck.exercise, "title": self.stuck.title,
                                                           "count": self.stuck.count, "of": self.stuck.of},
                "rows": [{"trainee": r.trainee, "statuses": list(r.statuses), "last_activity": r.last_activity,
                          "hint": r.hint} for r in self.rows]}

    @classmethod
    def from_json(cls, data: Mapping) -> ClassTable:
        stuck = data.get("stuck")
        return cls(tuple(data["exercises"]), tuple(data["titles"]),
                   tuple(TraineeRow(r["trainee"], tuple(r["statuses"]), r["last_activity"], r["hint"])
                         for r in data["rows"]),
                   None if not stuck else Stuck(stuck["exercise"], stuck["title"], stuck["count"], stuck["of"]),
                   data["generated"])


def build(results: Iterable[StoredResult], trainees: Sequence[str], *, titles: Mapping[str, str] | None = None,
          notebook: str | None = None, exclude: Iterable[str] = (), generated: str = "") -> ClassTable:
    """The class table of ``trainees`` (roster order; anyone else with results, except the names in ``exclude``
    such as the instructors, is added after them).

    Columns are every exercise a row has tried, or with ``notebook="05"`` every exercise of that notebook known
    in ``titles`` (plus any tried)."""
    titles = dict(titles or {})
    by_user: dict[str, dict[str, StoredResult]] = {}
    for result in results:
        by_user.setdefault(result.user, {})[result.exercise] = result
    names = list(trainees) + sorted(set(by_user) - set(trainees) - set(exclude))
    tried = {ex for name in names for ex in by_user.get(name, {})}
    if notebook:
        wanted = {ex for ex in titles if ex.startswith(f"{notebook}.")} | {ex for ex in tried
                                                                           if ex.startswith(f"{notebook}.")}
    else:
        wanted = tried
    exercises = tuple(sorted(wanted, key=exercise_key))
    rows = []
    stuck_count = dict.fromkeys(exercises, 0)
    for name in names:
        mine = by_user.get(name, {})
        statuses = tuple(NOT_TRIED if ex not in mine else (PASS if mine[ex].passed else NOT_YET) for ex in exercises)
        for ex, status in zip(exercises, statuses, strict=True):
            if status == NOT_YET:
                stuck_count[ex] += 1
        last = max((r.received for r in mine.values()), default="")
        failing = [r for r in mine.values() if not r.passed]
        latest = max(failing, key=lambda r: r.at, default=None)
        hint = f"{latest.exercise}: {latest.message}" if latest is not None else ""
        rows.append(TraineeRow(name, statuses, last, hint))
    stuck = None
    if any(stuck_count.values()):
        exercise = max(exercises, key=lambda ex: (stuck_count[ex], [-k for k in exercise_key(ex)]))
        stuck = Stuck(exercise, titles.get(exercise, ""), stuck_count[exercise], len(names))
    return ClassTable(exercises, tuple(titles.get(ex, "") for ex in exercises), tuple(rows), stuck, generated)
