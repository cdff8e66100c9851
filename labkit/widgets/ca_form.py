"""Sign a pasted or uploaded CSR with a lab CA (twin: ``CertificateAuthority.sign_pasted``).

The certificate starts at the lab clock when the CSR is the one the notebook gave, and at this machine's clock when
the trainee brings one (*Issue at* changes it); the answer says which.
"""

from __future__ import annotations

import ipywidgets as w

from labkit.ca import PROFILES, lifetime_notes
from labkit.errors import LabkitError
from labkit.widgets._common import paste_or_upload, result_pane, row, show_result
from labkit.x509 import decode


class _SignForm(w.VBox):
    def __repr__(self) -> str:
        return "CA signing form (a widget: paste or upload a CSR, pick a profile and days, press Sign)"


def sign_form(ca, initial: str = "") -> w.VBox:
    """A CSR box, an upload button, profile and days; Sign shows the certificate decoded, or the CA's refusal."""
    source = paste_or_upload("-----BEGIN CERTIFICATE REQUEST-----", ".csr,.pem,.der,.req", "Upload CSR",
                             initial=initial, clock=True, clock_label="Issue at")
    # end-entity profiles only: a CA is made with init_ca(parent=...), not from a pasted request
    profile = w.Dropdown(options=[(f"{p.name}: {p.description}", p.name) for p in PROFILES.values() if not p.ca],
                         value="client-server", description="Profile", layout=w.Layout(width="95%"))
    days = w.IntText(value=365, description="Days")  # not clamped: a value the CA refuses is said so in the pane
    button = w.Button(description="Sign", button_style="primary")
    pane = result_pane()

    def on_click(_):
        at = source.at()
        try:
            cert = ca.sign_pasted(source.data(), profile.value, days=days.value, at=at)
        except LabkitError as exc:
            source.refused(pane, exc)
            return
        notes = lifetime_notes(cert, ca.certificate)
        show_result(pane, f"Issued serial {cert.serial_number:X} by {ca.name}", ok="warning" if notes else True,
                    lines="\n".join([source.clock_words(at), *notes]), details=decode.text(cert))

    button.on_click(on_click)
    box = _SignForm([source, row(days, button), profile, pane])
    box.source, box.csr, box.upload, box.remove_file, box.clock = (source, source.text, source.upload, source.remove,
                                                                   source.clock)
    box.profile, box.days, box.button, box.pane = profile, days, button, pane
    return box
