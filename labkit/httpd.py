"""A small HTTP server on 127.0.0.1 in a daemon thread: the one lifecycle the lab's servers share.

The CRL distribution point and the OCSP responder (:mod:`labkit.revocation.servers`) and the ACME virtual host
(:mod:`labkit.acme`) subclass :class:`BackgroundServer` and say only how to build their ``http.server``.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading

from labkit import lab
from labkit.errors import LabkitError

__all__ = ["HOST", "BackgroundServer", "free_port", "lab_port"]

HOST = "127.0.0.1"
_POLL = 0.05  # seconds: how long stop() may wait for the serving loop to notice


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (to put in a URL before serving)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def lab_port(wanted: int = 0) -> int:
    """``wanted``, or a free port when it is 0 or when ``$LABKIT_PORTS`` is ``free`` (set for every trainee on the
    classroom hub, so two trainees running the same notebook never ask for the same fixed port)."""
    return free_port() if not wanted or os.environ.get("LABKIT_PORTS") == "free" else wanted


class BackgroundServer:
    """Serve in a daemon thread on 127.0.0.1: ``start()`` (port 0 picks a free port; calling it again does nothing),
    ``stop()`` (closes the socket and joins the thread; calling it again does nothing), and ``with``."""

    thread_name = "labkit-http"

    def __init__(self, port: int = 0):
        self._wanted = port
        self._port: int | None = None
        self._server: http.server.HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self, address: tuple[str, int]) -> http.server.HTTPServer:
        """Build the server (subclasses attach themselves to it for their handlers)."""
        raise NotImplementedError

    def _listen_error(self, exc: OSError) -> LabkitError:
        """The error to raise when the port cannot be bound."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        return self._port if self._port is not None else self._wanted

    @port.setter
    def port(self, value: int) -> None:
        if self._server is not None:
            raise RuntimeError("stop the server before changing its port")
        self._wanted, self._port = value, None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self):
        if self._server is not None:
            return self
        try:
            server = self._make_server((HOST, self._wanted))
        except OSError as exc:
            raise self._listen_error(exc) from None
        self._server, self._port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": _POLL},
                                        name=f"{self.thread_name}-{self._port}", daemon=True)
        self._thread.start()
        lab.started(self)
        return self

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        lab.stopped(self)
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
