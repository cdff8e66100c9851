"""Every reference to the *Certificate Creation and Use Deployment Guide (X14.0)*, written once.

Errors, doctor findings and exercises say where a rule is explained. They take the reference from here, so one
section is always named the same way, and a section that does not exist cannot be cited: :data:`CONTENTS` is the
guide's table of contents (chapter and appendix titles and their sections, as the X14.0 edition prints them), and
every reference below is checked against it by the tests.

A reference reads ``guide chapter 2 (PKI Introduction)``: the part, then the section. A few add the topic within a
section after a colon (``guide appendix A (Troubleshooting: MRA failures)``).
"""

from __future__ import annotations

__all__ = ["CONTENTS", "ref"]

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
# -- chapters 5-8 ------------------------------------------------------------------------------------------------------
CH5 = ref("chapter 5", "Using ACME on Expressway-E")
CH6 = ref("chapter 6", "View currently uploaded certificate")
CH7 = ref("chapter 7", "Loading Certificates and Keys Onto Expressway")
CH7_TRUSTED = ref("chapter 7", "Managing the Trusted CA Certificate List")
CH7_PEM = CH7 + " and appendix C (Convert DER to PEM)"
CH8 = ref("chapter 8", "Manage Certificate Revocation Lists")
CH8_OCSP = ref("chapter 8", "Online Certificate Status Protocol (OCSP)")
CH8_SIP = ref("chapter 8", "Configure Revocation Checking for SIP TLS Connections")
# -- appendices ------------------------------------------------------------------------------------------------------
APPX_A = ref("appendix A", "Troubleshooting")
APPX_A_ZONES = ref("appendix A", "SIP TLS Negotiation Failures on Neighbor and Traversal Zones")
APPX_A_8192 = ref("appendix A", "Certificates with Key Length of 8192 Bits")
APPX_A_MRA = ref("appendix A", "Troubleshooting: MRA failures")
APPX_A_OID = ref("appendix A", "Issues with SSH Failures and Unsupported OIDs")
APPX_B = ref("appendix B", "Certificate Generation Using OpenSSL Only")
APPX_C = ref("appendix C", "Convert DER to PEM")
APPX_D = ref("appendix D", "Decode Certificates")
APPX_E = ref("appendix E", "Enable AD CS for 'Client and Server'")
# -- the kit's own notebooks -------------------------------------------------------------------------------------
NB00 = "notebook 00-welcome"
NB00_CLOCK = "notebook 00-welcome (the lab clock and fixture keys)"
NB00_LAB = "notebook 00-welcome (how the lab works)"
