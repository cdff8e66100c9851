"""Exercises accept right answers and reject wrong ones with a hint (answers are computed, not stored)."""

from __future__ import annotations

import datetime as dt

import pytest

from labkit import LabError, lab, pki
from labkit.decode import fingerprint, fingerprint_line
from labkit.exercises import EXERCISES, check, mystery_signature


def test_00_1_clock_one_week_forward():
    assert not check("00.1", lab.now())
    lab.clock.advance(days=7)
    assert check("00.1", lab.now())
    assert not check("00.1", "2026-01-12")


def test_01_1_only_the_signed_message_passes():
    candidates, signature, public = mystery_signature()
    signed = [c for c in candidates if pki.verify(public, c, signature)]
    assert len(signed) == 1
    assert check("01.1", signed[0])
    for other in set(candidates) - set(signed):
        result = check("01.1", other)
        assert not result and "pki.verify" in result.message


def test_01_2_the_issuing_ca_signed_the_server_not_the_root():
    chain = pki.lab_chain()
    server = chain.server.certificate
    assert check("01.2", chain.intermediate.certificate, server=server)
    wrong = check("01.2", chain.root.certificate, server=server)
    assert not wrong and "Issuer" in wrong.message
    from labkit.certs import CertSpec, issue

    impostor = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0), lab.fixture_key("rogue-ca"))
    assert "did not make the signature" in check("01.2", impostor.certificate, server=server).message
    assert "itself" in check("01.2", server, server=server).message
    assert not check("01.2", "the root", server=server)


@pytest.mark.parametrize("answer,ok", [
    (["generate a private key", "create a CSR", "CA signs the certificate"], True),
    (["key", "certificate signing request", "authorise the certificate"], True),
    (["make a keypair", "send a CSR", "get cert"], True),
    (["create a request", "generate a key", "CA signs the certificate"], False),
    (["key", "certificate"], False),
    ("key, request, certificate", False),
])
def test_01_3_stage_order(answer, ok):
    assert bool(check("01.3", answer)) is ok


def test_01_4_fingerprint_in_any_openssl_spelling():
    cert = pki.lab_chain().root.certificate
    assert check("01.4", fingerprint_line(cert), certificate=cert)
    assert check("01.4", fingerprint(cert).replace(":", "").lower(), certificate=cert)
    pasted = f"$ openssl x509 -in root.pem -noout -fingerprint -sha256\n{fingerprint_line(cert)}\n"
    assert check("01.4", pasted, certificate=cert)
    sha1 = check("01.4", fingerprint(cert, "sha1"), certificate=cert)
    assert not sha1 and "SHA-1" in sha1.message
    assert not check("01.4", fingerprint(pki.lab_chain().server.certificate), certificate=cert)


def test_results_render_and_unknown_ids_are_refused():
    result = check("00.1", dt.datetime(2020, 1, 1))
    assert str(result).startswith("NOT YET [00.1]") and "NOT YET" in result._repr_html_()
    with pytest.raises(LabError, match="exercise-id"):
        check("99.9", 1)
    assert all(e.chapter for e in EXERCISES.values())
