"""labkit.x509.text must print exactly what ``openssl x509|req|crl -text -noout`` prints.

Each case builds a certificate, CSR or CRL (with the ``openssl`` command, with cryptography's builders, or by
hand in DER for shapes neither can make), feeds the PEM to ``openssl ... -text -noout`` and compares the whole
text with what labkit renders.
"""

from __future__ import annotations

import base64
import datetime
import difflib
import ipaddress
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x448, x25519
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from labkit.x509.text import certificate_text, crl_text, csr_text

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not on PATH")

START = datetime.datetime(2026, 1, 5, 9, 0, 0, tzinfo=datetime.timezone.utc)
END = datetime.datetime(2027, 1, 5, 9, 0, 0, tzinfo=datetime.timezone.utc)
MINIMAL_CONFIG = "[req]\ndistinguished_name = dn\n[dn]\n"
RENDERERS = {
    "x509": (x509.load_pem_x509_certificate, certificate_text),
    "req": (x509.load_pem_x509_csr, csr_text),
    "crl": (x509.load_pem_x509_crl, crl_text),
}


# ------------------------------------------------------------------------------------------------- fixtures


@dataclass
class Keys:
    """Keys made once per session, with their PEM files for the openssl command."""

    folder: Path
    rsa: rsa.RSAPrivateKey
    rsa4096: rsa.RSAPrivateKey
    ec256: ec.EllipticCurvePrivateKey
    ec384: ec.EllipticCurvePrivateKey
    ed25519: ed25519.Ed25519PrivateKey
    ed448: ed448.Ed448PrivateKey

    def path(self, name: str) -> str:
        return str(self.folder / f"{name}.key.pem")


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("keys")
    made = Keys(
        folder=folder,
        rsa=rsa.generate_private_key(65537, 2048),
        rsa4096=rsa.generate_private_key(65537, 4096),
        ec256=ec.generate_private_key(ec.SECP256R1()),
        ec384=ec.generate_private_key(ec.SECP384R1()),
        ed25519=ed25519.Ed25519PrivateKey.generate(),
        ed448=ed448.Ed448PrivateKey.generate(),
    )
    for name in ("rsa", "rsa4096", "ec256", "ec384", "ed25519", "ed448"):
        pem = getattr(made, name).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        Path(made.path(name)).write_bytes(pem)
    (folder / "openssl.cnf").write_text(MINIMAL_CONFIG)
    return made


# ------------------------------------------------------------------------------------------------- helpers


def openssl(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> bytes:
    done = subprocess.run([OPENSSL, *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def self_signed(keys: Keys, key: str, *args: str) -> bytes:
    """``openssl req -x509`` with a fixed key, printing the certificate PEM."""
    config = str(keys.folder / "openssl.cnf")
    return openssl("req", "-x509", "-key", keys.path(key), "-config", config, "-days", "30", *args)


def build_cert(
    key,
    subject: x509.Name | None = None,
    *extensions: x509.ExtensionType | tuple[x509.ExtensionType, bool],
    issuer_key=None,
    serial: int = 4096,
    start: datetime.datetime = START,
    end: datetime.datetime = END,
    digest: hashes.HashAlgorithm | None = None,
    rsa_padding=None,
) -> bytes:
    """A certificate from cryptography's builder; ``issuer_key`` signs it (default: ``key`` itself)."""
    subject = subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "labkit")])
    signer = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for extension in extensions:
        value, critical = extension if isinstance(extension, tuple) else (extension, False)
        builder = builder.add_extension(value, critical)
    if isinstance(signer, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        digest = None
    elif digest is None:
        digest = hashes.SHA256()
    cert = builder.sign(signer, digest, rsa_padding=rsa_padding)
    return cert.public_bytes(serialization.Encoding.PEM)


def raw_extension(oid: str, der_value: bytes, critical: bool = False) -> tuple[x509.ExtensionType, bool]:
    return x509.UnrecognizedExtension(ObjectIdentifier(oid), der_value), critical


def name(*attributes: tuple[ObjectIdentifier | str, str] | tuple[ObjectIdentifier | str, str, _ASN1Type]):
    def attribute(oid, value, *kind):
        oid = ObjectIdentifier(oid) if isinstance(oid, str) else oid
        return x509.NameAttribute(oid, value, *kind)

    return x509.Name([attribute(*item) for item in attributes])


def pem(label: str, der_bytes: bytes) -> bytes:
    body = base64.b64encode(der_bytes).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n".encode()


# DER pieces for hand-made documents.


def der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def seq(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def integer(value: int) -> bytes:
    return der(0x02, value.to_bytes((value + (value < 0)).bit_length() // 8 + 1, "big", signed=True))


def oid(dotted: str) -> bytes:
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = b""
    for arc in (40 * first + second, *rest):
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, 0x80 | (arc & 0x7F))
        body += bytes(chunk)
    return der(0x06, body)


def utf8(text: str) -> bytes:
    return der(0x0C, text.encode())


def ia5(text: str) -> bytes:
    return der(0x16, text.encode())


ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))


def signed(key: ec.EllipticCurvePrivateKey, body: bytes) -> bytes:
    return seq(body, ECDSA_SHA256, der(0x03, b"\0" + key.sign(body, ec.ECDSA(hashes.SHA256()))))


def der_name(*pairs: tuple[str, bytes]) -> bytes:
    return seq(*(der(0x31, seq(oid(kind), value)) for kind, value in pairs))


def handmade_cert(
    keys: Keys,
    *,
    version: bytes = der(0xA0, integer(2)),
    serial: int = 4096,
    subject: bytes | None = None,
    spki: bytes | None = None,
    tail: bytes = b"",
) -> bytes:
    """A certificate assembled field by field, for shapes the builders refuse, signed by the P-256 key."""
    subject = subject or der_name(("2.5.4.3", utf8("handmade")))
    validity = seq(der(0x17, b"260105090000Z"), der(0x17, b"270105090000Z"))
    spki = spki or keys.ec256.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = seq(version, integer(serial), ECDSA_SHA256, subject, validity, subject, spki, tail)
    return pem("CERTIFICATE", signed(keys.ec256, body))


def extensions_field(*extensions: bytes) -> bytes:
    return der(0xA3, seq(*extensions))


def extension(dotted: str, value: bytes, critical: bool = False) -> bytes:
    return seq(oid(dotted), der(0x01, b"\xff") if critical else b"", der(0x04, value))


# ------------------------------------------------------------------------------------------------- cases

Case = Callable[[Keys, Path], tuple[str, bytes]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = function
        return function

    return register


# Certificates made by the openssl command.

CLI_SUBJECT = "/C=GB/ST=Lab/O=Acme, Inc./CN=x/emailAddress=a@b.c/1.3.6.1.4.1.311.60.2.1.3=US/serialNumber=123"
CLI_EXTENSIONS = (
    "subjectAltName=DNS:a.example,IP:10.0.0.1,IP:2001:db8::1,email:x@y.z,URI:http://u/,RID:1.2.3.4,"
    "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:me@x",
    "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement,"
    "keyCertSign,cRLSign,encipherOnly,decipherOnly",
    "extendedKeyUsage=serverAuth,clientAuth,OCSPSigning,1.2.3.4.5,codeSigning,emailProtection,timeStamping,"
    "msSmartcardLogin",
    "crlDistributionPoints=URI:http://crl.example/x.crl",
    "authorityInfoAccess=OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/ca.crt",
    "nsComment=Hello there",
    "1.2.3.4.5.6=ASN1:UTF8String:custom value",
    "basicConstraints=critical,CA:TRUE,pathlen:3",
    "certificatePolicies=2.23.140.1.2.1,1.2.3.4",
    "nameConstraints=permitted;DNS:.example.com,excluded;IP:192.168.0.0/255.255.0.0",
)


def addext(*values: str) -> list[str]:
    return [arg for value in values for arg in ("-addext", value)]


@case("cli-rsa2048-sha256-many-extensions")
def _cli_rsa(keys, tmp):
    return "x509", self_signed(keys, "rsa", "-sha256", "-subj", CLI_SUBJECT, *addext(*CLI_EXTENSIONS))


def _cli_digest(digest: str) -> Case:
    return lambda keys, tmp: ("x509", self_signed(keys, "rsa", f"-{digest}", "-subj", f"/CN={digest}"))


CASES.update({f"cli-rsa2048-{digest}": _cli_digest(digest) for digest in ("sha1", "sha384", "sha512")})


@case("cli-rsa4096")
def _cli_rsa4096(keys, tmp):
    return "x509", self_signed(keys, "rsa4096", "-subj", "/O=Big Key/CN=rsa4096")


@case("cli-ec-p256-sha256")
def _cli_ec256(keys, tmp):
    return "x509", self_signed(keys, "ec256", "-sha256", "-subj", "/CN=p256", *addext(*CLI_EXTENSIONS[:3]))


@case("cli-ec-p384-sha384")
def _cli_ec384(keys, tmp):
    return "x509", self_signed(keys, "ec384", "-sha384", "-subj", "/CN=p384")


@case("cli-ed25519")
def _cli_ed25519(keys, tmp):
    return "x509", self_signed(keys, "ed25519", "-subj", "/CN=ed25519")


@case("cli-ed448")
def _cli_ed448(keys, tmp):
    return "x509", self_signed(keys, "ed448", "-subj", "/CN=ed448")


@case("cli-rsa-pss-signature")
def _cli_pss(keys, tmp):
    options = ("rsa_padding_mode:pss", "rsa_pss_saltlen:32", "rsa_mgf1_md:sha256")
    sigopts = [arg for option in options for arg in ("-sigopt", option)]
    return "x509", self_signed(keys, "rsa", "-sha384", *sigopts, "-subj", "/CN=pss")


@case("cli-rsa-pss-signature-all-defaults")
def _cli_pss_defaults(keys, tmp):
    sigopts = ("-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20")
    return "x509", self_signed(keys, "rsa", "-sha1", *sigopts, "-subj", "/CN=pss defaults")


def _cli_pss_key(*options: str) -> Case:
    def make(keys, tmp):
        key = tmp / "pss.key"
        pkeyopts = [arg for option in ("rsa_keygen_bits:1024", *options) for arg in ("-pkeyopt", option)]
        openssl("genpkey", "-algorithm", "RSA-PSS", *pkeyopts, "-out", str(key))
        config = str(keys.folder / "openssl.cnf")
        return "x509", openssl(
            "req", "-x509", "-key", str(key), "-config", config, "-subj", "/CN=pss", "-days", "1"
        )

    return make


CASES["cli-rsa-pss-key-unrestricted"] = _cli_pss_key()
CASES["cli-rsa-pss-key-restricted"] = _cli_pss_key("rsa_pss_keygen_md:sha256", "rsa_pss_keygen_saltlen:20")


EXTENSION_CONFIG = """
[req]
distinguished_name = dn
x509_extensions = v3
prompt = no
[dn]
CN = ext test
[v3]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer:always
subjectAltName = DNS:*.example.com, dirName:ncdn, otherName:1.3.6.1.5.5.7.8.7;IA5:_sip._tcp.example
issuerAltName = email:ca@x.y,URI:http://ian/
crlDistributionPoints = dp1,dp2
certificatePolicies = 1.2.3.4, @pol1, 2.5.29.32.0
policyConstraints = requireExplicitPolicy:3,inhibitPolicyMapping:1
inhibitAnyPolicy = 2
policyMappings = 1.2.3.4:1.2.3.5, 1.2.840.113549.1.1.1:2.5.29.32.0
tlsfeature = status_request, status_request_v2, 7
noCheck = ignored
nsCertType = client, server, email, objsign, sslCA, emailCA, objCA
subjectInfoAccess = caRepository;URI:http://repo/,1.2.3.4;email:x@y
nameConstraints = permitted;email:.x.com,permitted;URI:.u.com,permitted;dirName:ncdn,\
excluded;IP:2001:db8::/ffff:ffff::,excluded;otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@x,excluded;RID:1.2.3
authorityInfoAccess = OCSP;URI:http://ocsp/,caIssuers;dirName:ncdn, 1.3.6.1.5.5.7.48.5;URI:http://r/
[dp1]
fullname = URI:http://crl1/a.crl, URI:ldap://crl1/cn=x
reasons = keyCompromise, CACompromise, superseded
CRLissuer = dirName:ncdn
[dp2]
relativename = dprdn
[dprdn]
CN = My DP
+O = x+y
[pol1]
policyIdentifier = 1.3.6.1.4.1.99.1
CPS.1 = http://cps/
CPS.2 = http://cps2/
userNotice.1 = @notice
[notice]
explicitText = Explicit notice text
organization = Org Name
noticeNumbers = 1, 2, 3
[ncdn]
CN = NC Dir
O = Comma, Org
"""


@case("cli-config-policies-distribution-points-constraints")
def _cli_config(keys, tmp):
    config = tmp / "ext.cnf"
    config.write_text(EXTENSION_CONFIG)
    return "x509", openssl("req", "-x509", "-key", keys.path("ec256"), "-config", str(config), "-days", "1")


def _ca_signed(keys, tmp, *args: str) -> bytes:
    config = str(keys.folder / "openssl.cnf")
    ca = tmp / "ca.pem"
    ca.write_bytes(
        self_signed(keys, "ec384", "-subj", "/O=Lab/CN=Lab CA", *addext("subjectKeyIdentifier=hash"))
    )
    request = openssl("req", "-new", "-key", keys.path("rsa"), "-config", config, "-subj", "/CN=leaf.example")
    extensions = tmp / "leaf.ext"
    extensions.write_text("authorityKeyIdentifier = keyid,issuer:always\nsubjectKeyIdentifier = hash\n")
    return openssl(
        "x509", "-req", "-CA", str(ca), "-CAkey", keys.path("ec384"), "-days", "30",
        "-extfile", str(extensions), *args, stdin=request,
    )  # fmt: skip


@case("cli-ca-signed-serial-0x1000")
def _cli_ca_signed(keys, tmp):
    return "x509", _ca_signed(keys, tmp, "-set_serial", "0x1000")


@case("cli-ca-signed-serial-0")
def _cli_serial_zero(keys, tmp):
    return "x509", _ca_signed(keys, tmp, "-set_serial", "0")


@case("cli-ca-signed-long-serial")
def _cli_long_serial(keys, tmp):
    return "x509", _ca_signed(keys, tmp, "-set_serial", "0x00ff112233445566778899aabbccddeeff00112233")


# Names.


@case("name-escaping-and-quoting")
def _name_escaping(keys, tmp):
    subject = name(
        (NameOID.ORGANIZATION_NAME, 'ab\\c"d+e,f;g<h>i=j#k/l'),
        (NameOID.LOCALITY_NAME, " lead"),
        (NameOID.LOCALITY_NAME, "trail "),
        (NameOID.LOCALITY_NAME, "#hash"),
        (NameOID.LOCALITY_NAME, "#"),
        (NameOID.LOCALITY_NAME, " "),
        (NameOID.LOCALITY_NAME, "in # side"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "a\x01b\x7fc\x00d\te\nf"),
        (ObjectIdentifier("2.5.4.13"), "".join(chr(c) for c in range(32, 127))),
    )
    return "x509", build_cert(keys.ec256, subject, x509.SubjectAlternativeName([x509.DirectoryName(subject)]))


@case("name-utf8-and-string-types")
def _name_string_types(keys, tmp):
    subject = name(
        (NameOID.COMMON_NAME, "é ü 日本 😀"),
        (NameOID.COMMON_NAME, "bmp é 日", _ASN1Type.BMPString),
        (NameOID.COMMON_NAME, "univ é 😀", _ASN1Type.UniversalString),
        (NameOID.COMMON_NAME, "t61 é", _ASN1Type.T61String),
        (NameOID.SERIAL_NUMBER, "12345", _ASN1Type.NumericString),
        (NameOID.EMAIL_ADDRESS, "ia5@example.com", _ASN1Type.IA5String),
    )
    return "x509", build_cert(keys.ec256, subject, x509.SubjectAlternativeName([x509.DirectoryName(subject)]))


@case("name-multi-valued-rdns")
def _name_multi_valued(keys, tmp):
    subject = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.COMMON_NAME, "a"), x509.NameAttribute(NameOID.USER_ID, "b+c")]
            ),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org/Unit")]),
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(ObjectIdentifier("1.2.3.4"), "x"),
                    x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "y"),
                ]
            ),
        ]
    )
    return "x509", build_cert(keys.ec256, subject, x509.SubjectAlternativeName([x509.DirectoryName(subject)]))


@case("name-unusual-attributes")
def _name_attributes(keys, tmp):
    subject = name(
        (NameOID.JURISDICTION_COUNTRY_NAME, "US"),
        (NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME, "Delaware"),
        (NameOID.JURISDICTION_LOCALITY_NAME, "Dover"),
        (NameOID.BUSINESS_CATEGORY, "Private Organization"),
        (NameOID.SERIAL_NUMBER, "5157550"),
        (NameOID.STREET_ADDRESS, "1 Main St"),
        (NameOID.POSTAL_CODE, "12345"),
        (NameOID.ORGANIZATION_IDENTIFIER, "VATGB-123"),
        (NameOID.GIVEN_NAME, "Ada"),
        (NameOID.SURNAME, "Lovelace"),
        (NameOID.TITLE, "Dr"),
        (NameOID.PSEUDONYM, "ada"),
        (NameOID.DN_QUALIFIER, "q"),
        (NameOID.EMAIL_ADDRESS, "ada@example.com"),
        (NameOID.X500_UNIQUE_IDENTIFIER, b"\x01\x02", _ASN1Type.BitString),
        ("1.3.6.1.4.1.99999.1", "private attribute"),
    )
    return "x509", build_cert(keys.ec256, subject, x509.SubjectAlternativeName([x509.DirectoryName(subject)]))


@case("name-empty")
def _name_empty(keys, tmp):
    return "x509", build_cert(keys.ec256, x509.Name([]))


@case("name-other-value-types-handmade")
def _name_value_types(keys, tmp):
    subject = der_name(
        ("2.5.4.10", seq(integer(5))),
        ("2.5.4.11", der(0x03, b"\x00\x01")),
        ("2.5.4.7", der(0x1C, "é".encode("utf-32-be"))),
    )
    san = der(0xA4, subject)
    return "x509", handmade_cert(
        keys, subject=subject, tail=extensions_field(extension("2.5.29.17", seq(san)))
    )


@case("san-long-directory-name-is-cut")
def _san_long_dirname(keys, tmp):
    long_name = name(*[(NameOID.ORGANIZATIONAL_UNIT_NAME, f"unit number {i} " + "x" * 20) for i in range(12)])
    return "x509", build_cert(keys.ec256, None, x509.SubjectAlternativeName([x509.DirectoryName(long_name)]))


# Serial numbers, dates and keys.


def _serial_case(serial: int) -> Case:
    return lambda keys, tmp: ("x509", build_cert(keys.ec256, serial=serial))


CASES.update(
    {f"serial-{label}": _serial_case(n) for label, n in [("1", 1), ("2^63-1", 2**63 - 1), ("2^63", 2**63)]}
)
CASES["serial-20-bytes"] = _serial_case(2**159 - 12345)


def _handmade_serial(serial: int) -> Case:
    return lambda keys, tmp: ("x509", handmade_cert(keys, serial=serial))


CASES.update({f"serial-handmade-{n}": _handmade_serial(n) for n in (0, -1, -5, -(2**63), -(2**70))})


def _validity_case(start: datetime.datetime, end: datetime.datetime) -> Case:
    return lambda keys, tmp: ("x509", build_cert(keys.ec256, start=start, end=end))


def _utc(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=datetime.timezone.utc)


CASES["dates-utctime-1950-to-2049"] = _validity_case(_utc(1950, 1, 1), _utc(2049, 12, 31, 23, 59, 59))
CASES["dates-generalizedtime-2050-to-9999"] = _validity_case(_utc(2050, 1, 1), _utc(9999, 12, 31, 23, 59, 59))


@case("version-1-handmade")
def _version_1(keys, tmp):
    return "x509", handmade_cert(keys, version=b"")


@case("unique-ids-handmade")
def _unique_ids(keys, tmp):
    return "x509", handmade_cert(keys, tail=der(0x81, b"\x00" + bytes(range(20))) + der(0x82, b"\x04\xf0"))


def _subject_key_case(make_key: Callable[[], object]) -> Case:
    return lambda keys, tmp: ("x509", build_cert(make_key(), issuer_key=keys.ec256))


CASES.update(
    {
        f"key-ec-{curve.name}": _subject_key_case(lambda curve=curve: ec.generate_private_key(curve))
        for curve in (ec.SECP224R1(), ec.SECP521R1(), ec.SECP256K1(), ec.BrainpoolP256R1())
    }
)
CASES["key-x25519"] = _subject_key_case(x25519.X25519PrivateKey.generate)
CASES["key-x448"] = _subject_key_case(x448.X448PrivateKey.generate)
CASES["key-dsa-2048"] = lambda keys, tmp: ("x509", build_cert(dsa.generate_private_key(2048)))
CASES["key-rsa-1025-bits-exponent-3"] = _subject_key_case(lambda: rsa.generate_private_key(3, 1025))


@case("key-ec-compressed-point-handmade")
def _compressed_point(keys, tmp):
    point = keys.ec256.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    spki = seq(seq(oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7")), der(0x03, b"\0" + point))
    return "x509", handmade_cert(keys, spki=spki)


# Signature algorithms.


def _signature_case(key: str, digest: hashes.HashAlgorithm, rsa_padding=None) -> Case:
    return lambda keys, tmp: ("x509", build_cert(getattr(keys, key), digest=digest, rsa_padding=rsa_padding))


CASES.update(
    {
        "sig-sha224-rsa": _signature_case("rsa", hashes.SHA224()),
        "sig-sha3-256-rsa": _signature_case("rsa", hashes.SHA3_256()),
        "sig-ecdsa-sha512": _signature_case("ec384", hashes.SHA512()),
        "sig-pss-sha256-salt-32": _signature_case(
            "rsa", hashes.SHA256(), padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        ),
        "sig-pss-sha512-digest-length-salt": _signature_case(
            "rsa", hashes.SHA512(), padding.PSS(padding.MGF1(hashes.SHA512()), padding.PSS.DIGEST_LENGTH)
        ),
    }
)


# Extensions.

DIR_NAME = name(
    (NameOID.COUNTRY_NAME, "GB"), (NameOID.ORGANIZATION_NAME, "Acme, Inc."), (NameOID.COMMON_NAME, "CA")
)
UPN = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


@case("ext-subject-alternative-names")
def _ext_san(keys, tmp):
    names = [
        x509.DNSName("www.example.com"),
        x509.DNSName("*.example.com"),
        x509.IPAddress(ipaddress.ip_address("192.0.2.7")),
        x509.IPAddress(ipaddress.ip_address("2001:db8::8:800:200c:417a")),
        x509.RFC822Name("user@example.com"),
        x509.UniformResourceIdentifier("sip:user@example.com"),
        x509.DirectoryName(DIR_NAME),
        x509.RegisteredID(ObjectIdentifier("1.2.3.4")),
        x509.RegisteredID(ExtendedKeyUsageOID.SERVER_AUTH),
        x509.OtherName(UPN, utf8("user@corp.example")),
        x509.OtherName(ObjectIdentifier("1.3.6.1.5.5.7.8.9"), utf8("smtp@example")),
        x509.OtherName(ObjectIdentifier("1.3.6.1.5.5.7.8.7"), ia5("_sip._tcp.example")),
        x509.OtherName(ObjectIdentifier("1.2.3.5"), ia5("ia5 other")),
        x509.OtherName(ObjectIdentifier("1.3.6.1.5.5.7.8.3"), seq(oid("1.2.3"))),
    ]
    return "x509", build_cert(
        keys.ec256, None, x509.SubjectAlternativeName(names), x509.IssuerAlternativeName(names[:3])
    )


@case("ext-san-other-name-of-wrong-type-prints-raw")
def _ext_san_raw(keys, tmp):
    names = [x509.DNSName("a.example"), x509.OtherName(UPN, ia5("upn in ia5"))]
    return "x509", build_cert(keys.ec256, None, x509.SubjectAlternativeName(names))


@case("ext-odd-general-names-handmade")
def _ext_odd_names(keys, tmp):
    names = (
        der(0x82, b""),
        der(0x81, b"a\x00b"),
        der(0x87, b"\x01\x02\x03\x04\x05"),
        der(0xA3, seq()),
        der(0xA5, der(0xA0, utf8("assigner")) + der(0xA1, utf8("party"))),
        der(0xA0, oid("1.3.6.1.4.1.311.20.2.3") + der(0xA0, utf8(""))),
    )
    alternative_names = extension("2.5.29.17", seq(*names[:1], *names[2:]))
    constraints = extension("2.5.29.30", seq(der(0xA0, b"".join(seq(n) for n in names))))
    empty = extension("2.5.29.18", seq())
    return "x509", handmade_cert(keys, tail=extensions_field(alternative_names, constraints, empty))


@case("ext-key-identifiers-constraints-usages")
def _ext_basic(keys, tmp):
    ski = x509.SubjectKeyIdentifier.from_public_key(keys.ec256.public_key())
    aki = x509.AuthorityKeyIdentifier(ski.digest, [x509.DirectoryName(DIR_NAME)], 2**70 + 5)
    usage = x509.KeyUsage(True, True, True, True, True, True, True, False, True)
    purposes = x509.ExtendedKeyUsage(
        [
            ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.CLIENT_AUTH,
            ExtendedKeyUsageOID.OCSP_SIGNING,
            ExtendedKeyUsageOID.IPSEC_IKE,
            ExtendedKeyUsageOID.SMARTCARD_LOGON,
            ExtendedKeyUsageOID.KERBEROS_PKINIT_KDC,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
            ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),
        ]
    )
    return "x509", build_cert(
        keys.ec256, None, ski, aki, (x509.BasicConstraints(True, 0), True), (usage, True), purposes
    )


@case("ext-ca-false-and-keyid-only")
def _ext_ca_false(keys, tmp):
    aki = x509.AuthorityKeyIdentifier(b"\x01\x02\x03", None, None)
    usage = x509.KeyUsage(False, False, False, False, True, False, False, True, False)
    return "x509", build_cert(keys.ec256, None, x509.BasicConstraints(False, None), aki, usage)


@case("ext-distribution-points-and-info-access")
def _ext_points(keys, tmp):
    crl_uri = x509.UniformResourceIdentifier("http://crl.example/ca.crl")
    points = [
        x509.DistributionPoint([crl_uri], None, None, None),
        x509.DistributionPoint(
            [crl_uri, x509.DirectoryName(DIR_NAME)],
            None,
            frozenset([x509.ReasonFlags.key_compromise, x509.ReasonFlags.aa_compromise]),
            [x509.DirectoryName(DIR_NAME)],
        ),
        x509.DistributionPoint(
            None,
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "CRL 1")]),
            None,
            None,
        ),
        x509.DistributionPoint(None, None, None, [x509.DNSName("issuer.example")]),
    ]
    access = [
        x509.AccessDescription(
            x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://o/")
        ),
        x509.AccessDescription(x509.AuthorityInformationAccessOID.CA_ISSUERS, x509.DirectoryName(DIR_NAME)),
        x509.AccessDescription(ObjectIdentifier("1.2.3.4"), x509.RFC822Name("x@example.com")),
    ]
    repository = x509.AccessDescription(
        x509.oid.SubjectInformationAccessOID.CA_REPOSITORY, x509.UniformResourceIdentifier("rsync://repo/")
    )
    return "x509", build_cert(
        keys.ec256,
        None,
        x509.CRLDistributionPoints(points),
        x509.FreshestCRL(points[:1]),
        x509.AuthorityInformationAccess(access),
        x509.SubjectInformationAccess([repository]),
    )


@case("ext-certificate-policies")
def _ext_policies(keys, tmp):
    policies = x509.CertificatePolicies(
        [
            x509.PolicyInformation(ObjectIdentifier("2.23.140.1.2.2"), None),
            x509.PolicyInformation(
                ObjectIdentifier("1.3.6.1.4.1.99.1"),
                [
                    "https://cps.example/",
                    x509.UserNotice(x509.NoticeReference("Org", [1, 2, 2**130]), "Explicit"),
                    x509.UserNotice(x509.NoticeReference("Single", [7]), None),
                    x509.UserNotice(None, "Only text"),
                ],
            ),
            x509.PolicyInformation(x509.CertificatePoliciesOID.ANY_POLICY, ["http://any/"]),
        ]
    )
    return "x509", build_cert(keys.ec256, None, policies)


@case("ext-policy-qualifiers-handmade")
def _ext_policy_handmade(keys, tmp):
    notice = seq(der(0x1E, "BMP text".encode("utf-16-be")))
    qualifiers = seq(seq(oid("1.3.6.1.5.5.7.2.2"), notice), seq(oid("1.2.3.9"), utf8("unknown")))
    policies = seq(seq(oid("1.2.3.4"), qualifiers))
    return "x509", handmade_cert(keys, tail=extensions_field(extension("2.5.29.32", policies)))


@case("ext-name-constraints")
def _ext_name_constraints(keys, tmp):
    constraints = x509.NameConstraints(
        permitted_subtrees=[
            x509.DNSName("example.com"),
            x509.RFC822Name("example.com"),
            x509.UniformResourceIdentifier(".example.com"),
            x509.IPAddress(ipaddress.ip_network("10.0.0.0/8")),
            x509.IPAddress(ipaddress.ip_network("2001:db8::/32")),
            x509.DirectoryName(DIR_NAME),
        ],
        excluded_subtrees=[x509.DNSName("bad.example.com"), x509.OtherName(UPN, utf8("x@y"))],
    )
    return "x509", build_cert(keys.ec256, None, (constraints, True))


@case("ext-name-constraints-excluded-only")
def _ext_name_constraints_excluded(keys, tmp):
    constraints = x509.NameConstraints(None, [x509.IPAddress(ipaddress.ip_network("192.168.0.0/16"))])
    return "x509", build_cert(keys.ec256, None, (constraints, True))


@case("ext-policy-and-misc-builders")
def _ext_misc(keys, tmp):
    return "x509", build_cert(
        keys.ec256,
        None,
        x509.PolicyConstraints(2, None),
        x509.InhibitAnyPolicy(0),
        x509.TLSFeature([x509.TLSFeatureType.status_request, x509.TLSFeatureType.status_request_v2]),
        x509.OCSPNoCheck(),
        (x509.PrecertPoison(), True),
        x509.MSCertificateTemplate(ObjectIdentifier("1.3.6.1.4.1.311.21.8.1.2"), 100, 3),
    )


@case("ext-raw-encoded-extensions")
def _ext_raw(keys, tmp):
    generalized = der(0x18, b"20260105090000Z")
    return "x509", build_cert(
        keys.ec256,
        None,
        raw_extension("2.16.840.1.113730.1.1", der(0x03, b"\x01\xa6")),
        raw_extension("2.16.840.1.113730.1.13", ia5("comment\x00cut")),
        raw_extension("2.16.840.1.113730.1.2", ia5("http://base/")),
        raw_extension("2.5.29.16", seq(der(0x80, generalized[2:]), der(0x81, generalized[2:]))),
        raw_extension(
            "2.5.29.33", seq(seq(oid("1.2.3.4"), oid("2.5.29.32.0")), seq(oid("1.2.3"), oid("1.2.4")))
        ),
        raw_extension("2.5.29.36", seq(der(0x81, b"\x05"))),
        raw_extension("1.3.6.1.5.5.7.1.24", seq(integer(5), integer(99))),
        raw_extension("1.3.6.1.4.1.311.21.7", seq(oid("1.3.6.1.4.1.311.21.8.9"), integer(100))),
        raw_extension("1.2.3.4.5.6.7", bytes(range(256)), critical=True),
    )


@case("ext-undecodable-known-extensions-print-raw")
def _ext_undecodable(keys, tmp):
    return "x509", build_cert(
        keys.ec256,
        None,
        raw_extension("2.5.29.15", der(0x03, b"\x07\x00")),
        raw_extension("2.5.29.37", seq()),
        raw_extension("2.5.29.35", seq()),
        raw_extension("2.5.29.36", seq()),
        raw_extension("2.5.29.17", seq(der(0x82, b"a\x00b.example"))),
    )


def _sct(version: int, extensions: bytes, hash_alg: int, sig_alg: int, signature: bytes) -> bytes:
    body = bytes([version]) + bytes(range(100, 132)) + (1767603600123).to_bytes(8, "big")
    body += len(extensions).to_bytes(2, "big") + extensions + bytes([hash_alg, sig_alg])
    body += len(signature).to_bytes(2, "big") + signature
    return len(body).to_bytes(2, "big") + body


@case("ext-signed-certificate-timestamps")
def _ext_scts(keys, tmp):
    scts = (
        _sct(0, b"", 4, 3, bytes(range(70)))
        + _sct(1, b"", 4, 3, bytes(3))
        + _sct(0, b"\x01", 4, 1, bytes(16))
    )
    unsupported = _sct(0, b"", 2, 2, b"\x09")
    return "x509", build_cert(
        keys.ec256,
        None,
        raw_extension("1.3.6.1.4.1.11129.2.4.2", der(0x04, len(scts).to_bytes(2, "big") + scts)),
        raw_extension(
            "1.3.6.1.4.1.11129.2.4.5", der(0x04, len(unsupported).to_bytes(2, "big") + unsupported)
        ),
    )


# Certificate signing requests.

REQUEST_CONFIG = """
[req]
distinguished_name = dn
attributes = attributes
prompt = no
[dn]
C = GB
O = Acme, Inc.
CN = request.example
[attributes]
challengePassword = s3cret pw
unstructuredName = Unstructured Name
"""


def _cli_request(key: str, *args: str, config: str = MINIMAL_CONFIG) -> Case:
    def make(keys, tmp):
        path = tmp / "req.cnf"
        path.write_text(config)
        return "req", openssl("req", "-new", "-key", keys.path(key), "-config", str(path), *args)

    return make


CASES.update(
    {
        "csr-cli-plain": _cli_request("rsa", "-subj", "/CN=plain.example"),
        "csr-cli-extensions": _cli_request(
            "ec256", "-subj", "/CN=ext.example", *addext(*CLI_EXTENSIONS[:4], "basicConstraints=CA:FALSE")
        ),
        "csr-cli-challenge-password": _cli_request("ec384", config=REQUEST_CONFIG),
        "csr-cli-attributes-and-extensions": _cli_request(
            "ed25519", *addext("subjectAltName=DNS:request.example"), config=REQUEST_CONFIG
        ),
    }
)


@case("csr-builder-attributes")
def _csr_builder(keys, tmp):
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name((NameOID.COMMON_NAME, "builder.example")))
        .add_attribute(x509.oid.AttributeOID.CHALLENGE_PASSWORD, b"pw", _tag=_ASN1Type.PrintableString)
        .add_attribute(x509.oid.AttributeOID.UNSTRUCTURED_NAME, b"un", _tag=_ASN1Type.IA5String)
        .add_attribute(ObjectIdentifier("1.3.6.1.4.1.99999.1.2.3.4.5.6"), b"long attribute name")
        .add_attribute(ObjectIdentifier("1.2.3"), b"\x01\x02", _tag=_ASN1Type.OctetString)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("builder.example")]), False)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), True)
        .sign(keys.rsa, hashes.SHA256())
    )
    return "req", request.public_bytes(serialization.Encoding.PEM)


def _handmade_request(keys: Keys, *attributes: bytes) -> bytes:
    spki = keys.ec256.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = seq(
        integer(0),
        der_name(("2.5.4.3", utf8("handmade request"))),
        spki,
        der(0xA0, b"".join(sorted(attributes))),
    )
    return pem("CERTIFICATE REQUEST", signed(keys.ec256, body))


@case("csr-multi-valued-attributes-handmade")
def _csr_multi_valued(keys, tmp):
    attributes = seq(oid("1.2.840.113549.1.9.2"), der(0x31, integer(3) + utf8("one") + utf8("two")))
    long_name = seq(oid("1.2.840.113549.1.9.9"), der(0x31, utf8("a") + utf8("b")))
    return "req", _handmade_request(keys, attributes, long_name)


@case("csr-no-attributes-handmade")
def _csr_no_attributes(keys, tmp):
    return "req", _handmade_request(keys)


@case("csr-microsoft-extension-request-handmade")
def _csr_ms_extensions(keys, tmp):
    extensions = seq(extension("2.5.29.19", seq(der(0x01, b"\xff")), critical=True))
    return "req", _handmade_request(keys, seq(oid("1.3.6.1.4.1.311.2.1.14"), der(0x31, extensions)))


# Certificate revocation lists.

CA_CONFIG = """
[ca]
default_ca = lab
[lab]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
default_days = 30
default_crl_days = 7
policy = anything
unique_subject = no
{extra}
[anything]
commonName = optional
[crl_extensions]
authorityKeyIdentifier = keyid:always
"""


def _cli_crl(revocations: list[tuple[str, ...]], versioned: bool) -> Case:
    def make(keys, tmp):
        extra = "crlnumber = ./crlnumber\ncrl_extensions = crl_extensions" if versioned else ""
        (tmp / "ca.cnf").write_text(CA_CONFIG.format(extra=extra))
        (tmp / "index.txt").write_text("")
        (tmp / "crlnumber").write_text("1000\n")
        (tmp / "ca.pem").write_bytes(
            self_signed(keys, "ec256", "-subj", "/CN=Lab CA", *addext("subjectKeyIdentifier=hash"))
        )
        ca = ("-config", "ca.cnf", "-keyfile", keys.path("ec256"), "-cert", "ca.pem")
        for serial, options in enumerate(revocations, start=0x1000):
            leaf = tmp / f"leaf{serial}.pem"
            leaf.write_bytes(build_cert(keys.ec384, issuer_key=keys.ec256, serial=serial))
            openssl("ca", *ca, "-revoke", str(leaf), *options, cwd=tmp)
        return "crl", openssl("ca", *ca, "-gencrl", cwd=tmp)

    return make


REVOCATIONS = [
    ("-crl_reason", "keyCompromise"),
    ("-crl_compromise", "20260301120000Z"),
    ("-crl_hold", "holdInstructionReject"),
    ("-crl_reason", "superseded"),
    (),
]
CASES.update(
    {
        "crl-cli-empty": _cli_crl([], versioned=True),
        "crl-cli-revoked": _cli_crl(REVOCATIONS, versioned=True),
        "crl-cli-version-1": _cli_crl(REVOCATIONS[3:], versioned=False),
    }
)


def _crl_builder(keys: Keys, *entries: x509.RevokedCertificate, extensions=(), next_update=END) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(DIR_NAME)
        .last_update(START)
        .next_update(next_update)
    )
    for extension_value in extensions:
        builder = builder.add_extension(extension_value, False)
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(keys.rsa, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _revoked(serial: int, *extensions: x509.ExtensionType) -> x509.RevokedCertificate:
    builder = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(START)
    for extension_value in extensions:
        builder = builder.add_extension(extension_value, False)
    return builder.build()


@case("crl-builder-reasons-and-entry-extensions")
def _crl_reasons(keys, tmp):
    entries = [_revoked(0x100 + i, x509.CRLReason(reason)) for i, reason in enumerate(x509.ReasonFlags)]
    entries.append(
        _revoked(
            2**158 + 1,
            x509.InvalidityDate(datetime.datetime(2025, 12, 24, 18, 30, 5)),
            x509.CertificateIssuer([x509.DirectoryName(DIR_NAME), x509.DNSName("issuer.example")]),
        )
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(keys.rsa.public_key())
    extensions = [
        x509.AuthorityKeyIdentifier(ski.digest, [x509.DirectoryName(DIR_NAME)], 1),
        x509.CRLNumber(2**140),
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.CA_ISSUERS, x509.DNSName("ca.example")
                )
            ]
        ),
    ]
    return "crl", _crl_builder(keys, *entries, extensions=extensions)


def _idp_case(point: x509.IssuingDistributionPoint, delta: bool = False) -> Case:
    extensions = [point, x509.CRLNumber(7)] + ([x509.DeltaCRLIndicator(6)] if delta else [])
    return lambda keys, tmp: ("crl", _crl_builder(keys, _revoked(9), extensions=extensions))


_CRL_URI = x509.UniformResourceIdentifier("http://crl.example/partition.crl")
CASES.update(
    {
        "crl-idp-full-name-only-user": _idp_case(
            x509.IssuingDistributionPoint([_CRL_URI], None, True, False, None, False, False)
        ),
        "crl-idp-relative-name-only-ca-indirect": _idp_case(
            x509.IssuingDistributionPoint(
                None,
                x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "part 1")]),
                False,
                True,
                None,
                True,
                False,
            ),
            delta=True,
        ),
        "crl-idp-reasons-attributes": _idp_case(
            x509.IssuingDistributionPoint(
                None, None, False, False, frozenset([x509.ReasonFlags.key_compromise]), False, True
            )
        ),
    }
)


def _handmade_crl(keys: Keys, *fields: bytes) -> bytes:
    return pem("X509 CRL", signed(keys.ec256, seq(*fields)))


@case("crl-no-next-update-version-1-handmade")
def _crl_no_next_update(keys, tmp):
    revoked = seq(
        seq(integer(-7), der(0x17, b"260105090000Z")), seq(integer(2**300), der(0x18, b"20510105090000Z"))
    )
    issuer = der_name(("2.5.4.3", utf8("handmade CA")))
    return "crl", _handmade_crl(keys, ECDSA_SHA256, issuer, der(0x17, b"260105090000Z"), revoked)


@case("crl-no-next-update-version-2-handmade")
def _crl_v2_no_next_update(keys, tmp):
    issuer = der_name(("2.5.4.3", utf8("handmade CA")))
    crl_number = der(0xA0, seq(extension("2.5.29.20", integer(1))))
    return "crl", _handmade_crl(
        keys, integer(1), ECDSA_SHA256, issuer, der(0x17, b"260105090000Z"), seq(), crl_number
    )


# Known differences (see the module docstring): kept as cases, skipped with the reason.

KNOWN_DIFFERENCES = {
    "known-difference-object-missing-from-table": "labkit names the OIDs of its own table only",
}


@case("known-difference-object-missing-from-table")
def _object_missing(keys, tmp):
    purposes = x509.ExtendedKeyUsage([ObjectIdentifier("1.2.840.113549.1.9.16.2.12")])
    return "x509", build_cert(keys.ec256, None, purposes)


# ------------------------------------------------------------------------------------------------- the test


def _visible(text: str) -> list[str]:
    """Lines marked at their end, so that a trailing-space difference shows in the diff."""
    return [line + "$\n" for line in text.split("\n")]


@pytest.mark.filterwarnings("ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning")
@pytest.mark.parametrize(
    "case_name",
    [
        pytest.param(name, marks=pytest.mark.skip(reason=KNOWN_DIFFERENCES[name]))
        if name in KNOWN_DIFFERENCES
        else name
        for name in CASES
    ],
)
def test_text_matches_openssl(case_name: str, keys: Keys, tmp_path: Path) -> None:
    kind, document = CASES[case_name](keys, tmp_path)
    load, render = RENDERERS[kind]
    expected = openssl(kind, "-text", "-noout", stdin=document).decode("utf-8", "replace")
    actual = render(load(document))
    if actual != expected:
        diff = difflib.unified_diff(_visible(expected), _visible(actual), "openssl", "labkit")
        pytest.fail("text differs from openssl:\n" + "".join(diff), pytrace=False)
