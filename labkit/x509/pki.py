"""PKI basics of guide chapter 2: key pairs, encryption, signatures, certificates, chains and trust stores.

Each verb does one step a trainee can repeat with OpenSSL:

* :func:`encrypt` / :func:`decrypt` -- ``openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep
  -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256`` (without the two ``md`` options OpenSSL uses SHA-1)
* :func:`sign` / :func:`verify` -- ``openssl dgst -sha256 -sign key.pem`` / ``-verify pub.pem -signature sig.bin``
* :func:`lab_chain` / :func:`verify_chain` -- ``openssl verify -CAfile root.pem -untrusted inter.pem server.pem``

RSA-OAEP encryption is randomised on purpose (the same message never encrypts to the same bytes twice). So that the
notebooks print the same bytes on every run, :func:`encrypt` derives OAEP's random seed from the message unless asked
for ``fresh=True``; the padding and the RSA operation are the standard ones, and decryption is done by cryptography's
own OAEP, which would refuse anything malformed. Never derive the seed outside a lab: anyone could confirm a
guessed message by encrypting it again.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from labkit import guide, lab
from labkit.errors import InputError, PolicyError
from labkit.x509.certs import CertSpec, Issued, issue
from labkit.x509.verify import verify_chain

__all__ = [
    "Chain",
    "Verdict",
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "lab_chain",
    "verify_chain",
    "STAGES",
]

_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

#: The guide's three stages of certificate generation (chapter 2, "Certificate Generation Overview").
STAGES = ("generate a private key", "create a certificate signing request", "sign (authorise) the certificate")


def _rsa_public(key) -> rsa.RSAPublicKey:
    public = key.public_key() if hasattr(key, "public_key") else key
    if not isinstance(public, rsa.RSAPublicKey):
        raise PolicyError("Encryption in this lab uses RSA keys (the guide recommends RSA)", rule="rsa-key",
                          value=type(public).__name__, chapter=guide.CH2)
    return public


def _mgf1(seed: bytes, length: int) -> bytes:
    out = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(-(-length // 32)))
    return out[:length]


def encrypt(public_key, message: bytes | str, *, fresh: bool = False) -> bytes:
    """RSA-OAEP (SHA-256) ``message`` with the public key; only the private key can :func:`decrypt` it.

    The OAEP seed is derived from the message (deterministic lab output) unless ``fresh=True``.
    """
    public = _rsa_public(public_key)
    data = message.encode() if isinstance(message, str) else bytes(message)
    k = (public.key_size + 7) // 8
    if len(data) > k - 2 * 32 - 2:
        raise InputError(f"RSA-{public.key_size} with OAEP-SHA256 encrypts at most {k - 66} bytes; real systems "
                         "encrypt a short secret key this way and the data with that key (TLS does)",
                         rule="oaep-message-length", value=f"{len(data)} bytes", chapter=guide.CH2)
    if fresh:
        return public.encrypt(data, _OAEP)
    # RFC 8017 section 7.1.1, with the seed taken from the message instead of a random generator.
    seed = hashlib.sha256(b"labkit lab seed" + data).digest()
    db = hashlib.sha256(b"").digest() + b"\x00" * (k - len(data) - 66) + b"\x01" + data
    masked_db = bytes(a ^ b for a, b in zip(db, _mgf1(seed, len(db)), strict=True))
    masked_seed = bytes(a ^ b for a, b in zip(seed, _mgf1(masked_db, 32), strict=True))
    encoded = int.from_bytes(b"\x00" + masked_seed + masked_db, "big")
    numbers = public.public_numbers()
    return pow(encoded, numbers.e, numbers.n).to_bytes(k, "big")


def decrypt(private_key, ciphertext: bytes) -> bytes:
    """Undo :func:`encrypt` with the private key; the wrong key or a changed ciphertext is refused."""
    try:
        return private_key.decrypt(bytes(ciphertext), _OAEP)
    except ValueError:
        raise PolicyError("Decryption failed: this is not the private key of the public key that encrypted the "
                          "data, the ciphertext was changed, or it was encrypted with other OAEP settings (the lab "
                          "uses SHA-256 for OAEP and MGF1)", rule="oaep-decrypt",
                          value=f"{len(ciphertext)} bytes", chapter=guide.CH2) from None


def sign(private_key, message: bytes | str) -> bytes:
    """An RSA PKCS#1 v1.5 signature over SHA-256 of ``message`` (deterministic: same key and message, same bytes)."""
    data = message.encode() if isinstance(message, str) else bytes(message)
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check, with the reason in a trainee's words."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'VALID' if self.ok else 'INVALID'}: {self.reason}"


def verify(public_key, message: bytes | str, signature: bytes) -> Verdict:
    """Check ``signature`` over ``message`` with the public key; explain the result."""
    data = message.encode() if isinstance(message, str) else bytes(message)
    digest = hashlib.sha256(data).hexdigest()
    try:
        _rsa_public(public_key).verify(bytes(signature), data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return Verdict(False, f"the signature does not match SHA-256 {digest[:16]}... of this message: the "
                              "message was changed, or another key signed it")
    return Verdict(True, f"the signature matches SHA-256 {digest[:16]}... of this message, and only the holder "
                         "of the private key could have made it")


@dataclass(frozen=True)
class Chain:
    """Root CA -> issuing CA -> server: the two-tier PKI the lab uses throughout."""

    root: Issued
    intermediate: Issued
    server: Issued

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        return (self.server.certificate, self.intermediate.certificate, self.root.certificate)


def lab_chain(server_name: str = "expe.lab.example", *, at: _dt.datetime | None = None) -> Chain:
    """A root CA, an issuing CA under it and a server certificate, from fixture keys on the lab clock."""
    root = issue(CertSpec("labkit Root CA", ca=True, days=3650), lab.fixture_key("root-ca"), at=at)
    inter = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0, days=1825),
                  lab.fixture_key("issuing-ca"), root, at=at)
    server = issue(CertSpec(server_name, days=365), lab.fixture_key("expe-1"), inter, at=at)
    return Chain(root, inter, server)
