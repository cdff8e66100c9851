"""Small widget factories the pages are composed of (as dea-notebooks' ``widgetconstructors``): a result pane that
shows text or a LabkitError message, and the paste-or-upload pair every page that takes a file uses."""

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


def typing_replaces(upload: w.FileUpload, text: w.Textarea) -> None:
    """Typing or pasting into ``text`` forgets the file chosen in ``upload``, which is read first: the browser has
    no way to clear a FileUpload, so without this the text box would be ignored for good once a file was chosen."""
    def forget(_) -> None:
        upload.value = ()

    text.observe(forget, names="value")


def paste_or_upload(placeholder: str, accept: str, description: str, *, height: str = "8em", initial: str = "",
                    upload_width: str | None = None,
                    typing_clears_upload: bool = True) -> tuple[w.Textarea, w.FileUpload]:
    """A text box to paste PEM into and an upload button for a file (PEM or DER), as a pair: ``(text, upload)``.

    ``accept`` lists the file name endings the browser offers (``".pem,.cer"``); :func:`pasted` reads the pair.
    With ``typing_clears_upload`` (the default), typing into the box forgets a chosen file (:func:`typing_replaces`).
    """
    text = w.Textarea(value=initial, placeholder=placeholder, layout=w.Layout(width="95%", height=height))
    upload_layout = {"layout": w.Layout(width=upload_width)} if upload_width else {}
    upload = w.FileUpload(accept=accept, multiple=False, description=description, **upload_layout)
    if typing_clears_upload:
        typing_replaces(upload, text)
    return text, upload


def pasted(text: w.Textarea, upload: w.FileUpload) -> bytes | str:
    """What a paste-or-upload pair holds: the chosen file's bytes if a file was chosen, else the pasted text."""
    return bytes(upload.value[0]["content"]) if upload.value else text.value

