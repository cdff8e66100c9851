"""Shared pieces for the widget apps: a result pane that shows text or a LabkitError message; a text box that
replaces a chosen file."""

from __future__ import annotations

import html

import ipywidgets as w

from ..errors import LabkitError


def result_pane() -> w.HTML:
    return w.HTML(value="")


def show_text(pane: w.HTML, text: str, *, ok: bool | None = None) -> None:
    colour = {True: "#1b7f3b", False: "#a4262c", None: "inherit"}[ok]
    pane.value = f'<pre style="color:{colour};white-space:pre-wrap;margin:0">{html.escape(text)}</pre>'


def show_error(pane: w.HTML, error: LabkitError) -> None:
    show_text(pane, f"{type(error).__name__}: {error}", ok=False)


def typing_replaces(upload: w.FileUpload, text: w.Textarea) -> None:
    """Typing or pasting into ``text`` forgets the file chosen in ``upload``, which is read first: the browser has
    no way to clear a FileUpload, so without this the text box would be ignored for good once a file was chosen."""
    def forget(_) -> None:
        upload.value = ()

    text.observe(forget, names="value")
