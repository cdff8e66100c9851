"""The instructor's certificate clinic as one page for the projector (twin: :func:`labkit.instructor.clinic.examine`).

From the top: the quick examples; what to check against (the Expressway role, the trusted CA list, the names doctor
should expect); the certificate (paste or upload: PEM, DER, a PEM bundle, PKCS#7), with the clock it is judged at;
*Examine*; right under it the verdict as a banner in the colour of its meaning (white on green or red, contrast above
4.5:1), saying what was examined and when; then the report (the decode, doctor's findings, the chain check with the
``openssl verify`` run beside it). Body text is 17 px, so the back row can read it.

*Examine* (and any change of role, list or clock) calls :func:`~labkit.instructor.clinic.examine` once and redraws
the verdict and the report together, so nothing on the page describes an earlier input. A refusal shows the
LabkitError's message in the verdict's place. An example is judged at the lab clock (it is the lab's own); a
certificate someone pastes or uploads at this machine's clock; *Check at* changes it.

*Reset lab...* first says what :func:`~labkit.lab.reset_all` will stop and delete
(:func:`~labkit.instructor.clinic.reset_question`), and resets only when that is confirmed.
"""

from __future__ import annotations

import ipywidgets as w

from labkit import lab
from labkit.errors import LabkitError
from labkit.instructor import clinic
from labkit.widgets._common import busy, error_html, paste_or_upload, result_pane, row, show_html

__all__ = ["certificate_clinic", "FONT_SIZE"]

#: Body text of the clinic, in CSS pixels: readable from the back of a room on a projector.
FONT_SIZE = 17
_WIDE = w.Layout(width="95%")
_STYLE = {"description_width": "16em"}
#: The quick buttons above the form: an example each.
QUICK = ("good", "good + issuing CA (PEM bundle)", "cluster-peer-missing", "expired", "sha1", "a CSR",
         "not a certificate")
#: The names doctor can expect, as the form asks for them.
_NAMES = {"fqdn": "This Expressway's FQDN", "cluster_fqdn": "Cluster FQDN", "peer_fqdn": "This peer's FQDN",
          "ucm_domains": "Unified CM registration domains", "xmpp_domains": "XMPP federation domains",
          "chat_aliases": "Chat node aliases", "phone_profiles": "Phone security profile names"}
# Everything in the clinic at projector size: ipywidgets' controls take their size from these variables.
_CSS = f"""<style>
.labkit-clinic {{ font-size: {FONT_SIZE}px; --jp-widgets-font-size: {FONT_SIZE}px; --jp-ui-font-size1: {FONT_SIZE}px;
  --jp-content-font-size1: {FONT_SIZE}px; --jp-code-font-size: {FONT_SIZE - 1}px; --jp-widgets-inline-height: 34px; }}
.labkit-clinic .widget-label, .labkit-clinic .widget-html-content, .labkit-clinic input, .labkit-clinic textarea,
.labkit-clinic select, .labkit-clinic button, .labkit-clinic td, .labkit-clinic th, .labkit-clinic p,
.labkit-clinic summary {{ font-size: {FONT_SIZE}px; }}
.labkit-clinic pre, .labkit-clinic code {{ font-size: {FONT_SIZE - 1}px; }}
.labkit-clinic h4 {{ font-size: {FONT_SIZE + 3}px; margin: 0.8em 0 0.3em; }}
body[data-voila] .jp-RenderedMarkdown {{ font-size: {FONT_SIZE}px; }}
body[data-voila] .jp-RenderedMarkdown code {{ font-size: {FONT_SIZE - 1}px; }}
</style>"""  # the last two: the notebook's text too, on the dashboard only (Voila marks its page body[data-voila])


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
                        value="", description="More examples", style=_STYLE, layout=_WIDE)
    quick = {name: w.Button(description=name, layout=w.Layout(width="auto"), tooltip=examples[name].note)
             for name in QUICK}
    source = paste_or_upload("-----BEGIN CERTIFICATE----- (a certificate, its chain, or a PKCS#7 file)",
                             ".pem,.crt,.cer,.der,.p7b,.p7c", "Upload certificate", height="8em", clock=True)
    role_box = w.Dropdown(options=[(label, key) for key, label in clinic.ROLES.items()], value="expressway",
                          description="Doctor role", style=_STYLE, layout=w.Layout(width="32em"))
    names = {key: w.Text(description=label, placeholder="comma separated" if key.endswith("s") else "",
                         layout=_WIDE, style=_STYLE) for key, label in _NAMES.items()}
    trust_box = w.Dropdown(options=[(f"{key}: {note}", key) for key, note in clinic.TRUST_LISTS.items()],
                           value=trust, description="Trusted CA list", layout=_WIDE, style=_STYLE)
    extra = paste_or_upload("-----BEGIN CERTIFICATE----- (the CA certificates to trust)", ".pem,.crt,.cer",
                            "Upload CA file", height="5em")
    examine = w.Button(description="Examine", button_style="primary", layout=w.Layout(width="auto"))
    verdict, pane = result_pane(), result_pane()
    reset = w.Button(description="Reset lab...", button_style="warning", layout=w.Layout(width="auto"),
                     tooltip="lab.reset_all(): asks first")
    question = w.HTML()
    reset_confirm = w.Button(description="Yes: stop, delete and reset", button_style="danger",
                             layout=w.Layout(width="auto"))
    reset_cancel = w.Button(description="Cancel", layout=w.Layout(width="auto"))
    confirm = w.VBox([question, row(reset_confirm, reset_cancel)],
                     layout=w.Layout(display="none", border=f"2px solid {clinic.COLOURS['warning']}",
                                     padding="6px"))
    done = w.HTML()
    quiet = {"on": False}  # set while the page itself fills the fields in, so that one change examines once
    box = _Clinic()

    def examined() -> str:
        """What is in the box, in words, for the verdict: the example, the file, or pasted text."""
        chosen = examples.get(picker.value)
        if chosen is not None and (source.filename == chosen.filename if not chosen.is_text else
                                   not source.filename and source.text.value == chosen.data.decode()):
            return f"Example '{chosen.name}' ({chosen.filename})"
        if source.filename:
            return f"Uploaded file {source.filename}"
        return "Pasted text"

    def run(_=None) -> None:
        extra.layout.display = None if trust_box.value == clinic.UPLOADED else "none"
        with busy(verdict, "Examining", examine):
            at = source.at()
            try:
                report = clinic.examine(source.data(), trust=trust_box.value, role=role_box.value, at=at,
                                        extra_ca=extra.data() if trust_box.value == clinic.UPLOADED else None,
                                        **{key: field.value for key, field in names.items()})
            except LabkitError as exc:
                report = None
                failed = exc
        box.report = report
        if report is None:
            verdict.value = error_html(failed, hint=f"Not examined: {examined()}.")
            pane.value = ""
            return
        verdict.value = report.verdict_html(examined())
        show_html(pane, report.details_html())

    def load(name: str) -> None:
        chosen = examples[name]
        quiet["on"] = True
        try:
            picker.value = name
            if chosen.is_text:
                source.put(chosen.data.decode())
            else:  # binary DER goes where an uploaded file would
                source.put(file=(chosen.filename, chosen.data))
            role_box.value = chosen.flags.get("role", role or "expressway")
            for key, field in names.items():
                field.value = str(chosen.flags.get(key, ""))
        finally:
            quiet["on"] = False
        run()

    def on_pick(change) -> None:
        if not quiet["on"] and change["new"]:
            load(change["new"])

    def on_text(_) -> None:  # typing or pasting replaces the example (the source forgets an uploaded file itself)
        if not quiet["on"] and not source.filling:
            quiet["on"] = True
            picker.value = ""
            quiet["on"] = False

    def on_upload(change) -> None:  # a chosen (or removed) file is examined at once
        if quiet["on"] or source.filling or not (change["new"] or source.text.value.strip()):
            return
        quiet["on"] = True
        picker.value = ""
        quiet["on"] = False
        run()

    def on_setting(_) -> None:
        if not quiet["on"] and not source.filling:
            run()

    def on_reset(_) -> None:
        question.value = (f'<div style="white-space:normal;word-break:normal">'
                          f"{clinic.reset_question(lab.reset_plan())}</div>")
        confirm.layout.display = None
        done.value = ""

    def on_reset_confirm(_) -> None:
        confirm.layout.display = "none"
        with busy(done, "Resetting the lab", reset, reset_confirm, reset_cancel):
            report = lab.reset_all()
        done.value = f'<div style="white-space:normal;word-break:normal">{report}.</div>'
        run()

    def on_reset_cancel(_) -> None:
        confirm.layout.display = "none"
        done.value = "Reset cancelled: nothing was stopped or deleted."

    picker.observe(on_pick, names="value")
    for name, button in quick.items():
        button.on_click(lambda _, name=name: load(name))
    source.text.observe(on_text, names="value")
    source.upload.observe(on_upload, names="value")
    role_box.observe(on_setting, names="value")
    trust_box.observe(on_setting, names="value")
    source.clock.observe(on_setting, names="value")
    examine.on_click(run)
    reset.on_click(on_reset)
    reset_confirm.on_click(on_reset_confirm)
    reset_cancel.on_click(on_reset_cancel)

    context = w.Accordion(children=[w.VBox(list(names.values()))], titles=("Names doctor should expect (optional)",))
    box.add_class("labkit-clinic")
    box.children = [
        w.HTML(_CSS + "<h3 style='margin:0'>Certificate clinic: decode, doctor and chain check of one certificate"
                      "</h3>"),
        row(*quick.values(), wrap=True), picker,
        w.HBox([role_box]), trust_box, extra, context,
        source, examine, verdict, pane,
        row(reset, done), confirm]
    box.picker, box.quick, box.source, box.role, box.names = picker, quick, source, role_box, names
    box.text, box.upload, box.remove_file, box.clock = source.text, source.upload, source.remove, source.clock
    box.trust, box.extra, box.extra_text, box.extra_upload, box.extra_remove = (
        trust_box, extra, extra.text, extra.upload, extra.remove)
    box.examine, box.verdict, box.pane, box.report = examine, verdict, pane, None
    box.reset, box.reset_confirm, box.reset_cancel, box.confirm, box.question, box.done = (
        reset, reset_confirm, reset_cancel, confirm, question, done)
    if example:
        load(example)
    else:
        extra.layout.display = "none"
        show_html(verdict, "Paste or upload a certificate, or press an example, then press Examine.")
    return box
