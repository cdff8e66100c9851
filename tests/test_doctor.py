"""`labkit doctor`: every rule id fires on a certificate made by the openssl command line, and nothing unrelated."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import run_cli, run_openssl
from cryptography.hazmat.primitives import serialization

from labkit import InputError, lab
from labkit.expressway.doctor import doctor

BASE_SUBJ = "/C=GB/O=Lab/CN=expe.example.com"
BASE_SAN = "subjectAltName=DNS:expe.example.com"
BOTH = "extendedKeyUsage=serverAuth,clientAuth"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("doctor")
    # no default extensions; one private-arc OID (IANA's example enterprise number) that OpenSSL itself has no name for
    (folder / "req.cnf").write_text("oid_section = oids\n[oids]\nexampleUnit = 1.3.6.1.4.1.32473.1.7\n"
                                    "[req]\ndistinguished_name = dn\n[dn]\n")
    for name in ("trainee", "rsa-8192", "ec-p256"):
        (folder / f"{name}.key").write_bytes(lab.fixture_key(name).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder


def make(workdir, name, *, subj=BASE_SUBJ, ext=(BASE_SAN, BOTH), key="trainee", days=365, extra=(), csr=False):
    """A certificate (or CSR) made by `openssl req` from a fixture key, with exactly the given extensions."""
    args = ["req", "-new", "-config", workdir / "req.cnf", "-subj", subj]
    args += ["-key", workdir / f"{key}.key"] if key else []
    args += [] if csr else ["-x509", "-days", str(days)]
    for item in ext:
        args += ["-addext", item]
    out = workdir / f"{name}.pem"
    run_openssl(*args, *extra, "-out", out)
    return out


def now() -> str:
    return lab.now_real().isoformat()


def later(days: float) -> str:
    return (lab.now_real() + dt.timedelta(days=days)).isoformat()


def findings(path, *flags, at=None):
    done = run_cli("doctor", path, "--json", "--at", at or now(), *flags, expect=(0, 1))
    result = json.loads(done.stdout)["findings"]
    assert done.returncode == (1 if any(f["severity"] == "error" for f in result) else 0)
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
    ("eku-server-only", dict(ext=(BASE_SAN, "extendedKeyUsage=serverAuth")), (), 0, "eku-no-client-auth"),
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
    ("unknown-subject-oid", dict(subj=BASE_SUBJ + "/exampleUnit=Boss"), (), 0, "unsupported-subject-oid"),
    ("named-subject-attribute", dict(subj=BASE_SUBJ + "/street=1 Example Way/title=Boss"), (), 0,
     "subject-attribute-named"),
    ("self-signed", {}, (), 0, "self-signed"),
    ("cluster-cn-is-peer", dict(ext=("subjectAltName=DNS:expe.example.com,DNS:cluster.example.com", BOTH)),
     ("--cluster-fqdn", "cluster.example.com", "--peer-fqdn", "expe.example.com"), 0, "cluster-cn"),
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
    ("ca-without-bc", {}, ("--role", "ca"), 0, "ca-no-basic-constraints"),
    ("ca-false", dict(ext=("basicConstraints=critical,CA:FALSE",)), ("--role", "ca"), 0, "ca-no-basic-constraints"),
]


@pytest.mark.parametrize("case,options,flags,offset,rule", CASES, ids=[c[0] for c in CASES])
def test_each_rule_fires_on_an_openssl_certificate_and_nothing_unrelated_errs(workdir, case, options, flags,
                                                                              offset, rule):
    path = make(workdir, case, **options)
    result = findings(path, *flags, at=later(offset) if offset else None)
    rules = [f["rule"] for f in result]
    assert rule in rules, result
    unrelated_errors = [f["rule"] for f in result if f["severity"] == "error" and f["rule"] != rule]
    assert unrelated_errors == [], result
    fired = next(f for f in result if f["rule"] == rule)
    assert fired["message"] and fired["chapter"].startswith("guide ")


def test_every_documented_rule_has_a_case():
    import re

    from labkit.expressway import doctor as module

    rows = re.findall(r"^([a-z0-9-]+(?: / [a-z0-9-]+)?)\s{2,}(?:error|warning|info)\s", module.__doc__, re.M)
    documented = {rule for row in rows for rule in row.split(" / ")}
    assert len(documented) >= 27
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


def test_ev_jurisdiction_oids_are_supported(workdir):
    path = make(workdir, "ev", subj=BASE_SUBJ + "/jurisdictionC=GB/jurisdictionST=London")
    assert "unsupported-subject-oid" not in [f["rule"] for f in findings(path)]


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
    assert list(report.table().columns) == ["rule", "severity", "message", "chapter"]
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
