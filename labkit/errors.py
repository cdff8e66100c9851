"""One exception hierarchy for everything labkit refuses.

Every error names three things a trainee needs to fix the problem:

* ``rule``: a short, stable identifier of the rule that was broken (``pem-label``, ``file-too-large`` ...);
* ``value``: the offending value, shortened for display;
* ``chapter``: where in the *Certificate Creation and Use Deployment Guide (X14.0)* the rule is explained.

Widgets catch :class:`LabkitError` and show ``str(error)``; the command line prints it on one line and exits 2.

The classes also derive from the built-in exceptions an ordinary handler expects (as pyca/cryptography raises
``ValueError`` for a broken rule and ``TypeError`` for a wrong type): :class:`InputError` and :class:`PolicyError`
are ``ValueError`` subclasses, :class:`WrongTypeError` is also a ``TypeError``. ``except ValueError`` around a
labkit call catches a refusal; ``except LabkitError`` catches every refusal and nothing else.
"""

from __future__ import annotations

from labkit import guide

__all__ = ["LabkitError", "InputError", "WrongTypeError", "PasswordError", "PolicyError", "LabError"]

_MAX_VALUE = 60


def _short(value: object) -> str:
    """The value as a trainee reads it: text as text, bytes as their text when they are printable ASCII, else as hex
    (never Python's ``b'...'``), cut at 60 characters."""
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        if not data:
            return "(nothing)"
        head = data[:_MAX_VALUE]
        printable = all(32 <= b < 127 or b in (9, 10, 13) for b in head)
        text = " ".join(head.decode("ascii").split()) if printable else head[:20].hex(" ")
        cut = len(data) > (_MAX_VALUE if printable else 20)
        return f"{text} ... ({len(data)} bytes)" if cut else (text if printable else f"{text} ({len(data)} bytes)")
    text = str(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


class LabkitError(Exception):
    """Base class: a rule was broken by a value; the guide chapter says why the rule exists."""

    default_chapter = "the guide"

    def __init__(self, message: str, *, rule: str, value: object = None, chapter: str | None = None):
        self.message = message
        self.rule = rule
        self.value = value
        self.chapter = chapter or self.default_chapter
        super().__init__(str(self))

    @property
    def value_text(self) -> str:
        """The value as the message shows it: shortened, bytes as text or hex (never ``b'...'``)."""
        return _short(self.value)

    def __str__(self) -> str:
        parts = [f"rule: {self.rule}"]
        if self.value is not None:
            parts.append(f"value: {_short(self.value)}")
        parts.append(f"see {self.chapter}")
        return f"{self.message} ({'; '.join(parts)})"


class InputError(LabkitError, ValueError):
    """A file or text could not be read as what it claims to be (empty, truncated, garbage, too large)."""

    default_chapter = guide.APPX_D


class WrongTypeError(InputError, TypeError):
    """The input is valid, but of another type than the one asked for (a CSR where a certificate was expected)."""


class PasswordError(InputError):
    """A private key is encrypted and the password is missing or wrong."""

    default_chapter = guide.CH7


class PolicyError(LabkitError, ValueError):
    """A PKI rule of the guide is broken (SHA-1 digest, short RSA key, wildcard name ...)."""


class LabError(LabkitError):
    """The lab itself was asked for something it does not have (an unknown fixture key, a bad instant)."""

    default_chapter = guide.NB00_LAB
