"""Bad input gets a clear LabkitError (rule, value, chapter) and exit code 2 from the CLI, never a traceback."""

from __future__ import annotations

import subprocess

import pytest
from conftest import run_cli, run_openssl
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
    assert "Traceback" not in err


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
    (("handshake", "127.0.0.1:1", "--ca", "{f}/server.key.pem"), "expect-certificate"),
    (("handshake", "127.0.0.1:1", "--ca", "{f}/r.csr"), "expect-certificate"),
    (("handshake", "127.0.0.1:1", "--cert", "{f}/server.pem", "--key", "{f}/other.key"), "key-mismatch"),
    (("handshake", "127.0.0.1:1", "--cert", "{f}/server.pem"), "cert-and-key"),
    (("probe", LONG_HOST), "probe-unreachable"),
    (("probe", "127.0.0.1:70000"), "host-port"),
    (("probe", "127.0.0.1:1", "--ca", "{f}/r.csr"), "probe-ca"),
]


@pytest.mark.parametrize(("argv", "rule"), TLS_CASES, ids=[f"{a[0]}-{r}-{i}" for i, (a, r) in enumerate(TLS_CASES)])
def test_tls_commands_refuse_bad_input_in_one_line(tls_files, argv, rule):
    done = run_cli(*(a.format(f=tls_files) for a in argv), expect=2)
    err = done.stderr.decode()
    assert f"rule: {rule}" in err and err.count("\n") == 1 and len(err) < 600, err
