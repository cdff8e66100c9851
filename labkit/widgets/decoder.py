"""Paste or upload a certificate, CSR or CRL and read it as OpenSSL prints it (twins: ``labkit.x509.decode.text`` and
``labkit.x509.decode.validity``).

A certificate or CRL the trainee brings is judged at this machine's clock, the lab's own (the one the notebook puts in
the box) at the lab clock; *Check at* changes it, and the answer says which clock it used.
"""

from __future__ import annotations

import ipywidgets as w

from labkit.errors import LabkitError
from labkit.widgets._common import paste_or_upload, result_pane, show_text
from labkit.x509 import decode


class _Decoder(w.VBox):
    def __repr__(self) -> str:
        return "Decoder (a widget: paste PEM text or upload a file, then press Decode)"


def decoder(initial: str = "") -> w.VBox:
    """A text box, an upload button and a Decode button; the result pane shows the validity at the chosen clock and
    the text, or the error."""
    source = paste_or_upload("-----BEGIN CERTIFICATE-----", ".pem,.cer,.crt,.der,.csr,.crl", "Upload",
                             initial=initial, clock=True)
    button = w.Button(description="Decode", button_style="primary")
    pane = result_pane()

    def on_click(_):
        at = source.at()
        try:
            data = source.data()
            lines = decode.validity(data, at)
            text = decode.text(data)
        except LabkitError as exc:
            source.refused(pane, exc)
            return
        head = [source.clock_words(at), *lines, ""] if lines else []
        show_text(pane, "\n".join(head) + text)

    button.on_click(on_click)
    box = _Decoder([source, button, pane])
    box.source, box.pem, box.upload, box.remove_file, box.clock = (source, source.text, source.upload, source.remove,
                                                                   source.clock)
    box.button, box.pane = button, pane
    return box
