"""The SIP TLS revocation settings as on the Expressway, applied to a real handshake (twin: ``RevocationLab.run``)."""

from __future__ import annotations

import ipywidgets as w

from labkit.chapters.ch07_crl_checks import STATES
from labkit.errors import LabkitError
from labkit.expressway.revocation import RevocationSettings
from labkit.widgets._common import result_pane, show_error, show_text


class _RevocationPage(w.VBox):
    def __repr__(self) -> str:
        return "SIP TLS revocation settings (a widget: change a setting or the certificate's state, see the handshake)"


_BOX = w.Layout(width="32em")  # wide enough for the longest setting's name


def revocation_settings(rlab, state: str = "responder-down") -> w.VBox:
    """Checkboxes and a fallback menu like *Configuration > SIP*, the state of the C's certificate, and whether the
    Expressway-E holds the root CA's CRL (CRL checking covers every CA in the chain: without it, the fallback)."""
    pick = w.Dropdown(options=list(STATES), value=state, description="Certificate")
    checking = w.Checkbox(value=True, description="Certificate revocation checking mode", layout=_BOX)
    ocsp = w.Checkbox(value=True, description="Use OCSP", layout=_BOX)
    crls = w.Checkbox(value=True, description="Use CRLs", layout=_BOX)
    cdp = w.Checkbox(value=True, description="Allow CRL downloads from CDPs", layout=_BOX)
    fallback = w.Dropdown(options=[("Treat as not revoked", "not-revoked"), ("Treat as revoked", "revoked")],
                          value="not-revoked", description="Fallback")
    root_crl = w.Checkbox(value=True, description="The root CA's CRL is uploaded", layout=_BOX)
    pane = result_pane()

    def refresh(_=None):
        try:
            settings = RevocationSettings(checking.value, ocsp.value, crls.value, cdp.value, fallback.value)
            result = rlab.run(pick.value, settings, root_crl=root_crl.value)
        except LabkitError as exc:
            show_error(pane, exc)
            return
        outcome = result.trace.outcome
        lines = [f"decision: {'accept' if result.decision.accept else 'refuse'} ({result.decision.status}, "
                 f"from {result.decision.source})", *[f"  - {step}" for step in result.decision.steps], "",
                 f"handshake: {'OK' if outcome.ok else 'REFUSED by the ' + str(outcome.failed_side)}"
                 + (f", verify_code {outcome.verify_code}" if outcome.verify_code else ""),
                 outcome.explanation]
        show_text(pane, "\n".join(lines), ok=outcome.ok)

    for control in (pick, checking, ocsp, crls, cdp, fallback, root_crl):
        control.observe(refresh, names="value")
    refresh()
    box = _RevocationPage([pick, checking, ocsp, crls, cdp, fallback, root_crl, pane])
    box.state, box.checking, box.ocsp, box.crls, box.cdp, box.fallback, box.pane = (
        pick, checking, ocsp, crls, cdp, fallback, pane)
    box.root_crl = root_crl
    return box
