"""The Expressway-E's short-lived virtual host for ACME HTTP-01 challenges (guide chapter 5).

:class:`ChallengeHost` serves ``GET /.well-known/acme-challenge/<token>`` on 127.0.0.1 and nothing else (404, no
listing); :func:`~labkit.acme.client.order_certificate` starts it only while the provider validates, as the
Expressway-E does. :class:`ClusterFront` stands for the port 80 of an Expressway-E cluster: the provider may reach
any peer (chapter 5: Let's Encrypt picks a peer's address at random), so every peer must serve every challenge.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from labkit import guide
from labkit.errors import LabError
from labkit.httpd import HOST as _HOST
from labkit.httpd import BackgroundServer, LabHTTPServer, QuietHandler, RequestLog

__all__ = ["ChallengeHost", "ClusterFront"]

_WELL_KNOWN = "/.well-known/acme-challenge/"


_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")


class _ChallengeHandler(QuietHandler):
    server: _ChallengeServer
    server_version = "labkit-acme"

    def _answer(self, status: int, body: bytes, *, send_body: bool = True) -> None:
        self.server.host.requests.append((self.command, self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if status == 200 else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        token = path[len(_WELL_KNOWN):] if path.startswith(_WELL_KNOWN) else ""
        validation = self.server.host.resources.get(token) if _TOKEN.fullmatch(token) else None
        if validation is None:
            self._answer(404, b"404 Not Found\n")
        else:
            self._answer(200, validation.encode())

    def _not_found(self) -> None:
        self._answer(404, b"404 Not Found\n", send_body=self.command != "HEAD")

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _not_found  # noqa: N815


class _ChallengeServer(LabHTTPServer):
    allow_reuse_address = True
    host: ChallengeHost


class ChallengeHost(BackgroundServer):
    """The Expressway-E's short-lived virtual host for HTTP-01 (chapter 5): ``GET
    /.well-known/acme-challenge/<token>`` answers the key authorization of a pending challenge; anything else,
    any other method, and any directory gets 404. It listens on 127.0.0.1 only, and only while validation runs.

    ``resources`` maps tokens to key authorizations; ``requests`` records ``(method, path, status)`` of every
    request (Pebble's fetches, for instance).
    """

    thread_name = "labkit-acme-vhost"

    def __init__(self, port: int, resources: Mapping[str, str] | None = None):
        super().__init__(port)
        self.resources: dict[str, str] = dict(resources or {})
        self.requests = RequestLog()  # (method, path, status) of each request, the last LOG_LINES kept

    @property
    def url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    def _make_server(self, address):
        server = _ChallengeServer(address, _ChallengeHandler)
        server.host = self
        return server

    def _listen_error(self, exc: OSError) -> LabError:
        return LabError(f"The ACME virtual host cannot listen on {_HOST}:{self.port}: {exc.strerror or exc}",
                        rule="acme-virtual-host-port", value=self.port, chapter=guide.CH5)

    def __repr__(self) -> str:
        return f"ChallengeHost({'serving ' + self.url if self.running else 'stopped'}, {len(self.resources)} tokens)"


class _FrontHandler(QuietHandler):
    server: _FrontServer
    server_version = "labkit-acme-front"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        front = self.server.front
        index = front._next_peer()
        peer = front.peers[index]
        try:
            with urllib.request.urlopen(f"http://{_HOST}:{peer.port}{self.path}", timeout=5) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        except OSError:  # nothing listens on this peer's port 80
            status, body = 502, b"502 this peer does not answer on port 80\n"
        front.requests.append((index, self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _FrontServer(LabHTTPServer):
    allow_reuse_address = True
    front: ClusterFront


class ClusterFront(BackgroundServer):
    """What the provider reaches of an Expressway-E cluster on port 80: the names resolve to every peer, and each
    validation request lands on one of them (chapter 5: Let's Encrypt picks a peer's address at random, and there
    is no list of its servers to filter by). In the lab every name resolves to 127.0.0.1, so this front takes the
    provider's requests on its HTTP port and hands them to the peers' virtual hosts (:class:`ChallengeHost`, one
    port each) in turn: a round robin stands in for the random pick, so the result is the same on every run. A peer
    whose virtual host is not running answers 502, as a closed port 80 would fail the provider's fetch.

    ``requests`` records ``(peer index, path, status)`` of every request passed on.
    """

    thread_name = "labkit-acme-front"

    def __init__(self, port: int, peers: Sequence[ChallengeHost]):
        super().__init__(port)
        self.peers = list(peers)
        self.requests = RequestLog()  # (peer index, path, status) of each request, the last LOG_LINES kept
        self._turn = 0
        self._lock = threading.Lock()

    def _next_peer(self) -> int:
        with self._lock:
            index, self._turn = self._turn % len(self.peers), self._turn + 1
        return index

    def _make_server(self, address):
        server = _FrontServer(address, _FrontHandler)
        server.front = self
        return server

    def _listen_error(self, exc: OSError) -> LabError:
        return LabError(f"The cluster's port 80 stand-in cannot listen on {_HOST}:{self.port}: {exc.strerror or exc}",
                        rule="acme-virtual-host-port", value=self.port, chapter=guide.CH5_HOW)

    def __repr__(self) -> str:
        return f"ClusterFront({len(self.peers)} peers, {'running' if self.running else 'stopped'})"
