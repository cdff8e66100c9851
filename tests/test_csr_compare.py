"""`labkit doctor CERT --csr REQUEST`: what a CA changed, on requests and certificates made by the openssl command
line (`openssl req`, then `openssl x509 -req` as the CA, with its own extension profile), and the same findings on
the server certificate page when a CSR is pending."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from asserts import assert_refused
from conftest import run_cli, run_openssl
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.ca import init_ca
from labkit.expressway import LAB_SUBJECT, CsrRequest, ExpresswayNode
from labkit.expressway.csr_compare import compare
from labkit.expressway.store import CertificateStore

SUBJ = "/C=GB/ST=England/L=London/O=Lab/OU=UC/CN=expe.example.com"
SANS = "subjectAltName=DNS:expe.example.com,DNS:collab-edge.example.com"
BOTH = "extendedKeyUsage=serverAuth,clientAuth"
# What a CA's profile puts into the certificate (openssl x509 -req -extfile), as each case's CA would
FAITHFUL = f"{SANS.replace('subjectAltName=', 'subjectAltName = ')}\nextendedKeyUsage = serverAuth, clientAuth\n"
SERVER_ONLY = "subjectAltName = DNS:expe.example.com, DNS:collab-edge.example.com\nextendedKeyUsage = serverAuth\n"
FEWER_NAMES = "subjectAltName = DNS:expe.example.com\nextendedKeyUsage = serverAuth, clientAuth\n"
MORE_NAMES = ("subjectAltName = DNS:expe.example.com, DNS:collab-edge.example.com, DNS:www.example.com\n"
              "extendedKeyUsage = serverAuth, clientAuth\n")


def _key_file(folder, name):
    path = folder / f"{name}.key"
    path.write_bytes(lab.fixture_key(name).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csr-compare")
    (folder / "req.cnf").write_text("[req]\ndistinguished_name = dn\n[dn]\n")
    for name in ("issuing-ca", "expe-1", "expe-2"):
        _key_file(folder, name)
    run_openssl("req", "-new", "-x509", "-config", "req.cnf", "-key", "issuing-ca.key", "-subj", "/CN=Lab CA",
                "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-out", "ca.pem", cwd=folder)
    run_openssl("req", "-new", "-config", "req.cnf", "-key", "expe-1.key", "-subj", SUBJ, "-addext", SANS,
                "-addext", BOTH, "-out", "expe.csr", cwd=folder)
    return folder


def _issue(folder, name, profile, *, key_csr="expe.csr", subj=None):
    """The CA signs ``key_csr`` with the extension profile ``profile`` (and, if given, its own subject)."""
    (folder / f"{name}.ext").write_text(profile)
    args = ["x509", "-req", "-in", key_csr, "-CA", "ca.pem", "-CAkey", "issuing-ca.key", "-set_serial", "4096",
            "-days", "30", "-extfile", f"{name}.ext", "-out", f"{name}.pem"]
    run_openssl(*args, *(("-subj", subj) if subj else ()), cwd=folder)
    return folder / f"{name}.pem"


def _doctor(folder, cert, *flags):
    done = run_cli("doctor", cert, "--csr", folder / "expe.csr", "--json", *flags, cwd=folder, expect=(0, 1))
    found = json.loads(done.stdout)["findings"]
    assert done.returncode == (1 if any(f["severity"] == "error" for f in found) else 0)
    return done.returncode, [f for f in found if f["rule"].startswith("csr-")]


def test_a_certificate_issued_as_requested_shows_no_change_and_exit_0(pki):
    code, found = _doctor(pki, _issue(pki, "faithful", FAITHFUL))
    assert (code, found) == (0, [])


def test_a_ca_that_drops_client_auth_is_named_as_an_error(pki):
    code, found = _doctor(pki, _issue(pki, "server-only", SERVER_ONLY))
    assert code == 1 and [f["rule"] for f in found] == ["csr-eku-dropped"]
    assert "clientAuth" in found[0]["message"] and found[0]["severity"] == "error"
    assert "appendix E" in found[0]["chapter"]


def test_a_dropped_san_is_named_and_an_added_one_is_a_note(pki):
    code, found = _doctor(pki, _issue(pki, "fewer", FEWER_NAMES))
    assert code == 1 and [(f["rule"], f["severity"]) for f in found] == [("csr-san-dropped", "error")]
    assert "DNS:collab-edge.example.com" in found[0]["message"]
    code, found = _doctor(pki, _issue(pki, "more", MORE_NAMES))
    assert code == 0 and [(f["rule"], f["severity"]) for f in found] == [("csr-san-added", "info")]
    assert "DNS:www.example.com" in found[0]["message"]


def test_a_certificate_for_another_key_is_an_error(pki):
    run_openssl("req", "-new", "-config", "req.cnf", "-key", "expe-2.key", "-subj", SUBJ, "-addext", SANS,
                "-addext", BOTH, "-out", "other.csr", cwd=pki)
    code, found = _doctor(pki, _issue(pki, "other-key", FAITHFUL, key_csr="other.csr"))
    assert code == 1 and [f["rule"] for f in found] == ["csr-key-mismatch"]


def test_subject_rewrites_a_changed_cn_warns_and_dropped_attributes_are_a_note(pki):
    _, found = _doctor(pki, _issue(pki, "dv", FAITHFUL, subj="/CN=expe.example.com"))
    assert [(f["rule"], f["severity"]) for f in found] == [("csr-subject-rewritten", "info")]
    assert all(f"{attr} '" in found[0]["message"] for attr in ("ST", "L", "O", "OU"))
    _, found = _doctor(pki, _issue(pki, "renamed", FAITHFUL, subj="/C=GB/CN=vcse.example.com"))
    assert [(f["rule"], f["severity"]) for f in found] == [("csr-subject-rewritten", "warning")]
    assert "CN 'expe.example.com' became 'vcse.example.com'" in found[0]["message"]


def test_csr_in_the_wrong_place_is_refused_on_one_line(pki):
    said = run_cli("doctor", pki / "expe.csr", "--csr", pki / "expe.csr", cwd=pki, expect=2).stderr.decode()
    assert len(said.strip().splitlines()) == 1 and "compare-certificate" in said
    said = run_cli("doctor", pki / "ca.pem", "--csr", pki / "ca.pem", cwd=pki, expect=2).stderr.decode()
    assert "compare-csr" in said
    # the Python API refuses the same way, citing chapter 3
    assert_refused("compare-certificate", compare, (pki / "expe.csr").read_bytes(), (pki / "expe.csr").read_bytes(),
                   chapter=guide.CH3)


def test_every_csr_rule_in_the_tables_has_a_case_here():
    from labkit.expressway import csr_compare, doctor

    source = Path(__file__).read_text()
    for module in (csr_compare, doctor):
        rows = set(re.findall(r"^(csr-[a-z-]+)\s{2,}(?:error|warning|info)\s", module.__doc__, re.M))
        assert rows == {"csr-key-mismatch", "csr-san-dropped", "csr-san-added", "csr-eku-dropped",
                        "csr-subject-rewritten"}
        for rule in rows:
            assert f'"{rule}"' in source, rule


def test_the_server_certificate_page_reports_what_the_ca_changed_for_a_pending_csr(tmp_path):
    """A real Expressway CSR (serverAuth and clientAuth) signed by labkit's CA with the `server` profile (the AD CS
    Web Server template): the upload goes through and names the lost purpose."""
    root = init_ca(tmp_path / "root", "Lab Root CA", key=lab.fixture_key("root-ca"))
    node = ExpresswayNode("expe.lab.example", "expressway-e")
    csr = node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", **LAB_SUBJECT),
                            key=lab.fixture_key("expe-1"))
    cert = root.sign(csr, "server")
    assert [f.rule for f in compare(cert, csr)] == ["csr-eku-dropped"]
    store = CertificateStore(node)
    store.trusted.append(root.certificate)
    findings = store.server.upload(cert.public_bytes(serialization.Encoding.PEM))
    assert "csr-eku-dropped" in findings.rules() and node.certificate == cert
    assert "clientAuth" in next(f for f in findings if f.rule == "csr-eku-dropped").message
