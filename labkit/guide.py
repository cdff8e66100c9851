"""Every reference to the *Certificate Creation and Use Deployment Guide (X14.0)*, written once.

Errors, doctor findings and exercises say where a rule is explained. They take the reference from here, so one
section is always named the same way, and a section that does not exist cannot be cited: :data:`CONTENTS` is the
guide's table of contents (chapter and appendix titles and their sections, as the X14.0 edition prints them), and
every reference below is checked against it by the tests.

A reference reads ``guide chapter 2 (PKI Introduction)``: the part, then the section. A few add the topic within a
section after a colon (``guide appendix A (Troubleshooting: MRA failures)``).

The last block names the sources beyond the X14.0 guide that the kit also cites (later admin guides, Cisco documents,
RFC sections, a CA's announcements) and :data:`LABKIT_ADVICE`, for rules that are labkit's own. Each one says which
document and which part of it, so a trainee can look it up; what the kit draws from it is in its own words.
"""

from __future__ import annotations

__all__ = ["CONTENTS", "SHORT_TITLES", "cited", "ref"]

#: The guide's parts and the sections each one holds (X14.0 table of contents).
CONTENTS: dict[str, tuple[str, ...]] = {
    "chapter 2": ("Introduction", "Information Not Covered in this Guide", "PKI Introduction",
                  "Certificate Use on the Expressway Overview", "Certificate Generation Overview",
                  "Points to be Aware"),
    "chapter 3": ("Generating a CSR", "Creating a CSR Using Expressway", "Server Certificates and Clustered Systems"),
    "chapter 4": ("Server Certificate Requirements for Unified Communications",
                  "Cisco Unified Communications Manager Certificates", "IM and Presence Service Certificates",
                  "Expressway Certificates"),
    "chapter 5": ("Using ACME on Expressway-E", "ACME Deployment Overview", "How ACME Works", "Common Configuration",
                  "Deploy ACME Certificate Service", "Revoke an ACME Certificate"),
    "chapter 6": ("View currently uploaded certificate",),
    "chapter 7": ("Loading Certificates and Keys Onto Expressway", "Managing the Trusted CA Certificate List",
                  "Loading a Server Certificate and Private Key Onto Expressway"),
    "chapter 8": ("Manage Certificate Revocation Lists", "Certificate Revocation Sources",
                  "Limitations and Usage Guidelines", "Automatic CRL Updates", "Manual CRL Updates",
                  "Online Certificate Status Protocol (OCSP)", "Configure Revocation Checking for SIP TLS Connections"),
    "appendix A": ("Troubleshooting", "SIP TLS Negotiation Failures on Neighbor and Traversal Zones",
                   "Certificates with Key Length of 8192 Bits", "Service Failures when Using Mobile and Remote Access",
                   "Issues with SSH Failures and Unsupported OIDs"),
    "appendix B": ("Certificate Generation Using OpenSSL Only", "Create a Certificate Request Using OpenSSL",
                   "Operate as a Certificate Authority Using OpenSSL", "Create Self-Signed Certificates Using OpenSSL"),
    "appendix C": ("Convert a DER Certificate File to PEM Format",),
    "appendix D": ("Decode Certificates",),
    "appendix E": ("Enable AD CS to Issue \"Client and Server\" Certificates",),
    "appendix F": ("Authorize a Request and Generate a Certificate Using Microsoft Certification Authority",),
}


#: Shorter names the kit cites a few sections by, and the title each one stands for in :data:`CONTENTS`.
SHORT_TITLES: dict[str, str] = {
    "Certificate Use on the Expressway": "Certificate Use on the Expressway Overview",
    "Convert DER to PEM": "Convert a DER Certificate File to PEM Format",
    "Enable AD CS for 'Client and Server'": "Enable AD CS to Issue \"Client and Server\" Certificates",
}


def cited(reference: str) -> list[tuple[str, str]]:
    """The ``(part, title)`` pairs a reference cites: ``guide chapter 7 (A) and appendix C (B)`` cites two,
    ``guide chapter 2 (A, B)`` two sections of one part, and ``(A: a topic)`` the section A."""
    import re

    pairs = []
    for part, inner in re.findall(r"(chapter \d+|appendix [A-F]) \(((?:[^()]|\([^()]*\))*)\)", reference):
        for piece in inner.split(", "):
            title = piece.split(": ")[0]
            pairs.append((part, SHORT_TITLES.get(title, title)))
    return pairs


def ref(part: str, section: str) -> str:
    """``guide PART (SECTION)``: how labkit cites the guide (``part`` is a key of :data:`CONTENTS`)."""
    return f"guide {part} ({section})"


# -- chapter 2: PKI introduction, certificate use, points to be aware ----------------------------------------------
CH2 = ref("chapter 2", "PKI Introduction")
CH2_TLS = ref("chapter 2", "PKI Introduction: the TLS steps")
CH2_USE = ref("chapter 2", "Certificate Use on the Expressway")
CH2_OVERVIEW = ref("chapter 2", "Certificate Generation Overview")
CH2_POINTS = ref("chapter 2", "Points to be Aware")
CH2_AWARE = ref("chapter 2", "Certificate Use on the Expressway, Points to be Aware")
# -- chapter 3: generating a CSR -------------------------------------------------------------------------------------
CH3 = ref("chapter 3", "Generating a CSR")
CH3_CLUSTER = ref("chapter 3", "Server Certificates and Clustered Systems")
# -- chapter 4: certificates for Unified Communications ----------------------------------------------------------
CH4 = ref("chapter 4", "Server Certificate Requirements for Unified Communications")
CH4_UCM = ref("chapter 4", "Cisco Unified Communications Manager Certificates")
CH4_EXPRESSWAY = ref("chapter 4", "Expressway Certificates")
CH4_TABLE = ref("chapter 4", "Expressway Certificates: the table of alternative names per feature")
CH4_REISSUE = ref("chapter 4", "Expressway Certificates: when a new certificate is needed")
# -- chapters 5-8 ------------------------------------------------------------------------------------------------------
CH5 = ref("chapter 5", "Using ACME on Expressway-E")
CH5_OVERVIEW = ref("chapter 5", "ACME Deployment Overview")
CH5_HOW = ref("chapter 5", "How ACME Works")
CH5_DEPLOY = ref("chapter 5", "Deploy ACME Certificate Service")
CH5_REVOKE = ref("chapter 5", "Revoke an ACME Certificate")
CH6 = ref("chapter 6", "View currently uploaded certificate")
CH7 = ref("chapter 7", "Loading Certificates and Keys Onto Expressway")
CH7_TRUSTED = ref("chapter 7", "Managing the Trusted CA Certificate List")
CH7_PEM = CH7 + " and appendix C (Convert DER to PEM)"
CH8 = ref("chapter 8", "Manage Certificate Revocation Lists")
CH8_SOURCES = ref("chapter 8", "Certificate Revocation Sources")
CH8_LIMITS = ref("chapter 8", "Limitations and Usage Guidelines")
CH8_OCSP = ref("chapter 8", "Online Certificate Status Protocol (OCSP)")
CH8_SIP = ref("chapter 8", "Configure Revocation Checking for SIP TLS Connections")
# -- appendices ------------------------------------------------------------------------------------------------------
APPX_A = ref("appendix A", "Troubleshooting")
APPX_A_ZONES = ref("appendix A", "SIP TLS Negotiation Failures on Neighbor and Traversal Zones")
APPX_A_8192 = ref("appendix A", "Certificates with Key Length of 8192 Bits")
APPX_A_MRA = ref("appendix A", "Troubleshooting: MRA failures")
APPX_A_OID = ref("appendix A", "Issues with SSH Failures and Unsupported OIDs")
APPX_B = ref("appendix B", "Certificate Generation Using OpenSSL Only")
APPX_B_REQUEST = ref("appendix B", "Create a Certificate Request Using OpenSSL")
APPX_C = ref("appendix C", "Convert DER to PEM")
APPX_D = ref("appendix D", "Decode Certificates")
APPX_E = ref("appendix E", "Enable AD CS for 'Client and Server'")
# -- the kit's own notebooks -------------------------------------------------------------------------------------
NB00 = "notebook 00-welcome"
NB00_CLOCK = "notebook 00-welcome (the lab clock and fixture keys)"
NB00_LAB = "notebook 00-welcome (how the lab works)"

# -- sources beyond the X14.0 guide (what each says is in the kit's own words where it is used) ---------------------
#: A rule that is labkit's own choice or advice, not a statement of the guide or of Cisco.
LABKIT_ADVICE = "labkit's advice"
#: The server certificate needs clientAuth; without it the upload is refused while UC features are on.
ADMIN_X14_UC_CERTS = ("Expressway Administrator Guide X14.0.1 (Unified Communications: Installing Expressway Security "
                      "Certificates)")
#: Public CAs dropping clientAuth: every X14 and X15.0-X15.3 release affected; defect CSCwr73373.
CISCO_FN74362 = "Cisco Field Notice FN74362 (client authentication EKU removed by public CAs)"
#: X15.4's Expressway-E switch for a serverAuth-only upload, and X15.5's two certificate stores.
CISCO_X15_5_EKU = "Cisco document 225693 (Navigate client EKU sunset with Expressway X15.5)"
#: The X14.2 change: MRA checks the certificates of Unified CM, IM and Presence and Unity Connection.
CISCO_X14_2_MRA = "Cisco document 218018 (Expressway X14.2 and later: traffic server certificate verification, " \
                  "CSCwc69661 / CSCwa25108)"
#: The Unified Communications traversal zone and its TLS verify subject name (the C's cluster name).
MRA_GUIDE_TRAVERSAL = ("Mobile and Remote Access Through Cisco Expressway deployment guide (secure traversal zone: TLS "
                       "verify subject name)")
#: Older editions of the guide: a clustered peer's CN was the peer's own FQDN.
VCS_GUIDE_CLUSTER = ("Cisco VCS Certificate Creation and Use Deployment Guide, X8 editions (clustered systems: "
                     "CN = the peer's FQDN)")
RFC5280_TIME = "RFC 5280 section 4.1.2.5 (UTCTime up to 2049, GeneralizedTime from 2050)"
RFC5280_ANCHOR = "RFC 5280 section 6.1.1 (the trust anchor is an input to path validation, not a certificate on it)"
RFC5280_REASONS = "RFC 5280 section 5.3.1 (CRL reason codes)"
RFC5280_PATH_VALIDITY = "RFC 5280 section 6.1.3 (a)(2) (every certificate on the path is valid at the time checked)"
RFC5280_SERIAL = "RFC 5280 section 4.1.2.2 (the serial number is a positive integer of at most 20 octets)"
RFC5280_CRITICAL = "RFC 5280 section 4.2 (an unrecognised extension marked critical must make the certificate rejected)"
RFC5280_NEXT_UPDATE = "RFC 5280 section 5.1.2.5 (nextUpdate: the date by which the next CRL is issued)"
RFC2986_SIGNATURE = "RFC 2986 section 3 (a CSR is signed with the private key of the public key it carries)"
RFC5890_A_LABEL = "RFC 5890 section 2.3.2.1 and RFC 5280 section 7.2 (internationalised names go in as A-labels)"
RFC6125_SAN = "RFC 6125 section 6.4.4 (clients check the DNS names in the SANs before any CN)"
RFC6960_NEXT_UPDATE = "RFC 6960 section 4.2.2.1 (nextUpdate is optional in an OCSP response)"
RFC8446_ALERTS = "RFC 8446 section 6.2 (TLS alerts)"
RFC8555_REVOKE = "RFC 8555 section 7.6 (certificate revocation: any RFC 5280 reason; a server may refuse some)"
LE_CLIENT_AUTH = "Let's Encrypt announcement of 2025-05-14 (ending TLS client authentication certificate support)"
LE_LIFETIMES = "Let's Encrypt announcement of 2025-12-02 (decreasing certificate lifetimes to 45 days)"
LE_INTERMEDIATES = "Let's Encrypt announcement of 2024-03-19 (new intermediate certificates, rotating issuance)"
LE_REVOKING = "Let's Encrypt documentation (Revoking Certificates: which reason codes to use)"
OPENSSL_OBJECTS = "OpenSSL's table of object names (an attribute OpenSSL cannot name prints as a number)"
