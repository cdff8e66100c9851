"""Guide appendix C: PEM <-> DER conversion is byte-identical to OpenSSL's and round-trips."""

from __future__ import annotations

import stat

import pytest
from conftest import run_cli, run_openssl

from labkit import InputError, lab
from labkit.x509.certs import CertSpec, issue
from labkit.x509.convert import convert, convert_file


@pytest.fixture
def openssl_cert(tmp_path, openssl_bin):
    """A certificate made by the openssl command line (not by labkit)."""
    run_openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "k.pem", "-subj",
                "/C=GB/O=Lab/CN=expe.lab.example", "-addext", "subjectAltName=DNS:expe.lab.example",
                "-days", "30", "-out", tmp_path / "c.pem")
    return tmp_path / "c.pem"


def test_der_to_pem_and_back_is_byte_identical_with_openssl(openssl_cert, tmp_path):
    run_openssl("x509", "-in", openssl_cert, "-outform", "DER", "-out", tmp_path / "openssl.der")
    ours_der = run_cli("convert", openssl_cert, "--to", "der")
    assert ours_der.returncode == 0
    assert ours_der.stdout == (tmp_path / "openssl.der").read_bytes()

    run_openssl("x509", "-in", tmp_path / "openssl.der", "-inform", "DER", "-outform", "PEM",
                "-out", tmp_path / "openssl.pem")
    assert run_cli("convert", tmp_path / "openssl.der", "--to", "pem", "-o", tmp_path / "ours.pem").returncode == 0
    assert (tmp_path / "ours.pem").read_bytes() == (tmp_path / "openssl.pem").read_bytes()
    assert (tmp_path / "ours.pem").read_bytes() == openssl_cert.read_bytes()


@pytest.mark.parametrize("kind", ["req", "crl"])
def test_csr_and_crl_convert_like_openssl(tmp_path, openssl_bin, kind):
    run_openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "k.pem", "-subj", "/CN=x",
                "-out", tmp_path / "r.pem")
    src = tmp_path / "r.pem"
    if kind == "crl":
        (tmp_path / "index.txt").write_text("")
        (tmp_path / "ca.cnf").write_text(f"[ca]\ndefault_ca=d\n[d]\ndatabase={tmp_path}/index.txt\n"
                                         "default_md=sha256\ndefault_crl_days=7\n")
        run_openssl("req", "-x509", "-key", tmp_path / "k.pem", "-subj", "/CN=ca", "-out", tmp_path / "ca.pem")
        run_openssl("ca", "-config", tmp_path / "ca.cnf", "-gencrl", "-keyfile", tmp_path / "k.pem", "-cert",
                    tmp_path / "ca.pem", "-out", tmp_path / "l.pem")
        src = tmp_path / "l.pem"
    run_openssl(kind, "-in", src, "-outform", "DER", "-out", tmp_path / "o.der")
    der = convert(src.read_bytes(), "der")
    assert der == (tmp_path / "o.der").read_bytes()
    assert convert(der, "pem") == src.read_bytes()


def test_private_keys_are_written_0600(tmp_path):
    key_pem = issue(CertSpec("x.lab.example"), lab.fixture_key("trainee")).key_pem()
    (tmp_path / "k.pem").write_bytes(key_pem)
    convert_file(tmp_path / "k.pem", "der", tmp_path / "k.der")
    assert stat.S_IMODE((tmp_path / "k.der").stat().st_mode) == 0o600
    assert convert((tmp_path / "k.der").read_bytes(), "pem") == key_pem


def test_a_bundle_cannot_become_one_der_file_and_nothing_is_written(tmp_path):
    pem = issue(CertSpec("x.lab.example"), lab.fixture_key("trainee")).cert_pem()
    (tmp_path / "bundle.pem").write_bytes(pem + pem)
    with pytest.raises(InputError, match="der-single-object"):
        convert_file(tmp_path / "bundle.pem", "der", tmp_path / "out.der")
    assert not (tmp_path / "out.der").exists()
    assert convert(pem + pem, "pem") == pem + pem


def test_unknown_target_format_is_refused():
    with pytest.raises(InputError, match="convert-format"):
        convert(b"x", "p12")


def test_an_existing_output_is_replaced_whole(tmp_path):
    pem = issue(CertSpec("x.lab.example"), lab.fixture_key("trainee")).cert_pem()
    (tmp_path / "c.pem").write_bytes(pem)
    (tmp_path / "out.der").write_bytes(b"old")
    convert_file(tmp_path / "c.pem", "der", tmp_path / "out.der")
    assert (tmp_path / "out.der").read_bytes() == convert(pem, "der")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left behind


def test_chain_out_server_certificate_a_ca_only_bundle_is_refused_and_the_hint_says_o_chain(tmp_path, openssl_bin):
    """A PKCS#7 file of CA certificates only (case 05's cachain.p7b): --chain-out would write the issuing CA as if it
    were the server certificate; labkit refuses, writes nothing, and its hints suggest `-o chain.pem` alone."""
    run_openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "root.key", "-out",
                tmp_path / "root.pem", "-subj", "/CN=Root CA", "-addext", "basicConstraints=critical,CA:true")
    run_openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "ca.key", "-out",
                tmp_path / "ca.csr", "-subj", "/CN=Issuing CA")
    (tmp_path / "ca.cnf").write_text("basicConstraints=critical,CA:true\n")
    run_openssl("x509", "-req", "-in", tmp_path / "ca.csr", "-CA", tmp_path / "root.pem", "-CAkey",
                tmp_path / "root.key", "-set_serial", "2", "-extfile", tmp_path / "ca.cnf", "-out", tmp_path / "ca.pem")
    run_openssl("crl2pkcs7", "-nocrl", "-certfile", tmp_path / "ca.pem", "-certfile", tmp_path / "root.pem", "-out",
                tmp_path / "cachain.p7b")
    said = run_cli("convert", "cachain.p7b", "--to", "pem", "-o", "a.pem", "--chain-out", "b.pem", cwd=tmp_path,
                   expect=2).stderr.decode()
    assert "rule: chain-out-server-certificate" in said and "-o chain.pem" in said
    assert not (tmp_path / "a.pem").exists() and not (tmp_path / "b.pem").exists()
    note = run_cli("decode", "cachain.p7b", cwd=tmp_path).stderr.decode()
    assert "-o chain.pem" in note and "--chain-out" not in note
    run_cli("convert", "cachain.p7b", "--to", "pem", "-o", "chain.pem", cwd=tmp_path)
    assert (tmp_path / "chain.pem").read_bytes() == (tmp_path / "ca.pem").read_bytes() + (
        tmp_path / "root.pem").read_bytes()


@pytest.mark.parametrize("order", [("root", "intermediate", "server"), ("server", "root", "intermediate")])
def test_chain_out_splits_at_the_end_entity_certificate_whatever_the_pem_bundles_order(tmp_path, openssl_bin, order):
    """A PEM bundle root first (as some CAs send it) or mixed: -o gets the server certificate and --chain-out its
    chain in issuing order, as for PKCS#7; checked with openssl itself (the leaf's subject, then verify)."""
    from labkit.x509.pki import lab_chain

    chain = lab_chain()
    (tmp_path / "bundle.pem").write_bytes(b"".join(getattr(chain, part).cert_pem() for part in order))
    run_cli("convert", "bundle.pem", "--to", "pem", "-o", "cert.pem", "--chain-out", "chain.pem", cwd=tmp_path)
    assert (tmp_path / "cert.pem").read_bytes() == chain.server.cert_pem()
    assert (tmp_path / "chain.pem").read_bytes() == chain.intermediate.cert_pem() + chain.root.cert_pem()
    subject = run_openssl("x509", "-in", tmp_path / "cert.pem", "-noout", "-subject").stdout
    assert b"expe.lab.example" in subject
    run_openssl("verify", "-CAfile", tmp_path / "chain.pem", tmp_path / "cert.pem")
