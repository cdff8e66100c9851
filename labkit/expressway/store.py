"""The Expressway's certificate store: the trusted CA list and the server certificate (guide chapters 6 and 7).

* :class:`TrustedCaList` -- *Maintenance > Security > Trusted CA certificate*: **Append** a PEM file of one or more
  CA certificates, list them, view one or all (decoded or PEM), **Delete** entries, **Reset** to the default;
* :class:`ServerCertificateSlot` -- *Maintenance > Security > Server certificate*: **Upload** a certificate (with its
  private key when the key was made outside the Expressway), view the one uploaded (chapter 6), restart;
* :class:`ClientCertificateSlot` -- X15.5's separate client certificate store (``store.client``);
* :class:`CertificateStore` -- both for one Expressway peer (an :class:`~labkit.expressway.ExpresswayNode`), and
  :meth:`CertificateStore.chain_check`, which asks whether the trusted CA list vouches for a certificate.

Other modules (TLS handshakes, later notebooks) take ``store.trusted.certificates`` as the trust anchors: the
certificates the Expressway actually uses, which is every entry of the list except a self-signed certificate that
another one with the same CN pushes aside (see below).

Append and Upload return their findings (:class:`Findings`, a list of
:class:`~labkit.expressway.doctor.Finding`); a file
the page would not take at all is refused with a :class:`~labkit.errors.LabkitError` naming the rule. The rule ids:

================================  ========  ====================================================================
rule                              severity  fires when
================================  ========  ====================================================================
pem-only                          refused   the file is not PEM certificates (DER, PKCS#7, PKCS#12, anything
                                            without ``-----BEGIN``); the message says what it holds and how to
                                            convert it
pem-extra-text                    info      text outside the PEM blocks (``openssl ca -out``'s dump): skipped, as
                                            OpenSSL skips it (labkit's assumption; see
                                            :mod:`labkit.expressway.upload`)
trusted-ca-content                refused   the trusted CA file holds a block that is neither a certificate nor
                                            a CRL
ca-no-basic-constraints           error     a CA certificate without basicConstraints, or with CA:FALSE (a
                                            self-signed CA:FALSE certificate: warning, it can still vouch for
                                            itself)
expired / not-yet-valid           error     a CA certificate outside its validity period at "now" (the lab clock)
expires-after-2050                warning   a CA certificate that expires in 2050 or later (as doctor warns)
validity-time-encoding            warning   a CA certificate's date before 2050 encoded as GeneralizedTime (as
                                            doctor)
trusted-duplicate-cn              warning   the list holds several CA certificates with this CN
self-signed-same-cn               warning   two self-signed certificates share a CN: only the newer one is used
trusted-already-present           info      this exact certificate is in the list already (kept once)
trusted-embedded-crl              info      a CRL in the trusted CA file, kept with the list (chapter 8)
server-certificate-single         refused   the certificate file holds more than one certificate (labkit's
                                            assumption: the guide does not say whether the page takes a chain)
server-certificate-client-auth    refused   (X14.0, X15.4) Unified Communications is on and the EKU lacks
                                            clientAuth (X14.0.1 admin guide); an X15.4 Expressway-E with
                                            EnableServerEkuUpload: warning; X15.5: info (the client certificate
                                            store serves mutual TLS)
client-certificate-store          refused   a client certificate uploaded before X15.5
client-certificate-client-auth    refused   (X15.5) the client certificate's EKU lacks clientAuth
key-no-passphrase                 refused   the private key is passphrase-protected
key-while-csr-pending             refused   a key was given while the peer has a CSR in progress
key-mismatch                      refused   the certificate does not carry the public key of the key in use or
                                            given
key-required                      refused   no key was given and the peer has none for this certificate
security-level                    warning   RSA under 2048 bits, or signed with SHA-1 or MD5
cn-missing                        warning   the subject has no CN (an alarm is raised as well)
ca-not-recognised                 warning   the trusted CA list does not vouch for the certificate
key-trailing-newline              warning   the key file does not end with a newline (MRA can fail: appendix A)
csr-san-dropped, ...              (varies)  with a CSR pending: what the CA changed
                                            (:mod:`labkit.expressway.csr_compare`: ``csr-san-dropped``,
                                            ``csr-san-added``, ``csr-eku-dropped``, ``csr-subject-rewritten``)
================================  ========  ====================================================================

What labkit had to decide where the guide is silent (each is documented where it is modelled):

* the default trusted CA list is empty, or the list given as ``default``; a real Expressway has shipped a
  temporary CA and a server certificate issued by it since X8.1, both meant to be replaced (chapter 7);
* two self-signed certificates with one CN: chapter 4 says the Expressway can trust only one of them, not which.
  labkit uses the one appended last and keeps the older one in the list, unused, until it is deleted: Append
  adds, it never removes (chapter 7 asks you to delete old certificates by hand);
* upload warnings do not stop an upload (the guide's sentence on this is cut off in our copy);
* the "security level" is modelled as RSA of at least 2048 bits and a SHA-256 (or better) signature;
* an uploaded certificate is *uploaded* at once (what chapter 6's page shows) but *active* only after
  :meth:`ServerCertificateSlot.restart` (a manual upload needs a restart: chapter 5).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable

from cryptography import x509

from labkit.expressway.server_certificate import ClientCertificateSlot, ServerCertificateSlot, Settings
from labkit.expressway.trusted_list import ChainCheck, TrustedCaList
from labkit.expressway.upload import Findings
from labkit.expressway.versions import DEFAULT_VERSION

__all__ = ["Findings", "ChainCheck", "TrustedCaList", "ServerCertificateSlot", "ClientCertificateSlot", "Settings",
           "CertificateStore"]


class CertificateStore:
    """The certificates of one Expressway peer: ``store.trusted`` (the trusted CA list), ``store.server`` (the
    server certificate) and, on X15.5, ``store.client`` (the client certificate). ``node`` is the
    :class:`~labkit.expressway.ExpresswayNode` whose pending CSR and key the server certificate page works with,
    and whose software version and Unified Communications mode the pages follow; without a node, ``version`` and
    ``unified_communications`` say them. ``server_eku_upload`` is X15.4's Expressway-E switch
    (``store.settings.server_eku_upload`` can be changed later); ``trusted_default`` is the trusted CA list's
    default."""

    def __init__(self, node=None, *, trusted_default: Iterable[x509.Certificate] = (), version: str = DEFAULT_VERSION,
                 unified_communications: bool = False, server_eku_upload: bool = False):
        self.trusted = TrustedCaList(trusted_default)
        self.settings = Settings(node, version=version, unified_communications=unified_communications,
                                 server_eku_upload=server_eku_upload)
        self.server = ServerCertificateSlot(self.trusted, node, self.settings)
        self.client = ClientCertificateSlot(self.trusted, self.settings)

    @property
    def node(self):
        """The Expressway peer (an :class:`~labkit.expressway.ExpresswayNode`), or None."""
        return self.server.node

    @property
    def tls_client_certificate(self) -> x509.Certificate | None:
        """The certificate this Expressway presents as a TLS client: X15.5's client certificate when one is loaded,
        otherwise the active server certificate (before X15.5 always; on X15.5 without a client certificate,
        labkit's assumption)."""
        return self.client.certificate or self.server.active_certificate

    def chain_check(self, cert, *, intermediates: Iterable[x509.Certificate] = (),
                    at: _dt.datetime | str | None = None) -> ChainCheck:
        """Whether this Expressway's trusted CA list vouches for ``cert`` (see :meth:`TrustedCaList.chain_check`)."""
        return self.trusted.chain_check(cert, intermediates=intermediates, at=at)

    def __repr__(self) -> str:
        name = self.node.name if self.node is not None else "an Expressway"
        return f"CertificateStore({name}: {self.trusted!r}, {self.server!r})"
