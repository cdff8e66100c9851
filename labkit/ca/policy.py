"""What a CA agrees to sign: DN policies with OpenSSL's semantics, and certificate profiles.

A **policy** lists subject fields as ``match`` (must equal the CA certificate's value), ``supplied`` (must be
present) or ``optional``; fields it does not list are dropped, and the issued subject follows the policy's order,
as ``openssl ca`` does. Mismatch messages use OpenSSL's own words.

A **profile** decides what the certificate may be used for: labkit forces basicConstraints, keyUsage and extended
key usage from the profile and copies only the subject alternative names from the CSR (OpenSSL's safe pattern,
``copy_extensions = copy`` with the CA setting the rest). ``client-server`` is what AD CS's duplicated "Web client
and server" template issues (guide appendix E): the Expressway needs both purposes for mutual TLS.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import guide
from labkit.errors import PolicyError

__all__ = ["Policy", "POLICIES", "Profile", "PROFILES", "FIELDS", "apply_policy", "profile"]

FIELDS: dict[str, x509.ObjectIdentifier] = {
    "countryName": NameOID.COUNTRY_NAME,
    "stateOrProvinceName": NameOID.STATE_OR_PROVINCE_NAME,
    "localityName": NameOID.LOCALITY_NAME,
    "organizationName": NameOID.ORGANIZATION_NAME,
    "organizationalUnitName": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "commonName": NameOID.COMMON_NAME,
    "emailAddress": NameOID.EMAIL_ADDRESS,
    "domainComponent": NameOID.DOMAIN_COMPONENT,
    "serialNumber": NameOID.SERIAL_NUMBER,
}


@dataclass(frozen=True)
class Policy:
    name: str
    fields: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        for field, rule in self.fields:
            if field not in FIELDS or rule not in ("match", "supplied", "optional"):
                raise PolicyError("A policy line is a known field and match, supplied or optional",
                                  rule="policy-line", value=f"{field} = {rule}", chapter=guide.APPX_B)


POLICIES: dict[str, Policy] = {
    # What the guide's appendix B switches to: anything goes, but a common name is required.
    "policy_anything": Policy("policy_anything", (
        ("countryName", "optional"), ("stateOrProvinceName", "optional"), ("localityName", "optional"),
        ("organizationName", "optional"), ("organizationalUnitName", "optional"), ("commonName", "supplied"),
        ("emailAddress", "optional"))),
    # OpenSSL's example policy, less the state (lab CAs have none): same country and organisation as the CA.
    "policy_match": Policy("policy_match", (
        ("countryName", "match"), ("organizationName", "match"),
        ("organizationalUnitName", "optional"), ("commonName", "supplied"), ("emailAddress", "optional"))),
}


def apply_policy(policy: Policy, request: x509.Name, ca: x509.Name) -> x509.Name:
    """The subject ``openssl ca`` would issue for ``request`` under ``policy``, or OpenSSL's refusal."""
    kept: list[x509.NameAttribute] = []
    for field, rule in policy.fields:
        values = request.get_attributes_for_oid(FIELDS[field])
        if not values:
            if rule == "match":
                raise PolicyError(f"The mandatory {field} field was missing", rule="policy-match",
                                  value=field, chapter=guide.APPX_B)
            if rule == "supplied":
                raise PolicyError(f"The {field} field needed to be supplied and was missing",
                                  rule="policy-supplied", value=field, chapter=guide.APPX_B)
            continue
        if rule == "match":
            theirs = ca.get_attributes_for_oid(FIELDS[field])
            if not theirs:
                raise PolicyError(f"The {field} field does not exist in the CA certificate, the 'policy' is "
                                  "misconfigured", rule="policy-match", value=field, chapter=guide.APPX_B)
            for value in values:
                if value.value != theirs[0].value:
                    raise PolicyError(f"The {field} field is different between CA certificate ({theirs[0].value}) "
                                      f"and the request ({value.value})", rule="policy-match",
                                      value=f"{field}={value.value}", chapter=guide.APPX_B)
        kept.extend(values)
    return x509.Name(kept)


@dataclass(frozen=True)
class Profile:
    """Extensions a CA forces on what it signs; ``section`` is the matching openssl.cnf section."""

    name: str
    section: str
    description: str
    ca: bool = False
    path_length: int | None = None
    extended_usages: tuple[x509.ObjectIdentifier, ...] = ()
    ocsp_nocheck: bool = False

    def key_usage(self, rsa_key: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=not self.ca, content_commitment=False,
            key_encipherment=not self.ca and rsa_key and ExtendedKeyUsageOID.SERVER_AUTH in self.extended_usages,
            data_encipherment=False, key_agreement=False, key_cert_sign=self.ca, crl_sign=self.ca,
            encipher_only=False, decipher_only=False)

    def openssl_key_usage(self) -> str:
        if self.ca:
            return "critical, keyCertSign, cRLSign"
        if ExtendedKeyUsageOID.SERVER_AUTH in self.extended_usages:
            return "critical, digitalSignature, keyEncipherment"
        return "critical, digitalSignature"


_SERVER, _CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("server", "server_ext", "TLS server only (AD CS 'Web Server' template)", extended_usages=(_SERVER,)),
    Profile("client-server", "client_server_ext", "TLS server and client (AD CS 'Web client and server'): what an "
            "Expressway needs for mutual TLS zones", extended_usages=(_SERVER, _CLIENT)),
    Profile("client", "client_ext", "TLS client only", extended_usages=(_CLIENT,)),
    Profile("ca", "ca_ext", "subordinate (issuing) CA that signs end-entity certificates only", ca=True,
            path_length=0),
    Profile("ocsp-signing", "ocsp_ext", "delegated OCSP responder", extended_usages=(ExtendedKeyUsageOID.OCSP_SIGNING,),
            ocsp_nocheck=True),
)}


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise PolicyError(f"Unknown profile; choose one of: {', '.join(PROFILES)}", rule="profile-name", value=name,
                          chapter=guide.APPX_E)
    return PROFILES[name]
