"""The deterministic lab: the clock is an input, fixture keys are stable, serials count, reset restores."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from labkit import LabError, guide, lab

ELSEWHEN = dt.datetime(2031, 6, 1, 12, 30, 15, 987654, tzinfo=dt.timezone.utc)


@pytest.fixture
def machine_clock(monkeypatch):
    """The machine's clock, set to a fixed instant far from the lab's (and movable by the test)."""
    reading = {"now": ELSEWHEN}
    monkeypatch.setattr(lab, "_system_now", lambda: reading["now"])
    return reading


def test_clock_is_frozen_at_the_documented_default_instant(machine_clock):
    assert lab.clock.frozen
    assert lab.now() == lab.DEFAULT_INSTANT == dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    machine_clock["now"] += dt.timedelta(days=400)  # the machine's time moves on; the frozen lab clock does not
    assert lab.now() == lab.DEFAULT_INSTANT
    assert lab.now_real() == (ELSEWHEN + dt.timedelta(days=400)).replace(microsecond=0)


def test_advance_and_reset_restore_the_default():
    lab.clock.advance(days=30, hours=1)
    assert lab.now() - lab.DEFAULT_INSTANT == dt.timedelta(days=30, hours=1)
    lab.reset()
    assert lab.now() == lab.DEFAULT_INSTANT


def test_advance_takes_the_keywords_of_timedelta_and_refuses_others_in_one_rule():
    assert lab.clock.advance(weeks=1) == lab.DEFAULT_INSTANT + dt.timedelta(weeks=1)
    assert lab.clock.advance(days=-7, milliseconds=1500) == lab.DEFAULT_INSTANT + dt.timedelta(seconds=1)
    for bad in ({"months": 1}, {"days": "seven"}, {"days": 10**7}):
        with pytest.raises(LabError) as info:
            lab.clock.advance(**bad)
        assert info.value.rule == "clock-advance" and info.value.chapter == guide.NB00_CLOCK


def test_real_time_is_one_call_and_lab_time_freezes_again(machine_clock):
    lab.use_real_time()
    assert not lab.clock.frozen
    assert lab.now() == ELSEWHEN.replace(microsecond=0)  # whole seconds, as X.509 times are
    machine_clock["now"] += dt.timedelta(minutes=5)
    assert lab.now() == (ELSEWHEN + dt.timedelta(minutes=5)).replace(microsecond=0)
    with pytest.raises(LabError) as info:
        lab.clock.advance(days=1)
    assert info.value.rule == "advance-frozen-clock-only"
    assert lab.use_lab_time() == lab.DEFAULT_INSTANT and lab.clock.frozen


def test_an_explicit_instant_wins_over_the_clock_and_naive_means_utc():
    assert lab.now("2030-02-03T04:05:06Z") == dt.datetime(2030, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc)
    assert lab.now(dt.datetime(2030, 1, 1)) == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    plus_one = dt.datetime(2030, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert lab.now(plus_one) == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "", "05/01/2026"])
def test_a_bad_instant_names_the_iso8601_rule(text):
    with pytest.raises(LabError) as info:
        lab.parse_instant(text)
    assert info.value.rule == "iso8601-instant" and "2026-01-05T09:00:00Z" in str(info.value)


@pytest.mark.parametrize("spec", lab.FIXTURE_KEYS.values(), ids=lambda s: s.name)
def test_every_fixture_key_loads_with_its_declared_type_and_size(spec):
    key = lab.fixture_key(spec.name)
    expected = rsa.RSAPrivateKey if spec.kind == "rsa" else ec.EllipticCurvePrivateKey
    assert isinstance(key, expected)
    assert key.key_size == spec.size


def test_fixture_keys_are_distinct_so_no_two_roles_share_a_key():
    moduli = [lab.fixture_key(n).public_key().public_numbers() for n in lab.FIXTURE_KEYS]
    assert len({repr(m) for m in moduli}) == len(moduli)


def test_required_roles_have_fixture_keys():
    for name in ("root-ca", "issuing-ca", "expc-1", "expc-2", "expc-3", "expe-1", "expe-2", "ucm", "imp",
                 "trainee", "rsa-4096", "rsa-8192", "ec-p256"):
        assert name in lab.FIXTURE_KEYS


def test_unknown_fixture_key_lists_the_names():
    with pytest.raises(LabError) as info:
        lab.fixture_key("expressway")
    assert info.value.rule == "fixture-key-name" and "expc-1" in str(info.value) and "expressway" in str(info.value)


def test_fresh_keys_are_random_and_sizes_are_checked():
    a, b = lab.new_key("rsa", 2048), lab.new_key("rsa", 2048)
    assert a.public_key().public_numbers() != b.public_key().public_numbers()
    assert lab.new_key("ec", 256).curve.name == "secp256r1"
    with pytest.raises(LabError, match="rsa-key-size"):
        lab.new_key("rsa", 1024)
    with pytest.raises(LabError, match="key-type"):
        lab.new_key("dsa", 2048)


def test_serials_count_from_0x1000_and_reset():
    assert [lab.next_serial() for _ in range(3)] == [0x1000, 0x1001, 0x1002]
    lab.reset()
    assert lab.next_serial() == lab.FIRST_SERIAL == 0x1000


def test_workdirs_are_created_and_reset_removes_them(tmp_path):
    work = lab.workdir("01-pki-basics")
    (work / "x.pem").write_text("x")
    assert work.parent == tmp_path / "lab-work"
    lab.reset()
    assert work.exists()
    lab.reset(workdirs=True)
    assert not work.exists()
    with pytest.raises(LabError, match="workdir-name"):
        lab.workdir("../escape")


def test_reset_all_stops_lab_servers_forgets_exercises_and_deletes_working_folders():
    import http.server
    import socket

    from labkit import exercises, httpd

    class Hello(httpd.BackgroundServer):
        def _make_server(self, address):
            return http.server.HTTPServer(address, http.server.BaseHTTPRequestHandler)

    server = Hello().start()
    port = server.port
    socket.create_connection(("127.0.0.1", port), timeout=2).close()  # listening
    exercises.check("00.1", "not a date")
    assert "00.1" in set(exercises.progress()["exercise"])
    assert exercises.progress().set_index("exercise").loc["00.1", "status"] != "not tried"
    folder = lab.workdir("class-of-monday")
    lab.clock.advance(days=3)
    lab.next_serial()

    report = lab.reset_all()

    assert not server.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert f"Hello on port {port}" in report.stopped and "class-of-monday" in report.removed
    assert not folder.exists()
    assert exercises.progress().set_index("exercise").loc["00.1", "status"] == "not tried"
    assert lab.now() == lab.DEFAULT_INSTANT and lab.next_serial() == lab.FIRST_SERIAL
    assert "stopped 1 server(s)" in str(report) and "deleted 1 working folder(s)" in str(report)
    assert lab.reset_all().stopped == ()  # nothing left running; calling it again is harmless
