"""Paste or upload a certificate, CSR or CRL and read it as OpenSSL prints it (twin: ``labkit.x509.decode.text``)."""

from __future__ import annotations

import ipywidgets as w

from labkit.errors import LabkitError
from labkit.widgets._common import paste_or_upload, pasted, result_pane, show_error, show_text
from labkit.x509 import decode


class _Decoder(w.VBox):
    def __repr__(self) -> str:
        return "Decoder (a widget: paste PEM text or upload a file, then press Decode)"


def decoder(initial: str = "") -> w.VBox:
    """A text box, an upload button and a Decode button; the result pane shows the text or the error."""
    pem, upload = paste_or_upload("-----BEGIN CERTIFICATE-----", ".pem,.cer,.crt,.der,.csr,.crl", "Upload",
                                  initial=initial)
    button = w.Button(description="Decode", button_style="primary")
    pane = result_pane()

    def on_click(_):
        data = pasted(pem, upload)
        try:
            show_text(pane, decode.text(data))
        except LabkitError as exc:
            show_error(pane, exc)

    button.on_click(on_click)
    box = _Decoder([pem, w.HBox([upload, button]), pane])
    box.pem, box.upload, box.button, box.pane = pem, upload, button, pane
    return box
