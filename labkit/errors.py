"""One exception hierarchy for everything labkit refuses.

Every error names three things a trainee needs to fix the problem:

* ``rule``: a short, stable identifier of the rule that was broken (``pem-label``, ``file-too-large`` ...);
* ``value``: the offending value, shortened for display (control characters such as a new line escaped, so the
  message is one line);
* ``chapter``: where in the *Certificate Creation and Use Deployment Guide (X14.0)* the rule is explained.

Widgets catch :class:`LabkitError` and show ``str(error)``; the command line prints it on one line and exits 2. In a
Jupyter kernel, importing ``labkit`` installs :func:`show_in_notebook` as IPython's handler for LabkitError
(:func:`install_notebook_handler`), so a refusal raised in a code cell is shown as one line (:class:`Refusal`), like a
widget's message, instead of a traceback; every other exception keeps its traceback.

The classes also derive from the built-in exceptions an ordinary handler expects (as pyca/cryptography raises
``ValueError`` for a broken rule and ``TypeError`` for a wrong type): :class:`InputError` and :class:`PolicyError`
are ``ValueError`` subclasses, :class:`WrongTypeError` is also a ``TypeError``. ``except ValueError`` around a
labkit call catches a refusal; ``except LabkitError`` catches every refusal and nothing else.
"""

from __future__ import annotations

import unicodedata

from labkit import guide

__all__ = ["LabkitError", "InputError", "WrongTypeError", "PasswordError", "PolicyError", "LabError", "Refusal",
           "REFUSED_COLOUR", "show_in_notebook", "install_notebook_handler"]

_MAX_VALUE = 60


def _one_line(text: str) -> str:
    """``text`` with control characters written as escapes (a new line as ``\\n``): a message stays one line."""
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else ch for ch in text)


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

    @property
    def value_text(self) -> str:
        """The value as the message shows it: shortened, bytes as text or hex (never ``b'...'``)."""
        return _short(self.value)

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


# -- a refusal in a notebook cell: one line, not a traceback ---------------------------------------------------------

#: The colour of a refusal (and of NOT YET) in the notebooks: WCAG AA contrast on white (7.3:1).
REFUSED_COLOUR = "#a4262c"


class Refusal:
    """What a notebook shows for a :class:`LabkitError` raised in a code cell: one line with the message, the rule,
    the value and the chapter (``str(error)``), in the refusal colour with a bar on the left as exercise results
    have; never the exception's class name or a traceback. ``text/plain`` is the same line after ``Refused:``."""

    def __init__(self, error: LabkitError):
        self.error = error

    def __repr__(self) -> str:
        return f"Refused: {self.error}"

    def _repr_html_(self) -> str:
        import html

        error = self.error
        parts = [f"rule <code>{html.escape(error.rule)}</code>"]
        if error.value is not None:
            parts.append(f"value <code>{html.escape(_short(error.value))}</code>")
        parts.append(f"see {html.escape(error.chapter)}")
        return (f'<div class="labkit-refusal" style="border-left:4px solid {REFUSED_COLOUR};padding:4px 8px;'
                f'color:{REFUSED_COLOUR};white-space:normal;overflow-wrap:break-word">'
                f"<b>Refused:</b> {html.escape(error.message)} <span>({'; '.join(parts)})</span></div>")


def show_in_notebook(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython's custom exception handler for :class:`LabkitError` (``shell.set_custom_exc``): display the
    :class:`Refusal` line in the cell's output. The cell still counts as failed (Run All stops there, as after any
    error); IPython ignores the returned list, one line of plain text, when the error came from running a cell."""
    from IPython.display import display

    display(Refusal(value))
    return [repr(Refusal(value))]


def install_notebook_handler() -> bool:
    """In a Jupyter kernel (an IPython shell with a kernel), make a LabkitError raised in a code cell show as one line
    (:func:`show_in_notebook`); other exceptions keep their traceback. Anywhere else (a script, the command line,
    pytest) it does nothing. Returns whether it installed the handler. Called when ``labkit`` is imported."""
    import sys

    ipython = sys.modules.get("IPython")  # never imported here: a kernel has it already, a script does not need it
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    shell.set_custom_exc((LabkitError,), show_in_notebook)
    return True
