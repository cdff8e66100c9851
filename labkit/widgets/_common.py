"""Shared pieces for the widget apps: a result pane that shows text or a LabkitError message."""

from __future__ import annotations

import html

import ipywidgets as w

from labkit.errors import LabkitError


def result_pane() -> w.HTML:
    return w.HTML(value="")


def show_text(pane: w.HTML, text: str, *, ok: bool | None = None) -> None:
    colour = {True: "#1b7f3b", False: "#a4262c", None: "inherit"}[ok]
    pane.value = f'<pre style="color:{colour};white-space:pre-wrap;margin:0">{html.escape(text)}</pre>'


def show_error(pane: w.HTML, error: LabkitError) -> None:
    show_text(pane, f"{type(error).__name__}: {error}", ok=False)
