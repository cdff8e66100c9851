"""CA folders made only by `openssl`, as the guide's appendix B makes its demoCA, operated by labkit and `openssl ca`
in turn (issue 15's cases 02 and 03): the configuration kept outside the folder (``dir = ./demoCA``) or inside it
(the guide's ``openssl_local.cfg`` with ``dir = .``), ``unique_subject`` as OpenSSL applies it, a damaged index.txt
refused with its line number and repaired by ``labkit ca check --repair``, and serial clashes with a concurrent
``openssl ca``. After every labkit step, ``openssl ca`` still operates the folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli, run_openssl
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import LabError, lab
from labkit.ca import open_ca
from labkit.ca.check import check_ca
from labkit.x509.loading import load_certificate


def _system_config() -> Path:
    done = subprocess.run(["openssl", "version", "-d"], capture_output=True, text=True, check=True)
    return Path(re.search(r'"(.*)"', done.stdout).group(1)) / "openssl.cnf"


@pytest.fixture
def appendix_b(tmp_path, openssl_bin):
    """Appendix B's demoCA, made by its own commands, with OpenSSL's openssl.cnf copied beside it and edited as the
    guide says (copy_extensions = copy, policy_anything) but keeping ``dir = ./demoCA``: the configuration outside
    the folder. The CA key has a password, as `openssl genrsa -aes256` asks for one; `openssl ca` issued serial 10."""
    source = _system_config()
    if not source.is_file():
        pytest.skip(f"OpenSSL's own configuration {source} is not installed")
    text = source.read_text()
    text = re.sub(r"(?m)^#\s*copy_extensions\s*=\s*copy", "copy_extensions = copy", text)
    text = re.sub(r"(?m)^(policy\s*=\s*)policy_match", r"\1policy_anything", text)
    assert re.search(r"(?m)^dir\s*=\s*\./demoCA", text) and "copy_extensions = copy" in text
    (tmp_path / "openssl.cnf").write_text(text)
    ca = tmp_path / "demoCA"
    for sub in ("certs", "newcerts", "private"):
        (ca / sub).mkdir(parents=True)
    (ca / "index.txt").touch()
    (ca / "serial").write_text("10\n")
    (tmp_path / "pass.txt").write_text("s3cret\n")
    keys = {"ca": "root-ca", "expc-old": "expc-1", "expc-new": "expc-2", "expe": "expe-1", "other": "expe-2",
            "late": "trainee"}  # fixture keys, so that nothing waits for RSA key generation
    for name, fixture in keys.items():
        (tmp_path / f"{name}.key").write_bytes(lab.fixture_key(fixture).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    # the guide's `openssl genrsa -aes256 -out private/cakey.pem`: an encrypted key
    run_openssl("pkey", "-in", "ca.key", "-aes256", "-passout", "file:pass.txt", "-out", "demoCA/private/cakey.pem",
                cwd=tmp_path)
    run_openssl("req", "-new", "-x509", "-days", "3650", "-key", "demoCA/private/cakey.pem", "-passin",
                "file:pass.txt", "-config", "openssl.cnf", "-extensions", "v3_ca", "-subj",
                "/C=US/O=Example Org/CN=Example Demo CA", "-out", "demoCA/cacert.pem", cwd=tmp_path)
    for name in ("expc-old", "expc-new", "expe", "other", "late"):
        cn = "expc.example.com" if name.startswith("expc") else f"{name}.example.com"
        run_openssl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj",
                    f"/C=US/O=Example Org/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}", cwd=tmp_path)
    _openssl_ca(tmp_path, "-batch", "-in", "expc-old.csr", "-out", "expc-old.pem")
    assert (ca / "index.txt.attr").read_text().strip() == "unique_subject = yes"  # what openssl ca writes
    return tmp_path


def _openssl_ca(folder: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "ca", "-config", "openssl.cnf", "-passin", "file:pass.txt", *args],
                          cwd=folder, capture_output=True, text=True, timeout=60)


def test_labkit_and_openssl_ca_take_turns_on_appendix_b_democa_with_the_configuration_outside(appendix_b):
    ca = ["demoCA", "--config", "openssl.cnf"]
    listing = run_cli("ca", "list", *ca, cwd=appendix_b).stdout.decode()
    assert re.search(r"Valid\s+10\s.*/C=US/O=Example Org/CN=expc.example.com", listing)
    run_cli("ca", "sign", *ca, "--csr", "expe.csr", "--profile", "client-server", "--passphrase-file", "pass.txt",
            "-o", "expe.pem", cwd=appendix_b)
    issued = x509.load_pem_x509_certificate((appendix_b / "expe.pem").read_bytes())
    assert issued.serial_number == 0x11 and (appendix_b / "demoCA" / "newcerts" / "11.pem").is_file()
    assert run_cli("ca", "status", *ca, "11", cwd=appendix_b).stdout.decode().strip() == "11=Valid (V)"
    run_cli("ca", "crl", *ca, "--passphrase-file", "pass.txt", "-o", "labkit.crl", cwd=appendix_b)
    run_openssl("crl", "-in", "labkit.crl", "-CAfile", "demoCA/cacert.pem", "-noout", cwd=appendix_b)
    run_cli("ca", "revoke", *ca, "--serial", "11", "--reason", "superseded", cwd=appendix_b)
    # openssl ca operates the folder afterwards: status, a CRL, a new certificate (serial 12), a revocation
    assert "11=Revoked (R)" in _openssl_ca(appendix_b, "-status", "11").stderr
    assert _openssl_ca(appendix_b, "-gencrl", "-out", "openssl.crl").returncode == 0
    assert _openssl_ca(appendix_b, "-batch", "-in", "other.csr", "-out", "other.pem").returncode == 0
    assert load_certificate((appendix_b / "other.pem").read_bytes()).serial_number == 0x12  # after a text dump
    assert _openssl_ca(appendix_b, "-revoke", "expc-old.pem").returncode == 0
    report = check_ca(appendix_b / "demoCA", config=appendix_b / "openssl.cnf", cwd=appendix_b,
                      passphrase=b"s3cret")
    assert report.ok, report.text()
    assert "key" in {item.topic for item in report.items if item.severity == "ok"}


def test_a_renewal_with_the_same_subject_follows_unique_subject_as_openssl_does(appendix_b):
    """Case 02: OpenSSL refuses a second valid certificate with one subject unless unique_subject = no, and so does
    labkit, with OpenSSL's reason and the two ways out; the database stays one openssl ca can read."""
    before = (appendix_b / "demoCA" / "index.txt").read_bytes()
    refused = run_cli("ca", "sign", "demoCA", "--config", "openssl.cnf", "--csr", "expc-new.csr", "--profile",
                      "client-server", "--passphrase-file", "pass.txt", "-o", "expc-new.pem", cwd=appendix_b,
                      expect=2).stderr.decode()
    assert "There is already a certificate for /C=US/O=Example Org/CN=expc.example.com" in refused
    assert "rule: unique-subject" in refused and "unique_subject = no" in refused and "revoke" in refused
    assert (appendix_b / "demoCA" / "index.txt").read_bytes() == before
    openssl_says = _openssl_ca(appendix_b, "-batch", "-in", "expc-new.csr", "-out", "x.pem")
    assert openssl_says.returncode != 0 and "There is already a certificate for" in openssl_says.stdout + \
        openssl_says.stderr
    (appendix_b / "demoCA" / "index.txt.attr").write_text("unique_subject = no\n")
    run_cli("ca", "sign", "demoCA", "--config", "openssl.cnf", "--csr", "expc-new.csr", "--profile",
            "client-server", "--passphrase-file", "pass.txt", "-o", "expc-new.pem", cwd=appendix_b)
    assert "11=Valid (V)" in _openssl_ca(appendix_b, "-status", "11").stderr  # openssl ca still reads it


def test_the_guides_openssl_local_cfg_inside_the_folder_is_found(appendix_b, tmp_path):
    """Appendix B edits dir = ./demoCA to dir = . and keeps the copy as openssl_local.cfg inside demoCA."""
    text = (appendix_b / "openssl.cnf").read_text()
    (appendix_b / "demoCA" / "openssl_local.cfg").write_text(re.sub(r"(?m)^dir(\s*)=\s*\./demoCA", r"dir\1= .",
                                                                    text))
    listing = run_cli("ca", "list", appendix_b / "demoCA", cwd=tmp_path).stdout.decode()  # from anywhere
    assert "expc.example.com" in listing
    ca = open_ca(appendix_b / "demoCA", passphrase="s3cret", cwd=tmp_path)
    assert ca.config.path.name == "openssl_local.cfg" and ca.config.base == appendix_b / "demoCA"
    assert ca.config.certificate == appendix_b / "demoCA" / "cacert.pem" and ca.unique_subject is True
    # the index alone is enough for a list, without any configuration
    alone = tmp_path / "copy"
    alone.mkdir()
    shutil.copy(appendix_b / "demoCA" / "index.txt", alone / "index.txt")
    assert "expc.example.com" in run_cli("ca", "list", alone).stdout.decode()
    assert "rule: ca-layout" in run_cli("ca", "status", alone, "10", expect=2).stderr.decode()


def test_a_damaged_index_is_refused_with_its_line_and_repaired_only_where_safe(appendix_b):
    """Case 03: `echo "" > index.txt` leaves an empty line that openssl ca cannot parse. labkit refuses to add to
    it, names the line and the repair, and `labkit ca check --repair` mends it after a backup."""
    folder = appendix_b / "demoCA"
    index = folder / "index.txt"
    good = index.read_text()
    index.write_text("\n" + good)
    assert _openssl_ca(appendix_b, "-status", "10").returncode != 0  # OpenSSL cannot read it either
    refused = run_cli("ca", "sign", "demoCA", "--config", "openssl.cnf", "--csr", "expe.csr", "--profile", "server",
                      "--passphrase-file", "pass.txt", cwd=appendix_b, expect=2).stderr.decode()
    assert "index.txt line 1: an empty line" in refused and "--repair" in refused
    assert index.read_text() == "\n" + good and not (folder / "newcerts" / "11.pem").exists()
    check = run_cli("ca", "check", "demoCA", "--config", "openssl.cnf", cwd=appendix_b, expect=1).stdout.decode()
    assert "index.txt line 1: an empty line" in check
    repaired = run_cli("ca", "check", "demoCA", "--config", "openssl.cnf", "--repair", cwd=appendix_b).stdout.decode()
    assert "REPAIRED" in repaired and index.read_text() == good
    backup = next(folder.glob(".labkit-backup-*"))
    assert (backup / "index.txt").read_text() == "\n" + good
    assert "10=Valid (V)" in _openssl_ca(appendix_b, "-status", "10").stderr
    # a duplicate serial is reported, and left for a person to decide
    index.write_text(good + good.replace("expc.example.com", "copy.example.com"))
    assert "Error creating serial number index" in _openssl_ca(appendix_b, "-status", "10").stderr
    result = check_ca(folder, config=appendix_b / "openssl.cnf", cwd=appendix_b, repair=True)
    assert [item.message.split(":")[0] for item in result.errors] == ["index.txt line 2"]
    assert "index-duplicate-serial" not in result.text() and "serial 10 is on line 1 too" in result.text()
    assert "not automatic" in result.errors[0].repair and result.backup is None


def test_an_index_with_windows_line_ends_is_named_and_repaired(appendix_b):
    """An index.txt saved with CRLF: OpenSSL keeps the CR in each subject, so unique_subject never matches and
    `openssl ca` issues a second certificate for the same subject. labkit names it (index-crlf), refuses to add to
    it, and `ca check --repair` removes the CRs after a backup; openssl reads the same entries afterwards."""
    folder = appendix_b / "demoCA"
    index = folder / "index.txt"
    good = index.read_bytes()
    index.write_bytes(good.replace(b"\n", b"\r\n"))
    refused = run_cli("ca", "sign", "demoCA", "--config", "openssl.cnf", "--csr", "expe.csr", "--profile", "server",
                      "--passphrase-file", "pass.txt", cwd=appendix_b, expect=2).stderr.decode()
    assert "rule: index-crlf" in refused and "carriage return" in refused
    check = run_cli("ca", "check", "demoCA", "--config", "openssl.cnf", cwd=appendix_b, expect=1).stdout.decode()
    assert "index.txt line 1: the line ends with a carriage return" in check and "missing from" not in check
    repaired = run_cli("ca", "check", "demoCA", "--config", "openssl.cnf", "--repair", cwd=appendix_b).stdout.decode()
    assert "deleted the carriage return" in repaired and index.read_bytes() == good
    assert "10=Valid (V)" in _openssl_ca(appendix_b, "-status", "10").stderr


def test_a_serial_openssl_ca_issued_meanwhile_is_never_issued_twice(appendix_b):
    """OpenSSL takes no lock. labkit reads index.txt again when it changed, so it continues after what openssl ca
    issued; a certificate openssl ca has written but not yet recorded makes labkit refuse rather than overwrite it,
    and `ca check` names the certificate the database lacks."""
    ca = open_ca(appendix_b / "demoCA", config=appendix_b / "openssl.cnf", cwd=appendix_b, passphrase="s3cret")
    csr = x509.load_pem_x509_csr((appendix_b / "expe.csr").read_bytes())
    assert ca.sign(csr, "server", at=lab.now_real()).serial_number == 0x11
    assert _openssl_ca(appendix_b, "-batch", "-in", "other.csr", "-out", "other.pem").returncode == 0  # serial 12
    ca.revoke(0x11, at=lab.now_real())  # frees the subject for the renewal below (unique_subject is on)
    assert ca.sign(csr, "server", at=lab.now_real()).serial_number == 0x13
    serials = [line.split("\t")[3] for line in (appendix_b / "demoCA" / "index.txt").read_text().splitlines()]
    assert serials == ["10", "11", "12", "13"]
    # openssl ca has written newcerts/14.pem and not yet index.txt and serial
    shutil.copy(appendix_b / "demoCA" / "newcerts" / "12.pem", appendix_b / "demoCA" / "newcerts" / "14.pem")
    before = (appendix_b / "demoCA" / "index.txt").read_bytes()
    with pytest.raises(LabError) as clash:
        ca.sign(x509.load_pem_x509_csr((appendix_b / "late.csr").read_bytes()), "server", at=lab.now_real())
    assert clash.value.rule == "ca-serial-unique" and "14.pem already exists" in str(clash.value)
    assert (appendix_b / "demoCA" / "index.txt").read_bytes() == before
    report = check_ca(appendix_b / "demoCA", config=appendix_b / "openssl.cnf", cwd=appendix_b)
    assert any(item.topic == "newcerts" and "14.pem" in item.message for item in report.errors), report.text()
