"""The Expressway's certificate store (guide chapters 6 and 7): every rule with real certificates and keys."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from conftest import run_openssl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from labkit import InputError, LabError, PasswordError, PolicyError, lab
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
from labkit.expressway.node import ExpresswayNode
from labkit.expressway.server_certificate import ServerCertificateSlot
from labkit.expressway.store import CertificateStore
from labkit.expressway.trusted_list import ChainCheck, TrustedCaList
from labkit.expressway.upload import Findings
from labkit.x509 import decode
from labkit.x509.certs import CertSpec, Issued, issue, request, sign_request

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER


# -- material ------------------------------------------------------------------------------------------------------

@pytest.fixture
def pki():
    """A root, an issuing CA under it, and an Expressway-E certificate with its key (fixture keys, lab clock)."""
    root = issue(CertSpec("labkit Root CA", ca=True, days=3650), lab.fixture_key("root-ca"))
    issuing = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0, days=1825), lab.fixture_key("issuing-ca"),
                    root)
    server = issue(CertSpec("expe.lab.example"), lab.fixture_key("expe-1"), issuing)
    return root, issuing, server


def chain_pem(pki) -> bytes:
    root, issuing, _ = pki
    return issuing.cert_pem() + root.cert_pem()


def key_pem(key, password: bytes | None = None, fmt=serialization.PrivateFormat.PKCS8) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(PEM, fmt, encryption)


def build(subject: x509.Name, public_key, issuer: Issued | None = None, *, signer=None, ca: bool | None = None,
          serial: int = 0x7000, digest=hashes.SHA256) -> x509.Certificate:
    """A certificate with exactly the parts a test needs (no CN, no basicConstraints ...)."""
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.certificate.subject if issuer else subject).public_key(public_key)
               .serial_number(serial).not_valid_before(lab.now()).not_valid_after(lab.now() + dt.timedelta(days=90)))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    return builder.sign(signer or issuer.key, digest())


def name(*pairs) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def self_signed_ca(cn: str, key_name: str) -> x509.Certificate:
    return issue(CertSpec(cn, ca=True), lab.fixture_key(key_name)).certificate


# -- the trusted CA list: Append ---------------------------------------------------------------------------------

def test_append_a_pem_bundle_lists_views_and_trusts_the_chain(pki):
    root, issuing, server = pki
    trusted = TrustedCaList()
    findings = trusted.append(chain_pem(pki))
    assert isinstance(findings, Findings) and findings == [] and str(findings) == "no warnings"
    assert trusted.certificates == (issuing.certificate, root.certificate) == trusted.entries
    table = trusted.list()
    assert list(table.columns) == ["subject", "issuer", "expires", "SHA-256 fingerprint", "self-signed",
                                   "basicConstraints", "in use"]
    assert table.loc[1].to_dict() == {
        "subject": "labkit Root CA", "issuer": "labkit Root CA", "expires": "2036-01-03 09:00",
        "SHA-256 fingerprint": decode.fingerprint(root.certificate)[:23] + "...", "self-signed": True,
        "basicConstraints": "CA:TRUE", "in use": "yes"}
    assert trusted.view(1) == decode.text(root.certificate)
    assert trusted.view(table.loc[1, "SHA-256 fingerprint"]) == decode.text(root.certificate)
    assert trusted.view(decode.fingerprint_line(root.certificate)) == decode.text(root.certificate)
    assert trusted.view(root.certificate) == trusted.view(decode.fingerprint(root.certificate, "sha1"))
    assert trusted.view() == decode.text(issuing.certificate) + decode.text(root.certificate)
    assert trusted.pem().encode() == chain_pem(pki)
    verdict = trusted.chain_check(server.certificate)
    assert isinstance(verdict, ChainCheck) and verdict.ok
    assert verdict.path == (server.certificate, issuing.certificate, root.certificate)
    assert repr(trusted) == "TrustedCaList(2 certificates)"


@pytest.mark.parametrize("make, hint", [
    (lambda pki: pki[0].certificate.public_bytes(DER), "openssl x509 -inform DER"),
    (lambda pki: pki[0].key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
     "openssl pkey -inform DER"),
    (lambda pki: b"MIIB just some text\n", "no '-----BEGIN' line"),
    (lambda pki: b"\x30\x03\x02\x01\x05", "PKCS#12"),
])
def test_append_refuses_what_is_not_pem(pki, make, hint):
    trusted = TrustedCaList()
    with pytest.raises(InputError) as error:
        trusted.append(make(pki))
    assert error.value.rule == "pem-only" and hint in str(error.value) and "chapter 7" in error.value.chapter
    assert len(trusted) == 0


def test_append_refuses_other_pem_types_and_appends_nothing_then(pki):
    root, _, server = pki
    csr = CsrRequest(role="expressway-e", fqdn="expe.lab.example", **LAB_SUBJECT)
    from labkit.expressway.csr import build_csr

    request = build_csr(csr, lab.fixture_key("expe-1")).public_bytes(PEM)
    trusted = TrustedCaList()
    for data, label in ((root.cert_pem() + request, "CERTIFICATE REQUEST"),
                        (key_pem(server.key), "PRIVATE KEY"),
                        (key_pem(server.key, b"secret"), "ENCRYPTED PRIVATE KEY")):
        with pytest.raises(InputError) as error:
            trusted.append(data)
        assert error.value.rule == "trusted-ca-content" and error.value.value == label
    assert len(trusted) == 0
    with pytest.raises(InputError, match="empty"):
        trusted.append("  \n")
    assert trusted.append(b"# my CAs\n" + root.cert_pem()).rules() == ["pem-extra-text"]  # skipped, as OpenSSL does
    assert trusted.certificates == (root.certificate,)


def test_openssl_der_file_is_refused_until_converted_as_appendix_c_says(pki, openssl_bin, tmp_path):
    (tmp_path / "root.pem").write_bytes(pki[0].cert_pem())
    run_openssl("x509", "-in", "root.pem", "-outform", "DER", "-out", "root.cer", cwd=tmp_path)
    trusted = TrustedCaList()
    with pytest.raises(InputError, match="pem-only"):
        trusted.append(tmp_path / "root.cer")
    run_openssl("x509", "-inform", "DER", "-in", "root.cer", "-out", "root-again.pem", cwd=tmp_path)
    assert trusted.append(tmp_path / "root-again.pem") == []
    assert trusted.certificates == (pki[0].certificate,)


def test_several_ca_certificates_with_one_cn_are_warned_about(pki):
    root, issuing, server = pki
    renewed = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0, days=1825), lab.fixture_key("issuing-ca"),
                    root)
    trusted = TrustedCaList()
    trusted.append(chain_pem(pki))
    findings = trusted.append(renewed.cert_pem())
    assert findings.rules() == ["trusted-duplicate-cn"]
    assert findings[0].severity == "warning" and "chapter 7" in findings[0].chapter
    assert "2 CA certificates" in findings[0].message and "delete the old one" in findings[0].message
    assert len(trusted.certificates) == 3  # both issuing CAs stay in use: they are not self-signed
    assert trusted.chain_check(server.certificate)


def test_the_same_certificate_twice_is_kept_once(pki):
    trusted = TrustedCaList()
    trusted.append(chain_pem(pki))
    assert trusted.append(chain_pem(pki)).rules() == ["trusted-already-present"] * 2
    assert len(trusted) == 2


def test_a_ca_without_basic_constraints_is_flagged_and_signs_nothing_trusted(pki):
    root, issuing, _ = pki
    legacy_key = lab.fixture_key("rogue-ca")
    legacy = Issued(build(name((NameOID.COMMON_NAME, "labkit Legacy CA")), legacy_key.public_key(), issuing),
                    legacy_key)
    leaf = build(name((NameOID.COMMON_NAME, "old.lab.example")), lab.fixture_key("trainee").public_key(), legacy,
                 serial=0x7001)
    trusted = TrustedCaList()
    trusted.append(chain_pem(pki))
    findings = trusted.append(legacy.cert_pem())
    assert findings.rules() == ["ca-no-basic-constraints"] and findings[0].severity == "error"
    assert "missing" in findings[0].message and "chapter 2" in findings[0].chapter
    assert trusted.list().loc[2, "basicConstraints"] == "missing"
    verdict = trusted.chain_check(leaf)
    assert not verdict and "basicConstraints" in verdict.reason


def test_ca_false_is_an_error_on_an_issued_certificate_and_a_warning_on_a_self_signed_one(pki):
    _, _, server = pki
    trusted = TrustedCaList()
    issued = trusted.append(server.cert_pem())
    assert issued.rules() == ["ca-no-basic-constraints"] and issued[0].severity == "error"
    assert "CA:FALSE" in issued[0].message
    own = issue(CertSpec("ucm.lab.example"), lab.fixture_key("ucm"))  # a server's own self-signed certificate
    found = trusted.append(own.cert_pem())
    assert found.rules() == ["ca-no-basic-constraints"] and found[0].severity == "warning"
    assert trusted.chain_check(own.certificate)  # trusted as itself


def test_an_openssl_made_ca_without_extensions_is_flagged(openssl_bin, tmp_path):
    (tmp_path / "old.key.pem").write_bytes(key_pem(lab.fixture_key("rogue-ca")))
    run_openssl("req", "-x509", "-new", "-key", "old.key.pem", "-subj", "/CN=Old CA", "-days", "30", "-config",
                "/dev/null", "-out", "old.pem", cwd=tmp_path)
    shown = run_openssl("x509", "-in", "old.pem", "-noout", "-ext", "basicConstraints", cwd=tmp_path)
    assert b"No extensions" in shown.stdout + shown.stderr
    lab.clock.set(lab.now_real())  # OpenSSL dated it with the real clock
    findings = TrustedCaList().append(tmp_path / "old.pem")
    assert findings.rules() == ["ca-no-basic-constraints"]


def test_an_expired_ca_certificate_is_flagged():
    old = issue(CertSpec("Old Root", ca=True, days=30, start_offset_days=-60), lab.fixture_key("rogue-ca"))
    assert TrustedCaList().append(old.cert_pem()).rules() == ["expired"]


# -- the self-signed same-CN conflict (chapter 4) -----------------------------------------------------------------

def test_callmanager_and_tomcat_self_signed_with_one_cn_only_the_last_appended_is_trusted():
    callmanager = self_signed_ca("ucm.lab.example", "ucm")
    tomcat = self_signed_ca("ucm.lab.example", "imp")
    trusted = TrustedCaList()
    assert trusted.append(callmanager) == []
    findings = trusted.append(tomcat)
    assert findings.rules() == ["self-signed-same-cn"] and "chapter 4" in findings[0].chapter
    assert "#0" in findings[0].message and "appended last" in findings[0].message
    assert trusted.entries == (callmanager, tomcat) and trusted.certificates == (tomcat,)
    assert list(trusted.list()["in use"]) == ["no: #1 has the same CN", "yes"]
    refused = trusted.chain_check(callmanager)
    assert not refused and "#1" in refused.reason
    assert trusted.chain_check(tomcat)
    assert repr(trusted) == "TrustedCaList(2 certificates, 1 not in use)"
    trusted.delete(tomcat)  # delete the newer one by hand: the older one is used again
    assert trusted.certificates == (callmanager,) and trusted.chain_check(callmanager)


def test_a_same_name_root_pushes_the_real_root_aside(pki):
    root, issuing, server = pki
    impostor = self_signed_ca("labkit Root CA", "rogue-ca")
    store = CertificateStore()
    store.trusted.append(chain_pem(pki))
    assert store.trusted.append(impostor).rules() == ["self-signed-same-cn"]
    verdict = store.chain_check(server.certificate)
    assert not verdict and "another CA with the same name" in verdict.reason


def test_openssl_self_signed_pair_with_one_cn_conflicts(openssl_bin, tmp_path):
    for key in ("ucm", "imp"):
        (tmp_path / f"{key}.key.pem").write_bytes(key_pem(lab.fixture_key(key)))
        run_openssl("req", "-x509", "-new", "-key", f"{key}.key.pem", "-subj", "/CN=ucm.lab.example", "-days", "30",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-out", f"{key}.pem", cwd=tmp_path)
    lab.clock.set(lab.now_real())
    trusted = TrustedCaList()
    trusted.append(tmp_path / "ucm.pem")
    assert trusted.append(tmp_path / "imp.pem").rules() == ["self-signed-same-cn"]
    assert not trusted.chain_check(tmp_path / "ucm.pem").ok and trusted.chain_check((tmp_path / "imp.pem").read_text())


# -- full chain, delete, reset, CRLs ----------------------------------------------------------------------------

def test_the_full_chain_to_a_root_is_required_as_openssl_verify_does(pki, openssl_bin, tmp_path):
    from labkit.x509.openssl import attime

    root, issuing, server = pki
    trusted = TrustedCaList()
    trusted.append(issuing.cert_pem())
    verdict = trusted.chain_check(server.certificate)
    assert not verdict and "root" in verdict.reason
    (tmp_path / "server.pem").write_bytes(server.cert_pem())
    (tmp_path / "trusted.pem").write_text(trusted.pem())
    with pytest.raises(subprocess.CalledProcessError) as refused:  # no root for the partial chain
        run_openssl("verify", "-attime", attime(), "-CAfile", "trusted.pem", "server.pem", cwd=tmp_path)
    assert b"unable to get issuer certificate" in refused.value.stderr + refused.value.stdout
    trusted.append(root.cert_pem())
    assert trusted.chain_check(server.certificate)
    (tmp_path / "trusted.pem").write_text(trusted.pem())
    done = run_openssl("verify", "-attime", attime(), "-CAfile", "trusted.pem", "server.pem", cwd=tmp_path)
    assert done.stdout.strip().endswith(b"OK")


def test_missing_issuer_is_named_and_an_empty_list_trusts_nothing(pki):
    root, issuing, server = pki
    trusted = TrustedCaList()
    assert "empty" in trusted.chain_check(server.certificate).reason
    trusted.append(root.cert_pem())
    reason = trusted.chain_check(server.certificate).reason
    assert "'labkit Issuing CA', which issued 'expe.lab.example', is not in the trusted CA list" in reason


def test_an_expired_certificate_does_not_chain():
    root = issue(CertSpec("Lab Root", ca=True, days=3650), lab.fixture_key("root-ca"))
    old = issue(CertSpec("old.lab.example", days=10, start_offset_days=-20), lab.fixture_key("trainee"), root)
    trusted = TrustedCaList([root.certificate])
    verdict = trusted.chain_check(old.certificate)
    assert not verdict and "validity period" in verdict.reason


def test_delete_by_number_fingerprint_or_object_and_refuse_unknown_entries(pki):
    root, issuing, _ = pki
    trusted = TrustedCaList()
    trusted.append(chain_pem(pki))
    with pytest.raises(InputError, match="numbered from 0"):
        trusted.delete(2)
    with pytest.raises(InputError, match="first 4 bytes"):
        trusted.view("AB:CD")
    with pytest.raises(InputError, match="no entry has"):
        trusted.delete("00:00:00:00:00")
    with pytest.raises(InputError):
        trusted.delete()
    assert trusted.delete(decode.fingerprint(issuing.certificate)) == (issuing.certificate,)
    assert trusted.delete(0) == (root.certificate,) and len(trusted) == 0


def test_reset_goes_back_to_the_default_list(pki):
    root, issuing, _ = pki
    trusted = TrustedCaList()
    trusted.append(chain_pem(pki))
    trusted.reset()
    assert trusted.entries == ()
    with_default = TrustedCaList([root.certificate])
    with_default.append(issuing.cert_pem())
    with_default.reset()
    assert with_default.entries == (root.certificate,)


def test_a_crl_in_the_trusted_ca_file_is_kept_with_the_list(pki):
    root, issuing, _ = pki
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.certificate.subject)
           .last_update(lab.now()).next_update(lab.now() + dt.timedelta(days=7)).sign(root.key, hashes.SHA256()))
    trusted = TrustedCaList()
    findings = trusted.append(root.cert_pem() + crl.public_bytes(PEM))
    assert findings.rules() == ["trusted-embedded-crl"] and trusted.crls == (crl,)
    trusted.reset()
    assert trusted.crls == ()


# -- the server certificate (chapter 7) ---------------------------------------------------------------------------

def trusted_store(pki, node=None) -> CertificateStore:
    store = CertificateStore(node)
    store.trusted.append(chain_pem(pki))
    return store


def test_upload_with_its_key_needs_a_restart_and_shows_the_certificate(pki):
    _, _, server = pki
    store = trusted_store(pki)
    assert store.server.current_certificate is None and not store.server.restart_required
    assert store.server.upload(server.cert_pem(), key_pem(server.key)) == []
    assert store.server.current_certificate == server.certificate
    assert store.server.restart_required and store.server.active_certificate is None
    assert store.server.view() == decode.text(server.certificate)
    assert store.server.pem().encode() == server.cert_pem()
    assert "restart required" in repr(store.server)
    assert store.server.restart().startswith("Restarted: the Expressway now presents 'expe.lab.example'")
    assert not store.server.restart_required and store.server.active_certificate == server.certificate


def test_view_before_any_upload_says_there_is_none():
    with pytest.raises(LabError) as error:
        CertificateStore().server.view()
    assert "chapter 6" in error.value.chapter


def test_a_key_that_does_not_match_is_refused_and_nothing_changes(pki):
    _, _, server = pki
    store = trusted_store(pki)
    with pytest.raises(PolicyError) as error:
        store.server.upload(server.cert_pem(), key_pem(lab.fixture_key("expe-2")))
    assert error.value.rule == "key-mismatch" and "chapter 7" in error.value.chapter
    assert store.server.current_certificate is None and not store.server.restart_required


def test_openssl_and_labkit_agree_on_which_key_matches(pki, openssl_bin, tmp_path):
    _, _, server = pki
    (tmp_path / "server.pem").write_bytes(server.cert_pem())
    (tmp_path / "right.key.pem").write_bytes(key_pem(server.key))
    (tmp_path / "wrong.key.pem").write_bytes(key_pem(lab.fixture_key("expe-2")))
    cert_public = run_openssl("x509", "-in", "server.pem", "-noout", "-pubkey", cwd=tmp_path).stdout
    for key_file, matches in (("right.key.pem", True), ("wrong.key.pem", False)):
        key_public = run_openssl("pkey", "-in", key_file, "-pubout", cwd=tmp_path).stdout
        assert (key_public == cert_public) is matches
        store = trusted_store(pki)
        if matches:
            store.server.upload(tmp_path / "server.pem", tmp_path / key_file)
        else:
            with pytest.raises(PolicyError, match="key-mismatch"):
                store.server.upload(tmp_path / "server.pem", tmp_path / key_file)


@pytest.mark.parametrize("fmt", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL])
def test_a_passphrase_protected_key_is_refused(pki, fmt):
    _, _, server = pki
    store = trusted_store(pki)
    with pytest.raises(PasswordError) as error:
        store.server.upload(server.cert_pem(), key_pem(server.key, b"labkit", fmt))
    assert error.value.rule == "key-no-passphrase" and "openssl pkey" in str(error.value)


def test_openssl_encrypted_key_is_refused_and_accepted_once_decrypted(pki, openssl_bin, tmp_path):
    _, _, server = pki
    (tmp_path / "plain.key.pem").write_bytes(key_pem(server.key))
    run_openssl("pkey", "-in", "plain.key.pem", "-aes256", "-passout", "pass:labkit", "-out", "protected.key.pem",
                cwd=tmp_path)
    store = trusted_store(pki)
    with pytest.raises(PasswordError, match="key-no-passphrase"):
        store.server.upload(server.cert_pem(), tmp_path / "protected.key.pem")
    run_openssl("pkey", "-in", "protected.key.pem", "-passin", "pass:labkit", "-out", "again.key.pem", cwd=tmp_path)
    assert store.server.upload(server.cert_pem(), tmp_path / "again.key.pem") == []


def test_no_key_upload_while_a_csr_is_pending_the_certificate_goes_to_the_node(pki):
    _, issuing, _ = pki
    node = ExpresswayNode("expe.lab.example", "expressway-e")
    csr = node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", **LAB_SUBJECT),
                            key=lab.fixture_key("expe-1"))
    signed = sign_request(csr, issuing)
    store = trusted_store(pki, node)
    with pytest.raises(PolicyError) as error:
        store.server.upload(signed.cert_pem(), key_pem(lab.fixture_key("expe-1")))
    assert error.value.rule == "key-while-csr-pending" and node.pending_csr is not None
    other = sign_request(request(CertSpec("expe.lab.example"), lab.fixture_key("expe-2")), issuing)
    with pytest.raises(PolicyError, match="key-mismatch"):  # the node refuses a certificate for another key
        store.server.upload(other.cert_pem())
    findings = store.server.upload(signed.cert_pem())  # sign_request keeps C, O and CN only: the page says so
    assert [(f.rule, f.severity) for f in findings] == [("csr-subject-rewritten", "info")]
    assert "ST 'England' dropped" in findings[0].message
    assert node.pending_csr is None and node.certificate == signed.certificate
    assert store.server.current_certificate == signed.certificate and store.server.restart_required
    # the next certificate for the same key needs no key file: the node keeps the key
    renewed = sign_request(csr, issuing)
    assert store.server.upload(renewed.cert_pem()) == []
    with pytest.raises(PolicyError, match="key-mismatch"):
        store.server.upload(other.cert_pem())


def test_a_certificate_alone_needs_a_key_in_place(pki):
    _, issuing, server = pki
    store = trusted_store(pki)
    with pytest.raises(PolicyError, match="key-required"):
        store.server.upload(server.cert_pem())
    store.server.upload(server.cert_pem(), key_pem(server.key))
    renewed = issue(CertSpec("expe.lab.example"), server.key, issuing)  # same key, new certificate
    assert store.server.upload(renewed.cert_pem()) == []
    assert store.server.current_certificate == renewed.certificate


def test_a_key_file_without_a_trailing_newline_is_warned_about(pki):
    _, _, server = pki
    store = trusted_store(pki)
    findings = store.server.upload(server.cert_pem(), key_pem(server.key).rstrip(b"\n"))
    assert findings.rules() == ["key-trailing-newline"] and "appendix A" in findings[0].chapter
    assert store.server.last_warnings == findings and store.server.current_certificate == server.certificate
    assert store.server.upload(server.cert_pem(), key_pem(server.key)) == []


def test_security_level_warnings_for_a_short_key_and_a_sha1_signature(pki):
    from labkit.chapters.ch03_expressway_certificates import specimens

    store = trusted_store(pki)
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak = issue(CertSpec("expe.lab.example"), short, pki[1])
    findings = store.server.upload(weak.cert_pem(), key_pem(short))
    assert findings.rules() == ["security-level"] and "1024-bit" in findings[0].message
    sha1 = next(s.certificate for s in specimens() if s.name == "sha1")
    findings = store.server.upload(sha1.public_bytes(PEM), key_pem(lab.fixture_key("expe-1")))
    assert findings.rules() == ["security-level", "ca-not-recognised"] and "SHA-1 signature" in findings[0].message


def test_a_missing_cn_is_warned_about_and_raises_an_alarm(pki):
    _, issuing, server = pki
    store = trusted_store(pki)
    key = lab.fixture_key("expe-2")
    no_cn = build(name((NameOID.ORGANIZATION_NAME, "labkit")), key.public_key(), issuing)
    findings = store.server.upload(no_cn.public_bytes(PEM), key_pem(key))
    assert findings.rules() == ["cn-missing"] and "MRA" in findings[0].message
    assert store.server.alarms and "no CN" in store.server.alarms[0]
    store.server.upload(server.cert_pem(), key_pem(server.key))
    assert store.server.alarms == ()


def test_a_ca_the_trusted_list_does_not_know_is_warned_about(pki):
    _, _, server = pki
    store = CertificateStore()
    findings = store.server.upload(server.cert_pem(), key_pem(server.key))
    assert findings.rules() == ["ca-not-recognised"] and "empty" in findings[0].message
    store.trusted.append(pki[0].cert_pem())
    findings = store.server.upload(server.cert_pem(), key_pem(server.key))
    assert "labkit Issuing CA" in findings[0].message


def test_the_certificate_file_holds_one_pem_certificate(pki):
    _, _, server = pki
    store = trusted_store(pki)
    cases = {
        "pem-only": server.certificate.public_bytes(DER),
        "server-certificate-single": server.cert_pem() + chain_pem(pki),
    }
    for rule, data in cases.items():
        with pytest.raises(InputError) as error:
            store.server.upload(data, key_pem(server.key))
        assert error.value.rule == rule
    with pytest.raises(InputError, match="private key as well"):
        store.server.upload(server.cert_pem() + key_pem(server.key), key_pem(server.key))
    with pytest.raises(InputError, match="pem-only"):
        store.server.upload(server.cert_pem(), server.key.private_bytes(DER, serialization.PrivateFormat.PKCS8,
                                                                        serialization.NoEncryption()))
    with pytest.raises(InputError, match="one private key"):
        store.server.upload(server.cert_pem(), server.cert_pem())


def test_the_private_key_is_never_exposed(pki):
    _, _, server = pki
    store = trusted_store(pki)
    store.server.upload(server.cert_pem(), key_pem(server.key))
    for owner in (store, store.server, store.trusted):
        for attribute in (a for a in dir(owner) if not a.startswith("_")):
            value = getattr(owner, attribute)
            assert not isinstance(value, rsa.RSAPrivateKey), attribute
            if callable(value) and attribute in ("view", "pem", "list", "certificates"):
                assert "PRIVATE KEY" not in str(value())
    assert "PRIVATE" not in repr(store) and not hasattr(store.server, "current_key")
    with pytest.raises(AttributeError):
        store.server.current_key = server.key  # __slots__: no new attributes either
    assert isinstance(store.server, ServerCertificateSlot)


# -- widgets, headless --------------------------------------------------------------------------------------------

def test_trusted_ca_page_appends_views_deletes_and_resets(pki):
    from labkit.widgets.store import trusted_ca_page

    store = CertificateStore()
    page = trusted_ca_page(store)
    assert "empty" in page.table.value and "Trusted CA certificate page" in repr(page)
    page.pem.value = chain_pem(pki).decode()
    page.append.click()
    assert "labkit Root CA" in page.table.value and len(store.trusted) == 2
    page.upload.value = ({"name": "root.cer", "type": "", "size": 1, "last_modified": lab.now(),
                          "content": memoryview(pki[0].certificate.public_bytes(DER))},)
    page.append.click()
    assert "pem-only" in page.pane.value and "Traceback" not in page.pane.value
    page.which.value = "1"
    page.view.click()
    assert "Subject: C = GB, O = labkit, CN = labkit Root CA" in page.pane.value
    page.which.value = decode.fingerprint(pki[1].certificate)[:11]
    page.delete.click()
    assert "Deleted: CN=labkit Issuing CA" in page.pane.value and len(store.trusted) == 1
    page.which.value = "7"
    page.delete.click()
    assert "trusted-entry" in page.pane.value
    page.reset.click()
    assert len(store.trusted) == 0 and "empty" in page.table.value


def test_trusted_ca_page_shows_the_findings_of_an_append():
    from labkit.widgets.store import trusted_ca_page

    page = trusted_ca_page(CertificateStore())
    for key in ("ucm", "imp"):
        page.pem.value = self_signed_ca("ucm.lab.example", key).public_bytes(PEM).decode()
        page.append.click()
    assert "self-signed-same-cn" in page.pane.value and "no: #1 has the same CN" in page.table.value


def test_server_certificate_page_uploads_warns_and_restarts(pki):
    from labkit.widgets.store import server_certificate_page

    _, _, server = pki
    store = trusted_store(pki)
    page = server_certificate_page(store)
    assert "no server certificate yet" in page.decoded.value and "Server certificate page" in repr(page)
    page.cert_text.value = server.cert_pem().decode()
    page.key_text.value = key_pem(server.key).decode().rstrip("\n")
    page.upload.click()
    assert "key-trailing-newline" in page.pane.value and "Restart required" in page.status.value
    assert "Subject: C = GB, O = labkit, CN = expe.lab.example" in page.decoded.value
    assert "BEGIN CERTIFICATE" in page.pem.value
    page.restart.click()
    assert "Restarted" in page.pane.value and "Restart required" not in page.status.value
    page.key_text.value = key_pem(lab.fixture_key("expe-2")).decode()
    page.upload.click()
    assert "key-mismatch" in page.pane.value and "Traceback" not in page.pane.value


def test_server_certificate_page_takes_uploaded_files(pki):
    from labkit.widgets.store import server_certificate_page

    _, _, server = pki
    page = server_certificate_page(trusted_store(pki))

    def file(data: bytes) -> tuple:
        return ({"name": "f.pem", "type": "", "size": len(data), "last_modified": lab.now(),
                 "content": memoryview(data)},)

    page.cert_file.value = file(server.cert_pem())
    page.key_file.value = file(key_pem(server.key))
    page.upload.click()
    assert "Files uploaded." in page.pane.value and page.cert_file.value == ()


# -- exercises 06.1-06.3 ------------------------------------------------------------------------------------------

def test_exercise_06_1_wants_exactly_the_full_chain(pki):
    from labkit.chapters.ch06_loading_certificates import _full_chain  # noqa: F401 -- registers 06.x
    from labkit.exercises import check

    root, issuing, server = pki
    store = CertificateStore()
    store.trusted.append(issuing.cert_pem())
    assert not check("06.1", store, certificate=server.certificate)
    store.trusted.append(root.cert_pem())
    assert check("06.1", store, certificate=server.certificate)
    store.trusted.append(self_signed_ca("Someone Else", "rogue-ca"))
    assert "does not need" in check("06.1", store.trusted, certificate=server.certificate).message


def test_exercise_06_2_wants_both_unified_cm_certificates_trusted(pki):
    from labkit.chapters.ch06_loading_certificates import _both_trusted  # noqa: F401
    from labkit.exercises import check

    callmanager, tomcat = self_signed_ca("ucm.lab.example", "ucm"), self_signed_ca("ucm.lab.example", "imp")
    store = CertificateStore()
    store.trusted.append(callmanager)
    store.trusted.append(tomcat)
    result = check("06.2", store, callmanager=callmanager, tomcat=tomcat)
    assert not result and result.message.startswith("CallManager:")
    cm = issue(CertSpec("ucm.lab.example"), lab.fixture_key("ucm"), pki[1]).certificate
    tc = issue(CertSpec("ucm.lab.example"), lab.fixture_key("imp"), pki[1]).certificate
    store.trusted.append(chain_pem(pki))
    assert check("06.2", store, callmanager=cm, tomcat=tc)
    assert not check("06.2", store, callmanager=cm, tomcat=cm)


def test_exercise_06_3_needs_discard_decrypt_chain_upload_and_restart(tmp_path):
    from labkit.chapters.ch06_loading_certificates import delivery
    from labkit.exercises import check

    parcel = delivery(tmp_path)
    assert "passphrase: labkit" in str(parcel)
    assert "discard the CSR" in check("06.3", parcel).message
    parcel.store.node.discard_csr()
    with pytest.raises(PasswordError):
        parcel.store.server.upload(parcel.certificate_file, parcel.key_file)
    protected = serialization.load_pem_private_key(parcel.key_file.read_bytes(), password=b"labkit")
    plain = key_pem(protected)
    parcel.store.server.upload(parcel.certificate_file, plain.rstrip(b"\n"))
    assert "key-trailing-newline, ca-not-recognised" in check("06.3", parcel).message
    parcel.store.trusted.append(parcel.chain_file)
    parcel.store.server.upload(parcel.certificate_file, plain)
    assert "one step is left" in check("06.3", parcel).message
    parcel.store.server.restart()
    assert check("06.3", parcel)


# -- clientAuth on the server certificate, release by release (X14.0, X15.4, X15.5) ------------------------------

@pytest.fixture(scope="module")
def eku_material(tmp_path_factory):
    """An openssl-made CA, and for one key a serverAuth-only, a clientAuth-only and a client-and-server
    certificate signed by it with `openssl x509 -req` (what a public CA returns since 2026, an X15.5 client
    certificate, and appendix E's template)."""
    folder = tmp_path_factory.mktemp("eku")
    key = folder / "expe.key"
    key.write_bytes(key_pem(lab.fixture_key("expe-1")))
    run_openssl("req", "-x509", "-new", "-key", key, "-subj", "/O=Lab/CN=EKU Root", "-days", "3650",
                "-addext", "basicConstraints=critical,CA:true", "-out", folder / "ca.pem")
    run_openssl("req", "-new", "-key", key, "-subj", "/O=Lab/CN=expe.lab.example", "-out", folder / "expe.csr")
    made = {}
    for name, usage in (("server-only", "serverAuth"), ("client-only", "clientAuth"),
                        ("both", "serverAuth,clientAuth")):
        (folder / f"{name}.ext").write_text(f"extendedKeyUsage = {usage}\nsubjectAltName = DNS:expe.lab.example\n")
        run_openssl("x509", "-req", "-in", folder / "expe.csr", "-CA", folder / "ca.pem", "-CAkey", key,
                    "-set_serial", str(0x4000 + len(made)), "-days", "365", "-extfile", folder / f"{name}.ext",
                    "-out", folder / f"{name}.pem")
        made[name] = (folder / f"{name}.pem").read_bytes()
    made["key"], made["ca"] = key.read_bytes(), (folder / "ca.pem").read_bytes()
    return made


def eku_store(material, **settings) -> CertificateStore:
    lab.use_lab_time(lab.now_real())  # openssl made the material at the machine's clock
    store = CertificateStore(**settings)
    store.trusted.append(material["ca"])
    return store


def test_x14_refuses_a_server_certificate_without_client_auth_while_uc_is_on(eku_material):
    store = eku_store(eku_material, unified_communications=True)
    with pytest.raises(PolicyError) as error:
        store.server.upload(eku_material["server-only"], eku_material["key"])
    assert error.value.rule == "server-certificate-client-auth" and "Administrator Guide X14" in error.value.chapter
    assert store.server.current_certificate is None and not store.server.restart_required  # nothing changed
    assert store.server.upload(eku_material["both"], eku_material["key"]) == []
    assert eku_store(eku_material).server.upload(eku_material["server-only"], eku_material["key"]) == []  # UC off


def test_x15_4_accepts_server_auth_only_on_an_expressway_e_with_the_switch(eku_material):
    edge = eku_store(eku_material, version="X15.4", unified_communications=True)
    edge.settings._role = "expressway-e"
    with pytest.raises(PolicyError, match="EnableServerEkuUpload"):
        edge.server.upload(eku_material["server-only"], eku_material["key"])
    edge.settings.server_eku_upload = True
    found = edge.server.upload(eku_material["server-only"], eku_material["key"])
    assert found.rules() == ["server-certificate-client-auth"] and found[0].severity == "warning"
    lab.use_lab_time(lab.now_real())
    core = ExpresswayNode("expc.lab.example", "expressway-c", version="X15.4", unified_communications=True)
    inside = CertificateStore(core, server_eku_upload=True)
    inside.trusted.append(eku_material["ca"])
    with pytest.raises(PolicyError, match="server-certificate-client-auth"):  # the switch is the E's only
        inside.server.upload(eku_material["server-only"], eku_material["key"])


def test_x15_5_takes_server_auth_only_and_keeps_a_separate_client_certificate(eku_material):
    store = eku_store(eku_material, version="X15.5", unified_communications=True)
    found = store.server.upload(eku_material["server-only"], eku_material["key"])
    assert found.rules() == ["server-certificate-client-auth"] and found[0].severity == "info"
    store.server.restart()
    assert store.tls_client_certificate == store.server.active_certificate  # no client certificate yet
    with pytest.raises(PolicyError, match="client-certificate-client-auth"):
        store.client.upload(eku_material["server-only"], eku_material["key"])
    assert store.client.upload(eku_material["client-only"], eku_material["key"]) == []
    assert store.tls_client_certificate == store.client.certificate != store.server.active_certificate
    with pytest.raises(PolicyError, match="client-certificate-store"):
        eku_store(eku_material).client.upload(eku_material["client-only"], eku_material["key"])


def test_the_node_decides_the_version_and_uc_mode_of_its_store(pki):
    _, issuing, _ = pki
    node = ExpresswayNode("expe.lab.example", "expressway-e", version="X15.5", unified_communications=True)
    csr = node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", version="X15.5",
                                       **LAB_SUBJECT), key=lab.fixture_key("expe-1"))
    server_only = issue(CertSpec("expe.lab.example", client_auth=False), csr.public_key(), issuing)
    store = trusted_store(pki, node)
    found = store.server.upload(server_only.cert_pem())
    # X15.5 takes it and says so once: no csr-eku-dropped error beside it (the CA's dropped O/OU stay an info)
    assert store.settings.version == "X15.5" and found.rules() == ["server-certificate-client-auth",
                                                                   "csr-subject-rewritten"]
    assert [f.severity for f in found] == ["info", "info"]
    node.unified_communications = False
    assert store.settings.unified_communications is False


def test_the_trusted_list_warns_on_a_ca_past_2050_as_doctor_does(openssl_bin, tmp_path):
    key = tmp_path / "root.key"
    key.write_bytes(key_pem(lab.fixture_key("root-ca")))
    run_openssl("req", "-x509", "-new", "-key", key, "-subj", "/O=Lab/CN=Long Root", "-days", "12000",
                "-addext", "basicConstraints=critical,CA:true", "-out", tmp_path / "long.pem")
    lab.use_lab_time(lab.now_real())  # openssl made it at the machine's clock
    found = TrustedCaList().append(tmp_path / "long.pem")
    assert found.rules() == ["expires-after-2050"] and found[0].severity == "warning"
