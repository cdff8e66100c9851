"""The certificate clinic (labkit.instructor.clinic and its widget): decode, doctor and chain check of one certificate,
with
``openssl verify`` run on the same files to show that it reaches the same verdict."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shlex
import subprocess

import pytest
from asserts import assert_refused
from cryptography.hazmat.primitives import serialization

from labkit import InputError, WrongTypeError, lab
from labkit.instructor import clinic
from labkit.widgets import certificate_clinic
from labkit.x509 import pki

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
CERTIFICATE_EXAMPLES = [e.name for e in clinic.examples() if e.name not in ("a CSR", "cut-off PEM",
                                                                            "not a certificate")]
LISTS = [name for name in clinic.TRUST_LISTS if name != clinic.UPLOADED]


def pem(*certs) -> bytes:
    return b"".join(c.public_bytes(PEM) for c in certs)


def leaf_pem() -> bytes:
    return clinic.example("good").data


def assert_trusted_through(report: clinic.ClinicReport, *names: str) -> None:
    """The chain verified, and its path (leaf first) has these CNs."""
    assert report.chain.ok, report.chain.reason
    assert [c.subject.rfc4514_string().split("CN=")[1].split(",")[0] for c in report.chain.path] == list(names)


# -- the three trust questions -----------------------------------------------------------------------------------

def test_lab_leaf_verifies_against_root_and_issuing_ca(openssl_bin):
    report = clinic.examine(leaf_pem(), trust="lab root + issuing CA")
    assert_trusted_through(report, "expe.lab.example", "labkit Issuing CA", "labkit Root CA")
    assert report.chain.path[-1] == clinic.lab_cas().root
    assert report.openssl_run.ok and report.openssl_run.stdout.strip() == "cert.pem: OK"
    assert report.openssl_agrees is True


def test_lab_leaf_alone_fails_with_the_root_only_because_the_issuing_ca_is_missing(openssl_bin):
    report = clinic.examine(leaf_pem(), trust="lab root only")
    assert not report.chain.ok
    assert "'labkit Issuing CA', which issued 'expe.lab.example', is not in the trusted CA list" in report.chain.reason
    assert "error 20 at 0 depth" in str(report.openssl_run)  # unable to get local issuer certificate
    assert report.openssl_agrees is True


@pytest.mark.parametrize("name", ["good + issuing CA (PEM bundle)", "good + chain (PKCS#7)"])
def test_a_bundle_that_carries_the_intermediate_verifies_with_the_root_only(name, openssl_bin):
    report = clinic.examine(clinic.example(name).data, trust="lab root only")
    assert report.name == "expe.lab.example"  # the certificate that issued none of the others, whatever the order
    assert clinic.lab_cas().issuing in report.bundle
    assert_trusted_through(report, "expe.lab.example", "labkit Issuing CA", "labkit Root CA")
    assert "-untrusted untrusted.pem" in report.command and report.openssl_agrees is True


def test_a_rogue_root_with_the_lab_roots_name_vouches_for_nothing(openssl_bin):
    cas = clinic.lab_cas()
    assert cas.rogue.subject == cas.root.subject and cas.rogue.public_key() != cas.root.public_key()
    alone = clinic.examine(leaf_pem(), trust="rogue CA")
    with_chain = clinic.examine(clinic.example("good + issuing CA (PEM bundle)").data, trust="rogue CA")
    assert not alone.chain.ok and not with_chain.chain.ok
    assert "another CA with the same name" in with_chain.chain.reason  # names match, the signature does not
    assert alone.openssl_agrees is True and with_chain.openssl_agrees is True


def test_an_issuing_ca_without_its_root_is_not_a_full_chain(openssl_bin):
    report = clinic.examine(clinic.example("good + issuing CA (PEM bundle)").data, trust="issuing CA only")
    assert not report.chain.ok and "holds no root" in report.chain.reason
    assert not report.openssl_run.ok  # openssl verify, too, wants a self-signed root at the top


def test_an_empty_list_trusts_nothing_and_openssl_is_told_to_use_no_store(openssl_bin):
    report = clinic.examine(leaf_pem(), trust="none")
    assert not report.chain.ok and "empty" in report.chain.reason
    args = shlex.split(report.command)
    assert {"-no-CAfile", "-no-CApath", "-no-CAstore"} <= set(args) and "-CAfile" not in args
    assert report.trusted == () and report.openssl_agrees is True


def test_an_uploaded_ca_file_becomes_the_trusted_list(openssl_bin):
    cas = clinic.lab_cas()
    full = clinic.examine(leaf_pem(), trust=clinic.UPLOADED, extra_ca=pem(cas.root, cas.issuing).decode())
    assert_trusted_through(full, "expe.lab.example", "labkit Issuing CA", "labkit Root CA")
    assert full.trusted == (cas.root, cas.issuing) and full.openssl_agrees is True
    root_only = clinic.examine(leaf_pem(), trust=clinic.UPLOADED, extra_ca=pem(cas.root))
    assert not root_only.chain.ok and root_only.openssl_agrees is True


def test_an_uploaded_ca_without_basic_constraints_is_reported_and_does_not_vouch(openssl_bin):
    legacy = clinic.example("ca-without-basic-constraints")  # a "CA" certificate that lacks basicConstraints
    report = clinic.examine(leaf_pem(), trust=clinic.UPLOADED, extra_ca=legacy.data)
    assert [f.rule for f in report.trust_findings] == ["ca-no-basic-constraints"]
    assert not report.chain.ok and report.openssl_agrees is True


def test_the_uploaded_ca_file_must_be_given_and_be_pem():
    assert_refused("clinic-extra-ca", clinic.examine, leaf_pem(), trust=clinic.UPLOADED)
    assert_refused("clinic-extra-ca", clinic.examine, leaf_pem(), trust=clinic.UPLOADED, extra_ca="  \n")
    der = clinic.lab_cas().root.public_bytes(DER)
    assert_refused("pem-only", clinic.examine, leaf_pem(), trust=clinic.UPLOADED, extra_ca=der)


def test_an_unknown_trust_list_is_refused_naming_the_choices():
    error = assert_refused("clinic-trust-list", clinic.examine, leaf_pem(), trust="my laptop")
    assert "lab root only" in str(error)


# -- openssl verify beside labkit --------------------------------------------------------------------------------

@pytest.mark.parametrize("trust", LISTS)
def test_openssl_verify_reaches_labkits_verdict_on_every_example(trust, openssl_bin):
    verdicts = set()
    for name in CERTIFICATE_EXAMPLES:
        report = clinic.examine(clinic.example(name).data, trust=trust)
        assert report.openssl_agrees is True, (name, report.chain.reason, report.openssl_run.stdout)
        verdicts.add(report.chain.ok)
    assert verdicts == ({True, False} if trust in ("lab root + issuing CA", "lab root only") else {False})


def test_the_command_shown_is_the_one_run_on_the_files_kept_in_the_folder(tmp_path, openssl_bin):
    report = clinic.examine(clinic.example("good + issuing CA (PEM bundle)").data, trust="lab root only",
                            folder=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "trusted.pem", "untrusted.pem"]
    assert (tmp_path / "cert.pem").read_bytes() == pem(report.certificate)
    again = subprocess.run(shlex.split(report.command), cwd=tmp_path, capture_output=True, text=True, check=False)
    assert again.returncode == 0 and again.stdout == report.openssl_run.stdout


def test_openssl_verify_needs_auth_level_2_to_refuse_sha1_as_labkit_does(tmp_path, openssl_bin):
    report = clinic.examine(clinic.example("sha1").data, folder=tmp_path)
    assert "weak-signature" in report.doctor.rules()
    assert not report.chain.ok and "SHA-1" in report.chain.reason
    assert "error 68" in str(report.openssl_run)  # CA signature digest algorithm too weak
    args = shlex.split(report.command)
    i = args.index("-auth_level")
    lax = subprocess.run(args[:i] + args[i + 2:], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert lax.returncode == 0, lax.stdout  # at its default level openssl verify accepts SHA-1


def test_openssl_is_not_run_when_asked_not_to():
    report = clinic.examine(leaf_pem(), run_openssl=False)
    assert report.openssl_run is None and report.openssl_agrees is None
    assert report.command.startswith("openssl verify -attime ") and "OpenSSL was not run" in report.text()


def test_without_the_openssl_command_the_report_still_shows_it(monkeypatch):
    monkeypatch.setattr("labkit.x509.openssl.available", lambda: False)
    report = clinic.examine(leaf_pem())
    assert report.openssl_run is None and report.chain.ok
    assert f"$ {report.command}" in report._repr_html_()


# -- the clock ---------------------------------------------------------------------------------------------------

def test_validity_is_judged_at_the_lab_clock_or_the_instant_given(openssl_bin):
    expired = clinic.example("expired")  # valid for 30 days from 60 days before the lab clock
    now = clinic.examine(expired.data)
    assert "expired" in now.doctor.rules() and not now.chain.ok and "validity period" in now.chain.reason
    then = lab.now() - dt.timedelta(days=45)
    earlier = clinic.examine(expired.data, at=then)
    assert earlier.chain.ok and "expired" not in earlier.doctor.rules()
    assert f"-attime {int(then.timestamp())}" in earlier.command and earlier.openssl_agrees is True


# -- doctor ------------------------------------------------------------------------------------------------------

def test_doctor_findings_follow_the_role_and_the_names_given():
    peer = clinic.example("cluster-peer-missing")
    report = clinic.examine(peer.data, **peer.flags)
    assert report.doctor.rules() == ["cluster-san-peer"] and "cluster-san-peer" in report.text()
    assert "cluster-san-peer" not in clinic.examine(peer.data).doctor.rules()  # no cluster named: no cluster rule
    edge = clinic.examine(leaf_pem(), role="expressway-e", ucm_domains="lab.example, other.example")
    assert edge.doctor.rules() == ["uc-registration-domain", "uc-registration-domain"]
    assert clinic.examine(leaf_pem(), role="expressway-e", ucm_domains=("",), xmpp_domains=None).doctor.ok
    assert_refused("doctor-role", clinic.examine, leaf_pem(), role="gateway")


@pytest.mark.parametrize("specimen", [e for e in clinic.examples() if e.filename == f"{e.name}.pem"],
                         ids=lambda e: e.name)
def test_each_specimen_fires_its_rule_in_the_clinic(specimen):
    from labkit.chapters.ch03_expressway_certificates import specimens

    expected = {s.name: s.expected_rule for s in specimens()}[specimen.name]
    report = clinic.examine(specimen.data, run_openssl=False, **specimen.flags)
    if expected is None:
        assert report.doctor.ok, report.doctor.text()
    else:
        assert expected in report.doctor.rules()


# -- reading what is given ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "error", "rule"), [
    ("a CSR", WrongTypeError, "expect-certificate"),
    ("cut-off PEM", InputError, "pem-complete"),
    ("not a certificate", InputError, "pem-or-der"),
])
def test_input_that_is_not_a_certificate_is_refused_naming_the_rule(name, error, rule):
    with pytest.raises(error) as caught:
        clinic.examine(clinic.example(name).data)
    assert caught.value.rule == rule


def test_a_csr_is_refused_with_the_hint_that_a_ca_must_sign_it_first():
    error = assert_refused("expect-certificate", clinic.examine, clinic.example("a CSR").data)
    assert "signed by a CA" in str(error)


def test_a_private_key_or_empty_input_is_refused():
    key = lab.fixture_key("expe-1").private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption())
    assert_refused("expect-certificate", clinic.examine, leaf_pem() + key)
    assert_refused("input-not-empty", clinic.examine, "")


def test_der_is_read_and_the_note_says_the_expressway_wants_pem():
    report = clinic.examine(clinic.example("good as DER (.cer)").data)
    assert report.source == "a DER (binary) certificate"
    assert report.certificate == clinic.examine(leaf_pem()).certificate
    assert any("appendix C" in note for note in report.notes)


def test_text_around_the_pem_block_is_read_with_a_note_that_the_expressway_refuses_it():
    report = clinic.examine("Subject: expe.lab.example\n" + leaf_pem().decode())
    assert report.name == "expe.lab.example"
    assert any("text outside its PEM blocks ('Subject: expe.lab.example')" in note for note in report.notes)


def test_a_chain_file_is_noted_as_not_what_the_server_certificate_page_takes():
    report = clinic.examine(clinic.example("good + chain (PKCS#7)").data)
    assert report.source == "a PKCS#7 (PEM) file of 3 certificates" and len(report.bundle) == 2
    assert any("server certificate alone" in note for note in report.notes)


# -- the report --------------------------------------------------------------------------------------------------

def test_the_report_is_frozen_and_the_same_on_every_run():
    first, second = clinic.examine(leaf_pem()), clinic.examine(leaf_pem())
    assert first.text(decoded=True) == second.text(decoded=True) and first._repr_html_() == second._repr_html_()
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.trust = "none"


def test_the_report_shows_the_decode_doctor_and_chain_sections():
    report = clinic.examine(leaf_pem())
    assert report.decoded.startswith("Certificate:\n    Data:\n")
    assert dict(report.summary)["Subject"] == "C = GB, O = labkit, CN = expe.lab.example"
    text, page = report.text(decoded=True), report._repr_html_()
    for part in ("1. Decode", "2. Doctor", "3. Chain check", report.command, "Modulus:"):
        assert part in text and part in page.replace("&#x27;", "'")
    assert "Modulus:" not in report.text()


def test_the_lab_cas_are_a_fresh_labs_chain_and_take_no_serials():
    cas = clinic.lab_cas()
    assert lab.next_serial() == lab.FIRST_SERIAL  # lab_cas() did not use the counter
    lab.reset()
    chain = pki.lab_chain()
    assert (cas.root, cas.issuing) == (chain.root.certificate, chain.intermediate.certificate)


def test_unknown_example_is_refused():
    names = [e.name for e in clinic.examples()]
    assert len(names) == len(set(names))
    assert_refused("clinic-example", clinic.example, "perfect")


# -- the widget ----------------------------------------------------------------------------------------------------

def upload(box_upload, name: str, content: bytes) -> None:
    box_upload.value = ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
                         "last_modified": lab.now()},)


def test_clinic_widget_opens_on_an_example_with_its_verdict():
    box = certificate_clinic("good")
    assert box.picker.value == "good" and box.text.value == leaf_pem().decode()
    assert "TRUSTED by &#x27;lab root + issuing CA&#x27;" in box.verdict.value and box.report.chain.ok
    assert "Example &#x27;good&#x27; (good.pem)" in box.verdict.value
    assert "Certificate clinic" in repr(box)


def test_switching_trust_lists_changes_the_verdict():
    box = certificate_clinic("good")
    box.trust.value = "lab root only"
    assert "NOT TRUSTED by &#x27;lab root only&#x27;" in box.verdict.value
    box.trust.value = "rogue CA"
    assert "NOT TRUSTED by &#x27;rogue CA&#x27;" in box.verdict.value
    box.trust.value = "lab root + issuing CA"
    assert box.report.chain.ok


def test_pasting_a_good_a_bad_and_a_garbage_certificate():
    box = certificate_clinic(None)
    assert box.report is None and "Paste or upload" in box.verdict.value
    box.text.value = leaf_pem().decode()
    box.examine.click()
    assert box.report.chain.ok and box.report.doctor.ok
    box.clock.value = "lab"  # the lab's own certificates, pasted: judged where they live
    box.text.value = clinic.example("expired").data.decode()
    box.clock.value = "lab"
    box.examine.click()
    assert not box.report.chain.ok and "expired" in box.pane.value
    box.text.value = "this is not a certificate"
    box.examine.click()
    assert box.report is None and box.pane.value == ""  # no report of an earlier input stays on the page
    assert "pem-or-der" in box.verdict.value and "Traceback" not in box.verdict.value
    assert "InputError" not in box.verdict.value


def test_an_uploaded_der_file_is_examined_and_typing_replaces_it():
    box = certificate_clinic(None)
    upload(box.upload, "expe.cer", clinic.lab_cas().root.public_bytes(DER))
    assert box.report.name == "labkit Root CA" and "a DER (binary) certificate" in box.verdict.value
    assert "Uploaded file expe.cer" in box.verdict.value
    box.text.value = leaf_pem().decode()  # pasting after an upload: the pasted text counts
    assert box.upload.value == ()
    box.examine.click()
    assert box.report.name == "expe.lab.example"


def test_a_csr_where_a_certificate_belongs_shows_the_error():
    box = certificate_clinic("good")
    box.quick["a CSR"].click()
    assert "expect-certificate" in box.verdict.value and box.report is None and box.pane.value == ""


def test_examples_set_the_names_doctor_expects():
    box = certificate_clinic("good")
    box.picker.value = "cluster-peer-missing"
    assert box.names["peer_fqdn"].value == "expe1.lab.example"
    assert "cluster-san-peer" in box.pane.value and not box.report.doctor.ok
    box.picker.value = "ca-without-basic-constraints"
    assert box.role.value == "ca" and "ca-no-basic-constraints" in box.report.doctor.rules()
    box.quick["good"].click()
    assert box.role.value == "expressway" and box.names["peer_fqdn"].value == "" and box.report.doctor.ok


def test_changing_the_role_or_names_reexamines():
    box = certificate_clinic("good", role="expressway-e")
    assert box.role.value == "expressway-e"
    box.names["ucm_domains"].value = "lab.example"
    box.examine.click()
    assert "uc-registration-domain" in box.report.doctor.rules()
    box.role.value = "expressway-c"  # registration domains belong on the E only
    assert box.report.doctor.rules() == ["uc-not-for-role"]


def test_the_uploaded_ca_list_shows_its_fields_and_its_error_until_given():
    box = certificate_clinic("good")
    assert box.extra.layout.display == "none"  # the CA file fields show only for the uploaded list
    box.trust.value = clinic.UPLOADED
    assert box.extra.layout.display is None
    assert "clinic-extra-ca" in box.verdict.value
    cas = clinic.lab_cas()
    upload(box.extra_upload, "chain.pem", pem(cas.root, cas.issuing))
    box.examine.click()
    assert box.report.chain.ok and box.report.trust == clinic.UPLOADED
    box.trust.value = "none"
    assert box.extra.layout.display == "none" and not box.report.chain.ok


def test_reset_lab_button_puts_the_clock_back_and_reexamines():
    box = certificate_clinic("good")
    lab.clock.advance(days=400)  # past the good certificate's year
    box.examine.click()
    assert "expired" in box.report.doctor.rules()
    folder = lab.workdir("clinic-scratch")
    box.reset.click()
    assert "clinic-scratch" in box.question.value and folder.exists()  # asked first, nothing done yet
    box.reset_confirm.click()
    assert lab.now() == lab.DEFAULT_INSTANT and "lab reset" in box.done.value
    assert not folder.exists() and "clinic-scratch" in box.done.value
    assert box.report.chain.ok and box.report.doctor.ok


def test_a_certificate_from_a_live_system_is_checked_at_the_machines_clock_by_default():
    """A certificate someone brings from a live system, issued after the lab clock's instant, is valid on the
    machine's clock (the default for anything pasted or uploaded) and not yet valid at the lab clock (the default
    for the lab's own examples). The test sets the lab clock a month behind the machine's itself, rather than count
    on today being after the lab instant."""
    before = lab.now_real()
    lab.use_lab_time(before - dt.timedelta(days=30))
    live = pki.lab_chain(at=before - dt.timedelta(days=1)).server.certificate
    assert live.not_valid_before_utc > lab.now()
    box = certificate_clinic(None)
    box.text.value = live.public_bytes(serialization.Encoding.PEM).decode()
    assert box.clock.value == "real"
    box.examine.click()
    after = lab.now_real()
    assert "not-yet-valid" not in box.report.doctor.rules() and box.report.chain.ok
    assert before <= box.report.at <= after  # the machine's clock, read during the click
    assert "judged at " + f"{box.report.at:%Y-%m-%d %H:%M} UTC" in box.verdict.value
    box.clock.value = "lab"  # re-examines at once
    assert "not-yet-valid" in box.report.doctor.rules() and not box.report.chain.ok
    assert box.report.at == lab.now()


# -- the agreement check can say no -----------------------------------------------------------------------------

def _chain_with_a_ca_that_may_not_sign_certificates():
    """Root -> an issuing CA whose keyUsage lacks keyCertSign -> leaf. RFC 5280 4.2.1.3 forbids such a CA to sign
    certificates, and OpenSSL refuses the path (error 32); labkit's model of the Expressway's check looks only at
    basicConstraints, so it accepts it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization as ser

    from labkit.x509.certs import CertSpec, Issued, issue, sign_builder

    root = issue(CertSpec("Disagree Root", ca=True, days=3650), lab.fixture_key("root-ca"))
    key = lab.fixture_key("issuing-ca")
    inter_cert = sign_builder(
        x509.CertificateBuilder().subject_name(CertSpec("Disagree Issuing").subject())
        .issuer_name(root.certificate.subject).public_key(key.public_key()).serial_number(lab.next_serial())
        .not_valid_before(lab.now()).not_valid_after(lab.now() + dt.timedelta(days=1000))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.certificate.public_key()),
                       critical=False),
        root.key)
    leaf = issue(CertSpec("expe.lab.example"), lab.fixture_key("expe-1"), Issued(inter_cert, key))
    return root.certificate.public_bytes(ser.Encoding.PEM), pem(leaf.certificate, inter_cert)


def test_clinic_says_openssl_disagrees_when_openssl_refuses_a_chain_labkit_accepts(openssl_bin):
    root_pem, bundle = _chain_with_a_ca_that_may_not_sign_certificates()
    report = clinic.examine(bundle, trust=clinic.UPLOADED, extra_ca=root_pem)
    assert report.chain.ok, report.chain.reason  # labkit's model: basicConstraints CA:TRUE is all it asks
    assert not report.openssl_run.ok
    assert "error 32" in str(report.openssl_run)  # key usage does not include certificate signing
    assert report.openssl_agrees is False
    # the banner says what OpenSSL said, not only that it disagrees (a trainee saw TRUSTED beside DISAGREES)
    first = re.search(r"error (\d+) at (\d+) depth lookup: (.*)", str(report.openssl_run))  # OpenSSL's first line
    assert report.verdict.endswith(f"; OpenSSL DISAGREES (openssl verify: {first.group(3)}, error {first.group(1)} "
                                   f"at depth {first.group(2)}; see 3.)"), report.verdict
    assert "OpenSSL DISAGREES: it refused the chain" in report.text()
    assert "#a4262c" in report._repr_html_().rsplit("<p", 1)[1]  # the agreement line is drawn in the error colour


def test_openssl_agreeing_that_a_chain_is_refused_is_not_drawn_as_good_news(openssl_bin):
    refused = clinic.examine(clinic.example("expired").data)
    assert refused.openssl_agrees and not refused.chain.ok
    agreement = refused._repr_html_().rsplit("<p", 1)[1]
    assert "OpenSSL agrees: it refused the chain too." in agreement
    assert clinic.COLOURS["error"] in agreement and clinic.COLOURS["ok"] not in agreement
    verified = clinic.examine(clinic.example("good").data)
    assert clinic.COLOURS["ok"] in verified._repr_html_().rsplit("<p", 1)[1]
