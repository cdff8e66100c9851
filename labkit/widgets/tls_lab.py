"""Pick a TLS failure scenario and see the real handshake, the outcome and the fix (twin: ``tls_lab.run_scenario``)."""

from __future__ import annotations

import ipywidgets as w

from labkit.chapters.ch02_tls_handshake import SCENARIOS, run_scenario
from labkit.errors import LabkitError
from labkit.widgets._common import result_pane, show_error, show_text


class _FailureLab(w.VBox):
    def __repr__(self) -> str:
        return "TLS failure lab (a widget: pick a scenario and a TLS version, see the handshake, the outcome, the fix)"


def failure_lab(initial: str = "untrusted-ca") -> w.VBox:
    """A scenario picker and a TLS version switch; each change runs the real handshake again."""
    scenario = w.Dropdown(options=[(s.title, s.name) for s in SCENARIOS.values()], value=initial,
                          description="Scenario", layout=w.Layout(width="70%"))
    version = w.ToggleButtons(options=[("TLS 1.3", "1.3"), ("TLS 1.2", "1.2")], value="1.3", description="Version")
    pane = result_pane()

    def refresh(_=None):
        try:
            chosen, trace = run_scenario(scenario.value, tls=version.value)
        except LabkitError as exc:
            show_error(pane, exc)
            return
        outcome = trace.outcome
        lines = [f"On the Expressway: {chosen.story}", "", trace.ladder(), ""]
        if not outcome.ok:
            lines += [f"failing side: {outcome.failed_side}   verify_code: {outcome.verify_code}   "
                      f"alert: {outcome.alert}"]
            lines += [f"the alert means: {outcome.alert_explanation}"] if outcome.alert_explanation else []
            lines += [f"fix: {chosen.fix}", f"see {chosen.chapter}"]
        show_text(pane, "\n".join(lines), ok=outcome.ok)

    scenario.observe(refresh, names="value")
    version.observe(refresh, names="value")
    refresh()
    box = _FailureLab([w.HBox([scenario]), version, pane])
    box.scenario, box.version, box.pane = scenario, version, pane
    return box
