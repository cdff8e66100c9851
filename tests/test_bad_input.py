"""Bad input gets a clear LabkitError (rule, value, chapter) and exit code 2 from the CLI, never a traceback."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pytest
from conftest import LABKIT, run_cli, run_openssl, snapshot
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import InputError, LabkitError, PasswordError, WrongTypeError, lab
from labkit.x509.certs import CertSpec, issue, request
from labkit.x509.loading import MAX_INPUT_BYTES, load, load_all, load_file


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """A certificate, a CSR and an encrypted key, made once for the whole table."""
    lab.reset()
    key = lab.fixture_key("trainee")
    cert = issue(CertSpec("trainee.lab.example"), key).cert_pem()
    csr = request(CertSpec("trainee.lab.example"), key).public_bytes(serialization.Encoding.PEM)
    enc = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b"correct horse"))
    from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

    certificate = load(cert).obj
    pfx = pkcs12.serialize_key_and_certificates(b"expe", key, certificate, None,
                                                serialization.BestAvailableEncryption(b"example"))
    p7b = pkcs7.serialize_certificates([certificate], serialization.Encoding.DER)
    return {"cert": cert, "csr": csr, "enc": enc, "pfx": pfx, "p7b": p7b}


def _cases(m):
    body = m["cert"].split(b"\n")
    der = load(m["cert"]).obj.public_bytes(serialization.Encoding.DER)
    return {
        "empty file": (b"", InputError, "input-not-empty"),
        "only whitespace": (b"  \n\t\n", InputError, "input-not-empty"),
        "truncated PEM (no END line)": (b"\n".join(body[:10]), InputError, "pem-complete"),
        "END label differs from BEGIN": (m["cert"].replace(b"END CERTIFICATE", b"END X509 CRL"), InputError,
                                         "pem-complete"),
        "wrong PEM label": (m["cert"].replace(b"CERTIFICATE", b"CERTIFICATE CHAIN"), InputError, "pem-label"),
        "body is not base64": (m["cert"].replace(body[3], b"!!!!not*base64!!!!"), InputError, "pem-base64"),
        "PEM body cut short": (b"\n".join(body[:5] + body[-2:]), InputError, "pem-content"),
        "garbage DER": (bytes(range(0x31, 0xFF)) * 3, InputError, "pem-or-der"),
        "DER cut in half": (der[: len(der) // 2], InputError, "der-content"),
        "text without PEM armour": (b"this is my certificate, honest\n", InputError, "pem-or-der"),
        "PKCS#12 without its password": (m["pfx"], PasswordError, "pkcs12-password"),
        "PKCS#7 cut short": (m["p7b"][: len(m["p7b"]) - 40], InputError, "pkcs7-content"),
        "encrypted key, no passphrase": (m["enc"], PasswordError, "key-passphrase"),
        "file of 10 MB": (b"A" * 10_000_000, InputError, "file-too-large"),
    }


CASE_IDS = [
    "empty file", "only whitespace", "truncated PEM (no END line)", "END label differs from BEGIN", "wrong PEM label",
    "body is not base64", "PEM body cut short", "garbage DER", "DER cut in half", "text without PEM armour",
    "PKCS#12 without its password", "PKCS#7 cut short", "encrypted key, no passphrase", "file of 10 MB",
]


def test_the_table_lists_every_case(material):
    assert sorted(_cases(material)) == sorted(CASE_IDS) and len(CASE_IDS) >= 12


@pytest.mark.parametrize("case", CASE_IDS)
def test_bad_input_raises_a_labkit_error_naming_the_rule(material, case, tmp_path):
    data, error, rule = _cases(material)[case]
    with pytest.raises(error) as info:
        path = tmp_path / "input.pem"
        path.write_bytes(data)
        load_file(path)
    assert info.value.rule == rule
    assert f"rule: {rule}" in str(info.value) and "see " in str(info.value)


@pytest.mark.parametrize("case", CASE_IDS)
@pytest.mark.parametrize("command", ["decode", "convert"])
def test_bad_input_exits_2_with_one_line_and_no_traceback(material, case, command, tmp_path):
    data, _, rule = _cases(material)[case]
    path = tmp_path / "input.pem"
    path.write_bytes(data)
    extra = ["--to", "der"] if command == "convert" else []
    done = run_cli(command, path, *extra, expect=2)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert done.stdout == b""
    assert err.count("\n") == 1 and err.startswith(f"labkit {command}: ") and f"rule: {rule}" in err
    assert "Traceback" not in err and not INTERNALS.search(err), err


#: A parser's own words (pyca/cryptography's Rust ParseError) that must never reach a trainee.
INTERNALS = re.compile(r"ParseError|error parsing asn1|kind: [A-Z]\w+|\{ needed: ")


def test_pem_content_a_body_cut_short_is_said_in_plain_words(tmp_path, openssl_bin):
    """Case bonus-1b: the PEM lines are whole, but the base64 body lacks its middle; the message says how many bytes
    the DER lacks, not the library's ParseError."""
    run_openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "k.pem", "-subj", "/CN=cut",
                "-out", tmp_path / "c.pem")
    lines = (tmp_path / "c.pem").read_bytes().splitlines()
    (tmp_path / "cut.pem").write_bytes(b"\n".join(lines[:4] + lines[-1:]) + b"\n")
    assert subprocess.run(["openssl", "x509", "-in", tmp_path / "cut.pem", "-noout"], capture_output=True).returncode
    err = run_cli("decode", tmp_path / "cut.pem", expect=2).stderr.decode()
    assert "rule: pem-content" in err and re.search(r"the DER ends \d+ bytes early", err) and not INTERNALS.search(err)


def test_a_csr_where_a_certificate_is_expected_says_it_must_be_signed_first(material):
    with pytest.raises(WrongTypeError) as info:
        load(material["csr"], expect="certificate")
    assert "certificate signing request" in str(info.value) and "signed by a CA" in str(info.value)
    assert info.value.rule == "expect-certificate"


def test_wrong_key_password_is_refused_without_showing_it(material):
    with pytest.raises(PasswordError) as info:
        load(material["enc"], password="Tr0ub4dor&3")
    assert "Wrong passphrase" in str(info.value) and "Tr0ub4dor" not in str(info.value)
    assert load(material["enc"], password="correct horse").kind == "private-key"


def test_a_wrong_passphrase_whose_noise_passes_the_padding_check_is_still_a_wrong_passphrase():
    """AES-CBC decryption with a wrong passphrase passes its padding check about once in 125 tries; the noise then
    fails to parse. That is still the passphrase (key-passphrase), never "not a valid private key" (this made the
    test above fail once in a full run). The case is searched for with cryptography itself, in PEM and in DER."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    for encoding in (serialization.Encoding.PEM, serialization.Encoding.DER):
        loader = (serialization.load_pem_private_key if encoding == serialization.Encoding.PEM
                  else serialization.load_der_private_key)
        for _ in range(5000):
            enc = key.private_bytes(encoding, serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(b"correct horse"))
            try:
                loader(enc, password=b"Tr0ub4dor&3")
            except ValueError as exc:
                if "decrypt" not in str(exc).lower():
                    break  # the noise passed the padding check
        else:
            pytest.fail("no wrong passphrase passed the padding check in 5000 tries")
        with pytest.raises(PasswordError) as info:
            load(enc, password="Tr0ub4dor&3")
        assert info.value.rule == "key-passphrase" and "Tr0ub4dor" not in str(info.value)


def test_two_objects_where_one_is_expected(material):
    with pytest.raises(InputError, match="single-object"):
        load(material["cert"] + material["cert"])
    assert len(load_all(material["cert"] + b"\n" + material["cert"])) == 2


def test_missing_file_folder_and_limit(tmp_path):
    with pytest.raises(InputError, match="file-exists"):
        load_file(tmp_path / "nope.pem")
    with pytest.raises(InputError, match="input-is-file"):
        load_file(tmp_path)
    assert MAX_INPUT_BYTES < 10_000_000
    done = run_cli("decode", tmp_path / "nope.pem", expect=2)
    assert done.returncode == 2 and b"No such file" in done.stderr


def test_every_error_is_a_labkit_error_with_rule_value_and_chapter():
    for cls in (InputError, WrongTypeError, PasswordError):
        err = cls("message", rule="some-rule", value="v")
        assert isinstance(err, LabkitError) and err.rule == "some-rule" and err.chapter.startswith("guide")


def test_openssl_agrees_these_inputs_are_bad(material, tmp_path, openssl_bin):
    """A sanity check of the table itself: OpenSSL refuses the same broken certificates."""
    for case in ("truncated PEM (no END line)", "PEM body cut short", "garbage DER"):
        path = tmp_path / "bad.pem"
        path.write_bytes(_cases(material)[case][0])
        with pytest.raises(subprocess.CalledProcessError):
            run_openssl("x509", "-in", path, "-noout")


# -- the TLS commands: every refusal is one line with its rule --------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from labkit import lab
    from labkit.x509.certs import CertSpec, request
    from labkit.x509.pki import lab_chain

    folder = tmp_path_factory.mktemp("tls-bad")
    chain = lab_chain()
    chain.server.write(folder, "server")
    (folder / "root.pem").write_bytes(chain.root.cert_pem())
    (folder / "r.csr").write_bytes(request(CertSpec("x.lab.example"), lab.fixture_key("trainee")).public_bytes(
        ser.Encoding.PEM))
    other = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    (folder / "other.key").write_bytes(other.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                                           ser.NoEncryption()))
    return folder


LONG_HOST = "a" * 10_000
TLS_CASES = [
    (("handshake", "127.0.0.1:70000"), "host-port"),
    (("handshake", "127.0.0.1:0"), "host-port"),
    (("handshake", f"{LONG_HOST}:443"), "host-port"),
    (("handshake", "127.0.0.1:1", "--ca", "{f}/server.key.pem"), "ca-file-certificate"),
    (("handshake", "127.0.0.1:1", "--ca", "{f}/r.csr"), "ca-file-certificate"),
    (("handshake", "127.0.0.1:1", "--cert", "{f}/server.pem", "--key", "{f}/other.key"), "key-mismatch"),
    (("handshake", "127.0.0.1:1", "--cert", "{f}/server.pem"), "cert-and-key"),
    (("probe", LONG_HOST), "probe-unreachable"),
    (("probe", "127.0.0.1:70000"), "host-port"),
    (("probe", "127.0.0.1:1", "--ca", "{f}/r.csr"), "ca-file-certificate"),
]


@pytest.mark.parametrize(("argv", "rule"), TLS_CASES, ids=[f"{a[0]}-{r}-{i}" for i, (a, r) in enumerate(TLS_CASES)])
def test_tls_commands_refuse_bad_input_in_one_line(tls_files, argv, rule):
    done = run_cli(*(a.format(f=tls_files) for a in argv), expect=2)
    err = done.stderr.decode()
    assert f"rule: {rule}" in err and err.count("\n") == 1 and len(err) < 600, err


# -- the suite: every entry point, every kind of bad input (issue 16) --------------------------------------------------
#
# Each command-line case runs the installed `labkit` as a shell would and is held to four things at once:
# no traceback, exit 2, exactly one line on standard error and it names the rule, and nothing changed on disk
# (every file under the fixture folder hashed before and after). The secret in pass.txt must never be printed.

SECRET = b"correct horse battery staple"
#: How long one refused command may take (a refusal is immediate; a server that started instead is a failure).
CASE_TIMEOUT = 30


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Everything the bad inputs need, made once: CAs made by labkit (a root with a passphrase; an issuing CA),
    damaged copies of a CA, a key, CSRs (one with an unknown critical extension, made by openssl), a CRL, a
    passphrase file, a FIFO, a device node and a symlink loop."""
    from labkit.ca import init_ca
    from labkit.x509.pki import lab_chain

    f = tmp_path_factory.mktemp("bad-input-site")
    init_ca(f / "root", "Bad Input Root", key=lab.fixture_key("root-ca"), passphrase=SECRET.decode())
    issuing = init_ca(f / "issuing", "Bad Input Issuing", key=lab.fixture_key("issuing-ca"))
    issuing.crl()
    (f / "crl.pem").write_bytes(issuing.config.crl.read_bytes())
    (f / "pass.txt").write_bytes(SECRET + b"\n")
    (f / "empty.txt").write_bytes(b"")
    (f / "big.pem").write_bytes(b"A" * 10_000_000)
    (f / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    chain = lab_chain()
    chain.server.write(f, "server")
    (f / "root.pem").write_bytes(chain.root.cert_pem())
    key = lab.fixture_key("trainee")
    (f / "r.csr").write_bytes(request(CertSpec("r.lab.example"), key).public_bytes(serialization.Encoding.PEM))
    (f / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    run_openssl("req", "-new", "-key", f / "k.pem", "-subj", "/CN=crit.lab.example", "-addext",
                "1.3.6.1.4.1.55555.9.9=critical,DER:0500", "-out", f / "critical.csr")
    run_openssl("req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", f / "small.key", "-subj",
                "/CN=small.lab.example", "-days", "30", "-out", f / "small.pem")  # too weak for TLS at level 2
    os.mkfifo(f / "fifo")
    os.symlink("loop", f / "loop")
    (f / "folder").mkdir()
    device = f / "zero"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # the device /dev/zero is
    except (PermissionError, OSError):
        if not os.path.exists("/dev/zero"):
            pytest.skip("no device node can be made here, and there is no /dev/zero")
        os.symlink("/dev/zero", device)  # acceptable stand-in: a path that leads to a device
    damage = {
        "cnf-binary": lambda d: (d / "openssl.cnf").write_bytes(b"\x00\x01\x02 binary \xff" * 20),
        "cnf-variable": lambda d: (d / "openssl.cnf").write_text(
            (d / "openssl.cnf").read_text().replace("certs                  = $dir/certs", "certs = $nosuch/certs")),
        "cnf-days": lambda d: (d / "openssl.cnf").write_text(
            (d / "openssl.cnf").read_text().replace("default_days           = 365", "default_days           = 0")),
        "serial-negative": lambda d: (d / "serial").write_text("-10\n"),
        "serial-binary": lambda d: (d / "serial").write_bytes(b"\xff\xfe\x00"),
        "index-binary": lambda d: (d / "index.txt").write_bytes(b"\x00\x01binary\xff\n" * 3),
        "index-bad-serial": lambda d: (d / "index.txt").write_text(
            (d / "index.txt").read_text().replace("\t1000\t", "\tXYZ\t")),
    }
    for name, spoil in damage.items():
        issuing.copy_to(f / name)  # opened once: its openssl.cnf names the copy's folder
        spoil(f / name)
    return f


def refusal_problems(argv, rule: str | None, *watch, cwd=None, command=None) -> list[str]:
    """What is wrong with how ``labkit ARGV`` (or ``command``) refused: [] when it exited 2 with one stderr line
    naming ``rule`` (any rule when None), no traceback, the secret not shown and nothing under the ``watch``
    folders changed."""
    before = [snapshot(folder) for folder in watch]
    try:
        done = subprocess.run(command or [str(LABKIT), *map(str, argv)], cwd=cwd, capture_output=True,
                              timeout=CASE_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return [f"still running after {CASE_TIMEOUT} s (it did not refuse)"]
    err = done.stderr.decode(errors="replace")
    problems = []
    if "Traceback" in err:
        problems.append("a traceback")
    if done.returncode != 2:
        problems.append(f"exit {done.returncode}, not 2")
    lines = err.splitlines()
    if len(lines) != 1 or "rule: " not in lines[0]:
        problems.append(f"{len(lines)} stderr lines, not one naming a rule")
    if rule is not None and f"rule: {rule}" not in err:
        problems.append(f"rule {rule} not named")
    if SECRET in done.stderr or SECRET in done.stdout:
        problems.append("the secret was printed")
    if INTERNALS.search(err):
        problems.append("the library's internal error text")
    if [snapshot(folder) for folder in watch] != before:
        problems.append("something changed on disk")
    return [f"{p}: {err.strip()[:300]}" for p in problems]


F = "{f}"
LONG = "a" * 70
CLI_CASES = {
    # labkit.cli.x509: decode, convert, verify
    "x509": [
        (("decode", f"{F}/fifo"), "input-is-regular-file"),
        (("decode", f"{F}/zero"), "input-is-regular-file"),
        (("decode", f"{F}/loop"), "symlink-loop"),
        (("decode", f"{F}/folder"), "input-is-file"),
        (("decode", f"{F}/missing.pem"), "file-exists"),
        (("decode", f"{F}/pass.txt"), "pem-or-der"),
        (("decode", f"{F}/big.pem"), "file-too-large"),
        (("decode", f"{F}/garbage.bin"), "pem-or-der"),
        (("decode", f"{F}/server.pem", "--table", "--at", "yesterday"), "iso8601-instant"),
        (("decode",), "usage"),
        (("convert", f"{F}/server.pem", "--to", "der", "-o", f"{F}/no/such/folder.der"), "output-folder-exists"),
        (("convert", f"{F}/server.pem", "--to", "der", "-o", f"{F}/folder"), "output-is-regular-file"),
        (("convert", f"{F}/server.pem", "--to", "der", "-o", f"{F}/fifo"), "output-is-regular-file"),
        (("convert", f"{F}/server.pem", "--to", "der", "-o", f"{F}/server.pem"), "output-is-input"),
        (("convert", f"{F}/server.pem", "--to", "pem", "-o", "{w}/a.pem", "--key-out", f"{F}/k.pem"),
         "key-out-exists"),
        (("convert", f"{F}/server.pem", "--to", "pem", "-o", "{w}/a.pem", "--chain-out", "{w}/a.pem"),
         "output-paths-differ"),
        (("convert", f"{F}/server.pem", "--to", "pem", "-o", "{w}/a.pem", "--key-out", "{w}/a.pem"),
         "output-paths-differ"),
        (("convert", f"{F}/server.pem", "--to", "xyz"), "usage"),
        (("verify", f"{F}/server.pem", "--ca-file", f"{F}/r.csr"), "expect-certificate"),
        (("verify", f"{F}/server.pem", "--ca-file", f"{F}/crl.pem"), "expect-certificate"),
        (("verify", f"{F}/server.pem", "--ca-file", f"{F}/root.pem", "--crl-file", f"{F}/server.pem"), "expect-crl"),
        (("verify", f"{F}/server.pem", "--ca-file", f"{F}/pass.txt"), "pem-or-der"),
    ],
    "doctor": [
        (("doctor", f"{F}/k.pem"), "doctor-input"),
        (("doctor", f"{F}/crl.pem"), "doctor-input"),
        (("doctor", f"{F}/empty.txt"), "input-not-empty"),
        (("doctor", f"{F}/fifo"), "input-is-regular-file"),
        (("doctor", f"{F}/zero"), "input-is-regular-file"),
        (("doctor", f"{F}/loop"), "symlink-loop"),
        (("doctor", f"{F}/missing.pem"), "file-exists"),
        (("doctor", f"{F}/pass.txt"), "pem-or-der"),
        (("doctor", f"{F}/server.pem", "--csr", f"{F}/pass.txt"), "pem-or-der"),
        (("doctor", f"{F}/server.pem", "--csr", f"{F}/server.pem"), "compare-csr"),
        (("doctor", f"{F}/server.pem", "--at", "noon"), "iso8601-instant"),
        (("doctor", f"{F}/server.pem", "--role", "router"), "usage"),
        (("doctor", f"{F}/server.pem", "--fqdn", "exp e.example"), "doctor-expected-name"),
        (("doctor", f"{F}/server.pem", "--ucm-domain", "not a domain!!"), "doctor-expected-name"),
        (("doctor", f"{F}/big.pem"), "file-too-large"),
    ],
    # labkit.cli.ca: ca and req
    "ca": [
        (("ca", "init", "{w}/new", "--cn", "Lab\n[ server_ext ]\nbasicConstraints = critical, CA:true"),
         "name-characters"),
        (("ca", "init", "{w}/new", "--cn", "R", "--crl-url", "http://x/a.crl\nbasicConstraints = CA:true"), "crl-url"),
        (("ca", "init", "{w}/new", "--cn", "R", "--ocsp-url", "https://x/ocsp"), "ocsp-url"),
        (("ca", "init", "{w}/new", "--cn", "R", "--days", "0"), "validity-positive"),
        (("ca", "init", "{w}/new", "--cn", "R", "--days", "-5"), "validity-positive"),
        (("ca", "init", "{w}/new", "--cn", "R", "--days", "99999999"), "validity-end"),
        (("ca", "init", "{w}/new", "--cn", LONG), "cn-length"),
        (("ca", "init", "{w}/new", "--cn", " "), "cn-present"),
        (("ca", "init", f"{F}/issuing", "--cn", "Again"), "ca-folder-empty"),
        (("ca", "init", "{w}/new", "--cn", "R", "--passphrase-file", f"{F}/empty.txt"), "passphrase-empty"),
        (("ca", "init", "{w}/new", "--cn", "R", "--parent", f"{F}/folder"), "ca-layout"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/pass.txt", "--profile", "server"), "pem-or-der"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/server.pem", "--profile", "server"), "expect-csr"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/fifo", "--profile", "server"), "input-is-regular-file"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/critical.csr", "--profile", "server"),
         "csr-critical-extension"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/r.csr", "--profile", "server", "-o", f"{F}/folder"),
         "output-is-regular-file"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/r.csr", "--profile", "server", "--days", "0"),
         "validity-positive"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/r.csr", "--profile", "server", "--days", "99999999"),
         "validity-end"),
        (("ca", "sign", f"{F}/root", "--csr", f"{F}/r.csr", "--profile", "server"), "key-passphrase"),
        (("ca", "sign", f"{F}/root", "--csr", f"{F}/r.csr", "--profile", "server", "--passphrase-file",
          f"{F}/empty.txt"), "passphrase-empty"),
        (("ca", "crl", f"{F}/issuing", "--days", "0"), "crl-next-update"),
        (("ca", "crl", f"{F}/issuing", "-o", f"{F}/fifo"), "output-is-regular-file"),
        # the CA's own files as the output (openssl ca -out would overwrite them; labkit never does)
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/r.csr", "--profile", "server", "-o",
          f"{F}/issuing/private/ca.key.pem"), "output-is-ca-file"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/r.csr", "--profile", "server", "-o", f"{F}/issuing/index.txt"),
         "output-is-ca-file"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/r.csr", "--profile", "server", "-o", f"{F}/issuing/serial"),
         "output-is-ca-file"),
        (("ca", "sign", f"{F}/issuing", "--csr", f"{F}/r.csr", "--profile", "server", "-o", f"{F}/r.csr"),
         "output-is-input"),
        (("ca", "crl", f"{F}/issuing", "-o", f"{F}/issuing/certs/ca.cert.pem"), "output-is-ca-file"),
        (("ca", "crl", f"{F}/issuing", "-o", f"{F}/issuing/openssl.cnf"), "output-is-ca-file"),
        (("ca", "revoke", f"{F}/issuing", "--serial", "zz"), "serial-hex"),
        (("ca", "revoke", f"{F}/issuing", "--serial", "9999"), "serial-in-database"),
        (("ca", "status", f"{F}/issuing", "not-hex"), "serial-hex"),
        (("ca", "sign", f"{F}/cnf-binary", "--csr", f"{F}/r.csr", "--profile", "server"), "ca-config-syntax"),
        (("ca", "sign", f"{F}/cnf-variable", "--csr", f"{F}/r.csr", "--profile", "server"), "ca-config-syntax"),
        (("ca", "sign", f"{F}/cnf-days", "--csr", f"{F}/r.csr", "--profile", "server"), "ca-config"),
        (("ca", "sign", f"{F}/serial-negative", "--csr", f"{F}/r.csr", "--profile", "server"), "serial-file"),
        (("ca", "sign", f"{F}/serial-binary", "--csr", f"{F}/r.csr", "--profile", "server"), "serial-file"),
        (("ca", "list", f"{F}/index-binary"), "index-line"),
        (("ca", "sign", f"{F}/index-bad-serial", "--csr", f"{F}/r.csr", "--profile", "server"), "index-serial"),
        (("req", "new", "--cn", "bücher.lab.example", "--key-out", "{w}/k", "-o", "{w}/c"), "name-a-label"),
        # an existing private key is never replaced (openssl req -keyout would): the site's k.pem stays as it was
        (("req", "new", "--cn", "x.lab.example", "--key-out", f"{F}/k.pem", "-o", "{w}/c"), "key-out-exists"),
        (("req", "new", "--cn", "x.lab.example", "--san", "xn--zz.lab.example", "--key-out", "{w}/k", "-o", "{w}/c"),
         "punycode-label"),
        (("req", "new", "--cn", "x.lab.example", "--san", "a b.example", "--key-out", "{w}/k", "-o", "{w}/c"),
         "dns-name-characters"),
        (("req", "new", "--cn", "x.lab.example", "--subj", "/C=GBR", "--key-out", "{w}/k", "-o", "{w}/c"),
         "country-code"),
        (("req", "new", "--cn", "x.lab.example", "--subj", "/X=1", "--key-out", "{w}/k", "-o", "{w}/c"),
         "subject-syntax"),
        (("req", "new", "--cn", "x\n.lab.example", "--key-out", "{w}/k", "-o", "{w}/c"), "name-characters"),
        (("req", "new", "--cn", LONG, "--key-out", "{w}/k", "-o", "{w}/c"), "cn-length"),
        (("req", "new", "--cn", "x.lab.example", "--key-out", "{w}/same", "-o", "{w}/same"), "output-paths-differ"),
        (("req", "new", "--cn", "x.lab.example", "--key-out", "{w}/k", "-o", "{w}/no/such/c"),
         "output-folder-exists"),
    ],
    # labkit.cli.tls: handshake (a refusal comes before any connection)
    "tls": [
        (("handshake", "127.0.0.1:70000"), "host-port"),
        (("handshake", "127.0.0.1:0"), "host-port"),
        (("handshake", "127.0.0.1:abc"), "host-port"),
        (("handshake", "a" * 10_000 + ":443"), "host-port"),
        (("handshake", "127.0.0.1:1", "--ca", f"{F}/k.pem"), "ca-file-certificate"),
        (("handshake", "127.0.0.1:1", "--ca", f"{F}/r.csr"), "ca-file-certificate"),
        (("handshake", "127.0.0.1:1", "--ca", f"{F}/crl.pem"), "ca-file-certificate"),
        (("handshake", "127.0.0.1:1", "--ca", f"{F}/fifo"), "input-is-regular-file"),
        (("handshake", "127.0.0.1:1", "--ca", f"{F}/zero"), "input-is-regular-file"),
        (("handshake", "127.0.0.1:1", "--ca", f"{F}/pass.txt"), "pem-or-der"),
        (("handshake", "127.0.0.1:1", "--cert", f"{F}/server.pem"), "cert-and-key"),
        (("handshake", "127.0.0.1:1", "--cert", f"{F}/server.pem", "--key", f"{F}/pass.txt"), "pem-or-der"),
        (("handshake", "127.0.0.1:1", "--cert", f"{F}/server.pem", "--key", f"{F}/k.pem"), "key-mismatch"),
        (("handshake", "127.0.0.1:1", "--cert", f"{F}/small.pem", "--key", f"{F}/small.key"), "client-key-unusable"),
        (("handshake", "127.0.0.1:1"), "tcp-connect"),
    ],
    "probe": [
        (("probe", "127.0.0.1:70000"), "host-port"),
        (("probe", "127.0.0.1:1", "--ca", f"{F}/r.csr"), "ca-file-certificate"),
        (("probe", "127.0.0.1:1", "--ca", f"{F}/crl.pem"), "ca-file-certificate"),
        (("probe", "127.0.0.1:1", "--ca", f"{F}/fifo"), "input-is-regular-file"),
        (("probe", "127.0.0.1:1", "--ca", f"{F}/zero"), "input-is-regular-file"),
        (("probe", "127.0.0.1:1", "--ca", f"{F}/missing.pem"), "file-exists"),
        (("probe", "127.0.0.1:1", "--ca", f"{F}/pass.txt"), "pem-or-der"),
        (("probe", "127.0.0.1:1", "--cert", f"{F}/server.pem", "--key", f"{F}/pass.txt"), "pem-or-der"),
        (("probe", "a b:1"), "host-port"),
        (("probe", "127.0.0.1:1", "--service", "gopher"), "usage"),
        (("probe", "127.0.0.1:1", "--at", "teatime"), "iso8601-instant"),
        (("probe", "[::1"), "host-port"),
        (("probe", "127.0.0.1:1", "--timeout", "-1"), "probe-timeout"),
        (("probe", "127.0.0.1:1"), "probe-unreachable"),
    ],
    "serve": [
        (("serve", "crl", f"{F}/issuing", "--port", "70000"), "server-port"),
        (("serve", "ocsp", f"{F}/issuing", "--port", "-1"), "server-port"),
        (("serve", "ocsp", f"{F}/issuing", "--port", "abc"), "usage"),
        (("serve", "ocsp", f"{F}/issuing", "--port", "1", "--validity-hours", "0"), "ocsp-validity-hours"),
        (("serve", "ocsp", f"{F}/issuing", "--port", "1", "--validity-hours", "999999999"), "ocsp-validity-hours"),
        (("serve", "ocsp", f"{F}/root", "--port", "1"), "ocsp-signing-key"),
        (("serve", "ocsp", f"{F}/root", "--port", "1", "--passphrase-file", f"{F}/empty.txt"), "passphrase-empty"),
        (("serve", "ocsp", f"{F}/root", "--port", "1", "--passphrase-file", f"{F}/r.csr"), "ocsp-signing-key"),
        (("serve", "crl", f"{F}/folder", "--port", "1"), "ca-layout"),
        (("serve", "crl", f"{F}/cnf-binary", "--port", "1"), "ca-config-syntax"),
        (("serve", "ocsp", f"{F}/issuing", "--port", "1", "--responder-cert", f"{F}/r.csr", "--responder-key",
          f"{F}/k.pem"), "expect-certificate"),
        (("serve", "ocsp", f"{F}/issuing", "--port", "1", "--responder-cert", f"{F}/server.pem"), "responder-pair"),
        (("serve", "ocsp", f"{F}/issuing", "--port", "1", "--responder-cert", f"{F}/server.pem", "--responder-key",
          f"{F}/pass.txt"), "pem-or-der"),
        (("serve", "crl", f"{F}/issuing", "--port", "1", "--at", "whenever"), "iso8601-instant"),
    ],
}

CLI_IDS = [(group, i) for group, cases in CLI_CASES.items() for i in range(len(cases))]


def test_every_command_group_has_at_least_12_kinds():
    from labkit.cli import COMMANDS

    groups = {module.rsplit(".", 1)[1] for module in COMMANDS.values()}
    assert groups == set(CLI_CASES)
    for group, cases in CLI_CASES.items():
        assert len({argv for argv, _ in cases}) >= 12, group


@pytest.mark.parametrize(("group", "index"), CLI_IDS, ids=[f"{g}-{i}" for g, i in CLI_IDS])
def test_a_bad_input_is_one_line_with_its_rule_exit_2_and_nothing_changed(site, tmp_path, group, index):
    argv, rule = CLI_CASES[group][index]
    args = [a.format(f=site, w=tmp_path) for a in argv]
    assert refusal_problems(args, rule, site, tmp_path) == []
    assert not (tmp_path / "new").exists() and not any(tmp_path.glob(".*labkit-init*"))


def test_the_checker_fails_a_traceback_two_lines_a_change_and_a_printed_secret(tmp_path):
    """Canaries: each fault, on its own, makes the checker report it (and so the suite fail)."""
    def run(code):
        return refusal_problems(None, "x", tmp_path, command=[sys.executable, "-c", code])

    assert run("import sys; sys.stderr.write('one line (rule: x)\\n'); sys.exit(2)") == []
    crash = run("import sys; sys.stderr.write('rule: x\\n'); raise RuntimeError('boom')")
    assert any(p.startswith("a traceback") for p in crash) and any("exit 1" in p for p in crash)
    assert any("2 stderr lines" in p for p in run("import sys; sys.stderr.write('a (rule: x)\\nb\\n'); sys.exit(2)"))
    assert any("rule x not named" in p for p in run("import sys; sys.stderr.write('rule: y\\n'); sys.exit(2)"))
    changed = f"import sys, pathlib; pathlib.Path({str(tmp_path / 'left')!r}).write_text('x'); " \
              "sys.stderr.write('(rule: x)\\n'); sys.exit(2)"
    assert any("changed on disk" in p for p in run(changed))
    leak = f"import sys; sys.stderr.write({SECRET.decode()!r} + ' (rule: x)\\n'); sys.exit(2)"
    assert any("secret" in p for p in run(leak))
    internals = ("import sys; sys.stderr.write('bad: ParseError { kind: ShortData { needed: 4 } } (rule: x)\\n'); "
                 "sys.exit(2)")
    assert any("library's internal" in p for p in run(internals))


def test_a_closed_pipe_ends_decode_quietly(site):
    """`labkit decode cert.pem | head -1`: the reader goes away; Python's documented way, no BrokenPipeError."""
    done = subprocess.run(f"'{LABKIT}' decode '{site}/server.pem' | head -1", shell=True, capture_output=True,
                          timeout=60)
    assert done.stdout.count(b"\n") == 1 and done.stderr == b"", done.stderr
    head = subprocess.Popen([str(LABKIT), "decode", str(site / "server.pem")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    head.stdout.close()  # closed before labkit writes a byte
    _, err = head.communicate(timeout=60)
    assert head.returncode == 141 and b"Traceback" not in err and b"BrokenPipe" not in err, err


# -- the main Python entry points: the same kinds, as LabkitErrors ---------------------------------------------------

@pytest.fixture(scope="module")
def api(site):
    """What the Python cases call: the CAs of the site, a leaf and its issuer, a CSR."""
    from labkit.ca import open_ca
    from labkit.x509.pki import lab_chain

    chain = lab_chain()
    issuing = open_ca(site / "issuing")
    return {"site": site, "issuing": issuing, "locked": open_ca(site / "root"), "leaf": chain.server.certificate,
            "issuer": chain.intermediate.certificate, "csr": request(CertSpec("r.lab.example"),
                                                                       lab.fixture_key("trainee"))}


def _api_cases(a, work) -> dict[str, list[tuple[str, object, str]]]:
    """(kind, a call that must refuse, its rule) per entry point; ``work`` is a folder the call may try to write."""
    from labkit.ca import init_ca, open_ca
    from labkit.expressway.csr import CsrRequest
    from labkit.expressway.doctor import doctor
    from labkit.revocation.crl import fetch_crl
    from labkit.revocation.ocsp import query, verify_response
    from labkit.revocation.ocsp import request as ocsp_request
    from labkit.revocation.servers import CrlServer, OcspServer

    f, issuing, leaf, issuer, csr = a["site"], a["issuing"], a["leaf"], a["issuer"], a["csr"]
    key = lab.fixture_key("issuing-ca")

    def csr_page(**fields):
        base = dict(role="expressway-c", fqdn="expc.lab.example", country="GB", state="S", locality="L",
                    organization="O", unit="U")
        return lambda: CsrRequest(**{**base, **fields})

    return {
        "load_file": [
            ("FIFO", lambda: load_file(f / "fifo"), "input-is-regular-file"),
            ("device", lambda: load_file(f / "zero"), "input-is-regular-file"),
            ("symlink loop", lambda: load_file(f / "loop"), "symlink-loop"),
            ("folder", lambda: load_file(f / "folder"), "input-is-file"),
            ("missing", lambda: load_file(f / "missing.pem"), "file-exists"),
            ("passphrase file", lambda: load_file(f / "pass.txt"), "pem-or-der"),
            ("10 MB", lambda: load_file(f / "big.pem"), "file-too-large"),
            ("binary", lambda: load_file(f / "garbage.bin"), "pem-or-der"),
            ("empty", lambda: load_file(f / "empty.txt"), "input-not-empty"),
            ("CSR for a certificate", lambda: load_file(f / "r.csr", expect="certificate"), "expect-certificate"),
            ("CRL for a certificate", lambda: load_file(f / "crl.pem", expect="certificate"), "expect-certificate"),
            ("unknown kind", lambda: load_file(f / "r.csr", expect="passport"), "kind-name"),
            ("not bytes", lambda: load(42), "input-type"),
        ],
        "doctor": [
            ("None", lambda: doctor(None), "doctor-input"),
            ("a number", lambda: doctor(42), "doctor-input"),
            ("a list", lambda: doctor([]), "doctor-input"),
            ("empty bytes", lambda: doctor(b""), "input-not-empty"),
            ("text", lambda: doctor("my certificate"), "pem-or-der"),
            ("a key", lambda: doctor((f / "k.pem").read_bytes()), "doctor-input"),
            ("a CRL", lambda: doctor((f / "crl.pem").read_bytes()), "doctor-input"),
            ("a role", lambda: doctor(leaf, role="router"), "doctor-role"),
            ("a release", lambda: doctor(leaf, version="X99.9"), "expressway-version"),
            ("an FQDN with a space", lambda: doctor(leaf, fqdn="exp e.example"), "doctor-expected-name"),
            ("a chat alias of one label", lambda: doctor(leaf, chat_aliases=["chat"]), "doctor-expected-name"),
            ("an instant", lambda: doctor(leaf, at="teatime"), "iso8601-instant"),
            ("a CSR that is a certificate", lambda: doctor(leaf, csr=leaf), "compare-csr"),
            ("PKCS#12 without password", lambda: doctor(_pfx()), "pkcs12-password"),
        ],
        "ca": [
            ("CN with a new line", lambda: init_ca(work / "c", "A\nB", key=key), "name-characters"),
            ("CN of 70", lambda: init_ca(work / "c", LONG, key=key), "cn-length"),
            ("empty CN", lambda: init_ca(work / "c", "", key=key), "cn-present"),
            ("country", lambda: init_ca(work / "c", "C", key=key, country="GBR"), "country-code"),
            ("CRL URL", lambda: init_ca(work / "c", "C", key=key, crl_url="ftp://x/c.crl"), "crl-url"),
            ("OCSP URL", lambda: init_ca(work / "c", "C", key=key, ocsp_url="http://x/ o"), "ocsp-url"),
            ("days 0", lambda: init_ca(work / "c", "C", key=key, days=0), "validity-positive"),
            ("days past 9999", lambda: issuing.sign(csr, "server", days=10**7), "validity-end"),
            ("days not a number", lambda: issuing.sign(csr, "server", days="30"), "validity-days"),
            ("CRL hours 0", lambda: issuing.crl(hours=0), "crl-next-update"),
            ("empty passphrase", lambda: init_ca(work / "c", "C", key=key, passphrase=b""), "passphrase-empty"),
            ("folder in use", lambda: init_ca(f / "folder", "C", key=key, config=f / "issuing" / "openssl.cnf"),
             "ca-folder-empty"),
            ("not a CA", lambda: open_ca(f / "folder"), "ca-layout"),
            ("binary openssl.cnf", lambda: open_ca(f / "cnf-binary"), "ca-config-syntax"),
            ("serial file", lambda: open_ca(f / "serial-negative").sign(csr, "server"), "serial-file"),
            ("index.txt", lambda: open_ca(f / "index-binary").entries(), "index-line"),
            ("profile", lambda: issuing.sign(csr, "superuser"), "profile-name"),
            ("serial", lambda: issuing.revoke("zz"), "serial-hex"),
            ("reason", lambda: issuing.revoke(0x1000, "tired"), "revocation-reason"),
            ("locked key", lambda: a["locked"].sign(csr, "server"), "key-passphrase"),
        ],
        "CsrRequest": [
            ("peers=42", csr_page(peers=42), "field-type"),
            ("peers=[42]", csr_page(peers=[42]), "fqdn"),
            ("role", csr_page(role="router"), "role"),
            ("no FQDN", csr_page(fqdn=""), "field-required"),
            ("FQDN not text", csr_page(fqdn=42), "field-required"),
            ("FQDN with a space", csr_page(fqdn="exp c.lab.example"), "fqdn"),
            ("country", csr_page(country="GBR"), "country-code"),
            ("state with a new line", csr_page(state="S\nT"), "printable"),
            ("key length", csr_page(key_length=1024), "key-length"),
            ("digest", csr_page(digest="md5"), "digest"),
            ("release", csr_page(version="X99.9"), "expressway-version"),
            ("alternative name", csr_page(alternative_name="everything"), "san-source"),
            ("custom CN missing", csr_page(common_name="custom"), "field-required"),
        ],
        "revocation": [
            ("URL [::1", lambda: query("http://[::1", leaf, issuer), "ocsp-url"),
            ("URL ftp", lambda: query("ftp://127.0.0.1/", leaf, issuer), "ocsp-url"),
            ("URL host too long", lambda: query("http://" + "a" * 300 + "/", leaf, issuer), "ocsp-url"),
            ("nothing listening", lambda: query("http://127.0.0.1:1/", leaf, issuer, timeout=2), "ocsp-unreachable"),
            ("no AIA", lambda: query(None, issuer, issuer), "ocsp-url"),
            ("garbage response", lambda: verify_response(b"\x30\x03garbage", leaf, issuer), "ocsp-response-der"),
            ("CertID digest", lambda: ocsp_request(leaf, issuer, digest="md4"), "ocsp-digest"),
            ("CRL URL", lambda: fetch_crl("ftp://127.0.0.1/c.crl"), "crl-url"),
            ("OCSP server of None", lambda: OcspServer(None), "server-ca"),
            ("CRL server of a path", lambda: CrlServer("lab-work/issuing"), "server-ca"),
            ("OCSP port 70000", lambda: OcspServer(issuing, port=70000), "server-port"),
            ("OCSP port -1", lambda: OcspServer(issuing, port=-1), "server-port"),
            ("CRL port 70000", lambda: CrlServer(issuing, port=70000), "server-port"),
            ("validity hours 0", lambda: OcspServer(issuing, validity_hours=0), "ocsp-validity-hours"),
            ("validity hours True", lambda: OcspServer(issuing, validity_hours=True), "ocsp-validity-hours"),
            ("locked CA key", lambda: OcspServer(a["locked"]).start(), "ocsp-signing-key"),
        ],
    }


def _pfx() -> bytes:
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = lab.fixture_key("trainee")
    cert = issue(CertSpec("p.lab.example"), key).certificate
    return pkcs12.serialize_key_and_certificates(b"p", key, cert, None,
                                                 serialization.BestAvailableEncryption(b"pfx password"))


API_GROUPS = ["load_file", "doctor", "ca", "CsrRequest", "revocation"]


def test_every_python_entry_point_has_at_least_12_kinds(api, tmp_path):
    cases = _api_cases(api, tmp_path)
    assert sorted(cases) == sorted(API_GROUPS)
    for group, items in cases.items():
        assert len({kind for kind, _, _ in items}) >= 12, group


def api_problems(call, rule: str, *watch) -> list[str]:
    """What is wrong with how ``call()`` refused: [] when it raised a LabkitError naming ``rule`` in one line, without
    the secret, and nothing under the ``watch`` folders changed."""
    before = [snapshot(folder) for folder in watch]
    problems = []
    try:
        call()
    except LabkitError as exc:
        if exc.rule != rule or f"rule: {rule}" not in str(exc) or "\n" in str(exc):
            problems.append(f"{exc.rule} ({exc})")
        if SECRET.decode() in str(exc):
            problems.append("the secret is in the message")
    except Exception as exc:  # noqa: BLE001 - any other exception is the defect this check exists to find
        problems.append(f"{type(exc).__name__}: {exc}")
    else:
        problems.append("accepted")
    if [snapshot(folder) for folder in watch] != before:
        problems.append("something changed on disk")
    return problems


@pytest.mark.parametrize("group", API_GROUPS)
def test_a_python_entry_point_refuses_each_kind_with_its_rule_and_changes_nothing(api, tmp_path, group):
    work = tmp_path / "work"
    work.mkdir()
    failures = {kind: problems for kind, call, rule in _api_cases(api, work)[group]
                if (problems := api_problems(call, rule, api["site"], tmp_path))}
    assert failures == {}


def test_the_python_checker_fails_a_bare_exception_a_wrong_rule_and_a_change(tmp_path):
    def bare():
        raise KeyError("RSA-8192")

    def wrong():
        raise InputError("x", rule="other-rule")

    def writes():
        (tmp_path / "left").write_text("x")
        raise InputError("x", rule="r")

    assert api_problems(lambda: (_ for _ in ()).throw(InputError("x", rule="r")), "r", tmp_path) == []
    assert api_problems(bare, "r", tmp_path) == ["KeyError: 'RSA-8192'"]
    assert api_problems(wrong, "r", tmp_path)[0].startswith("other-rule")
    assert api_problems(lambda: None, "r", tmp_path) == ["accepted"]
    assert api_problems(writes, "r", tmp_path) == ["something changed on disk"]


# -- the CA's kill loop ------------------------------------------------------------------------------------------------

def test_the_ca_survives_sigkill_at_random_points_and_openssl_ca_agrees(tmp_path, openssl_bin):
    """20 `labkit ca sign|revoke|crl` processes, each SIGKILLed at a random point (seeded, so a failure can be
    replayed); then the folder is whole: every database line has its certificate file, whole and matching, no serial
    twice, the serial file past every serial used, labkit opens it and issues again, and `openssl ca` generates a CRL
    from it and issues into it."""
    import random
    import time

    from labkit.ca import init_ca, open_ca
    from labkit.ca.database import oneline, read_number

    ca = init_ca(tmp_path / "ca", "Kill Loop Root", key=lab.fixture_key("root-ca"))
    csr = tmp_path / "r.csr"
    csr.write_bytes(request(CertSpec("kill.lab.example"), lab.fixture_key("expe-1")).public_bytes(
        serialization.Encoding.PEM))
    at = ("--at", "2026-01-05T09:00:00Z")
    rng = random.Random(16)
    started = time.monotonic()  # one whole run sets the window the kills fall in (a scale, not an assertion)
    run_cli("ca", "sign", ca.folder, "--csr", csr, "--profile", "server", "-o", tmp_path / "whole.pem", *at)
    window = time.monotonic() - started
    for round_ in range(20):
        choice = rng.random()
        if choice < 0.6:
            argv = ["ca", "sign", ca.folder, "--csr", csr, "--profile", "server", "-o", tmp_path / f"{round_}.pem", *at]
        elif choice < 0.8:
            issued = [e.serial_hex for e in open_ca(ca.folder).entries() if e.status == "V" and e.serial != 0x1000]
            argv = ["ca", "revoke", ca.folder, "--serial", rng.choice(issued), *at] if issued else ["ca", "crl",
                                                                                                    ca.folder, *at]
        else:
            argv = ["ca", "crl", ca.folder, "-o", tmp_path / f"{round_}.crl", *at]
        proc = subprocess.Popen([str(LABKIT), *map(str, argv)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 1.1) * window)  # a random point: from Python's start to after the work
        proc.kill()
        _, err = proc.communicate(timeout=60)
        assert b"Traceback" not in err, err.decode(errors="replace")

    reopened = open_ca(ca.folder)
    entries = reopened.entries()  # index.txt as openssl ca reads it: every line valid, no serial twice
    serials = [e.serial for e in entries]
    assert len(serials) == len(set(serials))
    for entry in entries:
        cert = x509.load_pem_x509_certificate((ca.folder / "newcerts" / f"{entry.serial_hex}.pem").read_bytes())
        assert cert.serial_number == entry.serial and oneline(cert.subject) == entry.subject
    written = [int(p.stem, 16) for p in (ca.folder / "newcerts").glob("*.pem")]
    for path in (ca.folder / "newcerts").glob("*.pem"):  # whole files only: no empty or short certificate
        x509.load_pem_x509_certificate(path.read_bytes())
    assert read_number(ca.folder / "serial") > max(written)
    again = reopened.sign(request(CertSpec("after.lab.example"), lab.fixture_key("expe-2")), "server")
    assert again.serial_number == read_number(ca.folder / "serial") - 1 > max(written)
    cnf = ca.folder / "openssl.cnf"
    run_openssl("ca", "-config", cnf, "-gencrl", "-out", tmp_path / "openssl.crl")
    crl = x509.load_pem_x509_crl((tmp_path / "openssl.crl").read_bytes())
    assert {r.serial_number for r in crl} == {e.serial for e in reopened.entries() if e.status == "R"}
    run_openssl("ca", "-batch", "-config", cnf, "-in", csr, "-notext", "-out", tmp_path / "openssl.pem")
    issued = x509.load_pem_x509_certificate((tmp_path / "openssl.pem").read_bytes())
    assert issued.serial_number == again.serial_number + 1
    assert open_ca(ca.folder).entries()[-1].serial == issued.serial_number  # labkit reads what openssl appended
