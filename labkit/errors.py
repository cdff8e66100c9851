"""One exception hierarchy for everything labkit refuses.

Every error names three things a trainee needs to fix the problem:

* ``rule``: a short, stable identifier of the rule that was broken (``pem-label``, ``file-too-large`` ...);
* ``value``: the offending value, shortened for display (control characters such as a new line escaped, so the
  message is one line);
* ``chapter``: where in the *Certificate Creation and Use Deployment Guide (X14.0)* the rule is explained.

Widgets catch :class:`LabkitError` and show ``str(error)``; the command line prints it on one line and exits 2.

The classes also derive from the built-in exceptions an ordinary handler expects (as pyca/cryptography raises
``ValueError`` for a broken rule and ``TypeError`` for a wrong type): :class:`InputError` and :class:`PolicyError`
are ``ValueError`` subclasses, :class:`WrongTypeError` is also a ``TypeError``. ``except ValueError`` around a
labkit call catches a refusal; ``except LabkitError`` catches every refusal and nothing else.
"""

from __future__ import annotations

import unicodedata

from labkit import guide

__all__ = ["LabkitError", "InputError", "WrongTypeError", "PasswordError", "PolicyError", "LabError"]

_MAX_VALUE = 60


def _one_line(text: str) -> str:
    """``text`` with control characters written as escapes (a new line as ``\\n``): a message stays one line."""
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else ch for ch in text)


def _short(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        text = repr(bytes(value[:_MAX_VALUE]))
        return text + (f" ... ({len(value)} bytes)" if len(value) > _MAX_VALUE else "")
    text = _one_line(str(value))
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

    def __str__(self) -> str:
        parts = [f"rule: {self.rule}"]
        if self.value is not None:
            parts.append(f"value: {_short(self.value)}")
        parts.append(f"see {self.chapter}")
        return _one_line(f"{self.message} ({'; '.join(parts)})")


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
