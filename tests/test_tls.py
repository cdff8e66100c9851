"""Real TLS handshakes: every failure scenario gives OpenSSL's real verify_code, on the side the guide says."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import time
from dataclasses import replace

import pytest
from conftest import TLS_LAB_DATES, outside_tls_lab_dates, run_cli, tls_lab_dates
from cryptography.hazmat.primitives import serialization

from labkit.chapters.ch02_tls_handshake import SCENARIOS, lab_pki, run_scenario, traversal_endpoints
from labkit.chapters.ch09_troubleshooting import reissue
from labkit.httpd import free_port
from labkit.tls import connection as tls


def test_the_tls_lab_dates_the_handshake_tests_need_are_the_certificates_own():
    """The tests marked ``tls_lab_dates`` skip when the machine's clock is outside conftest.TLS_LAB_DATES; this pins
    that window to the certificates (and the CRL) themselves, so it cannot drift: every working certificate runs from
    its start to past its end, the not-yet-valid one begins at its end and the expired one ended before its start."""
    start, end = TLS_LAB_DATES
    pki = lab_pki()
    working = [pki.root, pki.issuing, pki.expc, pki.expe, pki.rogue_root, pki.expe_self_signed, pki.expc_server_only,
               reissue(pki.expe, sans=["expe-old.lab.example"])]
    assert {issued.certificate.not_valid_before_utc for issued in working} == {start}
    assert min(issued.certificate.not_valid_after_utc for issued in working) > end
    assert pki.expe_not_yet_valid.certificate.not_valid_before_utc == end
    assert pki.expe_expired.certificate.not_valid_after_utc < start
    assert pki.crl.last_update_utc <= start and pki.crl.next_update_utc > end


def test_the_tls_lab_dates_skip_only_outside_the_window():
    start, end = TLS_LAB_DATES
    second = dt.timedelta(seconds=1)
    assert outside_tls_lab_dates(start) is None and outside_tls_lab_dates(end - second) is None
    assert outside_tls_lab_dates(dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)) is None
    before = outside_tls_lab_dates(dt.datetime(2025, 6, 1, 12, tzinfo=dt.timezone.utc))
    assert before and "(2025-06-01) is outside 2026-01-05 .. 2049-06-01" in before
    assert outside_tls_lab_dates(start - second) and outside_tls_lab_dates(end)


@tls_lab_dates
@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_fails_on_the_right_side_with_the_real_verify_code(name, version):
    scenario, trace = run_scenario(name, tls=version)
    assert trace.outcome.failed_side == scenario.failing_side, trace.outcome
    assert trace.outcome.verify_code == scenario.verify_code, trace.outcome
    assert trace.ok is (scenario.failing_side is None)
    if not trace.ok:
        assert trace.outcome.explanation and scenario.fix and scenario.chapter.startswith("guide ")
        assert trace.outcome.alert, "the peer's alert is part of the outcome"


@tls_lab_dates
@pytest.mark.parametrize("name,version,alert", [
    ("untrusted-ca", "1.3", "unknown_ca"), ("revoked", "1.2", "certificate_revoked"),
    ("expired", "1.3", "certificate_expired"), ("no-client-certificate", "1.3", "certificate_required"),
    ("client-without-clientauth", "1.2", "unsupported_certificate")])
def test_the_alert_the_failing_side_sends(name, version, alert):
    assert run_scenario(name, tls=version)[1].outcome.alert == alert


@tls_lab_dates
def test_tls13_trace_has_the_real_messages_in_order():
    _, trace = run_scenario("working", tls="1.3")
    names = [(m.direction, m.name) for m in trace.messages]
    assert names[:7] == [("C->S", "ClientHello"), ("S->C", "ServerHello"), ("S->C", "EncryptedExtensions"),
                         ("S->C", "CertificateRequest"), ("S->C", "Certificate"), ("S->C", "CertificateVerify"),
                         ("S->C", "Finished")]
    assert ("C->S", "Certificate") in names and ("C->S", "Finished") in names
    assert trace.version == "TLSv1.3" and all(m.size > 0 for m in trace.messages)
    assert sum(f.size for f in trace.flights) > sum(m.size for m in trace.messages)  # records add headers
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in trace.keylog
    assert trace.peer_chain[0] == lab_pki().expe.certificate


@tls_lab_dates
def test_tls12_rsa_key_exchange_shows_client_key_exchange():
    client, server = traversal_endpoints()
    classic = dict(tls="1.2", ciphers="AES128-GCM-SHA256", extended_master_secret=False)
    trace = tls.handshake(replace(client, **classic), replace(server, **classic))
    assert trace.ok and trace.cipher == "AES128-GCM-SHA256"
    client_messages = [m.name for m in trace.messages if m.direction == "C->S"]
    assert client_messages[:4] == ["ClientHello", "Certificate", "ClientKeyExchange", "CertificateVerify"]
    assert "ServerKeyExchange" not in [m.name for m in trace.messages]  # RSA key transport: no ECDHE share
    assert "\nCLIENT_RANDOM " in trace.keylog and "\nRSA " in trace.keylog


def test_five_steps_map_onto_real_messages():
    _, trace = run_scenario("working", tls="1.2")
    table = trace.steps()
    assert len(table) == 5 and "ClientHello" in table.iloc[0]["messages here"]
    assert "Certificate" in table.iloc[1]["messages here"]


def test_without_msg_callback_the_trace_degrades_to_flights(monkeypatch):
    monkeypatch.setattr(tls, "_HAS_MSG_CALLBACK", False)
    scenario, trace = run_scenario("untrusted-ca")
    assert not trace.traced and trace.messages == ()
    assert trace.flights and trace.flights[0].direction == "C->S"
    assert trace.outcome.verify_code == 20  # the outcome does not depend on the trace
    assert "flight of" in trace.ladder()
    tls.ladder_figure(trace)


@tls_lab_dates
def test_ladder_figure_draws_every_message():
    _, trace = run_scenario("client-without-clientauth", tls="1.2")
    fig = tls.ladder_figure(trace)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("ClientKeyExchange" in t for t in texts) and any("Alert" in t for t in texts)


@tls_lab_dates
def test_traversal_zone_over_tcp_on_loopback():
    client, server = traversal_endpoints()
    good = tls.handshake_tcp(client, server)
    assert good.ok and good.version == "TLSv1.3" and good.peer_chain
    pki = lab_pki()
    eku_less, _ = traversal_endpoints(client_chain=(pki.expc_server_only.certificate, pki.issuing.certificate),
                                      client_key=pki.expc_server_only.key)
    bad = tls.handshake_tcp(eku_less, server)
    assert not bad.ok and bad.outcome.failed_side == "server" and bad.outcome.verify_code == 26


# -- labkit handshake against openssl s_server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("s_server")
    pki = lab_pki()
    pem = serialization.Encoding.PEM
    (folder / "expe.pem").write_bytes(pki.expe.cert_pem())
    (folder / "expe.key").write_bytes(pki.expe.key_pem())
    (folder / "issuing.pem").write_bytes(pki.issuing.cert_pem())
    (folder / "root.pem").write_bytes(pki.root.cert_pem())
    (folder / "rogue.pem").write_bytes(pki.rogue_root.certificate.public_bytes(pem))
    (folder / "expc.pem").write_bytes(pki.expc.cert_pem() + pki.issuing.cert_pem())
    (folder / "expc.key").write_bytes(pki.expc.key_pem())
    (folder / "server-only.pem").write_bytes(pki.expc_server_only.cert_pem() + pki.issuing.cert_pem())
    (folder / "server-only.key").write_bytes(pki.expc_server_only.key_pem())
    return folder


@pytest.fixture
def s_server(files, openssl_bin):
    """Start `openssl s_server` with labkit-issued certificates; yields a function taking extra options."""
    procs = []

    def start(*extra: str) -> str:
        port = free_port()
        proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", files / "expe.pem",
                                 "-key", files / "expe.key", "-cert_chain", files / "issuing.pem", "-www", *extra],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return f"127.0.0.1:{port}"
            time.sleep(0.05)
        raise RuntimeError("openssl s_server did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _handshake(address, files, *args):
    done = run_cli("handshake", address, "--ca", files / "root.pem", "--servername", "expe.lab.example", "--json",
                   *args, expect=(0, 1))
    return done.returncode, json.loads(done.stdout) if done.stdout else None, done.stderr.decode()


@tls_lab_dates
@pytest.mark.parametrize("flag,version", [((), "TLSv1.3"), (("--tls1.2",), "TLSv1.2")])
def test_cli_succeeds_against_openssl_s_server(s_server, files, flag, version):
    code, result, _ = _handshake(s_server(), files, *flag)
    assert code == 0 and result["ok"] and result["version"] == version
    assert result["messages"][0]["message"] == "ClientHello" and result["verify_code"] is None


def test_cli_reports_a_wrong_servername_and_an_untrusted_ca(s_server, files):
    address = s_server()
    done = run_cli("handshake", address, "--ca", files / "root.pem", "--servername", "wrong.lab.example", "--json",
                   expect=1)
    result = json.loads(done.stdout)
    assert done.returncode == 1 and result["verify_code"] == 62 and "alternative names" in result["explanation"]
    done = run_cli("handshake", address, "--ca", files / "rogue.pem", "--servername", "expe.lab.example", "--json",
                   expect=1)
    assert done.returncode == 1 and json.loads(done.stdout)["verify_code"] == 20


@tls_lab_dates
@pytest.mark.parametrize("version", [(), ("--tls1.2",)], ids=["tls1.3", "tls1.2"])
def test_cli_against_a_server_requiring_a_client_certificate(s_server, files, version):
    address = s_server("-Verify", "1", "-CAfile", files / "root.pem", "-verify_return_error")
    code, result, _ = _handshake(address, files, *version)
    assert code == 1 and result["failed_side"] == "server"
    code, result, _ = _handshake(address, files, "--cert", files / "server-only.pem", "--key",
                                 files / "server-only.key", *version)
    assert code == 1 and result["failed_side"] == "server" and result["alert"] == "unsupported_certificate"
    # the client sees only the alert: the explanation says in plain words that clientAuth is missing
    assert "lacks clientAuth" in result["explanation"] and "alert unsupported_certificate" in result["explanation"]
    text = run_cli("handshake", address, "--ca", files / "root.pem", "--servername", "expe.lab.example", "--cert",
                   files / "server-only.pem", "--key", files / "server-only.key", *version, expect=1).stdout.decode()
    assert "lacks clientAuth (TLS Web Client Authentication)" in text
    code, result, _ = _handshake(address, files, "--cert", files / "expc.pem", "--key", files / "expc.key", *version)
    assert code == 0 and result["ok"]


@tls_lab_dates
def test_cli_text_output_and_bad_input(s_server, files):
    done = run_cli("handshake", s_server(), "--ca", files / "root.pem", "--servername", "expe.lab.example")
    out = done.stdout.decode()
    assert done.returncode == 0 and "ClientHello" in out and "peer chain [0]: CN=expe.lab.example" in out
    for bad in ("nohostport", "host:99999", "[::1"):
        done = run_cli("handshake", bad, expect=2)
        assert done.returncode == 2 and b"rule: host-port" in done.stderr
    done = run_cli("handshake", f"127.0.0.1:{free_port()}", "--ca", files / "root.pem", expect=2)
    assert done.returncode == 2 and b"tcp-connect" in done.stderr
    done = run_cli("handshake", "127.0.0.1:443", "--cert", files / "expc.pem", expect=2)
    assert done.returncode == 2 and b"cert-and-key" in done.stderr
