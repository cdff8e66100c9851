"""Tamper detection: edit a signed message and watch verification fail (twin: ``labkit.x509.pki.verify``)."""

from __future__ import annotations

import hashlib

import ipywidgets as w

from labkit.widgets._common import result_pane, show_text
from labkit.x509 import pki


class _SignatureLab(w.VBox):
    def __repr__(self) -> str:
        return "Signature lab (a widget: edit the message and watch the verification result change)"


def signature_lab(private_key, message: str) -> w.VBox:
    """Sign ``message`` once; every edit of the text box re-verifies that signature against the new text."""
    signature = pki.sign(private_key, message)
    public = private_key.public_key()
    box_text = w.Textarea(value=message, description="Message", layout=w.Layout(width="95%", height="4em"))
    sig_label = w.HTML(value=f"<code>signature: {signature[:12].hex()}... ({len(signature)} bytes, fixed)</code>")
    pane = result_pane()

    def refresh(_=None):
        verdict = pki.verify(public, box_text.value, signature)
        digest = hashlib.sha256(box_text.value.encode()).hexdigest()
        show_text(pane, f"SHA-256 of the text: {digest}\n{verdict}", ok=verdict.ok)

    box_text.observe(refresh, names="value")
    refresh()
    box = _SignatureLab([box_text, sig_label, pane])
    box.text, box.pane, box.signature = box_text, pane, signature
    return box
