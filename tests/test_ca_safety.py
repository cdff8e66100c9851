"""The CA loses nothing and carries nothing it was not meant to (issue 16): every value in openssl.cnf reads back as
written or is refused, a failed command leaves the folder byte for byte as it was, durations are whole days X.509
can hold, modes are explicit whatever the umask, and a CSR's unknown critical extension is never copied."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest
from asserts import assert_refused
from conftest import run_cli, run_openssl, snapshot
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import lab
from labkit.ca import authority as ca_authority
from labkit.ca import config as ca_config
from labkit.ca import init_ca, open_ca
from labkit.errors import InputError, LabError
from labkit.x509.certs import CertSpec, request, sign_builder
from labkit.x509.files import write_new

INJECTED = "http://127.0.0.1/a.crl\nbasicConstraints = critical, CA:true"


def _csr_file(folder, name="leaf.lab.example", key="expe-1"):
    path = folder / f"{name}.csr"
    path.write_bytes(request(CertSpec(name), lab.fixture_key(key)).public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture
def root(tmp_path):
    return init_ca(tmp_path / "root", "Safety Root", key=lab.fixture_key("root-ca"))


# -- configuration injection ------------------------------------------------------------------------------------------

def test_an_unquoted_value_lets_openssl_ca_issue_ca_true_the_injection_labkit_refuses(root, tmp_path, openssl_bin):
    """The canary shows the attack is real: a CRL URL written raw into the server profile, as labkit wrote it before,
    adds a line after the profile's basicConstraints, and `openssl ca` issues a server certificate with CA:TRUE.
    labkit refuses such values before anything is written."""
    copy = tmp_path / "copy"
    root.copy_to(copy)
    cnf = copy / "openssl.cnf"
    cnf.write_text(cnf.read_text().replace("\n[ client_server_ext ]", f"crlDistributionPoints = URI:{INJECTED}\n"
                                           "\n[ client_server_ext ]", 1))
    run_openssl("ca", "-batch", "-config", cnf, "-extensions", "server_ext", "-in", _csr_file(tmp_path), "-out",
                tmp_path / "evil.pem")
    evil = x509.load_pem_x509_certificate((tmp_path / "evil.pem").read_bytes())
    assert evil.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True

    before = snapshot(tmp_path)
    assert_refused("name-characters", init_ca, tmp_path / "new", "Lab Root\n[ server_ext ]\n" + INJECTED,
                   key=lab.fixture_key("issuing-ca"))
    assert_refused("crl-url", init_ca, tmp_path / "new", "Lab Root", key=lab.fixture_key("issuing-ca"),
                   crl_url=INJECTED)
    assert_refused("ocsp-url", init_ca, tmp_path / "new", "Lab Root", key=lab.fixture_key("issuing-ca"),
                   ocsp_url="http://127.0.0.1/\rx")
    assert_refused("config-value", init_ca, tmp_path / "new\nfolder", "Lab Root", key=lab.fixture_key("issuing-ca"))
    assert snapshot(tmp_path) == before
    for option, value, rule in (("--cn", "Lab Root\n[ server_ext ]\n" + INJECTED, "name-characters"),
                                ("--crl-url", "http://x/a.crl\nbasicConstraints=CA:true", "crl-url"),
                                ("--ocsp-url", "http://x/\nbasicConstraints=CA:true", "ocsp-url")):
        args = ["--cn", "Lab Root"] if option != "--cn" else []
        done = run_cli("ca", "init", tmp_path / "cli", *args, option, value, "--lab-key", "root-ca", expect=2)
        assert f"rule: {rule}" in done.stderr.decode() and done.stderr.count(b"\n") == 1
    assert snapshot(tmp_path) == before


ODD_FOLDER = "lab#1 $HOME \"quoted\" it's `x` back\\slash"
ODD_CN = "Root #1 $HOME \"q\" it's"
ODD_CRL = "http://127.0.0.1:8080/crl,a$b'c#d.crl"
ODD_OCSP = "http://127.0.0.1:8081/o$cs'p"


def test_openssl_ca_reads_odd_but_valid_names_back_unchanged(tmp_path, openssl_bin):
    ca = init_ca(tmp_path / ODD_FOLDER, ODD_CN, key=lab.fixture_key("root-ca"), crl_url=ODD_CRL, ocsp_url=ODD_OCSP)
    assert ca.folder.name == ODD_FOLDER and ca.name == ODD_CN
    assert (ca.config.crl_url, ca.config.ocsp_url) == (ODD_CRL, ODD_OCSP)
    assert ca.config.database == tmp_path / ODD_FOLDER / "index.txt"
    cnf = ca.folder / "openssl.cnf"
    run_openssl("ca", "-batch", "-config", cnf, "-extensions", "server_ext", "-notext", "-in", _csr_file(tmp_path),
                "-out", tmp_path / "openssl.pem")  # OpenSSL found every file through dir = "..."
    cert = x509.load_pem_x509_certificate((tmp_path / "openssl.pem").read_bytes())
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [name.value for point in points for name in point.full_name] == [ODD_CRL]
    access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in access] == [ODD_OCSP]
    assert (ca.folder / "newcerts" / "1001.pem").read_bytes() == (tmp_path / "openssl.pem").read_bytes()
    run_openssl("ca", "-config", cnf, "-gencrl", "-out", tmp_path / "openssl.crl")
    # and labkit takes its turn on the same folder: the same URLs in what it issues
    mine = open_ca(ca.folder).sign(request(CertSpec("two.lab.example"), lab.fixture_key("expe-2")), "server")
    assert mine.extensions.get_extension_for_class(x509.CRLDistributionPoints).value == points
    assert mine.serial_number == 0x1002


def test_a_folder_that_moved_gets_its_quoted_dir_rewritten(tmp_path, openssl_bin):
    ca = init_ca(tmp_path / "a", "Moving Root", key=lab.fixture_key("root-ca"))
    moved = tmp_path / ODD_FOLDER
    os.rename(ca.folder, moved)
    assert open_ca(moved).config.serial == moved / "serial"
    run_openssl("ca", "-config", moved / "openssl.cnf", "-gencrl", "-out", tmp_path / "o.crl")


#: Raw values as they may stand in a configuration, OpenSSL's reading of each checked against labkit's.
RAW_VALUES = [
    'plain value', '"a#b" # comment', "a\\#b", "'x\"y'", "`z`", '"a" b "c"', "a\\\\b", "$v/x", "${v}y", "$(v)z",
    "${other::w}", "$other::w", '"$v"', "'$v'", "a\\$v", "tab\\tand\\nnewline", "trailing   ", "x \\\n  continued",
]


@pytest.mark.parametrize("raw", RAW_VALUES)
def test_labkit_reads_a_configuration_value_as_openssl_does(tmp_path, raw, openssl_bin):
    text = (f"v = vee\n[ other ]\nw = double-u\n[ req ]\nprompt = no\ndistinguished_name = dn\nstring_mask = utf8only\n"
            f"[ dn ]\nCN = {raw}\n")
    (tmp_path / "t.cnf").write_text(text)
    run_openssl("req", "-new", "-config", tmp_path / "t.cnf", "-key", _key_file(tmp_path), "-out", tmp_path / "t.csr")
    csr = x509.load_pem_x509_csr((tmp_path / "t.csr").read_bytes())
    theirs = csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert ca_config.parse_sections(text)["dn"]["CN"] == theirs


@pytest.mark.parametrize("line", ["CN = $nosuch", "CN = ${v", "just words", "[ unclosed", "CN = \x00"])
def test_a_configuration_openssl_cannot_load_is_refused_with_the_line(tmp_path, line, openssl_bin):
    text = f"v = vee\n[ req ]\nprompt = no\ndistinguished_name = dn\n[ dn ]\n{line}\n"
    (tmp_path / "t.cnf").write_text(text)
    done = subprocess.run(["openssl", "req", "-new", "-config", tmp_path / "t.cnf", "-key", _key_file(tmp_path),
                           "-out", tmp_path / "t.csr"], capture_output=True)
    assert done.returncode != 0
    error = assert_refused("ca-config-syntax", ca_config.parse_sections, text, error=InputError)
    assert "openssl.cnf line 6" in str(error) and line not in str(error)  # named by its line, not quoted


def _key_file(folder):
    path = folder / "k.pem"
    if not path.exists():
        path.write_bytes(lab.fixture_key("trainee").private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


def test_quote_refuses_what_openssl_cnf_cannot_carry():
    assert ca_config.quote('a"b\\c#$') == '"a\\"b\\\\c#$"'
    for bad in ("a\nb", "a\rb", "a\x00b", "\udcff"):
        assert_refused("config-value", ca_config.quote, bad)


# -- transactions -----------------------------------------------------------------------------------------------------

def test_a_failed_init_leaves_nothing_and_a_retry_works(tmp_path, monkeypatch):
    calls = []

    def broken(path, data):
        calls.append(path)
        raise InputError("disk full (simulated)", rule="output-writable", value=str(path))

    monkeypatch.setattr(ca_authority, "write_private", broken)
    before = snapshot(tmp_path)
    assert_refused("output-writable", init_ca, tmp_path / "deep" / "er" / "root", "Retry Root",
                   key=lab.fixture_key("root-ca"))
    assert calls and snapshot(tmp_path) == before  # no half-made CA, no hidden build folder, no parents
    monkeypatch.undo()
    ca = init_ca(tmp_path / "deep" / "er" / "root", "Retry Root", key=lab.fixture_key("root-ca"))
    assert ca.entries()[0].serial == 0x1000
    assert sorted(p.name for p in (tmp_path / "deep" / "er").iterdir()) == ["root"]


def test_a_build_folder_left_by_a_killed_init_is_cleared_by_the_next_and_a_live_one_is_not(tmp_path):
    import signal
    import sys

    # a `ca init` SIGKILLed mid-build: its hidden folder (with a private/ holding a key) stays behind
    code = ("import os, signal, sys; from labkit.x509.files import owned_folder; "
            "f = owned_folder(sys.argv[1], '.root.', '.labkit-init'); (f / 'private').mkdir(); "
            "os.kill(os.getpid(), signal.SIGKILL)")
    killed = subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    live = ca_authority.owned_folder(tmp_path, ".root.", ".labkit-init")  # this process: alive, left alone
    left = [p for p in tmp_path.iterdir() if p != live]
    assert len(left) == 1 and left[0].name.endswith(".labkit-init")
    init_ca(tmp_path / "root", "After Kill Root", key=lab.fixture_key("root-ca"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["root", live.name])
    assert not (tmp_path / "root" / ".labkit-owner").exists()  # the tag does not come along into the CA


def test_an_issuing_ca_that_fails_leaves_its_parent_untouched(root, tmp_path):
    before = snapshot(root.folder)
    assert_refused("validity-end", init_ca, tmp_path / "issuing", "Issuing", key=lab.fixture_key("issuing-ca"),
                   parent=root, days=3_000_000)
    assert_refused("ca-own-key", init_ca, tmp_path / "issuing", "Issuing", key=lab.fixture_key("root-ca"),
                   parent=root)
    assert snapshot(root.folder) == before and not (tmp_path / "issuing").exists()


@pytest.mark.parametrize("days,rule", [(0, "validity-positive"), (-3, "validity-positive"),
                                       (3_000_000, "validity-end"), (10**12, "validity-end"),
                                       (True, "validity-days"), (1.5, "validity-days")])
def test_days_are_refused_never_defaulted_or_overflowed(root, tmp_path, days, rule):
    before = snapshot(root.folder)
    csr = request(CertSpec("leaf.lab.example"), lab.fixture_key("expe-1"))
    assert_refused(rule, root.sign, csr, "server", days=days)
    assert_refused(rule, init_ca, tmp_path / "other", "Other Root", key=lab.fixture_key("issuing-ca"), days=days)
    assert snapshot(root.folder) == before and not (tmp_path / "other").exists()


@pytest.mark.parametrize("span,rule", [(dict(days=0), "crl-next-update"), (dict(days=-1), "crl-next-update"),
                                       (dict(hours=0), "crl-next-update"), (dict(hours=-5), "crl-next-update"),
                                       (dict(days=3_000_000), "validity-end")])
def test_a_crl_whose_next_update_is_not_after_its_last_update_is_never_published(root, span, rule):
    before = snapshot(root.folder)
    assert_refused(rule, root.crl, **span)
    assert snapshot(root.folder) == before  # no CRL written, the CRL number not used up
    crl = root.crl(hours=1)
    assert crl.next_update_utc > crl.last_update_utc


def test_a_configured_zero_or_negative_default_is_refused(root):
    cnf = root.folder / "openssl.cnf"
    for value in ("0", "-7", "many"):
        cnf.write_text(cnf.read_text().replace("default_crl_days       = 7", f"default_crl_days       = {value}"))
        assert_refused("ca-config", open_ca, root.folder)
        cnf.write_text(cnf.read_text().replace(f"default_crl_days       = {value}", "default_crl_days       = 7"))


@pytest.mark.parametrize("out", ["missing-folder/cert.pem", "a-folder", "fifo"])
def test_sign_and_crl_check_their_output_before_using_up_a_serial_or_crl_number(root, tmp_path, out):
    (tmp_path / "a-folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    csr = _csr_file(tmp_path)
    before = snapshot(root.folder)
    done = run_cli("ca", "sign", root.folder, "--csr", csr, "--profile", "server", "-o", tmp_path / out, expect=2)
    assert b"rule: output-" in done.stderr
    done = run_cli("ca", "crl", root.folder, "-o", tmp_path / out, expect=2)
    assert b"rule: output-" in done.stderr
    assert snapshot(root.folder) == before
    run_cli("ca", "sign", root.folder, "--csr", csr, "--profile", "server", "-o", tmp_path / "ok.pem")
    assert open_ca(root.folder).entries()[-1].serial == 0x1001  # the serial was not used up by the failures


def test_an_empty_passphrase_is_refused_not_stored_unencrypted(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "newline.txt").write_bytes(b"\n")
    before = snapshot(tmp_path)
    for name in ("empty.txt", "newline.txt"):
        done = run_cli("ca", "init", tmp_path / "ca", "--cn", "Locked Root", "--lab-key", "root-ca",
                       "--passphrase-file", tmp_path / name, expect=2)
        assert b"rule: passphrase-empty" in done.stderr
    assert_refused("passphrase-empty", init_ca, tmp_path / "ca", "Locked", key=lab.fixture_key("root-ca"),
                   passphrase="")
    assert snapshot(tmp_path) == before


def test_an_unknown_critical_extension_in_a_csr_is_refused_and_never_copied(root):
    unknown = x509.ObjectIdentifier("1.3.6.1.4.1.55555.9.9")
    key = lab.fixture_key("expe-1")
    spec = CertSpec("leaf.lab.example")
    base = (x509.CertificateSigningRequestBuilder().subject_name(spec.subject())
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("leaf.lab.example")]), critical=False))
    critical = sign_builder(base.add_extension(x509.UnrecognizedExtension(unknown, b"\x05\x00"), critical=True), key)
    before = snapshot(root.folder)
    error = assert_refused("csr-critical-extension", root.sign, critical, "server")
    assert unknown.dotted_string in str(error)
    assert snapshot(root.folder) == before
    quiet = sign_builder(base.add_extension(x509.UnrecognizedExtension(unknown, b"\x05\x00"), critical=False), key)
    issued = root.sign(quiet, "server")  # a non-critical one is copied, as openssl ca's copy_extensions does
    assert issued.extensions.get_extension_for_oid(unknown).critical is False


# -- modes whatever the umask, newcerts written whole -----------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o000, 0o077])
def test_modes_are_explicit_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        ca = init_ca(tmp_path / "ca", "Mode Root", key=lab.fixture_key("root-ca"), passphrase="s3cret")
        ca.sign(request(CertSpec("leaf.lab.example"), lab.fixture_key("expe-1")), "server")
        ca.crl()
        run_cli("req", "new", "--cn", "r.lab.example", "--lab-key", "expe-2", "--key-out", tmp_path / "r.key",
                "-o", tmp_path / "r.csr")
    finally:
        os.umask(old)
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")
             if p.is_relative_to(tmp_path / "ca") or p.suffix in (".key", ".csr")}
    expected = {"ca": 0o755, "ca/private": 0o700, "ca/private/ca.key.pem": 0o600, "r.key": 0o600, "r.csr": 0o644}
    for name, mode in modes.items():
        want = expected.get(name, 0o755 if (tmp_path / name).is_dir() else 0o644)
        assert mode == want, f"{name}: {oct(mode)} under umask {oct(umask)}, expected {oct(want)}"
    assert {"ca/newcerts/1000.pem", "ca/newcerts/1001.pem", "ca/crl/ca.crl.pem", "ca/serial"} <= set(modes)


def test_a_newcerts_file_is_whole_or_absent_and_never_overwritten(tmp_path, monkeypatch):
    target = tmp_path / "1000.pem"

    def killed(*args):
        raise KeyboardInterrupt  # the process is stopped between writing the data and linking it into place

    monkeypatch.setattr(os, "link", killed)
    with pytest.raises(KeyboardInterrupt):
        write_new(target, b"certificate")
    assert list(tmp_path.iterdir()) == []  # no short file at the name, no temporary one left
    monkeypatch.undo()
    write_new(target, b"certificate")
    with pytest.raises(FileExistsError):
        write_new(target, b"another")
    assert target.read_bytes() == b"certificate" and stat.S_IMODE(target.stat().st_mode) == 0o644


# -- a CA whose folder went away (lab.reset_all() under a live notebook object) -------------------------------------


def test_a_ca_whose_folder_was_deleted_refuses_in_one_rule_and_makes_nothing_again(tmp_path):
    ca = init_ca(tmp_path / "gone", "Gone Root", key=lab.fixture_key("root-ca"))
    csr = request(CertSpec("leaf.lab.example"), lab.fixture_key("expe-1"))
    ca.sign(csr)  # the CA works, and holds its folder open for the lock
    import shutil
    shutil.rmtree(tmp_path / "gone")
    for call in (lambda: ca.sign(csr), ca.crl, lambda: ca.revoke("1001"), ca.entries, ca.update_db,
                 lambda: ca.issued("1001"), lambda: ca.certificate):
        error = assert_refused("ca-folder-gone", call, error=LabError, chapter="guide appendix")
        assert "was deleted" in str(error)
    assert not (tmp_path / "gone").exists()  # not even the crl folder made again


def test_a_ca_whose_folder_was_replaced_refuses_rather_than_signing_into_the_new_one(tmp_path):
    ca = init_ca(tmp_path / "same", "First Root", key=lab.fixture_key("root-ca"))
    ca.crl()
    before_new = tmp_path / "same"
    import shutil
    shutil.rmtree(before_new)
    again = init_ca(before_new, "Second Root", key=lab.fixture_key("issuing-ca"))
    after = snapshot(before_new)
    error = assert_refused("ca-folder-gone", ca.crl, error=LabError)
    assert "replaced by another folder" in str(error)
    assert snapshot(before_new) == after  # the new CA's CRL number and files untouched
    assert again.crl().issuer == again.certificate.subject  # the new CA itself works
