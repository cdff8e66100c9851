"""What administrators really bring, rebuilt with the `openssl` command line: one test per kind of input.

Each kind stands for the field reports of issue 15 (PKCS#7 chains from a CA, `openssl ca -out` text dumps, PKCS#12
exports, EV subjects and unreadable subject values, an issuing CA without basicConstraints, OCSP requests for several
certificates, expired CRLs). The inputs are made here, by `openssl`, never read from elsewhere. OpenSSL-made CA
folders have their own tests in tests/test_openssl_ca_folders.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import warnings

import pytest
from conftest import run_cli, run_openssl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from labkit import InputError, PasswordError, lab
from labkit.expressway.doctor import doctor
from labkit.expressway.store import ServerCertificateSlot, TrustedCaList
from labkit.x509.convert import convert_file
from labkit.x509.loading import describe, load_all
from labkit.x509.verify import verify_chain

LEAF_EXT = "basicConstraints=CA:false\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:expe.example.com\n"
CA_EXT = "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"


def _key(folder, name: str, key_name: str = "trainee") -> str:
    path = folder / f"{name}.key"
    path.write_bytes(lab.fixture_key(key_name).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path.name


def _sign(folder, csr: str, ca: str, out: str, ext: str | None, days: int = 365) -> None:
    args = ["x509", "-req", "-in", csr, "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial", "-days",
            str(days), "-out", out]
    if ext is not None:
        (folder / f"{out}.ext").write_text(ext)
        args += ["-extfile", f"{out}.ext"]
    run_openssl(*args, cwd=folder)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A root, an issuing CA and an Expressway-E certificate made by `openssl req` and `openssl x509 -req` (as case
    05 does), and their PKCS#7 bundles in DER (Windows' export) and PEM, and a PKCS#12 export (password example)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (make test installs it as root)")
    folder = tmp_path_factory.mktemp("field")
    run_openssl("req", "-x509", "-key", _key(folder, "root", "root-ca"), "-out", "root.pem", "-days", "3650",
                "-subj", "/O=Example Org/CN=Example Root CA", "-addext", "basicConstraints=critical,CA:true",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    run_openssl("req", "-new", "-key", _key(folder, "issuing", "issuing-ca"), "-out", "issuing.csr", "-subj",
                "/O=Example Org/CN=Example Issuing CA", cwd=folder)
    _sign(folder, "issuing.csr", "root", "issuing.pem", CA_EXT, 1825)
    run_openssl("req", "-new", "-key", _key(folder, "expe", "expe-1"), "-out", "expe.csr", "-subj",
                "/CN=expe.example.com", cwd=folder)
    _sign(folder, "expe.csr", "issuing", "expe.pem", LEAF_EXT)
    (folder / "chain.pem").write_bytes(b"".join((folder / n).read_bytes() for n in ("expe.pem", "issuing.pem",
                                                                                     "root.pem")))
    run_openssl("crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-outform", "DER", "-out", "certnew.p7b", cwd=folder)
    run_openssl("crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-out", "certnew-pem.p7b", cwd=folder)
    (folder / "pass.txt").write_text("example\n")
    run_openssl("pkcs12", "-export", "-inkey", "expe.key", "-in", "expe.pem", "-certfile", "issuing.pem",
                "-passout", "file:pass.txt", "-out", "expe.pfx", cwd=folder)
    return folder


def _certs(folder, *names) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate((folder / name).read_bytes()) for name in names]


def _notes_only(stderr: bytes) -> None:
    """Standard error holds labkit's own notes and nothing else (no library warning)."""
    lines = stderr.decode().splitlines()
    assert all(line.startswith("note: ") for line in lines), lines


# -- case 05: PKCS#7 chains ---------------------------------------------------------------------------------------

def test_pkcs7_in_der_and_pem_is_read_everywhere_a_bundle_is_read(pki, tmp_path):
    lab.use_lab_time(lab.now_real())  # the certificates were made now, by openssl
    leaf, issuing, root = _certs(pki, "expe.pem", "issuing.pem", "root.pem")
    for name in ("certnew.p7b", "certnew-pem.p7b"):
        data = (pki / name).read_bytes()
        items = load_all(data)
        assert [i.obj for i in items] == [leaf, issuing, root] and {i.container for i in items} == {"PKCS#7"}
        assert describe(items).endswith("holding 3 certificates ('expe.example.com', 'Example Issuing CA', "
                                        "'Example Root CA')")
        assert doctor(data, at=lab.now_real()).subject == "certificate CN = expe.example.com"
        with pytest.raises(InputError) as refused:  # the Expressway's pages take PEM certificates
            TrustedCaList().append(data)
        assert refused.value.rule == "pem-only" and "3 certificates" in str(refused.value)
        assert "labkit convert" in str(refused.value)
    done = run_cli("doctor", pki / "certnew.p7b", "--json", "--at", lab.now_real().isoformat())
    report = json.loads(done.stdout)
    assert report["examined"] == "certificate CN = expe.example.com" and len(report["others"]) == 2
    assert "Python" not in done.stdout.decode() + done.stderr.decode() and "load_all" not in done.stderr.decode()
    done = run_cli("decode", pki / "certnew.p7b")
    assert done.stdout.decode().count("Certificate:\n") == 3
    _notes_only(done.stderr)
    run_cli("convert", pki / "certnew.p7b", "--to", "pem", "-o", tmp_path / "cert.pem", "--chain-out",
            tmp_path / "chain.pem")
    assert (tmp_path / "cert.pem").read_bytes() == run_openssl("x509", "-in", pki / "expe.pem").stdout
    openssl_chain = run_openssl("x509", "-in", pki / "issuing.pem").stdout + run_openssl(
        "x509", "-in", pki / "root.pem").stdout
    assert (tmp_path / "chain.pem").read_bytes() == openssl_chain  # issuing CA first, as the trusted list takes it
    assert TrustedCaList().append(tmp_path / "chain.pem") == []


def test_the_pkcs7_input_is_one_that_makes_cryptography_warn(pki):
    """The canary of the test above: cryptography's own PKCS#7 loader warns on what `openssl crl2pkcs7` writes,
    so a labkit that used it would put that warning on stderr."""
    with pytest.warns(UserWarning, match="PKCS#7"):
        pkcs7.load_der_pkcs7_certificates((pki / "certnew.p7b").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_all((pki / "certnew.p7b").read_bytes())) == 3


# -- case 07: openssl ca's text dump before the PEM block --------------------------------------------------------

def test_text_outside_pem_blocks_is_skipped_as_openssl_skips_it(pki, tmp_path):
    lab.use_lab_time(lab.now_real())
    dump = run_openssl("x509", "-in", pki / "expe.pem", "-text").stdout  # what `openssl ca -out` writes
    assert dump.startswith(b"Certificate:\n")
    (tmp_path / "server.pem").write_bytes(dump)
    leaf = _certs(pki, "expe.pem")[0]
    assert [i.obj for i in load_all(dump)] == [leaf]
    assert run_cli("doctor", tmp_path / "server.pem", "--at", lab.now_real().isoformat()).returncode == 0
    run_cli("convert", tmp_path / "server.pem", "--to", "pem", "-o", tmp_path / "clean.pem")
    assert (tmp_path / "clean.pem").read_bytes() == run_openssl("x509", "-in", tmp_path / "server.pem").stdout
    slot = ServerCertificateSlot(TrustedCaList())
    findings = slot.upload(tmp_path / "server.pem", (pki / "expe.key").read_bytes())
    assert "pem-extra-text" in findings.rules() and slot.current_certificate == leaf
    exported = run_openssl("pkcs12", "-in", pki / "expe.pfx", "-passin", f"file:{pki / 'pass.txt'}", "-nokeys").stdout
    assert exported.startswith(b"Bag Attributes") and len(load_all(exported)) == 2


# -- bonus case: PKCS#12 -----------------------------------------------------------------------------------------

def test_pkcs12_is_read_with_a_password_and_taken_apart_with_the_key_at_0600(pki, tmp_path):
    data = (pki / "expe.pfx").read_bytes()
    with pytest.raises(PasswordError) as missing:
        load_all(data)
    assert missing.value.rule == "pkcs12-password"
    with pytest.raises(PasswordError):
        load_all(data, password="wrong")
    items = load_all(data, password="example")
    assert describe(items) == ("a PKCS#12 file (DER) holding the certificate 'expe.example.com' (its public key "
                               "matches the private key), 1 CA certificate ('Example Issuing CA'), a private key "
                               "(RSA 2048 bits)")
    done = run_cli("decode", pki / "expe.pfx", expect=2)  # no terminal, no password file
    assert b"--password-file" in done.stderr and done.stderr.count(b"\n") == 1
    done = run_cli("decode", pki / "expe.pfx", "--password", "example", expect=2)
    assert b"unrecognized arguments: --password" in done.stderr  # not taken for --password-file (argparse abbrev.)
    done = run_cli("decode", pki / "expe.pfx", "--password-file", pki / "pass.txt")
    assert done.stdout.startswith(b"# a PKCS#12 file (DER) holding the certificate 'expe.example.com'")
    _notes_only(done.stderr)
    run_cli("convert", pki / "expe.pfx", "--to", "pem", "--password-file", pki / "pass.txt", "-o", tmp_path / "c.pem",
            "--chain-out", tmp_path / "ca.pem", "--key-out", tmp_path / "k.pem")
    assert stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "c.pem").st_mode) == 0o644
    openssl_key = run_openssl("pkcs12", "-in", pki / "expe.pfx", "-passin", f"file:{pki / 'pass.txt'}", "-nocerts",
                              "-noenc").stdout
    assert load_all((tmp_path / "k.pem").read_bytes())[0].obj.private_numbers() == \
        load_all(openssl_key)[0].obj.private_numbers()
    assert _certs(tmp_path, "c.pem") == _certs(pki, "expe.pem") and _certs(tmp_path, "ca.pem") == _certs(
        pki, "issuing.pem")
    assert convert_file(pki / "expe.pfx", "pem", password=b"example").count(b"PRIVATE KEY") == 0  # only on request


def test_a_password_file_with_a_windows_line_end_means_what_it_means_to_openssl(tmp_path, openssl_bin):
    """OpenSSL's -passin/-passout file: drops only the line feed, so a CRLF file's secret ends with a carriage return.
    labkit reads the same secret (a key OpenSSL encrypted with it opens; the secret without the CR does not), and
    says so on stderr."""
    (tmp_path / "crlf.txt").write_bytes(b"secret\r\n")
    (tmp_path / "plain.txt").write_bytes(b"secret\n")
    run_openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass",
                "file:crlf.txt", "-out", "enc.key", cwd=tmp_path)
    opened = run_cli("decode", "enc.key", "--password-file", "crlf.txt", cwd=tmp_path)
    assert b"carriage return" in opened.stderr and len(opened.stderr.splitlines()) == 1
    run_cli("decode", "enc.key", "--password-file", "plain.txt", cwd=tmp_path, expect=2)  # not the same secret
    run_openssl("pkey", "-in", "enc.key", "-passin", "file:crlf.txt", "-noout", cwd=tmp_path)  # OpenSSL agrees


def test_pkcs12_password_prompt_on_a_terminal(pki):
    """On a terminal labkit asks for the password (getpass, nothing echoed), as openssl pkcs12 does."""
    import pty
    import select

    from conftest import LABKIT

    pid, fd = pty.fork()
    if pid == 0:  # the child: labkit on the terminal pty.fork made
        os.execv(str(LABKIT), [str(LABKIT), "decode", str(pki / "expe.pfx")])
    output = b""
    try:
        while b"Password for" not in output:
            ready, _, _ = select.select([fd], [], [], 20)
            assert ready, output
            output += os.read(fd, 1024)
        os.write(fd, b"example\n")
        while True:
            ready, _, _ = select.select([fd], [], [], 20)
            if not ready:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert b"Subject: CN = expe.example.com" in output and b"example\r\n" not in output.split(b"Password for")[1][:60]


# -- case 10: EV subjects, and a subject value that is not a string ------------------------------------------------

_OID_VALUE_TBS = """asn1 = SEQUENCE:tbs
[tbs]
version = EXPLICIT:0,INTEGER:2
serial = INTEGER:0x2002
sigalg = SEQUENCE:sigalg
issuer = SEQUENCE:issuer
validity = SEQUENCE:validity
subject = SEQUENCE:subject
spki = SEQUENCE:spki
[sigalg]
oid = OID:sha256WithRSAEncryption
null = NULL
[issuer]
cn = SET:i_cn
[i_cn]
a = SEQUENCE:i_cn_a
[i_cn_a]
t = OID:commonName
v = UTF8:Example Root CA
[validity]
nb = UTCTIME:260101000000Z
na = UTCTIME:491231000000Z
[subject]
x = SET:s_x
cn = SET:s_cn
[s_x]
a = SEQUENCE:s_x_a
[s_x_a]
t = OID:1.3.6.1.4.1.6449.1.2.1.5.1
v = OID:1.3.6.1.4.1.6449.1.2.1.5.1
[s_cn]
a = SEQUENCE:s_cn_a
[s_cn_a]
t = OID:commonName
v = UTF8:expc.example.com
[spki]
alg = SEQUENCE:rsaalg
key = FORMAT:HEX,BITSTRING:{key}
[rsaalg]
oid = OID:rsaEncryption
null = NULL
"""


def test_ev_attributes_are_not_errors_and_an_oid_valued_attribute_is_reported_with_exit_1(pki, tmp_path):
    run_openssl("req", "-new", "-x509", "-key", pki / "expe.key", "-days", "365", "-out", tmp_path / "ev.pem",
                "-subj", "/jurisdictionC=US/jurisdictionST=Delaware/businessCategory=Private Organization/"
                "serialNumber=1234567/C=US/ST=California/L=San Jose/street=1 Example Way/postalCode=95134/"
                "O=Example Org/CN=expe.example.com", "-addext", "subjectAltName=DNS:expe.example.com",
                "-addext", "extendedKeyUsage=serverAuth,clientAuth")
    done = run_cli("doctor", tmp_path / "ev.pem", "--json", "--at", lab.now_real().isoformat(), expect=0)
    findings = json.loads(done.stdout)["findings"]
    assert [f["rule"] for f in findings if f["severity"] == "error"] == []
    # standard X.520 attributes OpenSSL names are not appendix A's numeric OIDs: no subject-OID finding at all
    assert [f for f in findings if f["rule"] in ("unsupported-subject-oid", "unsupported-issuer-oid")] == []
    # appendix A's attribute whose value is an OID: OpenSSL 3 cannot read the certificate at all
    key = run_openssl("rsa", "-in", pki / "expe.key", "-RSAPublicKey_out", "-outform", "DER").stdout.hex()
    (tmp_path / "tbs.cnf").write_text(_OID_VALUE_TBS.format(key=key))
    run_openssl("asn1parse", "-genconf", "tbs.cnf", "-out", "tbs.der", "-noout", cwd=tmp_path)
    signature = run_openssl("dgst", "-sha256", "-sign", pki / "root.key", tmp_path / "tbs.der").stdout.hex()
    (tmp_path / "cert.cnf").write_text(_OID_VALUE_TBS.format(key=key).replace("asn1 = SEQUENCE:tbs", "asn1 = "
                                       "SEQUENCE:cert") + f"[cert]\ntbs = SEQUENCE:tbs\nalg = SEQUENCE:sigalg\n"
                                       f"sig = FORMAT:HEX,BITSTRING:{signature}\n")
    run_openssl("asn1parse", "-genconf", "cert.cnf", "-out", "oidvalue.der", "-noout", cwd=tmp_path)
    der = (tmp_path / "oidvalue.der").read_bytes()
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    (tmp_path / "oidvalue.pem").write_bytes(pem)
    assert "unsupported-subject-oid" in doctor(pem, at=lab.now_real()).rules()  # in Python as on the CLI
    done = run_cli("doctor", tmp_path / "oidvalue.pem", "--json", expect=1)
    rules = [f["rule"] for f in json.loads(done.stdout)["findings"]]
    assert "unsupported-subject-oid" in rules
    assert [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "unsupported-subject-oid"][0][
        "message"].count("1.3.6.1.4.1.6449.1.2.1.5.1") == 1
    with pytest.raises(InputError, match="name-value-not-string"):  # decode refuses it, as `openssl x509` does
        load_all(pem)


# -- case 11 and labkit verify beside openssl verify ---------------------------------------------------------------

@pytest.fixture(scope="module")
def chains(pki, tmp_path_factory):
    """The certificates `labkit verify` and `openssl verify` are compared on, all made by `openssl`: an issuing CA
    without basicConstraints (v1, as `openssl x509 -req` makes without -extfile; and v3 with keyUsage only), a leaf
    that expires in two days, a root nobody trusts, and a CRL of the issuing CA revoking one leaf (`openssl ca`)."""
    folder = tmp_path_factory.mktemp("chains")
    for name in ("root.pem", "root.key", "issuing.pem", "issuing.key", "expe.pem", "expe.csr", "expe.key"):
        shutil.copy(pki / name, folder / name)
    run_openssl("req", "-new", "-key", _key(folder, "v1", "rogue-ca"), "-out", "v1.csr", "-subj",
                "/O=Example Org/CN=Example V1 Issuing CA", cwd=folder)
    _sign(folder, "v1.csr", "root", "v1.pem", None, 1825)
    _sign(folder, "expe.csr", "v1", "expe-v1.pem", LEAF_EXT)
    run_openssl("req", "-new", "-key", "v1.key", "-out", "v3.csr", "-subj", "/O=Example Org/CN=Example KU CA",
                cwd=folder)
    shutil.copy(folder / "v1.key", folder / "v3.key")
    _sign(folder, "v3.csr", "root", "v3.pem", "keyUsage=critical,keyCertSign,cRLSign\n", 1825)
    _sign(folder, "expe.csr", "v3", "expe-v3.pem", LEAF_EXT)
    _sign(folder, "expe.csr", "issuing", "short.pem", LEAF_EXT, 2)
    _sign(folder, "expe.csr", "root", "direct.pem", LEAF_EXT)
    run_openssl("req", "-x509", "-key", _key(folder, "other", "ocsp-signer"), "-out", "other.pem", "-days", "30",
                "-subj", "/CN=Other Root", cwd=folder)
    # an openssl ca folder for the issuing CA, to revoke and publish a CRL
    ca = folder / "ca"
    (ca / "newcerts").mkdir(parents=True)
    (ca / "index.txt").write_text("")
    (ca / "serial").write_text("1000\n")
    (ca / "crlnumber").write_text("1000\n")
    (folder / "ca.cnf").write_text(
        "[ca]\ndefault_ca = d\n[d]\ndir = ./ca\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/newcerts\n"
        "serial = $dir/serial\ncrlnumber = $dir/crlnumber\ncertificate = issuing.pem\nprivate_key = issuing.key\n"
        "default_md = sha256\ndefault_days = 365\ndefault_crl_days = 30\npolicy = p\ncopy_extensions = copy\n"
        "x509_extensions = leaf\n[p]\ncommonName = supplied\n[leaf]\nbasicConstraints = CA:false\n"
        "extendedKeyUsage = serverAuth,clientAuth\n")
    for name in ("good", "gone"):
        run_openssl("req", "-new", "-key", "expe.key", "-out", f"{name}.csr", "-subj", f"/CN={name}.example.com",
                    "-addext", f"subjectAltName=DNS:{name}.example.com", cwd=folder)
        run_openssl("ca", "-batch", "-notext", "-config", "ca.cnf", "-in", f"{name}.csr", "-out", f"{name}.pem",
                    cwd=folder)
    run_openssl("ca", "-config", "ca.cnf", "-revoke", "gone.pem", "-crl_reason", "keyCompromise", cwd=folder)
    run_openssl("ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem", cwd=folder)
    for name, parts in (("trusted.pem", ("root.pem",)), ("inter+root.pem", ("issuing.pem", "root.pem")),
                        ("v1+root.pem", ("v1.pem", "root.pem")), ("v3+root.pem", ("v3.pem", "root.pem"))):
        (folder / name).write_bytes(b"".join((folder / p).read_bytes() for p in parts))
    return folder


#: (scenario, cert, CAfile, untrusted, CRL file, days from now): what `labkit verify` and `openssl verify` compare on.
SCENARIOS = [
    ("good chain", "expe.pem", "trusted.pem", "issuing.pem", None, 0),
    ("intermediate in the CA file", "expe.pem", "inter+root.pem", None, None, 0),
    ("untrusted root", "expe.pem", "other.pem", "issuing.pem", None, 0),
    ("root sent but not trusted", "expe.pem", "other.pem", "inter+root.pem", None, 0),
    ("intermediate missing", "expe.pem", "trusted.pem", None, None, 0),
    ("expired certificate", "short.pem", "trusted.pem", "issuing.pem", None, 5),
    ("revoked certificate", "gone.pem", "trusted.pem", "issuing.pem", "crl.pem", 0),
    ("not revoked", "good.pem", "trusted.pem", "issuing.pem", "crl.pem", 0),
    ("CRL expired", "good.pem", "trusted.pem", "issuing.pem", "crl.pem", 40),
    ("no CRL of the issuer", "direct.pem", "trusted.pem", None, "crl.pem", 0),
    ("v1 intermediate without basicConstraints", "expe-v1.pem", "v1+root.pem", None, None, 0),
    ("v3 intermediate without basicConstraints", "expe-v3.pem", "v3+root.pem", None, None, 0),
]


@pytest.mark.parametrize("scenario,cert,ca_file,untrusted,crl,days", SCENARIOS,
                         ids=[s[0].replace(" ", "-") for s in SCENARIOS])
def test_labkit_verify_agrees_with_openssl_verify(chains, scenario, cert, ca_file, untrusted, crl, days):
    from labkit.x509.verify import openssl_verify_args

    at = lab.now_real() + dt.timedelta(days=days)
    check = verify_chain((chains / cert).read_bytes(), trusted=(chains / ca_file).read_bytes(),
                         intermediates=(chains / untrusted).read_bytes() if untrusted else (), at=at,
                         purpose="expressway", crls=(chains / crl).read_bytes() if crl else None)
    args = openssl_verify_args(cert, ca_file=ca_file, untrusted_file=untrusted, crl_file=crl, at=at)
    done = subprocess.run(["openssl", *args], cwd=chains, capture_output=True, text=True)
    assert check.ok == (done.returncode == 0), (check, done.stdout + done.stderr)
    assert done.returncode in (0, 2)
    if not check.ok:
        assert f"error {check.code} at {check.depth} depth lookup" in done.stdout + done.stderr, (check, done.stdout)


def test_labkit_verify_names_the_real_cause_for_case_11_and_prints_the_openssl_command(chains):
    done = run_cli("verify", "expe-v1.pem", "--ca-file", "v1+root.pem", cwd=chains, expect=2)
    out = done.stdout.decode()
    assert "error 79 at 1 depth lookup" in out and "'Example V1 Issuing CA' has no basicConstraints" in out
    assert "version 1" in out and "is not in the trusted CA list" not in out
    command = next(line.split("the same check: ", 1)[1] for line in out.splitlines() if "the same check:" in line)
    assert command.startswith("openssl verify ") and command.endswith("-CAfile v1+root.pem expe-v1.pem")
    again = run_cli("verify", "gone.pem", "--ca-file", "trusted.pem", "--untrusted", "issuing.pem", "--crl-file",
                    "crl.pem", "--json", cwd=chains, expect=2)
    result = json.loads(again.stdout)
    assert result["code"] == 23 and result["rule"] == "crl-check" and "-crl_check -CRLfile crl.pem" in result["openssl"]
    assert run_cli("verify", "good.pem", "--ca-file", "trusted.pem", "--untrusted", "issuing.pem", "--crl-file",
                   "crl.pem", cwd=chains).stdout.startswith(b"good.pem: OK")


# -- case 06: expired CRLs are visible -----------------------------------------------------------------------------

def test_an_expired_crl_says_so_in_the_decoded_table_and_the_crl_store(chains):
    from labkit.expressway.revocation import CrlStore

    later = (lab.now_real() + dt.timedelta(days=40)).isoformat()
    table = run_cli("decode", chains / "crl.pem", "--table", "--at", later).stdout.decode()
    assert "EXPIRED: its next update passed" in table and "verify error 12" in table
    assert "current (next update in" in run_cli("decode", chains / "crl.pem", "--table").stdout.decode()
    store = CrlStore()
    crl = store.upload((chains / "crl.pem").read_bytes())
    assert store.expired(at=lab.now_real()) == [] and store.expired(at=later) == [crl]
    assert store.table(at=later)["state"].tolist() == ["EXPIRED: every certificate of this CA counts as revoked"]


# -- case 15: an OCSP request for several certificates ---------------------------------------------------------------

def test_an_ocsp_request_for_two_certificates_is_answered_for_each_in_order(tmp_path, openssl_bin):
    from labkit.ca import init_ca
    from labkit.revocation.servers import OcspServer

    at = lab.now_real() - dt.timedelta(days=1)
    root = init_ca(tmp_path / "root", "Example Root CA", key=lab.fixture_key("root-ca"), at=at)
    issuing = init_ca(tmp_path / "issuing", "Example Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root,
                      at=at)
    for name in ("expc", "old"):
        run_openssl("req", "-new", "-key", _key(tmp_path, name, "expe-1"), "-subj", f"/O=Example Org/CN={name}."
                    "example.com", "-out", f"{name}.csr", cwd=tmp_path)
        cert = issuing.sign(x509.load_pem_x509_csr((tmp_path / f"{name}.csr").read_bytes()), "client-server", at=at)
        (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    issuing.revoke(x509.load_pem_x509_certificate((tmp_path / "old.pem").read_bytes()), "keyCompromise", at=at)
    (tmp_path / "issuing.pem").write_bytes(issuing.certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "chain.pem").write_bytes(issuing.chain_pem())
    with OcspServer(issuing, clock=lab.now_real) as responder:
        for digest in ("-sha1", "-sha256"):  # SHA-1 CertIDs (OpenSSL's default) and SHA-256 (what chapter 8 needs)
            done = run_openssl("ocsp", digest, "-issuer", "issuing.pem", "-cert", "old.pem", "-cert", "expc.pem",
                               "-url", responder.url, "-CAfile", "chain.pem", cwd=tmp_path)
            lines = [line for line in done.stdout.decode().splitlines() if line.endswith((": good", ": revoked"))]
            assert lines == ["old.pem: revoked", "expc.pem: good"], done.stdout + done.stderr
            assert b"Response verify OK" in done.stderr


def test_a_key_file_from_openssl_ecparam_genkey_is_read_past_its_parameters_block(tmp_path, openssl_bin):
    """`openssl ecparam -genkey` writes an EC PARAMETERS block before the key; OpenSSL reads the key past it, and so
    does labkit (decode, and convert --key-out, whose key openssl reads back as the same key)."""
    run_openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.key", cwd=tmp_path)
    assert (tmp_path / "ec.key").read_bytes().startswith(b"-----BEGIN EC PARAMETERS-----")
    assert b"EC private key" in run_cli("decode", "ec.key", cwd=tmp_path).stdout
    run_cli("convert", "ec.key", "--to", "pem", "--key-out", "k8.pem", cwd=tmp_path)
    ours = run_openssl("pkey", "-in", "k8.pem", "-pubout", cwd=tmp_path).stdout
    assert ours == run_openssl("pkey", "-in", "ec.key", "-pubout", cwd=tmp_path).stdout


def test_a_byte_order_mark_is_read_past_without_a_note_about_skipped_text(pki, tmp_path):
    """A PEM file saved by a Windows editor starts with a UTF-8 byte-order mark: OpenSSL reads past it; labkit too,
    and does not report it as skipped text (it showed as '' with a hint about openssl ca's dumps)."""
    from labkit.x509.loading import outside_text

    pem = (pki / "expe.pem").read_bytes()
    (tmp_path / "bom.pem").write_bytes(b"\xef\xbb\xbf" + pem)
    done = run_cli("decode", "bom.pem", cwd=tmp_path)
    assert b"skipped" not in done.stderr and b"expe.example.com" in done.stdout
    assert outside_text(b"\xef\xbb\xbf" + pem) is None and outside_text(b"note\n" + pem) == "note"
