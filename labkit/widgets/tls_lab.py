"""Pick a TLS failure scenario and see the real handshake, the outcome and the fix (twin: ``tls_lab.run_scenario``).

The answer reads as prose: the outcome in the colour of its meaning, what it means on the Expressway, the alert in
plain words and the fix; the message ladder alone is monospace.
"""

from __future__ import annotations

import ipywidgets as w

from labkit.chapters.ch02_tls_handshake import SCENARIOS, run_scenario
from labkit.errors import LabkitError
from labkit.widgets._common import busy, result_pane, show_error, show_result


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
        with busy(pane, "Running the handshake", scenario, version):
            try:
                chosen, trace = run_scenario(scenario.value, tls=version.value)
            except LabkitError as exc:
                show_error(pane, exc)
                return
        outcome = trace.outcome
        lines = [f"On the Expressway: {chosen.story}"]
        if outcome.ok:
            headline = f"outcome: OK ({outcome.explanation})"
        else:
            headline = f"outcome: REFUSED by the {outcome.failed_side}: {outcome.explanation}"
            lines += [f"failing side: {outcome.failed_side}   verify_code: {outcome.verify_code}   "
                      f"alert: {outcome.alert}"]
            lines += [f"the alert means: {outcome.alert_explanation}"] if outcome.alert_explanation else []
            lines += [f"fix: {chosen.fix}", f"see {chosen.chapter}"]
        show_result(pane, headline, ok=outcome.ok, lines="\n".join(lines), details=trace.ladder())

    scenario.observe(refresh, names="value")
    version.observe(refresh, names="value")
    refresh()
    box = _FailureLab([w.HBox([scenario]), version, pane])
    box.scenario, box.version, box.pane = scenario, version, pane
    return box
