"""The widget check of notebook 00: shows a button when widgets render, a clear text when they do not."""

from __future__ import annotations

import ipywidgets as w

from labkit import lab
from labkit.widgets._common import result_pane, show_text


class _Check(w.VBox):
    """A VBox whose plain-text fallback explains that widgets are not rendering."""

    def __repr__(self) -> str:
        return ("Widget check: a button appears here when the notebook runs in JupyterLab (`make lab` or Binder). "
                "If you see this sentence after running the cell there, widgets are not rendering in this browser.")


def widget_check() -> w.VBox:
    """A button; clicking it asks the kernel for the lab clock (twin: ``labkit.lab.now()``)."""
    button = w.Button(description="Click me", button_style="primary", icon="check")
    pane = result_pane()
    show_text(pane, "Widgets render. Click the button to check that the kernel answers.")

    def on_click(_):
        show_text(pane, f"Widgets work: the kernel answered; the lab clock reads {lab.now():%Y-%m-%d %H:%M} UTC.",
                  ok=True)

    button.on_click(on_click)
    box = _Check([button, pane])
    box.button, box.pane = button, pane
    return box
