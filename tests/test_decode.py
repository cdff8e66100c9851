"""Guide appendix D: `labkit decode` prints what `openssl x509|req|crl -text -noout` prints, line for line."""

from __future__ import annotations

import pytest
from conftest import run_cli, run_openssl

from labkit import lab
from labkit.x509 import decode
from labkit.x509.loading import load_file
from labkit.x509.pki import lab_chain

EXTENSIONS = ["-addext", "subjectAltName=DNS:expe.lab.example,DNS:cluster.lab.example,IP:127.0.0.1",
              "-addext", "extendedKeyUsage=serverAuth,clientAuth",
              "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
              "-addext", "basicConstraints=critical,CA:FALSE"]


@pytest.fixture(params=["rsa:2048", "ec:P-256"], ids=["rsa", "ec"])
def openssl_made(request, tmp_path, openssl_bin):
    """A certificate made only by `openssl req -x509`, with SAN, EKU, key usage and basic constraints."""
    keyopt = ["-newkey", request.param] if request.param.startswith("rsa") else [
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    extensions = [e.replace("digitalSignature,keyEncipherment", "digitalSignature") if request.param.startswith("ec")
                  else e for e in EXTENSIONS]
    run_openssl("req", "-x509", *keyopt, "-nodes", "-keyout", tmp_path / "k.pem", "-subj",
                "/C=GB/ST=London/O=Lab Ltd/OU=UC/CN=expe.lab.example", *extensions, "-days", "365",
                "-out", tmp_path / "c.pem")
    return tmp_path / "c.pem"


def test_decode_matches_openssl_x509_text_line_for_line(openssl_made):
    ours = run_cli("decode", openssl_made)
    theirs = run_openssl("x509", "-in", openssl_made, "-text", "-noout")
    assert ours.returncode == 0
    assert ours.stdout.decode().splitlines() == theirs.stdout.decode().splitlines()


def test_decode_reads_der_and_prints_the_same(openssl_made, tmp_path):
    run_openssl("x509", "-in", openssl_made, "-outform", "DER", "-out", tmp_path / "c.cer")
    assert run_cli("decode", tmp_path / "c.cer").stdout == run_cli("decode", openssl_made).stdout


def test_fingerprints_match_openssl(openssl_made):
    ours = run_cli("decode", openssl_made, "--fingerprint").stdout.decode().splitlines()[-2:]
    sha1 = run_openssl("x509", "-in", openssl_made, "-noout", "-fingerprint", "-sha1").stdout.decode().strip()
    sha256 = run_openssl("x509", "-in", openssl_made, "-noout", "-fingerprint", "-sha256").stdout.decode().strip()
    assert ours == [sha1, sha256]


def test_csr_and_crl_decode_like_openssl(tmp_path, openssl_bin):
    run_openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "k.pem",
                "-subj", "/C=GB/O=Lab/CN=expc.lab.example", "-addext", "subjectAltName=DNS:expc.lab.example",
                "-out", tmp_path / "r.pem")
    assert run_cli("decode", tmp_path / "r.pem").stdout == run_openssl(
        "req", "-in", tmp_path / "r.pem", "-text", "-noout").stdout
    (tmp_path / "index.txt").write_text("")
    (tmp_path / "crlnumber").write_text("1000\n")
    (tmp_path / "ca.cnf").write_text(f"[ca]\ndefault_ca=d\n[d]\ndatabase={tmp_path}/index.txt\n"
                                     f"crlnumber={tmp_path}/crlnumber\ndefault_md=sha256\ndefault_crl_days=7\n")
    run_openssl("req", "-x509", "-key", tmp_path / "k.pem", "-subj", "/CN=Lab CA", "-out", tmp_path / "ca.pem")
    run_openssl("ca", "-config", tmp_path / "ca.cnf", "-gencrl", "-keyfile", tmp_path / "k.pem", "-cert",
                tmp_path / "ca.pem", "-out", tmp_path / "l.pem")
    assert run_cli("decode", tmp_path / "l.pem").stdout == run_openssl(
        "crl", "-in", tmp_path / "l.pem", "-text", "-noout").stdout


def test_a_bundle_decodes_every_certificate_in_order(tmp_path):
    chain = lab_chain()
    (tmp_path / "chain.pem").write_bytes(chain.server.cert_pem() + chain.intermediate.cert_pem())
    out = run_cli("decode", tmp_path / "chain.pem").stdout.decode()
    assert out.count("Certificate:\n") == 2
    assert out.index("CN = expe.lab.example") < out.index("Subject: C = GB, O = labkit, CN = labkit Issuing CA")


def test_table_has_the_fields_fingerprints_and_status():
    cert = lab_chain().server.certificate
    frame = decode.table(cert)
    rows = dict(zip(frame["field"], frame["value"], strict=True))
    assert rows["Subject"] == "C = GB, O = labkit, CN = expe.lab.example"
    assert rows["Serial Number"] == "4098 (0x1002)"
    assert rows["X509v3 Subject Alternative Name"] == "DNS:expe.lab.example"
    assert rows["X509v3 Basic Constraints (critical)"] == "CA:FALSE"
    assert rows["SHA-256 Fingerprint"] == decode.fingerprint(cert)
    assert rows["Status at 2026-01-05 09:00 UTC"] == "valid (365 days left)"


def test_status_follows_the_clock_or_the_given_instant():
    cert = lab_chain().server.certificate
    assert decode.status(cert) == "valid (365 days left)"
    assert decode.status(cert, at="2025-12-25T09:00:00Z") == "not yet valid (starts in 11 days)"
    lab.clock.advance(days=400)
    assert decode.status(cert) == "expired (35 days ago)"


def test_cli_table_uses_real_time_unless_at_is_given(tmp_path):
    lab_chain().server.write(tmp_path, "server")
    at = run_cli("decode", tmp_path / "server.pem", "--table", "--at", "2026-02-04T09:00:00Z").stdout.decode()
    assert "valid (335 days left)" in at and "Status at 2026-02-04 09:00 UTC" in at
    now = run_cli("decode", tmp_path / "server.pem", "--table").stdout.decode()
    assert "Status at 2026-01-05" not in now  # real time, not the lab clock


def test_private_keys_are_summarised_without_secret_values(tmp_path):
    chain = lab_chain()
    chain.server.write(tmp_path, "server")
    out = decode.text(load_file(tmp_path / "server.key.pem"))
    assert out.startswith("RSA private key (its secret values are not shown): (2048 bit)")
    assert "PRIVATE KEY" not in out and "-----BEGIN PUBLIC KEY-----" in out


def test_version_flag():
    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.decode().startswith("labkit 0.")
