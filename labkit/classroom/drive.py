"""A class member driven through the hub, as their browser would: log in, spawn, open a notebook, run its cells.

Used by the classroom test and benchmark (and handy to rehearse a hub before a class): :class:`Member` logs in on
the hub's login page (the first-use authenticator sets the password), gets an API token, starts their server with
the hub's REST API, reads notebooks through the server's contents API and runs code in a kernel over the kernel
WebSocket (Jupyter messaging protocol 5), everything through the hub's public proxy.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

import requests
import websocket

from labkit.classroom import accounts
from labkit.classroom.hubconfig import REPO
from labkit.httpd import free_port

__all__ = ["Output", "Member", "Kernel", "HubError", "LocalHub", "alive"]


class HubError(RuntimeError):
    """The hub or a server answered something else than expected (status and the start of the body)."""


def _check(response: requests.Response, *expected: int) -> requests.Response:
    if response.status_code not in expected:
        raise HubError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}")
    return response


@dataclass
class Output:
    """What one cell printed: ``text`` (streams and text/plain results, in order), ``error`` (``ename: evalue``, or
    ``""``), and the rich ``data`` of its results and displays."""

    text: str = ""
    error: str = ""
    data: list[dict] = field(default_factory=list)


class Kernel:
    """A kernel of a member's server, over its WebSocket channel."""

    def __init__(self, member: Member, kernel_id: str):
        self.member, self.id = member, kernel_id
        self._ws: websocket.WebSocket | None = None
        self.session = uuid.uuid4().hex

    def _connect(self) -> websocket.WebSocket:
        if self._ws is None:
            url = urlparse(self.member.hub_url)
            scheme = "wss" if url.scheme == "https" else "ws"
            self._ws = websocket.create_connection(
                f"{scheme}://{url.netloc}{self.member.server_path}api/kernels/{self.id}/channels?session_id="
                f"{self.session}", header=[f"Authorization: token {self.member.token}"], timeout=120)
        return self._ws

    def execute(self, code: str, *, timeout: float = 120.0) -> Output:
        """Run ``code``; wait until the kernel is idle again."""
        ws = self._connect()
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.member.name, "session": self.session,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        out = Output()
        idle = replied = False
        deadline = time.monotonic() + timeout
        while not (idle and replied):
            if time.monotonic() > deadline:
                raise HubError(f"kernel {self.id} did not finish within {timeout:g} s")
            message = json.loads(ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                out.text += content["text"]
            elif kind in ("execute_result", "display_data"):
                out.data.append(content["data"])
                out.text += content["data"].get("text/plain", "") + "\n"
            elif kind == "error":
                out.error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                replied = True
                if content.get("status") == "error" and not out.error:
                    out.error = f"{content.get('ename')}: {content.get('evalue')}"
        return out

    def restart(self) -> None:
        """Restart the kernel (a new process, nothing of the old one's memory)."""
        self.close()
        _check(self.member.api("POST", f"api/kernels/{self.id}/restart"), 200)
        self._wait_idle()

    def _wait_idle(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.execute("1", timeout=timeout).error == "":
                    return
            except (websocket.WebSocketException, OSError):
                self.close()
            time.sleep(0.2)
        raise HubError(f"kernel {self.id} did not come back")

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def shutdown(self) -> None:
        self.close()
        self.member.api("DELETE", f"api/kernels/{self.id}")


class Member:
    """One roster member at the hub ``hub_url`` (``http://127.0.0.1:8000``)."""

    def __init__(self, hub_url: str, name: str, password: str):
        self.hub_url, self.name, self.password = hub_url.rstrip("/"), name, password
        self.http = requests.Session()
        self.token = ""

    @property
    def server_path(self) -> str:
        return f"/user/{quote(self.name)}/"

    def login(self) -> Member:
        """Log in on the hub's login page (at the first login this sets the password) and get an API token."""
        _check(self.http.get(f"{self.hub_url}/hub/login", timeout=30), 200)
        xsrf = self.http.cookies.get("_xsrf", "")
        _check(self.http.post(f"{self.hub_url}/hub/login", data={
            "username": self.name, "password": self.password, "_xsrf": xsrf}, allow_redirects=False, timeout=30),
            302)
        answer = _check(self.http.post(f"{self.hub_url}/hub/api/users/{quote(self.name)}/tokens",
                                       json={"note": "labkit.classroom.drive"}, timeout=30,
                                       headers={"X-XSRFToken": self.http.cookies.get("_xsrf", xsrf)}), 201)
        self.token = answer.json()["token"]
        return self

    def hub_api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.hub_url}/hub/api/{path}", timeout=60,
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """A request to this member's single-user server (``api/contents/...``), through the proxy."""
        return requests.request(method, f"{self.hub_url}{self.server_path}{path}", timeout=60,
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def service(self, method: str, path: str, *, token: str | None = None, **kwargs) -> requests.Response:
        """A request to the class service through the proxy (``api/class``, ``class.csv`` ...)."""
        return requests.request(method, f"{self.hub_url}/services/labkit-class/{path}", timeout=30,
                                allow_redirects=False, headers={"Authorization": f"token {token or self.token}"},
                                **kwargs)

    def server(self) -> dict:
        return _check(self.hub_api("GET", f"users/{quote(self.name)}"), 200).json().get("servers", {}).get("", {})

    def spawn(self, *, timeout: float = 120.0) -> float:
        """Start this member's server and wait until it answers. Returns the seconds it took."""
        started = time.monotonic()
        _check(self.hub_api("POST", f"users/{quote(self.name)}/server"), 201, 202)
        while True:
            if self.server().get("ready"):
                break
            if time.monotonic() - started > timeout:
                raise HubError(f"{self.name}'s server did not start within {timeout:g} s")
            time.sleep(0.1)
        while self.api("GET", "api/status").status_code != 200:  # the proxy route is in place
            if time.monotonic() - started > timeout:
                raise HubError(f"{self.name}'s server does not answer through the proxy")
            time.sleep(0.1)
        return time.monotonic() - started

    def stop(self, *, timeout: float = 60.0) -> None:
        """Stop this member's server (what the idle culler and logout do) and wait until the hub says so."""
        _check(self.hub_api("DELETE", f"users/{quote(self.name)}/server"), 202, 204)
        deadline = time.monotonic() + timeout
        while self.server():
            if time.monotonic() > deadline:
                raise HubError(f"{self.name}'s server did not stop within {timeout:g} s")
            time.sleep(0.1)

    def files(self, path: str = "") -> list[str]:
        """Names in a folder of the member's home, through the contents API."""
        answer = _check(self.api("GET", f"api/contents/{quote(path)}"), 200).json()
        return sorted(item["name"] for item in answer["content"])

    def notebook(self, path: str) -> dict:
        return _check(self.api("GET", f"api/contents/{quote(path)}"), 200).json()["content"]

    def save_notebook(self, path: str, content: dict) -> None:
        _check(self.api("PUT", f"api/contents/{quote(path)}", json={"type": "notebook", "content": content}),
               200, 201)

    def kernel(self) -> Kernel:
        """A new kernel, started in the home folder (as JupyterLab starts one for a notebook there)."""
        answer = _check(self.api("POST", "api/kernels", json={"name": "python3", "path": ""}), 201)
        return Kernel(self, answer.json()["id"])

    def run_notebook(self, path: str, kernel: Kernel, *, stop_at: str | None = None) -> list[tuple[str, Output]]:
        """Run the code cells of the notebook at ``path`` in ``kernel``, in order (up to the first cell containing
        ``stop_at``, excluded). Returns ``(source, output)`` per cell."""
        ran = []
        for cell in self.notebook(path)["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            if stop_at and stop_at in source:
                break
            ran.append((source, kernel.execute(source)))
        return ran


def _tree(pid: int) -> set[int]:
    """``pid`` and every descendant still running."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def alive(pids) -> set[int]:
    """The processes of ``pids`` still running (zombies count as ended)."""
    return {pid for pid in pids if accounts.is_alive(pid)}


class LocalHub:
    """A throw-away classroom hub on this machine (as root): ``classroom/jupyterhub_config.py`` run as
    ``make classroom`` runs it, on free ports of 127.0.0.1, over a copy of ``notebooks`` (which the caller may
    change), with ``trainees`` and ``instructors`` (short suffixes: the real names get a unique ``lkt-XXXX-``
    prefix) as system users whose homes live in a temporary folder. :meth:`close` removes everything: processes,
    users, homes, state."""

    def __init__(self, trainees: list[str], instructors: list[str], *, notebooks: Path | None = None):
        # A folder others may cross (0711) but not list: members must reach their homes below it.
        self.folder = folder = Path(tempfile.mkdtemp(prefix="lkt-classroom-"))
        folder.chmod(0o711)
        tag = secrets.token_hex(2)
        self.trainees = [f"lkt-{tag}-{n}" for n in trainees]
        self.instructors = [f"lkt-{tag}-{n}" for n in instructors]
        self.passwords = {name: secrets.token_urlsafe(12) for name in self.trainees + self.instructors}
        self.state, self.homes = folder / "state", folder / "homes"
        self.notebooks = folder / "notebooks"
        shutil.copytree(notebooks or REPO / "notebooks", self.notebooks,
                        ignore=shutil.ignore_patterns("lab-work", ".ipynb_checkpoints"))
        self.homes.mkdir()
        self.homes.chmod(0o755)
        self.roster = folder / "roster.csv"
        self.roster.write_text("username,role\n" + "".join(f"{n},trainee\n" for n in self.trainees)
                               + "".join(f"{n},instructor\n" for n in self.instructors))
        self.env = {**os.environ, "ROSTER": str(self.roster), "CLASSROOM_STATE": str(self.state),
                    "CLASSROOM_HOME": str(self.homes), "CLASSROOM_NOTEBOOKS": str(self.notebooks),
                    "CLASSROOM_IP": "127.0.0.1",
                    "CLASSROOM_PROXY": str(REPO / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy")}
        self._choose_ports()
        for name in ("LABKIT_PROGRESS_FILE", "LABKIT_CLASS_URL", "LABKIT_WORKDIR", "JUPYTERHUB_API_TOKEN"):
            self.env.pop(name, None)  # members' servers get a real home, as in class
        self.log = folder / "hub.log"
        self.process: subprocess.Popen | None = None
        self.tree: set[int] = set()

    def _choose_ports(self) -> None:
        self.port, hub, api, service = (free_port() for _ in range(4))
        self.url = f"http://127.0.0.1:{self.port}"
        self.env.update({"CLASSROOM_PORT": str(self.port), "CLASSROOM_HUB_PORT": str(hub),
                         "CLASSROOM_PROXY_API_PORT": str(api), "CLASSROOM_SERVICE_PORT": str(service)})

    def _answers(self) -> bool:
        """Whether the hub's API answers on our public port (and not some other program that took the port)."""
        try:
            with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=2) as answer:
                return "version" in json.load(answer)
        except (OSError, ValueError, urllib.error.URLError, http.client.HTTPException):
            return False

    def start(self, timeout: float = 60, attempts: int = 3) -> LocalHub:
        """Start the hub and wait until it answers. Ports are picked free just before, so another program can take
        one meanwhile (a kernel's ZeroMQ socket, say): the hub then fails to start, and it is tried again on new
        ports, ``attempts`` times in all."""
        for attempt in range(attempts):
            if attempt:
                self._choose_ports()
            if self._start_once(timeout):
                return self
        raise HubError(f"the hub did not start in {attempts} attempts:\n{self.tail()}")

    def _start_once(self, timeout: float) -> bool:
        with self.log.open("ab") as out:
            # SIGINT back to its default: a hub started from a background job inherits it ignored, and then the
            # hub's SIGINT to its services and servers would only take effect after the spawner's timeouts.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(REPO / "classroom" / "jupyterhub_config.py")],
                cwd=self.folder, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
        deadline = time.monotonic() + timeout
        while not self._answers():
            self.processes()  # remember the proxy and services as they start, to end them if this attempt fails
            if self.process.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(HubError):  # most likely a port taken meanwhile: the caller tries new ones
                    self.stop(timeout=30)
                accounts.end_processes(sorted(alive(self.tree)), grace=1)
                return False
            time.sleep(0.2)
        return True

    @property
    def class_url(self) -> str:
        """The class service as members' kernels reach it (what the spawner puts in ``$LABKIT_CLASS_URL``)."""
        return f"http://127.0.0.1:{self.env['CLASSROOM_SERVICE_PORT']}/services/labkit-class/"

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def processes(self) -> set[int]:
        """The hub's process tree now, and every process of the roster's users (remembered for the orphan check)."""
        found = _tree(self.process.pid) if self.process and self.process.poll() is None else set()
        found |= self.user_processes()
        self.tree |= found
        return found

    def user_processes(self) -> set[int]:
        found = set()
        for name in self.trainees + self.instructors:
            with contextlib.suppress(KeyError):
                found |= set(accounts.user_processes(pwd.getpwnam(name).pw_uid))
        return found

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    def stop(self, timeout: float = 60) -> float:
        """SIGTERM the hub (it stops every server, its services and the proxy) and wait. Returns the seconds."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        self.processes()
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HubError(f"the hub did not stop in {timeout:g} s:\n{self.tail()}") from None
        return time.monotonic() - started

    def close(self) -> None:
        """Whatever state the caller left: end every process, remove the users, their homes and the state."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.processes()  # the proxy and the services run in sessions of their own: remember them first
                try:
                    self.stop(timeout=30)  # the hub's own clean-up first
                except HubError:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=10)
            accounts.end_processes(sorted(alive(self.tree | self.user_processes())), grace=1)
        finally:
            try:
                for name in self.trainees + self.instructors:
                    accounts.remove_user(name)
            finally:
                shutil.rmtree(self.folder, ignore_errors=True)
