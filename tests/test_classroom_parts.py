"""The classroom's parts on their own (no hub): roster, result store, class table, workspaces, settings, runtime,
ports, and the Zero to JupyterHub values. The hub itself runs in test_classroom.py."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from labkit import InputError, LabError
from labkit.classroom import parse_roster, read_roster
from labkit.classroom.store import MAX_BATCH, ResultStore
from labkit.classroom.table import NOT_TRIED, NOT_YET, PASS, ClassTable, build, exercise_key
from labkit.classroom.workspace import files_for, populate

AT = "2026-01-05T09:00:00+00:00"


# -- roster ----------------------------------------------------------------------------------------------------

def test_the_example_roster_has_trainees_and_an_instructor():
    roster = read_roster(ROOT / "classroom" / "roster.example.csv")
    assert roster.trainees and roster.instructors
    assert set(roster.trainees).isdisjoint(roster.instructors)


@pytest.mark.parametrize(("text", "rule"), [
    ("ana,trainee,extra\nbo,instructor\n", "roster-columns"),
    ("Ana,trainee\nbo,instructor\n", "roster-username"),  # JupyterHub lower-cases names at login
    ("../etc,trainee\nbo,instructor\n", "roster-username"),
    ("root,instructor\n", "roster-username"),
    ("ana,student\nbo,instructor\n", "roster-role"),
    ("ana,trainee\nana,instructor\n", "roster-duplicate"),
    ("username,role\n# nobody yet\n", "roster-empty"),
    ("ana,trainee\n", "roster-no-instructor"),
])
def test_a_bad_roster_is_refused_naming_the_rule(text, rule):
    with pytest.raises(InputError) as caught:
        parse_roster(text)
    assert caught.value.rule == rule


def test_a_roster_reads_header_comments_blank_lines_and_roles():
    roster = parse_roster("username,role\n\n# a comment, with a comma\nana,trainee\nbo,INSTRUCTOR\n")
    assert roster.trainees == ("ana",) and roster.instructors == ("bo",) and roster.role_of("bo") == "instructor"
    with pytest.raises(InputError, match="roster-file"):
        read_roster(ROOT / "no-such-roster.csv")


# -- result store ----------------------------------------------------------------------------------------------

def result(exercise="05.1", passed=True, at=AT, message="m", attempts=1):
    return {"exercise": exercise, "passed": passed, "message": message, "at": at, "attempts": attempts}


def test_the_store_keeps_the_latest_result_and_ignores_an_older_catch_up(tmp_path):
    store = ResultStore(tmp_path / "class.sqlite")
    assert store.record("ana", [result(passed=False, at="2026-01-05T09:00:00+00:00")]) == 1
    assert store.record("ana", [result(passed=True, at="2026-01-05T09:05:00+00:00", attempts=2)]) == 1
    assert store.record("ana", [result(passed=False, at="2026-01-05T09:01:00+00:00")]) == 0  # late, older
    [kept] = store.results("ana")
    assert kept.passed and kept.attempts == 2
    store.close()
    reopened = ResultStore(tmp_path / "class.sqlite")  # a service restart keeps everything
    assert [r.passed for r in reopened.results()] == [True]


@pytest.mark.parametrize(("item", "rule"), [
    (result(exercise="05"), "class-result-exercise"),
    (result(exercise="'; DROP TABLE results; --"), "class-result-exercise"),
    (result(passed="yes"), "class-result-passed"),
    (result(at="yesterday"), "class-result-time"),
    (result(at="2026-01-05T09:00:00"), "class-result-time"),
    (result(attempts=0), "class-result-attempts"),
    (result(message=["x"]), "class-result-message"),
    ("05.1", "class-result-shape"),
])
def test_a_bad_result_is_refused_and_nothing_of_its_batch_is_stored(item, rule):
    store = ResultStore(":memory:")
    with pytest.raises(InputError) as caught:
        store.record("ana", [result(exercise="05.2"), item])
    assert caught.value.rule == rule
    assert store.results() == []


def test_batches_are_bounded_and_messages_shortened():
    store = ResultStore(":memory:")
    with pytest.raises(InputError, match="class-batch-size"):
        store.record("ana", [result(exercise=f"05.{i % 99}") for i in range(MAX_BATCH + 1)])
    store.record("ana", [result(message="x" * 5000)])
    assert len(store.results()[0].message) == 500


def test_the_store_is_plain_sqlite(tmp_path):
    store = ResultStore(tmp_path / "class.sqlite")
    store.record("ana", [result()])
    rows = sqlite3.connect(tmp_path / "class.sqlite").execute("SELECT user, exercise, passed FROM results").fetchall()
    assert rows == [("ana", "05.1", 1)]


# -- class table -----------------------------------------------------------------------------------------------

def test_the_class_table_shows_each_trainee_by_exercise_with_the_latest_hint_and_who_is_stuck():
    store = ResultStore(":memory:")
    store.record("ana", [result("05.1", True), result("05.2", False, message="revoke it first")])
    store.record("bo", [result("05.2", False, "2026-01-05T09:01:00+00:00", "not on this CRL"),
                        result("05.10", False, "2026-01-05T09:00:30+00:00", "later one"),
                        result("05.1", False, "2026-01-05T09:00:00+00:00")])
    store.record("teacher", [result("05.3", True)])
    table = build(store.results(), ["ana", "bo", "cy"], titles={"05.2": "Publish a CRL"}, exclude=["teacher"])
    assert table.exercises == ("05.1", "05.2", "05.10")  # 05.2 before 05.10; 05.3 only the instructor tried
    assert [r.trainee for r in table.rows] == ["ana", "bo", "cy"]
    assert table.status("ana", "05.1") == PASS and table.status("bo", "05.1") == NOT_YET
    assert table.rows[2].statuses == (NOT_TRIED,) * 3 and table.rows[2].last_activity == ""
    assert table.rows[1].hint == "05.2: not on this CRL"  # the latest NOT YET
    assert (table.stuck.exercise, table.stuck.count, table.stuck.of) == ("05.2", 2, 3)
    assert "05.2 Publish a CRL: 2 of 3 trainees stuck" in str(table.stuck)
    frame = table.frame()
    assert frame.loc["bo", "05.2"] == NOT_YET and frame.loc["ana", "passed"] == 1
    assert table.csv().splitlines()[0] == "trainee,05.1,05.2,05.10,passed,last activity,latest hint"
    assert ClassTable.from_json(json.loads(json.dumps(table.to_json()))) == table
    by_notebook = build(store.results(), ["ana"], titles={"05.1": "a", "05.3": "b", "06.1": "c"}, notebook="05")
    assert by_notebook.exercises == ("05.1", "05.2", "05.3", "05.10")
    assert build([], ["ana"]).stuck is None and exercise_key("10.8") == (10, 8)


# -- workspaces ------------------------------------------------------------------------------------------------

def test_trainees_get_the_chapter_notebooks_and_never_the_solutions():
    trainee = files_for(ROOT / "notebooks", instructor=False)
    instructor = files_for(ROOT / "notebooks", instructor=True, extra={
        "instructor/class-view.ipynb": ROOT / "classroom" / "class-view.ipynb"})
    assert "05-openssl-ca.ipynb" in trainee and len(trainee) == len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert not [p for p in trainee if "/" in p]
    assert "solutions/05-openssl-ca-solutions.ipynb" in instructor and "instructor/class-view.ipynb" in instructor
    assert "instructor/certificate-clinic.ipynb" in instructor


def test_a_later_spawn_keeps_the_trainees_edits_and_deletions_and_adds_a_new_chapter(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    first = populate(home, {"01.ipynb": b"kit 1", "02.ipynb": b"kit 2"})
    assert first.added == ("01.ipynb", "02.ipynb")
    (home / "01.ipynb").write_bytes(b"my edits")
    (home / "02.ipynb").unlink()
    (home / "03.ipynb").write_bytes(b"the trainee's own file")
    second = populate(home, {"01.ipynb": b"kit 1 v2", "02.ipynb": b"kit 2", "03.ipynb": b"kit 3",
                             "04.ipynb": b"kit 4"})
    assert second.added == ("04.ipynb",) and set(second.kept) == {"01.ipynb", "02.ipynb", "03.ipynb"}
    assert (home / "01.ipynb").read_bytes() == b"my edits" and not (home / "02.ipynb").exists()
    assert (home / "03.ipynb").read_bytes() == b"the trainee's own file"
    assert json.loads((home / ".labkit" / "workspace.json").read_text())["given"] == [
        "01.ipynb", "02.ipynb", "03.ipynb", "04.ipynb"]


def test_a_workspace_never_writes_through_a_planted_link_or_outside_the_home(tmp_path):
    home, outside = tmp_path / "home", tmp_path / "outside"
    home.mkdir()
    outside.mkdir()
    (home / "01.ipynb").symlink_to(outside / "target")
    report = populate(home, {"01.ipynb": b"kit", "../escape.ipynb": b"x", "/abs.ipynb": b"x",
                             ".labkit/workspace.json": b"x"})
    assert report.added == () and not (outside / "target").exists() and not (tmp_path / "escape.ipynb").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="writing as another user needs root")
def test_the_hub_writes_a_workspace_as_its_member():
    import pwd
    import shutil
    import subprocess
    import tempfile

    from labkit.classroom import workspace
    from labkit.classroom.workspace import prepare

    nobody = pwd.getpwnam("nobody")
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    python = next((p for p in ("/usr/bin/python3", sys.executable) if subprocess.run(
        [runuser, "-u", "nobody", "--", p, "-c", "0"], capture_output=True).returncode == 0), None)
    if python is None:
        pytest.skip("no Python the user nobody can run")
    top = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's own folders are closed to other users
    try:
        top.chmod(0o711)
        home = top / "home"
        home.mkdir()
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        script = top / "workspace.py"  # as the hub's runtime provides it: a copy the member can read
        shutil.copy(workspace.__file__, script)
        script.chmod(0o644)
        report = prepare(home, {"01.ipynb": b"kit"}, uid=nobody.pw_uid, gid=nobody.pw_gid, python=python,
                         script=str(script))
        assert report.added == ("01.ipynb",)
        assert (home / "01.ipynb").stat().st_uid == nobody.pw_uid  # written by the member, not by root
        assert (home / ".labkit" / "workspace.json").stat().st_uid == nobody.pw_uid
    finally:
        shutil.rmtree(top)


# -- settings, runtime, ports ----------------------------------------------------------------------------------

def test_settings_come_from_the_environment_and_bad_values_are_refused():
    from labkit.classroom.hubconfig import ClassroomSettings

    default = ClassroomSettings.from_env({})
    assert (default.ip, default.port, default.public_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert default.roster == ROOT / "classroom" / "roster.example.csv"
    tls = ClassroomSettings.from_env({"CLASSROOM_IP": "0.0.0.0", "CLASSROOM_PORT": "443",
                                      "CLASSROOM_SSL_CERT": "hub.pem", "CLASSROOM_SSL_KEY": "hub.key"})
    assert tls.public_url == "https://0.0.0.0:443"
    assert tls.class_url.startswith("http://127.0.0.1:")  # kernels reach the service directly
    for env, rule in (({"CLASSROOM_PORT": "http"}, "classroom-port"), ({"CLASSROOM_PORT": "70000"}, "classroom-port"),
                      ({"CLASSROOM_SSL_CERT": "hub.pem"}, "classroom-ssl"),
                      ({"CLASSROOM_CULL_TIMEOUT": "-1"}, "classroom-seconds")):
        with pytest.raises(InputError) as caught:
            ClassroomSettings.from_env(env)
        assert caught.value.rule == rule


def test_without_root_the_hub_says_what_it_needs_and_stops(monkeypatch):
    from labkit.classroom import accounts, hubconfig

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError) as caught:
        hubconfig.configure(object(), hubconfig.ClassroomSettings())
    assert caught.value.rule == "classroom-root" and "root" in str(caught.value)
    with pytest.raises(LabError, match="classroom-root"):
        accounts.ensure_user("lkt-never-made")


def test_others_can_use_follows_every_folder_on_the_way():
    import shutil
    import tempfile

    from labkit.classroom.runtime import others_can_use

    top = Path(tempfile.mkdtemp(dir="/tmp"))  # not below pytest's folder, which is closed to others
    try:
        top.chmod(0o755)
        python = top / "closed" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text("")
        python.chmod(0o755)
        (top / "closed").chmod(0o755)
        assert others_can_use(python, execute=True)
        (top / "closed").chmod(0o700)  # like /root under pyenv
        assert not others_can_use(python, execute=True) and not others_can_use(python)
        (top / "closed").chmod(0o755)
        python.chmod(0o750)
        assert not others_can_use(python)
    finally:
        shutil.rmtree(top)
    assert others_can_use("/usr/bin/env", execute=True)


# -- beyond one machine: Zero to JupyterHub ----------------------------------------------------------------------

def test_the_z2jh_values_name_the_image_the_limits_the_culler_and_the_class_service():
    values = yaml.safe_load((ROOT / "classroom" / "z2jh" / "values.yaml").read_text())
    single = values["singleuser"]
    assert single["image"]["name"] and single["image"]["tag"]
    for resource in ("memory", "cpu"):
        assert single[resource]["guarantee"] and single[resource]["limit"]
    assert _bytes(single["memory"]["guarantee"]) <= _bytes(single["memory"]["limit"])
    assert float(single["cpu"]["guarantee"]) <= float(single["cpu"]["limit"])
    assert single["networkPolicy"]["enabled"] is True  # pods isolated from each other instead of system users
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    service = values["hub"]["services"]["labkit-class"]
    assert service["url"].startswith("http://") and service["oauth_client_allowed_scopes"] == [
        "custom:labkit-class:view"]
    [runner] = [c for c in values["hub"]["extraContainers"] if c["name"] == "labkit-class"]
    assert runner["command"][-1] == "labkit.classroom.service" and runner["image"].startswith(
        single["image"]["name"])
    port = int(service["url"].rsplit(":", 1)[1])
    assert port in values["hub"]["networkPolicy"]["allowedIngressPorts"]
    assert single["extraEnv"]["LABKIT_CLASS_URL"].startswith(service["url"])
    assert "labkit.classroom.workspace" in single["lifecycleHooks"]["postStart"]["exec"]["command"]
    roles = values["hub"]["loadRoles"]
    assert any("custom:labkit-class:view" in role.get("scopes", []) for role in roles.values())
    assert "custom:labkit-class:view" in values["hub"]["config"]["JupyterHub"]["custom_scopes"]


def _bytes(text: str) -> float:
    units = {"K": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for unit in sorted(units, key=len, reverse=True):
        if str(text).endswith(unit):
            return float(str(text)[: -len(unit)]) * units[unit]
    return float(text)


# -- sessions' processes: how the orphan checks see a process ---------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process as another user needs root")
def test_a_sessions_processes_are_found_by_their_marker_and_ended(tmp_path):
    import pwd
    import shutil
    import subprocess

    from labkit.classroom import accounts

    nobody = pwd.getpwnam("nobody").pw_uid
    marker = os.urandom(4).hex()
    env = {"PATH": "/usr/bin:/bin", accounts.SESSION_ENV: marker}
    # A stray background process of the session: own session, parent gone (what a trainee's `nohup ... &` leaves).
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    spawner = subprocess.run([runuser, "-u", "nobody", "--", "sh", "-c", "setsid sleep 60 >/dev/null 2>&1 & "
                              "echo $!"], env=env, capture_output=True, text=True, check=True)
    stray = int(spawner.stdout.strip())
    other = subprocess.Popen([runuser, "-u", "nobody", "--", "sleep", "60"], env={"PATH": "/usr/bin:/bin"})
    try:
        assert stray in accounts.user_processes(nobody)  # the orphan check would see it: the check can fail
        assert accounts.session_processes(marker, nobody) == [stray]  # only the session's, not the other one
        assert accounts.end_processes([stray], grace=2) == []  # SIGTERM was enough
        assert not accounts.is_alive(stray)
    finally:
        other.kill()
        other.wait()
        accounts.end_processes([stray], grace=0.1)


def test_the_private_notebooks_are_closed_to_everyone_but_their_owner(tmp_path):
    import shutil

    from labkit.classroom.hubconfig import protect_private_notebooks

    notebooks = tmp_path / "notebooks"
    for name in ("solutions", "instructor"):
        (notebooks / name).mkdir(parents=True)
        (notebooks / name).chmod(0o755)
    shutil.copy(ROOT / "notebooks" / "05-openssl-ca.ipynb", notebooks)
    changed = protect_private_notebooks(notebooks)
    assert sorted(p.name for p in changed) == ["instructor", "solutions"]  # a copy: the checkout's .git untouched
    assert all((notebooks / n).stat().st_mode & 0o777 == 0o700 for n in ("solutions", "instructor"))
    assert (notebooks / "05-openssl-ca.ipynb").stat().st_mode & 0o004  # chapter notebooks stay readable
    assert protect_private_notebooks(notebooks) == []  # nothing more to do the second time
