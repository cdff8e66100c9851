"""The Expressway-E's ACME page as widgets (guide chapter 5; twin: :class:`labkit.expressway.acme_page.AcmePage`).

Provider, admin email, accept terms and Register; *Sign CSR with ACME provider*; *Deploy pending certificate*; the
automated-mode scheduler (days and a time). Each button calls one ``AcmePage`` method and shows its answer, or the
LabkitError that refused it. The provider's answers take seconds (Sign CSR about 2 s): while a button's action runs,
the page's buttons are disabled and the pane says what is happening.
"""

from __future__ import annotations

import ipywidgets as w

from labkit.acme.pebble import PEBBLE_MISSING, Pebble
from labkit.errors import LabkitError
from labkit.expressway.acme_page import AcmePage
from labkit.widgets._common import busy, result_pane, row, show_error, show_result, show_text

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class _AcmePage(w.VBox):
    def __repr__(self) -> str:
        return ("ACME page (a widget: provider, admin email, accept terms, sign CSR with ACME provider, deploy "
                "pending certificate, automated scheduler)")


_LABEL = {"description_width": "8em"}  # "Admin email", "Deploy on", "Time (UTC)" in full


def _auto() -> w.Layout:
    return w.Layout(width="auto")  # a button or checkbox as wide as its label


def _run(pane: w.HTML, doing: str, buttons, action) -> None:
    with busy(pane, doing, *buttons):
        try:
            answer = action()
        except LabkitError as exc:
            show_error(pane, exc)
            return
    show_result(pane, answer, ok=True)


def acme_page(page: AcmePage, provider: Pebble | None) -> w.VBox:
    """The ACME page of ``page``'s Expressway-E; ``provider`` is the running Pebble (None: Pebble is missing,
    and the page says what to install)."""
    choice = w.Dropdown(options=["Pebble (lab stand-in for Let's Encrypt)"], description="Provider",
                        style=_LABEL, layout=w.Layout(width="60%"))
    email = w.Text(value="", placeholder="certadmin@example.com", description="Admin email", style=_LABEL,
                   layout=w.Layout(width="32em"))
    terms = w.Checkbox(value=False, description="I accept the provider's terms of service", indent=False,
                       layout=_auto())
    register = w.Button(description="Register account", button_style="primary",
                         layout=w.Layout(width="auto", align_self="flex-start"))  # not a full-width bar
    sign = w.Button(description="Sign CSR with ACME provider", layout=_auto())
    deploy = w.Button(description="Deploy pending certificate", layout=_auto())
    days = w.SelectMultiple(options=_DAYS, value=("Mon",), description="Deploy on", rows=7, style=_LABEL)
    when = w.Text(value="02:00", description="Time (UTC)", style=_LABEL, layout=w.Layout(width="16em"))
    automate = w.Button(description="Enable automated mode", layout=_auto())
    pane = result_pane()
    if provider is None:
        for button in (register, sign, deploy):
            button.disabled = True
        show_text(pane, PEBBLE_MISSING, ok=False)

    buttons = (register, sign, deploy, automate)
    register.on_click(lambda _: _run(pane, "Registering the account with the ACME provider", buttons,
                                     lambda: page.register(provider, email.value, terms.value)))
    sign.on_click(lambda _: _run(pane, "Signing the CSR with the ACME provider (the HTTP-01 challenge, then the "
                                 "order: a few seconds)", buttons, lambda: page.sign()))
    deploy.on_click(lambda _: _run(pane, "Deploying the pending certificate", buttons, lambda: page.deploy()))
    automate.on_click(lambda _: _run(pane, "Turning on automated mode", buttons,
                                     lambda: page.automate(days.value, when.value)))
    box = _AcmePage([choice, email, terms, register, row(sign, deploy), pane,
                     w.HBox([days, w.VBox([when, automate])])])
    box.provider, box.email, box.terms, box.register = choice, email, terms, register
    box.sign, box.deploy = sign, deploy
    box.days, box.time, box.automate, box.pane = days, when, automate, pane
    return box
