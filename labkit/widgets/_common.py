"""Small widget factories the pages are composed of (as dea-notebooks' ``widgetconstructors``).

* result panes: :func:`result_pane`, :func:`show_text` (text as the page's message, in a colour that says what it
  means), :func:`show_error` (a :class:`~labkit.errors.LabkitError` as its message, then its rule, value and chapter
  in a quieter line: never a class name, never a traceback), :func:`show_html`;
* :func:`row`: controls side by side, where a button never shrinks (its label is never cut) and a message beside it
  wraps instead;
* :func:`busy`: a long action disables its controls and says what it is doing at once, until it is done;
* :func:`paste_or_upload`: the paste-or-upload control every page that takes a file uses (a text box, an upload
  button, the chosen file's name and a *Remove file* button; optionally the clock the file is checked at);
* :func:`clock_choice`: *Check at* this machine's clock or the lab clock (guide appendix D: validity is judged against
  "now"; a certificate brought from a live system is judged at the real time, the lab's objects at the lab clock).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
from collections.abc import Iterator

import ipywidgets as w

from labkit import lab
from labkit.errors import LabkitError
from labkit.expressway.findings import COLOURS

__all__ = ["COLOURS", "result_pane", "show_text", "result_html", "show_result", "show_html", "show_error", "error_html",
           "row", "busy", "clock_choice", "moment", "clock_words", "PasteOrUpload", "paste_or_upload", "pasted"]

#: A result pane's text: wrapped between words only. JupyterLab's output area sets ``word-break: break-all`` on every
#: ``<pre>``, which splits words anywhere; a long unbroken token (a fingerprint) scrolls instead.
_TEXT = ("white-space:pre-wrap;word-break:normal;overflow-wrap:normal;overflow-x:auto;margin:0;"
         "font-family:var(--jp-code-font-family, monospace)")
_PROSE = "white-space:normal;word-break:normal;overflow-wrap:break-word;margin:0;line-height:1.4;overflow-x:auto"
_LINES = "white-space:pre-line;word-break:normal;overflow-wrap:break-word;margin:0;line-height:1.4"
_MEANING = {True: COLOURS["ok"], False: COLOURS["error"], None: "inherit", "warning": COLOURS["warning"]}


#: Controls whose label a narrow row would cut ("Gene..."): in a :func:`row` they keep their natural width.
WHOLE = (w.Button, w.FileUpload, w.ToggleButtons)


def row(*children: w.Widget, wrap: bool = False) -> w.HBox:
    """``children`` side by side, centred on one line (``wrap``: onto more lines when the page is narrow). Buttons
    (:data:`WHOLE`) keep their natural width whatever the others hold; text beside them (a message) takes the room
    left and wraps between words, so a long refusal never cuts a label (issue 14, seen at 1366 px)."""
    for child in children:
        if isinstance(child, WHOLE):
            child.layout.flex = "0 0 auto"
        elif isinstance(child, w.HTML | w.Label):
            child.layout.flex, child.layout.min_width = "1 1 auto", "0"
    return w.HBox(list(children), layout=w.Layout(align_items="center", flex_flow="row wrap" if wrap else "row"))


def result_pane() -> w.HTML:
    """An empty HTML pane a page writes its answers into."""
    return w.HTML(value="", layout=w.Layout(width="100%"))


def show_text(pane: w.HTML, text: str, *, ok: bool | None = None) -> None:
    """``text`` in the pane as preformatted lines, green when ``ok``, red when ``ok is False``, plain otherwise."""
    pane.value = f'<pre style="color:{_MEANING[ok]};{_TEXT}">{html.escape(text)}</pre>'


def result_html(headline: str, *, ok: bool | str | None = None, lines: str = "", details: str = "") -> str:
    """An answer as HTML: a ``headline`` in bold, in the colour of its meaning (green ``ok``, red ``ok is False``,
    amber ``ok == "warning"``); ``lines``, lines of prose under it, wrapped between words; ``details``,
    preformatted text (a handshake ladder, OpenSSL's text) in the normal colour."""
    colour = _MEANING[ok]
    rule = f"border-left:4px solid {colour};padding:2px 8px;" if ok is not None else ""
    body = f"\n{html.escape(lines)}" if lines else ""
    parts = [f'<div style="{rule}{_LINES}"><b style="color:{colour}">{html.escape(headline)}</b>{body}</div>']
    if details:
        parts.append(f'<pre style="{_TEXT};margin-top:6px">{html.escape(details)}</pre>')
    return "".join(parts)


def show_result(pane: w.HTML, headline: str, *, ok: bool | str | None = None, lines: str = "",
                details: str = "") -> None:
    """:func:`result_html` in the pane."""
    pane.value = result_html(headline, ok=ok, lines=lines, details=details)


def show_html(pane: w.HTML, markup: str) -> None:
    """HTML made by labkit (already escaped) in the pane, as prose wrapped between words."""
    pane.value = f'<div style="{_PROSE}">{markup}</div>'


def error_html(error: LabkitError, *, hint: str = "") -> str:
    """A refusal as a trainee reads it: the message in the error colour, then the rule, the value and the chapter
    in a quieter line, and an optional ``hint``. The exception's class name is not shown."""
    details = [f"rule <code>{html.escape(error.rule)}</code>"]
    if error.value is not None:
        details.append(f"value {html.escape(error.value_text)}")
    details.append(f"see {html.escape(error.chapter)}")
    extra = f"<br>{html.escape(hint)}" if hint else ""
    return (f'<div style="border-left:4px solid {COLOURS["error"]};padding:2px 8px;{_PROSE}">'
            f'<span style="color:{COLOURS["error"]};font-weight:600">{html.escape(error.message)}</span><br>'
            f'<span>{"; ".join(details)}</span>{extra}</div>')


def show_error(pane: w.HTML, error: LabkitError, *, hint: str = "") -> None:
    """The LabkitError in the pane (:func:`error_html`)."""
    pane.value = error_html(error, hint=hint)


@contextlib.contextmanager
def busy(pane: w.HTML, doing: str, *controls: w.Widget) -> Iterator[None]:
    """While the ``with`` block runs: ``controls`` are disabled, buttons among them show an hourglass, and the pane
    says ``doing`` ("Signing the CSR with the ACME provider"). The kernel sends these changes as they are made, so the
    browser shows them at once, before the action ends; everything is put back when it ends, whatever happens."""
    before = [(c, c.disabled, getattr(c, "icon", None)) for c in controls]
    for control in controls:
        control.disabled = True
        if isinstance(control, w.Button):
            control.icon = "hourglass-half"
    pane.value = (f'<div style="{_PROSE};font-style:italic" class="labkit-busy">{html.escape(doing)}&hellip; '
                  "(working)</div>")
    try:
        yield
    finally:
        for control, disabled, icon in before:
            control.disabled = disabled
            if isinstance(control, w.Button):
                control.icon = icon or ""


# -- the clock a certificate is checked at ------------------------------------------------------------------------

REAL, LAB = "real", "lab"


def clock_choice(value: str = REAL, description: str = "Check at") -> w.ToggleButtons:
    """*Check at*: this machine's clock (``"real"``, for a certificate from outside the lab) or the lab clock
    (``"lab"``, the lab's own objects: the same answer on every screen)."""
    return w.ToggleButtons(options=[("this machine's clock", REAL), (f"the lab clock ({lab.DEFAULT_INSTANT:%Y-%m-%d})",
                                                                     LAB)],
                           value=value, description=description, style={"description_width": "5.5em",
                                                                       "button_width": "auto"},
                           tooltips=["real time: for a certificate someone brings from a live system",
                                     "the lab's instant: the lab's own certificates, the same on every screen"])


def moment(clock: w.ToggleButtons) -> _dt.datetime | None:
    """The ``at=`` a labkit call gets for the clock chosen: the machine's time, or None (the lab clock)."""
    return lab.now_real() if clock.value == REAL else None


def clock_words(clock: w.ToggleButtons, at: _dt.datetime | None, done: str = "Checked") -> str:
    """Which clock a check used, in words: "Checked at this machine's clock: 2026-11-30 06:19 UTC."."""
    if clock.value == REAL and at is not None:
        return f"{done} at this machine's clock: {at:%Y-%m-%d %H:%M} UTC."
    return f"{done} at the lab clock: {lab.now():%Y-%m-%d %H:%M} UTC (where the lab's own objects live)."


# -- paste or upload ----------------------------------------------------------------------------------------------

class PasteOrUpload(w.VBox):
    """A text box to paste into, an upload button, the chosen file's name and *Remove file* (and, with a clock,
    *Check at*). :meth:`data` is what it holds: the chosen file if there is one, else the text.

    Typing or pasting into the box forgets a chosen file (the browser cannot clear a FileUpload itself, so without
    this a file chosen once would win for good); *Remove file* forgets it too. :meth:`put` fills it in from the lab
    (a notebook's own certificate, an example): with a clock, the lab's objects are checked at the lab clock and
    whatever the trainee types or uploads at this machine's clock, and the trainee can still choose.
    """

    def __init__(self, placeholder: str, accept: str, description: str, *, height: str = "8em", initial: str = "",
                 upload_width: str | None = None, clock: bool = False, clock_label: str = "Check at"):
        self.text = w.Textarea(value=initial, placeholder=placeholder, layout=w.Layout(width="95%", height=height))
        self.upload = w.FileUpload(accept=accept, multiple=False, description=description,
                                   layout=w.Layout(width=upload_width or "auto"))
        self.file_name = w.HTML(value="")
        self.file_name.add_class("labkit-file-name")
        self.remove = w.Button(description="Remove file", tooltip="forget the chosen file; the text box counts again",
                               layout=w.Layout(width="auto", display="none"))
        self.clock = clock_choice(LAB if initial else REAL, clock_label) if clock else None
        self._done = "Issued" if clock_label.startswith("Issue") else "Checked"
        self._quiet = False
        self.text.observe(self._typed, names="value")
        self.upload.observe(self._chosen, names="value")
        self.remove.on_click(lambda _: self.clear_file())
        files = row(self.upload, self.file_name, self.remove, wrap=True)
        super().__init__([self.text, files] + ([self.clock] if self.clock is not None else []))

    # what it holds

    def data(self) -> bytes | str:
        """The chosen file's bytes if a file was chosen, else the text in the box."""
        return bytes(self.upload.value[0]["content"]) if self.upload.value else self.text.value

    @property
    def filename(self) -> str | None:
        """The chosen file's name, or None."""
        return self.upload.value[0]["name"] if self.upload.value else None

    @property
    def filling(self) -> bool:
        """True while the control changes itself (:meth:`put`, or the clock following what was typed): a page's
        observers ignore those changes."""
        return self._quiet

    def at(self) -> _dt.datetime | None:
        """The ``at=`` for a check of what it holds (None: the lab clock; also without a clock)."""
        return moment(self.clock) if self.clock is not None else None

    def clock_words(self, at: _dt.datetime | None) -> str:
        return clock_words(self.clock, at, self._done) if self.clock is not None else ""

    # changes

    def put(self, text: str = "", *, file: tuple[str, bytes] | None = None) -> None:
        """Fill in the lab's own ``text`` (or ``file``, a name and its bytes) as the page, not the trainee: the clock
        goes to the lab clock."""
        self._quiet = True
        try:
            self.upload.value = ()
            self.text.value = text
            if file is not None:
                name, content = file
                self.upload.value = ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
                                      "last_modified": lab.now()},)
            self._show_file()
            if self.clock is not None:
                self.clock.value = LAB
        finally:
            self._quiet = False

    def clear_file(self) -> None:
        """Forget the chosen file (*Remove file*)."""
        self.upload.value = ()

    def _typed(self, change) -> None:
        if self._quiet:
            return
        if self.upload.value:
            self.upload.value = ()  # typing or pasting replaces the file
        self._outside()

    def _chosen(self, change) -> None:
        self._show_file()
        if not self._quiet and change["new"]:
            self._outside()

    def _outside(self) -> None:
        """What the trainee brings is judged at the machine's clock (the switch is the control's own doing: a page
        that examines on a change of clock sees :attr:`filling` and waits for its own trigger)."""
        if self.clock is not None and self.clock.value != REAL:
            self._quiet = True
            try:
                self.clock.value = REAL
            finally:
                self._quiet = False

    def _show_file(self) -> None:
        chosen = self.upload.value
        if chosen:
            item = chosen[0]
            self.file_name.value = (f'<span style="{_PROSE}">file <b>{html.escape(item["name"])}</b> '
                                    f'({item["size"]:,} bytes): it is used instead of the text box</span>')
            self.remove.layout.display = None
        else:
            self.file_name.value = ""
            self.remove.layout.display = "none"

    def refused(self, pane: w.HTML, error: LabkitError) -> None:
        """Show ``error`` in ``pane``, saying which file it came from and how to use the text box instead."""
        name = self.filename
        hint = (f"This came from the file {name}: Remove file, or type or paste into the box, to use the text "
                "instead." if name else "")
        show_error(pane, error, hint=hint)


def paste_or_upload(placeholder: str, accept: str, description: str, *, height: str = "8em", initial: str = "",
                    upload_width: str | None = None, clock: bool = False,
                    clock_label: str = "Check at") -> PasteOrUpload:
    """The paste-or-upload control every page that takes a file uses (:class:`PasteOrUpload`).

    ``accept`` lists the file name endings the browser offers (``".pem,.cer"``); ``initial`` is text the notebook
    gives (the lab's own object); ``clock=True`` adds *Check at* (:func:`clock_choice`; ``clock_label`` names it).
    """
    return PasteOrUpload(placeholder, accept, description, height=height, initial=initial, upload_width=upload_width,
                         clock=clock, clock_label=clock_label)


def pasted(source: PasteOrUpload) -> bytes | str:
    """What a paste-or-upload control holds (:meth:`PasteOrUpload.data`)."""
    return source.data()
