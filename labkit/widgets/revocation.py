"""The SIP TLS revocation settings as on the Expressway, applied to a real handshake (twin: ``RevocationLab.run``).

Every change runs the handshake again; while it runs, the controls are disabled and the pane says so.
"""

from __future__ import annotations

import ipywidgets as w

from labkit.chapters.ch07_crl_checks import STATES
from labkit.errors import LabkitError
from labkit.expressway.revocation import RevocationSettings
from labkit.widgets._common import busy, result_pane, show_error, show_result


class _RevocationPage(w.VBox):
    def __repr__(self) -> str:
        return "SIP TLS revocation settings (a widget: change a setting or the certificate's state, see the handshake)"


_BOX = w.Layout(width="32em")  # wide enough for the longest setting's name
_WIDE = {"description_width": "initial"}


def revocation_settings(rlab, state: str = "responder-down") -> w.VBox:
    """Checkboxes and a fallback menu like *Configuration > SIP*, the state of the C's certificate, and whether the
    Expressway-E holds the root CA's CRL (CRL checking covers every CA in the chain: without it, the fallback)."""
    pick = w.Dropdown(options=list(STATES), value=state, description="Certificate", style=_WIDE)
    checking = w.Checkbox(value=True, description="Certificate revocation checking mode", layout=_BOX, indent=False)
    ocsp = w.Checkbox(value=True, description="Use OCSP", layout=_BOX, indent=False)
    crls = w.Checkbox(value=True, description="Use CRLs", layout=_BOX, indent=False)
    cdp = w.Checkbox(value=True, description="Allow CRL downloads from CDPs", layout=_BOX, indent=False)
    fallback = w.Dropdown(options=[("Treat as not revoked", "not-revoked"), ("Treat as revoked", "revoked")],
                          value="not-revoked", description="Fallback", style=_WIDE)
    root_crl = w.Checkbox(value=True, description="The root CA's CRL is uploaded", layout=_BOX, indent=False)
    pane = result_pane()
    controls = (pick, checking, ocsp, crls, cdp, fallback, root_crl)

    def refresh(_=None):
        with busy(pane, "Running the handshake with these settings", *controls):
            try:
                settings = RevocationSettings(checking.value, ocsp.value, crls.value, cdp.value, fallback.value)
                result = rlab.run(pick.value, settings, root_crl=root_crl.value)
            except LabkitError as exc:
                show_error(pane, exc)
                return
        outcome = result.trace.outcome
        decision = result.decision
        headline = (f"decision: {'accept' if decision.accept else 'refuse'} ({decision.status}, from "
                    f"{decision.source})")
        meaning: bool | str = outcome.ok
        if outcome.ok and pick.value == "revoked":  # accepted, but the CA has revoked it: not a good outcome
            meaning = "warning"
            headline += ": a revoked certificate was accepted"
        lines = [*[f"  - {step}" for step in decision.steps], "",
                 f"handshake: {'OK' if outcome.ok else 'REFUSED by the ' + str(outcome.failed_side)}"
                 + (f", verify_code {outcome.verify_code}" if outcome.verify_code else ""), outcome.explanation]
        show_result(pane, headline, ok=meaning, lines="\n".join(lines))

    for control in controls:
        control.observe(refresh, names="value")
    refresh()
    box = _RevocationPage([pick, checking, ocsp, crls, cdp, fallback, root_crl, pane])
    box.state, box.checking, box.ocsp, box.crls, box.cdp, box.fallback, box.pane = (
        pick, checking, ocsp, crls, cdp, fallback, pane)
    box.root_crl = root_crl
    return box
