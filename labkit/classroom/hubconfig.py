"""The classroom hub's configuration, from environment variables (``classroom/jupyterhub_config.py`` calls it).

=============================  ====================================================  ================================
variable                       meaning                                               default
=============================  ====================================================  ================================
``CLASSROOM_IP``               address the hub's public proxy listens on             ``127.0.0.1``
``CLASSROOM_PORT``             its port                                              ``8000``
``ROSTER``                     the roster (``username,role`` lines)                  ``classroom/roster.example.csv``
``CLASSROOM_STATE``            hub database, passwords, class results, runtime       ``/var/lib/labkit-classroom``
``CLASSROOM_HOME``             where members' homes are made                         ``/home``
``CLASSROOM_NOTEBOOKS``        the notebooks given to members                        ``notebooks/`` of the checkout
``CLASSROOM_SSL_CERT``/``KEY`` serve HTTPS with this certificate and key             (plain HTTP)
``CLASSROOM_CULL_TIMEOUT``     seconds idle before a server is stopped               ``3600``
``CLASSROOM_CULL_EVERY``       seconds between the culler's checks                   ``300``
``CLASSROOM_HUB_PORT``         the hub's own API port (127.0.0.1)                    ``8081``
``CLASSROOM_PROXY_API_PORT``   the proxy's API port (127.0.0.1)                      ``8001``
``CLASSROOM_SERVICE_PORT``     the class service's port (127.0.0.1)                  ``8765``
``CLASSROOM_PROXY``            the configurable-http-proxy command                   ``classroom/node_modules/...``
=============================  ====================================================  ================================

What it sets up (each piece a maintained JupyterHub part): the hub with ``configurable-http-proxy``; accounts from
the roster with ``jupyterhub-firstuseauthenticator`` (a trainee sets their password at first login; only roster
names may log in; instructors are hub admins); :class:`~labkit.classroom.spawner.ClassroomSpawner` (system users,
workspaces); ``jupyterhub-idle-culler`` as a hub-managed service; and the class service
(:mod:`labkit.classroom.service`) with the custom scope that only instructors hold.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labkit.classroom import accounts, workspace
from labkit.classroom.roster import Roster, read_roster
from labkit.classroom.runtime import Runtime, runtime
from labkit.classroom.service import SERVICE_NAME, VIEW_SCOPE
from labkit.errors import InputError

__all__ = ["ClassroomSettings", "configure", "protect_private_notebooks", "REPO"]

REPO = Path(__file__).resolve().parents[2]
_CHAPTER = "README (A class on JupyterHub: set-up)"


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "") or str(default)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InputError(f"{name} is a TCP port (1-65535)", rule="classroom-port", value=text, chapter=_CHAPTER)
    return int(text)


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "") or str(default)
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{name} is a whole number of seconds", rule="classroom-seconds", value=text,
                         chapter=_CHAPTER)
    return int(text)


@dataclass(frozen=True)
class ClassroomSettings:
    """Every setting of the classroom hub (see the module docstring for the variables and defaults)."""

    ip: str = "127.0.0.1"
    port: int = 8000
    roster: Path = REPO / "classroom" / "roster.example.csv"
    state: Path = Path("/var/lib/labkit-classroom")
    home_base: Path = Path("/home")
    notebooks: Path = REPO / "notebooks"
    ssl_cert: str = ""
    ssl_key: str = ""
    cull_timeout: int = 3600
    cull_every: int = 300
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_port: int = 8765
    proxy: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ClassroomSettings:
        """Read the ``CLASSROOM_*`` and ``ROSTER`` variables (:class:`~labkit.InputError` naming a bad one)."""
        cert, key = env.get("CLASSROOM_SSL_CERT", ""), env.get("CLASSROOM_SSL_KEY", "")
        if bool(cert) != bool(key):
            raise InputError("HTTPS needs both CLASSROOM_SSL_CERT and CLASSROOM_SSL_KEY", rule="classroom-ssl",
                             value=cert or key, chapter=_CHAPTER)
        proxy = env.get("CLASSROOM_PROXY", "")
        if not proxy:
            local = REPO / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy"
            proxy = str(local) if local.exists() else (shutil.which("configurable-http-proxy") or "")
        return cls(ip=env.get("CLASSROOM_IP", "") or "127.0.0.1",
                   port=_port(env, "CLASSROOM_PORT", 8000),
                   roster=Path(env.get("ROSTER", "") or cls.roster).resolve(),
                   state=Path(env.get("CLASSROOM_STATE", "") or cls.state).resolve(),
                   home_base=Path(env.get("CLASSROOM_HOME", "") or cls.home_base).resolve(),
                   notebooks=Path(env.get("CLASSROOM_NOTEBOOKS", "") or cls.notebooks).resolve(),
                   ssl_cert=cert, ssl_key=key,
                   cull_timeout=_seconds(env, "CLASSROOM_CULL_TIMEOUT", 3600),
                   cull_every=_seconds(env, "CLASSROOM_CULL_EVERY", 300),
                   hub_port=_port(env, "CLASSROOM_HUB_PORT", 8081),
                   proxy_api_port=_port(env, "CLASSROOM_PROXY_API_PORT", 8001),
                   service_port=_port(env, "CLASSROOM_SERVICE_PORT", 8765),
                   proxy=proxy)

    @property
    def public_url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{'https' if self.ssl_cert else 'http'}://{host}:{self.port}"

    @property
    def class_url(self) -> str:
        """The class service as kernels reach it: directly on 127.0.0.1, not through the public proxy."""
        return f"http://127.0.0.1:{self.service_port}/services/{SERVICE_NAME}/"


def protect_private_notebooks(notebooks: Path) -> list[Path]:
    """Close ``solutions/`` and ``instructor/`` of the notebooks folder to everyone but their owner (``go-rwx``),
    so a trainee's kernel cannot read them by path either; when they are the checkout's own notebooks, close the
    checkout's ``.git`` folder too (its history holds the solutions). The owner keeps every right, and git does not
    record folder modes, so the checkout is otherwise unchanged. Returns the folders changed."""
    folders = [notebooks / name for name in workspace.PRIVATE_FOLDERS]
    if notebooks.resolve() == (REPO / "notebooks").resolve():
        folders.append(REPO / ".git")  # a git worktree's .git is a file naming the real one: left as it is
    changed = []
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mode & 0o077:
            folder.chmod(folder.stat().st_mode & ~0o077)
            changed.append(folder)
    return changed


def configure(c, settings: ClassroomSettings, *, roster: Roster | None = None, rt: Runtime | None = None) -> None:
    """Fill the JupyterHub config object ``c`` (see the module docstring). Raises :class:`~labkit.LabError`
    ``classroom-root`` when not root, ``classroom-runtime`` when trainees could not run the kit, and
    :class:`~labkit.InputError` for a bad roster or a missing proxy."""
    accounts.require_root()
    roster = roster or read_roster(settings.roster)
    if not settings.proxy:
        raise InputError("configurable-http-proxy is missing: make classroom installs it (npm)",
                         rule="classroom-proxy", value="configurable-http-proxy", chapter=_CHAPTER)
    hub_dir = settings.state / "hub"
    hub_dir.mkdir(parents=True, exist_ok=True)
    hub_dir.chmod(0o700)  # the hub's database, cookie secret and password hashes
    settings.state.chmod(settings.state.stat().st_mode | 0o711)  # the runtime below must stay reachable
    rt = rt or runtime(settings.state)
    protect_private_notebooks(settings.notebooks)

    c.JupyterHub.bind_url = settings.public_url
    if settings.ssl_cert:
        c.JupyterHub.ssl_cert, c.JupyterHub.ssl_key = settings.ssl_cert, settings.ssl_key
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.hub_port
    c.JupyterHub.db_url = f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(hub_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(hub_dir / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True  # the hub stopping stops every member's server (and so their lab servers)
    c.ConfigurableHTTPProxy.command = [settings.proxy]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(hub_dir / "proxy.pid")

    # Accounts: the roster, passwords set at first login, instructors as admins.
    c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
    c.FirstUseAuthenticator.dbm_path = str(hub_dir / "passwords.dbm")
    c.FirstUseAuthenticator.create_users = False
    c.Authenticator.allowed_users = set(roster.trainees)
    c.Authenticator.admin_users = set(roster.instructors)
    c.Authenticator.allow_existing_users = False  # only the roster logs in, even after someone left it

    # Members' servers: system users, workspaces, the kit's Python.
    c.JupyterHub.spawner_class = "labkit.classroom.spawner.ClassroomSpawner"
    c.ClassroomSpawner.notebooks = str(settings.notebooks)
    c.ClassroomSpawner.instructor_extra = {"instructor/class-view.ipynb": str(REPO / "classroom" /
                                                                              "class-view.ipynb")}
    c.ClassroomSpawner.home_base = str(settings.home_base)
    c.ClassroomSpawner.runtime_python = rt.python
    c.ClassroomSpawner.runtime_path = os.pathsep.join(rt.bin)
    c.ClassroomSpawner.workspace_script = rt.workspace
    c.ClassroomSpawner.class_url = settings.class_url
    c.Spawner.cmd = [rt.python, "-m", "jupyterhub.singleuser"]
    c.Spawner.notebook_dir = "~"
    c.Spawner.default_url = "/lab/tree/00-welcome.ipynb"
    c.Spawner.start_timeout = 60
    c.Spawner.http_timeout = 60
    c.LocalProcessSpawner.interrupt_timeout = 10
    c.LocalProcessSpawner.term_timeout = 5
    # The server's own token ($JUPYTERHUB_API_TOKEN in kernels): may post results to the class service; for
    # instructors it also reads the class table. The hub keeps only the scopes the member holds.
    c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                     f"access:services!service={SERVICE_NAME}", VIEW_SCOPE]

    # Who may do what: every member reaches the class service; only instructors hold the class view scope.
    c.JupyterHub.custom_scopes = {VIEW_SCOPE: {"description": "See every trainee's exercise results (labkit)"}}
    c.JupyterHub.load_roles = [
        {"name": "user", "scopes": ["self", f"access:services!service={SERVICE_NAME}"]},
        {"name": "labkit-instructor", "description": "Instructors: the class view",
         "users": sorted(roster.instructors), "scopes": [VIEW_SCOPE, f"access:services!service={SERVICE_NAME}"]},
        {"name": "idle-culler", "description": "Stop idle servers", "services": ["idle-culler"],
         "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    ]
    c.JupyterHub.services = [
        {"name": SERVICE_NAME, "url": f"http://127.0.0.1:{settings.service_port}", "display": True,
         "command": [sys.executable, "-m", "labkit.classroom.service"], "oauth_no_confirm": True,
         "oauth_client_allowed_scopes": [VIEW_SCOPE],
         "environment": {"LABKIT_CLASS_DB": str(hub_dir / "class.sqlite"), "LABKIT_ROSTER": str(settings.roster),
                         "PYTHONUNBUFFERED": "1"}},
        {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                                            f"--timeout={settings.cull_timeout}",
                                            f"--cull-every={settings.cull_every}", "--concurrency=5"]},
    ]
