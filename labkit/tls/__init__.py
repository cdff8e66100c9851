"""TLS on real handshakes (guide chapter 2's TLS steps, appendix A's zone failures).

* :mod:`labkit.tls.connection` -- run a real OpenSSL handshake between two endpoints (in memory or over TCP on
  127.0.0.1) and trace every message, with the key log and the outcome explained;
* :mod:`labkit.tls.keys` -- the TLS 1.2 PRF and the TLS 1.3 key schedule, recomputed from the messages;
* :mod:`labkit.tls.walkthrough` -- a handshake value by value, each checked against OpenSSL's key log.

The handshake verbs are importable from here: ``from labkit.tls import handshake, Endpoint``.
"""

from labkit.tls.connection import (
    FIVE_STEPS,
    Endpoint,
    Flight,
    Handshake,
    Message,
    Outcome,
    connect,
    explain_verify_code,
    handshake,
    handshake_tcp,
    ladder_figure,
    msg_callback_available,
)

__all__ = ["Endpoint", "Message", "Flight", "Outcome", "Handshake", "handshake", "handshake_tcp", "connect",
           "ladder_figure", "explain_verify_code", "FIVE_STEPS", "msg_callback_available"]
