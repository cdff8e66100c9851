"""labkit: an interactive lab for X.509 certificates as Cisco Expressway uses them.

It follows the *Certificate Creation and Use Deployment Guide (X14.0)* chapter by chapter. Start with
``notebooks/00-welcome.ipynb``; the command line is ``labkit --help``.
"""

__version__ = "0.1.0"

from . import lab  # noqa: E402
from .errors import InputError, LabError, LabkitError, PasswordError, PolicyError, WrongTypeError  # noqa: E402


def progress(notebook: str | None = None):
    """Which exercises pass, this session's and saved ones, as a table (see ``labkit.exercises.progress``)."""
    from .exercises import progress as _progress

    return _progress(notebook)


__all__ = ["__version__", "lab", "progress", "LabkitError", "InputError", "WrongTypeError", "PasswordError",
           "PolicyError", "LabError"]
