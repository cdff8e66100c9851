"""The classroom's spawner: JupyterHub's ``LocalProcessSpawner``, with a system user and a workspace per member.

Before a member's single-user server starts, :class:`ClassroomSpawner` (running in the hub, as root)

1. makes the member a system user if needed (``useradd``, :func:`~labkit.classroom.accounts.ensure_user`), as
   The Littlest JupyterHub's ``UserCreatingSpawner`` does;
2. gives their home the notebooks they should have (:mod:`labkit.classroom.workspace`): chapter notebooks for
   trainees, also solutions, the clinic and the class view for instructors (hub admins), never over their edits;
3. starts the server as that user (``LocalProcessSpawner``) with ``$LABKIT_CLASS_URL`` (the class service) and a
   session marker. (The lab's servers always take free ports, so trainees never collide: :mod:`labkit.httpd`.)

When the server stops (logout, the idle culler, the hub stopping), ``LocalProcessSpawner`` ends the server, which
shuts its kernels down; the lab's CRL and OCSP servers are threads of a kernel and Pebble dies with the kernel that
started it (``PR_SET_PDEATHSIG``). Then :meth:`ClassroomSpawner.stop` ends whatever still carries the session's
marker (a process a trainee started in the background), so nothing of a stopped session is left running.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Dict, Unicode

from labkit.classroom import accounts, workspace

__all__ = ["ClassroomSpawner"]


class ClassroomSpawner(LocalProcessSpawner):
    """See the module docstring. Configured by ``classroom/jupyterhub_config.py``."""

    notebooks = Unicode(help="The kit's notebooks folder, copied into members' homes").tag(config=True)
    instructor_extra = Dict(help="More files for instructors: {path in the home: file}").tag(config=True)
    home_base = Unicode("/home", help="Where members' homes are made").tag(config=True)
    runtime_python = Unicode(help="The Python members' servers run (see labkit.classroom.runtime)").tag(config=True)
    runtime_path = Unicode("", help="Folders put first on members' PATH").tag(config=True)
    workspace_script = Unicode(workspace.__file__, help="labkit/classroom/workspace.py as members can read it").tag(
        config=True)
    class_url = Unicode("", help="The class service's URL, as kernels reach it").tag(config=True)

    _marker = ""
    workspace_report: workspace.Report | None = None

    def _prepare_member(self) -> None:
        entry = accounts.ensure_user(self.user.name, home_base=self.home_base)
        files = workspace.files_for(self.notebooks, instructor=bool(self.user.admin), extra=self.instructor_extra)
        self.workspace_report = workspace.prepare(entry.pw_dir, files, uid=entry.pw_uid, gid=entry.pw_gid,
                                                  python=self.runtime_python, script=self.workspace_script)
        self.log.info("labkit workspace of %s: %d added, %d kept", self.user.name,
                      len(self.workspace_report.added), len(self.workspace_report.kept))

    async def start(self):
        await asyncio.get_running_loop().run_in_executor(None, self._prepare_member)
        self._marker = secrets.token_hex(8)
        return await super().start()

    def get_env(self):
        env = super().get_env()
        env.update({accounts.SESSION_ENV: self._marker,
                    "MPLCONFIGDIR": os.path.join(env.get("HOME", "/tmp"), ".config", "matplotlib")})
        if self.class_url:
            env["LABKIT_CLASS_URL"] = self.class_url
        if self.runtime_path:
            env["PATH"] = os.pathsep.join([self.runtime_path, env.get("PATH", os.defpath)])
        return env

    async def stop(self, now=False):
        await super().stop(now=now)
        if self._marker:
            marker, uid = self._marker, pwd.getpwnam(self.user.name).pw_uid
            left = await asyncio.get_running_loop().run_in_executor(None, accounts.session_processes, marker, uid)
            if left:
                self.log.warning("ending %d process(es) left by %s's session: %s", len(left), self.user.name, left)
                await asyncio.get_running_loop().run_in_executor(None, accounts.end_processes, left)
