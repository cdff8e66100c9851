"""`labkit probe` reads what OpenSSL reads and names the first cause, as `labkit verify` does (issue 15, field cases
05 and 11). Every input is built here with the `openssl` command line; the server is `openssl s_server` on a free
port of 127.0.0.1, stopped when the test ends."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import run_cli

from labkit.httpd import free_port

NAME = "expc.example.com"


def openssl(*args, cwd):
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """root -> issuing CA made with `openssl x509 -req` and no extensions (no basicConstraints: case 11) -> leaf with
    serverAuth; and root -> good issuing CA -> leaf. The trusted lists as PEM, PEM PKCS#7 (with text around it) and
    DER PKCS#7; a key file that holds no certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (make test installs it as root)")
    d = tmp_path_factory.mktemp("probe-inputs")
    (d / "ca.cnf").write_text("basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n")
    (d / "leaf.cnf").write_text(f"basicConstraints=CA:false\nextendedKeyUsage=serverAuth,clientAuth\n"
                                f"subjectAltName=DNS:{NAME}\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.pem", "-days", "30",
            "-subj", "/O=Example Org/CN=Example Root CA", "-addext", "basicConstraints=critical,CA:true",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, ext in (("nobc", None), ("good", "ca.cnf")):
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.csr",
                "-subj", f"/O=Example Org/CN=Example {name} Issuing CA", cwd=d)
        openssl("x509", "-req", "-in", f"{name}-ca.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
                "-days", "30", "-out", f"{name}-ca.pem", *(["-extfile", ext] if ext else []), cwd=d)
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-leaf.key", "-out",
                f"{name}-leaf.csr", "-subj", f"/CN={NAME}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}-leaf.csr", "-CA", f"{name}-ca.pem", "-CAkey", f"{name}-ca.key",
                "-CAcreateserial", "-days", "20", "-extfile", "leaf.cnf", "-out", f"{name}-leaf.pem", cwd=d)
    (d / "trusted.pem").write_bytes((d / "good-ca.pem").read_bytes() + (d / "root.pem").read_bytes())
    (d / "trusted-nobc.pem").write_bytes((d / "nobc-ca.pem").read_bytes() + (d / "root.pem").read_bytes())
    openssl("crl2pkcs7", "-nocrl", "-certfile", "trusted.pem", "-outform", "DER", "-out", "trusted.p7b", cwd=d)
    openssl("crl2pkcs7", "-nocrl", "-certfile", "trusted.pem", "-out", "trusted-pem.p7b", cwd=d)
    body = (d / "trusted-pem.p7b").read_bytes()
    (d / "trusted-pem.p7b").write_bytes(b"Trusted CA chain, exported from the CA\n" + body + b"end of export\n")
    return d


def s_server(d: Path, name: str):
    """`openssl s_server` serving NAME-leaf.pem and its issuing CA on a free port; returns (process, port)."""
    port = free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", f"{name}-leaf.pem",
                             "-key", f"{name}-leaf.key", "-cert_chain", f"{name}-ca.pem", "-www", "-quiet"],
                            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("openssl s_server did not start")


@pytest.fixture
def server(pki):
    started = []

    def start(name):
        started.append(s_server(pki, name))
        return started[-1][1]

    yield start
    for proc, _ in started:
        proc.kill()
        proc.wait(10)


def probe(pki, port, ca, expect=(0, 1)):
    done = run_cli("probe", f"127.0.0.1:{port}", "--servername", NAME, "--role", "peer", "--ca", ca, "--json",
                   cwd=pki, expect=expect)
    return json.loads(done.stdout)


@pytest.mark.parametrize("ca", ["trusted.p7b", "trusted-pem.p7b"])
def test_ca_file_probe_reads_pkcs7_as_handshake_does(pki, server, ca):
    port = server("good")
    doc = probe(pki, port, ca, expect=0)
    assert doc["ok"] and doc["verification"]["code"] == 0 and doc["verification"]["trusted"] == ca
    inform = ["-inform", "DER"] if ca == "trusted.p7b" else []
    assert doc["command"].startswith(" ".join(["openssl pkcs7 -print_certs", *inform, f"-in {ca} -out {ca}.pem && "]))
    assert f"-CAfile {ca}.pem" in doc["command"]
    run_cli("handshake", f"127.0.0.1:{port}", "--servername", NAME, "--ca", ca, cwd=pki, expect=0)


@pytest.mark.parametrize("command", ["probe", "handshake"])
def test_ca_file_certificate_a_file_without_one_is_refused_before_connecting(pki, command):
    port = free_port()  # nothing listens: a network error would say probe-unreachable
    said = run_cli(command, f"127.0.0.1:{port}", "--ca", "root.key", cwd=pki, expect=2).stderr.decode()
    assert "rule: ca-file-certificate" in said and "a private key" in said and "unreachable" not in said
    assert len(said.strip().splitlines()) == 1


def test_chain_verifies_probe_names_79_for_an_issuing_ca_without_basic_constraints(pki, server):
    port = server("nobc")
    doc = probe(pki, port, "trusted-nobc.pem", expect=1)
    failed = next(f for f in doc["findings"] if f["rule"] == "verify-failed")
    assert doc["verification"]["code"] == 79 and doc["verification"]["message"] == "invalid CA certificate"
    assert "basicConstraints" in failed["message"] and "Extended Key Usage" not in failed["message"]
    verify = json.loads(run_cli("verify", "nobc-leaf.pem", "--ca-file", "trusted-nobc.pem", "--untrusted",
                                "nobc-ca.pem", "--json", cwd=pki, expect=2).stdout)
    assert verify["code"] == doc["verification"]["code"]
