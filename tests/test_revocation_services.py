"""Guide chapter 8: a lab CA's revocation services. OCSP answered from the CA database and checked as a relying party
must, CRLs served over HTTP, and the real `openssl ocsp` and `openssl crl` agreeing with labkit."""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import gzip
import io
import json
import select
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from asserts import assert_refused
from conftest import LABKIT, ROOT, run_cli, run_openssl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp as x509_ocsp

from labkit import InputError, LabError, PolicyError, lab
from labkit.ca import init_ca
from labkit.revocation import (
    CrlServer,
    OcspServer,
    crl_urls,
    down_url,
    free_port,
    ocsp_url,
    query,
    respond,
    verify_response,
)
from labkit.revocation import request as ocsp_request
from labkit.x509.certs import CertSpec, Issued, issue, request

CHAPTER = "guide chapter 8"


@dataclass
class Pki:
    root: object
    issuing: object
    leaf: x509.Certificate
    responder: tuple  # (certificate, key) of the delegated OCSP responder
    crl_port: int
    ocsp_port: int
    files: dict[str, Path]

    @property
    def issuer(self) -> x509.Certificate:
        return self.issuing.certificate


def _write(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _build(tmp_path: Path) -> Pki:
    """Root and issuing CA with fixture keys, revocation URLs on free local ports, a leaf and a delegated responder."""
    crl_port, ocsp_port = free_port(), free_port()
    root = init_ca(tmp_path / "root", "labkit Root CA", key=lab.fixture_key("root-ca"))
    issuing = init_ca(tmp_path / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root,
                      crl_url=f"http://127.0.0.1:{crl_port}/issuing.crl", ocsp_url=f"http://127.0.0.1:{ocsp_port}/")
    leaf = issuing.sign(request(CertSpec("expe.lab.example"), lab.fixture_key("expe-1")), "client-server")
    signer_key = lab.fixture_key("ocsp-signer")
    signer = issuing.sign(request(CertSpec("ocsp.lab.example"), signer_key), "ocsp-signing")
    files = {"root": _write(tmp_path / "root.pem", root.certificate),
             "issuing": _write(tmp_path / "issuing.pem", issuing.certificate),
             "leaf": _write(tmp_path / "leaf.pem", leaf), "ocsp": _write(tmp_path / "ocsp.pem", signer)}
    files["ocsp-key"] = tmp_path / "ocsp.key.pem"
    files["ocsp-key"].write_bytes(Issued(signer, signer_key).key_pem())
    return Pki(root, issuing, leaf, (signer, signer_key), crl_port, ocsp_port, files)


@pytest.fixture
def pki(tmp_path) -> Pki:
    """On the lab clock (5 January 2026, 09:00 UTC)."""
    return _build(tmp_path)


@pytest.fixture
def real_pki(tmp_path) -> Pki:
    """For real tools that check times against the machine's clock: the lab clock frozen at the real time now."""
    lab.use_lab_time(lab.now_real())
    return _build(tmp_path)


#: Revocation refusals are PolicyErrors that cite the guide's chapter 8.
refused = functools.partial(assert_refused, error=PolicyError, chapter=CHAPTER)


def lint(tool: str, *args) -> list:
    """Run a pkilint tool from this Python's environment; its JSON findings."""
    exe = Path(sys.executable).parent / tool
    if not exe.exists():
        pytest.skip(f"{tool} is not installed next to {sys.executable}")
    result = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=60)
    return json.loads(result.stdout)["results"]


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.headers.get_content_type(), reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()


# -- the acceptance test: the real openssl ocsp client against labkit's responder ----------------------------------

def ec_responder(pki: Pki) -> tuple:
    """A delegated responder with an EC P-256 key (deterministic ECDSA), issued by the issuing CA."""
    key = lab.fixture_key("ec-p256")
    return pki.issuing.sign(request(CertSpec("ocsp-ec.lab.example"), key), "ocsp-signing"), key


@pytest.mark.parametrize("signer", ["ca", "delegated-rsa", "delegated-ec"])
def test_openssl_ocsp_says_good_then_revoked_after_labkit_ca_revoke(real_pki, openssl_bin, signer):
    pki, files = real_pki, real_pki.files
    responder = {"ca": None, "delegated-rsa": pki.responder, "delegated-ec": ec_responder(pki)}[signer]
    command = ("ocsp", "-issuer", files["issuing"], "-CAfile", files["root"], "-cert", files["leaf"])
    with OcspServer(pki.issuing, port=pki.ocsp_port, responder=responder, clock=lab.now_real) as server:
        assert server.url == ocsp_url(pki.leaf)
        first = run_openssl(*command, "-url", server.url)
        assert f"{files['leaf']}: good" in first.stdout.decode()
        assert "Response verify OK" in first.stderr.decode()

        revoked = run_cli("ca", "revoke", pki.issuing.folder, "--cert", files["leaf"], "--reason", "keyCompromise")
        assert revoked.returncode == 0, revoked.stderr

        second = run_openssl(*command, "-url", server.url)
        out = second.stdout.decode()
        assert f"{files['leaf']}: revoked" in out and "Reason: keyCompromise" in out
        assert "Response verify OK" in second.stderr.decode()
        assert len(server.log) == 2


# -- labkit's own client --------------------------------------------------------------------------------------------

def test_query_reports_good_revoked_and_unknown_from_the_database_as_it_is_now(pki):
    with OcspServer(pki.issuing, port=pki.ocsp_port) as server:
        good = query(None, pki.leaf, pki.issuer)  # the URL from the leaf's AIA
        assert (good.status, good.signer, good.revocation_time) == ("good", "CA", None)
        assert good.this_update == lab.now() and good.next_update == lab.now() + _dt.timedelta(hours=24)

        lab.clock.advance(hours=1)
        pki.issuing.revoke(pki.leaf, "keyCompromise")
        revoked = query(server.url, pki.leaf, pki.issuer)  # no restart: the database is read at each request
        assert (revoked.status, revoked.reason, revoked.revocation_time) == ("revoked", "keyCompromise", lab.now())

        stranger = issue(CertSpec("never.recorded.example"), lab.fixture_key("expe-2"),
                         Issued(pki.issuer, pki.issuing.private_key()), serial=0xBEEF).certificate
        assert query(server.url, stranger, pki.issuer).status == "unknown"


def test_a_delegated_responder_signs_and_is_named(pki):
    with OcspServer(pki.issuing, port=pki.ocsp_port, responder=pki.responder) as server:
        status = query(server.url, pki.leaf, pki.issuer)
    assert status.status == "good"
    assert status.signer == "CN=ocsp.lab.example,O=labkit,C=GB"


def test_the_get_form_of_rfc_6960_appendix_a_is_answered_too(pki):
    der = ocsp_request(pki.leaf, pki.issuer)
    with OcspServer(pki.issuing, port=pki.ocsp_port) as server:
        code, kind, body = fetch(server.url + urllib.parse.quote(base64.b64encode(der).decode(), safe=""))
    assert (code, kind) == (200, "application/ocsp-response")
    assert verify_response(body, pki.leaf, pki.issuer).status == "good"


def test_an_issuer_hash_of_another_ca_is_unknown_and_every_certid_digest_is_answered(pki):
    other = issue(CertSpec("Other CA", ca=True), lab.fixture_key("rogue-ca"))
    foreign = issue(CertSpec("foreign.example"), lab.fixture_key("expe-2"), other)
    answer = respond(pki.issuing, ocsp_request(foreign.certificate, other.certificate))
    single = x509_ocsp.load_der_ocsp_response(answer)
    assert single.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN
    for digest in ("sha1", "sha256", "sha384", "sha512"):  # openssl ocsp asks with SHA-1 unless told otherwise
        der = respond(pki.issuing, ocsp_request(pki.leaf, pki.issuer, digest=digest))
        assert verify_response(der, pki.leaf, pki.issuer).status == "good"


def test_a_malformed_request_gets_a_malformed_request_response_not_an_exception(pki):
    for garbage in (b"", b"not DER at all", b"\x30\x03\x02\x01\x01"):
        answer = x509_ocsp.load_der_ocsp_response(respond(pki.issuing, garbage))
        assert answer.response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    with OcspServer(pki.issuing, port=pki.ocsp_port) as server:
        post = urllib.request.Request(server.url, data=b"junk", headers={"Content-Type": "application/ocsp-request"})
        with urllib.request.urlopen(post, timeout=5) as reply:
            body = reply.read()
    assert x509_ocsp.load_der_ocsp_response(body).response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    refused("ocsp-status", verify_response, body, pki.leaf, pki.issuer)


@pytest.mark.parametrize("key_type", ["ca-rsa", "delegated-rsa", "delegated-ec"])
def test_lab_responses_are_the_same_bytes_on_every_run(pki, key_type):
    responder = {"ca-rsa": None, "delegated-rsa": pki.responder, "delegated-ec": ec_responder(pki)}[key_type]
    der = ocsp_request(pki.leaf, pki.issuer)
    first, second = (respond(pki.issuing, der, responder=responder) for _ in range(2))
    assert first == second
    assert x509_ocsp.load_der_ocsp_response(first).produced_at_utc == lab.now()  # not the machine's clock
    assert verify_response(first, pki.leaf, pki.issuer).status == "good"


def test_ocsp_and_crl_urls_come_from_the_certificate(pki):
    assert ocsp_url(pki.leaf) == f"http://127.0.0.1:{pki.ocsp_port}/"
    assert crl_urls(pki.leaf) == [f"http://127.0.0.1:{pki.crl_port}/issuing.crl"]
    assert ocsp_url(pki.responder[0]) is None and crl_urls(pki.responder[0]) == []  # ocsp-nocheck: no revocation


# -- what a relying party must refuse -------------------------------------------------------------------------------

def test_verify_refuses_a_tampered_signature(pki):
    der = bytearray(respond(pki.issuing, ocsp_request(pki.leaf, pki.issuer)))
    signature = x509_ocsp.load_der_ocsp_response(bytes(der)).signature
    der[bytes(der).rindex(signature) + 10] ^= 0x01
    refused("ocsp-signature", verify_response, bytes(der), pki.leaf, pki.issuer)


def test_verify_refuses_a_response_signed_by_a_key_that_is_neither_the_cas_nor_authorised(pki):
    rogue_key = lab.fixture_key("rogue-ca")
    der = ocsp_request(pki.leaf, pki.issuer)
    # names the CA as responder (its key hash) but carries a signature made with another key
    genuine = respond(pki.issuing, der)
    parsed = x509_ocsp.load_der_ocsp_response(genuine)
    forged = genuine.replace(parsed.signature, rogue_key.sign(parsed.tbs_response_bytes, padding.PKCS1v15(),
                                                               hashes.SHA256()))
    refused("ocsp-signature", verify_response, forged, pki.leaf, pki.issuer)
    # a self-made responder certificate, sent along: nothing the CA signed vouches for it
    rogue = issue(CertSpec("ocsp.rogue.example"), rogue_key).certificate
    refused("ocsp-responder-not-authorised", verify_response,
                   respond(pki.issuing, der, responder=(rogue, rogue_key)), pki.leaf, pki.issuer)
    # labkit will not sign with a key that does not belong to the responder certificate
    refused("ocsp-responder-key", respond, pki.issuing, der, responder=(pki.issuer, rogue_key))


def test_verify_refuses_a_responder_without_the_ocsp_signing_eku_and_the_server_will_not_use_it(pki):
    key = lab.fixture_key("ocsp-signer")
    plain = pki.issuing.sign(request(CertSpec("not-a-responder.lab.example"), key), "client-server")
    answer = respond(pki.issuing, ocsp_request(pki.leaf, pki.issuer), responder=(plain, key))
    error = refused("ocsp-responder-not-authorised", verify_response, answer, pki.leaf, pki.issuer)
    assert "OCSPSigning" in str(error)
    refused("ocsp-responder-not-authorised", OcspServer, pki.issuing, responder=(plain, key))
    refused("ocsp-responder-key", OcspServer, pki.issuing, responder=(pki.responder[0], lab.fixture_key("ucm")))


def test_verify_refuses_a_response_about_another_certificate(pki):
    other = pki.issuing.sign(request(CertSpec("expe2.lab.example"), lab.fixture_key("expe-2")), "client-server")
    answer = respond(pki.issuing, ocsp_request(other, pki.issuer))
    refused("ocsp-wrong-certificate", verify_response, answer, pki.leaf, pki.issuer)


def test_verify_refuses_a_stale_response_and_one_from_the_future(pki):
    answer = respond(pki.issuing, ocsp_request(pki.leaf, pki.issuer), validity_hours=24)
    assert verify_response(answer, pki.leaf, pki.issuer, at=lab.now() + _dt.timedelta(hours=24)).status == "good"
    refused("ocsp-stale", verify_response, answer, pki.leaf, pki.issuer,
                   at=lab.now() + _dt.timedelta(hours=24, seconds=1))
    refused("ocsp-not-yet-valid", verify_response, answer, pki.leaf, pki.issuer,
                   at=lab.now() - _dt.timedelta(minutes=1))
    with OcspServer(pki.issuing, port=pki.ocsp_port) as server:
        lab.clock.advance(days=2)  # a server on the lab clock follows it
        assert query(server.url, pki.leaf, pki.issuer).this_update == lab.now()


def test_next_update_is_optional_and_a_response_without_it_never_goes_stale(pki, openssl_bin, tmp_path):
    """RFC 6960 4.2.2.1: a response may leave nextUpdate out (newer information is always available)."""
    answer = respond(pki.issuing, ocsp_request(pki.leaf, pki.issuer), validity_hours=None)
    status = verify_response(answer, pki.leaf, pki.issuer, at=lab.now() + _dt.timedelta(days=400))
    assert status.status == "good" and status.next_update is None and "next update -" in str(status)
    (tmp_path / "resp.der").write_bytes(answer)
    shown = run_openssl("ocsp", "-respin", tmp_path / "resp.der", "-resp_text", "-noverify").stdout.decode()
    assert "This Update:" in shown and "Next Update:" not in shown


def test_verify_refuses_bytes_that_are_no_ocsp_response(pki):
    with pytest.raises(InputError) as caught:
        verify_response(b"<html>proxy error</html>", pki.leaf, pki.issuer)
    assert caught.value.rule == "ocsp-response-der"


# -- responder down -------------------------------------------------------------------------------------------------

def test_a_responder_that_is_down_is_reported_as_unreachable(pki):
    """How long it takes is measured in benchmarks/failure_latency.py, not asserted here."""
    with pytest.raises(InputError) as caught:
        query(down_url(), pki.leaf, pki.issuer)
    assert caught.value.rule == "ocsp-unreachable" and CHAPTER in str(caught.value)
    assert "Connection refused" in str(caught.value)


def test_a_responder_that_never_answers_times_out_as_unreachable(pki):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        with pytest.raises(InputError) as caught:
            query(f"http://127.0.0.1:{silent.getsockname()[1]}/", pki.leaf, pki.issuer, timeout=0.3)
    assert caught.value.rule == "ocsp-unreachable"
    assert "timed out" in str(caught.value)  # the timeout ended the wait, not a refusal


# -- CRLs over HTTP -------------------------------------------------------------------------------------------------

def test_the_crl_is_served_at_the_configured_path_in_every_format(pki, openssl_bin, tmp_path):
    pki.issuing.revoke(pki.leaf, "keyCompromise")
    published = pki.issuing.crl()
    expected = published.public_bytes(serialization.Encoding.DER)
    with CrlServer(pki.issuing, port=pki.crl_port) as server:
        assert server.url == crl_urls(pki.leaf)[0]
        decoders = {
            "": lambda body: body,
            ".crl": lambda body: body,
            ".der": lambda body: body,
            ".pem": lambda body: x509.load_pem_x509_crl(body).public_bytes(serialization.Encoding.DER),
            ".zip": lambda body: x509.load_pem_x509_crl(_only_member(body)).public_bytes(serialization.Encoding.DER),
            ".gz": gzip.decompress,
        }
        for suffix, decode in decoders.items():
            code, kind, body = fetch(server.url_for(suffix) if suffix else server.url)
            assert code == 200, suffix
            assert decode(body) == expected, suffix
            if suffix in ("", ".crl", ".der"):
                assert kind == "application/pkix-crl"
        for missing in ("/", "/issuing.txt", "/other.crl", "/issuing.crl/x"):
            assert fetch(server.base_url + missing)[0] == 404, missing

        fetched = tmp_path / "fetched.crl"
        fetched.write_bytes(fetch(server.url)[2])
        checked = run_openssl("crl", "-inform", "DER", "-in", fetched, "-noout", "-text", "-CAfile",
                              pki.files["issuing"])
        assert "verify OK" in checked.stderr.decode() and f"Serial Number: {pki.leaf.serial_number:X}" in (
            checked.stdout.decode())

        newer = pki.issuing.crl()  # published again: the next download has it, no restart
        served = x509.load_der_x509_crl(fetch(server.url)[2])
        assert served.public_bytes(serialization.Encoding.DER) == newer.public_bytes(serialization.Encoding.DER)
        assert served.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 0x1001


def _only_member(archive: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        (name,) = zipped.namelist()
        return zipped.read(name)


def test_a_crl_server_publishes_a_first_crl_when_the_ca_never_did(pki):
    assert not pki.issuing.config.crl.exists()
    with CrlServer(pki.issuing, path="/lab/ca.crl") as server:
        assert pki.issuing.config.crl.exists()
        code, _, body = fetch(server.url)
        assert server.url.endswith("/lab/ca.crl") and code == 200
        assert x509.load_der_x509_crl(body).last_update_utc == lab.now()


# -- pkilint -------------------------------------------------------------------------------------------------------

def test_pkilint_finds_no_error_in_ocsp_responses_or_the_served_crl(pki, tmp_path):
    der = ocsp_request(pki.leaf, pki.issuer)
    (tmp_path / "good.ocsp").write_bytes(respond(pki.issuing, der))
    pki.issuing.revoke(pki.leaf, "keyCompromise")
    (tmp_path / "revoked.ocsp").write_bytes(respond(pki.issuing, der, responder=pki.responder))
    for name in ("good.ocsp", "revoked.ocsp"):
        assert lint("lint_ocsp_response", "lint", "-s", "ERROR", "-f", "JSON", tmp_path / name) == [], name
    pki.issuing.crl()
    with CrlServer(pki.issuing, port=pki.crl_port) as server:
        (tmp_path / "served.crl").write_bytes(fetch(server.url)[2])
    served = tmp_path / "served.crl"
    assert lint("lint_crl", "lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", "-f", "JSON", served) == []


# -- servers stop cleanly ------------------------------------------------------------------------------------------

def test_servers_stop_close_their_port_and_end_their_thread(pki):
    for server in (OcspServer(pki.issuing), CrlServer(pki.issuing)):
        assert server.start() is server and server.running and server.port != 0
        assert fetch(server.url)[0] == 200
        name = f"labkit-{server.kind}-{server.port}"
        assert any(t.name == name for t in threading.enumerate())
        server.stop()
        assert port_is_closed(server.port) and not server.running
        assert not any(t.name == name for t in threading.enumerate())
        server.stop()  # again: nothing happens
        assert server.log and all("HTTP" in line for line in server.log)


def test_a_busy_port_is_a_labkit_error(pki):
    with OcspServer(pki.issuing) as first, pytest.raises(LabError) as caught:
        OcspServer(pki.issuing, port=first.port).start()
    assert caught.value.rule == "server-port"


def test_a_ca_that_cannot_answer_gives_internal_error_not_a_dropped_connection(pki):
    with OcspServer(pki.issuing, port=pki.ocsp_port) as server:
        pki.issuing.config.database.write_text("this is not index.txt\n")
        with pytest.raises(PolicyError) as caught:
            query(server.url, pki.leaf, pki.issuer)
    assert caught.value.rule == "ocsp-status" and caught.value.value == "INTERNAL_ERROR"
    assert any("index.txt" in line for line in server.log)


# -- the command line ----------------------------------------------------------------------------------------------

def start_serve(*args) -> tuple[subprocess.Popen, str]:
    """``labkit serve ARGS`` as an administrator starts it: the installed console script, through the real parser."""
    proc = subprocess.Popen([str(LABKIT), "serve", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        proc.kill()
        pytest.fail("labkit serve printed no URL within 20 s")
    return proc, proc.stdout.readline().strip()


@pytest.mark.parametrize("delegated", [False, True], ids=["signed-by-ca", "delegated-responder"])
def test_labkit_serve_ocsp_prints_the_url_answers_and_exits_0_on_sigterm(real_pki, delegated):
    extra = ("--responder-cert", real_pki.files["ocsp"], "--responder-key", real_pki.files["ocsp-key"]) if (
        delegated) else ()
    proc, url = start_serve("ocsp", real_pki.issuing.folder, *extra)
    try:
        assert url == f"http://127.0.0.1:{real_pki.ocsp_port}/"  # the port of the CA's OCSP URL by default
        status = query(url, real_pki.leaf, real_pki.issuer, at=lab.now_real())
        assert status.status == "good"
        assert status.signer == ("CN=ocsp.lab.example,O=labkit,C=GB" if delegated else "CA")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
    assert port_is_closed(real_pki.ocsp_port)


def test_labkit_serve_crl_serves_the_published_crl_and_exits_0_on_sigint(real_pki):
    proc, url = start_serve("crl", real_pki.issuing.folder, "--port", "0")
    try:
        assert url.endswith("/issuing.crl")
        code, kind, body = fetch(url)
        assert (code, kind) == (200, "application/pkix-crl")
        assert body == x509.load_pem_x509_crl(real_pki.issuing.config.crl.read_bytes()).public_bytes(
            serialization.Encoding.DER)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0, proc.stderr.read()


@pytest.mark.parametrize("args, rule", [
    (("ocsp", "{tmp}/no-such-ca"), "ca-layout"),
    (("crl", "{tmp}/no-such-ca"), "ca-layout"),
    (("ocsp", "{ca}", "--responder-cert", "{ocsp}"), "responder-pair"),
])
def test_labkit_serve_refuses_a_bad_ca_dir_or_half_a_responder_with_exit_2(pki, tmp_path, args, rule):
    names = {"tmp": tmp_path, "ca": pki.issuing.folder, "ocsp": pki.files["ocsp"]}
    result = subprocess.run([str(LABKIT), "serve", *(a.format(**names) for a in args)], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stdout == ""
    assert f"rule: {rule}" in result.stderr and "Traceback" not in result.stderr


# -- lab host names: the lab's certificates name no port, its servers take free ones (issue 14) ------------------

def _lab_run_query(folder) -> str:
    """What a second trainee's kernel on this machine does: notebook 07's lab, started, asked about a certificate."""
    code = ("import sys; from labkit.chapters.ch07_crl_checks import RevocationLab, revocation\n"
            "rlab = RevocationLab(sys.argv[1]).start()\n"
            "cert = rlab.client_certificate('revoked').certificate\n"
            "print(rlab.ocsp_port, revocation.query(None, cert, rlab.issuing.certificate).status)\n")
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_revocation_lab_names_no_port_and_its_servers_answer_for_the_names_on_free_ports(tmp_path):
    from labkit.chapters.ch07_crl_checks import CRL_URL, OCSP_URL, RevocationLab
    from labkit.httpd import resolve
    from labkit.revocation.crl import fetch_crl

    with RevocationLab(tmp_path / "one") as rlab:
        cert = rlab.client_certificate("revoked").certificate
        assert (ocsp_url(cert), crl_urls(cert)) == (OCSP_URL, [CRL_URL])  # as a public CA's: port 80, no number
        assert 0 < rlab.ocsp_port != rlab.crl_port > 0
        assert resolve(OCSP_URL) == f"http://127.0.0.1:{rlab.ocsp_port}/"
        assert resolve("http://127.0.0.1:8080/x.crl") == "http://127.0.0.1:8080/x.crl"  # not a lab name: as it is
        assert query(None, cert, rlab.issuing.certificate).status == "revoked"  # real HTTP to the live responder
        assert cert.serial_number in {r.serial_number for r in fetch_crl(CRL_URL)}
        port, status = _lab_run_query(tmp_path / "two")  # another kernel on this machine, at the same time
        assert status == "revoked" and int(port) != rlab.ocsp_port
        assert query(None, cert, rlab.issuing.certificate).status == "revoked"  # ours still answers


def test_a_lab_name_without_a_running_server_is_unreachable_at_once_and_says_so(tmp_path):
    from labkit.chapters.ch07_crl_checks import RevocationLab
    from labkit.revocation.crl import fetch_crl

    rlab = RevocationLab(tmp_path / "lab")
    cert = rlab.client_certificate("good").certificate
    stopped = "the lab's server for ocsp.lab.example is stopped"
    with rlab:
        pass
    assert_refused("ocsp-unreachable", query, None, cert, rlab.issuing.certificate, chapter=CHAPTER, error=InputError)
    with pytest.raises(InputError, match=stopped):
        query(None, cert, rlab.issuing.certificate)
    with pytest.raises(InputError, match="no lab server answers for nothing.lab.example"):
        fetch_crl("http://nothing.lab.example/x.crl")


def test_a_lab_run_again_takes_the_names_and_stops_the_old_servers(tmp_path):
    """Run All twice: the second run's lab answers for the names and the first run's servers stop (none lingers);
    the first lab, used again (its widget), starts its servers again and takes the names back."""
    from labkit.chapters.ch07_crl_checks import RevocationLab

    first = RevocationLab(tmp_path / "first").start()
    second = RevocationLab(tmp_path / "second").start()
    try:
        assert second.running and not first.running and port_is_closed(first.ocsp_port)
        cert = second.client_certificate("revoked").certificate
        assert query(None, cert, second.issuing.certificate).status == "revoked"
        assert not first.run("revoked").accepted and first.running and not second.running
    finally:
        first.stop()
        second.stop()


def test_after_reset_all_the_revocation_lab_starts_its_servers_again_before_deciding(tmp_path):
    """Issue 14, 07: a widget used after its servers stopped must not decide as if the responder were down by
    design: a revoked certificate with OCSP on is still refused, by the responder's answer."""
    from labkit.chapters.ch07_crl_checks import RevocationLab, RevocationSettings

    rlab = RevocationLab(tmp_path / "lab").start()
    try:
        lab.reset_all()
        assert not rlab.running
        ocsp_only = RevocationSettings(use_ocsp=True, use_crls=False, allow_cdp_downloads=False,
                                       fallback="not-revoked")
        result = rlab.run("revoked", ocsp_only)
        assert not result.accepted and result.decision.source == "ocsp" and rlab.running
        down = rlab.run("responder-down", ocsp_only)  # down by design: the fallback decides, and says why
        assert down.accepted and "is stopped" in down.decision.steps[0] and rlab.running
    finally:
        rlab.stop()


def test_the_ocsp_unknown_state_is_the_responders_unknown_answer_and_the_fallback_decides(tmp_path):
    """Issue 14, 07: the state a trainee picks as "ocsp-unknown" is what its name says: the certificate names the
    lab's responder (as the CA's own do), which answers "unknown" (RFC 6960 2.2) for a serial it never issued."""
    from labkit.chapters.ch07_crl_checks import OCSP_URL, RevocationLab, RevocationSettings
    from labkit.revocation.ocsp import ocsp_url

    with RevocationLab(tmp_path / "lab") as rlab:
        stray = rlab.client_certificate("ocsp-unknown").certificate
        assert ocsp_url(stray) == OCSP_URL and stray.serial_number not in {e.serial for e in rlab.issuing.entries()}
        for fallback, accepted in (("revoked", False), ("not-revoked", True)):
            result = rlab.run("ocsp-unknown", RevocationSettings(use_ocsp=True, use_crls=False, fallback=fallback))
            assert result.decision.steps[0] == f"OCSP {OCSP_URL}: unknown", result.decision.steps
            assert result.decision.source == "fallback" and result.accepted is accepted


def test_a_revocation_lab_whose_folder_reset_all_deleted_says_so_in_one_rule():
    from labkit import guide
    from labkit.chapters.ch07_crl_checks import RevocationLab

    rlab = RevocationLab(lab.workdir("07-crl-checks", fresh=True)).start()
    lab.reset_all()  # stops the servers and deletes the working folders
    assert_refused("lab-reset", rlab.run, "revoked", chapter=guide.NB00_LAB, error=LabError)
    assert not rlab.running
