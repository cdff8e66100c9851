"""An OpenSSL-style CA that OpenSSL itself can operate (guide appendices B-F).

    root = init_ca("lab-ca/root", "labkit Root CA", key=lab.fixture_key("root-ca"))
    issuing = init_ca("lab-ca/issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root)
    cert = issuing.sign(csr, "client-server")          # openssl ca -batch -config ... -extensions client_server_ext
    issuing.revoke(cert, "keyCompromise")               # openssl ca -revoke cert.pem -crl_reason keyCompromise
    crl = issuing.crl()                                 # openssl ca -gencrl -out crl/ca.crl.pem
"""

from labkit.ca.authority import CertificateAuthority, init_ca, lifetime_notes, open_ca, self_signed
from labkit.ca.database import IndexEntry
from labkit.ca.policy import POLICIES, PROFILES, Profile
from labkit.x509.reasons import REASONS

__all__ = ["CertificateAuthority", "init_ca", "open_ca", "self_signed", "lifetime_notes", "IndexEntry", "REASONS",
           "POLICIES", "PROFILES", "Profile"]
