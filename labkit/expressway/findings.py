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
    """One rule's verdict: ``rule`` (its id), ``severity`` ("error" | "warning" | "info"), ``message``, and
    ``chapter`` (the source that explains the rule)."""

    rule: str
    severity: str  # "error" | "warning" | "info"
    message: str
    chapter: str

    def as_dict(self) -> dict[str, str]:
        """The finding as a JSON-ready dict: rule, severity, message, chapter."""
        return asdict(self)
