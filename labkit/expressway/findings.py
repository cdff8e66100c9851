"""One finding: what every check of the simulated Expressway reports (doctor, the certificate pages, what the CA
changed, a live probe).

A :class:`Finding` is a rule id, a severity (``"error"``, ``"warning"`` or ``"info"``), a message in a trainee's
words, and the source that explains the rule (a :mod:`labkit.guide` reference, an RFC section, or labkit's advice).
It lives apart from :mod:`labkit.expressway.doctor` so that the modules doctor calls (``csr_compare``) can report
findings without importing doctor back.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

__all__ = ["Finding", "Verdict", "COLOURS", "BACKGROUND", "CELL_STYLE", "html_table", "severity_html"]

#: The colours labkit's HTML uses for what a result means, on a white :data:`BACKGROUND`: each has a contrast ratio of
#: at least 4.5:1 against it (WCAG 2.1 AA for normal text; ``tests/test_widget_controls.py`` computes them), so they
#: can be the text colour on white or the background behind white text. "ok" is only ever used for a good outcome.
COLOURS = {"ok": "#1b7f3b", "error": "#a4262c", "warning": "#7a5c00", "info": "#1f4e79"}
BACKGROUND = "#ffffff"
#: The style of every cell of labkit's HTML tables: left-aligned (JupyterLab right-aligns table cells), on top, and
#: wrapped between words only (JupyterLab's output area breaks ``<pre>`` text anywhere, mid-word).
CELL_STYLE = "text-align:left;vertical-align:top;white-space:normal;word-break:normal;overflow-wrap:break-word"


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table of ``rows`` (cells already HTML, escaped by the caller) under ``header`` (plain text), every
    cell left-aligned and wrapped between words (:data:`CELL_STYLE`)."""
    head = "".join(f'<th style="{CELL_STYLE}">{html.escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="{CELL_STYLE}">{cell}</td>' for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def severity_html(severity: str) -> str:
    """A finding's severity as bold text in its colour (:data:`COLOURS`)."""
    return f'<b style="color:{COLOURS[severity]}">{html.escape(severity)}</b>'


@dataclass(frozen=True)
class Finding:
    """One finding: ``rule`` id, ``severity`` ("error" | "warning" | "info"), ``message``, the guide ``chapter`` that
    explains the topic, and the ``source`` the rule rests on (the guide chapter, a release's admin guide, an RFC
    section, or "labkit's advice"; the chapter itself unless given)."""

    rule: str
    severity: str  # "error" | "warning" | "info"
    message: str
    chapter: str
    source: str = ""

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", self.chapter)

    def as_dict(self) -> dict[str, str]:
        """The finding as a JSON-ready dict: rule, severity, message, chapter, source."""
        return asdict(self)

    def reference(self) -> str:
        """``source: ...`` and, when the chapter is another document, ``see ...``: how the text output cites it."""
        if self.chapter in self.source:
            return f"source: {self.source}"
        return f"source: {self.source}; see {self.chapter}"


class Verdict:
    """What a result with ``findings`` (a tuple of :class:`Finding`) concludes: its ``errors``, ``ok`` (no error;
    also its truth value) and its ``rules`` in order. Shared by doctor's :class:`~labkit.expressway.doctor.Report`
    and :class:`~labkit.expressway.probe.ProbeResult`."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __bool__(self) -> bool:
        return self.ok

    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]
