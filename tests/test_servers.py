"""The lab's HTTP servers hold under misuse (labkit.httpd.LabHTTPServer, used by the CRL server, the OCSP
responder and the ACME virtual host): silent and half-sent requests are closed, workers are bounded, a client that
hangs up early costs one log line (never a traceback), the log is bounded, and a responder that cannot sign does not
start."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest
from asserts import assert_refused
from cryptography.hazmat.primitives import serialization

from labkit import httpd, lab
from labkit.ca import init_ca
from labkit.revocation import CrlServer, OcspServer
from labkit.revocation.crl import bulk_crl


@pytest.fixture
def ca(tmp_path):
    return init_ca(tmp_path / "ca", "Server Test CA", key=lab.fixture_key("root-ca"))


@pytest.fixture
def quick_timeout(monkeypatch):
    """Silent connections are closed after half a second instead of READ_TIMEOUT, so the tests stay short."""
    monkeypatch.setattr(httpd, "READ_TIMEOUT", 0.5)


def _worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "process_request_thread" in t.name]


def test_a_half_sent_request_is_closed_by_the_server(ca, quick_timeout):
    with CrlServer(ca) as server, socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(b"GET /ca.crl HTT")  # and nothing more
        assert client.recv(1024) == b""  # the server closed it (a client timeout would raise instead)
    assert any("timed out" in line for line in server.log)


def test_workers_are_bounded_and_a_real_request_is_served_after_idle_connections(ca, quick_timeout, monkeypatch):
    monkeypatch.setattr(httpd, "MAX_WORKERS", 2)
    with CrlServer(ca) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(8)]
        try:
            for _ in range(500):  # wait (bounded) until the idle connections occupy the workers
                if len(_worker_threads()) >= 2:
                    break
                threading.Event().wait(0.01)
            seen = max(len(_worker_threads()) for _ in range(200))  # sampled while the idle ones wait
            with urllib.request.urlopen(server.url, timeout=10) as reply:
                assert reply.status == 200
        finally:
            for sock in idle:
                sock.close()
    assert 1 <= seen <= 2


def test_the_listen_backlog_holds_at_least_64_waiting_connections(ca):
    with CrlServer(ca) as server:
        assert server._server.request_queue_size >= 64 == httpd.BACKLOG
        clients = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(70)]
        for sock in clients:
            sock.close()
        with urllib.request.urlopen(server.url, timeout=10) as reply:
            assert reply.status == 200


def test_a_client_that_hangs_up_early_costs_one_log_line_not_a_traceback(ca, capfd):
    issuer = ca
    crl = bulk_crl(issuer.certificate, issuer.private_key(), range(1, 120_000))  # megabytes: no socket buffers it
    issuer.config.crl.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    with CrlServer(ca) as server:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.sendall(f"GET {server.path} HTTP/1.0\r\n\r\n".encode())
                client.recv(100)  # the answer has begun; hang up with a reset
        with urllib.request.urlopen(server.url_for(".pem"), timeout=10) as reply:
            assert reply.status == 200  # and the server goes on
    err = capfd.readouterr().err
    assert "Traceback" not in err and err == ""
    assert any("connection ended early" in line for line in server.log)


def test_the_request_log_keeps_the_last_lines_only():
    log = httpd.RequestLog(lines=3)
    for number in range(5):
        log.append(f"request {number}")
    assert list(log) == ["request 2", "request 3", "request 4"]
    assert httpd.RequestLog().maxlen == httpd.LOG_LINES


def test_servers_log_to_a_bounded_request_log(ca):
    with OcspServer(ca) as responder:
        assert isinstance(responder.log, httpd.RequestLog) and responder.log.maxlen == httpd.LOG_LINES


def test_an_ocsp_responder_whose_ca_key_is_locked_does_not_start(tmp_path):
    from labkit.ca import open_ca

    locked = init_ca(tmp_path / "locked", "Locked CA", key=lab.fixture_key("issuing-ca"), passphrase="s3cret")
    reopened = open_ca(locked.folder)  # without the passphrase
    server = OcspServer(reopened)
    assert_refused("ocsp-signing-key", server.start, chapter="guide chapter 8")
    assert not server.running
    with OcspServer(open_ca(locked.folder, passphrase="s3cret")) as fine:
        assert fine.running


@pytest.mark.parametrize("hours", [0, -1, 8761, 10**9, 1.5, True])
def test_ocsp_validity_hours_are_bounded(ca, hours):
    assert_refused("ocsp-validity-hours", OcspServer, ca, validity_hours=hours)


def test_validity_hours_at_the_bounds_are_accepted(ca):
    for hours in (1, 8760):
        assert OcspServer(ca, validity_hours=hours).validity_hours == hours


def test_the_cli_refuses_to_serve_ocsp_without_the_ca_keys_passphrase(tmp_path):
    from conftest import run_cli

    init_ca(tmp_path / "locked", "Locked CA", key=lab.fixture_key("issuing-ca"), passphrase="s3cret")
    done = run_cli("serve", "ocsp", tmp_path / "locked", "--port", "0", expect=2)
    assert b"rule: ocsp-signing-key" in done.stderr and done.stderr.count(b"\n") == 1



@pytest.mark.parametrize("port", [70000, -1, "80", 1.5, True])
def test_a_port_outside_1_to_65535_is_refused_with_the_rule(ca, port):
    assert_refused("server-port", OcspServer, ca, port=port)
    assert_refused("server-port", CrlServer, ca, port=port)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:port/", "http://" + "a" * 10_000 + "/",
                                 "http:///no-host", "ftp://127.0.0.1/"])
def test_an_ocsp_url_that_is_no_responder_is_refused_with_the_rule(ca, url):
    from labkit.revocation import query

    assert_refused("ocsp-url", query, url, ca.certificate, ca.certificate, chapter="guide chapter 8")
