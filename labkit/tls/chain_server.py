"""TLS servers for :mod:`labkit.expressway.probe` to look at: the real ``openssl s_server`` on 127.0.0.1, serving
a chain in exactly the order given.

:class:`ChainServer` writes the server's certificate, its key and the rest of the chain into a temporary folder and
runs ``openssl s_server -cert LEAF -key KEY -cert_chain REST``: OpenSSL sends the certificates of ``-cert_chain`` as
they stand in the file, so a chain can be served complete, without its intermediate, in the wrong order or with
its root. With ``client_cas`` the server asks for a client certificate (``-verify``, or ``-Verify`` when
``require_client_certificate``) and names those CAs in its request. The server is one of the lab's: ``lab.reset_all()``
stops it.

OpenSSL equivalent: ``openssl s_server -accept 127.0.0.1:PORT -cert expe.pem -key expe.key -cert_chain chain.pem``.
"""

from __future__ import annotations

import atexit
import contextlib
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.errors import InputError, LabError

__all__ = ["ChainServer"]

_START_WAIT = 10.0  # seconds for s_server to say ACCEPT
_RUNNING: set[ChainServer] = set()  # s_server does not notice its parent going away: stop them at exit


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()


class ChainServer:
    """``openssl s_server`` on 127.0.0.1 serving ``chain`` (the server's certificate first, then the others in the
    order given) with ``key``. ``port`` 0 lets OpenSSL pick a free port (read it from :attr:`port` after
    :meth:`start`). ``client_cas``: ask for a client certificate and name these CAs (they are also the ones the
    server trusts for it); ``require_client_certificate``: end the handshake without one or with one it cannot
    verify. ``start()``, ``stop()`` and ``with``; calling either twice does nothing."""

    def __init__(self, chain: Iterable[x509.Certificate], key, *, client_cas: Iterable[x509.Certificate] = (),
                 require_client_certificate: bool = False, port: int = 0):
        self.chain = tuple(chain)
        self.client_cas = tuple(client_cas)
        self.require_client_certificate = require_client_certificate
        if not self.chain or not all(isinstance(c, x509.Certificate) for c in self.chain):
            raise InputError("A server needs its certificate first, then any chain certificates",
                             rule="server-chain", value=len(self.chain), chapter=guide.CH2_TLS)
        if not hasattr(key, "private_bytes") or key.public_key() != self.chain[0].public_key():
            raise InputError("The key must be the private key of the first certificate in the chain",
                             rule="key-mismatch", value=self.chain[0].subject.rfc4514_string(), chapter=guide.CH2_TLS)
        if require_client_certificate and not self.client_cas:
            raise InputError("A server that requires a client certificate needs the CAs it trusts for it",
                             rule="server-client-cas", value="no client_cas", chapter=guide.CH2_TLS)
        self._key = key
        self._wanted = port
        self._port: int | None = None
        self._proc: subprocess.Popen | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self._log = None

    @property
    def port(self) -> int:
        return self._port if self._port is not None else self._wanted

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self) -> str:
        """The ``openssl s_server`` command line this server runs (files by their names in its folder)."""
        return shlex.join(["openssl", *self._args(Path("."), self.port)[1:]])

    def _args(self, folder: Path, port: int) -> list[str]:
        args = [shutil.which("openssl") or "openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                "-cert", str(folder / "server.pem"), "-key", str(folder / "server.key")]
        if len(self.chain) > 1:
            args += ["-cert_chain", str(folder / "chain.pem")]
        if self.client_cas:
            args += ["-Verify" if self.require_client_certificate else "-verify", "1",
                     "-CAfile", str(folder / "client-cas.pem"), "-verify_return_error"]
        return args

    def start(self) -> ChainServer:
        if self._proc is not None:
            return self
        if shutil.which("openssl") is None:
            raise LabError("The openssl command is not installed: `apt-get install openssl`",
                           rule="openssl-installed", value="openssl",
                           chapter=guide.APPX_B)
        self._folder = tempfile.TemporaryDirectory(prefix="labkit-s_server-")
        folder = Path(self._folder.name)
        pem = serialization.Encoding.PEM
        (folder / "server.pem").write_bytes(self.chain[0].public_bytes(pem))
        key_path = folder / "server.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(self._key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
        if len(self.chain) > 1:
            (folder / "chain.pem").write_bytes(b"".join(c.public_bytes(pem) for c in self.chain[1:]))
        if self.client_cas:
            (folder / "client-cas.pem").write_bytes(b"".join(c.public_bytes(pem) for c in self.client_cas))
        log = open(folder / "s_server.log", "w+b")  # noqa: SIM115 - kept open for the process's lifetime
        # stdin stays open: s_server stops at end of input
        self._proc = subprocess.Popen(self._args(folder, self._wanted), stdin=subprocess.PIPE, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=folder)
        self._log = log
        deadline = time.monotonic() + _START_WAIT
        while time.monotonic() < deadline:
            text = (folder / "s_server.log").read_text(errors="replace")
            accept = next((line for line in text.splitlines() if line.startswith("ACCEPT")), None)
            if accept is not None:
                self._port = int(accept.rsplit(":", 1)[1]) if ":" in accept else self._wanted
                lab.started(self)
                _RUNNING.add(self)
                return self
            if self._proc.poll() is not None:
                break
            time.sleep(0.01)
        said = (folder / "s_server.log").read_text(errors="replace").strip().splitlines()
        self.stop()
        raise LabError(f"openssl s_server did not start: {said[-1] if said else 'no output'}",
                       rule="server-start", value=f"127.0.0.1:{self._wanted}", chapter=guide.CH2_TLS)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        lab.stopped(self)
        _RUNNING.discard(self)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def __enter__(self) -> ChainServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"on 127.0.0.1:{self.port}" if self.running else "stopped"
        names = ", ".join(c.subject.rfc4514_string() for c in self.chain)
        return f"ChainServer({state}: {names})"
