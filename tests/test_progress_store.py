"""Exercise results that last (labkit.progress_store): the file in the home, and the copy sent to the class service.

The class service here is a small HTTP server on 127.0.0.1 that records what it receives, answers 500, or does not
answer at all: the check must answer at once in every case, and a later check must send what is still unsent.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time

import labkit
from labkit import lab, progress_store
from labkit.exercises import check
from labkit.httpd import BackgroundServer


class FakeClassService(BackgroundServer):
    """Records every POST body; ``status`` is what it answers, ``delay`` how long it waits first."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        super().__init__()
        self.status, self.delay, self.received, self.tokens = status, delay, [], []

    def _make_server(self, address):
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(service.delay)
                if service.status == 200:
                    service.received.append(body)
                    service.tokens.append(self.headers["Authorization"])
                self.send_response(service.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        return http.server.ThreadingHTTPServer(address, Handler)

    def _listen_error(self, exc):
        raise exc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/labkit-class/"


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_check_is_saved_atomically_owner_only_and_read_back_by_a_new_process(tmp_path):
    check("01.3", ["generate a key", "create a CSR", "CA signs the certificate"])
    path = progress_store.path()
    assert path == tmp_path / "progress" / "progress.json"
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # no half-written file left
    saved = json.loads(path.read_text())
    assert saved["version"] == 1 and saved["results"]["01.3"]["passed"] is True
    # A kernel restart is a new process: it reads the same results.
    shown = subprocess.run([sys.executable, "-c", "import labkit; t = labkit.progress('01').set_index('exercise');"
                            "print(t.loc['01.3', 'status'])"], capture_output=True, text=True, env=os.environ,
                           check=True, timeout=60)
    assert shown.stdout.strip() == "pass"


def test_progress_shows_saved_results_of_earlier_sessions_and_this_sessions_win(tmp_path):
    from labkit import exercises

    check("00.1", lab.DEFAULT_INSTANT)  # not a week later: NOT YET
    exercises._RESULTS.clear()  # what a kernel restart does to memory
    assert labkit.progress("00").set_index("exercise").loc["00.1", "status"] == "not yet"
    check("00.1", lab.clock.advance(days=7))
    assert labkit.progress("00").set_index("exercise").loc["00.1", "status"] == "pass"
    assert progress_store.load()["00.1"].attempts == 2
    lab.reset_all()  # the instructor's reset forgets saved results too
    assert progress_store.load() == {}
    assert labkit.progress("00").set_index("exercise").loc["00.1", "status"] == "not tried"


def test_an_unreadable_progress_file_is_kept_aside_and_the_check_still_answers(tmp_path, capsys):
    path = progress_store.path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = check("01.3", ["key", "csr", "certificate"])
    assert result.passed
    assert path.with_name("progress.json.unreadable").read_text() == "{not json"
    assert "01.3" in progress_store.load()
    assert "kept as progress.json.unreadable" in capsys.readouterr().err


def test_a_progress_file_that_cannot_be_written_does_not_stop_the_check(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv("LABKIT_PROGRESS_FILE", str(blocked / "progress.json"))
    progress_store._warned.clear()
    assert check("01.3", ["key", "csr", "certificate"]).passed
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "progress not saved" in err  # one line, no traceback


def test_under_the_hub_each_check_is_sent_with_the_trainees_token(monkeypatch):
    with FakeClassService() as service:
        monkeypatch.setenv("LABKIT_CLASS_URL", service.url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "trainee-token")
        check("01.3", ["key", "csr", "certificate"])
        assert wait_until(lambda: service.received)
        sent = service.received[0]["results"]
        assert [r["exercise"] for r in sent] == ["01.3"] and sent[0]["passed"] is True
        assert service.tokens[0] == "token trainee-token"
        assert wait_until(lambda: progress_store.load()["01.3"].sent)


def test_a_service_that_hangs_never_blocks_the_check_and_a_later_check_catches_up(monkeypatch):
    with FakeClassService(delay=progress_store.SEND_TIMEOUT + 1) as slow:
        monkeypatch.setenv("LABKIT_CLASS_URL", slow.url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "trainee-token")
        assert check("01.3", ["key", "csr", "certificate"]).passed
        sending = progress_store._sync_thread
        assert sending is not None and sending.is_alive()  # the check answered while the send still waits
        assert wait_until(lambda: progress_store._sync_thread is None, timeout=progress_store.SEND_TIMEOUT + 3)
        assert not progress_store.load()["01.3"].sent
    with FakeClassService(status=500) as refusing:
        monkeypatch.setenv("LABKIT_CLASS_URL", refusing.url)
        assert progress_store.sync() == 0 and not progress_store.load()["01.3"].sent  # canary: 500 is no receipt
    with FakeClassService() as back:
        monkeypatch.setenv("LABKIT_CLASS_URL", back.url)
        check("00.1", lab.clock.advance(days=7))
        assert wait_until(lambda: all(r.sent for r in progress_store.load().values()))
        sent = {r["exercise"] for body in back.received for r in body["results"]}
        assert sent == {"01.3", "00.1"}  # the one the slow service never acknowledged came along


def test_without_the_hub_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("LABKIT_CLASS_URL", raising=False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    assert progress_store.class_endpoint() is None
    check("01.3", ["key", "csr", "certificate"])
    assert progress_store._sync_thread is None and not progress_store.load()["01.3"].sent


def test_concurrent_kernels_of_one_trainee_lose_no_result(tmp_path):
    code = ("import sys; from labkit import progress_store as p\n"
            "for i in range(40): p.record(f'{sys.argv[1]}.{i}', i % 2 == 0, 'm')")
    runs = [subprocess.Popen([sys.executable, "-c", code, prefix], env=os.environ) for prefix in ("91", "92", "93")]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0]
    saved = progress_store.load()
    assert len(saved) == 120 and saved["92.4"].passed and not saved["93.5"].passed


def test_the_location_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_PROGRESS_FILE", str(tmp_path / "a.json"))
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "kit"))
    assert progress_store.path() == tmp_path / "a.json"
    monkeypatch.delenv("LABKIT_PROGRESS_FILE")
    assert progress_store.path() == tmp_path / "kit" / "progress.json"
    monkeypatch.delenv("LABKIT_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert progress_store.path() == tmp_path / "home" / ".labkit" / "progress.json"


def test_the_sync_thread_is_a_daemon_so_a_kernel_can_always_exit(monkeypatch):
    with FakeClassService(delay=1) as service:
        monkeypatch.setenv("LABKIT_CLASS_URL", service.url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
        check("01.3", ["key", "csr", "certificate"])
        thread = next(t for t in threading.enumerate() if t.name == "labkit-progress-sync")
        assert thread.daemon
        wait_until(lambda: progress_store._sync_thread is None)
