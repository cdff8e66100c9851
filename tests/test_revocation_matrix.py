"""Guide chapter 8 on real handshakes: each revocation state x each fallback gives the documented outcome.

The Expressway-E verifies the Expressway-C's client certificate on a mutual-TLS zone, with the SIP TLS revocation
settings: OCSP first (a real responder on 127.0.0.1), then CRLs (loaded into the TLS context, so OpenSSL itself
refuses), then the fallback when nothing can tell.
"""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from conftest import lab_clock_behind_the_machine, run_openssl
from cryptography.hazmat.primitives import serialization

from labkit import lab
from labkit.ca import init_ca
from labkit.expressway.revocation import CrlStore, RevocationSettings, decide, sip_tls_handshake
from labkit.revocation import CrlServer, OcspServer, free_port
from labkit.tls.connection import Endpoint
from labkit.x509.certs import CertSpec, Issued, issue, request

LONG = 8700  # days (about 24 years): valid by the machine's clock, at which OpenSSL judges them


@pytest.fixture
def lab_pki(tmp_path):
    """Made a month before the machine's clock, at which OpenSSL judges the certificates and CRLs (the stale CRL,
    30 days older than the lab clock and fresh for 7, has then ended by it too), so the matrix holds on any date."""
    lab_clock_behind_the_machine(days=30)
    ocsp_port, crl_port = free_port(), free_port()
    root = init_ca(tmp_path / "root", "labkit Root CA", key=lab.fixture_key("root-ca"), days=LONG)
    issuing = init_ca(tmp_path / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root,
                      days=LONG, ocsp_url=f"http://127.0.0.1:{ocsp_port}/",
                      crl_url=f"http://127.0.0.1:{crl_port}/issuing.crl")
    expc = issuing.sign(request(CertSpec("expc.lab.example"), lab.fixture_key("expc-1")), "client-server", days=LONG)
    expe = issuing.sign(request(CertSpec("expe.lab.example"), lab.fixture_key("expe-1")), "client-server", days=LONG)
    # a certificate the CA's database never saw: its OCSP status is "unknown"
    stray = issue(CertSpec("expc.lab.example", days=LONG), lab.fixture_key("expc-2"),
                  Issued(issuing.certificate, issuing.private_key()), serial=0xDEAD)
    ocsp = OcspServer(issuing, port=ocsp_port).start()
    yield {"root": root, "issuing": issuing, "expc": expc, "expe": expe, "stray": stray, "ocsp": ocsp,
           "crl_port": crl_port}
    ocsp.stop()


def _zone(pki, client_cert, client_key):
    issuing = pki["issuing"].certificate
    client = Endpoint(chain=(client_cert, issuing), key=client_key, trusted=(pki["root"].certificate,),
                      server_name="expe.lab.example")
    server = Endpoint(chain=(pki["expe"], issuing), key=lab.fixture_key("expe-1"),
                      trusted=(pki["root"].certificate,), require_client_certificate=True)
    return client, server


# state -> (how to set it up, settings without the fallback, accepted with fallback "revoked", with "not-revoked")
STATES = ["good", "revoked", "ocsp-unknown", "responder-down", "crl-expired"]
EXPECTED = {"good": (True, True), "revoked": (False, False), "ocsp-unknown": (False, True),
            "responder-down": (False, True), "crl-expired": (False, False)}


def _setup(pki, state):
    cert, key = pki["expc"], lab.fixture_key("expc-1")
    store = CrlStore()
    settings = dict(use_ocsp=True, use_crls=False)
    if state == "revoked":
        pki["issuing"].revoke(cert, "keyCompromise")
    elif state == "ocsp-unknown":
        cert, key = pki["stray"].certificate, pki["stray"].key
    elif state == "responder-down":
        pki["ocsp"].stop()
    elif state == "crl-expired":
        settings = dict(use_ocsp=False, use_crls=True, allow_cdp_downloads=False)
        stale = pki["issuing"].crl(at=lab.now() - dt.timedelta(days=30), days=7)
        store.upload(stale.public_bytes(serialization.Encoding.PEM))
    return cert, key, store, settings


@pytest.mark.parametrize("fallback", ["revoked", "not-revoked"])
@pytest.mark.parametrize("state", STATES)
def test_each_state_and_fallback_gives_the_documented_outcome_on_a_real_handshake(lab_pki, state, fallback):
    cert, key, store, settings = _setup(lab_pki, state)
    client, server = _zone(lab_pki, cert, key)
    decision, trace = sip_tls_handshake(client, server, RevocationSettings(fallback=fallback, **settings), store)
    expected = EXPECTED[state][0 if fallback == "revoked" else 1]
    assert trace.ok is expected, (decision.explanation, trace.outcome)
    assert decision.accept is expected
    if not expected:
        assert trace.outcome.failed_side == "server"
    if state == "crl-expired":
        assert trace.outcome.verify_code == 12  # OpenSSL itself: CRL has expired
    if state in ("ocsp-unknown", "responder-down"):
        assert decision.source == "fallback" and fallback in decision.explanation


def test_a_revoked_certificate_on_a_crl_is_refused_by_openssl_itself(lab_pki):
    lab_pki["issuing"].revoke(lab_pki["expc"], "keyCompromise")
    with CrlServer(lab_pki["issuing"], port=lab_pki["crl_port"]):
        lab_pki["issuing"].crl(days=LONG)  # publish: fresh for LONG days, by the machine's clock too
        store = CrlStore()
        settings = RevocationSettings(use_ocsp=False, use_crls=True, allow_cdp_downloads=True)
        decision, trace = sip_tls_handshake(*_zone(lab_pki, lab_pki["expc"], lab.fixture_key("expc-1")), settings,
                                            store)
    assert not trace.ok and trace.outcome.verify_code == 23 and decision.source == "crl"
    assert any("distribution point" in step for step in decision.steps)


def test_crls_from_automatic_updates_are_used_by_the_node(lab_pki):
    lab_pki["issuing"].crl(days=LONG)
    with CrlServer(lab_pki["issuing"], port=lab_pki["crl_port"]) as server:
        store = CrlStore(urls=[server.url])
        store.update()
    store.upload(lab_pki["root"].crl(days=LONG).public_bytes(serialization.Encoding.PEM))  # the root's, by hand
    settings = RevocationSettings(use_ocsp=False, use_crls=True, allow_cdp_downloads=False)
    decision, trace = sip_tls_handshake(*_zone(lab_pki, lab_pki["expc"], lab.fixture_key("expc-1")), settings, store)
    assert trace.ok and decision.status == "good" and decision.source == "crl"
    assert decision.crl_check == "chain" and len(decision.crls) == 2  # OpenSSL checked both levels too


@pytest.mark.parametrize("fallback", ["revoked", "not-revoked"])
def test_crl_checking_covers_every_ca_so_a_missing_root_crl_leaves_it_to_the_fallback(lab_pki, fallback, tmp_path):
    """Chapter 8: CRL checking applies to every CA in the chain. The node holds the issuing CA's CRL but not the
    root's, so the issuing CA's own certificate cannot be checked: unknown, and the fallback decides. OpenSSL says
    the same with -crl_check_all (error 3, unable to get certificate CRL), and passes with the leaf check alone."""
    issuing_crl = lab_pki["issuing"].crl(days=LONG)
    store = CrlStore()
    store.upload(issuing_crl.public_bytes(serialization.Encoding.PEM))
    settings = RevocationSettings(use_ocsp=False, use_crls=True, allow_cdp_downloads=False, fallback=fallback)
    decision, trace = sip_tls_handshake(*_zone(lab_pki, lab_pki["expc"], lab.fixture_key("expc-1")), settings, store)
    assert decision.status == "unknown" and decision.source == "fallback"
    assert "labkit Root CA" not in decision.explanation or "every CA in the chain" in decision.explanation
    assert trace.ok is (fallback == "not-revoked") and decision.accept is (fallback == "not-revoked")
    for name, obj in (("root.pem", lab_pki["root"].certificate), ("issuing.pem", lab_pki["issuing"].certificate),
                      ("expc.pem", lab_pki["expc"]), ("crl.pem", issuing_crl)):
        (tmp_path / name).write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    base = ["verify", "-CAfile", tmp_path / "root.pem", "-untrusted", tmp_path / "issuing.pem", "-CRLfile",
            tmp_path / "crl.pem"]
    run_openssl(*base, "-crl_check", tmp_path / "expc.pem")
    with pytest.raises(subprocess.CalledProcessError) as refused:
        run_openssl(*base, "-crl_check_all", tmp_path / "expc.pem")
    assert b"error 3 at 1 depth" in refused.value.stdout + refused.value.stderr


def test_checking_off_accepts_even_a_revoked_certificate(lab_pki):
    lab_pki["issuing"].revoke(lab_pki["expc"], "keyCompromise")
    decision = decide(lab_pki["expc"], lab_pki["issuing"].certificate, RevocationSettings(checking=False), CrlStore())
    assert decision.accept and decision.source == "off"
