"""What the CA changed: a certificate compared with the CSR it was issued for (``labkit doctor CERT --csr REQ``).

A CA does not have to issue what a request asks for: it applies its own profile. Public CAs now drop the
clientAuth purpose from server certificates, some rewrite or drop subject attributes, some add or leave out names.
:func:`compare` lists each change as a :class:`~labkit.expressway.findings.Finding` with its rule id:

=====================  ========  ==============================================================================
rule                   severity  fires when
=====================  ========  ==============================================================================
csr-key-mismatch       error     the certificate carries another public key than the CSR: it is not for this
                                 request (and not for the key kept with it)
csr-san-dropped        error     a subject alternative name of the request is not in the certificate
csr-san-added          info      the certificate has a subject alternative name the request did not ask for
csr-eku-dropped        error     a purpose (EKU) of the request is not in the certificate's EKU extension
csr-subject-rewritten  warning   the common name was changed, dropped or added; info when only other subject
                                 attributes were (O, OU, L, ST: public CAs often drop them). The order alone is
                                 not a change: ``openssl ca`` writes the attributes in its policy's order
=====================  ========  ==============================================================================

The server certificate page (:meth:`labkit.expressway.server_certificate.ServerCertificateSlot.upload`) reports
the same findings when it installs a certificate for a pending CSR.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import guide
from labkit.errors import InputError
from labkit.expressway.findings import Finding
from labkit.x509.text import name_entries, name_line, oid_short_name

__all__ = ["compare"]

_CLIENT_AUTH_SUNSET = f"{guide.APPX_E}; Cisco Field Notice FN74362 (public CAs dropping clientAuth)"

_EKU_NAMES = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth (TLS Web Server Authentication)",
              ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth (TLS Web Client Authentication)"}


def _load(obj, kind: str):
    wanted = x509.Certificate if kind == "certificate" else x509.CertificateSigningRequest
    if isinstance(obj, x509.Certificate | x509.CertificateSigningRequest):
        what = "a certificate" if isinstance(obj, x509.Certificate) else "a CSR"
    else:
        from labkit.x509.loading import load

        item = load(obj)
        obj, what = item.obj, item.description
    if not isinstance(obj, wanted):
        expected = "a certificate" if kind == "certificate" else "a CSR"
        raise InputError(f"--csr compares a certificate with a CSR: expected {expected} here, got {what}",
                         rule=f"compare-{kind}", value=what, chapter=guide.CH3)
    return obj


def _extension(obj, cls):
    try:
        return obj.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _name_text(name: x509.GeneralName) -> str:
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.OtherName):
        return f"othername:{oid_short_name(name.type_id.dotted_string)}"
    return str(name.value)


def _names(obj) -> dict[str, str]:
    """Subject alternative names keyed for comparison (DNS names without case or trailing dot)."""
    sans = _extension(obj, x509.SubjectAlternativeName)
    out: dict[str, str] = {}
    for name in sans or ():
        text = _name_text(name)
        key = text.lower().rstrip(".") if isinstance(name, x509.DNSName) else text
        if isinstance(name, x509.OtherName):
            key = f"{text}:{name.value.hex()}"
        out.setdefault(key, text)
    return out


def _eku_name(oid: x509.ObjectIdentifier) -> str:
    return _EKU_NAMES.get(oid, oid_short_name(oid.dotted_string))


def compare(cert, csr, *, accepted_drops: tuple[x509.ObjectIdentifier, ...] = ()) -> list[Finding]:
    """The changes between ``csr`` (what was asked) and ``cert`` (what the CA issued), each an object, PEM or DER.

    ``accepted_drops``: purposes (EKU OIDs) whose loss the caller has already judged, as the server certificate page
    of X15.5 does for clientAuth (it takes a serverAuth-only certificate and says so): no ``csr-eku-dropped`` for them.

    Rules: see the module's table. Raises :class:`~labkit.errors.InputError` when ``cert`` is not a certificate or
    ``csr`` not a CSR.
    """
    cert = _load(cert, "certificate")
    csr = _load(csr, "csr")
    findings: list[Finding] = []
    if cert.public_key() != csr.public_key():
        findings.append(Finding("csr-key-mismatch", "error", "the certificate carries another public key than the "
                                "CSR: it was not issued for this request, and the private key kept with the CSR "
                                "will not work with it", guide.CH7))
    asked, got = _names(csr), _names(cert)
    for key, text in asked.items():
        if key not in got:
            findings.append(Finding("csr-san-dropped", "error", f"the CA dropped the subject alternative name "
                                    f"{text} that the CSR asked for: peers that reach this Expressway by that name "
                                    "will refuse it; ask the CA to keep it, or use another CA", guide.CH4))
    for key, text in got.items():
        if key not in asked:
            findings.append(Finding("csr-san-added", "info", f"the CA added the subject alternative name {text}, "
                                    "which the CSR did not ask for", guide.CH4))
    wanted, issued = _extension(csr, x509.ExtendedKeyUsage), _extension(cert, x509.ExtendedKeyUsage)
    if wanted is not None and issued is not None:
        for oid in wanted:
            if oid not in issued and oid not in accepted_drops:
                source = _CLIENT_AUTH_SUNSET if oid == ExtendedKeyUsageOID.CLIENT_AUTH else guide.CH3
                extra = (": public CAs stopped issuing clientAuth in server certificates (2025-2026); mutual-TLS "
                         "zones need a certificate with it (a private CA, or X15.5's separate client certificate)"
                         if oid == ExtendedKeyUsageOID.CLIENT_AUTH else "")
                findings.append(Finding("csr-eku-dropped", "error", f"the CA dropped the purpose {_eku_name(oid)} "
                                        f"that the CSR asked for{extra}", source))
    findings += _subject_changes(csr, cert)
    return findings


def _subject_changes(csr, cert) -> list[Finding]:
    def grouped(obj) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for dotted, value in name_entries(obj):
            out.setdefault(dotted, []).append(value)
        return out

    asked, got = grouped(csr), grouped(cert)
    changes = []
    for dotted in dict.fromkeys([*asked, *got]):
        before, after = sorted(asked.get(dotted, [])), sorted(got.get(dotted, []))
        if before == after:
            continue
        label = oid_short_name(dotted)
        if not after:
            changes.append(f"{label} '{', '.join(before)}' dropped")
        elif not before:
            changes.append(f"{label} '{', '.join(after)}' added")
        else:
            changes.append(f"{label} '{', '.join(before)}' became '{', '.join(after)}'")
    if not changes:
        return []
    cn = NameOID.COMMON_NAME.dotted_string
    severity = "warning" if sorted(asked.get(cn, [])) != sorted(got.get(cn, [])) else "info"
    advice = ("the common name must still be the FQDN the Expressway needs" if severity == "warning" else
              "the common name is as requested, and TLS peers do not look at the other attributes")
    return [Finding("csr-subject-rewritten", severity, f"the CA rewrote the subject ({'; '.join(changes)}): the "
                    f"certificate says '{name_line(cert)}'; {advice}", guide.CH3)]
