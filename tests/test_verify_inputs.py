"""`labkit verify` on what OpenSSL reads (PKCS#7 in DER and PEM, PKCS#12, DER) prints `openssl verify` commands that
run: each test runs them with the real openssl in the same folder and expects the same verdict (issue 15, field
cases 05 and bonus). Inputs are made here with the openssl command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli


def openssl(*args, cwd):
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """root -> issuing -> leaf, another root; as PEM, DER, PKCS#7 (DER and PEM, leaf first or CA-only) and PKCS#12."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (make test installs it as root)")
    d = tmp_path_factory.mktemp("verify-inputs")
    (d / "ca.cnf").write_text("basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n")
    (d / "leaf.cnf").write_text("basicConstraints=CA:false\nextendedKeyUsage=serverAuth,clientAuth\n"
                                "subjectAltName=DNS:expe.example.com\n")
    for root in ("root", "other-root"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{root}.key", "-out", f"{root}.pem",
                "-days", "30", "-subj", f"/CN=Example {root}", "-addext", "basicConstraints=critical,CA:true", cwd=d)
    for name, signer, ext in (("issuing", "root", "ca.cnf"), ("leaf", "issuing", "leaf.cnf")):
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=Example {name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{signer}.pem", "-CAkey", f"{signer}.key",
                "-CAcreateserial", "-days", "20", "-extfile", ext, "-out", f"{name}.pem", cwd=d)
    openssl("x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der", cwd=d)
    openssl("crl2pkcs7", "-nocrl", "-certfile", "leaf.pem", "-certfile", "issuing.pem", "-outform", "DER",
            "-out", "certnew.p7b", cwd=d)
    openssl("crl2pkcs7", "-nocrl", "-certfile", "issuing.pem", "-certfile", "root.pem", "-out", "cachain-pem.p7b",
            cwd=d)
    openssl("crl2pkcs7", "-nocrl", "-certfile", "issuing.pem", "-outform", "DER", "-out", "issuing.p7b", cwd=d)
    openssl("pkcs12", "-export", "-in", "leaf.pem", "-inkey", "leaf.key", "-certfile", "issuing.pem", "-passout",
            "pass:s3cret", "-out", "expe.pfx", cwd=d)
    (d / "pw.txt").write_text("s3cret\n")
    return d


CASES = {
    "PKCS#7 DER as CERT": (["certnew.p7b", "--ca-file", "root.pem"], 0),
    "PKCS#7 DER as CERT, wrong root": (["certnew.p7b", "--ca-file", "other-root.pem"], 2),
    "PKCS#7 PEM as --ca-file": (["leaf.pem", "--ca-file", "cachain-pem.p7b"], 0),
    "DER CERT, PKCS#7 DER --untrusted": (["leaf.der", "--ca-file", "root.pem", "--untrusted", "issuing.p7b"], 0),
    "DER CERT, no intermediate": (["leaf.der", "--ca-file", "root.pem"], 2),
    "PKCS#12 as CERT": (["expe.pfx", "--password-file", "pw.txt", "--ca-file", "root.pem"], 0),
    "PKCS#12 as CERT, wrong root": (["expe.pfx", "--password-file", "pw.txt", "--ca-file", "other-root.pem"], 2),
}


@pytest.mark.parametrize("case", CASES)
def test_verify_openssl_command_runs_and_gives_labkits_verdict(pki, tmp_path, case):
    args, code = CASES[case]
    for name in pki.iterdir():  # a folder of its own: the commands write their PEM files beside the inputs
        shutil.copy(name, tmp_path / name.name)
    doc = json.loads(run_cli("verify", *args, "--json", cwd=tmp_path, expect=code).stdout)
    text = run_cli("verify", *args, cwd=tmp_path, expect=code).stdout.decode()
    assert f"the same check: {doc['openssl']}\n" in text
    done = subprocess.run(["bash", "-c", doc["openssl"]], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == code, (doc["openssl"], done.stdout, done.stderr)
    if code == 2:
        assert f"error {doc['code']} at {doc['depth']} depth lookup" in done.stdout + done.stderr
