"""`labkit doctor`: every rule id fires on a certificate made by the openssl command line, and nothing unrelated."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shlex

import pytest
from conftest import run_cli, run_openssl
from cryptography.hazmat.primitives import serialization

from labkit import InputError, lab
from labkit.expressway.doctor import doctor
from labkit.x509.loading import load_certificates

BASE_SUBJ = "/C=GB/O=Lab/CN=expe.example.com"
BASE_SAN = "subjectAltName=DNS:expe.example.com"
BOTH = "extendedKeyUsage=serverAuth,clientAuth"
SERVER_ONLY = "extendedKeyUsage=serverAuth"
PRIVATE_OID = "1.3.6.1.4.1.55555.1.1"  # an unregistered arc: no OpenSSL has a name for it
CLUSTER = ("--cluster-fqdn", "cluster.example.com", "--peer-fqdn", "expe.example.com")
BOTH_NAMES = "subjectAltName=DNS:expe.example.com,DNS:cluster.example.com"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("doctor")
    # No default extensions; one private-enterprise OID that this openssl process may use by name (labkitEdge): every
    # other openssl and labkit sees only its number, as appendix A's unsupported attributes show.
    (folder / "req.cnf").write_text(f"oid_section = new_oids\n[new_oids]\nlabkitEdge = {PRIVATE_OID}\n"
                                    "[req]\ndistinguished_name = dn\n[dn]\n")
    for name in ("trainee", "rsa-8192", "ec-p256"):
        (folder / f"{name}.key").write_bytes(lab.fixture_key(name).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder


def make(workdir, name, *, subj=BASE_SUBJ, ext=(BASE_SAN, BOTH), key="trainee", days=365, extra=(), csr=False,
         der=False):
    """A certificate (or CSR) made by `openssl req` from a fixture key, with exactly the given extensions."""
    args = ["req", "-new", "-config", workdir / "req.cnf", "-subj", subj]
    args += ["-key", workdir / f"{key}.key"] if key else []
    args += [] if csr else ["-x509", "-days", str(days)]
    for item in ext:
        args += ["-addext", item]
    out = workdir / f"{name}.{'der' if der else 'pem'}"
    run_openssl(*args, *extra, *(("-outform", "DER") if der else ()), "-out", out)
    return out


def signed_by(workdir, name, ca, *, subj=BASE_SUBJ, ext=(BASE_SAN, BOTH)):
    """A leaf for the trainee key, signed by the self-signed ``ca`` (made by `make` with the trainee key) with
    `openssl x509 -req`, its extensions from an -extfile."""
    csr = make(workdir, f"{name}-req", subj=subj, ext=(), csr=True)
    (workdir / f"{name}.ext").write_text("\n".join(item.replace("=", " = ", 1) for item in ext) + "\n")
    out = workdir / f"{name}.pem"
    run_openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", workdir / "trainee.key", "-set_serial", "0x2001",
                "-days", "365", "-extfile", workdir / f"{name}.ext", "-out", out)
    return out


def genconf_certificate(workdir, name, *, subject, validity=("UTCTIME:260101000000Z", "UTCTIME:451231000000Z"),
                        ca=False):
    """A self-signed certificate whose DER is spelled out for `openssl asn1parse -genconf` and signed with
    `openssl dgst -sign` (the trainee key): for encodings `openssl req` never writes, such as a GeneralizedTime
    before 2050 or a subject attribute whose value is an OBJECT IDENTIFIER (appendix A's example).
    ``subject`` is a list of (OID, ASN.1 value as genconf writes it)."""
    key = workdir / "trainee.key"
    public = run_openssl("rsa", "-in", key, "-RSAPublicKey_out", "-outform", "DER").stdout.hex()
    rdns = "\n".join(f"a{i} = SET:rdn{i}" for i in range(len(subject)))
    sections = "".join(f"[rdn{i}]\nx = SEQUENCE:atv{i}\n[atv{i}]\nt = OID:{oid}\nv = {value}\n"
                       for i, (oid, value) in enumerate(subject))
    extensions = ("bc = SEQUENCE:ext_bc\n[ext_bc]\noid = OID:basicConstraints\ncrit = BOOLEAN:true\n"
                  "val = OCTWRAP,SEQUENCE:bc\n[bc]\nca = BOOLEAN:true\n") if ca else (
                  "san = SEQUENCE:ext_san\neku = SEQUENCE:ext_eku\n[ext_san]\noid = OID:subjectAltName\n"
                  "val = OCTWRAP,SEQUENCE:san\n[san]\nd = IMPLICIT:2,IA5STRING:expe.example.com\n[ext_eku]\n"
                  "oid = OID:extendedKeyUsage\nval = OCTWRAP,SEQUENCE:eku\n[eku]\na = OID:serverAuth\n"
                  "b = OID:clientAuth\n")
    tbs = (f"asn1 = SEQUENCE:tbs\n[tbs]\nversion = EXPLICIT:0,INTEGER:2\nserial = INTEGER:0x3001\n"
           "sigalg = SEQUENCE:sigalg\nissuer = SEQUENCE:name\nvalidity = SEQUENCE:validity\nsubject = SEQUENCE:name\n"
           "spki = SEQUENCE:spki\nextensions = EXPLICIT:3,SEQUENCE:exts\n"
           "[sigalg]\noid = OID:sha256WithRSAEncryption\nnull = NULL\n"
           f"[name]\n{rdns}\n{sections}[validity]\nnb = {validity[0]}\nna = {validity[1]}\n"
           f"[spki]\nalg = SEQUENCE:rsaalg\nkey = FORMAT:HEX,BITSTRING:{public}\n"
           f"[rsaalg]\noid = OID:rsaEncryption\nnull = NULL\n[exts]\n{extensions}")
    (workdir / f"{name}.tbs.cnf").write_text(tbs)
    run_openssl("asn1parse", "-genconf", workdir / f"{name}.tbs.cnf", "-out", workdir / f"{name}.tbs", "-noout")
    signature = run_openssl("dgst", "-sha256", "-sign", key, workdir / f"{name}.tbs").stdout.hex()
    whole = tbs.replace("asn1 = SEQUENCE:tbs", "asn1 = SEQUENCE:cert", 1)
    whole += f"[cert]\ntbs = SEQUENCE:tbs\nalg = SEQUENCE:sigalg\nsig = FORMAT:HEX,BITSTRING:{signature}\n"
    (workdir / f"{name}.cnf").write_text(whole)
    der = workdir / f"{name}.der"
    run_openssl("asn1parse", "-genconf", workdir / f"{name}.cnf", "-out", der, "-noout")
    out = workdir / f"{name}.pem"  # written here: OpenSSL 3 will not re-encode a subject value that is an OID
    body = base64.encodebytes(der.read_bytes()).decode()
    out.write_text(f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n")
    return out


def spoilt_signature(path):
    """The same DER object with one bit of its signature (its last bytes) flipped: it no longer verifies."""
    der = bytearray(path.read_bytes())
    der[-3] ^= 0x01
    path.write_bytes(bytes(der))
    return path


def now() -> str:
    return lab.now_real().isoformat()


def later(days: float) -> str:
    return (lab.now_real() + dt.timedelta(days=days)).isoformat()


def findings(path, *flags, at=None):
    done = run_cli("doctor", path, "--json", "--at", at or now(), *flags, expect=(0, 1))
    result = json.loads(done.stdout)["findings"]
    assert done.returncode == (1 if any(f["severity"] == "error" for f in result) else 0)
    assert b"Warning:" not in done.stderr, done.stderr  # no library warning reaches the user (issue 15)
    return result


# (case id, openssl options, doctor flags, "at" offset in days, the rule that must fire)
CASES = [
    ("cn-missing", dict(subj="/C=GB/O=Lab"), (), 0, "cn-not-fqdn"),
    ("cn-host-name", dict(subj="/C=GB/O=Lab/CN=expressway"), (), 0, "cn-not-fqdn"),
    ("cn-not-this-expressway", {}, ("--fqdn", "expc.example.com"), 0, "cn-not-fqdn"),
    ("cn-not-in-san", dict(ext=("subjectAltName=DNS:other.example.com", BOTH)), (), 0, "fqdn-not-in-san"),
    ("wildcard-san", dict(ext=("subjectAltName=DNS:expe.example.com,DNS:*.example.com", BOTH)), (), 0, "wildcard"),
    ("wildcard-cn", dict(subj="/C=GB/CN=*.example.com", ext=("subjectAltName=DNS:*.example.com", BOTH)), (), 0,
     "wildcard"),
    ("eku-client-only", dict(ext=(BASE_SAN, "extendedKeyUsage=clientAuth")), (), 0, "eku-no-server-auth"),
    ("eku-server-only", dict(ext=(BASE_SAN, SERVER_ONLY)), (), 0, "eku-no-client-auth"),
    ("eku-server-only-x15.5", dict(ext=(BASE_SAN, SERVER_ONLY)), ("--expressway-version", "X15.5"), 0,
     "client-certificate-store"),
    ("eku-absent", dict(ext=(BASE_SAN,)), (), 0, "eku-absent"),
    ("rsa-1024", dict(key=None, extra=("-newkey", "rsa:1024", "-nodes", "-keyout", "/dev/null")), (), 0,
     "key-too-small"),
    ("rsa-8192", dict(key="rsa-8192"), (), 0, "key-8192"),
    ("ec-key", dict(key="ec-p256"), (), 0, "key-not-rsa"),
    ("sha1", dict(extra=("-sha1",)), (), 0, "weak-signature"),
    ("expired", {}, (), 400, "expired"),
    ("not-yet-valid", {}, (), -2, "not-yet-valid"),
    ("expires-soon", {}, (), 350, "expires-soon"),
    ("after-2050", dict(days=9200), (), 0, "expires-after-2050"),
    ("unknown-subject-oid", dict(subj="/C=GB/O=Lab/labkitEdge=Edge/CN=expe.example.com"), (), 0,
     "unsupported-subject-oid"),
    ("der-file", dict(der=True), (), 0, "der-file"),
    ("self-signed", {}, (), 0, "self-signed"),
    ("cluster-cn-is-peer", dict(ext=(BOTH_NAMES, BOTH)), CLUSTER, 0, "cluster-cn"),
    ("cluster-peer-missing", dict(subj="/C=GB/CN=cluster.example.com",
                                  ext=("subjectAltName=DNS:cluster.example.com", BOTH)),
     ("--cluster-fqdn", "cluster.example.com", "--peer-fqdn", "expe.example.com"), 0, "cluster-san-peer"),
    ("cluster-name-missing", dict(subj="/C=GB/CN=cluster.example.com", ext=(BASE_SAN, BOTH)),
     ("--cluster-fqdn", "cluster.example.com", "--peer-fqdn", "expe.example.com"), 0, "cluster-san-cluster"),
    ("registration-domain", {}, ("--role", "expressway-e", "--ucm-domain", "example.net"), 0,
     "uc-registration-domain"),
    ("xmpp-domain", {}, ("--role", "expressway-e", "--xmpp-domain", "example.org"), 0, "uc-xmpp-domain"),
    ("xmpp-address", dict(ext=(BASE_SAN + ",otherName:1.3.6.1.5.5.7.8.5;UTF8:example.org", BOTH)),
     ("--role", "expressway-e"), 0, "xmpp-address-san"),
    ("chat-alias-e", {}, ("--role", "expressway-e", "--chat-alias", "chat.example.com"), 0, "uc-chat-alias"),
    ("chat-alias-c", {}, ("--role", "expressway-c", "--chat-alias", "chat.example.com"), 0, "uc-chat-alias"),
    ("phone-profile", {}, ("--role", "expressway-c", "--phone-profile", "jabber.example.com"), 0, "uc-phone-profile"),
    ("phone-profile-bare", dict(ext=("subjectAltName=DNS:expe.example.com,DNS:jabbersecure", BOTH)),
     ("--role", "expressway-c", "--phone-profile", "jabbersecure"), 0, "uc-phone-profile-not-fqdn"),
    ("not-for-role", {}, ("--role", "expressway-c", "--ucm-domain", "example.net"), 0, "uc-not-for-role"),
    ("issuer-oid", dict(builder=lambda w, n: signed_by(w, n, make(w, f"{n}-ca", subj="/O=Lab/labkitEdge=Root/CN=Odd CA",
                                                                  ext=("basicConstraints=critical,CA:true",)))),
     (), 0, "unsupported-issuer-oid"),
    ("generalized-time-root", dict(builder=lambda w, n: genconf_certificate(
        w, n, subject=[("commonName", "UTF8:Example GT Root")], ca=True,
        validity=("GENTIME:20260101000000Z", "GENTIME:20451231000000Z"))), ("--role", "ca"), 0,
     "validity-time-encoding"),
    ("ca-without-bc", {}, ("--role", "ca"), 0, "ca-no-basic-constraints"),
    # broken objects (issue 16): each made by openssl, the CSR's signature spoilt after it was signed
    ("csr-signature-broken", dict(builder=lambda w, n: spoilt_signature(make(w, n, csr=True, der=True))), (), 0,
     "request-signature"),
    ("serial-zero", dict(extra=("-set_serial", "0")), (), 0, "serial-number"),
    ("serial-negative", dict(extra=("-set_serial", "-5")), (), 0, "serial-number"),
    ("serial-21-octets", dict(extra=("-set_serial", "0x" + "01" * 21)), (), 0, "serial-number"),
    ("critical-unknown", dict(ext=(BASE_SAN, BOTH, f"{PRIVATE_OID}=critical,DER:0500")), (), 0,
     "critical-extension-unknown"),
    ("critical-unknown-csr", dict(ext=(BASE_SAN, BOTH, f"{PRIVATE_OID}=critical,DER:0500"), csr=True), (), 0,
     "critical-extension-unknown"),
    ("punycode-san", dict(ext=(BASE_SAN + ",DNS:xn--zz.example.com", BOTH)), (), 0, "punycode-label"),
    ("ca-false", dict(ext=("basicConstraints=critical,CA:FALSE",)), ("--role", "ca"), 0, "ca-no-basic-constraints"),
    ("pkcs7-pem", dict(builder=lambda w, n: pkcs7(w, n, der=False)), (), 0, "pem-only"),
    ("text-before-pem", dict(builder=lambda w, n: text_before(make(w, n))), (), 0, "pem-extra-text"),
]


def pkcs7(workdir, name, *, der=True):
    """A certificate and its (self-signed) CA in a PKCS#7 file made by `openssl crl2pkcs7`, PEM or DER."""
    ca = make(workdir, f"{name}-ca", subj="/O=Lab/CN=P7 CA", ext=("basicConstraints=critical,CA:true",))
    leaf = signed_by(workdir, f"{name}-leaf", ca)
    out = workdir / f"{name}.p7b"
    run_openssl("crl2pkcs7", "-nocrl", "-certfile", leaf, "-certfile", ca, "-outform", "DER" if der else "PEM",
                "-out", out)
    return out


def text_before(path):
    """``path`` with the text dump `openssl x509 -text` prints before its PEM block (as `openssl ca -out` writes)."""
    path.write_bytes(run_openssl("x509", "-in", path, "-text").stdout)
    return path


@pytest.mark.parametrize("case,options,flags,offset,rule", CASES, ids=[c[0] for c in CASES])
def test_each_rule_fires_on_an_openssl_certificate_and_nothing_unrelated_errs(workdir, case, options, flags,
                                                                              offset, rule):
    path = options["builder"](workdir, case) if "builder" in options else make(workdir, case, **options)
    result = findings(path, *flags, at=later(offset) if offset else None)
    rules = [f["rule"] for f in result]
    assert rule in rules, result
    unrelated_errors = [f["rule"] for f in result if f["severity"] == "error" and f["rule"] != rule]
    assert unrelated_errors == [], result
    fired = next(f for f in result if f["rule"] == rule)
    assert fired["message"] and fired["chapter"].startswith("guide ") and fired["source"], fired


def test_every_documented_rule_has_a_case():
    import re

    from labkit.expressway import doctor as module

    rows = re.findall(r"^([a-z0-9-]+(?: / [a-z0-9-]+)?)\s{2,}(?:error|warning|info)\s", module.__doc__, re.M)
    documented = {rule for row in rows for rule in row.split(" / ")}
    assert len(documented) >= 31
    csr_rules = {rule for rule in documented if rule.startswith("csr-")}  # cases in test_csr_compare.py
    assert documented - csr_rules == {c[4] for c in CASES}


def test_a_clean_certificate_has_no_error_and_exit_0(workdir):
    path = make(workdir, "clean", subj="/C=GB/O=Lab/CN=cluster.example.com",
                ext=("subjectAltName=DNS:cluster.example.com,DNS:expe.example.com,DNS:collab-edge.example.net,"
                     "DNS:example.org,DNS:chat.example.com", BOTH))
    result = findings(path, "--role", "expressway-e", "--cluster-fqdn", "cluster.example.com", "--peer-fqdn",
                      "expe.example.com", "--ucm-domain", "example.net", "--xmpp-domain", "example.org",
                      "--chat-alias", "chat.example.com")
    assert [f["rule"] for f in result] == ["self-signed"]


def test_collab_edge_or_plain_domain_both_satisfy_registration_domains(workdir):
    plain = make(workdir, "plain-domain", ext=("subjectAltName=DNS:expe.example.com,DNS:example.net", BOTH))
    assert "uc-registration-domain" not in [f["rule"] for f in findings(plain, "--role", "expressway-e",
                                                                        "--ucm-domain", "example.net")]


EV_SUBJECT = ("/jurisdictionL=Dover/jurisdictionST=Delaware/jurisdictionC=US/businessCategory=Private Organization"
              "/serialNumber=1234567/C=US/ST=California/L=San Jose/street=1 Example Way/postalCode=95134"
              "/organizationIdentifier=PSDGB-FCA-123456/O=Example Org/CN=expe.example.com")


def test_an_ev_certificate_from_a_ca_has_no_error(workdir):
    """EV subjects carry standard attributes that OpenSSL names (jurisdiction, businessCategory, serialNumber,
    street, postalCode, organizationIdentifier): appendix A's undecodable attributes are something else."""
    ca = make(workdir, "ev-ca", subj="/O=Example Public CA/CN=Example EV CA",
              ext=("basicConstraints=critical,CA:true",))
    leaf = signed_by(workdir, "ev", ca, subj=EV_SUBJECT)
    shown = run_openssl("x509", "-in", leaf, "-noout", "-subject").stdout.decode()
    assert "jurisdictionL = Dover" in shown and "organizationIdentifier = PSDGB-FCA-123456" in shown
    result = findings(leaf)
    assert [f for f in result if f["severity"] == "error"] == [] and "unsupported-subject-oid" not in str(result)
    assert doctor(leaf.read_bytes(), at=lab.now_real()).ok


def test_an_unregistered_subject_oid_is_an_error_from_the_command_line_and_from_python(workdir):
    path = make(workdir, "private-oid", subj="/C=GB/O=Lab/labkitEdge=Edge/CN=expe.example.com")
    shown = run_openssl("x509", "-in", path, "-noout", "-subject").stdout.decode()
    assert f"{PRIVATE_OID} = Edge" in shown  # another openssl process prints the number: appendix A's symptom
    done = run_cli("doctor", path, "--json", "--at", now(), expect=1)
    errors = [f for f in json.loads(done.stdout)["findings"] if f["severity"] == "error"]
    assert [f["rule"] for f in errors] == ["unsupported-subject-oid"] and PRIVATE_OID in errors[0]["message"]
    report = doctor(path.read_bytes(), at=lab.now_real())
    assert not report.ok and [f.rule for f in report.errors] == ["unsupported-subject-oid"]


def test_an_attribute_whose_value_is_an_oid_is_reported_not_refused(workdir):
    """Appendix A's example: the value is itself an OBJECT IDENTIFIER, shown as #hex; OpenSSL 3 cannot even print
    the subject, yet doctor reports it (exit 1, JSON) instead of calling the file unreadable."""
    odd = "1.3.6.1.4.1.6449.1.2.1.5.1"
    path = genconf_certificate(workdir, "oid-value", subject=[("countryName", "PRINTABLESTRING:US"),
                                                              (odd, f"OID:{odd}"),
                                                              ("commonName", "UTF8:expe.example.com")])
    done = run_cli("doctor", path, "--json", "--at", now(), expect=1)
    fired = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "unsupported-subject-oid"]
    assert len(fired) == 1 and f"{odd} = #060C2B06010401B2310102010501" in fired[0]["message"]


def test_cluster_peer_with_its_own_fqdn_as_cn_only_warns(workdir):
    path = make(workdir, "older-edition-peer", ext=(BOTH_NAMES, BOTH))
    done = run_cli("doctor", path, "--json", "--at", now(), *CLUSTER, expect=0)
    result = {f["rule"]: f for f in json.loads(done.stdout)["findings"]}
    assert result["cluster-cn"]["severity"] == "warning" and "older editions" in result["cluster-cn"]["message"]
    assert not [f for f in result.values() if f["severity"] == "error"]


def test_the_client_auth_rule_follows_the_expressway_version(workdir):
    path = make(workdir, "server-only", ext=(BASE_SAN, SERVER_ONLY))

    def severity(*flags):
        return {f["rule"]: f["severity"] for f in findings(path, *flags)}.get("eku-no-client-auth")

    assert severity() == "error" and severity("--expressway-version", "X14.0") == "error"
    assert severity("--expressway-version", "X15.5") is None
    assert severity("--expressway-version", "X15.4", "--role", "expressway-e") == "warning"
    assert severity("--expressway-version", "X15.4", "--role", "expressway-c") == "error"
    assert doctor(path.read_bytes(), version="X15.5", at=lab.now_real()).ok
    with pytest.raises(InputError, match="expressway-version"):
        doctor(path.read_bytes(), version="X16.0")


def test_a_roots_own_sha1_signature_is_not_a_weak_signature_but_an_intermediates_is(workdir):
    ca_ext = ("basicConstraints=critical,CA:true",)
    root = make(workdir, "sha1-root", subj="/O=Lab/CN=Old Root", ext=ca_ext, extra=("-sha1",))
    assert "weak-signature" not in [f["rule"] for f in findings(root, "--role", "ca")]
    intermediate = signed_by(workdir, "sha1-sub", make(workdir, "sha256-root", subj="/O=Lab/CN=Root", ext=ca_ext),
                             subj="/O=Lab/CN=Sub CA", ext=ca_ext)
    assert "weak-signature" not in [f["rule"] for f in findings(intermediate, "--role", "ca")]
    csr = make(workdir, "sub-req", subj="/O=Lab/CN=Sub CA", ext=(), csr=True)
    run_openssl("x509", "-req", "-in", csr, "-CA", workdir / "sha256-root.pem", "-CAkey", workdir / "trainee.key",
                "-sha1", "-days", "30", "-extfile", workdir / "sha1-sub.ext", "-out", workdir / "sha1-by-ca.pem")
    fired = [f for f in findings(workdir / "sha1-by-ca.pem", "--role", "ca") if f["rule"] == "weak-signature"]
    assert fired and "the CA's choice" in fired[0]["message"]


def test_8192_bit_keys_are_one_warning_in_doctor_and_on_the_form(workdir):
    from labkit.expressway import CsrRequest

    path = make(workdir, "big-key", key="rsa-8192")
    fired = next(f for f in findings(path) if f["rule"] == "key-8192")
    assert fired["severity"] == "warning" and "4096" in fired["message"]
    form = CsrRequest(role="expressway-e", fqdn="expe.example.com", key_length=8192, country="GB", state="S",
                      locality="L", organization="O", unit="U").guidance()
    assert any(note.startswith("Warning (key-8192)") for note in form)


def test_a_generalized_time_before_2050_is_reported_and_utc_time_is_not(workdir):
    normal = make(workdir, "utc-root", subj="/O=Lab/CN=Root", ext=("basicConstraints=critical,CA:true",))
    assert "validity-time-encoding" not in [f["rule"] for f in findings(normal, "--role", "ca")]
    late = make(workdir, "late-root", subj="/O=Lab/CN=Root", ext=("basicConstraints=critical,CA:true",), days=9200)
    assert "validity-time-encoding" not in [f["rule"] for f in findings(late, "--role", "ca")]  # 2051: rightly GT


def test_a_csr_is_checked_too_without_validity_rules(workdir):
    path = make(workdir, "wild-csr", ext=("subjectAltName=DNS:*.example.com", "extendedKeyUsage=serverAuth"),
                csr=True)
    rules = [f["rule"] for f in findings(path, at=later(5000))]
    assert "wildcard" in rules and "eku-no-client-auth" in rules and "expired" not in rules
    assert "self-signed" not in rules


def test_text_output_exit_codes_and_unreadable_files(workdir, tmp_path):
    bad = run_cli("doctor", make(workdir, "text-case", ext=(BASE_SAN, "extendedKeyUsage=serverAuth")), "--at", now(),
                  expect=1)
    out = bad.stdout.decode()
    assert bad.returncode == 1 and "ERROR    eku-no-client-auth" in out
    assert out.strip().endswith("1 error, 1 warning, 0 info")
    good = run_cli("doctor", make(workdir, "text-good"), "--at", now())
    assert good.returncode == 0
    (tmp_path / "junk.pem").write_text("not a certificate")
    missing = run_cli("doctor", tmp_path / "junk.pem", expect=2)
    assert missing.returncode == 2 and b"rule: pem-or-der" in missing.stderr
    key = run_cli("doctor", workdir / "trainee.key", expect=2)
    assert key.returncode == 2 and b"doctor-input" in key.stderr


def test_python_api_uses_the_lab_clock_and_reports(workdir):
    from labkit.x509.pki import lab_chain

    chain = lab_chain("expe.lab.example")
    report = doctor(chain.server.certificate)
    assert report.ok and report.rules() == []
    lab.clock.advance(days=340)
    assert doctor(chain.server.certificate).rules() == ["expires-soon"]
    assert doctor(chain.root.certificate, role="ca").ok
    assert not doctor(chain.server.certificate, role="ca")
    assert list(report.table().columns) == ["rule", "severity", "message", "chapter", "source"]
    with pytest.raises(InputError, match="doctor-role"):
        doctor(chain.server.certificate, role="vcs")


def test_each_specimen_fires_its_rule_and_no_other_error():
    from labkit.chapters.ch03_expressway_certificates import specimens

    gallery = specimens()
    assert len({s.name for s in gallery}) == len(gallery) >= 12
    for specimen in gallery:
        report = doctor(specimen.certificate, **specimen.flags)
        errors = [f.rule for f in report.errors]
        if specimen.expected_rule is None:
            assert report.ok, (specimen.name, report.rules())
        else:
            assert specimen.expected_rule in report.rules(), (specimen.name, report.rules())
            assert set(errors) <= {specimen.expected_rule}, (specimen.name, errors)


def _converted_by_the_finding(workdir, source, *passin):
    """Run the openssl command of the der-file finding on ``source`` (FILE replaced by its path, with ``passin`` for a
    password) and return the certificates it wrote, or fail with openssl's message."""
    finding = next(f for f in findings(source) if f["rule"] == "der-file")
    command = re.search(r"(openssl [^,(`]+?)(?: \(|,|$)", finding["message"])[1].strip()
    args = shlex.split(command.replace("FILE.pem", str(workdir / f"{source.name}.out.pem"))
                       .replace("FILE", str(source)))
    done = run_openssl(*args[1:], *passin)
    assert done.returncode == 0, (command, done.stderr)
    return finding, [c.subject for c in load_certificates((workdir / f"{source.name}.out.pem").read_bytes())]


def test_der_file_a_der_pkcs7_file_is_named_and_its_openssl_command_converts_it(workdir):
    p7b = pkcs7(workdir, "p7-der")
    finding, subjects = _converted_by_the_finding(workdir, p7b)
    assert "PKCS#7 file (DER) holding 2 certificates" in finding["message"] and "x509 -inform" not in finding["message"]
    assert [s.rfc4514_string() for s in subjects] == ["CN=expe.example.com,O=Lab,C=GB", "CN=P7 CA,O=Lab"]


def test_der_file_a_pkcs12_file_is_named_and_its_openssl_command_gives_the_certificate(workdir):
    leaf = make(workdir, "p12-leaf")
    pfx = workdir / "p12.pfx"
    run_openssl("pkcs12", "-export", "-in", leaf, "-inkey", workdir / "trainee.key", "-passout", "pass:s3cret",
                "-out", pfx)
    (workdir / "pw.txt").write_text("s3cret\n")
    done = run_cli("doctor", pfx, "--json", "--at", now(), "--password-file", workdir / "pw.txt", expect=(0, 1))
    finding = next(f for f in json.loads(done.stdout)["findings"] if f["rule"] == "der-file")
    assert "PKCS#12 file (DER)" in finding["message"] and "-clcerts -nokeys" in finding["message"]
    command = re.search(r"(openssl pkcs12 [^(]+?) \(", finding["message"])[1]
    args = shlex.split(command.replace("FILE.pem", str(workdir / "p12.out.pem")).replace("FILE", str(pfx)))
    assert run_openssl(*args[1:], "-passin", "pass:s3cret").returncode == 0
    assert load_certificates((workdir / "p12.out.pem").read_bytes()) == load_certificates(leaf.read_bytes())


def test_pem_only_a_pem_pkcs7_file_gets_the_upload_models_note(workdir):
    from labkit.expressway.server_certificate import ServerCertificateSlot
    from labkit.expressway.trusted_list import TrustedCaList

    p7b = pkcs7(workdir, "p7-pem", der=False)
    note = next(f for f in findings(p7b) if f["rule"] == "pem-only")
    with pytest.raises(InputError) as refused:
        ServerCertificateSlot(TrustedCaList()).upload(p7b, key=(workdir / "trainee.key").read_bytes())
    assert refused.value.rule == "pem-only" and note["message"][4:] in refused.value.message


def test_pem_extra_text_doctor_says_on_stderr_and_in_json_that_text_was_skipped(workdir):
    path = text_before(make(workdir, "dumped"))
    text = run_cli("doctor", path, "--at", now(), expect=(0, 1))
    assert b"text outside the PEM blocks was skipped" in text.stderr
    assert "pem-extra-text" in [f["rule"] for f in findings(path)]


def test_doctor_reads_a_path_as_the_upload_does(workdir):
    path = make(workdir, "by-path")
    assert doctor(path, at=lab.now_real()).findings == doctor(path.read_bytes(), at=lab.now_real()).findings


def test_one_expected_name_given_as_text_is_that_name_not_its_letters():
    from labkit.expressway.doctor import doctor
    from labkit.x509.pki import lab_chain

    leaf = lab_chain().server.certificate
    as_text = doctor(leaf, role="expressway-e", ucm_domains="lab.example")
    as_list = doctor(leaf, role="expressway-e", ucm_domains=["lab.example"])
    assert [f.rule for f in as_text.findings] == [f.rule for f in as_list.findings]
    assert any("lab.example" in f.message for f in as_text.findings if f.rule.startswith("uc-"))
