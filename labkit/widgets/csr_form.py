"""The Expressway's Generate CSR page as a widget (twins: ``labkit.expressway.preview_csr`` and
``generate_from_form``).

Every change of a field calls :func:`~labkit.expressway.preview_csr` once and renders its answer where the trainee
looks: a refusal right under the field it is about (and in the summary), and the summary at the top of the form: the
subject, the alternative names "as they will appear", the guidance and (with a key) the CSR decoded and as PEM. The
key length chosen is the key's size (the preview signs with the fixture key of that size when the page's own key
has another). With a peer, *Generate CSR* calls :func:`~labkit.expressway.generate_from_form` and *Discard CSR*
calls :meth:`~labkit.expressway.ExpresswayNode.discard_csr`; their answer also shows beside the buttons.
"""

from __future__ import annotations

import html

import ipywidgets as w

import labkit.expressway as xw
from labkit.widgets._common import COLOURS, busy, result_pane, row, show_result, show_text


class _CsrForm(w.VBox):
    def __repr__(self) -> str:
        return ("Generate CSR form (a widget like the Expressway's Maintenance > Security > Server certificate > "
                "Generate CSR page: change a field and read the CSR, its alternative names and the guidance)")


_WIDE = w.Layout(width="95%")
_STYLE = {"description_width": "30em"}  # the longest field name fits


def _text(name: str, value: str = "", placeholder: str = "") -> w.Text:
    return w.Text(value=value, description=xw.FIELD_LABELS[name], placeholder=placeholder, layout=_WIDE,
                  style=_STYLE)


def _choice(name: str, options, value) -> w.Dropdown:
    return w.Dropdown(options=options, value=value, description=xw.FIELD_LABELS[name], style=_STYLE,
                      layout=w.Layout(width="48em"))


def _reverse(choices: dict[str, str]) -> list[tuple[str, str]]:
    return [(label, key) for key, label in choices.items()]


def _note(message: str) -> str:
    """A refusal under its field: in the error colour, indented to line up with the field's box."""
    return (f'<div style="color:{COLOURS["error"]};margin-left:31em;white-space:normal;word-break:normal;'
            f'overflow-wrap:break-word"><b>&#9650;</b> {html.escape(message)}</div>')


def csr_form(target: xw.ExpresswayNode | xw.Cluster | None = None, peer: str | None = None, *,
             key=None) -> w.VBox:
    """The Generate CSR page of ``target``: an :class:`~labkit.expressway.ExpresswayNode`, or a
    :class:`~labkit.expressway.Cluster` and one of its ``peer`` FQDNs (the first peer by default), or nothing
    (a free-standing form without the Generate and Discard buttons).

    ``key`` is the RSA key the live preview signs with (a fixture key gives the same CSR on every run); without it
    the preview shows everything but the CSR, which *Generate CSR* then makes with a fresh key on the peer.
    """
    node = target.node(peer or target.peers[0]) if isinstance(target, xw.Cluster) else target
    cluster = node.cluster if node is not None else None
    role_value = node.role if node is not None else "expressway-c"
    subject = xw.LAB_SUBJECT

    role = _choice("role", _reverse(xw.NODE_ROLES), role_value)
    fqdn = _text("fqdn", node.name if node is not None else "expc1.lab.example")
    cluster_fqdn = _text("cluster_fqdn", cluster.cluster_fqdn if cluster else "", "leave empty when not clustered")
    peers = _text("peers", ", ".join(cluster.peers) if cluster else "", "comma separated")
    version = _choice("version", list(xw.VERSIONS), node.version if node is not None else xw.DEFAULT_VERSION)
    if node is not None:  # the peer's own settings are not on the Generate CSR page
        role.disabled = fqdn.disabled = version.disabled = True
        cluster_fqdn.disabled = peers.disabled = cluster is not None
    common_name = _choice("common_name", _reverse(xw.COMMON_NAME_CHOICES), "cluster" if cluster else "fqdn")
    custom_common_name = _text("custom_common_name", "", "used when Common name is Custom")
    alternative_name = _choice("alternative_name", _reverse(xw.ALTERNATIVE_NAME_CHOICES),
                               "peers" if cluster else "none")
    additional_names = _text("additional_names", "", "FQDNs or IP addresses, comma separated")
    ucm_registration_domains = _text("ucm_registration_domains", "", "Expressway-E only, comma separated")
    ucm_domain_format = _choice("ucm_domain_format", _reverse(xw.DOMAIN_FORMATS), "dns")
    xmpp_federation_domains = _text("xmpp_federation_domains", "", "Expressway-E only, comma separated")
    chat_node_aliases = _text("chat_node_aliases", "", "both roles, comma separated")
    phone_security_profiles = _text("phone_security_profiles", "", "Expressway-C only, FQDNs, comma separated")
    # With a key, the page starts at its size; without one at 4096 bits, what appendices A and B advise. Any length
    # chosen is honoured: the preview then signs with the fixture key of that size.
    key_bits = key.key_size if key is not None and getattr(key, "key_size", None) in xw.KEY_LENGTHS else 4096
    key_length = _choice("key_length", list(xw.KEY_LENGTHS), key_bits)
    digest = _choice("digest", [("SHA-256", "sha256"), ("SHA-384", "sha384"), ("SHA-512", "sha512")], "sha256")
    country, state, locality, organization, unit = (
        _text(name, subject[name]) for name in ("country", "state", "locality", "organization", "unit"))

    inputs = {
        "role": role, "fqdn": fqdn, "cluster_fqdn": cluster_fqdn, "peers": peers, "common_name": common_name,
        "custom_common_name": custom_common_name, "alternative_name": alternative_name,
        "additional_names": additional_names, "ucm_registration_domains": ucm_registration_domains,
        "ucm_domain_format": ucm_domain_format, "xmpp_federation_domains": xmpp_federation_domains,
        "chat_node_aliases": chat_node_aliases, "phone_security_profiles": phone_security_profiles,
        "key_length": key_length, "digest": digest, "country": country, "state": state, "locality": locality,
        "organization": organization, "unit": unit, "version": version,
    }
    generate = w.Button(description="Generate CSR", button_style="primary", disabled=node is None)
    discard = w.Button(description="Discard CSR", disabled=node is None)
    pane, action, decoded, pem = result_pane(), w.HTML(), result_pane(), result_pane()
    note = w.HTML(value="")  # a refusal, placed right under the field it is about
    sections: dict[str, w.VBox] = {}  # field name -> the section that holds it

    def values() -> dict:
        return {name: widget.value for name, widget in inputs.items()}

    def render(preview: xw.CsrPreview) -> None:
        box.preview = preview
        if preview.error:
            show_result(pane, preview.error, ok=False)
        else:
            first, _, rest = preview.summary().partition("\n")
            show_result(pane, first, lines=rest)
        place_note(preview.field if preview.error else None, _note(preview.error) if preview.error else "")
        show_text(decoded, preview.decoded or "(no CSR yet)")
        show_text(pem, preview.pem or "")

    def refresh(_=None) -> None:
        render(xw.preview_csr(values(), key))
        action.value = ""

    def on_generate(_) -> None:
        doing = f"Generating the key and the CSR on {node.name}"
        pending = node.pending_csr
        with busy(action, doing, generate, discard, *inputs.values()):
            preview = xw.generate_from_form(node, values(), key)
        if not preview.ok and pending is not None and box.preview.csr is pending:
            # A second press (a double click arrives after the first is done): the CSR above is the pending one,
            # and stays shown; only the line beside the button says why no second one was made.
            show_result(action, f"The CSR shown above is pending on {node.name}. {preview.error}", ok=False)
            return
        render(preview)
        show_result(action, preview.note if preview.ok else preview.error, ok=preview.ok)

    def on_discard(_) -> None:
        had = node.discard_csr()
        done = f"CSR discarded on {node.name}." if had else f"{node.name} had no CSR to discard."
        show_result(pane, done)
        show_result(action, done)

    for widget in inputs.values():
        widget.observe(refresh, names="value")
    generate.on_click(on_generate)
    discard.on_click(on_discard)

    def place_note(field: str | None, message: str) -> None:
        """Show ``message`` right under ``field`` (and nowhere else); None takes the note away."""
        for section in {id(s): s for s in sections.values()}.values():
            kept = [child for child in section.children if child is not note]
            if field in sections and sections[field] is section:
                kept.insert(kept.index(inputs[field]) + 1, note)
            if tuple(kept) != section.children:
                section.children = kept
        note.value = message
        box.note_field = field if message else None

    def section(title: str, *names: str, note: str = "") -> w.VBox:
        holder = w.VBox([w.HTML(f"<b>{title}</b>" + (f"<br><span style='color:{COLOURS['info']}'>{note}</span>"
                                                      if note else "")), *(inputs[name] for name in names)])
        sections.update(dict.fromkeys(names, holder))
        return holder

    fixed_note = "" if node is None else (
        f"Greyed out: the role, release and FQDN{' and the cluster' if cluster else ''} are {node.name}'s own "
        "settings (chapter 3: the CSR is generated on the Expressway it is for), not fields of the Generate CSR page; "
        "to try others, make another node (ExpresswayNode) or call csr_form() without one.")
    box = _CsrForm([
        w.HTML("<b>The request as it stands</b> (every change of a field updates it; a refusal also shows under "
               "its field)"),
        pane,
        section("This Expressway", "role", "version", "fqdn", "cluster_fqdn", "peers", note=fixed_note),
        section("Common name and alternative names", "common_name", "custom_common_name", "alternative_name",
                "additional_names"),
        section("Unified Communications (chapter 4)", "ucm_registration_domains", "ucm_domain_format",
                "xmpp_federation_domains", "chat_node_aliases", "phone_security_profiles"),
        section("Key and digest", "key_length", "digest"),
        section("Subject", "country", "state", "locality", "organization", "unit"),
        row(generate, discard, action),
        w.Accordion(children=[decoded, pem], titles=("Show (decoded)", "Show (PEM file)")),
    ])
    for name, widget in inputs.items():
        setattr(box, name, widget)
    box.inputs, box.node, box.generate, box.discard = inputs, node, generate, discard
    box.pane, box.action, box.note, box.note_field, box.decoded, box.pem = pane, action, note, None, decoded, pem
    refresh()
    return box
