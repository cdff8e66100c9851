"""Exercises that check themselves: ``check("01.2", answer, ...)`` says pass or not yet, with a hint.

This module is the registry only. Each exercise is a small function in its chapter's module
(``labkit.chapters.ch01_pki_basics`` holds 01.1-01.4), registered with :func:`exercise`; it works the expected
answer out from the objects it is given (a signature is verified, a fingerprint recomputed), so no answer is written
down anywhere. :func:`check` finds a chapter's checks by the exercise id and imports that chapter when first asked,
so the registry imports no chapter and no chapter cycle exists. Reference solutions live in ``notebooks/solutions/``.

What becomes NOT YET: an answer the checker rejects, an answer that does not fit the checker's parameters, and a
:class:`~labkit.errors.LabkitError` the checker raises on the answer. Anything else a checker raises is a bug in the
checker and is raised as it is, with its traceback.
"""

from __future__ import annotations

import html
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from labkit import lab, progress_store
from labkit.errors import LabError, LabkitError

__all__ = ["Exercise", "Result", "EXERCISES", "CHAPTERS", "exercise", "check", "progress"]

#: The chapter module (under ``labkit.chapters``) that holds the exercises of each notebook number.
CHAPTERS = {"00": "ch00_welcome", "01": "ch01_pki_basics", "02": "ch02_tls_handshake",
            "03": "ch03_expressway_certificates", "04": "ch04_csr_building", "05": "ch05_openssl_ca",
            "06": "ch06_loading_certificates", "07": "ch07_crl_checks", "08": "ch08_acme",
            "09": "ch09_troubleshooting", "10": "ch10_capstone"}


@dataclass(frozen=True)
class Result:
    exercise: str
    passed: bool
    message: str

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'NOT YET'} [{self.exercise}] {self.message}"

    def __bool__(self) -> bool:
        return self.passed

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.passed else "#a4262c"
        return (f'<div style="border-left:4px solid {colour};padding:4px 8px"><b>{"PASS" if self.passed else "NOT YET"}'
                f" [{html.escape(self.exercise)}]</b> {html.escape(self.message)}</div>")

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    chapter: str
    checker: Callable[..., tuple[bool, str]]


EXERCISES: dict[str, Exercise] = {}
_RESULTS: dict[str, Result] = {}  # the latest result of each exercise checked in this session
lab.on_reset_all(_RESULTS.clear)
lab.on_reset_all(progress_store.forget)  # and the saved ones (~/.labkit/progress.json)


def exercise(ex_id: str, title: str, chapter: str):
    """Register the decorated function as the checker of exercise ``ex_id`` (``"01.2"``): it takes the answer and
    the context the notebook passes, and returns ``(passed, message)``."""
    def register(func):
        EXERCISES[ex_id] = Exercise(ex_id, title, chapter, func)
        return func
    return register


_exercise = exercise  # the name the chapter modules use


def _load(prefix: str | None = None) -> None:
    """Import the chapter module of ``prefix`` ("01"), or of every chapter: importing registers its exercises."""
    for number, name in CHAPTERS.items():
        if prefix is None or prefix == number:
            importlib.import_module(f"labkit.chapters.{name}")


def _exercise_for(exercise_id: str) -> Exercise:
    prefix = exercise_id.partition(".")[0] if isinstance(exercise_id, str) else None
    if exercise_id not in EXERCISES and prefix in CHAPTERS:
        _load(prefix)
    if exercise_id not in EXERCISES:
        _load()
        raise LabError(f"No such exercise; choose one of {', '.join(sorted(EXERCISES))}", rule="exercise-id",
                       value=exercise_id)
    return EXERCISES[exercise_id]


def check(exercise_id: str, *answer, **context) -> Result:
    """Check an answer to exercise ``exercise_id``; never raises for a wrong answer, only says why.

    A wrong answer, an answer in another form than the checker takes, or a LabkitError raised on the answer is
    NOT YET with the reason; an unknown ``exercise_id`` raises LabError (rule ``exercise-id``); any other error is
    the checker's own bug and is raised.

    The result is also saved to ``~/.labkit/progress.json`` and, under JupyterHub, sent to the class service in the
    background (:mod:`labkit.progress_store`).
    """
    ex = _exercise_for(exercise_id)
    try:
        bound = inspect.signature(ex.checker).bind(*answer, **context)
    except TypeError as exc:
        passed, message = False, f"the answer is not in the expected form ({exc})"
    else:
        try:
            passed, message = ex.checker(*bound.args, **bound.kwargs)
        except LabkitError as exc:
            passed, message = False, str(exc)
    result = Result(exercise_id, passed, message)
    _RESULTS[exercise_id] = result
    progress_store.record(exercise_id, passed, message)
    return result


def progress(notebook: str | None = None):
    """Which exercises pass, as a table (``notebook="01"`` for one notebook's): this session's results, and the
    saved ones of earlier sessions (``~/.labkit/progress.json``) for exercises not checked since."""
    import pandas as pd

    _load(notebook)
    saved = progress_store.load()
    rows = []
    for ex in sorted(EXERCISES.values(), key=lambda e: e.id):
        if notebook and not ex.id.startswith(f"{notebook}."):
            continue
        result = _RESULTS.get(ex.id) or saved.get(ex.id)
        status = "not tried" if result is None else ("pass" if result.passed else "not yet")
        rows.append({"exercise": ex.id, "title": ex.title, "status": status, "guide": ex.chapter})
    return pd.DataFrame(rows, columns=["exercise", "title", "status", "guide"])

