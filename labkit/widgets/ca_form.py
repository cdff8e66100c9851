"""Sign a pasted or uploaded CSR with a lab CA (twin: ``CertificateAuthority.sign_pasted``)."""

from __future__ import annotations

import ipywidgets as w

from labkit.ca import PROFILES
from labkit.errors import LabkitError
from labkit.widgets._common import paste_or_upload, pasted, result_pane, show_error, show_text
from labkit.x509 import decode


class _SignForm(w.VBox):
    def __repr__(self) -> str:
        return "CA signing form (a widget: paste or upload a CSR, pick a profile and days, press Sign)"


def sign_form(ca, initial: str = "") -> w.VBox:
    """A CSR box, an upload button, profile and days; Sign shows the certificate decoded, or the CA's refusal."""
    csr, upload = paste_or_upload("-----BEGIN CERTIFICATE REQUEST-----", ".csr,.pem,.der,.req", "Upload CSR",
                                  initial=initial)
    # end-entity profiles only: a CA is made with init_ca(parent=...), not from a pasted request
    profile = w.Dropdown(options=[(f"{p.name}: {p.description}", p.name) for p in PROFILES.values() if not p.ca],
                         value="client-server", description="Profile", layout=w.Layout(width="95%"))
    days = w.IntText(value=365, description="Days")  # not clamped: a value the CA refuses is said so in the pane
    button = w.Button(description="Sign", button_style="primary")
    pane = result_pane()

    def on_click(_):
        data = pasted(csr, upload)
        try:
            cert = ca.sign_pasted(data, profile.value, days=days.value)
        except LabkitError as exc:
            show_error(pane, exc)
            return
        show_text(pane, f"Issued serial {cert.serial_number:X} by {ca.name}\n\n{decode.text(cert)}", ok=True)

    button.on_click(on_click)
    box = _SignForm([csr, w.HBox([upload, days]), profile, button, pane])
    box.csr, box.upload, box.profile, box.days, box.button, box.pane = csr, upload, profile, days, button, pane
    return box
