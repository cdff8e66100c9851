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


# -- in a Jupyter kernel: tables a trainee can read --------------------------------------------------------------

#: A table cell: left-aligned (JupyterLab right-aligns table cells), on top, wrapped between words only.
_CELL = "text-align:left;vertical-align:top;white-space:normal;word-break:normal;overflow-wrap:break-word"


def frame_html(frame) -> str:
    """A pandas DataFrame as HTML a trainee can read: every value in full (pandas cuts long text with "..."), text
    left-aligned and wrapped between words, numbers right-aligned; the styles are inline, so they hold in a notebook
    JupyterLab does not trust. Importing labkit in a Jupyter kernel shows every DataFrame this way."""
    import html
    import math

    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    def text(value) -> str:
        if isinstance(value, float) and math.isnan(value):
            return ""
        if isinstance(value, float):
            return f"{value:.6g}"
        if isinstance(value, bytes | bytearray):
            return bytes(value).hex()
        return str(value)

    def label(value) -> str:
        return " / ".join(text(v) for v in value if text(v)) if isinstance(value, tuple) else text(value)

    number = "text-align:right;vertical-align:top;white-space:nowrap"
    numeric = [is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c]) for c in frame.columns] \
        if frame.columns.is_unique else [False] * len(frame.columns)
    corner = " / ".join(str(n) for n in frame.index.names if n is not None)
    if frame.columns.names != [None]:  # the columns' own name: "rows / columns"
        corner = " / ".join(filter(None, (corner, " / ".join(str(n) for n in frame.columns.names if n is not None))))
    head = ([f'<th style="{_CELL}">{html.escape(corner)}</th>']
            + [f'<th style="{number if n else _CELL}">{html.escape(label(c))}</th>'
               for c, n in zip(frame.columns, numeric, strict=True)])
    import pandas as pd

    limit = pd.get_option("display.max_rows")
    shown, cut = frame, 0
    if limit and len(frame) > limit:  # as pandas does: the first and last rows, and how many there are
        half = max(pd.get_option("display.min_rows") or 10, 2) // 2
        shown, cut = pd.concat([frame.iloc[:half], frame.iloc[-half:]]), half
    rows = []
    for key, values in zip(shown.index, shown.itertuples(index=False, name=None), strict=True):
        if cut and len(rows) == cut:
            rows.append(f'<tr><td colspan="{len(frame.columns) + 1}" style="{_CELL}"><i>({len(frame)} rows in all; '
                        f"{len(frame) - 2 * cut} not shown)</i></td></tr>")
        cells = [f'<th style="{_CELL}">{html.escape(label(key))}</th>']
        cells += [f'<td style="{number if n else _CELL}">{html.escape(text(v))}</td>'
                  for v, n in zip(values, numeric, strict=True)]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="labkit-table"><thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table>")


def _in_kernel() -> None:
    """In a Jupyter kernel (not on the command line), show DataFrames with :func:`frame_html`. Registered by type
    name, so pandas is not imported until a table is shown."""
    import sys

    if "ipykernel" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        html = shell.display_formatter.formatters["text/html"]
        for module in ("pandas", "pandas.core.frame"):  # pandas 3 names its classes' module "pandas"
            html.for_type_by_name(module, "DataFrame", frame_html)


_in_kernel()

__all__ = ["__version__", "lab", "progress", "frame_html", "LabkitError", "InputError", "WrongTypeError",
           "PasswordError", "PolicyError", "LabError"]
