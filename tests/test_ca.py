"""Guide appendices B-F: labkit's CA keeps OpenSSL's on-disk format, so `openssl ca` and labkit interoperate."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys

import pytest
from asserts import KEY_TYPES, assert_is_ca, assert_is_leaf, key_type_of
from conftest import run_cli, run_openssl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from labkit import InputError, PasswordError, PolicyError, lab
from labkit.ca import PROFILES, init_ca, open_ca, self_signed
from labkit.ca.database import IndexEntry, openssl_time, read_index
from labkit.x509.certs import CertSpec, request
from labkit.x509.openssl import attime

CRL_URL, OCSP_URL = "http://127.0.0.1:8080/issuing.crl", "http://127.0.0.1:8081/ocsp"


@pytest.fixture
def pki(tmp_path):
    """A two-tier PKI as in the notebooks: root CA and issuing CA with revocation URLs, fixture keys, lab clock."""
    root = init_ca(tmp_path / "root", "labkit Root CA", key=lab.fixture_key("root-ca"))
    issuing = init_ca(tmp_path / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root,
                      crl_url=CRL_URL, ocsp_url=OCSP_URL)
    return root, issuing


def csr_for(name: str = "expe.lab.example", key: str = "expe-1", **spec):
    return request(CertSpec(name, **spec), lab.fixture_key(key))


def copy_ca(ca, dest):
    """A copy of a CA directory for OpenSSL to work on (opening it points its openssl.cnf at the copy)."""
    shutil.copytree(ca.folder, dest)
    return open_ca(dest)


def write_pem(path, obj) -> str:
    path.write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    return str(path)


# -- layout and formats ----------------------------------------------------------------------------------------

def test_layout_is_openssls(pki):
    root, issuing = pki
    folder = issuing.folder
    for name in ("openssl.cnf", "index.txt", "index.txt.attr", "serial", "crlnumber", "certs/ca.cert.pem",
                 "private/ca.key.pem", "newcerts", "crl"):
        assert (folder / name).exists(), name
    assert stat.S_IMODE((folder / "private" / "ca.key.pem").stat().st_mode) == 0o600
    assert (folder / "index.txt.attr").read_text() == "unique_subject = no\n"
    assert (folder / "serial").read_text() == "1000\n" and (folder / "crlnumber").read_text() == "1000\n"
    # the root recorded itself (as `openssl ca -selfsign`) and the issuing CA it signed
    assert (root.folder / "index.txt").read_text() == (
        "V\t360103090000Z\t\t1000\tunknown\t/C=GB/O=labkit/CN=labkit Root CA\n"
        "V\t360103090000Z\t\t1001\tunknown\t/C=GB/O=labkit/CN=labkit Issuing CA\n")


def test_index_lines_round_trip_and_use_generalized_time_from_2050():
    line = "R\t261229005732Z\t261129005732Z,keyCompromise\t1000\tunknown\t/C=GB/O=Lab/CN=expe.lab.example"
    assert IndexEntry.parse(line).line() == line
    late = "V\t20510101000000Z\t\t1001\tunknown\t/C=GB/O=Lab/CN=expe.lab.example"
    entry = IndexEntry.parse(late)
    assert entry.expiry.year == 2051 and entry.line() == late and openssl_time(entry.expiry) == "20510101000000Z"
    with pytest.raises(InputError, match="index-line"):
        IndexEntry.parse("X\tjunk")


def test_root_and_issuing_ca_follow_the_two_tier_rules(pki):
    root, issuing = pki
    assert_is_ca(root.certificate)
    assert_is_ca(issuing.certificate, path_length=0)
    assert root.certificate.issuer == root.certificate.subject
    with pytest.raises(x509.ExtensionNotFound):
        root.certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    aki = issuing.certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = root.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    issuing.certificate.verify_directly_issued_by(root.certificate)


def test_two_cas_never_share_a_key(pki, tmp_path):
    root, _ = pki
    with pytest.raises(PolicyError, match="ca-own-key"):
        init_ca(tmp_path / "again", "Copy CA", key=lab.fixture_key("root-ca"), parent=root)
    with pytest.raises(InputError, match="ca-folder-empty"):
        init_ca(root.folder, "Another root", key=lab.fixture_key("rogue-ca"))


def test_the_same_lab_inputs_give_the_same_bytes(tmp_path):
    a = init_ca(tmp_path / "a", "labkit Root CA", key=lab.fixture_key("root-ca"))
    b = init_ca(tmp_path / "b", "labkit Root CA", key=lab.fixture_key("root-ca"))
    assert a.certificate == b.certificate
    assert a.sign(csr_for(), "server") == b.sign(csr_for(), "server")


# -- signing ---------------------------------------------------------------------------------------------------

def _expressway_like_csr():
    """A CSR like the Expressway's own: SANs, and it asks for serverAuth + clientAuth and a certificate policy."""
    key = lab.fixture_key("expe-1")
    return (x509.CertificateSigningRequestBuilder().subject_name(CertSpec("expe.lab.example").subject())
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                  x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
                x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), None)]), False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("expe.lab.example"),
                                                        x509.DNSName("expe1.lab.example")]), False)
            .sign(key, hashes.SHA256()))


@pytest.mark.parametrize("name", ["server", "client-server", "client", "ocsp-signing"])
@pytest.mark.parametrize("request_kind", ["san-only", "expressway-like"])
def test_each_profile_gives_the_extensions_openssl_gives_byte_for_byte(pki, name, request_kind, tmp_path,
                                                                       openssl_bin):
    _, issuing = pki
    csr = csr_for(sans=("expe1.lab.example", "10.0.0.5")) if request_kind == "san-only" else _expressway_like_csr()
    csr_path = write_pem(tmp_path / "x.csr", csr)
    copy_ca(issuing, tmp_path / "copy")
    ours = issuing.sign(csr, name)
    start, end = openssl_time(ours.not_valid_before_utc), openssl_time(ours.not_valid_after_utc)
    run_openssl("ca", "-batch", "-config", tmp_path / "copy" / "openssl.cnf", "-extensions",
                PROFILES[name].section, "-in", csr_path, "-startdate", start, "-enddate", end, "-notext",
                "-out", tmp_path / "openssl.pem")
    assert (tmp_path / "openssl.pem").read_bytes() == ours.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_a_signed_server_certificate_carries_the_csr_names_and_the_profile(pki, key_type):
    _, issuing = pki
    cert = issuing.sign(csr_for(sans=("expe1.lab.example",), key=KEY_TYPES[key_type]), "client-server")
    assert key_type_of(cert) == key_type
    assert_is_leaf(cert)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["expe.lab.example", "expe1.lab.example"]
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == CRL_URL
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert aia[0].access_location.value == OCSP_URL
    assert cert.not_valid_before_utc == lab.DEFAULT_INSTANT


def test_the_profile_overrides_the_requested_eku_and_other_extensions_are_copied(pki):
    _, issuing = pki
    cert = issuing.sign(_expressway_like_csr(), "server")
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == ["1.3.6.1.4.1.99999.1"]  # copied from the CSR


def test_an_issuing_ca_with_path_length_0_refuses_to_make_a_ca(pki):
    root, issuing = pki
    with pytest.raises(PolicyError, match="path-length"):
        issuing.sign(csr_for("sub.lab.example", key="rogue-ca"), "ca")
    assert issuing.entries() == []
    assert_is_ca(root.sign(csr_for("Second Issuing CA", key="rogue-ca"), "ca"), path_length=0)


def test_a_csr_asking_to_be_a_ca_gets_the_profile_not_its_wish(pki):
    _, issuing = pki
    key = lab.fixture_key("trainee")
    csr = (x509.CertificateSigningRequestBuilder().subject_name(CertSpec("evil.lab.example").subject())
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    cert = issuing.sign(csr, "server")
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_serials_continue_and_every_issue_is_recorded(pki):
    _, issuing = pki
    serials = [issuing.sign(csr_for(f"n{i}.lab.example"), "server").serial_number for i in range(3)]
    assert serials == [0x1000, 0x1001, 0x1002]
    assert [e.serial for e in issuing.entries()] == serials
    assert (issuing.folder / "serial").read_text() == "1003\n"
    assert issuing.issued("1001").subject.rfc4514_string() == "CN=n1.lab.example,O=labkit,C=GB"


def _openssl_policy_message(issuing, csr, tmp_path) -> str:
    """What `openssl ca` says about the same CSR under the same policy (on a copy of the directory)."""
    copy = copy_ca(issuing, tmp_path / "policy-copy").folder
    cnf = (copy / "openssl.cnf").read_text()
    (copy / "openssl.cnf").write_text(cnf.replace("policy                 = policy_anything",
                                                  "policy                 = policy_match"))
    done = subprocess.run(["openssl", "ca", "-batch", "-config", copy / "openssl.cnf", "-in",
                           write_pem(tmp_path / "p.csr", csr), "-out", tmp_path / "p.pem"], capture_output=True)
    assert done.returncode != 0
    lines = done.stderr.decode().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("The "))
    message = lines[start]
    if message.endswith("between") or message.endswith("in the"):
        message += " " + lines[start + 1]
    return message


@pytest.mark.parametrize("subject,rule", [
    ("/C=US/O=labkit", "policy-match"),   # different country
    ("/O=labkit", "policy-match"),         # country missing
    ("/C=GB/O=labkit", "policy-supplied"),  # no common name
], ids=["country-differs", "country-missing", "cn-missing"])
def test_policy_match_refuses_like_openssl_with_openssls_words(tmp_path, subject, rule, openssl_bin):
    root = init_ca(tmp_path / "root", "Lab Root", key=lab.fixture_key("root-ca"), policy="policy_match",
                   organization="labkit", country="GB")
    fields = dict(part.split("=") for part in subject.strip("/").split("/"))
    names = [x509.NameAttribute(x509.NameOID.COUNTRY_NAME, fields["C"])] if "C" in fields else []
    names += [x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, fields["O"])]
    if rule != "policy-supplied":
        names.append(x509.NameAttribute(x509.NameOID.COMMON_NAME, "x.lab.example"))
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names)).sign(
        lab.fixture_key("trainee"), hashes.SHA256())
    with pytest.raises(PolicyError) as info:
        root.sign(csr, "server")
    assert info.value.rule == rule
    assert info.value.message == _openssl_policy_message(root, csr, tmp_path)


def test_policy_drops_unlisted_fields_and_orders_the_subject(pki):
    _, issuing = pki
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "expc.lab.example"),
                      x509.NameAttribute(x509.NameOID.DOMAIN_COMPONENT, "lab"),
                      x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Lab Ltd"),
                      x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "GB")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(lab.fixture_key("expc-1"), hashes.SHA256())
    assert issuing.sign(csr, "server").subject.rfc4514_string() == "CN=expc.lab.example,O=Lab Ltd,C=GB"


def test_refuses_sha1_short_keys_and_broken_signatures(pki, tmp_path, openssl_bin):
    _, issuing = pki
    run_openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha1", "-keyout", tmp_path / "k", "-subj",
                "/CN=old.lab.example", "-out", tmp_path / "sha1.csr")
    run_openssl("req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", tmp_path / "k", "-subj",
                "/CN=short.lab.example", "-out", tmp_path / "short.csr")
    for path, rule in (("sha1.csr", "csr-digest"), ("short.csr", "rsa-key-size")):
        csr = x509.load_pem_x509_csr((tmp_path / path).read_bytes())
        with pytest.raises(PolicyError) as info:
            issuing.sign(csr, "server")
        assert info.value.rule == rule
    der = bytearray(csr_for().public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # flip bits in the signature
    with pytest.raises(PolicyError, match="csr-signature"):
        issuing.sign(x509.load_der_x509_csr(bytes(der)), "server")
    with pytest.raises(PolicyError, match="profile-name"):
        issuing.sign(csr_for(), "web-server")
    assert issuing.entries() == []  # nothing was issued


def test_self_signed_certificates_are_their_own_issuer():
    cert = self_signed(lab.fixture_key("expe-2"), "expe2.lab.example").certificate
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    assert "Unified Communications" in " ".join(self_signed.__doc__.split())


# -- revocation and CRLs ---------------------------------------------------------------------------------------

def test_revoke_writes_the_line_openssl_writes(pki, tmp_path, openssl_bin):
    _, issuing = pki
    cert = issuing.sign(csr_for(), "server")
    copy = copy_ca(issuing, tmp_path / "copy").folder
    cnf = copy / "openssl.cnf"
    run_openssl("ca", "-config", cnf, "-revoke", copy / "newcerts" / "1000.pem", "-crl_reason", "keyCompromise")
    entry = issuing.revoke(cert, "keyCompromise")
    theirs = (copy / "index.txt").read_text().split("\t")
    ours = entry.line().split("\t")
    assert ours[:2] + ours[3:] == theirs[:2] + [t.strip() for t in theirs[3:]]
    assert ours[2] == "260105090000Z,keyCompromise" and theirs[2].endswith(",keyCompromise")
    with pytest.raises(PolicyError, match="revoke-once"):
        issuing.revoke(cert.serial_number)
    with pytest.raises(PolicyError, match="revocation-reason"):
        issuing.revoke(cert.serial_number, "lost")


def test_crl_lists_revoked_serials_and_openssl_checks_it(pki, tmp_path, openssl_bin):
    root, issuing = pki
    good = issuing.sign(csr_for("good.lab.example"), "server")
    bad = issuing.sign(csr_for("bad.lab.example", key="expe-2"), "server")
    issuing.revoke(bad, "keyCompromise")
    crl = issuing.crl()
    assert [r.serial_number for r in crl] == [bad.serial_number]
    entry = crl.get_revoked_certificate_by_serial_number(bad.serial_number)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 0x1000
    assert issuing.crl().extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 0x1001
    crl_path = issuing.config.crl
    run_openssl("crl", "-in", crl_path, "-CAfile", issuing.folder / "certs" / "chain.pem", "-noout")
    assert b"X509v3 CRL Reason Code: \n                Key Compromise" in run_openssl("crl", "-in", crl_path,
                                                                                    "-noout", "-text").stdout
    args = ["verify", "-attime", attime(), "-crl_check", "-CRLfile", crl_path, "-CAfile", root.config.certificate,
            "-untrusted", issuing.config.certificate]
    assert run_openssl(*args, write_pem(tmp_path / "good.pem", good)).returncode == 0
    done = subprocess.run(["openssl", *map(str, args), write_pem(tmp_path / "bad.pem", bad)], capture_output=True)
    assert done.returncode != 0 and b"certificate revoked" in done.stdout + done.stderr


def test_crl_next_update_is_configurable(pki):
    _, issuing = pki
    assert issuing.crl().next_update_utc - lab.now() == __import__("datetime").timedelta(days=7)
    assert issuing.crl(hours=6).next_update_utc - lab.now() == __import__("datetime").timedelta(hours=6)


def test_update_db_marks_expired_entries_like_openssl(pki):
    _, issuing = pki
    issuing.sign(csr_for("short.lab.example"), "server", days=10)
    issuing.sign(csr_for("long.lab.example"), "server", days=100)
    expired = issuing.update_db(at="2026-02-01T00:00:00Z")
    assert [e.subject for e in expired] == ["/C=GB/O=labkit/CN=short.lab.example"]
    assert [e.status for e in issuing.entries()] == ["E", "V"]


def test_status_by_serial_and_openssl_agrees(pki, openssl_bin):
    _, issuing = pki
    cert = issuing.sign(csr_for(), "server")
    issuing.revoke(cert, "superseded")
    assert issuing.status("1000").status == "R" and issuing.status(0x1000).reason == "superseded"
    out = subprocess.run(["openssl", "ca", "-config", issuing.folder / "openssl.cnf", "-status", "1000"],
                         capture_output=True)  # openssl exits 1 after printing the status
    assert b"1000=Revoked (R)" in out.stdout + out.stderr
    with pytest.raises(InputError, match="serial-in-database"):
        issuing.status("ABCD")
    with pytest.raises(InputError, match="serial-hex"):
        issuing.status("xyz")


# -- OpenSSL operating labkit's directory, and the other way round ---------------------------------------------

def test_openssl_gencrl_and_issue_into_a_labkit_directory_and_labkit_carries_on(pki, tmp_path, openssl_bin):
    _, issuing = pki
    issuing.revoke(issuing.sign(csr_for("a.lab.example"), "server"), "keyCompromise")
    cnf = issuing.folder / "openssl.cnf"
    run_openssl("ca", "-config", cnf, "-gencrl", "-out", tmp_path / "openssl.crl")
    assert x509.load_pem_x509_crl((tmp_path / "openssl.crl").read_bytes()).get_revoked_certificate_by_serial_number(
        0x1000)
    run_openssl("ca", "-batch", "-config", cnf, "-extensions", "client_server_ext", "-in",
                write_pem(tmp_path / "b.csr", csr_for("b.lab.example", key="expc-1")), "-out", tmp_path / "b.pem")
    third = issuing.sign(csr_for("c.lab.example", key="expc-2"), "server")
    assert third.serial_number == 0x1002
    assert [e.serial for e in issuing.entries()] == [0x1000, 0x1001, 0x1002]
    listing = run_cli("ca", "list", issuing.folder).stdout.decode()
    assert "/CN=b.lab.example" in listing and "/CN=c.lab.example" in listing
    assert issuing.crl().extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 0x1001


def test_labkit_operates_a_ca_made_only_with_openssl_commands(tmp_path, openssl_bin):
    ca = tmp_path / "demoCA"
    for sub in ("certs", "newcerts", "private"):
        (ca / sub).mkdir(parents=True)
    (ca / "index.txt").write_text("")
    (ca / "serial").write_text("10\n")  # as the guide's appendix B does
    (ca / "openssl.cnf").write_text("""[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
certificate = $dir/cacert.pem
private_key = $dir/private/cakey.pem
default_md = sha256
default_days = 365
policy = policy_anything
copy_extensions = copy
[ policy_anything ]
countryName = optional
organizationName = optional
commonName = supplied
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
""")
    run_openssl("req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "private/cakey.pem", "-subj",
                "/C=GB/O=Demo/CN=Demo CA", "-extensions", "v3_ca", "-config", "openssl.cnf", "-out", "cacert.pem",
                cwd=ca)
    run_openssl("ca", "-batch", "-config", "openssl.cnf", "-in",
                write_pem(tmp_path / "a.csr", csr_for("a.lab.example")), "-out", tmp_path / "a.pem", cwd=ca)
    opened = open_ca(ca)
    cert = opened.sign(csr_for("b.lab.example", key="expc-1"), "client-server")
    assert cert.serial_number == 0x11 and cert.issuer == opened.certificate.subject
    opened.revoke(0x10, "superseded")
    assert [r.serial_number for r in opened.crl()] == [0x10]
    assert [e.status for e in read_index(ca / "index.txt")] == ["R", "V"]
    run_openssl("ca", "-config", "openssl.cnf", "-gencrl", "-crldays", "7", "-out", tmp_path / "o.crl", cwd=ca)


def test_a_moved_ca_directory_heals_its_openssl_cnf(pki, tmp_path, openssl_bin):
    _, issuing = pki
    moved = tmp_path / "moved"
    shutil.move(issuing.folder, moved)
    reopened = open_ca(moved)
    assert reopened.config.database == moved / "index.txt"
    assert f'dir                    = "{moved}"' in (moved / "openssl.cnf").read_text()
    run_openssl("ca", "-config", moved / "openssl.cnf", "-gencrl", "-out", tmp_path / "o.crl")


def test_an_encrypted_ca_key_needs_its_passphrase(tmp_path, openssl_bin):
    root = init_ca(tmp_path / "root", "Locked Root", key=lab.fixture_key("rogue-ca"), passphrase="s3cret pass")
    assert b"ENCRYPTED PRIVATE KEY" in root.config.private_key.read_bytes()
    with pytest.raises(PasswordError):
        open_ca(root.folder).sign(csr_for(), "server")
    assert open_ca(root.folder, passphrase="s3cret pass").sign(csr_for(), "server").serial_number == 0x1001
    run_openssl("pkey", "-in", root.config.private_key, "-passin", "pass:s3cret pass", "-noout")


def test_database_as_dataframe(pki):
    _, issuing = pki
    issuing.sign(csr_for("a.lab.example"), "server")
    issuing.revoke(issuing.sign(csr_for("b.lab.example", key="expc-1"), "server"), "keyCompromise")
    frame = issuing.table()
    assert list(frame.columns) == ["status", "serial", "expires", "revoked", "reason", "subject"]
    assert list(frame["status"]) == ["Valid", "Revoked"] and frame["reason"][1] == "keyCompromise"


# -- linting -----------------------------------------------------------------------------------------------------

def _lint(tool: str, path, *args) -> list:
    exe = shutil.which(tool) or str(__import__("pathlib").Path(sys.executable).parent / tool)
    done = subprocess.run([exe, "lint", *args, "-s", "ERROR", "-f", "JSON", str(path)], capture_output=True)
    return json.loads(done.stdout)["results"]


def test_pkilint_finds_no_error_in_labkit_certificates_and_crls(pki, tmp_path):
    root, issuing = pki
    certs = {"root": root.certificate, "issuing": issuing.certificate,
             "server": issuing.sign(csr_for(), "server"),
             "client-server": issuing.sign(csr_for("expc.lab.example", key="expc-1"), "client-server"),
             "ec-server": issuing.sign(csr_for("ec.lab.example", key="ec-p256"), "server"),
             "ocsp": issuing.sign(csr_for("ocsp.lab.example", key="ocsp-signer"), "ocsp-signing")}
    for name, cert in certs.items():
        findings = _lint("lint_pkix_cert", write_pem(tmp_path / f"{name}.pem", cert))
        assert findings == [], (name, findings)
    issuing.revoke(certs["server"], "keyCompromise")
    assert _lint("lint_crl", write_pem(tmp_path / "crl.pem", issuing.crl()), "-t", "CRL", "-p", "PKIX") == []


# -- concurrency and crashes -----------------------------------------------------------------------------------

_ISSUER = """
import sys
from labkit import lab
from labkit.ca import open_ca
from labkit.x509.certs import CertSpec, request
ca = open_ca(sys.argv[1])
csr = request(CertSpec(f"p{sys.argv[2]}.lab.example"), lab.fixture_key("trainee"))
for _ in range(int(sys.argv[3])):
    ca.sign(csr, "server")
    print("issued", flush=True)
"""


def test_four_processes_issuing_50_each_give_200_distinct_serials(pki, tmp_path, openssl_bin):
    _, issuing = pki
    procs = [subprocess.Popen([sys.executable, "-c", _ISSUER, str(issuing.folder), str(n), "50"])
             for n in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    entries = issuing.entries()
    assert len(entries) == 200 and len({e.serial for e in entries}) == 200
    assert len(list(issuing.config.new_certs_dir.glob("*.pem"))) == 200
    assert int((issuing.folder / "serial").read_text(), 16) == max(e.serial for e in entries) + 1
    run_openssl("ca", "-config", issuing.folder / "openssl.cnf", "-gencrl", "-out", tmp_path / "o.crl")


def test_a_process_killed_while_issuing_leaves_a_database_that_carries_on(pki):
    _, issuing = pki
    proc = subprocess.Popen([sys.executable, "-c", _ISSUER, str(issuing.folder), "k", "100000"],
                            stdout=subprocess.PIPE)
    for _ in range(20):
        proc.stdout.readline()
    proc.kill()
    proc.wait()
    entries = issuing.entries()  # parses: no half-written line
    assert len(entries) >= 20
    next_serial = int((issuing.folder / "serial").read_text(), 16)
    assert next_serial >= max(e.serial for e in entries) + 1  # never behind an issued serial
    for entry in entries:
        assert (issuing.config.new_certs_dir / f"{entry.serial_hex}.pem").exists()
    cert = issuing.sign(csr_for(), "server")
    assert cert.serial_number > max(e.serial for e in entries)


# -- command line ------------------------------------------------------------------------------------------------

def test_cli_end_to_end_with_fresh_keys_and_real_time(tmp_path, openssl_bin):
    ok = lambda *a: run_cli(*a, cwd=tmp_path)  # noqa: E731
    assert ok("ca", "init", "root", "--cn", "CLI Root").returncode == 0
    assert ok("ca", "init", "issuing", "--cn", "CLI Issuing", "--parent", "root", "--crl-url", CRL_URL).returncode == 0
    assert ok("req", "new", "--cn", "expe.lab.example", "--san", "expe1.lab.example", "--key-out", "k.pem",
              "-o", "r.csr").returncode == 0
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    before = lab.now_real()
    assert ok("ca", "sign", "issuing", "--csr", "r.csr", "--profile", "client-server", "-o", "c.pem").returncode == 0
    after = lab.now_real()
    cert = x509.load_pem_x509_certificate((tmp_path / "c.pem").read_bytes())
    assert before <= cert.not_valid_before_utc <= after  # real time, not the lab clock
    assert isinstance(open_ca(tmp_path / "root").certificate.public_key(), rsa.RSAPublicKey)
    assert open_ca(tmp_path / "root").certificate.public_key() != lab.fixture_key("root-ca").public_key()
    serial = f"{cert.serial_number:X}"
    assert ok("ca", "revoke", "issuing", "--cert", "c.pem", "--reason", "keyCompromise").returncode == 0
    status = ok("ca", "status", "issuing", serial)
    assert status.stdout.decode().strip().endswith("=Revoked (R)")
    assert ok("ca", "crl", "issuing", "-o", "crl.der", "--der").returncode == 0
    assert x509.load_der_x509_crl((tmp_path / "crl.der").read_bytes()).get_revoked_certificate_by_serial_number(
        cert.serial_number)
    run_openssl("verify", "-CAfile", tmp_path / "root" / "certs" / "ca.cert.pem", "-untrusted",
                tmp_path / "issuing" / "certs" / "ca.cert.pem", tmp_path / "c.pem")


def test_cli_lab_key_and_at_make_it_deterministic(tmp_path):
    args = ["--lab-key", "root-ca", "--at", "2026-01-05T09:00:00Z"]
    assert run_cli("ca", "init", tmp_path / "a", "--cn", "labkit Root CA", *args).returncode == 0
    assert run_cli("ca", "init", tmp_path / "b", "--cn", "labkit Root CA", *args).returncode == 0
    assert (tmp_path / "a/certs/ca.cert.pem").read_bytes() == (tmp_path / "b/certs/ca.cert.pem").read_bytes()
    assert (tmp_path / "a/certs/ca.cert.pem").read_bytes() == init_ca(
        tmp_path / "c", "labkit Root CA", key=lab.fixture_key("root-ca")).certificate.public_bytes(
        serialization.Encoding.PEM)


@pytest.mark.parametrize("argv,rule", [
    (["ca", "sign", "nowhere", "--csr", "x.csr", "--profile", "server"], "ca-layout"),
    (["ca", "status", "root", "zz"], "serial-hex"),
    (["ca", "status", "root", "ABCDEF"], "serial-in-database"),
    (["ca", "revoke", "root", "--serial", "1000"], "revoke-not-self"),
    (["ca", "init", "root", "--cn", "again"], "ca-folder-empty"),
    (["ca", "sign", "root", "--csr", "root/certs/ca.cert.pem", "--profile", "server"], "expect-csr"),
    (["req", "new", "--cn", "x", "--subj", "/XX=1", "--key-out", "k", "-o", "r"], "subject-syntax"),
])
def test_cli_bad_input_exits_2_with_the_rule(tmp_path, argv, rule):
    assert run_cli("ca", "init", "root", "--cn", "Root", "--lab-key", "root-ca", cwd=tmp_path).returncode == 0
    done = run_cli(*argv, cwd=tmp_path, expect=2)
    err = done.stderr.decode()
    assert done.returncode == 2 and f"rule: {rule}" in err and "Traceback" not in err and err.count("\n") == 1
