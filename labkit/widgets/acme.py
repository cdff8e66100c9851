"""The Expressway-E's ACME page as widgets (guide chapter 5; twin: :class:`labkit.expressway.acme_page.AcmePage`).

Provider, admin email, accept terms and Register; *Sign CSR with ACME provider*; *Deploy pending certificate*; the
automated-mode scheduler (days and a time). Each button calls one ``AcmePage`` method and shows its answer, or the
LabkitError that refused it.
"""

from __future__ import annotations

import ipywidgets as w

from labkit.acme.pebble import PEBBLE_MISSING, Pebble
from labkit.errors import LabkitError
from labkit.expressway.acme_page import AcmePage
from labkit.widgets._common import result_pane, show_error, show_text

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class _AcmePage(w.VBox):
    def __repr__(self) -> str:
        return ("ACME page (a widget: provider, admin email, accept terms, sign CSR with ACME provider, deploy "
                "pending certificate, automated scheduler)")


def _run(pane: w.HTML, action) -> None:
    try:
        show_text(pane, action(), ok=True)
    except LabkitError as exc:
        show_error(pane, exc)


def acme_page(page: AcmePage, provider: Pebble | None) -> w.VBox:
    """The ACME page of ``page``'s Expressway-E; ``provider`` is the running Pebble (None: Pebble is missing,
    and the page says what to install)."""
    choice = w.Dropdown(options=["Pebble (lab stand-in for Let's Encrypt)"], description="Provider",
                        layout=w.Layout(width="60%"))
    email = w.Text(value="", placeholder="certadmin@example.com", description="Admin email")
    terms = w.Checkbox(value=False, description="I accept the provider's terms of service", indent=False)
    register = w.Button(description="Register account", button_style="primary")
    sign = w.Button(description="Sign CSR with ACME provider")
    deploy = w.Button(description="Deploy pending certificate")
    days = w.SelectMultiple(options=_DAYS, value=("Mon",), description="Deploy on", rows=7)
    when = w.Text(value="02:00", description="Time (UTC)")
    automate = w.Button(description="Enable automated mode")
    pane = result_pane()
    if provider is None:
        for button in (register, sign, deploy):
            button.disabled = True
        show_text(pane, PEBBLE_MISSING, ok=False)

    register.on_click(lambda _: _run(pane, lambda: page.register(provider, email.value, terms.value)))
    sign.on_click(lambda _: _run(pane, page.sign))
    deploy.on_click(lambda _: _run(pane, page.deploy))
    automate.on_click(lambda _: _run(pane, lambda: page.automate(days.value, when.value)))
    box = _AcmePage([choice, email, terms, register, w.HBox([sign, deploy]), w.HBox([days, w.VBox([when, automate])]),
                     pane])
    box.provider, box.email, box.terms, box.register = choice, email, terms, register
    box.sign, box.deploy = sign, deploy
    box.days, box.time, box.automate, box.pane = days, when, automate, pane
    return box
