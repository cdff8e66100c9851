"""labkit: an interactive lab for X.509 certificates as Cisco Expressway uses them.

It follows the *Certificate Creation and Use Deployment Guide (X14.0)* chapter by chapter. Start with
``notebooks/00-welcome.ipynb``; the command line is ``labkit --help``; ``ARCHITECTURE.md`` shows the layers.

Importing ``labkit`` is cheap: the errors are here, and everything else (``labkit.lab`` included) is imported when
first used, so the command line starts fast. In a Jupyter kernel, importing it also makes a LabkitError raised in a
code cell show as one line instead of a traceback (``labkit.errors.install_notebook_handler``).
"""

__version__ = "0.1.0"

from labkit.errors import InputError, LabError, LabkitError, PasswordError, PolicyError, WrongTypeError  # noqa: E402
from labkit.errors import install_notebook_handler as _install_notebook_handler  # noqa: E402

_install_notebook_handler()  # in a Jupyter kernel: a LabkitError in a code cell is one line, not a traceback


def progress(notebook: str | None = None):
    """Which exercises pass, this session's and saved ones, as a table (see ``labkit.exercises.progress``)."""
    from labkit.exercises import progress as _progress

    return _progress(notebook)


def __getattr__(name: str):
    """``labkit.lab`` (and any other submodule) is imported on first use."""
    import importlib

    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"labkit.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"labkit.{name}":
            raise  # a module of labkit's that failed to import: show why
        raise AttributeError(f"module 'labkit' has no attribute {name!r}") from None


__all__ = ["__version__", "lab", "progress", "LabkitError", "InputError", "WrongTypeError", "PasswordError",
           "PolicyError", "LabError"]
