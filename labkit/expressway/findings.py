"""One finding: what every check of the simulated Expressway reports (doctor, the certificate pages, what the CA
changed, a live probe).

A :class:`Finding` is a rule id, a severity (``"error"``, ``"warning"`` or ``"info"``), a message in a trainee's
words, and the source that explains the rule (a :mod:`labkit.guide` reference, an RFC section, or labkit's advice).
It lives apart from :mod:`labkit.expressway.doctor` so that the modules doctor calls (``csr_compare``) can report
findings without importing doctor back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Finding"]


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
