"""Appendix A on real components: each failure happens (OpenSSL handshakes, the openssl command), each fix works."""

from __future__ import annotations

import dataclasses
import ssl
import subprocess

import pytest
from conftest import run_openssl, tls_lab_dates
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import InputError, lab
from labkit.chapters.ch02_tls_handshake import lab_pki
from labkit.chapters.ch09_troubleshooting import (
    Zone,
    broken_key_file,
    certificate_with_subject,
    check_key_file,
    combine,
    fix_key_file,
    key_size_figure,
    key_sizes,
    mystery_subject_certificate,
    mystery_zone,
    reissue,
    serve_from_file,
    verdict,
)
from labkit.exercises import check
from labkit.expressway.doctor import doctor
from labkit.expressway.store import CertificateStore
from labkit.x509.certs import CertSpec, issue
from labkit.x509.files import write_atomic, write_private

OLD_NAME = "expe-old.lab.example"


def assert_handshake_refused(trace, side: str, code: int | None) -> None:
    assert not trace.ok, "the handshake should have failed"
    assert (trace.outcome.failed_side, trace.outcome.verify_code) == (side, code), trace.outcome


def dns_names(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def ekus(cert: x509.Certificate) -> set:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def files(tmp_path, openssl_bin):
    pki = lab_pki()
    for name, issued in (("root", pki.root), ("issuing", pki.issuing), ("expe", pki.expe),
                         ("expc-web-server", pki.expc_server_only)):
        write_atomic(tmp_path / f"{name}.pem", issued.cert_pem())
    return tmp_path


# -- 1. SIP TLS zones -------------------------------------------------------------------------------------------

@tls_lab_dates
@pytest.mark.parametrize("tcp", [False, True], ids=["memory", "tcp"])
def test_the_lab_traversal_zone_comes_up_with_mutual_tls(tcp):
    trace = Zone().handshake(tcp=tcp)
    assert trace.ok and trace.version == "TLSv1.3"
    assert verdict(trace) == "zone up (TLSv1.3)"


@pytest.mark.parametrize("address,code", [(OLD_NAME, 62), ("192.0.2.20", 64)])
@pytest.mark.parametrize("tcp", [False, True], ids=["memory", "tcp"])
def test_tls_verify_peer_address_must_be_a_san_of_the_peer_certificate(address, code, tcp):
    trace = Zone(peer_address=address).handshake(tcp=tcp)
    assert_handshake_refused(trace, "client", code)
    assert f"verify code {code}" in verdict(trace) and "Expressway-C" in verdict(trace)


def test_an_ip_peer_address_is_explained_with_the_fqdn_advice():
    text = verdict(Zone(peer_address="192.0.2.20").handshake())
    assert "IP address" in text and "FQDN" in text and "alert bad_certificate" in text


@tls_lab_dates
def test_openssl_verify_gives_the_same_codes_for_name_and_ip(files):
    base = ["verify", "-CAfile", files / "root.pem", "-untrusted", files / "issuing.pem"]
    for option, value, code in (("-verify_hostname", OLD_NAME, 62), ("-verify_ip", "192.0.2.20", 64)):
        with pytest.raises(subprocess.CalledProcessError) as failed:
            run_openssl(*base, option, value, files / "expe.pem")
        assert f"error {code} at 0 depth" in failed.value.stderr.decode()
    assert b"OK" in run_openssl(*base, "-verify_hostname", "expe.lab.example", files / "expe.pem").stdout


@tls_lab_dates
def test_fix_peer_address_use_the_fqdn_in_the_certificate():
    assert Zone(peer_address="expe.lab.example").handshake(tcp=True).ok


@tls_lab_dates
def test_fix_reissue_with_the_missing_san_keeps_the_key():
    fixed = reissue(lab_pki().expe, sans=[OLD_NAME])
    assert fixed.certificate.public_key() == lab_pki().expe.certificate.public_key()
    assert dns_names(fixed.certificate) == ["expe.lab.example", OLD_NAME]
    fixed.certificate.verify_directly_issued_by(lab_pki().issuing.certificate)
    assert Zone(peer_address=OLD_NAME, server=fixed).handshake(tcp=True).ok


def _impostor():
    return issue(CertSpec("expe.lab.example", days=8000), lab.fixture_key("trainee"))


BROKEN = {
    "name-not-in-san": (lambda p: Zone(peer_address=OLD_NAME), "client", 62),
    "ip-peer-address": (lambda p: Zone(peer_address="192.0.2.20"), "client", 64),
    "expired": (lambda p: Zone(server=p.expe_expired), "client", 10),
    "impostor-self-signed": (lambda p: Zone(server=_impostor()), "client", 18),
    "client-without-clientauth": (lambda p: Zone(client=p.expc_server_only), "server", 26),
}


@tls_lab_dates
@pytest.mark.parametrize("name", BROKEN)
def test_tls_verify_mode_off_lets_every_broken_zone_through(name):
    build, side, code = BROKEN[name]
    zone = build(lab_pki())
    assert_handshake_refused(zone.handshake(), side, code)
    assert dataclasses.replace(zone, tls_verify=False, mutual=False).handshake().ok


@tls_lab_dates
def test_without_mutual_tls_the_e_accepts_a_client_certificate_without_clientauth():
    zone = Zone(client=lab_pki().expc_server_only)
    assert_handshake_refused(zone.handshake(tcp=True), "server", 26)
    assert dataclasses.replace(zone, mutual=False).handshake(tcp=True).ok


@tls_lab_dates
def test_mutual_tls_client_certificate_needs_clientauth_and_reissue_fixes_it(files):
    pki = lab_pki()
    trace = Zone(client=pki.expc_server_only).handshake()
    assert_handshake_refused(trace, "server", 26)
    assert trace.outcome.alert == "unsupported_certificate"
    assert "eku-no-client-auth" in doctor(pki.expc_server_only.certificate).rules()
    with pytest.raises(subprocess.CalledProcessError) as failed:
        run_openssl("verify", "-purpose", "sslclient", "-CAfile", files / "root.pem", "-untrusted",
                    files / "issuing.pem", files / "expc-web-server.pem")
    assert "error 26 at 0 depth" in failed.value.stderr.decode()
    fixed = reissue(pki.expc_server_only)
    assert ekus(fixed.certificate) == {x509.ExtendedKeyUsageOID.SERVER_AUTH, x509.ExtendedKeyUsageOID.CLIENT_AUTH}
    write_atomic(files / "expc-fixed.pem", fixed.cert_pem())
    assert b"OK" in run_openssl("verify", "-purpose", "sslclient", "-CAfile", files / "root.pem", "-untrusted",
                                files / "issuing.pem", files / "expc-fixed.pem").stdout
    assert Zone(client=fixed).handshake(tcp=True).ok


def test_zone_refuses_bad_configuration_naming_the_rule():
    with pytest.raises(InputError, match="zone-peer-address"):
        Zone(peer_address=" ")
    keyless = dataclasses.replace(lab_pki().expe, key=None)
    with pytest.raises(InputError, match="zone-certificate-and-key"):
        Zone(server=keyless)
    with pytest.raises(InputError, match="reissue-needs-key"):
        reissue(keyless)


# -- 2. key sizes -----------------------------------------------------------------------------------------------

@tls_lab_dates
def test_key_sizes_signature_and_handshake_messages_grow_with_the_key():
    table = key_sizes().set_index("key")
    for bits in (2048, 4096, 8192):
        row = table.loc[f"RSA-{bits}"]
        assert row["signature (bytes)"] == bits // 8
        assert row["CertificateVerify (bytes)"] == bits // 8 + 8  # scheme (2) and length (2) in a 4-byte header
    assert list(table["Certificate (bytes)"]) == sorted(table["Certificate (bytes)"])
    assert table.loc["RSA-8192", "Certificate (bytes)"] - table.loc["RSA-4096", "Certificate (bytes)"] == 512
    assert [d for d in table["doctor"]] == ["no findings", "no findings", "key-8192"]


@tls_lab_dates
def test_key_size_timings_are_measured_for_every_size_and_plotted():
    """Which size is slower, and by how much, is measured in benchmarks/key_sizes.py, not asserted here."""
    table = key_sizes(repeat=1).set_index("key")
    assert list(table.index) == ["RSA-2048", "RSA-4096", "RSA-8192"]
    assert (table[["sign (ms)", "handshake (ms)"]] > 0).all().all()
    figure = key_size_figure(table.reset_index())
    lines = figure.axes[0].lines
    assert len(figure.axes) == 1 and len(lines) == 2
    assert list(lines[0].get_ydata()) == list(table["sign (ms)"])


@tls_lab_dates
def test_key_sizes_refuse_bad_input():
    with pytest.raises(InputError, match="repeat-count"):
        key_sizes(repeat=-1)
    with pytest.raises(InputError, match="key-size-timings"):
        key_size_figure(key_sizes())


@tls_lab_dates
def test_doctor_advises_4096_over_8192_and_the_4096_zone_comes_up():
    pki = lab_pki()
    big = issue(CertSpec("expe.lab.example", days=8700), lab.fixture_key("rsa-8192"), pki.issuing)
    finding = next(f for f in doctor(big.certificate).findings if f.rule == "key-8192")
    assert finding.severity == "warning" and "4096" in finding.message  # appendix A: zones *may* fail
    smaller = issue(CertSpec("expe.lab.example", days=8700), lab.fixture_key("rsa-4096"), pki.issuing)
    assert doctor(smaller.certificate).ok
    assert Zone(server=smaller).handshake(tcp=True).ok


# -- 3. the key file without a trailing newline -----------------------------------------------------------------

@pytest.fixture
def broken(tmp_path):
    key_file, cert_file = broken_key_file(tmp_path)
    return key_file, cert_file, tmp_path


def test_a_key_without_trailing_newline_still_loads_alone(broken, openssl_bin):
    key_file, _, folder = broken
    assert not key_file.read_bytes().endswith(b"\n")
    run_openssl("pkey", "-in", key_file, "-noout")
    assert check_key_file(key_file).rules() == ["key-trailing-newline"]


def test_appending_a_certificate_glues_the_lines_and_openssl_reads_neither(broken, openssl_bin):
    key_file, cert_file, folder = broken
    combined = combine(key_file, cert_file, folder / "combined.pem")
    assert b"-----END PRIVATE KEY----------BEGIN CERTIFICATE-----\n" in combined.read_bytes()
    assert combined.stat().st_mode & 0o777 == 0o600
    for args in (("x509", "-noout", "-subject"), ("pkey", "-noout")):
        with pytest.raises(subprocess.CalledProcessError) as failed:
            run_openssl(args[0], "-in", combined, *args[1:])
        assert "Could not read" in failed.value.stderr.decode()
    with pytest.raises(ssl.SSLError):
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(combined)
    assert check_key_file(combined).rules() == ["pem-glued-blocks"]
    trace = serve_from_file(combined)
    assert not trace.ok and trace.outcome.failed_side == "server" and "never started" in trace.outcome.reason


@tls_lab_dates
def test_fix_key_file_adds_the_newline_atomically_and_keeps_0600(broken, openssl_bin):
    key_file, cert_file, folder = broken
    before = key_file.read_bytes()
    inode = key_file.stat().st_ino
    assert fix_key_file(key_file) is True
    assert key_file.read_bytes() == before + b"\n"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.stat().st_ino != inode, "the file is replaced by a rename, not rewritten in place"
    assert fix_key_file(key_file) is False
    assert not check_key_file(key_file)
    combined = combine(key_file, cert_file, folder / "combined.pem")
    assert b"CN = expe.lab.example" in run_openssl("x509", "-in", combined, "-noout", "-subject").stdout
    run_openssl("pkey", "-in", combined, "-noout")
    assert serve_from_file(combined).ok


@tls_lab_dates
def test_fix_key_file_tightens_a_loose_mode_and_splits_glued_bundles(broken):
    key_file, cert_file, folder = broken
    combined = combine(key_file, cert_file, folder / "combined.pem")
    combined.chmod(0o644)
    assert fix_key_file(combined) is True
    assert combined.stat().st_mode & 0o777 == 0o600
    assert not check_key_file(combined)
    assert serve_from_file(combined).ok


def test_fix_key_file_refuses_a_file_without_a_private_key(broken):
    _, cert_file, _ = broken
    with pytest.raises(InputError, match="expect-private-key"):
        fix_key_file(cert_file)


def test_the_upload_page_warns_with_the_same_rule_until_the_file_is_fixed(broken):
    key_file, cert_file, _ = broken
    pki = lab_pki()
    store = CertificateStore()
    store.trusted.append(pki.issuing.cert_pem() + pki.root.cert_pem())
    assert store.server.upload(cert_file, key_file).rules() == check_key_file(key_file).rules()
    fix_key_file(key_file)
    assert store.server.upload(cert_file, key_file).rules() == []


# -- 4. subject OIDs --------------------------------------------------------------------------------------------

APPENDIX_OID = "1.3.6.1.4.1.6449.1.2.1.5.1"
EV_OIDS = ("1.3.6.1.4.1.311.60.2.1.1", "1.3.6.1.4.1.311.60.2.1.2", "1.3.6.1.4.1.311.60.2.1.3")


def _subject_line(text: str) -> str:
    return next(line for line in text.splitlines() if "Subject:" in line)


def test_unsupported_subject_oid_prints_numerically_in_openssl_and_labkit_and_doctor_flags_it(tmp_path, openssl_bin):
    from labkit.x509 import decode

    cert = certificate_with_subject((APPENDIX_OID, "EV"))
    cert.verify_directly_issued_by(lab_pki().issuing.certificate)
    write_atomic(tmp_path / "bad.pem", pem(cert))
    line = _subject_line(run_openssl("x509", "-in", tmp_path / "bad.pem", "-noout", "-text").stdout.decode())
    assert f"{APPENDIX_OID} = EV" in line
    assert line == _subject_line(decode.text(cert))
    assert "unsupported-subject-oid" in doctor(cert).rules()
    assert doctor(certificate_with_subject()).ok  # re-requested without it


def test_ev_jurisdiction_oids_decode_by_name_and_are_supported(tmp_path, openssl_bin):
    cert = certificate_with_subject(*((oid, value) for oid, value in zip(EV_OIDS, ("Dover", "Delaware", "US"),
                                                                          strict=True)))
    write_atomic(tmp_path / "ev.pem", pem(cert))
    line = _subject_line(run_openssl("x509", "-in", tmp_path / "ev.pem", "-noout", "-text").stdout.decode())
    assert "jurisdictionL = Dover, jurisdictionST = Delaware, jurisdictionC = US" in line
    assert "1.3.6.1" not in line
    assert doctor(cert).ok


def test_appendix_encoding_oid_as_value_prints_as_hex_and_openssl_3_refuses_it(tmp_path, openssl_bin):
    from labkit.x509 import decode

    cert = certificate_with_subject((APPENDIX_OID, None))
    der = cert.public_bytes(serialization.Encoding.DER)
    assert bytes.fromhex("060C2B06010401B2310102010501") in der
    cert.verify_directly_issued_by(lab_pki().issuing.certificate)  # signed again after the patch
    assert f"{APPENDIX_OID} = #060C2B06010401B2310102010501" in _subject_line(decode.text(cert))
    write_atomic(tmp_path / "odd.pem", pem(cert))
    with pytest.raises(subprocess.CalledProcessError) as failed:
        run_openssl("x509", "-in", tmp_path / "odd.pem", "-noout", "-subject")
    assert "Unable to load certificate" in failed.value.stderr.decode()


def test_certificate_with_subject_refuses_a_bad_oid():
    with pytest.raises(InputError, match="oid-dotted"):
        certificate_with_subject(("not-an-oid", "x"))


# -- 5. public CAs without clientAuth ---------------------------------------------------------------------------

@tls_lab_dates
def test_server_auth_only_certificate_gets_eku_no_client_auth_and_a_separate_client_certificate_works():
    pki = lab_pki()
    public_e = reissue(pki.expe, client_auth=False)
    assert "eku-no-client-auth" in [f.rule for f in doctor(public_e.certificate, role="expressway-e").errors]
    assert Zone(server=public_e).handshake().ok  # the E is only a TLS server on this zone
    assert_handshake_refused(Zone(client=reissue(pki.expc, client_auth=False)).handshake(), "server", 26)
    client_only = reissue(pki.expc, server_auth=False)
    assert ekus(client_only.certificate) == {x509.ExtendedKeyUsageOID.CLIENT_AUTH}
    assert Zone(client=client_only).handshake(tcp=True).ok


# -- exercises --------------------------------------------------------------------------------------------------

@tls_lab_dates
def test_09_1_needs_both_fixes_with_verification_on_and_the_same_keys():
    mystery = mystery_zone()
    assert not mystery.handshake().ok
    assert not check("09.1", mystery)
    assert "TLS verify" in check("09.1", dataclasses.replace(mystery, tls_verify=False)).message
    assert "TLS verify" in check("09.1", dataclasses.replace(mystery, mutual=False)).message
    named = dataclasses.replace(mystery, peer_address="expe.lab.example")
    assert "code 26" in check("09.1", named).message
    ip_san = dataclasses.replace(mystery, client=reissue(mystery.client),
                                 server=reissue(mystery.server, sans=["192.0.2.20"]))
    assert ip_san.handshake().ok and "IP address" in check("09.1", ip_san).message
    swapped = dataclasses.replace(named, client=lab_pki().expe)
    assert swapped.handshake().ok and not check("09.1", swapped)
    assert not check("09.1", "expe.lab.example")
    assert check("09.1", dataclasses.replace(named, client=reissue(mystery.client)))


@tls_lab_dates
def test_09_2_accepts_only_the_repaired_key_file(broken):
    key_file, cert_file, folder = broken
    assert "key-trailing-newline" in check("09.2", key_file, certificate=cert_file).message
    other = write_private(folder / "other.key.pem", lab_pki().expc.key_pem())
    assert "not the key" in check("09.2", other, certificate=cert_file).message
    assert not check("09.2", folder / "missing.pem", certificate=cert_file)
    fix_key_file(key_file)
    key_file.chmod(0o644)
    assert "0600" in check("09.2", key_file, certificate=cert_file).message
    key_file.chmod(0o600)
    assert check("09.2", key_file, certificate=cert_file)
    assert check("09.2", str(key_file), certificate=x509.load_pem_x509_certificate(cert_file.read_bytes()))


def test_09_3_the_unsupported_oid_is_the_one_doctor_flags():
    cert = mystery_subject_certificate()
    flagged = [a.oid.dotted_string for a in cert.subject
               if any(f": {a.oid.dotted_string} " in f.message for f in doctor(cert).errors)]
    assert len(flagged) == 1
    assert check("09.3", flagged[0])
    assert check("09.3", x509.ObjectIdentifier(flagged[0]))
    for supported in (*EV_OIDS[1:], "2.5.4.3", "2.5.4.8"):
        assert "OpenSSL names it" in check("09.3", supported).message
    assert not check("09.3", APPENDIX_OID)  # the notebook's example, not in this certificate
    assert not check("09.3", "1.3.6.1.4.1.32473")


def test_an_oid_valued_subject_is_flagged_by_doctor_and_refused_with_its_rule_when_loaded():
    """Appendix A's certificate: the attribute's value is an OBJECT IDENTIFIER, not a string. cryptography cannot
    parse such a subject; doctor still reads it from the DER, and every loader refuses it with a named rule."""
    from labkit.instructor import clinic
    from labkit.x509.loading import load

    cert = certificate_with_subject((APPENDIX_OID, None))
    report = doctor(cert)
    assert [f.rule for f in report.errors] == ["unsupported-subject-oid"]
    assert f": {APPENDIX_OID} = #060C2B06010401B2310102010501;" in report.errors[0].message
    assert "CN=" not in report.subject and "1.3.6.1.4.1.6449.1.2.1.5.1 = #060C" in report.subject
    pem = cert.public_bytes(serialization.Encoding.PEM)
    for loader in (load, lambda data: clinic.examine(data, trust="lab root + issuing CA")):
        with pytest.raises(InputError) as refused:
            loader(pem)
        assert refused.value.rule == "name-value-not-string" and "#060C" in str(refused.value.value)


def test_a_key_without_its_newline_joined_to_a_certificate_is_refused_as_openssl_refuses_it(tmp_path):
    from labkit.x509.loading import load_all

    pki = lab_pki()
    key = pki.expe.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    glued = key.rstrip(b"\n") + pki.expe.certificate.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(InputError) as refused:
        load_all(glued)
    assert refused.value.rule == "pem-glued-blocks"
    assert refused.value.value == "-----END PRIVATE KEY----------BEGIN CERTIFICATE-----"
    (tmp_path / "glued.pem").write_bytes(glued)
    with pytest.raises(subprocess.CalledProcessError):
        run_openssl("x509", "-in", tmp_path / "glued.pem", "-noout")
    assert len(load_all(key + pki.expe.certificate.public_bytes(serialization.Encoding.PEM))) == 2
