"""The instructor's certificate clinic as one page (twin: :func:`labkit.instructor.clinic.examine`).

Paste or upload a certificate (PEM, DER, a PEM bundle, PKCS#7), or pick an example; choose the Expressway role and
names doctor should expect, and the trusted CA list to check against. *Examine* (and any change of role or list)
calls :func:`~labkit.instructor.clinic.examine` once and shows its report: the decode, doctor's findings and the
chain check
with the ``openssl verify`` run beside it. A refusal shows the LabkitError's message. *Reset lab* calls
:func:`~labkit.lab.reset_all`.
"""

from __future__ import annotations

import ipywidgets as w

from labkit import lab
from labkit.errors import LabkitError
from labkit.instructor import clinic
from labkit.widgets._common import paste_or_upload, pasted, result_pane, show_error, show_text

__all__ = ["certificate_clinic"]

_WIDE = w.Layout(width="95%")
_STYLE = {"description_width": "16em"}
#: The quick buttons above the form: an example each.
QUICK = ("good", "good + issuing CA (PEM bundle)", "cluster-peer-missing", "expired", "sha1", "a CSR",
         "not a certificate")
#: The names doctor can expect, as the form asks for them.
_NAMES = {"fqdn": "This Expressway's FQDN", "cluster_fqdn": "Cluster FQDN", "peer_fqdn": "This peer's FQDN",
          "ucm_domains": "Unified CM registration domains", "xmpp_domains": "XMPP federation domains",
          "chat_aliases": "Chat node aliases", "phone_profiles": "Phone security profile names"}


class _Clinic(w.VBox):
    def __repr__(self) -> str:
        return "Certificate clinic (a widget: run the notebook to use it)"


def certificate_clinic(example: str | None = "good", *, trust: str = clinic.DEFAULT_TRUST,
                       role: str | None = None) -> w.VBox:
    """The clinic, preloaded with the example called ``example`` (None: empty) and examined against ``trust``.
    ``role`` is the doctor role examples load with, unless an example names its own (a CA certificate)."""
    examples = {e.name: e for e in clinic.examples()}
    picker = w.Dropdown(options=[("(choose an example)", "")] + [(f"{e.name}: {e.note}", e.name)
                                                                 for e in examples.values()],
                        value="", description="Example", layout=_WIDE)
    quick = {name: w.Button(description=name, layout=w.Layout(width="auto"), tooltip=examples[name].note)
             for name in QUICK}
    text, upload = paste_or_upload("-----BEGIN CERTIFICATE----- (a certificate, its chain, or a PKCS#7 file)",
                                   ".pem,.crt,.cer,.der,.p7b,.p7c", "Upload certificate", height="9em",
                                   upload_width="16em", typing_clears_upload=False)  # an upload is examined at once
    role_box = w.Dropdown(options=[(label, key) for key, label in clinic.ROLES.items()], value="expressway",
                          description="Doctor role", style=_STYLE, layout=w.Layout(width="28em"))
    names = {key: w.Text(description=label, placeholder="comma separated" if key.endswith("s") else "",
                         layout=_WIDE, style=_STYLE) for key, label in _NAMES.items()}
    trust_box = w.Dropdown(options=[(f"{key}: {note}", key) for key, note in clinic.TRUST_LISTS.items()],
                           value=trust, description="Trusted CA list", layout=_WIDE, style=_STYLE)
    extra_text, extra_upload = paste_or_upload("-----BEGIN CERTIFICATE----- (the CA certificates to trust)",
                                               ".pem,.crt,.cer", "Upload CA file", height="6em", upload_width="16em")
    extra = w.VBox([extra_text, extra_upload])
    clock = w.ToggleButtons(options=[(f"lab clock ({lab.DEFAULT_INSTANT:%Y-%m-%d})", "lab"),
                                     ("this machine's clock", "real")], value="lab", description="Check at",
                            style={"description_width": "6em", "button_width": "16em"},
                            tooltips=["the lab's instant: the same page on every screen",
                                      "real time: for a certificate someone brings from a live system"])
    examine = w.Button(description="Examine", button_style="primary")
    reset = w.Button(description="Reset lab", button_style="warning", tooltip="lab.reset_all()")
    status, pane = result_pane(), result_pane()
    quiet = {"on": False}  # set while the page itself fills the fields in, so that one change examines once
    box = _Clinic()

    def run(_=None) -> None:
        extra.layout.display = None if trust_box.value == clinic.UPLOADED else "none"
        try:
            report = clinic.examine(pasted(text, upload), trust=trust_box.value, role=role_box.value,
                                    at=lab.now_real() if clock.value == "real" else None,
                                    extra_ca=pasted(extra_text, extra_upload) if trust_box.value == clinic.UPLOADED
                                    else None, **{key: field.value for key, field in names.items()})
        except LabkitError as exc:
            box.report = None
            show_error(pane, exc)
            return
        box.report = report
        pane.value = report._repr_html_()

    def load(name: str) -> None:
        chosen = examples[name]
        quiet["on"] = True
        try:
            picker.value = name
            upload.value = ()
            text.value = chosen.data.decode() if chosen.is_text else ""
            if not chosen.is_text:  # binary DER goes where an uploaded file would
                upload.value = ({"name": chosen.filename, "type": "", "size": len(chosen.data),
                                 "content": memoryview(chosen.data), "last_modified": lab.now()},)
            role_box.value = chosen.flags.get("role", role or "expressway")
            for key, field in names.items():
                field.value = str(chosen.flags.get(key, ""))
        finally:
            quiet["on"] = False
        show_text(status, f"Example '{name}' ({chosen.filename}): {chosen.note}")
        run()

    def on_pick(change) -> None:
        if not quiet["on"] and change["new"]:
            load(change["new"])

    def on_text(_) -> None:  # typing or pasting replaces an uploaded file and the example
        if not quiet["on"]:
            quiet["on"] = True
            upload.value, picker.value = (), ""
            quiet["on"] = False

    def on_upload(change) -> None:  # a chosen file is examined at once
        if not quiet["on"] and change["new"]:
            quiet["on"] = True
            text.value, picker.value = "", ""
            quiet["on"] = False
            show_text(status, f"Uploaded {change['new'][0]['name']}")
            run()

    def on_setting(_) -> None:
        if not quiet["on"]:
            run()

    def on_reset(_) -> None:
        show_text(status, str(lab.reset_all()), ok=True)
        run()

    picker.observe(on_pick, names="value")
    for name, button in quick.items():
        button.on_click(lambda _, name=name: load(name))
    text.observe(on_text, names="value")
    upload.observe(on_upload, names="value")
    role_box.observe(on_setting, names="value")
    trust_box.observe(on_setting, names="value")
    clock.observe(on_setting, names="value")
    examine.on_click(run)
    reset.on_click(on_reset)

    context = w.Accordion(children=[w.VBox(list(names.values()))], titles=("Names doctor should expect (optional)",))
    box.children = [
        w.HTML("<b>Certificate clinic</b>: decode, doctor and chain check of one certificate"),
        w.HBox(list(quick.values()), layout=w.Layout(flex_flow="row wrap")), picker, text, upload,
        role_box, context, trust_box, extra, clock, w.HBox([examine, reset]), status, pane]
    box.picker, box.quick, box.text, box.upload, box.role, box.names = picker, quick, text, upload, role_box, names
    box.trust, box.extra, box.extra_text, box.extra_upload = trust_box, extra, extra_text, extra_upload
    box.examine, box.reset, box.status, box.pane, box.report = examine, reset, status, pane, None
    box.clock = clock
    if example:
        load(example)
    else:
        extra.layout.display = "none"
        show_text(pane, "Paste or upload a certificate, or pick an example, then press Examine.")
    return box
