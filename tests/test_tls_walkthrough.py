"""The walkthroughs recompute a real handshake's secrets, and the checks would catch a wrong value."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import tls_lab_dates

from labkit import PolicyError, lab
from labkit.chapters.ch02_tls_handshake import traversal_endpoints
from labkit.exercises import check
from labkit.tls import connection as tls
from labkit.tls.walkthrough import classic_rsa, tls13
from labkit.widgets import failure_lab


@tls_lab_dates
def test_classic_rsa_every_value_matches_the_key_log_and_the_finished_messages():
    walk = classic_rsa(*traversal_endpoints())
    checks = {s.name: s.ok for s in walk.steps}
    assert checks["premaster secret"] and checks["master secret"]
    assert checks["client Finished"] and checks["server Finished"] and checks["extended master secret"]
    assert walk.all_checked and walk.trace.cipher == "AES128-GCM-SHA256"


@tls_lab_dates
def test_the_classic_master_secret_is_not_what_ems_handshakes_log():
    """With the extended master secret on (the default), the logged master is the EMS one, not the classic PRF."""
    from labkit.tls import keys as k

    client, server = traversal_endpoints()
    trace = tls.handshake(replace(client, tls="1.2", ciphers="AES128-GCM-SHA256"),
                          replace(server, tls="1.2", ciphers="AES128-GCM-SHA256"))
    cke = trace.message("ClientKeyExchange", "C->S").data
    premaster = k.decrypt_premaster(server.key, cke)
    cr, sr = trace.message("ClientHello").data[6:38], trace.message("ServerHello").data[6:38]
    logged = k.parse_keylog(trace.keylog)["CLIENT_RANDOM"][cr]
    assert k.master_secret(premaster, cr, sr) != logged


@tls_lab_dates
def test_tls13_both_finished_values_recomputed():
    walk = tls13(*traversal_endpoints())
    assert walk.all_checked and walk.trace.version == "TLSv1.3"
    assert [s.name for s in walk.steps if s.ok] == ["server Finished", "client Finished"]


def test_walkthroughs_need_the_message_trace(monkeypatch):
    monkeypatch.setattr(tls, "_HAS_MSG_CALLBACK", False)
    with pytest.raises(PolicyError, match="msg-callback"):
        classic_rsa(*traversal_endpoints())


@tls_lab_dates
def test_failure_lab_widget_runs_the_chosen_scenario():
    box = failure_lab("working")
    assert "outcome: OK" in box.pane.value
    box.scenario.value = "revoked"
    assert "verify_code: 23" in box.pane.value and "fix:" in box.pane.value
    box.version.value = "1.2"
    assert "verify_code: 23" in box.pane.value and "Alert(certificate_revoked)" in box.pane.value
    assert "not rendering" not in repr(box)


@tls_lab_dates
def test_02_exercises_reject_wrong_answers():
    assert check("02.1", "client", 23, scenario="revoked")
    assert not check("02.1", "server", 23, scenario="revoked")
    assert "verify code" in check("02.1", "client", 20, scenario="revoked").message
    walk = classic_rsa(*traversal_endpoints())
    values = {s.name: s.value for s in walk.steps}
    from labkit.tls import keys as k

    assert check("02.2", k.master_secret(values["premaster secret"], values["client random"], values["server random"]),
                 walkthrough=walk)
    assert not check("02.2", values["premaster secret"], walkthrough=walk)
    assert check("02.3", "expe.lab.example")
    assert not check("02.3", "expe-old.lab.example")
    lab.reset()


# -- the checks can say no: a key log that does not match the handshake ---------------------------------------------

def _flip_last_hex_digit(line: str) -> str:
    return line[:-1] + ("0" if line[-1] != "0" else "1")


def _corrupting(label: str):
    """A stand-in for tls.handshake whose trace keeps the real messages but one corrupted key-log line."""
    real = tls.handshake

    def corrupted(client, server, **kwargs):
        trace = real(client, server, **kwargs)
        lines = [(_flip_last_hex_digit(line) if line.startswith(label + " ") else line)
                 for line in trace.keylog.splitlines()]
        assert lines != trace.keylog.splitlines(), f"no {label} line to corrupt"
        return replace(trace, keylog="\n".join(lines) + "\n")

    return corrupted


@tls_lab_dates
@pytest.mark.parametrize(("label", "failing"), [
    ("CLIENT_RANDOM", {"master secret"}),
    ("RSA", {"premaster secret"}),
])
def test_classic_rsa_step_fails_when_the_key_log_disagrees(monkeypatch, label, failing):
    import labkit.tls.walkthrough as walkthrough

    monkeypatch.setattr(walkthrough, "handshake", _corrupting(label))
    walk = classic_rsa(*traversal_endpoints())
    assert {s.name for s in walk.steps if s.ok is False} == failing
    assert not walk.all_checked
    table = walk.table()
    assert list(table.loc[table["step"].isin(failing), "check passed"]) == ["NO"] * len(failing)


@tls_lab_dates
def test_tls13_finished_check_fails_when_the_logged_handshake_secret_is_wrong(monkeypatch):
    import labkit.tls.walkthrough as walkthrough

    monkeypatch.setattr(walkthrough, "handshake", _corrupting("SERVER_HANDSHAKE_TRAFFIC_SECRET"))
    walk = tls13(*traversal_endpoints())
    assert [s.name for s in walk.steps if s.ok is False] == ["server Finished"]
    assert [s.name for s in walk.steps if s.ok] == ["client Finished"]
    assert not walk.all_checked
