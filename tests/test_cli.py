"""The command line as an administrator runs it: the installed ``labkit`` console script and ``python -m labkit``.

Every subcommand is found by walking the real parser, so a new one is covered the day it is added: its ``--help``
must work from both entry points, and it must have one real call below (the test fails until it has one). Each
call states its exit code.
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import ssl
import subprocess
import sys
import threading
import urllib.request

import pytest
from conftest import LABKIT, run_cli
from cryptography import x509

from labkit import cli, lab
from labkit.x509.pki import lab_chain


def _paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the parser: groups ("ca",) and leaves ("ca", "sign")."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append((*prefix, name))
                found += _paths(child, (*prefix, name))
    return found


PATHS = _paths(cli.parser(full=True))
LEAVES = [p for p in PATHS if not any(q[: len(p)] == p and q != p for q in PATHS)]
ENTRY_POINTS = {"console script": [str(LABKIT)], "python -m labkit": [sys.executable, "-m", "labkit"]}


def test_the_parser_has_the_documented_commands():
    assert {p[0] for p in PATHS} == {"decode", "convert", "verify", "doctor", "ca", "req", "handshake", "probe",
                                     "serve"}


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=list(ENTRY_POINTS))
@pytest.mark.parametrize("path", [(), *PATHS], ids=lambda p: " ".join(p) or "labkit")
def test_help_of_every_command_from_both_entry_points(entry, path):
    done = subprocess.run([*ENTRY_POINTS[entry], *path, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {' '.join(('labkit', *path))}"), done.stdout.splitlines()[0]
    assert done.stderr == ""


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=list(ENTRY_POINTS))
def test_version_and_a_usage_error_from_both_entry_points(entry):
    done = subprocess.run([*ENTRY_POINTS[entry], "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("labkit 0.")
    done = subprocess.run([*ENTRY_POINTS[entry], "no-such-command"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice" in done.stderr and "Traceback" not in done.stderr


# -- one real call of every command ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A CA pair made by `labkit ca init`, a key and CSR by `labkit req new`, a certificate signed by `labkit ca
    sign`: the calls later tests build on (each of those commands is asserted in its own test as well)."""
    folder = tmp_path_factory.mktemp("cli")
    run_cli("ca", "init", "root", "--cn", "CLI Root", cwd=folder)
    run_cli("ca", "init", "issuing", "--cn", "CLI Issuing", "--parent", "root", "--crl-url",
            "http://127.0.0.1:1/issuing.crl", "--ocsp-url", "http://127.0.0.1:1/", cwd=folder)
    run_cli("req", "new", "--cn", "expe.lab.example", "--key-out", "expe.key", "-o", "expe.csr", cwd=folder)
    run_cli("ca", "sign", "issuing", "--csr", "expe.csr", "--profile", "client-server", "-o", "expe.pem", cwd=folder)
    return folder


def _serial(site) -> str:
    return f"{x509.load_pem_x509_certificate((site / 'expe.pem').read_bytes()).serial_number:X}"


def call_decode(site):
    out = run_cli("decode", site / "expe.pem").stdout.decode()
    assert "Subject: CN = expe.lab.example" in out and "TLS Web Client Authentication" in out


def call_convert(site):
    der = run_cli("convert", site / "expe.pem", "--to", "der").stdout
    assert x509.load_der_x509_certificate(der).subject.rfc4514_string() == "CN=expe.lab.example"


def call_verify(site):
    (site / "trusted.pem").write_bytes((site / "issuing" / "certs" / "chain.pem").read_bytes())
    done = run_cli("verify", "expe.pem", "--ca-file", "trusted.pem", "--json", cwd=site)
    result = json.loads(done.stdout)
    assert result["ok"] and result["code"] is None and result["path"][0] == "CN=expe.lab.example"
    assert result["openssl"].startswith("openssl verify ")
    assert result["openssl"].endswith("-CAfile trusted.pem expe.pem")


def call_ca_check(site):
    done = run_cli("ca", "check", "issuing", "--json", cwd=site)
    report = json.loads(done.stdout)
    assert report["ok"] and {item["topic"] for item in report["items"]} >= {"database", "serial", "key"}


def call_doctor(site):
    done = run_cli("doctor", site / "expe.pem", "--role", "expressway-e", "--json", expect=0)
    assert json.loads(done.stdout)["findings"] == []


def call_ca_init(site):
    run_cli("ca", "init", "another", "--cn", "Another Root", cwd=site)
    root = x509.load_pem_x509_certificate((site / "another" / "certs" / "ca.cert.pem").read_bytes())
    assert root.subject == root.issuer and root.subject.rfc4514_string() == "CN=Another Root,O=labkit,C=GB"
    assert (site / "another" / "index.txt").read_text().count("\n") == 1  # the root records itself


def call_ca_sign(site):
    run_cli("req", "new", "--cn", "expc.lab.example", "--key-out", "expc.key", "-o", "expc.csr", cwd=site)
    run_cli("ca", "sign", "issuing", "--csr", "expc.csr", "--profile", "server", "-o", "expc.pem", cwd=site)
    cert = x509.load_pem_x509_certificate((site / "expc.pem").read_bytes())
    assert cert.issuer.rfc4514_string() == "CN=CLI Issuing,O=labkit,C=GB"


def call_ca_revoke(site):
    run_cli("req", "new", "--cn", "gone.lab.example", "--key-out", "gone.key", "-o", "gone.csr", cwd=site)
    run_cli("ca", "sign", "issuing", "--csr", "gone.csr", "--profile", "server", "-o", "gone.pem", cwd=site)
    run_cli("ca", "revoke", "issuing", "--cert", "gone.pem", "--reason", "superseded", cwd=site)
    assert "\tsuperseded\t" not in (site / "issuing" / "index.txt").read_text()  # the reason rides on the date
    assert ",superseded\t" in (site / "issuing" / "index.txt").read_text()


def call_ca_crl(site):
    crl = x509.load_pem_x509_crl(run_cli("ca", "crl", "issuing", cwd=site).stdout)
    assert crl.issuer.rfc4514_string() == "CN=CLI Issuing,O=labkit,C=GB"


def call_ca_list(site):
    out = run_cli("ca", "list", "issuing", cwd=site).stdout.decode()
    assert _serial(site) in out and "expe.lab.example" in out


def call_ca_status(site):
    out = run_cli("ca", "status", "issuing", _serial(site), cwd=site).stdout.decode()
    assert out.strip().endswith("=Valid (V)")


def call_req_new(site):
    run_cli("req", "new", "--cn", "new.lab.example", "--san", "alt.lab.example", "--key-out", "new.key", "-o",
            "new.csr", cwd=site)
    csr = x509.load_pem_x509_csr((site / "new.csr").read_bytes())
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["new.lab.example", "alt.lab.example"]


def call_handshake(site):
    chain = lab_chain("expe.lab.example", at=lab.now_real())
    cert_path, key_path = chain.server.write(site, "tls-server")
    (site / "tls-chain.pem").write_bytes(chain.server.cert_pem() + chain.intermediate.cert_pem())
    (site / "tls-root.pem").write_bytes(chain.root.cert_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(site / "tls-chain.pem", key_path)
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve_one():
            conn, _ = listener.accept()
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

        thread = threading.Thread(target=serve_one, daemon=True)
        thread.start()
        done = run_cli("handshake", f"127.0.0.1:{port}", "--ca", site / "tls-root.pem", "--servername",
                       "expe.lab.example", "--json")
        thread.join(timeout=10)
    result = json.loads(done.stdout)
    assert result["ok"] and result["verify_code"] is None


def call_probe(site):
    """The site's certificate served with its issuing CA by the real `openssl s_server`, probed as an Expressway-E."""
    from labkit.tls.chain_server import ChainServer
    from labkit.x509.loading import load_file

    leaf = x509.load_pem_x509_certificate((site / "expe.pem").read_bytes())
    issuing = x509.load_pem_x509_certificate((site / "issuing" / "certs" / "ca.cert.pem").read_bytes())
    with ChainServer([leaf, issuing], load_file(site / "expe.key", expect="private-key").obj) as server:
        done = run_cli("probe", f"127.0.0.1:{server.port}", "--ca", site / "root" / "certs" / "ca.cert.pem",
                       "--servername", "expe.lab.example", "--role", "expressway-e", "--json", expect=0)
    result = json.loads(done.stdout)
    assert result["findings"] == [] and result["verification"]["code"] == 0
    assert [c["subject"] for c in result["chain"]] == ["CN = expe.lab.example", "C = GB, O = labkit, CN = CLI Issuing"]


def _serve(site, *args) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([str(LABKIT), "serve", *map(str, args)], cwd=site, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        proc.kill()
        pytest.fail("labkit serve printed no URL within 20 s")
    return proc, proc.stdout.readline().strip()


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0, proc.stderr.read()
    assert "Traceback" not in proc.stderr.read()


def call_serve_crl(site):
    run_cli("ca", "crl", "issuing", "-o", "published.crl", cwd=site)
    proc, url = _serve(site, "crl", "issuing", "--port", "0")
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            crl = x509.load_der_x509_crl(reply.read())
        assert crl.issuer.rfc4514_string() == "CN=CLI Issuing,O=labkit,C=GB"
    finally:
        _stop(proc)


def call_serve_ocsp(site):
    from labkit.revocation import query

    proc, url = _serve(site, "ocsp", "issuing", "--port", "0")
    try:
        leaf = x509.load_pem_x509_certificate((site / "expe.pem").read_bytes())
        issuer = x509.load_pem_x509_certificate((site / "issuing" / "certs" / "ca.cert.pem").read_bytes())
        assert query(url, leaf, issuer, at=lab.now_real()).status == "good"
    finally:
        _stop(proc)


REAL_CALLS = {
    ("decode",): call_decode,
    ("convert",): call_convert,
    ("verify",): call_verify,
    ("doctor",): call_doctor,
    ("ca", "init"): call_ca_init,
    ("ca", "sign"): call_ca_sign,
    ("ca", "revoke"): call_ca_revoke,
    ("ca", "crl"): call_ca_crl,
    ("ca", "list"): call_ca_list,
    ("ca", "status"): call_ca_status,
    ("ca", "check"): call_ca_check,
    ("req", "new"): call_req_new,
    ("handshake",): call_handshake,
    ("probe",): call_probe,
    ("serve", "crl"): call_serve_crl,
    ("serve", "ocsp"): call_serve_ocsp,
}


def test_every_command_has_a_real_call():
    assert sorted(REAL_CALLS) == sorted(LEAVES), "a command without a real call here (or a call for no command)"


@pytest.mark.parametrize("path", list(REAL_CALLS), ids=lambda p: " ".join(p))
def test_real_call(site, path):
    REAL_CALLS[path](site)
