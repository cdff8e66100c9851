"""What a TLS handshake computes, recomputed value by value (TLS 1.2 and TLS 1.3).

Pure functions on bytes, built on pyca/cryptography primitives only (no sockets, no ``ssl``): a notebook captures a real
OpenSSL handshake (its messages and its NSS key log) and checks every secret, key and Finished value against these.

* TLS 1.2, SHA-256 PRF suites such as AES128-GCM-SHA256 (RFC 5246 section 5; RFC 7627 extended master secret):
  :func:`prf`, :func:`decrypt_premaster`, :func:`master_secret`, :func:`extended_master_secret`, :func:`key_block`,
  :func:`split_key_block`, :func:`finished`.
* TLS 1.3 (RFC 8446 section 7.1), TLS_AES_128_GCM_SHA256 by default, ``suite=`` for the SHA-384 suite that
  OpenSSL prefers: :func:`hkdf_extract`, :func:`hkdf_expand_label`, :func:`derive_secret`,
  :func:`x25519_shared_secret`, :func:`p256_shared_secret`, :func:`key_schedule`, :func:`traffic_keys`,
  :func:`tls13_finished`, :func:`record_nonce`.
* Both: :func:`transcript_hash`, :func:`parse_keylog` (NSS key-log lines as OpenSSL writes them).
"""

from __future__ import annotations

import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from labkit.errors import InputError, PolicyError, WrongTypeError

__all__ = [
    "HASH_LEN",
    "TLS13_SUITES",
    "KEYLOG_LABELS",
    "SCHEDULE_TO_KEYLOG",
    "transcript_hash",
    "prf",
    "decrypt_premaster",
    "master_secret",
    "extended_master_secret",
    "key_block",
    "split_key_block",
    "finished",
    "hkdf_extract",
    "hkdf_expand_label",
    "derive_secret",
    "x25519_public_bytes",
    "x25519_shared_secret",
    "p256_public_bytes",
    "p256_shared_secret",
    "key_schedule",
    "traffic_keys",
    "tls13_finished",
    "record_nonce",
    "parse_keylog",
]

HASH_LEN = 32  # SHA-256, the hash of the default suites here (AES128-GCM-SHA256, TLS_AES_128_GCM_SHA256)

#: TLS 1.3 cipher suites (RFC 8446 appendix B.4): hash and AEAD key length. Python's ssl cannot restrict TLS 1.3
#: suites, and OpenSSL's server prefers TLS_AES_256_GCM_SHA384, so real handshakes usually need the second row.
TLS13_SUITES = {
    "TLS_AES_128_GCM_SHA256": ("sha256", 16),
    "TLS_AES_256_GCM_SHA384": ("sha384", 32),
    "TLS_CHACHA20_POLY1305_SHA256": ("sha256", 32),
}
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384}
_DEFAULT_SUITE = "TLS_AES_128_GCM_SHA256"

_CH_PRF = "RFC 5246 section 5 (HMAC and the pseudorandom function)"
_CH_RSA = "RFC 5246 section 7.4.7.1 (RSA-encrypted premaster secret message)"
_CH_MASTER = "RFC 5246 section 8.1 (computing the master secret) and RFC 7627 section 4"
_CH_KEYS = "RFC 5246 section 6.3 (key calculation)"
_CH_FINISHED = "RFC 5246 section 7.4.9 (Finished)"
_CH_13 = "RFC 8446 section 7.1 (key schedule)"
_CH_ECDHE = "RFC 8446 section 7.4 ((EC)DHE shared secret calculation)"
_CH_NONCE = "RFC 8446 section 5.3 (per-record nonce)"
_CH_KEYLOG = "the NSS key log format (SSLKEYLOGFILE), as OpenSSL and Python's ssl write it"

_CLIENT_KEY_EXCHANGE = 16  # HandshakeType client_key_exchange (RFC 5246 section 7.4)
_FINISHED_LABELS = (b"client finished", b"server finished")


# --- shared helpers -------------------------------------------------------------------------------------------------

def _bytes(value, name: str, *, chapter: str, length: int | None = None, rule: str | None = None) -> bytes:
    """``value`` as bytes (bytes, bytearray or memoryview), optionally of an exact length."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InputError(f"{name} must be bytes, not {type(value).__name__}", rule=rule or "bytes-input",
                         value=repr(value), chapter=chapter)
    data = bytes(value)
    if length is not None and len(data) != length:
        raise InputError(f"{name} must be {length} bytes, got {len(data)}",
                         rule=rule or name.replace(" ", "-") + "-length", value=data, chapter=chapter)
    return data


def _length(length, *, chapter: str, maximum: int | None = None) -> int:
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise InputError("The output length must be a whole number of bytes, 0 or more", rule="output-length",
                         value=length, chapter=chapter)
    if maximum is not None and length > maximum:
        raise InputError(f"The output length may be at most {maximum} bytes here", rule="output-length",
                         value=length, chapter=chapter)
    return length


def _label(label, *, chapter: str) -> bytes:
    if isinstance(label, str):
        if not label.isascii():
            raise InputError("TLS labels are ASCII text", rule="label-ascii", value=label, chapter=chapter)
        return label.encode("ascii")
    return _bytes(label, "label", chapter=chapter)


def _suite(suite: str) -> tuple[hashes.HashAlgorithm, int]:
    """The hash algorithm and AEAD key length of a TLS 1.3 suite name."""
    if suite not in TLS13_SUITES:
        raise InputError(f"Unknown TLS 1.3 cipher suite; known: {', '.join(TLS13_SUITES)}", rule="tls13-suite",
                         value=suite, chapter="RFC 8446 appendix B.4 (cipher suites)")
    name, key_length = TLS13_SUITES[suite]
    return _HASHES[name](), key_length


def _hmac(key: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    mac = hmac.HMAC(key, algorithm or hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def transcript_hash(messages: bytes, *, suite: str = _DEFAULT_SUITE) -> bytes:
    """The hash (SHA-256 unless ``suite`` says SHA-384) of handshake messages with their 4-byte headers.

    No record headers. This is the session hash of RFC 7627 section 3, the Finished hash of RFC 5246 section 7.4.9
    and the Transcript-Hash of RFC 8446 section 4.4.1.
    """
    data = _bytes(messages, "handshake messages", chapter=_CH_13)
    digest = hashes.Hash(_suite(suite)[0])
    digest.update(data)
    return digest.finalize()


# --- TLS 1.2 --------------------------------------------------------------------------------------------------------

def prf(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """The TLS 1.2 PRF: ``P_SHA256(secret, label + seed)`` cut to ``length`` bytes (RFC 5246 section 5)."""
    secret = _bytes(secret, "secret", chapter=_CH_PRF)
    full_seed = _label(label, chapter=_CH_PRF) + _bytes(seed, "seed", chapter=_CH_PRF)
    length = _length(length, chapter=_CH_PRF)
    out = b""
    a = full_seed  # A(0)
    while len(out) < length:
        a = _hmac(secret, a)  # A(i) = HMAC(secret, A(i-1))
        out += _hmac(secret, a + full_seed)
    return out[:length]


def decrypt_premaster(server_key, client_key_exchange: bytes, *, client_version: bytes = b"\x03\x03") -> bytes:
    """The 48-byte premaster secret from an RSA ClientKeyExchange message (RFC 5246 section 7.4.7.1).

    ``client_key_exchange`` is the whole handshake message as OpenSSL's message callback delivers it: type 16,
    3-byte length, 2-byte length of the encrypted premaster, then the PKCS#1 v1.5 ciphertext (``data[6:]``).
    The result must be 48 bytes starting with the version the client offered (``03 03`` for TLS 1.2).
    """
    if not isinstance(server_key, rsa.RSAPrivateKey):
        raise WrongTypeError("Decrypting the premaster secret needs the server's RSA private key",
                             rule="rsa-private-key", value=type(server_key).__name__, chapter=_CH_RSA)
    data = _bytes(client_key_exchange, "ClientKeyExchange", chapter=_CH_RSA, rule="client-key-exchange")
    if len(data) < 6 or data[0] != _CLIENT_KEY_EXCHANGE:
        raise InputError("Not a ClientKeyExchange handshake message (type 16, 3-byte length, 2-byte length, "
                         "encrypted premaster)", rule="client-key-exchange", value=data, chapter=_CH_RSA)
    if int.from_bytes(data[1:4], "big") != len(data) - 4 or int.from_bytes(data[4:6], "big") != len(data) - 6:
        raise InputError(f"The ClientKeyExchange length fields do not match its {len(data)} bytes (truncated or "
                         "not an RSA key exchange)", rule="client-key-exchange", value=data, chapter=_CH_RSA)
    ciphertext = data[6:]
    if len(ciphertext) != (server_key.key_size + 7) // 8:
        raise PolicyError(f"The encrypted premaster is {len(ciphertext)} bytes but the server key is "
                          f"{server_key.key_size} bits: it was encrypted to another key", rule="premaster-ciphertext",
                          value=f"{len(ciphertext)} bytes", chapter=_CH_RSA)
    try:
        premaster = server_key.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError:
        premaster = b""  # padding error; with OpenSSL's implicit rejection we get random bytes instead
    if len(premaster) != 48 or premaster[:2] != bytes(client_version):
        raise PolicyError(
            f"The decrypted premaster is not 48 bytes starting with the client version {bytes(client_version).hex()}"
            ": wrong server key or a tampered ClientKeyExchange (a real server carries on with a random premaster "
            "and the handshake fails at Finished)",
            rule="premaster-format", value=f"{len(premaster)} bytes, starting {premaster[:2].hex() or '(nothing)'}",
            chapter=_CH_RSA)
    return premaster


def master_secret(premaster: bytes, client_random: bytes, server_random: bytes) -> bytes:
    """Classic master secret: ``PRF(pms, "master secret", client_random + server_random)[:48]`` (RFC 5246 8.1)."""
    cr = _bytes(client_random, "client random", chapter=_CH_MASTER, length=32)
    sr = _bytes(server_random, "server random", chapter=_CH_MASTER, length=32)
    return prf(_premaster(premaster), b"master secret", cr + sr, 48)


def extended_master_secret(premaster: bytes, session_hash: bytes) -> bytes:
    """Extended master secret: ``PRF(pms, "extended master secret", session_hash)[:48]`` (RFC 7627 section 4).

    ``session_hash`` is :func:`transcript_hash` of the messages from ClientHello up to and including
    ClientKeyExchange (RFC 7627 section 3); OpenSSL uses this unless ``SSL_OP_NO_EXTENDED_MASTER_SECRET`` is set.
    """
    digest = _bytes(session_hash, "session hash", chapter=_CH_MASTER, length=HASH_LEN, rule="session-hash-length")
    return prf(_premaster(premaster), b"extended master secret", digest, 48)


def _premaster(premaster) -> bytes:
    data = _bytes(premaster, "premaster secret", chapter=_CH_MASTER)
    if not data:
        raise InputError("The premaster secret is empty", rule="premaster-present", value=data, chapter=_CH_MASTER)
    return data


def key_block(master: bytes, client_random: bytes, server_random: bytes, length: int = 40) -> bytes:
    """``PRF(master, "key expansion", server_random + client_random)`` (RFC 5246 section 6.3).

    Note the order: server random first here, client random first for the master secret. AES128-GCM-SHA256
    needs 40 bytes (two 16-byte keys, two 4-byte implicit IVs).
    """
    master = _bytes(master, "master secret", chapter=_CH_KEYS, length=48)
    cr = _bytes(client_random, "client random", chapter=_CH_KEYS, length=32)
    sr = _bytes(server_random, "server random", chapter=_CH_KEYS, length=32)
    return prf(master, b"key expansion", sr + cr, _length(length, chapter=_CH_KEYS))


def split_key_block(block: bytes, mac_len: int = 0, key_len: int = 16, iv_len: int = 4) -> dict[str, bytes]:
    """Cut a key block into the write keys, in the order of RFC 5246 section 6.3.

    Defaults fit AES128-GCM-SHA256 (no MAC keys, 16-byte keys, 4-byte implicit IVs); AES128-SHA is
    ``mac_len=20, iv_len=16``. MAC keys appear in the result only when ``mac_len`` is not 0.
    """
    block = _bytes(block, "key block", chapter=_CH_KEYS)
    sizes = [_length(n, chapter=_CH_KEYS) for n in (mac_len, key_len, iv_len)]
    parts = [("client_write_mac_key", sizes[0]), ("server_write_mac_key", sizes[0]),
             ("client_write_key", sizes[1]), ("server_write_key", sizes[1]),
             ("client_write_iv", sizes[2]), ("server_write_iv", sizes[2])]
    needed = sum(size for _, size in parts)
    if len(block) < needed:
        raise InputError(f"The key block is {len(block)} bytes but these sizes need {needed}",
                         rule="key-block-length", value=block, chapter=_CH_KEYS)
    out: dict[str, bytes] = {}
    pos = 0
    for name, size in parts:
        if name.endswith("mac_key") and not size:
            continue
        out[name] = block[pos:pos + size]
        pos += size
    return out


def finished(master: bytes, label: bytes, handshake_messages: bytes | None = None, *,
             handshake_hash: bytes | None = None) -> bytes:
    """TLS 1.2 verify_data: ``PRF(master, label, SHA256(messages))[:12]`` (RFC 5246 section 7.4.9).

    ``label`` is ``b"client finished"`` or ``b"server finished"``; give the handshake messages before this
    Finished, or their SHA-256 as ``handshake_hash``.
    """
    master = _bytes(master, "master secret", chapter=_CH_FINISHED, length=48)
    label = _label(label, chapter=_CH_FINISHED)
    if label not in _FINISHED_LABELS:
        raise InputError('The Finished label is b"client finished" or b"server finished"', rule="finished-label",
                         value=label, chapter=_CH_FINISHED)
    digest = _one_hash(handshake_messages, handshake_hash, "handshake_messages", "handshake_hash", _CH_FINISHED)
    return prf(master, label, digest, 12)


def _one_hash(messages, digest, messages_name: str, hash_name: str, chapter: str,
              suite: str = _DEFAULT_SUITE) -> bytes:
    """Exactly one of raw messages or their hash must be given; return the hash."""
    if (messages is None) == (digest is None):
        raise InputError(f"Give either {messages_name} or {hash_name}, not both and not neither",
                         rule="messages-or-hash", value=None, chapter=chapter)
    if messages is not None:
        return transcript_hash(messages, suite=suite)
    return _bytes(digest, hash_name, chapter=chapter, length=_suite(suite)[0].digest_size, rule="hash-length")


# --- TLS 1.3 --------------------------------------------------------------------------------------------------------

def hkdf_extract(salt: bytes, ikm: bytes, *, suite: str = _DEFAULT_SUITE) -> bytes:
    """HKDF-Extract: ``HMAC(salt, ikm)``; an empty salt means Hash.length zero bytes (RFC 5869 2.2, RFC 8446 7.1)."""
    algorithm = _suite(suite)[0]
    salt = _bytes(salt, "salt", chapter=_CH_13)
    ikm = _bytes(ikm, "input key material", chapter=_CH_13)
    return _hmac(salt or bytes(algorithm.digest_size), ikm, algorithm)


def hkdf_expand_label(secret: bytes, label: str, context: bytes, length: int, *, suite: str = _DEFAULT_SUITE) -> bytes:
    """HKDF-Expand-Label: HKDF-Expand with the HkdfLabel ``length, "tls13 " + label, context`` (RFC 8446 7.1)."""
    algorithm = _suite(suite)[0]
    secret = _bytes(secret, "secret", chapter=_CH_13)
    full_label = b"tls13 " + _label(label, chapter=_CH_13)
    context = _bytes(context, "context", chapter=_CH_13)
    length = _length(length, chapter=_CH_13, maximum=255 * algorithm.digest_size)
    if len(full_label) > 255 or len(context) > 255:
        raise InputError("HkdfLabel allows at most 255 bytes of label and of context", rule="hkdf-label-length",
                         value=full_label if len(full_label) > 255 else context, chapter=_CH_13)
    info = length.to_bytes(2, "big") + bytes([len(full_label)]) + full_label + bytes([len(context)]) + context
    return HKDFExpand(algorithm, length, info).derive(secret)


def derive_secret(secret: bytes, label: str, messages: bytes, *, suite: str = _DEFAULT_SUITE) -> bytes:
    """Derive-Secret: ``HKDF-Expand-Label(secret, label, Transcript-Hash(messages), Hash.length)`` (RFC 8446 7.1)."""
    digest = transcript_hash(messages, suite=suite)
    return hkdf_expand_label(secret, label, digest, len(digest), suite=suite)


def x25519_public_bytes(private_bytes: bytes) -> bytes:
    """The 32-byte X25519 public key (the key_share a peer sends) for a 32-byte private key (RFC 7748 section 6.1)."""
    return _x25519_private(private_bytes).public_key().public_bytes_raw()


def x25519_shared_secret(private_bytes: bytes, peer_public_bytes: bytes) -> bytes:
    """The X25519 shared secret from our private key and the peer's key_share (RFC 8446 7.4.2, RFC 7748 6.1)."""
    private = _x25519_private(private_bytes)
    peer = _bytes(peer_public_bytes, "peer public key", chapter=_CH_ECDHE, length=32, rule="x25519-key-length")
    try:
        return private.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
    except ValueError as exc:  # an all-zero result: a low-order peer point, which RFC 8446 7.4.2 says to reject
        raise InputError(f"X25519 exchange refused: {exc}", rule="x25519-peer-key", value=peer,
                         chapter=_CH_ECDHE) from None


def _x25519_private(private_bytes) -> x25519.X25519PrivateKey:
    raw = _bytes(private_bytes, "private key", chapter=_CH_ECDHE, length=32, rule="x25519-key-length")
    try:
        return x25519.X25519PrivateKey.from_private_bytes(raw)
    except UnsupportedAlgorithm as exc:  # pragma: no cover - every supported OpenSSL has X25519
        raise InputError(f"X25519 is not available here: {exc}", rule="x25519-available", chapter=_CH_ECDHE) from None


def p256_public_bytes(private_bytes: bytes) -> bytes:
    """The 65-byte uncompressed P-256 point (secp256r1 key_share) of a 32-byte private scalar (RFC 8446 4.2.8.2)."""
    return _p256_private(private_bytes).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def p256_shared_secret(private_bytes: bytes, peer_public_bytes: bytes) -> bytes:
    """The 32-byte ECDHE (secp256r1) shared secret, the x-coordinate of the shared point (RFC 8446 section 7.4.2).

    ``peer_public_bytes`` is the uncompressed point ``04 || x || y`` of the peer's key_share. The same value is the
    TLS 1.2 ECDHE premaster secret (RFC 8422 section 5.10).
    """
    private = _p256_private(private_bytes)
    peer = _bytes(peer_public_bytes, "peer public key", chapter=_CH_ECDHE, length=65, rule="p256-point-length")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), peer)
    except ValueError as exc:
        raise InputError(f"Not a point on P-256: {exc}", rule="p256-peer-point", value=peer,
                         chapter=_CH_ECDHE) from None
    return private.exchange(ec.ECDH(), public)


def _p256_private(private_bytes) -> ec.EllipticCurvePrivateKey:
    raw = _bytes(private_bytes, "private key", chapter=_CH_ECDHE, length=32, rule="p256-key-length")
    try:
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as exc:  # zero, or not below the group order
        raise InputError(f"Not a valid P-256 private scalar: {exc}", rule="p256-private-key", value=raw,
                         chapter=_CH_ECDHE) from None


#: key_schedule() names that OpenSSL also writes to its key log, with the NSS label it uses.
SCHEDULE_TO_KEYLOG = {
    "client_handshake_traffic_secret": "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "server_handshake_traffic_secret": "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "client_application_traffic_secret_0": "CLIENT_TRAFFIC_SECRET_0",
    "server_application_traffic_secret_0": "SERVER_TRAFFIC_SECRET_0",
    "exporter_master_secret": "EXPORTER_SECRET",
}


def key_schedule(shared_secret: bytes, hello_messages: bytes | None = None, *, hello_hash: bytes | None = None,
                 handshake_messages_hash: bytes | None = None, handshake_messages: bytes | None = None,
                 suite: str = _DEFAULT_SUITE) -> dict[str, bytes]:
    """The TLS 1.3 key schedule without PSK (RFC 8446 sections 7.1 and 7.3), TLS_AES_128_GCM_SHA256 by default.

    Give ClientHello + ServerHello as ``hello_messages`` (or their hash as ``hello_hash``) for the handshake
    secrets; add the messages through the server Finished as ``handshake_messages`` (or their hash as
    ``handshake_messages_hash``) for the master and application secrets. Returns, in schedule order:
    ``early_secret, derived, handshake_secret, hello_hash``, then per side ``*_handshake_traffic_secret``,
    ``*_handshake_key``, ``*_handshake_iv``; and with the second hash ``master_derived, master_secret,
    handshake_hash``, per side ``*_application_traffic_secret_0``, ``*_application_key``, ``*_application_iv``,
    then ``exporter_master_secret``.
    """
    algorithm = _suite(suite)[0]
    ikm = _bytes(shared_secret, "shared secret", chapter=_CH_13)
    if not ikm:
        raise InputError("The (EC)DHE shared secret is empty", rule="shared-secret-present", value=ikm, chapter=_CH_13)
    h_hello = _one_hash(hello_messages, hello_hash, "hello_messages", "hello_hash", _CH_13, suite)
    h_handshake = None
    if handshake_messages is not None or handshake_messages_hash is not None:
        h_handshake = _one_hash(handshake_messages, handshake_messages_hash, "handshake_messages",
                                "handshake_messages_hash", _CH_13, suite)
    size = algorithm.digest_size
    empty_hash = transcript_hash(b"", suite=suite)
    zeros = bytes(size)

    def expand(secret: bytes, label: str, context: bytes) -> bytes:
        return hkdf_expand_label(secret, label, context, size, suite=suite)

    out: dict[str, bytes] = {}
    out["early_secret"] = hkdf_extract(zeros, zeros, suite=suite)  # no PSK: IKM is Hash.length zero bytes
    out["derived"] = expand(out["early_secret"], "derived", empty_hash)
    out["handshake_secret"] = hkdf_extract(out["derived"], ikm, suite=suite)
    out["hello_hash"] = h_hello
    for side, letter in (("client", "c"), ("server", "s")):
        secret = expand(out["handshake_secret"], f"{letter} hs traffic", h_hello)
        out[f"{side}_handshake_traffic_secret"] = secret
        out[f"{side}_handshake_key"], out[f"{side}_handshake_iv"] = traffic_keys(secret, suite=suite)
    if h_handshake is None:
        return out
    out["master_derived"] = expand(out["handshake_secret"], "derived", empty_hash)
    out["master_secret"] = hkdf_extract(out["master_derived"], zeros, suite=suite)
    out["handshake_hash"] = h_handshake
    for side, letter in (("client", "c"), ("server", "s")):
        secret = expand(out["master_secret"], f"{letter} ap traffic", h_handshake)
        out[f"{side}_application_traffic_secret_0"] = secret
        out[f"{side}_application_key"], out[f"{side}_application_iv"] = traffic_keys(secret, suite=suite)
    out["exporter_master_secret"] = expand(out["master_secret"], "exp master", h_handshake)
    return out


def traffic_keys(secret: bytes, *, suite: str = _DEFAULT_SUITE) -> tuple[bytes, bytes]:
    """The record key and 12-byte IV of a traffic secret, labels ``"key"`` and ``"iv"`` (RFC 8446 section 7.3).

    The key is 16 bytes for TLS_AES_128_GCM_SHA256, 32 for the other two suites.
    """
    key_length = _suite(suite)[1]
    return (hkdf_expand_label(secret, "key", b"", key_length, suite=suite),
            hkdf_expand_label(secret, "iv", b"", 12, suite=suite))


def tls13_finished(base_key: bytes, transcript_digest: bytes, *, suite: str = _DEFAULT_SUITE) -> bytes:
    """TLS 1.3 verify_data: ``HMAC(HKDF-Expand-Label(base_key, "finished", "", Hash.length), hash)`` (RFC 8446 4.4.4).

    ``base_key`` is the sender's handshake traffic secret; ``transcript_digest`` the hash of the messages before
    this Finished (through CertificateVerify for the server, through the server Finished for the client).
    """
    algorithm = _suite(suite)[0]
    size = algorithm.digest_size
    digest = _bytes(transcript_digest, "transcript hash", chapter=_CH_13, length=size, rule="hash-length")
    return _hmac(hkdf_expand_label(base_key, "finished", b"", size, suite=suite), digest, algorithm)


def record_nonce(iv: bytes, sequence: int) -> bytes:
    """The AEAD nonce of record number ``sequence``: the 12-byte IV XOR the padded sequence (RFC 8446 5.3)."""
    iv = _bytes(iv, "IV", chapter=_CH_NONCE, length=12, rule="iv-length")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence < 2**64:
        raise InputError("The record sequence number is a 64-bit counter from 0", rule="record-sequence",
                         value=sequence, chapter=_CH_NONCE)
    return bytes(a ^ b for a, b in zip(iv, sequence.to_bytes(12, "big"), strict=True))


# --- NSS key log ----------------------------------------------------------------------------------------------------

#: NSS key-log labels parse_keylog() accepts: (length of the key field, secret lengths allowed). The key field is the
#: 32-byte client random, except for ``RSA`` lines (RSA key exchange): the first 8 bytes of the encrypted premaster,
#: with the 48-byte premaster as the secret. 48-byte TLS 1.3 secrets come from SHA-384 suites.
KEYLOG_LABELS = {
    "CLIENT_RANDOM": (32, (48,)),
    "RSA": (8, (48,)),
    "CLIENT_EARLY_TRAFFIC_SECRET": (32, (32, 48)),
    "EARLY_EXPORTER_SECRET": (32, (32, 48)),
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET": (32, (32, 48)),
    "SERVER_HANDSHAKE_TRAFFIC_SECRET": (32, (32, 48)),
    "CLIENT_TRAFFIC_SECRET_0": (32, (32, 48)),
    "SERVER_TRAFFIC_SECRET_0": (32, (32, 48)),
    "EXPORTER_SECRET": (32, (32, 48)),
}
_KEY_UPDATE_LABEL = re.compile(r"(CLIENT|SERVER)_TRAFFIC_SECRET_[1-9][0-9]*")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def parse_keylog(text: str) -> dict[str, dict[bytes, bytes]]:
    """Parse NSS key-log lines into ``{label: {client_random: secret}}`` (NSS SSLKEYLOGFILE format).

    TLS 1.2 writes ``CLIENT_RANDOM <client random> <master secret>`` (and, for RSA key exchange,
    ``RSA <first 8 bytes of the encrypted premaster> <premaster>``); TLS 1.3 writes the handshake and application
    traffic secrets and ``EXPORTER_SECRET`` (RFC 8446 section 7.1 names), keyed by the client random. Blank lines
    and ``#`` comments are skipped; any other malformed line raises :class:`InputError` naming the line.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            raise InputError("A key log is ASCII text", rule="keylog-text", value=bytes(text),
                             chapter=_CH_KEYLOG) from None
    if not isinstance(text, str):
        raise InputError(f"A key log is text, not {type(text).__name__}", rule="keylog-text", value=repr(text),
                         chapter=_CH_KEYLOG)
    out: dict[str, dict[bytes, bytes]] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"line {number}: {line}"
        fields = line.split()
        if len(fields) != 3:
            raise InputError(f"A key-log line has 3 fields (label, client random, secret), this one has "
                             f"{len(fields)}", rule="keylog-line", value=where, chapter=_CH_KEYLOG)
        label, random_hex, secret_hex = fields
        if label in KEYLOG_LABELS:
            key_length, lengths = KEYLOG_LABELS[label]
        elif _KEY_UPDATE_LABEL.fullmatch(label):
            key_length, lengths = 32, (32, 48)
        else:
            raise InputError(f"Unknown key-log label {label!r}; known: {', '.join(KEYLOG_LABELS)}",
                             rule="keylog-label", value=where, chapter=_CH_KEYLOG)
        if not (_HEX.fullmatch(random_hex) and _HEX.fullmatch(secret_hex)):
            raise InputError("The client random and the secret must be hexadecimal", rule="keylog-hex", value=where,
                             chapter=_CH_KEYLOG)
        client_random, secret = bytes.fromhex(random_hex), bytes.fromhex(secret_hex)
        if len(client_random) != key_length:
            what = "encrypted premaster prefix" if label == "RSA" else "client random"
            raise InputError(f"The {what} is {key_length} bytes, not {len(client_random)}", rule="keylog-random",
                             value=where, chapter=_CH_KEYLOG)
        if len(secret) not in lengths:
            allowed = " or ".join(str(n) for n in lengths)
            raise InputError(f"A {label} secret is {allowed} bytes, not {len(secret)}", rule="keylog-secret",
                             value=where, chapter=_CH_KEYLOG)
        seen = out.setdefault(label, {})
        if seen.get(client_random, secret) != secret:
            raise InputError(f"Two different {label} secrets for the same client random", rule="keylog-conflict",
                             value=where, chapter=_CH_KEYLOG)
        seen[client_random] = secret
    return out
