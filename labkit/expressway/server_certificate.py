"""The Expressway's server certificate page (guide chapters 6 and 7): upload a certificate, with its key when the
key was made outside the Expressway, view the one uploaded, and restart; and X15.5's client certificate page.

:class:`ServerCertificateSlot` refuses what the page refuses (a key with a passphrase, a certificate that does not
match the key, several certificates in one file, and, while Unified Communications is on, a certificate without
clientAuth on releases before X15.5) with a LabkitError naming the rule, and returns the page's warnings as
:class:`~labkit.expressway.upload.Findings`. :class:`ClientCertificateSlot` is X15.5's separate client certificate.
See :mod:`labkit.expressway.store` for the rule table and :mod:`labkit.expressway.versions` for the releases.
"""

from __future__ import annotations

import datetime as _dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit import guide
from labkit.errors import InputError, LabError, PasswordError, PolicyError
from labkit.expressway.csr_compare import compare
from labkit.expressway.doctor import Finding
from labkit.expressway.trusted_list import TrustedCaList
from labkit.expressway.upload import (
    _KEY_LABELS,
    _MIN_RSA,
    Findings,
    _cn,
    _extra_text,
    _file_bytes,
    _label,
    _labels,
    _pem,
)
from labkit.expressway.versions import DEFAULT_VERSION, check_version, separate_client_store, server_eku_switch
from labkit.x509 import decode
from labkit.x509.loading import load

__all__ = ["ServerCertificateSlot", "ClientCertificateSlot", "Settings"]


class Settings:
    """The settings of one Expressway that its certificate pages depend on: the software ``version``, whether
    ``unified_communications`` is on, and X15.4's Expressway-E switch ``server_eku_upload`` (``xConfiguration XCP
    TLS Certificate CVS EnableServerEkuUpload``). With a node, its version, role and Unified Communications mode
    are the node's."""

    def __init__(self, node=None, *, version: str = DEFAULT_VERSION, unified_communications: bool = False,
                 role: str = "expressway", server_eku_upload: bool = False):
        self._node = node
        self._version = check_version(version)
        self._uc = unified_communications
        self._role = role
        self.server_eku_upload = server_eku_upload

    @property
    def version(self) -> str:
        return self._node.version if self._node is not None else self._version

    @property
    def unified_communications(self) -> bool:
        return self._node.unified_communications if self._node is not None else self._uc

    @property
    def role(self) -> str:
        return self._node.role if self._node is not None else self._role


def _client_auth(cert: x509.Certificate) -> bool | None:
    """True or False for the clientAuth purpose in the EKU; None when there is no EKU (then nothing limits it)."""
    try:
        return ExtendedKeyUsageOID.CLIENT_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None


class ServerCertificateSlot:
    """The server certificate page (*Maintenance > Security > Server certificate*) of one Expressway.

    :meth:`upload` is *Upload server certificate data*; :attr:`current_certificate` is chapter 6's "currently
    uploaded certificate", :meth:`view` and :meth:`pem` its *Show (decoded)* and *Show (PEM file)*. The private key
    stays inside: no attribute, method or ``repr`` returns it (with a node, the key of a CSR made on the
    Expressway stays in the node).
    """

    __slots__ = ("_trusted", "_node", "_certificate", "_key", "_active", "_restart", "_alarms", "_last", "settings")

    def __init__(self, trusted: TrustedCaList, node=None, settings: Settings | None = None):
        self._trusted = trusted
        self._node = node
        self.settings = settings if settings is not None else Settings(node)
        self._certificate: x509.Certificate | None = None
        self._key = None  # only for a key uploaded with a certificate; never returned
        self._active = node.certificate if node is not None else None
        self._restart = False
        self._alarms: tuple[str, ...] = ()
        self._last = Findings()

    @property
    def node(self):
        return self._node

    @property
    def current_certificate(self) -> x509.Certificate | None:
        """The certificate uploaded last (the node's installed one until something is uploaded here)."""
        if self._certificate is not None:
            return self._certificate
        return self._node.certificate if self._node is not None else None

    @property
    def active_certificate(self) -> x509.Certificate | None:
        """The certificate in service: an upload takes effect at the next :meth:`restart`."""
        return self._active

    @property
    def restart_required(self) -> bool:
        """True after a manual upload until :meth:`restart` (chapter 5: non-ACME uploads need a restart)."""
        return self._restart

    @property
    def alarms(self) -> tuple[str, ...]:
        """Alarms the current certificate raises (a missing CN raises one: chapter 7)."""
        return self._alarms

    @property
    def last_warnings(self) -> Findings:
        """The findings of the last successful upload."""
        return self._last

    def upload(self, certificate, key=None, *, node=None, at: _dt.datetime | str | None = None) -> Findings:
        """*Upload server certificate data*: the certificate file and, if the key was made outside the
        Expressway, the private key file (each PEM text, bytes or a Path).

        With a CSR pending on the node (``node``, or the store's), no key may be given: the certificate must carry
        the pending CSR's key and :meth:`~labkit.expressway.ExpresswayNode.install_certificate` installs it.
        Without a key file, the certificate must match the key already in use. Refusals raise a LabkitError; the
        page's warnings come back as :class:`Findings` (they do not stop the upload); the chain behind them is checked
        at ``at`` (the lab clock by default; the machine's time for a certificate from a live system).
        """
        node = node if node is not None else self._node
        cert, extra = self._read_certificate(certificate)
        release = self._client_auth_rule(cert)  # refused here, before anything changes
        findings = Findings([*extra, *release])
        pending = node is not None and node.pending_csr is not None
        if pending and key is not None:
            raise PolicyError(f"{node.name} has a CSR in progress, so the key for this certificate is the one "
                              "generated with it: upload the certificate alone, or Discard CSR first if the key "
                              "was made elsewhere", rule="key-while-csr-pending", value=node.name, chapter=guide.CH7)
        new_key = None
        if key is not None:
            raw = _file_bytes(key, "private key file")
            new_key = _unencrypted_key(raw)
            if not raw.endswith(b"\n"):
                findings.append(Finding("key-trailing-newline", "warning", "the key file does not end with a "
                                        "newline: MRA can fail with certificate errors; add one after the "
                                        "-----END line", guide.APPX_A_MRA))
        if pending:
            asked = node.pending_csr
            node.install_certificate(cert)  # refuses a certificate for another key
            self._key = None  # the key is the node's
            # what the CA changed (SANs, purposes, subject); a clientAuth the release accepted losing is said above
            findings += compare(cert, asked, accepted_drops=(ExtendedKeyUsageOID.CLIENT_AUTH,) if release else ())
        elif new_key is not None:
            if new_key.public_key() != cert.public_key():
                raise PolicyError("The private key file does not belong to this certificate: the certificate "
                                  "carries another public key", rule="key-mismatch", value=_label(cert.subject),
                                  chapter=guide.CH7)
            self._key = new_key
        else:
            self._check_key_in_place(cert, node)
        self._certificate = cert
        findings += self._warnings(cert, at)
        self._alarms = (("Server certificate has no CN: MRA, Jabber Guest and the CMS Web Proxy need one",)
                        if _cn(cert) is None else ())
        self._restart = True
        self._last = findings
        return findings

    def _client_auth_rule(self, cert: x509.Certificate) -> list[Finding]:
        """The clientAuth rule of this release (see :mod:`labkit.expressway.versions`): refused, or the findings."""
        settings = self.settings
        if _client_auth(cert) is not False or not settings.unified_communications:
            return []
        version = settings.version
        if separate_client_store(version):
            return [Finding("server-certificate-client-auth", "info", f"serverAuth only: {version} takes it as the "
                            "server certificate; for mutual TLS as a client, load a clientAuth certificate into the "
                            "client certificate store", guide.APPX_E, guide.CISCO_X15_5_EKU)]
        switch = server_eku_switch(version, settings.role)
        if switch and settings.server_eku_upload:
            return [Finding("server-certificate-client-auth", "warning", "serverAuth only, accepted through "
                            "EnableServerEkuUpload: this Expressway-E can no longer be the TLS client on mutual-TLS "
                            "links (B2B SIP, XMPP federation) with it", guide.APPX_E, guide.CISCO_X15_5_EKU)]
        hint = (" (X15.4 on an Expressway-E: xConfiguration XCP TLS Certificate CVS EnableServerEkuUpload: On "
                "accepts it)" if switch else "")
        raise PolicyError(f"This certificate's Extended Key Usage lacks TLS Web Client Authentication, and on "
                          f"{version} the server certificate is also the Expressway's client certificate: while "
                          f"Unified Communications is on, it cannot be uploaded{hint}. Ask the CA for serverAuth and "
                          "clientAuth (appendix E), or move to X15.5, which keeps a separate client certificate",
                          rule="server-certificate-client-auth", value=_label(cert.subject),
                          chapter=guide.ADMIN_X14_UC_CERTS)

    @staticmethod
    def _read_certificate(certificate) -> tuple[x509.Certificate, list[Finding]]:
        raw = _file_bytes(certificate, "server certificate file")
        labels = _labels(raw)
        if any("PRIVATE KEY" in label for label in labels):
            raise InputError("The certificate file holds a private key as well: give the certificate alone, and "
                             "the key as the private key file", rule="server-certificate-single",
                             value=", ".join(labels), chapter=guide.CH7)
        certificates = [label for label in labels if label in ("CERTIFICATE", "X509 CERTIFICATE")]
        if len(certificates) > 1:  # labkit's assumption: the guide does not say whether a chain is taken here
            raise InputError(f"The certificate file holds {len(certificates)} certificates: labkit's model takes "
                             "the server certificate alone (the guide does not say more); append its CA chain to the "
                             "trusted CA list",
                             rule="server-certificate-single", value=f"{len(certificates)} certificates",
                             chapter=guide.CH7)
        return load(raw, expect="certificate").obj, _extra_text(raw, "server certificate file")

    def _check_key_in_place(self, cert: x509.Certificate, node) -> None:
        if self._key is not None:
            matches = self._key.public_key() == cert.public_key()
        elif node is not None and node.certificate is not None:
            matches = node.key_matches(cert)
        else:
            raise PolicyError("There is no private key for this certificate here: upload the key file with it, "
                              "or generate a CSR on the Expressway and upload the certificate issued for it",
                              rule="key-required", value=_label(cert.subject), chapter=guide.CH7)
        if not matches:
            raise PolicyError("This certificate does not carry the public key of the private key in use: upload "
                              "its own key file with it", rule="key-mismatch", value=_label(cert.subject),
                              chapter=guide.CH7)

    def _warnings(self, cert: x509.Certificate, at: _dt.datetime | str | None = None) -> list[Finding]:
        findings = []
        weak = []
        public = cert.public_key()
        if isinstance(public, rsa.RSAPublicKey | dsa.DSAPublicKey) and public.key_size < _MIN_RSA:
            weak.append(f"a {public.key_size}-bit key (at least {_MIN_RSA})")
        algorithm = cert.signature_hash_algorithm
        if isinstance(algorithm, hashes.SHA1 | hashes.MD5):
            weak.append(f"a {'SHA-1' if isinstance(algorithm, hashes.SHA1) else 'MD5'} signature (use SHA-256 or "
                        "better)")
        if weak:
            findings.append(Finding("security-level", "warning", "the security level is not acceptable: "
                                    + " and ".join(weak), guide.CH7))
        if _cn(cert) is None:
            findings.append(Finding("cn-missing", "warning", "the subject has no CN, and an alarm follows: MRA, "
                                    "Jabber Guest and the CMS Web Proxy depend on the CN", guide.CH7))
        verdict = self._trusted.chain_check(cert, at=at)
        if not verdict:
            findings.append(Finding("ca-not-recognised", "warning", f"the CA is not recognised: {verdict.reason}",
                                    guide.CH7))
        return findings

    def restart(self) -> str:
        """Restart the Expressway: the uploaded certificate becomes the active one."""
        cert = self.current_certificate
        self._active, self._restart = cert, False
        if cert is None:
            return "Restarted: no server certificate is installed"
        return f"Restarted: the Expressway now presents '{_label(cert.subject)}' (serial {cert.serial_number:X})"

    def _current(self) -> x509.Certificate:
        cert = self.current_certificate
        if cert is None:
            raise LabError("No server certificate has been uploaded yet", rule="server-certificate-present",
                           value="none", chapter=guide.CH6)
        return cert

    def view(self) -> str:
        """*Show (decoded)*: the current certificate as ``openssl x509 -text -noout`` prints it."""
        return decode.text(self._current())

    def pem(self) -> str:
        """*Show (PEM file)*: the current certificate as PEM."""
        return _pem(self._current())

    def __repr__(self) -> str:
        cert = self.current_certificate
        where = f"{self._node.name}: " if self._node is not None else ""
        what = f"'{_label(cert.subject)}' serial {cert.serial_number:X}" if cert is not None else "no certificate"
        return f"ServerCertificateSlot({where}{what}{', restart required' if self._restart else ''})"


class ClientCertificateSlot:
    """X15.5's client certificate store: the certificate (with clientAuth) and key the Expressway presents when it
    is the TLS client on a mutual-TLS link, kept apart from the server certificate (Cisco document 225693).

    What labkit assumes where Cisco's documents are silent: the certificate and its key are uploaded together (PEM,
    no passphrase), and without a client certificate the server certificate is presented, as before X15.5.
    """

    __slots__ = ("_trusted", "_settings", "_certificate", "_key")

    def __init__(self, trusted: TrustedCaList, settings: Settings):
        self._trusted = trusted
        self._settings = settings
        self._certificate: x509.Certificate | None = None
        self._key = None

    @property
    def certificate(self) -> x509.Certificate | None:
        """The client certificate loaded, or None."""
        return self._certificate

    def upload(self, certificate, key, *, at: _dt.datetime | str | None = None) -> Findings:
        """Upload the client certificate and its private key file (PEM text, bytes or Paths). Refused before X15.5
        (``client-certificate-store``), without clientAuth in the EKU (``client-certificate-client-auth``), and for
        the server page's reasons (passphrase, key mismatch). Its chain is checked at ``at`` (the lab clock by
        default)."""
        version = self._settings.version
        if not separate_client_store(version):
            raise PolicyError(f"{version} has no client certificate store: the server certificate is also the client "
                              "certificate (X15.5 separates them)", rule="client-certificate-store", value=version,
                              chapter=guide.CISCO_X15_5_EKU)
        cert, extra = ServerCertificateSlot._read_certificate(certificate)
        if _client_auth(cert) is False:
            raise PolicyError("A client certificate needs TLS Web Client Authentication in its Extended Key Usage",
                              rule="client-certificate-client-auth", value=_label(cert.subject),
                              chapter=guide.APPX_E)
        new_key = _unencrypted_key(_file_bytes(key, "private key file"))
        if new_key.public_key() != cert.public_key():
            raise PolicyError("The private key file does not belong to this client certificate",
                              rule="key-mismatch", value=_label(cert.subject), chapter=guide.CH7)
        self._certificate, self._key = cert, new_key
        verdict = self._trusted.chain_check(cert, at=at)
        return Findings([*extra, *([] if verdict else [Finding("ca-not-recognised", "warning", "the CA is not "
                                                               f"recognised: {verdict.reason}", guide.CH7)])])

    def __repr__(self) -> str:
        what = f"'{_label(self._certificate.subject)}'" if self._certificate is not None else "no certificate"
        return f"ClientCertificateSlot({what})"


def _unencrypted_key(raw: bytes):
    """The private key of a PEM key file; a passphrase-protected key is refused (the Expressway cannot use it)."""
    labels = _labels(raw)
    if "ENCRYPTED PRIVATE KEY" in labels or b"Proc-Type: 4,ENCRYPTED" in raw:
        raise PasswordError("The private key is protected by a passphrase, and the Expressway cannot use such a "
                            "key: remove the passphrase first (`openssl pkey -in protected.key -out plain.key`)",
                            rule="key-no-passphrase", value="encrypted private key", chapter=guide.CH7)
    if not labels or any(label not in _KEY_LABELS for label in labels):
        raise InputError(f"The private key file must hold one private key, not {', '.join(labels)}",
                         rule="expect-private-key", value=", ".join(labels), chapter=guide.CH7)
    return load(raw, expect="private-key").obj
