"""The Expressway's Trusted CA certificate and Server certificate pages as widgets (twins: ``labkit.expressway.store``).

* :func:`trusted_ca_page` -- paste or upload a PEM file and *Append CA certificate*
  (:meth:`~labkit.expressway.store.TrustedCaList.append`); the list as a table; *View (decoded)* and *Delete* one
  entry by
  number or fingerprint; *Reset to default CA certificate*;
* :func:`server_certificate_page` -- the certificate and private key files and *Upload server certificate data*
  (:meth:`~labkit.expressway.store.ServerCertificateSlot.upload`); the warnings, the restart note and alarms; *Restart*;
  *Show (decoded)* and *Show (PEM file)* of the current certificate.

Each callback calls one labkit function, then redraws the page from the store; a refusal shows its message. A
certificate the trainee pastes or uploads is checked at this machine's clock (*Check at* changes it), and the answer
says which clock it used.
"""

from __future__ import annotations

import ipywidgets as w

from labkit import frame_html
from labkit.errors import LabkitError
from labkit.expressway.store import CertificateStore
from labkit.expressway.upload import Findings
from labkit.widgets._common import paste_or_upload, result_pane, row, show_error, show_result, show_text

__all__ = ["trusted_ca_page", "server_certificate_page"]

_WIDE = w.Layout(width="95%")


class _TrustedCaPage(w.VBox):
    def __repr__(self) -> str:
        return ("Trusted CA certificate page (a widget: paste or upload a PEM file of CA certificates, Append, "
                "then view, delete or reset entries)")


class _ServerCertificatePage(w.VBox):
    def __repr__(self) -> str:
        return ("Server certificate page (a widget: give the certificate and private key files, press Upload "
                "server certificate data, read the warnings, restart)")


def _done(pane, findings: Findings, done: str, clock: str) -> None:
    """What an upload did, the clock it was checked at, and its findings (a warning is not a refusal)."""
    show_result(pane, done, ok=True if not findings else None, lines=clock, details=findings.text() if findings else "")


def _which_file(*sources) -> str:
    names = [s.filename for s in sources if s.filename]
    return (f"The files used: {', '.join(names)}. Remove file, or type or paste into its box, to use the text "
            "instead." if names else "")


def _which(text: str) -> int | str:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 8 else text


def trusted_ca_page(store: CertificateStore) -> w.VBox:
    """The trusted CA list of ``store``: append, list, view, delete, reset."""
    source = paste_or_upload("-----BEGIN CERTIFICATE-----", ".pem,.crt,.cer", "Select file", clock=True)
    append = w.Button(description="Append CA certificate", button_style="primary", layout=w.Layout(width="auto"))
    table = w.HTML()
    which = w.Text(description="Entry", placeholder="number or SHA-256 fingerprint")
    view = w.Button(description="View (decoded)")
    delete = w.Button(description="Delete", button_style="danger")
    reset = w.Button(description="Reset to default CA certificate", layout=w.Layout(width="auto"))
    pane = result_pane()

    def redraw() -> None:
        frame = store.trusted.list()
        table.value = frame_html(frame) if len(frame) else "<p><i>The trusted CA list is empty.</i></p>"

    def on_append(_) -> None:
        at = source.at()
        try:
            findings = store.trusted.append(source.data(), at=at)
        except LabkitError as exc:
            source.refused(pane, exc)
            return
        source.clear_file()
        _done(pane, findings, f"Appended; the list has {len(store.trusted)} certificates.", source.clock_words(at))
        redraw()

    def on_view(_) -> None:
        try:
            show_text(pane, store.trusted.view(_which(which.value)))
        except LabkitError as exc:
            show_error(pane, exc)

    def on_delete(_) -> None:
        try:
            removed = store.trusted.delete(_which(which.value))
        except LabkitError as exc:
            show_error(pane, exc)
            return
        show_result(pane, "Deleted: " + ", ".join(c.subject.rfc4514_string() for c in removed), ok=True)
        redraw()

    def on_reset(_) -> None:
        store.trusted.reset()
        show_result(pane, f"Reset to the default list ({len(store.trusted)} certificates).", ok=True)
        redraw()

    append.on_click(on_append)
    view.on_click(on_view)
    delete.on_click(on_delete)
    reset.on_click(on_reset)
    box = _TrustedCaPage([w.HTML("<b>Trusted CA certificate</b>"), source, append, pane, table,
                          row(which, view, delete), reset])
    box.store, box.source, box.append, box.table = store, source, append, table
    box.pem, box.upload, box.remove_file, box.clock = source.text, source.upload, source.remove, source.clock
    box.which, box.view, box.delete, box.reset, box.pane = which, view, delete, reset, pane
    redraw()
    return box


def server_certificate_page(store: CertificateStore) -> w.VBox:
    """The server certificate of ``store``: upload a certificate (and key), read the warnings, restart, show."""
    cert = paste_or_upload("-----BEGIN CERTIFICATE-----", ".pem,.crt,.cer", "Select the server certificate file",
                           height="6em", clock=True)
    key = paste_or_upload("-----BEGIN PRIVATE KEY----- (only if the key was made outside the Expressway)", ".pem,.key",
                          "Select the server private key file", height="6em")
    upload = w.Button(description="Upload server certificate data", button_style="primary",
                      layout=w.Layout(width="auto"))
    restart = w.Button(description="Restart")
    pane, status, decoded, pem = result_pane(), result_pane(), result_pane(), result_pane()

    def redraw() -> None:
        server = store.server
        lines = [f"ALARM: {alarm}" for alarm in server.alarms]
        if server.restart_required:
            lines.append("Restart required: the uploaded certificate is used after the next restart.")
        show_text(status, "\n".join(lines), ok=False if lines else None)
        current = server.current_certificate
        show_text(decoded, server.view() if current is not None else "(no server certificate yet)")
        show_text(pem, server.pem() if current is not None else "")

    def on_upload(_) -> None:
        at = cert.at()
        try:
            findings = store.server.upload(cert.data(), key.data() or None, at=at)
        except LabkitError as exc:
            show_error(pane, exc, hint=_which_file(cert, key))
            return
        cert.clear_file()
        key.clear_file()
        _done(pane, findings, "Files uploaded.", cert.clock_words(at))
        redraw()

    def on_restart(_) -> None:
        show_result(pane, store.server.restart(), ok=True)
        redraw()

    upload.on_click(on_upload)
    restart.on_click(on_restart)
    box = _ServerCertificatePage([
        w.HTML("<b>Server certificate</b>"), w.HTML("Server certificate file"), cert,
        w.HTML("Server private key file"), key, row(upload, restart), pane, status,
        w.Accordion(children=[decoded, pem], titles=("Show (decoded)", "Show (PEM file)"))])
    box.store, box.cert, box.key = store, cert, key
    box.cert_text, box.cert_file, box.cert_remove, box.clock = cert.text, cert.upload, cert.remove, cert.clock
    box.key_text, box.key_file, box.key_remove = key.text, key.upload, key.remove
    box.upload, box.restart, box.pane, box.status, box.decoded, box.pem = upload, restart, pane, status, decoded, pem
    redraw()
    return box
