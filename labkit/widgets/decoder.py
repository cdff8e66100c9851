"""Paste or upload a certificate, CSR or CRL and read it as OpenSSL prints it (twin: ``labkit.decode.text``)."""

from __future__ import annotations

import ipywidgets as w

from .. import decode
from ..errors import LabkitError
from ._common import result_pane, show_error, show_text, typing_replaces


class _Decoder(w.VBox):
    def __repr__(self) -> str:
        return "Decoder (a widget: paste PEM text or upload a file, then press Decode)"


def decoder(initial: str = "") -> w.VBox:
    """A text box, an upload button and a Decode button; the result pane shows the text or the error."""
    pem = w.Textarea(value=initial, placeholder="-----BEGIN CERTIFICATE-----", layout=w.Layout(width="95%",
                     height="8em"))
    upload = w.FileUpload(accept=".pem,.cer,.crt,.der,.csr,.crl", multiple=False, description="Upload")
    button = w.Button(description="Decode", button_style="primary")
    pane = result_pane()

    def on_click(_):
        data = bytes(upload.value[0]["content"]) if upload.value else pem.value
        try:
            show_text(pane, decode.text(data))
        except LabkitError as exc:
            show_error(pane, exc)

    button.on_click(on_click)
    typing_replaces(upload, pem)
    box = _Decoder([pem, w.HBox([upload, button]), pane])
    box.pem, box.upload, box.button, box.pane = pem, upload, button, pane
    return box
