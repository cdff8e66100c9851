"""Value by value through a real handshake: recompute what OpenSSL computed and check it against its key log.

* :func:`classic_rsa` -- TLS 1.2 with RSA key exchange (AES128-GCM-SHA256, extended master secret off): the two
  randoms, the premaster decrypted from ClientKeyExchange with the server's key, the master secret with the
  classic PRF, the key block, both Finished values; plus the extended master secret real stacks use by default;
* :func:`tls13` -- TLS 1.3: the key share, the transcript hashes, and both Finished values recomputed from the
  handshake traffic secrets in the key log.

Each returns :class:`Step` rows with the value and how it was checked; randoms, keys and secrets are new in every
handshake, so a notebook shows the checks and only glances at the values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from labkit import guide
from labkit.errors import PolicyError
from labkit.tls import keys as k
from labkit.tls.connection import Endpoint, Handshake, handshake

__all__ = ["Step", "Walkthrough", "classic_rsa", "tls13"]

@dataclass(frozen=True)
class Step:
    name: str
    value: bytes
    how: str  # how labkit got it
    check: str  # what it was compared with
    ok: bool | None  # None: nothing to compare

    def short(self) -> str:
        text = self.value.hex()
        return text if len(text) <= 24 else f"{text[:16]}...{text[-8:]} ({len(self.value)} B)"


@dataclass(frozen=True)
class Walkthrough:
    trace: Handshake
    steps: tuple[Step, ...]

    @property
    def all_checked(self) -> bool:
        return all(step.ok is not False for step in self.steps) and any(step.ok for step in self.steps)

    def table(self, *, values: bool = False):
        import pandas as pd

        rows = [{"step": s.name, **({"value": s.short()} if values else {}), "how labkit computes it": s.how,
                 "checked against": s.check, "check passed": {True: "yes", False: "NO", None: "-"}[s.ok]}
                for s in self.steps]
        return pd.DataFrame(rows)


def _handshake_bytes(trace: Handshake, upto: tuple[str, str] | None = None, *, include: bool = False) -> bytes:
    """The handshake messages in transcript order, up to (and maybe including) the first ``(direction, name)``."""
    out = []
    for msg in trace.messages:
        if msg.kind != "handshake":
            continue
        if upto and (msg.direction, msg.name) == upto:
            if include:
                out.append(msg.data)
            break
        out.append(msg.data)
    return b"".join(out)


def _require_trace(trace: Handshake) -> None:
    if not trace.traced or not trace.messages:
        raise PolicyError("This walkthrough reads the handshake messages, and this Python does not expose "
                          "SSLContext._msg_callback", rule="msg-callback", value="untraced", chapter=guide.CH2_TLS)


def classic_rsa(client: Endpoint, server: Endpoint) -> Walkthrough:
    """Run a TLS 1.2 RSA-key-exchange handshake without EMS and recompute every secret from its messages."""
    classic = dict(tls="1.2", ciphers="AES128-GCM-SHA256", extended_master_secret=False)
    trace = handshake(replace(client, **classic), replace(server, **classic))
    _require_trace(trace)
    keylog = k.parse_keylog(trace.keylog)
    hello = trace.message("ClientHello", "C->S").data
    server_hello = trace.message("ServerHello", "S->C").data
    client_random, server_random = hello[6:38], server_hello[6:38]
    cke = trace.message("ClientKeyExchange", "C->S").data
    premaster = k.decrypt_premaster(server.key, cke)
    logged_premaster = keylog.get("RSA", {}).get(cke[6:14])
    master = k.master_secret(premaster, client_random, server_random)
    logged_master = keylog["CLIENT_RANDOM"].get(client_random)
    block = k.key_block(master, client_random, server_random)
    keys = k.split_key_block(block)
    client_fin = trace.message("Finished", "C->S").data[4:]
    server_fin = trace.message("Finished", "S->C").data[4:]
    to_client_fin = _handshake_bytes(trace, ("C->S", "Finished"))
    to_server_fin = _handshake_bytes(trace, ("S->C", "Finished"))
    ems = k.extended_master_secret(premaster, k.transcript_hash(_handshake_bytes(trace, ("C->S", "ClientKeyExchange"),
                                                                                 include=True)))
    steps = (
        Step("client random", client_random, "ClientHello bytes 6-37", "-", None),
        Step("server random", server_random, "ServerHello bytes 6-37", "-", None),
        Step("premaster secret", premaster, "ClientKeyExchange decrypted with the server's private key",
             "key log RSA line", premaster == logged_premaster),
        Step("master secret", master, 'PRF(premaster, "master secret", client random + server random)',
             "key log CLIENT_RANDOM line", master == logged_master),
        Step("client write key", keys["client_write_key"], 'PRF(master, "key expansion", server + client random)',
             "-", None),
        Step("server write key", keys["server_write_key"], "the next 16 bytes of the key block", "-", None),
        Step("client Finished", client_fin, 'PRF(master, "client finished", SHA-256(messages so far))[:12]',
             "the client's real Finished message",
             k.finished(master, b"client finished", to_client_fin) == client_fin),
        Step("server Finished", server_fin, 'PRF(master, "server finished", SHA-256(messages so far))[:12]',
             "the server's real Finished message",
             k.finished(master, b"server finished", to_server_fin) == server_fin),
        Step("extended master secret", ems, 'PRF(premaster, "extended master secret", SHA-256(messages '
             'through ClientKeyExchange)): what real stacks use (RFC 7627)', "differs from the classic one",
             ems != master),
    )
    return Walkthrough(trace, steps)


def tls13(client: Endpoint, server: Endpoint) -> Walkthrough:
    """Run a TLS 1.3 handshake and recompute both Finished values from the key log's handshake secrets."""
    trace = handshake(replace(client, tls="1.3"), replace(server, tls="1.3"))
    _require_trace(trace)
    suite = trace.cipher
    keylog = k.parse_keylog(trace.keylog)
    hello = trace.message("ClientHello", "C->S").data
    client_random = hello[6:38]
    server_secret = keylog["SERVER_HANDSHAKE_TRAFFIC_SECRET"][client_random]
    client_secret = keylog["CLIENT_HANDSHAKE_TRAFFIC_SECRET"][client_random]
    through_hellos = _handshake_bytes(trace, ("S->C", "EncryptedExtensions"))
    before_server_fin = _handshake_bytes(trace, ("S->C", "Finished"))
    before_client_fin = _handshake_bytes(trace, ("C->S", "Finished"))
    server_fin = trace.message("Finished", "S->C").data[4:]
    client_fin = trace.message("Finished", "C->S").data[4:]
    key, iv = k.traffic_keys(server_secret, suite=suite)
    steps = (
        Step("cipher suite", suite.encode(), "ServerHello (Python cannot restrict TLS 1.3 suites; OpenSSL prefers "
             "AES-256 with SHA-384)", "-", None),
        Step("client random", client_random, "ClientHello bytes 6-37", "-", None),
        Step("hello hash", k.transcript_hash(through_hellos, suite=suite), "hash of ClientHello + ServerHello: the "
             "context of the handshake traffic secrets", "-", None),
        Step("server handshake traffic secret", server_secret, "key log (it needs the ECDHE private key, which "
             "never leaves OpenSSL)", "-", None),
        Step("server handshake key", key, 'HKDF-Expand-Label(secret, "key", "", key length)', "-", None),
        Step("server handshake IV", iv, 'HKDF-Expand-Label(secret, "iv", "", 12)', "-", None),
        Step("server Finished", server_fin, 'HMAC(HKDF-Expand-Label(secret, "finished"), hash through '
             "CertificateVerify)", "the server's real Finished (sent encrypted)",
             k.tls13_finished(server_secret, k.transcript_hash(before_server_fin, suite=suite), suite=suite)
             == server_fin),
        Step("client Finished", client_fin, "the same with the client's secret, hash through its CertificateVerify",
             "the client's real Finished",
             k.tls13_finished(client_secret, k.transcript_hash(before_client_fin, suite=suite), suite=suite)
             == client_fin),
    )
    return Walkthrough(trace, steps)
