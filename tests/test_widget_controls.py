"""Every control of every widget, used headless, with its effect on what the trainee sees or on the model asserted.

:data:`CONTROLS` lists, for each factory in :mod:`labkit.widgets`, every interactive control it builds, by the name
the factory gives it on the returned box (``box.cdp``; ``box.quick["sha1"]`` for a dict of controls). Two tests hold
the list to the truth: the controls found by walking each widget's tree are exactly the listed ones (a control added
to a widget without being listed fails here, and so does one the factory forgets to name), and every listed control
has a test below that changes it or clicks it and asserts what changes (a listed control without one fails). Canaries
show that both checks can fail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re

import ipywidgets as w
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit import lab
from labkit.acme import pebble as acme_lab
from labkit.ca import init_ca
from labkit.chapters.ch07_crl_checks import RevocationLab
from labkit.expressway.acme_page import AcmePage
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
from labkit.expressway.findings import BACKGROUND
from labkit.expressway.node import ExpresswayNode
from labkit.expressway.store import CertificateStore
from labkit.instructor import clinic
from labkit.widgets import (
    acme_page,
    certificate_clinic,
    csr_form,
    decoder,
    failure_lab,
    revocation_settings,
    server_certificate_page,
    sign_form,
    signature_lab,
    trusted_ca_page,
    widget_check,
)
from labkit.widgets._common import COLOURS, WHOLE
from labkit.x509 import decode
from labkit.x509.certs import CertSpec, issue, request
from labkit.x509.pki import lab_chain

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER

# -- the list -----------------------------------------------------------------------------------------------------

#: Every interactive control of every widget factory, by the name the factory gives it on the box it returns.
CONTROLS: dict[str, set[str]] = {
    "widget_check": {"button"},
    "signature_lab": {"text"},
    "decoder": {"pem", "upload", "remove_file", "clock", "button"},
    "sign_form": {"csr", "upload", "remove_file", "clock", "profile", "days", "button"},
    "csr_form": {"role", "fqdn", "cluster_fqdn", "peers", "common_name", "custom_common_name", "alternative_name",
                 "additional_names", "ucm_registration_domains", "ucm_domain_format", "xmpp_federation_domains",
                 "chat_node_aliases", "phone_security_profiles", "key_length", "digest", "country", "state",
                 "locality", "organization", "unit", "version", "generate", "discard"},
    "trusted_ca_page": {"pem", "upload", "remove_file", "clock", "append", "which", "view", "delete", "reset"},
    "server_certificate_page": {"cert_text", "cert_file", "cert_remove", "clock", "key_text", "key_file", "key_remove",
                                "upload", "restart"},
    "revocation_settings": {"state", "checking", "ocsp", "crls", "cdp", "fallback", "root_crl"},
    "failure_lab": {"scenario", "version"},
    "acme_page": {"provider", "email", "terms", "register", "sign", "deploy", "days", "time", "automate"},
    "certificate_clinic": {
        "picker", "quick[good]", "quick[good + issuing CA (PEM bundle)]", "quick[cluster-peer-missing]",
        "quick[expired]", "quick[sha1]", "quick[a CSR]", "quick[not a certificate]", "text", "upload", "remove_file",
        "role", "names[fqdn]", "names[cluster_fqdn]", "names[peer_fqdn]", "names[ucm_domains]", "names[xmpp_domains]",
        "names[chat_aliases]", "names[phone_profiles]", "trust", "extra_text", "extra_upload", "extra_remove", "clock",
        "examine", "reset", "reset_confirm", "reset_cancel"},
}

#: Widgets that show and never take input: not controls, even though ipywidgets makes them ValueWidgets.
OUTPUT_ONLY = (w.HTML, w.HTMLMath, w.Label, w.Valid, w.IntProgress, w.FloatProgress, w.Image, w.Audio, w.Video)

#: The controls the tests below use, filled in by :func:`effect` as the module is read.
TESTED: dict[str, set[str]] = {}


def effect(factory: str, *names: str):
    """Mark a test as the one that asserts the effect of these controls of ``factory``."""
    def mark(test):
        assert test.__name__.startswith("test_"), f"{test.__name__} is not collected by pytest"
        TESTED.setdefault(factory, set()).update(names)
        return test
    return mark


def controls(box: w.Widget) -> dict[str, w.Widget]:
    """Every interactive control in ``box``'s tree (Buttons and input ValueWidgets, disabled ones too), by the name
    the factory set on ``box``: ``attr`` or ``attr[key]`` for a dict of controls. A control the factory did not
    name comes back as ``?Type 'description'``."""
    found: list[w.Widget] = []

    def walk(widget: w.Widget) -> None:
        if isinstance(widget, (w.Button, w.ValueWidget)) and not isinstance(widget, OUTPUT_ONLY):
            found.append(widget)
        for child in getattr(widget, "children", ()):
            walk(child)

    walk(box)
    names: dict[int, str] = {}
    for attr, value in vars(box).items():
        if attr.startswith("_"):
            continue
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for key, item in items:
            if isinstance(item, w.Widget):
                names.setdefault(id(item), attr if key is None else f"{attr}[{key}]")
    named: dict[str, w.Widget] = {}
    for control in found:
        name = names.get(id(control), f"?{type(control).__name__} {control.description!r}")
        while name in named:  # two unnamed controls alike
            name += "'"
        named[name] = control
    return named


def compare(factory: str, box: w.Widget) -> tuple[set[str], set[str]]:
    """(controls in the widget but not listed, listed controls not in the widget)."""
    found = set(controls(box))
    return found - CONTROLS[factory], CONTROLS[factory] - found


def untested(listed: dict[str, set[str]], tested: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(factory, control) pairs listed but used by no test, or used by a test but not listed."""
    pairs = {(f, c) for f, names in listed.items() for c in names}
    return pairs ^ {(f, c) for f, names in tested.items() for c in names}


# -- material -----------------------------------------------------------------------------------------------------

def seen(pane: w.HTML) -> str:
    """The text a trainee reads in a result pane."""
    return html.unescape(re.sub(r"<[^>]+>", "", pane.value))


def file(name: str, content: bytes) -> tuple[dict, ...]:
    """A FileUpload value holding one chosen file, as the browser sends it."""
    return ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
             "last_modified": lab.now()},)


def key_pem(key) -> str:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def csr_pem(cn: str, key_name: str = "trainee", der: bool = False):
    csr = request(CertSpec(cn), lab.fixture_key(key_name))
    return csr.public_bytes(DER) if der else csr.public_bytes(PEM).decode()


def expe_node() -> ExpresswayNode:
    node = ExpresswayNode("expe.lab.example", "expressway-e")
    node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", additional_names=("mra.lab.example",),
                                 **LAB_SUBJECT), key=lab.fixture_key("expe-1"))
    return node


@pytest.fixture
def root_ca(tmp_path):
    return init_ca(tmp_path / "root", "Form Root", key=lab.fixture_key("root-ca"))


@pytest.fixture
def rlab(tmp_path):
    with RevocationLab(tmp_path / "rlab") as started:
        yield started


@pytest.fixture(scope="module")
def pebble():
    if not acme_lab.pebble_available():
        pytest.skip("pebble is not installed (apt-get install pebble; make test installs it as root)")
    with acme_lab.Pebble() as server:
        yield server


BUILD = {
    "widget_check": lambda tmp_path: widget_check(),
    "signature_lab": lambda tmp_path: signature_lab(lab.fixture_key("trainee"), "Upload at 18:00"),
    "decoder": lambda tmp_path: decoder(),
    "sign_form": lambda tmp_path: sign_form(init_ca(tmp_path / "ca", "Form Root", key=lab.fixture_key("root-ca"))),
    "csr_form": lambda tmp_path: csr_form(),
    "trusted_ca_page": lambda tmp_path: trusted_ca_page(CertificateStore()),
    "server_certificate_page": lambda tmp_path: server_certificate_page(CertificateStore()),
    "revocation_settings": lambda tmp_path: revocation_settings(RevocationLab(tmp_path / "rlab"), "good"),
    "failure_lab": lambda tmp_path: failure_lab("working"),
    "acme_page": lambda tmp_path: acme_page(AcmePage(expe_node()), None),
    "certificate_clinic": lambda tmp_path: certificate_clinic(None),
}


# -- the list holds every control, and every control has a test ---------------------------------------------------

def test_every_widget_factory_is_listed():
    import labkit.widgets

    assert set(labkit.widgets.__all__) == set(CONTROLS) == set(BUILD)


@pytest.mark.parametrize("factory", sorted(CONTROLS))
def test_the_controls_of_each_widget_are_the_listed_ones(factory, tmp_path):
    unlisted, gone = compare(factory, BUILD[factory](tmp_path))
    assert not unlisted, f"{factory}: controls without a listing and an effect test here: {sorted(unlisted)}"
    assert not gone, f"{factory}: listed controls the widget no longer has: {sorted(gone)}"


def squeezable(box: w.Widget) -> list[str]:
    """Buttons (and uploads, toggle buttons) in a row that may shrink: a long message beside them cuts their label
    ("Gene..."), as a trainee saw at 1366 px (issue 14). Each row of a page is made by ``row()``, which stops it."""
    found: list[str] = []

    def walk(widget: w.Widget) -> None:
        for child in getattr(widget, "children", ()):
            if isinstance(widget, w.HBox) and isinstance(child, WHOLE) and child.layout.flex != "0 0 auto":
                found.append(f"{type(child).__name__} {getattr(child, 'description', '')!r}")
            walk(child)

    walk(box)
    return found


@pytest.mark.parametrize("factory", sorted(BUILD))
def test_no_button_in_a_row_can_be_squeezed_by_a_message_beside_it(factory, tmp_path):
    assert squeezable(BUILD[factory](tmp_path)) == []


def test_canary_a_button_in_a_plain_hbox_is_squeezable():
    assert squeezable(w.VBox([w.HBox([w.Button(description="Generate CSR"), w.HTML("a long refusal")])])) == [
        "Button 'Generate CSR'"]


def test_every_listed_control_has_an_effect_test():
    assert not untested(CONTROLS, TESTED), sorted(untested(CONTROLS, TESTED))


def test_canary_a_control_added_to_a_widget_is_reported(tmp_path):
    box = widget_check()
    assert compare("widget_check", box) == (set(), set())
    dark = w.Checkbox(description="Dark mode")
    box.children += (w.HBox([dark]),)  # nested, not named by the factory
    assert compare("widget_check", box) == ({"?Checkbox 'Dark mode'"}, set())
    box.dark = dark  # named, but not listed
    assert compare("widget_check", box) == ({"dark"}, set())
    clinic_box = certificate_clinic(None)
    clinic_box.quick["sha512"] = extra = w.Button(description="sha512")
    clinic_box.children += (extra,)
    assert compare("certificate_clinic", clinic_box) == ({"quick[sha512]"}, set())


def test_canary_a_listed_control_the_widget_lost_or_no_test_uses_is_reported():
    box = decoder()
    box.children = (box.pem, box.pane)  # the upload, Remove file, clock and Decode controls are gone
    assert compare("decoder", box) == (set(), {"upload", "remove_file", "clock", "button"})
    assert untested(CONTROLS, {**TESTED, "decoder": TESTED["decoder"] - {"upload"}}) == {("decoder", "upload")}
    assert untested({**CONTROLS, "decoder": CONTROLS["decoder"] | {"zoom"}}, TESTED) == {("decoder", "zoom")}


def test_output_panes_are_not_counted_as_controls():
    box = signature_lab(lab.fixture_key("trainee"), "hi")
    assert isinstance(box.pane, w.ValueWidget) and "pane" not in controls(box)
    assert set(controls(box)) == {"text"}


# -- 00: the widget check -----------------------------------------------------------------------------------------

@effect("widget_check", "button")
def test_widget_check_button_reads_the_lab_clock_when_clicked():
    box = widget_check()
    assert "Widgets work" not in seen(box.pane)
    lab.clock.advance(days=1)
    box.button.click()
    assert "the lab clock reads 2026-01-06 09:00 UTC" in seen(box.pane)


# -- 01: the signature lab and the decoder -------------------------------------------------------------------------

@effect("signature_lab", "text")
def test_signature_lab_text_is_hashed_and_verified_on_every_edit():
    box = signature_lab(lab.fixture_key("trainee"), "Upload at 18:00")
    assert seen(box.pane).startswith(f"SHA-256 of the text: {hashlib.sha256(b'Upload at 18:00').hexdigest()}\nVALID")
    box.text.value = "Upload at 19:00"
    assert seen(box.pane).startswith(f"SHA-256 of the text: {hashlib.sha256(b'Upload at 19:00').hexdigest()}\n"
                                     "INVALID")
    box.text.value = "Upload at 18:00"
    assert "\nVALID" in seen(box.pane)


@effect("decoder", "pem")
def test_decoder_decodes_the_pasted_text():
    chain = lab_chain()
    box = decoder(chain.server.cert_pem().decode())
    box.button.click()
    assert "Subject: C = GB, O = labkit, CN = expe.lab.example" in seen(box.pane)
    box.pem.value = chain.root.cert_pem().decode()
    box.button.click()
    assert "Subject: C = GB, O = labkit, CN = labkit Root CA" in seen(box.pane) and "expe" not in seen(box.pane)
    box.upload.value = file("issuing.cer", chain.intermediate.certificate.public_bytes(DER))
    box.button.click()
    assert "Subject: C = GB, O = labkit, CN = labkit Issuing CA" in seen(box.pane)
    box.pem.value = chain.server.cert_pem().decode()  # pasting after a file was chosen: the pasted text counts
    assert box.upload.value == ()
    box.button.click()
    assert "Subject: C = GB, O = labkit, CN = expe.lab.example" in seen(box.pane)


@effect("decoder", "upload")
def test_decoder_decodes_an_uploaded_file_before_the_pasted_text():
    chain = lab_chain()
    box = decoder(chain.server.cert_pem().decode())
    box.upload.value = file("root.cer", chain.root.certificate.public_bytes(DER))
    box.button.click()
    assert "Subject: C = GB, O = labkit, CN = labkit Root CA" in seen(box.pane) and "expe" not in seen(box.pane)


@effect("decoder", "button")
def test_decoder_decodes_only_when_decode_is_pressed():
    box = decoder(lab_chain().server.cert_pem().decode())
    assert seen(box.pane) == ""
    box.button.click()
    assert "\nCertificate:\n    Data:\n" in seen(box.pane)
    box.pem.value = "not a certificate"
    assert "Certificate:" in seen(box.pane)  # nothing happens until the next press
    box.button.click()
    assert "pem-or-der" in seen(box.pane) and "Certificate:" not in seen(box.pane)
    assert "InputError" not in seen(box.pane)  # the message, its rule and chapter: no class name


MACHINE = lab.DEFAULT_INSTANT + dt.timedelta(days=2 * 365)  # the lab chain's server certificate ends 2027-01-05


def paste(text_box: w.Textarea, text: str) -> None:
    """What a trainee's paste does to a text box: its value changes (to ``text``, even if it held it before)."""
    text_box.value = ""
    text_box.value = text


@effect("decoder", "clock")
def test_decoder_judges_a_pasted_certificate_at_the_machines_clock_the_notebooks_at_the_lab_clock(monkeypatch):
    monkeypatch.setattr(lab, "now_real", lambda: MACHINE)
    pem = lab_chain().server.cert_pem().decode()
    box = decoder(pem)  # the notebook's own certificate
    assert box.clock.value == "lab"
    box.button.click()
    assert "Checked at the lab clock: 2026-01-05 09:00 UTC" in seen(box.pane)
    assert "certificate 'expe.lab.example': valid (365 days left)" in seen(box.pane)
    paste(box.pem, pem)  # the trainee's own paste: the machine's clock
    assert box.clock.value == "real"
    box.button.click()
    assert "Checked at this machine's clock: 2028-01-05 09:00 UTC" in seen(box.pane)
    assert "certificate 'expe.lab.example': expired (365 days ago)" in seen(box.pane)
    box.clock.value = "lab"  # the trainee can choose
    box.button.click()
    assert "valid (365 days left)" in seen(box.pane)


@effect("decoder", "remove_file")
def test_decoder_remove_file_forgets_a_rejected_file_so_the_pasted_text_counts():
    box = decoder(lab_chain().server.cert_pem().decode())
    assert box.remove_file.layout.display == "none"  # nothing to remove
    box.upload.value = file("bad.der", b"\x30\x03junk")
    assert "bad.der" in seen(box.source.file_name) and box.remove_file.layout.display is None
    box.button.click()
    assert "der-content" in seen(box.pane) and "This came from the file bad.der: Remove file" in seen(box.pane)
    box.remove_file.click()
    assert box.upload.value == () and seen(box.source.file_name) == "" and box.remove_file.layout.display == "none"
    box.button.click()
    assert "CN = expe.lab.example" in seen(box.pane)


# -- 05: the CA's signing form --------------------------------------------------------------------------------------

@effect("sign_form", "csr")
def test_sign_form_signs_the_pasted_csr(root_ca):
    box = sign_form(root_ca, csr_pem("a.lab.example"))
    box.button.click()
    box.csr.value = csr_pem("b.lab.example", "expc-1")
    box.button.click()
    assert "Issued serial 1002" in seen(box.pane) and "CN = b.lab.example" in seen(box.pane)
    cn = x509.oid.NameOID.COMMON_NAME
    box.upload.value = file("c.der", csr_pem("c.lab.example", der=True))
    box.button.click()
    box.csr.value = csr_pem("d.lab.example")  # pasting after a file was chosen: the pasted CSR counts
    box.button.click()
    assert [root_ca.issued(s).subject.get_attributes_for_oid(cn)[0].value for s in ("1001", "1002", "1003", "1004")
            ] == ["a.lab.example", "b.lab.example", "c.lab.example", "d.lab.example"]


@effect("sign_form", "upload")
def test_sign_form_signs_an_uploaded_csr_before_the_pasted_one(root_ca):
    box = sign_form(root_ca, csr_pem("pasted.lab.example"))
    box.upload.value = file("up.der", csr_pem("uploaded.lab.example", "expc-1", der=True))
    box.button.click()
    assert "CN = uploaded.lab.example" in seen(box.pane)
    assert root_ca.issued("1001").public_key() == lab.fixture_key("expc-1").public_key()


@effect("sign_form", "profile")
def test_sign_form_profile_sets_the_extended_key_usage(root_ca):
    box = sign_form(root_ca, csr_pem("p.lab.example"))
    box.profile.value = "server"
    box.button.click()
    assert "TLS Web Server Authentication" in seen(box.pane) and "TLS Web Client Authentication" not in seen(box.pane)
    box.profile.value = "client-server"
    box.button.click()

    def eku(serial):
        return list(root_ca.issued(serial).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)

    assert eku("1001") == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert eku("1002") == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


@effect("sign_form", "days")
def test_sign_form_days_set_the_validity(root_ca):
    box = sign_form(root_ca, csr_pem("d.lab.example"))
    box.days.value = 30
    box.button.click()
    assert "Not After : Feb  4 09:00:00 2026 GMT" in seen(box.pane)
    box.days.value = 731
    box.button.click()
    assert root_ca.issued("1001").not_valid_after_utc == lab.DEFAULT_INSTANT + dt.timedelta(days=30)
    assert root_ca.issued("1002").not_valid_after_utc == lab.DEFAULT_INSTANT + dt.timedelta(days=731)
    assert "Note:" not in seen(box.pane)
    box.days.value = 5000  # issue 14: not clamped to a maximum without a word
    box.button.click()
    assert root_ca.issued("1003").not_valid_after_utc == lab.DEFAULT_INSTANT + dt.timedelta(days=5000)
    root_end = root_ca.certificate.not_valid_after_utc
    assert root_end < lab.DEFAULT_INSTANT + dt.timedelta(days=5000)  # so the note below must show
    assert f"Note: it outlives its issuer, which expires {root_end:%Y-%m-%d}" in seen(box.pane)
    assert f"at most {(root_end - lab.DEFAULT_INSTANT).days} days" in seen(box.pane)
    assert "Note: it ends in" not in seen(box.pane)  # before 2050
    for refused, rule in ((0, "validity-positive"), (-30, "validity-positive"), (3_000_000, "validity-end")):
        box.days.value = refused  # nor to 1: refused, in the pane, with the rule
        box.button.click()
        assert rule in seen(box.pane) and [e.serial_hex for e in root_ca.entries()][-1] == "1003"
    box.days.value = 99999  # a trainee's try: issued (openssl ca would), with both notes
    box.button.click()
    assert "Note: it ends in 2299" in seen(box.pane) and "expires-after-2050" in seen(box.pane)


@effect("sign_form", "button")
def test_sign_form_sign_adds_to_the_ca_database_or_shows_the_refusal(root_ca):
    box = sign_form(root_ca, csr_pem("s.lab.example"))
    assert [e.serial_hex for e in root_ca.entries()] == ["1000"] and seen(box.pane) == ""  # the root itself
    box.button.click()
    assert [(e.serial_hex, e.status) for e in root_ca.entries()] == [("1000", "V"), ("1001", "V")]
    box.csr.value = root_ca.certificate.public_bytes(PEM).decode()  # a certificate, not a CSR
    box.button.click()
    assert "expect-csr" in seen(box.pane) and len(root_ca.entries()) == 2 and "Error" not in seen(box.pane)


def test_sign_form_on_a_ca_that_reset_all_deleted_says_so_in_the_pane(tmp_path):
    work = tmp_path / "reset"
    ca = init_ca(work, "Reset Root", key=lab.fixture_key("root-ca"))
    box = sign_form(ca, csr_pem("s.lab.example"))
    import shutil
    shutil.rmtree(work)  # what lab.reset_all() does to the lab's working folders
    box.button.click()
    assert "ca-folder-gone" in seen(box.pane) and "run its cell again" in seen(box.pane)
    assert "Error" not in seen(box.pane) and not work.exists()


@effect("sign_form", "clock")
def test_sign_form_issues_a_pasted_csr_at_the_machines_clock_the_notebooks_at_the_lab_clock(root_ca, monkeypatch):
    monkeypatch.setattr(lab, "now_real", lambda: MACHINE)
    box = sign_form(root_ca, csr_pem("lab.lab.example"))
    assert box.clock.value == "lab"
    box.button.click()
    assert "Issued at the lab clock: 2026-01-05 09:00 UTC" in seen(box.pane)
    paste(box.csr, csr_pem("mine.lab.example"))
    box.button.click()
    assert "Issued at this machine's clock: 2028-01-05 09:00 UTC" in seen(box.pane)
    assert root_ca.issued("1001").not_valid_before_utc == lab.DEFAULT_INSTANT
    assert root_ca.issued("1002").not_valid_before_utc == MACHINE


@effect("sign_form", "remove_file")
def test_sign_form_remove_file_lets_the_pasted_csr_be_signed(root_ca):
    box = sign_form(root_ca, csr_pem("pasted.lab.example"))
    box.upload.value = file("cert.pem", root_ca.certificate.public_bytes(PEM))  # a certificate, not a CSR
    box.button.click()
    assert "expect-csr" in seen(box.pane) and "This came from the file cert.pem" in seen(box.pane)
    box.remove_file.click()
    box.button.click()
    assert "CN = pasted.lab.example" in seen(box.pane) and len(root_ca.entries()) == 2


# -- 04: the Generate CSR page --------------------------------------------------------------------------------------

def form(**values):
    """A free-standing Generate CSR page with a fixture key, and these fields set (in this order)."""
    box = csr_form(key=lab.fixture_key("expc-1"))
    for name, value in values.items():
        getattr(box, name).value = value
    return box


def summary(box) -> str:
    return seen(box.pane)


def sans(box) -> str:
    return summary(box).split("Alternative name as it will appear: ")[1].split("\n")[0]


def subject(box) -> str:
    return summary(box).split("Subject: ")[1].split("\n")[0]


@effect("csr_form", "role")
def test_csr_form_role_decides_which_uc_fields_belong():
    box = form(ucm_registration_domains="lab.example")
    assert "field-not-for-role" in summary(box) and box.preview.csr is None
    box.role.value = "expressway-e"
    assert box.preview.ok and "DNS:lab.example" in sans(box)
    box.phone_security_profiles.value = "jabber.lab.example"
    assert "field-not-for-role" in summary(box) and "Expressway-C only" in summary(box)


@effect("csr_form", "fqdn")
def test_csr_form_fqdn_is_the_common_name_and_a_san():
    box = form(fqdn="expc9.lab.example")
    assert subject(box).endswith("CN = expc9.lab.example") and sans(box) == "DNS:expc9.lab.example"
    assert "CN = expc9.lab.example" in seen(box.decoded)


@effect("csr_form", "cluster_fqdn")
def test_csr_form_cluster_fqdn_feeds_the_cluster_common_name():
    box = form(common_name="cluster")
    assert "needs the Cluster name" in summary(box)
    box.cluster_fqdn.value = "expc.lab.example"
    assert subject(box).endswith("CN = expc.lab.example")


@effect("csr_form", "peers")
def test_csr_form_peers_become_the_alternative_names():
    box = form(alternative_name="peers")
    assert "needs the Peer FQDNs" in summary(box)
    box.peers.value = "expc1.lab.example, expc2.lab.example"
    assert "DNS:expc2.lab.example" in sans(box) and "DNS:expc1.lab.example" in sans(box)
    box.peers.value = "expc2.lab.example, expc3.lab.example"  # this peer not among them
    assert "peer-listed" in summary(box)


@effect("csr_form", "common_name")
def test_csr_form_common_name_choice_picks_the_cn():
    box = form(cluster_fqdn="expc.lab.example")
    assert subject(box).endswith("CN = expc1.lab.example")
    box.common_name.value = "cluster"
    assert subject(box).endswith("CN = expc.lab.example")
    box.common_name.value = "custom"
    assert "Custom common name: this field is required" in summary(box)


@effect("csr_form", "custom_common_name")
def test_csr_form_custom_common_name_is_the_cn_when_custom():
    box = form(custom_common_name="vcs.lab.example")
    assert subject(box).endswith("CN = expc1.lab.example")  # the page ignores it unless Common name is Custom
    box.common_name.value = "custom"
    assert subject(box).endswith("CN = vcs.lab.example") and "CN = vcs.lab.example" in seen(box.decoded)


@effect("csr_form", "alternative_name")
def test_csr_form_alternative_name_choice_adds_the_other_peers():
    box = form(alternative_name="cluster")
    assert "'FQDN of Expressway cluster' needs the Cluster name" in summary(box)
    box.cluster_fqdn.value, box.peers.value = "expc.lab.example", "expc1.lab.example, expc2.lab.example"
    box.alternative_name.value = "none"  # a clustered peer still names itself and the cluster
    assert sans(box) == "DNS:expc1.lab.example, DNS:expc.lab.example"
    box.alternative_name.value = "peers"
    assert sans(box) == "DNS:expc1.lab.example, DNS:expc2.lab.example, DNS:expc.lab.example"


@effect("csr_form", "additional_names")
def test_csr_form_additional_names_add_dns_and_ip_sans():
    box = form(additional_names="sip.lab.example, 10.0.0.5")
    assert "DNS:sip.lab.example" in sans(box) and "IP Address:10.0.0.5" in sans(box)
    assert "IP Address:10.0.0.5" in seen(box.decoded)
    box.additional_names.value = "10.0.0.500"
    assert "'10.0.0.500': it looks like an IP address but is not a valid one" in summary(box)


@effect("csr_form", "ucm_registration_domains")
def test_csr_form_registration_domains_become_sans_on_the_e():
    box = form(role="expressway-e", fqdn="expe.lab.example")
    assert sans(box) == "DNS:expe.lab.example"
    box.ucm_registration_domains.value = "lab.example, other.example"
    assert "DNS:lab.example" in sans(box) and "DNS:other.example" in sans(box)


@effect("csr_form", "ucm_domain_format")
def test_csr_form_domain_format_collab_edge_prefixes_the_domains():
    box = form(role="expressway-e", fqdn="expe.lab.example", ucm_registration_domains="lab.example")
    assert "DNS:lab.example" in sans(box) and "collab-edge" not in sans(box)
    box.ucm_domain_format.value = "collab-edge"
    assert "DNS:collab-edge.lab.example" in sans(box) and "DNS:lab.example" not in sans(box)


@effect("csr_form", "xmpp_federation_domains")
def test_csr_form_xmpp_federation_domains_become_sans_on_the_e():
    box = form(role="expressway-e", fqdn="expe.lab.example", xmpp_federation_domains="im.lab.example")
    assert "DNS:im.lab.example" in sans(box)
    box.role.value = "expressway-c"
    assert "field-not-for-role" in summary(box)


@effect("csr_form", "chat_node_aliases")
def test_csr_form_chat_node_aliases_become_sans():
    box = form(chat_node_aliases="chat.lab.example")
    assert "DNS:chat.lab.example" in sans(box) and "DNS:chat.lab.example" in seen(box.decoded)


@effect("csr_form", "phone_security_profiles")
def test_csr_form_phone_security_profiles_become_sans_on_the_c():
    box = form(phone_security_profiles="jabbersecure.lab.example")
    assert "DNS:jabbersecure.lab.example" in sans(box)
    box.phone_security_profiles.value = "jabbersecure"
    assert "X12.6" in summary(box) and box.preview.csr is None


@effect("csr_form", "key_length")
def test_csr_form_key_length_makes_a_key_of_that_size_and_8192_is_warned():
    box = form()
    assert "Public-Key: (2048 bit)" in seen(box.decoded)
    for bits in (4096, 8192, 2048):  # every length the form offers is honoured, never refused
        box.key_length.value = bits
        assert box.preview.ok and box.preview.csr.public_key().key_size == bits
        assert f"Public-Key: ({bits} bit)" in seen(box.decoded)
    box.key_length.value = 4096  # signed with the fixture key of that size: the same CSR on every run
    assert box.preview.csr.public_key() == lab.fixture_key("rsa-4096").public_key()
    assert "the fixture key rsa-4096 (4096 bits) signs this request" in summary(box)
    free = csr_form()  # no key: the CSR is made on Generate, with the length chosen
    assert "8192" not in summary(free) and free.key_length.value == 4096  # appendices A and B advise 4096
    free.key_length.value = 8192
    assert "\nWarning (key-8192)" in summary(free) and free.preview.request.key_length == 8192  # as doctor says


@effect("csr_form", "version")
def test_csr_form_version_says_what_a_serverauth_only_certificate_means():
    free = csr_form()
    assert free.version.value == "X14.0" and "X15.5" not in summary(free)
    free.version.value = "X15.5"
    assert "X15.5: a certificate that comes back with serverAuth only is fine" in summary(free)
    assert free.preview.request.version == "X15.5"
    on_a_node = csr_form(ExpresswayNode("expe.lab.example", "expressway-e", version="X15.4"))
    assert on_a_node.version.value == "X15.4" and on_a_node.version.disabled  # the node's own release
    assert "EnableServerEkuUpload" in summary(on_a_node)


@effect("csr_form", "digest")
def test_csr_form_digest_signs_the_csr():
    box = form()
    assert "Signature Algorithm: sha256WithRSAEncryption" in seen(box.decoded)
    box.digest.value = "sha384"
    assert "Signature Algorithm: sha384WithRSAEncryption" in seen(box.decoded)
    box.digest.value = "sha512"
    assert "Signature Algorithm: sha512WithRSAEncryption" in seen(box.decoded)


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("country", "us", "C = US"), ("state", "Bavaria", "ST = Bavaria"), ("locality", "Munich", "L = Munich"),
    ("organization", "Example Ltd", "O = Example Ltd"), ("unit", "Voice", "OU = Voice")])
@effect("csr_form", "country", "state", "locality", "organization", "unit")
def test_csr_form_subject_fields_go_into_the_subject(field, value, shown):
    box = form()
    assert shown not in subject(box)
    getattr(box, field).value = value
    assert shown in subject(box) and shown in seen(box.decoded)
    getattr(box, field).value = ""
    assert "this field is required" in summary(box)


@effect("csr_form", "generate", "discard")
def test_csr_form_generate_leaves_a_pending_csr_and_discard_removes_it():
    node = ExpresswayNode("expe.lab.example", "expressway-e")
    box = csr_form(node, key=lab.fixture_key("expe-1"))
    box.additional_names.value = "mra.lab.example"
    assert node.pending_csr is None
    box.generate.click()
    assert node.pending_csr is not None and node.pending_csr == box.preview.csr
    names = node.pending_csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["expe.lab.example", "mra.lab.example"]
    assert "CSR generated on expe.lab.example" in summary(box)
    assert box.fqdn.disabled and "Greyed out: the role, release and FQDN are expe.lab.example's own settings" in \
        seen(box.children[2].children[0])  # a greyed field says why (a trainee took it for a placeholder)
    shown = box.pane.value
    box.generate.click()  # a second press (a double click): the pending CSR stays shown, and why none was made
    assert box.pane.value == shown and node.pending_csr == box.preview.csr
    assert "The CSR shown above is pending on expe.lab.example" in seen(box.action)
    assert "one-pending-csr" in seen(box.action)
    box.discard.click()
    assert node.pending_csr is None and "CSR discarded on expe.lab.example" in summary(box)
    box.discard.click()
    assert "had no CSR to discard" in summary(box)


# -- 06: the trusted CA list and the server certificate -------------------------------------------------------------

def trusted_cns(store: CertificateStore) -> list[str]:
    return [c.subject.rfc4514_string().split("CN=")[1].split(",")[0] for c in store.trusted.certificates]


@effect("trusted_ca_page", "pem")
def test_trusted_ca_page_appends_the_pasted_certificates():
    chain = lab_chain()
    store = CertificateStore()
    page = trusted_ca_page(store)
    page.upload.value = file("root.cer", chain.root.certificate.public_bytes(DER))
    page.append.click()
    assert "pem-only" in seen(page.pane) and len(store.trusted) == 0
    page.pem.value = (chain.intermediate.cert_pem() + chain.root.cert_pem()).decode()  # the refused file is dropped
    page.append.click()
    assert trusted_cns(store) == ["labkit Issuing CA", "labkit Root CA"]
    assert "labkit Issuing CA" in page.table.value and "labkit Root CA" in page.table.value


@effect("trusted_ca_page", "upload")
def test_trusted_ca_page_appends_an_uploaded_file_before_the_pasted_text():
    chain = lab_chain()
    store = CertificateStore()
    page = trusted_ca_page(store)
    page.pem.value = chain.intermediate.cert_pem().decode()
    page.upload.value = file("root.pem", chain.root.cert_pem())
    page.append.click()
    assert trusted_cns(store) == ["labkit Root CA"] and page.upload.value == ()


@effect("trusted_ca_page", "append")
def test_trusted_ca_page_append_changes_the_list_only_when_pressed():
    store = CertificateStore()
    page = trusted_ca_page(store)
    page.pem.value = lab_chain().root.cert_pem().decode()
    assert len(store.trusted) == 0 and "empty" in page.table.value
    page.append.click()
    assert len(store.trusted) == 1 and "Appended; the list has 1 certificates." in seen(page.pane)
    page.pem.value = lab_chain().root.certificate.public_bytes(DER).hex()
    page.append.click()
    assert "pem-" in seen(page.pane)
    assert len(store.trusted) == 1


@effect("trusted_ca_page", "clock")
def test_trusted_ca_page_judges_a_pasted_ca_at_the_machines_clock_unless_told(monkeypatch):
    short_ca = issue(CertSpec("Short CA", ca=True, days=30), lab.fixture_key("rogue-ca"))  # ends 2026-02-04
    monkeypatch.setattr(lab, "now_real", lambda: lab.DEFAULT_INSTANT + dt.timedelta(days=60))
    page = trusted_ca_page(CertificateStore())
    paste(page.pem, short_ca.cert_pem().decode())
    assert page.clock.value == "real"
    page.append.click()
    assert "expired" in seen(page.pane) and "Checked at this machine's clock: 2026-03-06 09:00 UTC" in seen(page.pane)
    page.reset.click()
    page.clock.value = "lab"
    page.append.click()
    assert "expired" not in seen(page.pane) and "Checked at the lab clock" in seen(page.pane)


@effect("trusted_ca_page", "remove_file")
def test_trusted_ca_page_remove_file_lets_the_pasted_certificate_be_appended():
    chain = lab_chain()
    store = CertificateStore()
    page = trusted_ca_page(store)
    page.pem.value = chain.root.cert_pem().decode()
    page.upload.value = file("root.cer", chain.root.certificate.public_bytes(DER))  # DER: refused
    page.append.click()
    assert "pem-only" in seen(page.pane) and "This came from the file root.cer" in seen(page.pane)
    page.remove_file.click()
    page.append.click()
    assert trusted_cns(store) == ["labkit Root CA"]


def two_entry_page():
    chain = lab_chain()
    store = CertificateStore()
    page = trusted_ca_page(store)
    page.pem.value = (chain.root.cert_pem() + chain.intermediate.cert_pem()).decode()
    page.append.click()
    return store, page


@effect("trusted_ca_page", "which")
def test_trusted_ca_page_entry_chooses_what_view_shows():
    store, page = two_entry_page()
    page.which.value = "0"  # the table's numbers, from 0
    page.view.click()
    assert "Subject: C = GB, O = labkit, CN = labkit Root CA" in seen(page.pane)
    page.which.value = "1"
    page.view.click()
    assert "Subject: C = GB, O = labkit, CN = labkit Issuing CA" in seen(page.pane)
    page.which.value = decode.fingerprint(store.trusted.certificates[0])[:11]  # or a fingerprint's start
    page.view.click()
    assert "Subject: C = GB, O = labkit, CN = labkit Root CA" in seen(page.pane)
    page.which.value = "2"
    page.view.click()
    assert "trusted-entry" in seen(page.pane)


@effect("trusted_ca_page", "view")
def test_trusted_ca_page_view_shows_the_entry_decoded_and_changes_nothing():
    store, page = two_entry_page()
    page.which.value = "1"
    page.view.click()
    assert seen(page.pane) == store.trusted.view(1) and len(store.trusted) == 2


@effect("trusted_ca_page", "delete")
def test_trusted_ca_page_delete_removes_the_chosen_entry():
    store, page = two_entry_page()
    root_cells = page.table.value.count(">labkit Root CA</td>")  # its row's subject and issuer, and issuer of #1
    page.which.value = "0"
    page.delete.click()
    assert trusted_cns(store) == ["labkit Issuing CA"] and "Deleted: CN=labkit Root CA" in seen(page.pane)
    assert (root_cells, page.table.value.count(">labkit Root CA</td>")) == (3, 1)


@effect("trusted_ca_page", "reset")
def test_trusted_ca_page_reset_restores_the_default_list():
    chain = lab_chain()
    store = CertificateStore(trusted_default=[chain.root.certificate])
    page = trusted_ca_page(store)
    page.pem.value = chain.intermediate.cert_pem().decode()
    page.append.click()
    assert trusted_cns(store) == ["labkit Root CA", "labkit Issuing CA"]
    page.reset.click()
    assert trusted_cns(store) == ["labkit Root CA"] and "labkit Issuing CA" not in page.table.value
    assert "Reset to the default list (1 certificates)." in seen(page.pane)


def server_page():
    chain = lab_chain()
    return chain.server, server_certificate_page(CertificateStore())


@effect("server_certificate_page", "cert_text")
def test_server_page_uploads_the_pasted_certificate():
    server, page = server_page()
    page.cert_text.value = server.cert_pem().decode()
    page.key_text.value = key_pem(server.key)
    page.upload.click()
    assert page.store.server.current_certificate == server.certificate
    assert "Subject: C = GB, O = labkit, CN = expe.lab.example" in seen(page.decoded)
    page.cert_text.value = lab_chain("other.lab.example").server.cert_pem().decode()  # the same key
    page.upload.click()
    assert "CN = other.lab.example" in seen(page.decoded)
    page.cert_file.value = file("bad.pem", b"not a certificate")
    page.upload.click()
    assert "CN = other.lab.example" in seen(page.decoded) and "pem-" in seen(page.pane)
    assert "The files used: bad.pem" in seen(page.pane)  # and how to use the text box instead
    page.cert_text.value = server.cert_pem().decode()  # pasting after a file was chosen: the pasted text counts
    page.upload.click()
    assert page.store.server.current_certificate == server.certificate


@effect("server_certificate_page", "cert_file")
def test_server_page_uploads_the_chosen_certificate_file_before_the_pasted_text():
    server, page = server_page()
    page.cert_text.value = "not a certificate"
    page.cert_file.value = file("expe.pem", server.cert_pem())
    page.key_text.value = key_pem(server.key)
    page.upload.click()
    assert page.store.server.current_certificate == server.certificate and page.cert_file.value == ()


@effect("server_certificate_page", "key_text")
def test_server_page_checks_the_pasted_key_against_the_certificate():
    server, page = server_page()
    page.cert_text.value = server.cert_pem().decode()
    page.upload.click()
    assert page.store.server.current_certificate is None  # no key in place, none given
    page.key_text.value = key_pem(lab.fixture_key("expe-2"))
    page.upload.click()
    assert "key-mismatch" in seen(page.pane) and page.store.server.current_certificate is None
    page.key_file.value = file("expe.key", key_pem(lab.fixture_key("expe-2")).encode())
    page.upload.click()
    assert "key-mismatch" in seen(page.pane)
    page.key_text.value = key_pem(server.key)  # pasting after a file was chosen: the pasted key counts
    page.upload.click()
    assert "Files uploaded." in seen(page.pane) and page.store.server.current_certificate == server.certificate


@effect("server_certificate_page", "key_file")
def test_server_page_takes_the_chosen_key_file_before_the_pasted_key():
    server, page = server_page()
    page.cert_text.value = server.cert_pem().decode()
    page.key_text.value = key_pem(lab.fixture_key("expe-2"))
    page.key_file.value = file("expe.key", key_pem(server.key).encode())
    page.upload.click()
    assert page.store.server.current_certificate == server.certificate and page.key_file.value == ()


@effect("server_certificate_page", "upload")
def test_server_page_upload_stores_the_certificate_for_the_next_restart():
    server, page = server_page()
    page.cert_text.value = server.cert_pem().decode()
    page.key_text.value = key_pem(server.key).rstrip("\n")
    assert "(no server certificate yet)" in seen(page.decoded)
    page.upload.click()
    assert page.store.server.current_certificate == server.certificate and page.store.server.restart_required
    assert "key-trailing-newline" in seen(page.pane) and "Restart required" in seen(page.status)
    assert seen(page.pem) == server.cert_pem().decode()


@effect("server_certificate_page", "restart")
def test_server_page_restart_puts_the_uploaded_certificate_in_service():
    server, page = server_page()
    page.cert_text.value = server.cert_pem().decode()
    page.key_text.value = key_pem(server.key)
    page.upload.click()
    assert page.store.server.active_certificate is None
    page.restart.click()
    assert page.store.server.active_certificate == server.certificate and not page.store.server.restart_required
    assert "Restart required" not in seen(page.status)


@effect("server_certificate_page", "clock")
def test_server_page_checks_the_uploaded_certificate_at_the_machines_clock_unless_told(monkeypatch):
    chain = lab_chain()
    monkeypatch.setattr(lab, "now_real", lambda: MACHINE)  # the server certificate has expired by then
    page = server_certificate_page(CertificateStore(trusted_default=[chain.root.certificate,
                                                                     chain.intermediate.certificate]))
    paste(page.cert_text, chain.server.cert_pem().decode())
    page.key_text.value = key_pem(chain.server.key)
    assert page.clock.value == "real"
    page.upload.click()
    assert "ca-not-recognised" in seen(page.pane) and "expired" in seen(page.pane)
    assert "Checked at this machine's clock: 2028-01-05 09:00 UTC" in seen(page.pane)
    page.clock.value = "lab"
    page.upload.click()
    assert "ca-not-recognised" not in seen(page.pane) and "Checked at the lab clock" in seen(page.pane)


@effect("server_certificate_page", "cert_remove", "key_remove")
def test_server_page_remove_file_lets_the_pasted_certificate_and_key_count():
    server, page = server_page()
    page.cert_text.value = server.cert_pem().decode()
    page.key_text.value = key_pem(server.key)
    page.cert_file.value = file("other.pem", lab_chain("other.lab.example").server.cert_pem())
    page.key_file.value = file("wrong.key", key_pem(lab.fixture_key("expe-2")).encode())
    page.upload.click()
    assert "key-mismatch" in seen(page.pane) and "other.pem, wrong.key" in seen(page.pane)
    page.key_remove.click()
    assert page.key_file.value == () and page.cert_file.value != ()
    page.upload.click()  # the pasted key, the chosen certificate file (the same key)
    assert page.store.server.current_certificate.subject.rfc4514_string().startswith("CN=other.lab.example")
    page.cert_file.value = file("other.pem", lab_chain("other.lab.example").server.cert_pem())
    page.cert_remove.click()
    page.upload.click()
    assert page.store.server.current_certificate == server.certificate


# -- 07: the SIP TLS revocation settings ----------------------------------------------------------------------------

def decision(box) -> str:
    return seen(box.pane).split("\n")[0]


def handshake(box) -> str:
    return next(line for line in seen(box.pane).split("\n") if line.startswith("handshake: "))


@effect("revocation_settings", "state")
def test_revocation_state_picks_the_peers_certificate(rlab):
    box = revocation_settings(rlab, "good")
    assert decision(box) == "decision: accept (good, from ocsp)" and handshake(box) == "handshake: OK"
    box.state.value = "revoked"
    assert decision(box) == "decision: refuse (revoked, from ocsp)"
    assert handshake(box) == "handshake: REFUSED by the server"


@effect("revocation_settings", "checking")
def test_revocation_checking_off_accepts_a_revoked_certificate(rlab):
    box = revocation_settings(rlab, "revoked")
    assert handshake(box).startswith("handshake: REFUSED")
    box.checking.value = False  # accepted, and said in the warning colour: the CA has revoked it
    assert decision(box) == "decision: accept (good, from off): a revoked certificate was accepted"
    assert handshake(box) == "handshake: OK" and COLOURS["warning"] in box.pane.value
    assert COLOURS["ok"] not in box.pane.value


@effect("revocation_settings", "ocsp")
def test_revocation_without_ocsp_the_crl_decides_and_openssl_refuses(rlab):
    box = revocation_settings(rlab, "revoked")
    assert decision(box) == "decision: refuse (revoked, from ocsp)"
    box.ocsp.value = False
    assert decision(box) == "decision: refuse (revoked, from crl)" and "OCSP" not in seen(box.pane)
    assert handshake(box) == "handshake: REFUSED by the server, verify_code 23"


@effect("revocation_settings", "crls")
def test_revocation_without_crls_a_silent_responder_leaves_the_fallback(rlab):
    box = revocation_settings(rlab, "responder-down")
    box.fallback.value = "revoked"
    assert decision(box) == "decision: accept (good, from crl)"
    box.crls.value = False
    assert decision(box) == "decision: refuse (unknown, from fallback)" and "CRL" not in seen(box.pane)
    assert handshake(box) == "handshake: REFUSED by the server"


@effect("revocation_settings", "cdp")
def test_revocation_cdp_downloads_fetch_the_crl_the_node_does_not_hold(rlab):
    box = revocation_settings(rlab, "responder-down")
    box.fallback.value = "revoked"
    assert decision(box) == "decision: accept (good, from crl)"
    assert "CRL downloaded from the distribution point" in seen(box.pane)
    box.cdp.value = False
    assert decision(box) == "decision: refuse (unknown, from fallback)"
    assert "CRL (this certificate): no CRL from this certificate's CA" in seen(box.pane)
    assert "downloaded" not in seen(box.pane)
    assert handshake(box) == "handshake: REFUSED by the server"


@effect("revocation_settings", "root_crl")
def test_revocation_without_the_root_crl_the_issuing_ca_is_unknown_and_the_fallback_decides(rlab):
    box = revocation_settings(rlab, "good")
    box.ocsp.value, box.fallback.value = False, "revoked"
    assert decision(box) == "decision: accept (good, from crl)" and handshake(box) == "handshake: OK"
    box.root_crl.value = False
    assert decision(box) == "decision: refuse (unknown, from fallback)"
    assert "every CA in the chain" in seen(box.pane) and handshake(box) == "handshake: REFUSED by the server"
    box.fallback.value = "not-revoked"
    assert decision(box) == "decision: accept (unknown, from fallback)" and handshake(box) == "handshake: OK"


@effect("revocation_settings", "fallback")
def test_revocation_fallback_decides_when_no_source_answers(rlab):
    box = revocation_settings(rlab, "responder-down")
    box.crls.value = False
    assert decision(box) == "decision: accept (unknown, from fallback)" and handshake(box) == "handshake: OK"
    box.fallback.value = "revoked"
    assert decision(box) == "decision: refuse (unknown, from fallback)"
    assert handshake(box) == "handshake: REFUSED by the server"


# -- 02: the TLS failure lab ----------------------------------------------------------------------------------------

@effect("failure_lab", "scenario")
def test_failure_lab_scenario_runs_that_handshake():
    box = failure_lab("working")
    assert "outcome: OK" in seen(box.pane) and "fix:" not in seen(box.pane)
    box.scenario.value = "revoked"
    assert "verify_code: 23" in seen(box.pane) and "fix:" in seen(box.pane)
    box.scenario.value = "client-without-clientauth"  # the alert the C receives, in plain words
    assert "alert: unsupported_certificate" in seen(box.pane) and "the alert means:" in seen(box.pane)
    assert "lacks clientAuth" in seen(box.pane)


@effect("failure_lab", "version")
def test_failure_lab_version_switches_the_protocol():
    box = failure_lab("working")
    assert "EncryptedExtensions" in seen(box.pane) and "ServerKeyExchange" not in seen(box.pane)
    box.version.value = "1.2"
    assert "ServerKeyExchange" in seen(box.pane) and "ServerHelloDone" in seen(box.pane)
    assert "EncryptedExtensions" not in seen(box.pane) and "outcome: OK" in seen(box.pane)


# -- 08: the ACME page ----------------------------------------------------------------------------------------------

@effect("acme_page", "days", "time", "automate")
def test_acme_automate_turns_on_the_schedule_with_the_chosen_days_and_time(pebble):
    page = AcmePage(expe_node())
    box = acme_page(page, pebble)
    box.automate.click()  # before anything else: a step out of order says what comes first
    assert "Register an ACME account first" in seen(box.pane) and "acme-account" in seen(box.pane)
    assert page.schedule is None
    page.register(pebble, "certadmin@lab.example", True)
    box.automate.click()
    assert page.schedule == (("Monday",), "02:00")
    assert seen(box.pane) == "Automated mode on: deployment on Monday at 02:00"
    box.days.value = ("Tue", "Sat")
    box.time.value = "03:30"
    box.automate.click()
    assert page.schedule == (("Tuesday", "Saturday"), "03:30") and "automated mode: on" in page.status()
    box.time.value = "25:00"
    box.automate.click()
    assert "The deployment time is HH:MM (24-hour)" in seen(box.pane)
    assert page.schedule == (("Tuesday", "Saturday"), "03:30")
    box.time.value, box.days.value = "03:30", ()
    box.automate.click()
    assert "Choose at least one deployment day" in seen(box.pane)


@effect("acme_page", "provider", "email", "terms")
def test_acme_register_needs_the_terms_and_registers_the_email(pebble):
    page = AcmePage(expe_node())
    box = acme_page(page, pebble)
    # The provider menu holds one entry and the page never reads its value: Register always uses the Pebble the
    # page was given. With one entry there is nothing to choose; a second entry would be a choice without effect.
    assert box.provider.options == ("Pebble (lab stand-in for Let's Encrypt)",)
    box.email.value = "pki-team@lab.example"
    box.register.click()
    assert "acme-terms" in seen(box.pane) and page.account is None
    box.terms.value = True
    box.register.click()
    assert seen(box.pane) == "Account registered with the ACME provider for pki-team@lab.example"
    assert page.account.email == "pki-team@lab.example" and page.provider is pebble


@effect("acme_page", "register", "sign", "deploy")
def test_acme_register_sign_deploy_take_the_certificate_into_service(pebble):
    node = expe_node()
    page = AcmePage(node)
    box = acme_page(page, pebble)
    box.sign.click()
    assert "acme-account" in seen(box.pane) and page.pending is None
    box.email.value, box.terms.value = "admin@lab.example", True
    box.register.click()
    assert page.account is not None and page.account.email == "admin@lab.example"
    box.deploy.click()
    assert "acme-nothing-pending" in seen(box.pane) and node.certificate is None
    box.sign.click()
    assert page.pending is not None and node.certificate is None
    assert "staged for expe.lab.example: " in seen(box.pane) and "mra.lab.example" in seen(box.pane)
    box.deploy.click()
    assert "without a restart" in seen(box.pane) and page.pending is None
    names = node.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"expe.lab.example", "mra.lab.example"}
    assert len(page.store.trusted) == 2  # Pebble's root and intermediate


# -- the certificate clinic -----------------------------------------------------------------------------------------

@effect("certificate_clinic", "picker")
def test_clinic_picker_loads_and_examines_the_example():
    box = certificate_clinic("good")
    box.picker.value = "sha1"
    assert box.text.value == clinic.example("sha1").data.decode()
    assert box.report.doctor.rules() == ["weak-signature"] and "weak-signature" in seen(box.pane)


QUICK_EFFECTS = {  # what each quick button's example shows: doctor's rules, or the refusal's rule
    "good": ([], True), "good + issuing CA (PEM bundle)": ([], True), "cluster-peer-missing": (["cluster-san-peer"],
                                                                                               True),
    "expired": (["expired"], False), "sha1": (["weak-signature"], False), "a CSR": "expect-certificate",
    "not a certificate": "pem-or-der"}


@pytest.mark.parametrize("name", QUICK_EFFECTS)
@effect("certificate_clinic", *(f"quick[{name}]" for name in QUICK_EFFECTS))
def test_clinic_quick_button_loads_its_example(name):
    box = certificate_clinic("sha1" if name == "good" else "good")
    box.quick[name].click()
    assert box.picker.value == name and f"Example '{name}'" in seen(box.verdict)
    expected = QUICK_EFFECTS[name]
    if isinstance(expected, str):
        assert box.report is None and expected in seen(box.verdict) and seen(box.pane) == ""
    else:
        assert (box.report.doctor.rules(), box.report.chain.ok) == expected
        assert len(box.report.bundle) == (1 if "bundle" in name else 0)


@effect("certificate_clinic", "text")
def test_clinic_examines_the_pasted_text():
    box = certificate_clinic("good")
    box.text.value = lab_chain().root.cert_pem().decode()
    assert box.picker.value == ""  # typing replaces the example
    box.examine.click()
    assert box.report.name == "labkit Root CA" and "labkit Root CA" in seen(box.pane)


@effect("certificate_clinic", "upload")
def test_clinic_examines_an_uploaded_file_at_once():
    box = certificate_clinic("good")
    box.upload.value = file("root.cer", clinic.lab_cas().root.public_bytes(DER))
    assert box.report.name == "labkit Root CA" and box.report.source == "a DER (binary) certificate"
    assert "Uploaded file root.cer" in seen(box.verdict) and "Example" not in seen(box.verdict)
    assert "root.cer" in seen(box.source.file_name) and box.picker.value == ""


@effect("certificate_clinic", "role")
def test_clinic_role_changes_doctors_rules_at_once():
    box = certificate_clinic("good")
    assert box.report.doctor.ok
    box.role.value = "ca"
    assert box.report.doctor.rules() == ["ca-no-basic-constraints"] and box.report.role == "ca"


NAME_EFFECTS = {  # field: (role, a value the good certificate fails, the rules it fires, a value it passes)
    "fqdn": ("expressway", "expc1.lab.example", ["cn-not-fqdn"], "expe.lab.example"),
    "cluster_fqdn": ("expressway", "expe-cluster.lab.example", ["cluster-cn", "cluster-san-cluster"],
                     "expe.lab.example"),
    "peer_fqdn": ("expressway", "expe9.lab.example", ["cluster-san-peer"], "expe.lab.example"),
    "ucm_domains": ("expressway-e", "other.example", ["uc-registration-domain"], "expe.lab.example"),
    "xmpp_domains": ("expressway-e", "im.other.example", ["uc-xmpp-domain"], "expe.lab.example"),
    "chat_aliases": ("expressway", "chat.other.example", ["uc-chat-alias"], "expe.lab.example"),
    "phone_profiles": ("expressway-c", "jabber.other.example", ["uc-phone-profile"], "expe.lab.example"),
}


@pytest.mark.parametrize("field", NAME_EFFECTS)
@effect("certificate_clinic", *(f"names[{field}]" for field in NAME_EFFECTS))
def test_clinic_names_are_what_doctor_expects(field):
    role, wrong, rules, right = NAME_EFFECTS[field]
    box = certificate_clinic("good", role=role)
    assert box.report.doctor.ok
    box.names[field].value = wrong
    box.examine.click()
    assert box.report.doctor.rules() == rules
    box.names[field].value = right
    box.examine.click()
    assert box.report.doctor.ok, box.report.doctor.rules()
    if field != "phone_profiles":  # a name typed wrong is refused in the banner, not looked for (a bare profile is
        box.names[field].value = "exp e.example"  # reported by doctor: uc-phone-profile-not-fqdn)
        box.examine.click()
        assert "doctor-expected-name" in seen(box.verdict) and "Not examined" in seen(box.verdict)


@effect("certificate_clinic", "trust")
def test_clinic_trust_list_changes_the_chain_verdict_at_once():
    box = certificate_clinic("good")
    assert box.report.chain.ok and box.report.trusted == (clinic.lab_cas().root, clinic.lab_cas().issuing)
    box.trust.value = "lab root only"
    assert not box.report.chain.ok and box.report.trusted == (clinic.lab_cas().root,)
    assert "NOT TRUSTED by 'lab root only'" in seen(box.verdict)


@effect("certificate_clinic", "extra_text")
def test_clinic_trusts_the_pasted_ca_file():
    cas = clinic.lab_cas()
    box = certificate_clinic("good", trust=clinic.UPLOADED)
    assert "clinic-extra-ca" in seen(box.verdict)
    box.extra_text.value = (cas.root.public_bytes(PEM) + cas.issuing.public_bytes(PEM)).decode()
    box.examine.click()
    assert box.report.chain.ok and box.report.trusted == (cas.root, cas.issuing)
    box.extra_text.value = cas.root.public_bytes(PEM).decode()
    box.examine.click()
    assert not box.report.chain.ok and box.report.trusted == (cas.root,)
    box.extra_upload.value = file("rogue.pem", cas.rogue.public_bytes(PEM))
    box.examine.click()
    assert box.report.trusted == (cas.rogue,)
    box.extra_text.value = (cas.root.public_bytes(PEM) + cas.issuing.public_bytes(PEM)).decode()  # the file goes
    box.examine.click()
    assert box.report.chain.ok and box.report.trusted == (cas.root, cas.issuing)


@effect("certificate_clinic", "extra_upload")
def test_clinic_trusts_an_uploaded_ca_file_before_the_pasted_one():
    cas = clinic.lab_cas()
    box = certificate_clinic("good", trust=clinic.UPLOADED)
    box.extra_text.value = cas.rogue.public_bytes(PEM).decode()
    box.extra_upload.value = file("chain.pem", cas.root.public_bytes(PEM) + cas.issuing.public_bytes(PEM))
    box.examine.click()
    assert box.report.chain.ok and box.report.trusted == (cas.root, cas.issuing)


@effect("certificate_clinic", "clock")
def test_clinic_clock_checks_an_example_at_the_lab_clock_and_a_pasted_one_at_the_machines(monkeypatch):
    monkeypatch.setattr(lab, "now_real", lambda: MACHINE)  # the good certificate ends 2027-01-05
    box = certificate_clinic("good")
    assert box.report.at == lab.DEFAULT_INSTANT and box.report.chain.ok and box.clock.value == "lab"
    assert "judged at 2026-01-05 09:00 UTC" in seen(box.verdict)
    box.clock.value = "real"  # examines again at once
    assert box.report.at == MACHINE and "expired" in box.report.doctor.rules() and not box.report.chain.ok
    assert "judged at 2028-01-05 09:00 UTC" in seen(box.verdict)
    box.clock.value = "lab"
    assert box.report.at == lab.DEFAULT_INSTANT and box.report.doctor.ok
    paste(box.text, clinic.example("good").data.decode())  # the same certificate, brought by someone
    box.examine.click()
    assert box.clock.value == "real" and box.report.at == MACHINE and "Pasted text" in seen(box.verdict)


@effect("certificate_clinic", "remove_file")
def test_clinic_remove_file_examines_the_text_again():
    box = certificate_clinic("good")
    box.upload.value = file("root.cer", clinic.lab_cas().root.public_bytes(DER))
    assert box.report.name == "labkit Root CA"
    box.remove_file.click()  # the text box (the good example) is examined again at once
    assert box.report.name == "expe.lab.example" and "Uploaded file" not in seen(box.verdict)


@effect("certificate_clinic", "extra_remove")
def test_clinic_extra_remove_forgets_the_uploaded_ca_file():
    cas = clinic.lab_cas()
    box = certificate_clinic("good", trust=clinic.UPLOADED)
    box.extra_text.value = (cas.root.public_bytes(PEM) + cas.issuing.public_bytes(PEM)).decode()
    box.extra_upload.value = file("rogue.pem", cas.rogue.public_bytes(PEM))
    box.examine.click()
    assert box.report.trusted == (cas.rogue,) and not box.report.chain.ok
    box.extra_remove.click()
    box.examine.click()
    assert box.report.trusted == (cas.root, cas.issuing) and box.report.chain.ok


@effect("certificate_clinic", "examine")
def test_clinic_examine_applies_the_fields_typed_since():
    box = certificate_clinic("good")
    first = box.report
    box.names["fqdn"].value = "expc1.lab.example"
    assert box.report is first  # typing a name does not examine
    box.examine.click()
    assert box.report is not first and box.report.doctor.rules() == ["cn-not-fqdn"]


@effect("certificate_clinic", "reset")
def test_clinic_reset_asks_first_and_says_what_it_will_delete():
    box = certificate_clinic("good")
    lab.clock.advance(days=400)
    folder = lab.workdir("clinic-scratch")
    assert box.confirm.layout.display == "none"
    box.reset.click()
    assert box.confirm.layout.display is None  # the question shows; nothing is done yet
    assert "delete 1 working folder(s)" in seen(box.question) and "clinic-scratch" in seen(box.question)
    assert folder.exists() and lab.now() > lab.DEFAULT_INSTANT


@effect("certificate_clinic", "reset_confirm")
def test_clinic_reset_confirmed_puts_the_lab_back_and_examines_again():
    box = certificate_clinic("good")
    lab.clock.advance(days=400)
    box.examine.click()
    assert "expired" in box.report.doctor.rules()
    folder = lab.workdir("clinic-scratch")
    box.reset.click()
    box.reset_confirm.click()
    assert lab.now() == lab.DEFAULT_INSTANT and box.report.doctor.ok and box.report.at == lab.DEFAULT_INSTANT
    assert not folder.exists() and "lab reset" in seen(box.done) and "clinic-scratch" in seen(box.done)
    assert box.confirm.layout.display == "none"


@effect("certificate_clinic", "reset_cancel")
def test_clinic_reset_cancelled_changes_nothing():
    box = certificate_clinic("good")
    lab.clock.advance(days=400)
    folder = lab.workdir("clinic-scratch")
    box.reset.click()
    box.reset_cancel.click()
    assert folder.exists() and lab.now() > lab.DEFAULT_INSTANT and box.confirm.layout.display == "none"
    assert "nothing was stopped or deleted" in seen(box.done)


def test_controls_are_found_inside_accordions_and_boxes():
    box = certificate_clinic(None)
    found = controls(box)
    assert found["names[peer_fqdn]"] is box.names["peer_fqdn"]  # inside the Accordion
    assert found["extra_upload"] is box.extra_upload  # inside a VBox


# -- colours that mean what they say, readable (WCAG 2.1 AA) ---------------------------------------------------------

def contrast(one: str, two: str) -> float:
    """The WCAG 2.1 contrast ratio of two sRGB colours ``#rrggbb`` (1 to 21)."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


AA = 4.5  # WCAG 2.1 success criterion 1.4.3, normal text


def html_colours() -> dict[str, set[str]]:
    """Every text colour labkit writes into HTML, by file: literal ``color: #rrggbb`` and the ``..._COLOUR = "#..."``
    constants the HTML is written with."""
    from conftest import ROOT

    found: dict[str, set[str]] = {}
    pattern = r"(?:color:\s*|[A-Z_]*COLOU?R\w*\s*=\s*[\"'])(#[0-9a-fA-F]{6})\b"
    for path in (ROOT / "labkit").rglob("*.py"):
        for colour in re.findall(pattern, path.read_text()):
            found.setdefault(str(path.relative_to(ROOT)), set()).add(colour.lower())
    return found


def test_the_colours_of_meaning_pass_wcag_aa_as_text_on_white_and_behind_white_text():
    assert set(COLOURS) == {"ok", "error", "warning", "info"}
    ratios = {meaning: round(contrast(colour, BACKGROUND), 2) for meaning, colour in COLOURS.items()}
    assert all(ratio >= AA for ratio in ratios.values()), ratios
    banner = certificate_clinic("expired").verdict.value  # white on the colour of the verdict
    assert f"background:{COLOURS['error']};color:{BACKGROUND}" in banner


def test_every_text_colour_in_labkits_html_passes_wcag_aa_on_white():
    assert "#a4262c" in html_colours()["labkit/errors.py"]  # a named constant is found too
    weak = {(path, colour): round(contrast(colour, BACKGROUND), 2) for path, colours in html_colours().items()
            for colour in colours if contrast(colour, BACKGROUND) < AA}
    assert not weak, weak


def test_canary_the_contrast_check_knows_the_published_values_and_fails_a_pale_colour():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0 and contrast("#ffffff", "#ffffff") == 1.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the well-known grey that just misses AA
    assert contrast("#8a6d00", "#ffffff") >= AA > contrast("#d4a017", "#ffffff")  # an amber that passes, one that fails


# -- busy states: a slow action shows it is running, at once, and puts the page back ------------------------------

def test_acme_actions_disable_the_buttons_and_say_what_runs_until_they_end():
    page = AcmePage(expe_node())
    box = acme_page(page, None)  # no provider: Register, Sign and Deploy start disabled
    during = []
    real = page.automate

    def watched(*args):  # the real action, with what the page showed while it ran
        during.append((box.automate.disabled, box.automate.icon, seen(box.pane)))
        return real(*args)

    page.automate = watched
    box.automate.click()
    assert during == [(True, "hourglass-half", "Turning on automated mode\u2026 (working)")]
    assert not box.automate.disabled and box.automate.icon == "" and box.register.disabled  # as they were
    assert "Register an ACME account first" in seen(box.pane)  # the answer replaces the busy line


def test_revocation_settings_are_disabled_while_the_handshake_runs(rlab):
    box = revocation_settings(rlab, "good")
    during = []
    real = rlab.run

    def watched(*args, **kwargs):
        during.append((box.ocsp.disabled, box.state.disabled, "Running the handshake" in seen(box.pane)))
        return real(*args, **kwargs)

    rlab.run = watched
    box.state.value = "revoked"
    assert during == [(True, True, True)] and not box.ocsp.disabled and not box.state.disabled
    assert decision(box) == "decision: refuse (revoked, from ocsp)"
