"""Real TLS handshakes, traced: OpenSSL (through Python's ``ssl``) does the work, labkit watches and explains.

* :class:`Endpoint` -- one side's configuration: its certificate chain and key, whom it trusts, CRLs, whether it
  demands a client certificate (a mutual-TLS zone), TLS version and ciphers;
* :func:`handshake` -- a handshake between two endpoints in this process over memory BIOs, with a trace of every
  message (direction, type, TLS version, size), the bytes of each flight, the key log, and the outcome: which side
  failed, OpenSSL's ``verify_code`` and the alert;
* :func:`handshake_tcp` -- the same over a real TCP connection on 127.0.0.1 (an Expressway-C <-> Expressway-E
  traversal zone with mutual TLS);
* :func:`connect` -- a traced client handshake against any TLS server (``labkit handshake HOST:PORT``);
* :func:`ladder_figure` -- the trace as a ladder diagram.

The message trace uses ``SSLContext._msg_callback``, a private CPython hook. Where it is missing, the trace degrades
to the flights (bytes moved in each direction), which the memory BIOs always show.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide
from labkit.errors import InputError, LabError
from labkit.x509.verify import explain_alert, explain_verify_code

__all__ = ["Endpoint", "Message", "Flight", "Outcome", "Handshake", "MessageMissing", "handshake", "handshake_tcp",
           "connect", "ladder_figure", "explain_verify_code", "explain_alert", "FIVE_STEPS", "msg_callback_available"]

FIVE_STEPS = (
    ("1. client hello", "the client offers its versions and cipher suites and a random number", ("ClientHello",)),
    ("2. server hello + certificate", "the server picks a version and suite, sends its random and its certificate",
     ("ServerHello", "Certificate", "EncryptedExtensions", "ServerHelloDone", "CertificateRequest")),
    ("3. client verifies", "a local check, no message of its own: the client checks the chain against its trusted "
     "CAs (and revocation); CertificateVerify then proves the server holds the certificate's private key",
     ("CertificateVerify",)),
    ("4. key exchange", "TLS 1.2 with RSA: the client sends a premaster secret encrypted with the server's public "
     "key; ECDHE: both sides send key shares (TLS 1.3: inside the two hellos) and the certificate key only signs",
     ("ClientKeyExchange", "ServerKeyExchange")),
    ("5. shared secret", "both sides derive the session keys from the secret and the two randoms; Finished proves "
     "they agree (in TLS 1.3, ChangeCipherSpec is only a compatibility dummy)", ("ChangeCipherSpec", "Finished")),
)

def msg_callback_available() -> bool:
    """Whether this Python exposes ``SSLContext._msg_callback`` (CPython's private message hook)."""
    return _HAS_MSG_CALLBACK and hasattr(ssl.SSLContext, "_msg_callback")


_HAS_MSG_CALLBACK = True  # tests switch this off to check the fallback


@dataclass(frozen=True)
class Endpoint:
    """One side of a TLS connection.

    ``chain``: its certificate followed by the intermediates it sends; ``key``: its private key; ``trusted``: the CA
    certificates it trusts (its trusted CA list); ``crls``: CRLs it loads (then the leaf's revocation is checked, or,
    with ``crl_check="chain"``, every certificate's on the path, and a missing CRL fails with verify code 3);
    ``require_client_certificate``: a server that demands a client certificate (TLS verify mode / mutual TLS);
    ``server_name``: what a client asks for and checks (SNI and host name); ``tls``: "1.3", "1.2" or "any";
    ``ciphers``: an OpenSSL cipher string (TLS 1.2); ``extended_master_secret``: False switches RFC 7627 off, for the
    classic RSA walkthrough.
    """

    chain: tuple[x509.Certificate, ...] = ()
    key: object = field(default=None, repr=False)
    trusted: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    require_client_certificate: bool = False
    server_name: str | None = None
    tls: str = "any"
    ciphers: str | None = None
    extended_master_secret: bool = True
    system_trust: bool = False  # also trust the machine's default CA store (the command line without --ca)
    crl_check: str = "leaf"  # "leaf" (VERIFY_CRL_CHECK_LEAF) or "chain" (VERIFY_CRL_CHECK_CHAIN), when crls are given

    def __post_init__(self) -> None:
        if self.tls not in ("1.3", "1.2", "any"):
            raise InputError("tls is '1.3', '1.2' or 'any'", rule="tls-version", value=self.tls, chapter=guide.CH2_TLS)
        if self.crl_check not in ("leaf", "chain"):
            raise InputError("crl_check is 'leaf' or 'chain'", rule="crl-check", value=self.crl_check,
                             chapter=guide.CH8)
        for name in ("chain", "trusted", "crls"):
            value = getattr(self, name)
            if isinstance(value, x509.Certificate | x509.CertificateRevocationList):
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value))
        if bool(self.chain) != (self.key is not None):
            raise InputError("An endpoint with a certificate needs its private key, and a key needs a certificate",
                             rule="endpoint-cert-and-key", value=len(self.chain), chapter=guide.CH2_TLS)

    def context(self, server_side: bool, folder: Path) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
        if self.tls == "1.3":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        elif self.tls == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if self.ciphers:
            ctx.set_ciphers(self.ciphers)
        if not self.extended_master_secret:
            ctx.options |= 0x1  # SSL_OP_NO_EXTENDED_MASTER_SECRET: the classic PRF(pms, "master secret", randoms)
        side = "server" if server_side else "client"
        if self.chain:
            chain_path, key_path = folder / f"{side}-chain.pem", folder / f"{side}-key.pem"
            chain_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain))
            key_path.write_bytes(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
            key_path.chmod(0o600)
            ctx.load_cert_chain(chain_path, key_path)
        if self.trusted or self.crls:
            trust = folder / f"{side}-trust.pem"
            trust.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.trusted)
                              + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.crls))
            ctx.load_verify_locations(cafile=str(trust))
        if self.system_trust:
            ctx.load_default_certs()
        if self.crls:
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN if self.crl_check == "chain" else ssl.VERIFY_CRL_CHECK_LEAF
        if server_side:
            ctx.verify_mode = ssl.CERT_REQUIRED if self.require_client_certificate else ssl.CERT_NONE
        else:
            ctx.check_hostname = self.server_name is not None
            ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx


@dataclass(frozen=True)
class Message:
    direction: str  # "C->S" or "S->C"
    kind: str  # "handshake", "alert", "change_cipher_spec"
    name: str  # ClientHello, Certificate, Finished, alert description ...
    version: str
    size: int
    data: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class Flight:
    direction: str
    size: int


@dataclass(frozen=True)
class Outcome:
    """How it ended: ``ok``; otherwise which side failed, OpenSSL's verify code and reason, the alert."""

    ok: bool
    failed_side: str | None = None
    verify_code: int | None = None
    reason: str = ""
    alert: str | None = None
    detail: str = ""

    @property
    def explanation(self) -> str:
        """In plain words: the verify code's meaning on the side that refused, else the meaning of the alert it
        sent (all a client sees when the server refuses its certificate), else OpenSSL's reason."""
        if self.ok:
            return "handshake complete and both sides verified what they had to"
        if self.verify_code is not None:
            return f"the {self.failed_side} refused the peer's certificate: {explain_verify_code(self.verify_code)}"
        if self.alert_explanation:
            return f"the {self.failed_side} ended the handshake with alert {self.alert}: {self.alert_explanation}"
        return f"the {self.failed_side} ended the handshake: {self.reason or self.detail}"

    @property
    def alert_explanation(self) -> str:
        """What the alert sent means ("" when there is none, or it is not about a certificate)."""
        return explain_alert(self.alert)


class MessageMissing(LabError, KeyError):
    """A handshake message asked for is not in the trace (a LabkitError; also a KeyError, as it used to be)."""

    def __str__(self) -> str:  # KeyError's own __str__ would quote the message
        return LabError.__str__(self)


@dataclass(frozen=True)
class Handshake:
    messages: tuple[Message, ...]
    flights: tuple[Flight, ...]
    outcome: Outcome
    version: str | None
    cipher: str | None
    keylog: str = ""
    peer_chain: tuple[x509.Certificate, ...] = ()
    traced: bool = True

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    def message(self, name: str, direction: str | None = None) -> Message:
        """The first handshake message called ``name`` (sent in ``direction``: ``"C->S"`` or ``"S->C"``). Raises
        :class:`MessageMissing` (a LabkitError, and a KeyError for older callers), rule ``handshake-message``,
        when the handshake has none: it failed before that message (the outcome says why), or was not traced."""
        for msg in self.messages:
            if msg.name == name and (direction is None or msg.direction == direction):
                return msg
        why = (f"the handshake failed first: {self.outcome.explanation}" if not self.ok else
               "the handshake was not traced" if not self.traced else "this version of TLS does not send it")
        raise MessageMissing(f"No {name} message {('(' + direction + ') ') if direction else ''}in this handshake: "
                             f"{why}", rule="handshake-message", value=name, chapter=guide.CH2_TLS)

    def ladder(self) -> str:
        """The trace as text: one line per message (or per flight when untraced)."""
        lines = [f"{'client':<28}{'server':>28}"]
        items = self.messages if self.traced and self.messages else self.flights
        for item in items:
            label = f"{item.name} ({item.size} B)" if isinstance(item, Message) else f"flight of {item.size} bytes"
            arrow = f"{label} -->" if item.direction == "C->S" else f"<-- {label}"
            lines.append(f"  {arrow:<54}" if item.direction == "C->S" else f"  {arrow:>54}")
        lines.append(f"outcome: {'OK' if self.ok else 'FAILED'} - {self.outcome.explanation}")
        return "\n".join(lines)

    def table(self):
        import pandas as pd

        return pd.DataFrame([{"direction": m.direction, "message": m.name, "type": m.kind, "version": m.version,
                              "bytes": m.size} for m in self.messages],
                            columns=["direction", "message", "type", "version", "bytes"])

    def steps(self):
        """The guide's five steps mapped onto this handshake's real messages."""
        import pandas as pd

        names = [m.name for m in self.messages]
        rows = []
        for step, meaning, carriers in FIVE_STEPS:
            seen = [n for n in dict.fromkeys(names) if n in carriers]
            rows.append({"step": step, "what happens": meaning, "messages here": ", ".join(seen) or "(none)"})
        return pd.DataFrame(rows)


_NAMES = {
    "CLIENT_HELLO": "ClientHello", "SERVER_HELLO": "ServerHello", "CERTIFICATE": "Certificate",
    "SERVER_KEY_EXCHANGE": "ServerKeyExchange", "CERTIFICATE_REQUEST": "CertificateRequest",
    "SERVER_DONE": "ServerHelloDone", "CERTIFICATE_VERIFY": "CertificateVerify",
    "CLIENT_KEY_EXCHANGE": "ClientKeyExchange", "FINISHED": "Finished", "ENCRYPTED_EXTENSIONS":
    "EncryptedExtensions", "NEWSESSION_TICKET": "NewSessionTicket", "KEY_UPDATE": "KeyUpdate",
    "HELLO_RETRY_REQUEST": "HelloRetryRequest", "CERTIFICATE_STATUS": "CertificateStatus",
}
_TLS13_ALERTS = {109: "missing_extension", 116: "certificate_required", 120: "no_application_protocol"}
_VERSIONS = {0x0304: "TLSv1.3", 0x0303: "TLSv1.2", 0x0302: "TLSv1.1", 0x0301: "TLSv1.0"}


class _Recorder:
    """Collects messages from the client's ``_msg_callback`` (the client's view: writes go to the server)."""

    def __init__(self):
        self.messages: list[Message] = []

    def __call__(self, conn, direction, version, content_type, msg_type, data):
        ctype = getattr(content_type, "name", str(content_type))
        if ctype in ("HEADER", "INNER_CONTENT_TYPE"):
            return
        arrow = "C->S" if direction == "write" else "S->C"
        version_name = _VERSIONS.get(int(version), str(version))
        if ctype == "HANDSHAKE":
            raw = getattr(msg_type, "name", str(msg_type))
            self.messages.append(Message(arrow, "handshake", _NAMES.get(raw, raw.title()), version_name, len(data),
                                         bytes(data)))
        elif ctype == "CHANGE_CIPHER_SPEC":
            self.messages.append(Message(arrow, "change_cipher_spec", "ChangeCipherSpec", version_name, len(data)))
        elif ctype == "ALERT" and len(data) >= 2:
            description = data[1]
            try:
                name = ssl.AlertDescription(description).name.removeprefix("ALERT_DESCRIPTION_")
            except ValueError:  # TLS 1.3 alerts Python's enum does not know
                name = _TLS13_ALERTS.get(description, str(description))
            self.messages.append(Message(arrow, "alert", f"Alert({name.lower()})", version_name, len(data)))


def _attach(ctx: ssl.SSLContext, recorder: _Recorder) -> bool:
    if not msg_callback_available():
        return False
    try:
        ctx._msg_callback = recorder
    except (AttributeError, TypeError):
        return False
    return True


def _failure(side: str, exc: Exception) -> Outcome:
    code = getattr(exc, "verify_code", None)
    reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
    alert = None
    text = str(getattr(exc, "reason", "") or "")
    if "ALERT" in text:
        alert = text.split("ALERT_", 1)[1].lower()
    return Outcome(False, side, code if code else None, str(reason), alert, str(exc))


def handshake(client: Endpoint, server: Endpoint, *, exchange: bytes = b"OPTIONS sip:expe.lab.example SIP/2.0\r\n",
              max_rounds: int = 50) -> Handshake:
    """A real handshake between ``client`` and ``server`` in this process; then one application message each way
    (in TLS 1.3 a server's refusal of the client certificate arrives only then)."""
    recorder = _Recorder()
    flights: list[Flight] = []
    with tempfile.TemporaryDirectory(prefix="labkit-tls-") as tmp:
        folder = Path(tmp)
        cctx, sctx = client.context(False, folder), server.context(True, folder)
        keylog = folder / "keylog.txt"
        cctx.keylog_filename = str(keylog)
        traced = _attach(cctx, recorder)
        c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
        c = cctx.wrap_bio(c_in, c_out, server_hostname=client.server_name)
        s = sctx.wrap_bio(s_in, s_out, server_side=True)

        def pump() -> bool:
            moved = False
            for src, dst, arrow in ((c_out, s_in, "C->S"), (s_out, c_in, "S->C")):
                data = src.read()
                if data:
                    dst.write(data)
                    if flights and flights[-1].direction == arrow:
                        flights[-1] = Flight(arrow, flights[-1].size + len(data))
                    else:
                        flights.append(Flight(arrow, len(data)))
                    moved = True
            return moved

        outcome = None
        done = {"client": False, "server": False}
        for _ in range(max_rounds):
            for side, obj in (("client", c), ("server", s)):
                if done[side] or outcome is not None:
                    continue
                try:
                    obj.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError as exc:
                    outcome = _failure(side, exc)
            if not pump() and (outcome is not None or all(done.values())):
                break
        if outcome is None:
            outcome = _exchange(c, s, pump, exchange)
        if not outcome.ok:  # let the alert reach the other side: the trace and the outcome show it
            other = s if outcome.failed_side == "client" else c
            with contextlib.suppress(ssl.SSLError, ValueError):
                other.do_handshake()
            pump()
            with contextlib.suppress(ssl.SSLError, ValueError):
                other.read(1)  # TLS 1.3: a client that finished reads the server's alert only now
            alerts = [m.name for m in recorder.messages if m.kind == "alert"]
            if alerts and outcome.alert is None:
                outcome = replace(outcome, alert=alerts[-1].removeprefix("Alert(").rstrip(")"))
        version, cipher = c.version(), (c.cipher() or (None,))[0]
        peer = tuple(x509.load_der_x509_certificate(der) for der in _peer_chain(c))
        log = keylog.read_text() if keylog.exists() else ""
    return Handshake(tuple(recorder.messages), tuple(flights), outcome, version, cipher, log, peer, traced)


def _exchange(c, s, pump, payload: bytes) -> Outcome:
    try:
        c.write(payload)
        pump()
        s.read(len(payload))
        s.write(b"SIP/2.0 200 OK\r\n")
        pump()
        c.read(1024)
    except ssl.SSLWantReadError:
        pump()
        try:
            c.read(1024)
        except ssl.SSLError as exc:
            return _failure("server", exc) if "ALERT" in str(getattr(exc, "reason", "")) else _failure("client", exc)
    except ssl.SSLError as exc:
        side = "client" if "ALERT" in str(getattr(exc, "reason", "")) else "server"
        failure = _failure("server" if side == "client" else "client", exc)
        return failure
    return Outcome(True)


def _peer_chain(conn) -> list[bytes]:
    """The peer's certificates as DER: the verified chain where Python offers it (3.13+), else the leaf."""
    with contextlib.suppress(AttributeError, ssl.SSLError, ValueError):
        chain = conn.get_verified_chain()
        if chain:
            return [bytes(item) for item in chain]
    with contextlib.suppress(ssl.SSLError, ValueError):
        der = conn.getpeercert(binary_form=True)
        return [der] if der else []
    return []


def handshake_tcp(client: Endpoint, server: Endpoint, *, timeout: float = 10.0) -> Handshake:
    """The same handshake over a real TCP connection on 127.0.0.1 (an ephemeral port), server in a thread."""
    recorder = _Recorder()
    server_error: list[Exception] = []
    with tempfile.TemporaryDirectory(prefix="labkit-tls-") as tmp:
        folder = Path(tmp)
        cctx, sctx = client.context(False, folder), server.context(True, folder)
        traced = _attach(cctx, recorder)
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(timeout)
        port = listener.getsockname()[1]

        def serve():
            try:
                conn, _ = listener.accept()
                conn.settimeout(timeout)
                with sctx.wrap_socket(conn, server_side=True) as tls:
                    data = tls.recv(1024)
                    tls.sendall(b"SIP/2.0 200 OK\r\n" if data else b"")
            except (OSError, ssl.SSLError) as exc:
                server_error.append(exc)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        outcome = Outcome(True)
        version = cipher = None
        peer: tuple[x509.Certificate, ...] = ()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw, \
                    cctx.wrap_socket(raw, server_hostname=client.server_name) as tls:
                version, cipher = tls.version(), tls.cipher()[0]
                peer = tuple(x509.load_der_x509_certificate(d) for d in _peer_chain(tls))
                tls.sendall(b"OPTIONS sip:expe.lab.example SIP/2.0\r\n")
                tls.recv(1024)
        except ssl.SSLError as exc:
            outcome = _failure("client", exc)
        except OSError as exc:
            outcome = Outcome(False, "client", reason=str(exc))
        thread.join(timeout)
        listener.close()
        if server_error and (outcome.ok or outcome.verify_code is None):
            exc = server_error[0]
            outcome = _failure("server", exc) if isinstance(exc, ssl.SSLError) else outcome
    return Handshake(tuple(recorder.messages), (), outcome, version, cipher, "", peer, traced)


def connect(host: str, port: int, *, client: Endpoint, timeout: float = 10.0) -> Handshake:
    """A traced client handshake against a real server (``labkit handshake HOST:PORT``)."""
    recorder = _Recorder()
    with tempfile.TemporaryDirectory(prefix="labkit-tls-") as tmp:
        try:
            cctx = client.context(False, Path(tmp))
        except ssl.SSLError as exc:  # OpenSSL will not take the certificate or the key for TLS
            raise InputError(f"OpenSSL cannot use this client certificate and key for TLS: {exc.reason or exc}",
                             rule="client-key-unusable", value=type(client.key).__name__,
                             chapter=guide.CH2_TLS) from None
        traced = _attach(cctx, recorder)
        outcome, version, cipher, peer = Outcome(True), None, None, ()
        try:
            with socket.create_connection((host, port), timeout=timeout) as raw, \
                    cctx.wrap_socket(raw, server_hostname=client.server_name or host) as tls:
                version, cipher = tls.version(), tls.cipher()[0]
                peer = tuple(x509.load_der_x509_certificate(d) for d in _peer_chain(tls))
                if version == "TLSv1.3":  # a refused client certificate shows up on the first read
                    tls.settimeout(1.0)
                    with contextlib.suppress(TimeoutError, socket.timeout):
                        tls.recv(1)
        except ssl.SSLError as exc:
            outcome = _failure("client", exc)
            if outcome.verify_code is None and outcome.alert:
                outcome = Outcome(False, "server", None, outcome.reason, outcome.alert, outcome.detail)
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name DNS cannot carry (a label over 63)
            why = getattr(exc, "strerror", None) or exc
            raise InputError(f"Cannot connect to {host}:{port}: {why}", rule="tcp-connect",
                             value=f"{host}:{port}", chapter=guide.CH2_TLS) from None
    return Handshake(tuple(recorder.messages), (), outcome, version, cipher, "", peer, traced)


def ladder_figure(trace: Handshake, *, title: str = "TLS handshake"):
    """A ladder diagram: client and server as vertical lines, one arrow per message (or flight)."""
    import matplotlib.pyplot as plt

    items = list(trace.messages) if trace.traced and trace.messages else list(trace.flights)
    height = max(3.0, 0.42 * len(items) + 1.4)
    fig, ax = plt.subplots(figsize=(7.5, height))
    ax.set_xlim(0, 10)
    ax.set_ylim(-len(items) - 0.8, 1)
    ax.axis("off")
    for x, label in ((1.2, "client\n(Expressway-C)"), (8.8, "server\n(Expressway-E)")):
        ax.plot([x, x], [0.3, -len(items) - 0.5], color="#555555", lw=1.5)
        ax.text(x, 0.55, label, ha="center", fontsize=9, weight="bold")
    colours = {"handshake": "#1f4e79", "change_cipher_spec": "#6a6a6a", "alert": "#a4262c"}
    for row, item in enumerate(items, 1):
        y = -row
        right = item.direction == "C->S"
        start, end = (1.2, 8.8) if right else (8.8, 1.2)
        kind = item.kind if isinstance(item, Message) else "handshake"
        ax.annotate("", xy=(end, y), xytext=(start, y),
                    arrowprops={"arrowstyle": "->", "color": colours.get(kind, "#1f4e79"), "lw": 1.3})
        label = f"{item.name}  {item.size} B" if isinstance(item, Message) else f"{item.size} bytes"
        ax.text(5, y + 0.1, label, ha="center", fontsize=8.5, color=colours.get(kind, "#1f4e79"))
    verdict = "OK" if trace.ok else f"FAILED ({trace.outcome.failed_side})"
    ax.set_title(f"{title}: {trace.version or 'no version agreed'}, {verdict}", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig
