"""OpenSSL's names for object identifiers and the other tables its text printer uses (``openssl x509 -text``).

The names are OpenSSL 3.0's short and long names (``crypto/objects/objects.txt``); :mod:`labkit.x509.text` prints
with them, so labkit's text matches OpenSSL's byte for byte.
"""

from __future__ import annotations

# Object identifiers: dotted form -> (OpenSSL short name, long name), as in OpenSSL 3.0's objects table.
_OBJECTS: dict[str, tuple[str, str]] = {
    "0.9.2342.19200300.100.1.1": ("UID", "userId"),
    "0.9.2342.19200300.100.1.3": ("mail", "rfc822Mailbox"),
    "0.9.2342.19200300.100.1.25": ("DC", "domainComponent"),
    "1.2.840.10040.2.1": ("holdInstructionNone", "Hold Instruction None"),
    "1.2.840.10040.2.2": ("holdInstructionCallIssuer", "Hold Instruction Call Issuer"),
    "1.2.840.10040.2.3": ("holdInstructionReject", "Hold Instruction Reject"),
    "1.2.840.10040.4.1": ("DSA", "dsaEncryption"),
    "1.2.840.10040.4.3": ("DSA-SHA1", "dsaWithSHA1"),
    "1.2.840.10045.2.1": ("id-ecPublicKey", "id-ecPublicKey"),
    "1.2.840.10045.3.1.1": ("prime192v1", "prime192v1"),
    "1.2.840.10045.3.1.7": ("prime256v1", "prime256v1"),
    "1.2.840.10045.4.1": ("ecdsa-with-SHA1", "ecdsa-with-SHA1"),
    "1.2.840.10045.4.3.1": ("ecdsa-with-SHA224", "ecdsa-with-SHA224"),
    "1.2.840.10045.4.3.2": ("ecdsa-with-SHA256", "ecdsa-with-SHA256"),
    "1.2.840.10045.4.3.3": ("ecdsa-with-SHA384", "ecdsa-with-SHA384"),
    "1.2.840.10045.4.3.4": ("ecdsa-with-SHA512", "ecdsa-with-SHA512"),
    "1.2.840.113549.1.1.1": ("rsaEncryption", "rsaEncryption"),
    "1.2.840.113549.1.1.2": ("RSA-MD2", "md2WithRSAEncryption"),
    "1.2.840.113549.1.1.4": ("RSA-MD5", "md5WithRSAEncryption"),
    "1.2.840.113549.1.1.5": ("RSA-SHA1", "sha1WithRSAEncryption"),
    "1.2.840.113549.1.1.7": ("RSAES-OAEP", "rsaesOaep"),
    "1.2.840.113549.1.1.8": ("MGF1", "mgf1"),
    "1.2.840.113549.1.1.10": ("RSASSA-PSS", "rsassaPss"),
    "1.2.840.113549.1.1.11": ("RSA-SHA256", "sha256WithRSAEncryption"),
    "1.2.840.113549.1.1.12": ("RSA-SHA384", "sha384WithRSAEncryption"),
    "1.2.840.113549.1.1.13": ("RSA-SHA512", "sha512WithRSAEncryption"),
    "1.2.840.113549.1.1.14": ("RSA-SHA224", "sha224WithRSAEncryption"),
    "1.2.840.113549.1.1.15": ("RSA-SHA512/224", "sha512-224WithRSAEncryption"),
    "1.2.840.113549.1.1.16": ("RSA-SHA512/256", "sha512-256WithRSAEncryption"),
    "1.2.840.113549.1.9.1": ("emailAddress", "emailAddress"),
    "1.2.840.113549.1.9.2": ("unstructuredName", "unstructuredName"),
    "1.2.840.113549.1.9.3": ("contentType", "contentType"),
    "1.2.840.113549.1.9.5": ("signingTime", "signingTime"),
    "1.2.840.113549.1.9.7": ("challengePassword", "challengePassword"),
    "1.2.840.113549.1.9.8": ("unstructuredAddress", "unstructuredAddress"),
    "1.2.840.113549.1.9.9": ("extendedCertificateAttributes", "extendedCertificateAttributes"),
    "1.2.840.113549.1.9.14": ("extReq", "Extension Request"),
    "1.2.840.113549.1.9.15": ("SMIME-CAPS", "S/MIME Capabilities"),
    "1.2.840.113549.1.9.20": ("friendlyName", "friendlyName"),
    "1.2.840.113549.1.9.21": ("localKeyID", "localKeyID"),
    "1.2.840.113549.2.5": ("MD5", "md5"),
    "1.3.6.1.4.1.311.2.1.14": ("msExtReq", "Microsoft Extension Request"),
    "1.3.6.1.4.1.311.2.1.21": ("msCodeInd", "Microsoft Individual Code Signing"),
    "1.3.6.1.4.1.311.2.1.22": ("msCodeCom", "Microsoft Commercial Code Signing"),
    "1.3.6.1.4.1.311.10.3.1": ("msCTLSign", "Microsoft Trust List Signing"),
    "1.3.6.1.4.1.311.10.3.3": ("msSGC", "Microsoft Server Gated Crypto"),
    "1.3.6.1.4.1.311.10.3.4": ("msEFS", "Microsoft Encrypted File System"),
    "1.3.6.1.4.1.311.17.1": ("CSPName", "Microsoft CSP Name"),
    "1.3.6.1.4.1.311.17.2": ("LocalKeySet", "Microsoft Local Key set"),
    "1.3.6.1.4.1.311.20.2.2": ("msSmartcardLogin", "Microsoft Smartcard Login"),
    "1.3.6.1.4.1.311.20.2.3": ("msUPN", "Microsoft User Principal Name"),
    "1.3.6.1.4.1.311.60.2.1.1": ("jurisdictionL", "jurisdictionLocalityName"),
    "1.3.6.1.4.1.311.60.2.1.2": ("jurisdictionST", "jurisdictionStateOrProvinceName"),
    "1.3.6.1.4.1.311.60.2.1.3": ("jurisdictionC", "jurisdictionCountryName"),
    "1.3.6.1.4.1.11129.2.4.2": ("ct_precert_scts", "CT Precertificate SCTs"),
    "1.3.6.1.4.1.11129.2.4.3": ("ct_precert_poison", "CT Precertificate Poison"),
    "1.3.6.1.4.1.11129.2.4.4": ("ct_precert_signer", "CT Precertificate Signer"),
    "1.3.6.1.4.1.11129.2.4.5": ("ct_cert_scts", "CT Certificate SCTs"),
    "1.3.6.1.5.2.3.4": ("pkInitClientAuth", "PKINIT Client Auth"),
    "1.3.6.1.5.2.3.5": ("pkInitKDC", "Signing KDC Response"),
    "1.3.6.1.5.5.7.1.1": ("authorityInfoAccess", "Authority Information Access"),
    "1.3.6.1.5.5.7.1.2": ("biometricInfo", "Biometric Info"),
    "1.3.6.1.5.5.7.1.3": ("qcStatements", "qcStatements"),
    "1.3.6.1.5.5.7.1.7": ("sbgp-ipAddrBlock", "sbgp-ipAddrBlock"),
    "1.3.6.1.5.5.7.1.8": ("sbgp-autonomousSysNum", "sbgp-autonomousSysNum"),
    "1.3.6.1.5.5.7.1.11": ("subjectInfoAccess", "Subject Information Access"),
    "1.3.6.1.5.5.7.1.14": ("proxyCertInfo", "Proxy Certificate Information"),
    "1.3.6.1.5.5.7.1.24": ("tlsfeature", "TLS Feature"),
    "1.3.6.1.5.5.7.2.1": ("id-qt-cps", "Policy Qualifier CPS"),
    "1.3.6.1.5.5.7.2.2": ("id-qt-unotice", "Policy Qualifier User Notice"),
    "1.3.6.1.5.5.7.3.1": ("serverAuth", "TLS Web Server Authentication"),
    "1.3.6.1.5.5.7.3.2": ("clientAuth", "TLS Web Client Authentication"),
    "1.3.6.1.5.5.7.3.3": ("codeSigning", "Code Signing"),
    "1.3.6.1.5.5.7.3.4": ("emailProtection", "E-mail Protection"),
    "1.3.6.1.5.5.7.3.5": ("ipsecEndSystem", "IPSec End System"),
    "1.3.6.1.5.5.7.3.6": ("ipsecTunnel", "IPSec Tunnel"),
    "1.3.6.1.5.5.7.3.7": ("ipsecUser", "IPSec User"),
    "1.3.6.1.5.5.7.3.8": ("timeStamping", "Time Stamping"),
    "1.3.6.1.5.5.7.3.9": ("OCSPSigning", "OCSP Signing"),
    "1.3.6.1.5.5.7.3.10": ("DVCS", "dvcs"),
    "1.3.6.1.5.5.7.3.17": ("ipsecIKE", "ipsec Internet Key Exchange"),
    "1.3.6.1.5.5.7.3.18": ("capwapAC", "Ctrl/provision WAP Access"),
    "1.3.6.1.5.5.7.3.19": ("capwapWTP", "Ctrl/Provision WAP Termination"),
    "1.3.6.1.5.5.7.3.21": ("secureShellClient", "SSH Client"),
    "1.3.6.1.5.5.7.3.22": ("secureShellServer", "SSH Server"),
    "1.3.6.1.5.5.7.3.23": ("sendRouter", "Send Router"),
    "1.3.6.1.5.5.7.3.24": ("sendProxiedRouter", "Send Proxied Router"),
    "1.3.6.1.5.5.7.3.25": ("sendOwner", "Send Owner"),
    "1.3.6.1.5.5.7.3.26": ("sendProxiedOwner", "Send Proxied Owner"),
    "1.3.6.1.5.5.7.3.27": ("cmcCA", "CMC Certificate Authority"),
    "1.3.6.1.5.5.7.3.28": ("cmcRA", "CMC Registration Authority"),
    "1.3.6.1.5.5.7.3.29": ("cmcArchive", "CMC Archive Server"),
    "1.3.6.1.5.5.7.3.30": ("id-kp-bgpsec-router", "BGPsec Router"),
    "1.3.6.1.5.5.7.3.31": (
        "id-kp-BrandIndicatorforMessageIdentification",
        "Brand Indicator for Message Identification",
    ),
    "1.3.6.1.5.5.7.3.32": ("cmKGA", "Certificate Management Key Generation Authority"),
    "1.3.6.1.5.5.7.8.1": ("id-on-personalData", "id-on-personalData"),
    "1.3.6.1.5.5.7.8.3": ("id-on-permanentIdentifier", "Permanent Identifier"),
    "1.3.6.1.5.5.7.8.5": ("id-on-xmppAddr", "XmppAddr"),
    "1.3.6.1.5.5.7.8.7": ("id-on-dnsSRV", "SRVName"),
    "1.3.6.1.5.5.7.8.8": ("id-on-NAIRealm", "NAIRealm"),
    "1.3.6.1.5.5.7.8.9": ("id-on-SmtpUTF8Mailbox", "Smtp UTF8 Mailbox"),
    "1.3.6.1.5.5.7.48.1": ("OCSP", "OCSP"),
    "1.3.6.1.5.5.7.48.1.2": ("Nonce", "OCSP Nonce"),
    "1.3.6.1.5.5.7.48.1.5": ("noCheck", "OCSP No Check"),
    "1.3.6.1.5.5.7.48.2": ("caIssuers", "CA Issuers"),
    "1.3.6.1.5.5.7.48.3": ("ad_timestamping", "AD Time Stamping"),
    "1.3.6.1.5.5.7.48.4": ("AD_DVCS", "ad dvcs"),
    "1.3.6.1.5.5.7.48.5": ("caRepository", "CA Repository"),
    "1.3.14.3.2.26": ("SHA1", "sha1"),
    "1.3.14.3.2.29": ("RSA-SHA1-2", "sha1WithRSA"),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", "brainpoolP256r1"),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", "brainpoolP384r1"),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", "brainpoolP512r1"),
    "1.3.101.110": ("X25519", "X25519"),
    "1.3.101.111": ("X448", "X448"),
    "1.3.101.112": ("ED25519", "ED25519"),
    "1.3.101.113": ("ED448", "ED448"),
    "1.3.132.0.10": ("secp256k1", "secp256k1"),
    "1.3.132.0.33": ("secp224r1", "secp224r1"),
    "1.3.132.0.34": ("secp384r1", "secp384r1"),
    "1.3.132.0.35": ("secp521r1", "secp521r1"),
    "2.5.4.3": ("CN", "commonName"),
    "2.5.4.4": ("SN", "surname"),
    "2.5.4.5": ("serialNumber", "serialNumber"),
    "2.5.4.6": ("C", "countryName"),
    "2.5.4.7": ("L", "localityName"),
    "2.5.4.8": ("ST", "stateOrProvinceName"),
    "2.5.4.9": ("street", "streetAddress"),
    "2.5.4.10": ("O", "organizationName"),
    "2.5.4.11": ("OU", "organizationalUnitName"),
    "2.5.4.12": ("title", "title"),
    "2.5.4.13": ("description", "description"),
    "2.5.4.15": ("businessCategory", "businessCategory"),
    "2.5.4.16": ("postalAddress", "postalAddress"),
    "2.5.4.17": ("postalCode", "postalCode"),
    "2.5.4.18": ("postOfficeBox", "postOfficeBox"),
    "2.5.4.19": ("physicalDeliveryOfficeName", "physicalDeliveryOfficeName"),
    "2.5.4.20": ("telephoneNumber", "telephoneNumber"),
    "2.5.4.23": ("facsimileTelephoneNumber", "facsimileTelephoneNumber"),
    "2.5.4.41": ("name", "name"),
    "2.5.4.42": ("GN", "givenName"),
    "2.5.4.43": ("initials", "initials"),
    "2.5.4.44": ("generationQualifier", "generationQualifier"),
    "2.5.4.45": ("x500UniqueIdentifier", "x500UniqueIdentifier"),
    "2.5.4.46": ("dnQualifier", "dnQualifier"),
    "2.5.4.51": ("houseIdentifier", "houseIdentifier"),
    "2.5.4.65": ("pseudonym", "pseudonym"),
    "2.5.4.72": ("role", "role"),
    "2.5.4.97": ("organizationIdentifier", "organizationIdentifier"),
    "2.5.4.100": ("dnsName", "dnsName"),
    "2.5.29.9": ("subjectDirectoryAttributes", "X509v3 Subject Directory Attributes"),
    "2.5.29.14": ("subjectKeyIdentifier", "X509v3 Subject Key Identifier"),
    "2.5.29.15": ("keyUsage", "X509v3 Key Usage"),
    "2.5.29.16": ("privateKeyUsagePeriod", "X509v3 Private Key Usage Period"),
    "2.5.29.17": ("subjectAltName", "X509v3 Subject Alternative Name"),
    "2.5.29.18": ("issuerAltName", "X509v3 Issuer Alternative Name"),
    "2.5.29.19": ("basicConstraints", "X509v3 Basic Constraints"),
    "2.5.29.20": ("crlNumber", "X509v3 CRL Number"),
    "2.5.29.21": ("CRLReason", "X509v3 CRL Reason Code"),
    "2.5.29.23": ("holdInstructionCode", "Hold Instruction Code"),
    "2.5.29.24": ("invalidityDate", "Invalidity Date"),
    "2.5.29.27": ("deltaCRL", "X509v3 Delta CRL Indicator"),
    "2.5.29.28": ("issuingDistributionPoint", "X509v3 Issuing Distribution Point"),
    "2.5.29.29": ("certificateIssuer", "X509v3 Certificate Issuer"),
    "2.5.29.30": ("nameConstraints", "X509v3 Name Constraints"),
    "2.5.29.31": ("crlDistributionPoints", "X509v3 CRL Distribution Points"),
    "2.5.29.32": ("certificatePolicies", "X509v3 Certificate Policies"),
    "2.5.29.32.0": ("anyPolicy", "X509v3 Any Policy"),
    "2.5.29.33": ("policyMappings", "X509v3 Policy Mappings"),
    "2.5.29.35": ("authorityKeyIdentifier", "X509v3 Authority Key Identifier"),
    "2.5.29.36": ("policyConstraints", "X509v3 Policy Constraints"),
    "2.5.29.37": ("extendedKeyUsage", "X509v3 Extended Key Usage"),
    "2.5.29.37.0": ("anyExtendedKeyUsage", "Any Extended Key Usage"),
    "2.5.29.46": ("freshestCRL", "X509v3 Freshest CRL"),
    "2.5.29.54": ("inhibitAnyPolicy", "X509v3 Inhibit Any Policy"),
    "2.16.840.1.101.3.4.2.1": ("SHA256", "sha256"),
    "2.16.840.1.101.3.4.2.2": ("SHA384", "sha384"),
    "2.16.840.1.101.3.4.2.3": ("SHA512", "sha512"),
    "2.16.840.1.101.3.4.2.4": ("SHA224", "sha224"),
    "2.16.840.1.101.3.4.3.1": ("dsa_with_SHA224", "dsa_with_SHA224"),
    "2.16.840.1.101.3.4.3.2": ("dsa_with_SHA256", "dsa_with_SHA256"),
    "2.16.840.1.101.3.4.3.3": ("id-dsa-with-sha384", "dsa_with_SHA384"),
    "2.16.840.1.101.3.4.3.4": ("id-dsa-with-sha512", "dsa_with_SHA512"),
    "2.16.840.1.101.3.4.3.10": ("id-ecdsa-with-sha3-256", "ecdsa_with_SHA3-256"),
    "2.16.840.1.101.3.4.3.11": ("id-ecdsa-with-sha3-384", "ecdsa_with_SHA3-384"),
    "2.16.840.1.101.3.4.3.12": ("id-ecdsa-with-sha3-512", "ecdsa_with_SHA3-512"),
    "2.16.840.1.101.3.4.3.14": ("id-rsassa-pkcs1-v1_5-with-sha3-256", "RSA-SHA3-256"),
    "2.16.840.1.101.3.4.3.15": ("id-rsassa-pkcs1-v1_5-with-sha3-384", "RSA-SHA3-384"),
    "2.16.840.1.101.3.4.3.16": ("id-rsassa-pkcs1-v1_5-with-sha3-512", "RSA-SHA3-512"),
    "2.16.840.1.113730.1.1": ("nsCertType", "Netscape Cert Type"),
    "2.16.840.1.113730.1.2": ("nsBaseUrl", "Netscape Base Url"),
    "2.16.840.1.113730.1.3": ("nsRevocationUrl", "Netscape Revocation Url"),
    "2.16.840.1.113730.1.4": ("nsCaRevocationUrl", "Netscape CA Revocation Url"),
    "2.16.840.1.113730.1.7": ("nsRenewalUrl", "Netscape Renewal Url"),
    "2.16.840.1.113730.1.8": ("nsCaPolicyUrl", "Netscape CA Policy Url"),
    "2.16.840.1.113730.1.12": ("nsSslServerName", "Netscape SSL Server Name"),
    "2.16.840.1.113730.1.13": ("nsComment", "Netscape Comment"),
    "2.16.840.1.113730.4.1": ("nsSGC", "Netscape Server Gated Crypto"),
    "2.23.42.7.0": ("setCext-hashedRoot", "setCext-hashedRoot"),
}


# Named curves: OID -> (order size in bits, NIST name or "").
_CURVES = {
    "1.2.840.10045.3.1.1": (192, "P-192"),
    "1.3.132.0.33": (224, "P-224"),
    "1.2.840.10045.3.1.7": (256, "P-256"),
    "1.3.132.0.34": (384, "P-384"),
    "1.3.132.0.35": (521, "P-521"),
    "1.3.132.0.10": (256, ""),
    "1.3.36.3.3.2.8.1.1.7": (256, ""),
    "1.3.36.3.3.2.8.1.1.11": (384, ""),
    "1.3.36.3.3.2.8.1.1.13": (512, ""),
}


_ECX_KEYS = {"1.3.101.110": "X25519", "1.3.101.111": "X448", "1.3.101.112": "ED25519", "1.3.101.113": "ED448"}


_DSA_SIGNATURES = ("1.2.840.10040.4.3", *(f"2.16.840.1.101.3.4.3.{n}" for n in range(1, 5)))


_PSS_DIGESTS = {
    "1.3.14.3.2.26": "SHA1",
    "2.16.840.1.101.3.4.2.4": "SHA2-224",
    "2.16.840.1.101.3.4.2.1": "SHA2-256",
    "2.16.840.1.101.3.4.2.2": "SHA2-384",
    "2.16.840.1.101.3.4.2.3": "SHA2-512",
    "2.16.840.1.101.3.4.2.5": "SHA2-512/224",
    "2.16.840.1.101.3.4.2.6": "SHA2-512/256",
}


_EXTENSION_REQUESTS = ("1.2.840.113549.1.9.14", "1.3.6.1.4.1.311.2.1.14")


_KEY_USAGES = (
    "Digital Signature",
    "Non Repudiation",
    "Key Encipherment",
    "Data Encipherment",
    "Key Agreement",
    "Certificate Sign",
    "CRL Sign",
    "Encipher Only",
    "Decipher Only",
)


_NETSCAPE_CERT_TYPES = (
    "SSL Client",
    "SSL Server",
    "S/MIME",
    "Object Signing",
    "Unused",
    "SSL CA",
    "S/MIME CA",
    "Object Signing CA",
)


_REASON_FLAGS = (
    "Unused",
    "Key Compromise",
    "CA Compromise",
    "Affiliation Changed",
    "Superseded",
    "Cessation Of Operation",
    "Certificate Hold",
    "Privilege Withdrawn",
    "AA Compromise",
)


_CRL_REASONS = {
    0: "Unspecified",
    1: "Key Compromise",
    2: "CA Compromise",
    3: "Affiliation Changed",
    4: "Superseded",
    5: "Cessation Of Operation",
    6: "Certificate Hold",
    8: "Remove From CRL",
    9: "Privilege Withdrawn",
    10: "AA Compromise",
}


_TLS_FEATURES = {5: "status_request", 17: "status_request_v2"}


_SCT_SIGNATURES = {(4, 1): "sha256WithRSAEncryption", (4, 3): "ecdsa-with-SHA256"}


# Other names that OpenSSL decodes: OID -> (label, DER tag of the string it expects).
_OTHER_NAMES = {
    "1.3.6.1.4.1.311.20.2.3": ("UPN", 0x0C),
    "1.3.6.1.5.5.7.8.9": ("SmtpUTF8Mailbox", 0x0C),
    "1.3.6.1.5.5.7.8.5": ("XmppAddr", 0x0C),
    "1.3.6.1.5.5.7.8.7": ("SRVName", 0x16),
    "1.3.6.1.5.5.7.8.8": ("NAIRealm", 0x0C),
}


# Bytes per character of the string types OpenSSL prints in names (0: UTF-8 bytes passed through).
_CHAR_WIDTHS = {0x0C: 0, 0x12: 1, 0x13: 1, 0x14: 1, 0x16: 1, 0x1C: 4, 0x1E: 2}


_ATTRIBUTE_STRINGS = (0x0C, 0x12, 0x13, 0x14, 0x16)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
