"""The text that ``openssl x509|req|crl -text -noout`` (OpenSSL 3.0) prints, rebuilt in pure Python.

Each public function takes a pyca/cryptography object, walks its DER encoding the way OpenSSL's printing code
does and returns the same text, byte for byte: names in OpenSSL's one-line form (``O = "Acme, Inc."``,
``\\C3\\A9`` for non-ASCII bytes), 15 bytes per line for keys, 18 for signatures, trailing spaces and all.
OpenSSL's own quirks are kept on purpose, for instance ``othername: UPN::name`` in a Subject Alternative Name,
the missing line break between ``Full Name`` and ``Reasons`` in CRL Distribution Points, and an empty
``Requested Extensions:`` in a CSR without extensions.

Known differences from OpenSSL, all on input rarely met:

* object identifiers are named from a built-in table of those seen in certificates, CSRs and CRLs; one that
  OpenSSL knows but the table lacks is printed in dotted form;
* a few extensions that OpenSSL decodes are shown as raw bytes: RFC 3779 IP address and AS identifier blocks,
  Strong Extranet ID, proxy certificate information, admissions, issuer sign tool and the OCSP ones;
* public keys are decoded for RSA, RSA-PSS, DSA, EC on the usual named prime curves, Ed25519, Ed448,
  X25519 and X448; for others (explicit EC parameters, binary curves, GOST, SM2 ...) only ``Unable to load
  Public Key`` is printed, where OpenSSL prints the key or an error trace;
* bytes that are not valid UTF-8, which OpenSSL copies as they are, become replacement characters.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from labkit.x509.oids import (
    _ATTRIBUTE_STRINGS,
    _CHAR_WIDTHS,
    _CRL_REASONS,
    _CURVES,
    _DSA_SIGNATURES,
    _ECX_KEYS,
    _EXTENSION_REQUESTS,
    _KEY_USAGES,
    _MONTHS,
    _NETSCAPE_CERT_TYPES,
    _OBJECTS,
    _OTHER_NAMES,
    _PSS_DIGESTS,
    _REASON_FLAGS,
    _SCT_SIGNATURES,
    _TLS_FEATURES,
)

__all__ = ["certificate_text", "csr_text", "crl_text", "name_entries", "name_line", "oid_short_name", "is_named_oid",
           "validity_encodings"]

_RSA, _RSA_PSS, _EC, _DSA = (
    "1.2.840.113549.1.1.1",
    "1.2.840.113549.1.1.10",
    "1.2.840.10045.2.1",
    "1.2.840.10040.4.1",
)


_MGF1, _SHA1 = "1.2.840.113549.1.1.8", "1.3.14.3.2.26"


_BOOLEAN, _INTEGER, _BIT_STRING, _UTC_TIME, _SEQUENCE = 0x01, 0x02, 0x03, 0x17, 0x30


_Pairs = list[tuple[str | None, str | None]]  # (name, value) items of OpenSSL's CONF_VALUE lists


class _Tlv(NamedTuple):
    """One DER element: identifier octet, content octets and the whole encoding."""

    tag: int
    value: bytes
    raw: bytes


class _Unprintable(ValueError):
    """OpenSSL's printer gives up on this extension and dumps its raw bytes instead."""


def _tlvs(data: bytes) -> list[_Tlv]:
    """Split concatenated DER elements (definite lengths, low tag numbers)."""
    items, pos = [], 0
    while pos < len(data):
        start, tag, length = pos, data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        if pos + length > len(data):
            raise ValueError("truncated DER element")
        items.append(_Tlv(tag, data[pos : pos + length], data[start : pos + length]))
        pos += length
    return items


def _first(data: bytes) -> _Tlv:
    return _tlvs(data)[0]


def _oid(value: bytes) -> str:
    arcs, arc = [], 0
    for byte in value:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    top = min(arcs[0] // 40, 2)
    return ".".join(str(n) for n in (top, arcs[0] - 40 * top, *arcs[1:]))


def _long_name(value: bytes) -> str:
    """``i2a_ASN1_OBJECT``: the long name, or the dotted form of an unknown identifier."""
    oid = _oid(value)
    return _OBJECTS[oid][1] if oid in _OBJECTS else oid


def oid_short_name(dotted: str) -> str:
    """OpenSSL's short name of an object identifier (``2.5.4.3`` -> ``CN``), or the dotted form if unknown."""
    return _OBJECTS[dotted][0] if dotted in _OBJECTS else dotted


def is_named_oid(dotted: str) -> bool:
    """Whether OpenSSL has a name for this object identifier (``openssl x509 -text`` prints a number otherwise)."""
    return dotted in _OBJECTS


def _short_name(value: bytes) -> str:
    oid = _oid(value)
    return _OBJECTS[oid][0] if oid in _OBJECTS else oid


def _integer(value: bytes) -> int:
    return int.from_bytes(value, "big", signed=True)


def _magnitude(number: int) -> bytes:
    """The content bytes OpenSSL keeps for an INTEGER: the absolute value, at least one byte."""
    number = abs(number)
    return number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _c_string(data: bytes) -> str:
    """What ``%s`` prints of a buffer: everything up to the first NUL byte."""
    return _text(data.split(b"\0", 1)[0])


def _bit_names(value: bytes, names: tuple[str, ...]) -> list[str]:
    """The names of the bits set in BIT STRING contents (first octet: number of unused bits)."""
    unused, octets = value[0], value[1:]
    size = 8 * len(octets) - unused
    return [name for bit, name in enumerate(names) if bit < size and octets[bit // 8] & (0x80 >> bit % 8)]


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in data)


def _hex_block(data: bytes, per_line: int, indent: int) -> str:
    """Lower-case bytes, ``per_line`` to a line, each line indented and ended by ``:`` except the last."""
    lines = [":".join(f"{b:02x}" for b in data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return ":\n".join(" " * indent + line for line in lines) + "\n"


def _int_text(value: bytes) -> str:
    """``i2s_ASN1_INTEGER``: decimal below 128 bits, ``0x`` hexadecimal above."""
    number = _integer(value)
    if abs(number).bit_length() < 128:
        return str(number)
    return ("-" if number < 0 else "") + "0x" + _magnitude(number).hex().upper()


def _int_hex(value: bytes) -> str:
    """``i2a_ASN1_INTEGER``: upper-case hexadecimal, a backslash line break every 35 bytes."""
    number = _integer(value)
    digits = "".join(
        ("\\\n" if i and i % 35 == 0 else "") + f"{byte:02X}" for i, byte in enumerate(_magnitude(number))
    )
    return ("-" if number < 0 else "") + digits


def _time(tlv: _Tlv) -> str:
    """``ASN1_TIME_print``: ``Jan  5 09:00:00 2026 GMT`` for UTCTime and GeneralizedTime alike."""
    text = tlv.value.decode("ascii")
    if tlv.tag == _UTC_TIME:
        year, text = 1900 + int(text[:2]), text[2:]
        year += 100 if year < 1950 else 0
    else:
        year, text = int(text[:4]), text[4:]
    month, day, hour, minute, second = (int(text[i : i + 2]) for i in range(0, 10, 2))
    return f"{_MONTHS[month - 1]} {day:2d} {hour:02d}:{minute:02d}:{second:02d} {year} GMT"


def _ip_address(data: bytes) -> str:
    if len(data) == 4:
        return ".".join(str(byte) for byte in data)
    if len(data) == 16:
        return ":".join(f"{data[i] << 8 | data[i + 1]:X}" for i in range(0, 16, 2))
    return f"<invalid length={len(data)}>"


def _printable(data: bytes) -> str:
    """``ASN1_STRING_print``: printable ASCII, CR and LF kept, every other byte shown as a dot."""
    return "".join(chr(b) if 32 <= b <= 126 or b in (10, 13) else "." for b in data)


def _name_entries(name: _Tlv) -> list[tuple[int, bytes, _Tlv]]:
    """(RDN index, attribute type, value) for every attribute of a Name, in encoding order."""
    return [
        (index, oid.value, value)
        for index, rdn in enumerate(_tlvs(name.value))
        for oid, value in (_tlvs(atv.value) for atv in _tlvs(rdn.value))
    ]


def _escape(data: bytes) -> str:
    """One attribute value with the RFC 2253 escapes of ``XN_FLAG_ONELINE``, quoted where OpenSSL quotes."""
    quote, out, last = False, [], len(data) - 1
    for i, byte in enumerate(data):
        char = chr(byte)
        if byte < 0x20 or byte > 0x7E:
            out.append(f"\\{byte:02X}")
        elif char in '"\\':
            out.append("\\" + char)
        else:
            quote |= char in ",+;<>" or (char == " " and i in (0, last)) or (char == "#" and i == 0 < last)
            out.append(char)
    text = "".join(out)
    return f'"{text}"' if quote else text


def _name_value(tlv: _Tlv) -> str:
    width = _CHAR_WIDTHS.get(tlv.tag)
    if width is None:
        return "#" + tlv.raw.hex().upper()
    data = tlv.value
    if width:
        chars = (int.from_bytes(data[i : i + width], "big") for i in range(0, len(data), width))
        data = "".join(map(chr, chars)).encode("utf-8", "surrogatepass")
    return _escape(data)


def _name_text(entries: list[tuple[int, bytes, _Tlv]]) -> str:
    """``X509_NAME_print_ex`` with ``XN_FLAG_ONELINE``: ``C = GB, O = "Acme, Inc.", CN = a + UID = b``."""
    parts = []
    for i, (index, oid, value) in enumerate(entries):
        separator = "" if i == 0 else " + " if index == entries[i - 1][0] else ", "
        parts.append(f"{separator}{_short_name(oid)} = {_name_value(value)}")
    return "".join(parts)


def _name(name: _Tlv) -> str:
    return _name_text(_name_entries(name))


def _name_slashes(name: _Tlv) -> str:
    """``X509_NAME_oneline`` (256-byte buffer): ``/CN=a+UID=b/O=c``, cut before the entry that overflows."""
    out, previous = "", -1
    for index, oid, value in _name_entries(name):
        data = value.raw if value.tag & 0x20 else value.value[1:] if value.tag == _BIT_STRING else value.value
        text = "".join(
            f"\\x{b:02X}" if b < 0x20 or b > 0x7E else "\\" + chr(b) if chr(b) in "/+" else chr(b)
            for b in data
        )
        entry = f"{'+' if index == previous else '/'}{_short_name(oid)}={text}"
        if len(out) + len(entry) > 255:
            break
        out, previous = out + entry, index
    return out


def _other_name(name: _Tlv) -> tuple[bytes, _Tlv]:
    oid, wrapped = _tlvs(name.value)
    return oid.value, _first(wrapped.value)


def _string_value(data: bytes) -> str:
    """How ``x509v3_add_len_value`` copies a string: refused (raw dump) when it holds a NUL byte."""
    if b"\0" in data:
        raise _Unprintable("NUL byte in a string")
    return _text(data)


def _general_name_value(name: _Tlv) -> tuple[str, str]:
    """``i2v_GENERAL_NAME``: a (name, value) pair: ``DNS:a``, ``othername: UPN::u``, ``DirName:/CN=x``."""
    kind = name.tag & 0x1F
    if kind == 0:
        oid, value = _other_name(name)
        if _oid(oid) in _OTHER_NAMES:
            label, tag = _OTHER_NAMES[_oid(oid)]
            if value.tag != tag:
                raise _Unprintable("unexpected other name type")
            return f"othername: {label}:", _string_value(value.value)
        label = f"othername: {_long_name(oid)}:"
        if value.tag in (0x0C, 0x16) and b"\0" not in value.value:
            return label, _text(value.value)
        return label, "<unsupported>"
    if kind in (1, 2, 6):
        return {1: "email", 2: "DNS", 6: "URI"}[kind], _string_value(name.value)
    if kind == 4:
        return "DirName", _name_slashes(_first(name.value))
    if kind == 7:
        return "IP Address", _ip_address(name.value)
    if kind == 8:
        return "Registered ID", _long_name(name.value)
    return {3: "X400Name", 5: "EdiPartyName"}[kind], "<unsupported>"


def _general_name_print(name: _Tlv) -> str:
    """``GENERAL_NAME_print``, the other format: ``DNS:a``, ``othername:UPN:u``, ``DirName:CN = x``."""
    kind = name.tag & 0x1F
    if kind == 0:
        oid, value = _other_name(name)
        label, tag = _OTHER_NAMES.get(_oid(oid), ("", -1))
        return (
            f"othername:{label}:{_c_string(value.value)}" if value.tag == tag else "othername:<unsupported>"
        )
    if kind in (1, 2, 6):
        return {1: "email:", 2: "DNS:", 6: "URI:"}[kind] + _printable(name.value)
    if kind == 4:
        return "DirName:" + _name(_first(name.value))
    if kind == 7:
        return "IP Address:" + _ip_address(name.value)
    if kind == 8:
        return "Registered ID:" + _long_name(name.value)
    return {3: "X400Name", 5: "EdiPartyName"}[kind] + ":<unsupported>"


def _general_names(value: bytes) -> _Pairs:
    return [_general_name_value(name) for name in _tlvs(value)]


def _general_names_block(value: bytes, indent: int) -> str:
    return "\n".join(" " * (indent + 2) + _general_name_print(name) for name in _tlvs(value))


def _values(pairs: _Pairs, indent: int, multiline: bool) -> str:
    """``X509V3_EXT_val_prn``: ``name:value`` items, comma separated or one per line."""
    pad = " " * indent
    if not pairs:
        return pad + "<EMPTY>\n"
    items = [value if name is None else name if value is None else f"{name}:{value}" for name, value in pairs]
    return pad + (f"\n{pad}" if multiline else ", ").join(items)


def _nonempty(pairs: _Pairs) -> _Pairs:
    """OpenSSL's ``i2v`` functions that build nothing return NULL, and the raw bytes get printed."""
    if not pairs:
        raise _Unprintable("nothing to print")
    return pairs


def _alternative_names(data: bytes) -> _Pairs:
    return _general_names(_first(data).value)


def _key_identifier(data: bytes) -> _Pairs:
    fields = {field.tag: field for field in _tlvs(_first(data).value)}
    keyid, issuer, serial = fields.get(0x80), fields.get(0xA1), fields.get(0x82)
    pairs: _Pairs = []
    if keyid is not None:
        pairs.append(("keyid" if issuer or serial else None, _colon_hex(keyid.value)))
    if issuer is not None:
        pairs += _general_names(issuer.value)
    if serial is not None:
        pairs.append(("serial", _colon_hex(_magnitude(_integer(serial.value)))))
    return _nonempty(pairs)


def _basic_constraints(data: bytes) -> _Pairs:
    fields = {field.tag: field.value for field in _tlvs(_first(data).value)}
    pairs: _Pairs = [("CA", "TRUE" if fields.get(_BOOLEAN, b"\0") != b"\0" else "FALSE")]
    if _INTEGER in fields:
        pairs.append(("pathlen", _int_text(fields[_INTEGER])))
    return pairs


def _bits(names: tuple[str, ...], data: bytes) -> _Pairs:
    return _nonempty([(name, None) for name in _bit_names(_first(data).value, names)])


def _key_purposes(data: bytes) -> _Pairs:
    return _nonempty([(None, _long_name(oid.value)) for oid in _tlvs(_first(data).value)])


def _info_access(data: bytes) -> _Pairs:
    pairs: _Pairs = []
    for description in _tlvs(_first(data).value):
        method, location = _tlvs(description.value)
        name, value = _general_name_value(location)
        pairs.append((f"{_long_name(method.value)} - {name}", value))
    return pairs


def _policy_constraints(data: bytes) -> _Pairs:
    labels = {0x80: "Require Explicit Policy", 0x81: "Inhibit Policy Mapping"}
    return _nonempty(
        [(labels[f.tag], _int_text(f.value)) for f in _tlvs(_first(data).value) if f.tag in labels]
    )


def _policy_mappings(data: bytes) -> _Pairs:
    mappings = (_tlvs(mapping.value) for mapping in _tlvs(_first(data).value))
    return _nonempty([(_long_name(issuer.value), _long_name(subject.value)) for issuer, subject in mappings])


def _tls_features(data: bytes) -> _Pairs:
    features = [
        (None, _TLS_FEATURES.get(_integer(n.value), _int_text(n.value))) for n in _tlvs(_first(data).value)
    ]
    return _nonempty(features)


def _i2v(build: Callable[[bytes], _Pairs], multiline: bool, data: bytes, indent: int) -> str:
    return _values(build(data), indent, multiline)


def _i2s(render: Callable[[_Tlv], str], data: bytes, indent: int) -> str:
    return " " * indent + render(_first(data))


def _integer_text(tlv: _Tlv) -> str:
    return _int_text(tlv.value)


def _reason_code(tlv: _Tlv) -> str:
    return _CRL_REASONS.get(_integer(tlv.value), str(_integer(tlv.value)))


def _usage_period(data: bytes, indent: int) -> str:
    times = {field.tag: _time(field) for field in _tlvs(_first(data).value)}
    before = f"Not Before: {times[0x80]}" if 0x80 in times else ""
    after = f"Not After: {times[0x81]}" if 0x81 in times else ""
    return " " * indent + (", " if before and after else "").join(filter(None, (before, after)))


def _reasons(label: str, value: bytes, indent: int) -> str:
    names = ", ".join(_bit_names(value, _REASON_FLAGS)) or "<EMPTY>"
    return f"{' ' * indent}{label}:\n{' ' * (indent + 2)}{names}\n"


def _point_name(choice: _Tlv, indent: int) -> str:
    pad = " " * indent
    if choice.tag == 0xA0:
        return f"{pad}Full Name:\n" + _general_names_block(choice.value, indent)
    entries = [(0, oid.value, value) for oid, value in (_tlvs(atv.value) for atv in _tlvs(choice.value))]
    return f"{pad}Relative Name:\n{pad}  {_name_text(entries)}\n"


def _distribution_points(data: bytes, indent: int) -> str:
    points = []
    for point in _tlvs(_first(data).value):
        text = ""
        for field in _tlvs(point.value):
            if field.tag == 0xA0:
                text += _point_name(_first(field.value), indent)
            elif field.tag == 0x81:
                text += _reasons("Reasons", field.value, indent)
            elif field.tag == 0xA2:
                text += f"{' ' * indent}CRL Issuer:\n" + _general_names_block(field.value, indent)
        points.append(text)
    return "\n".join(points)


def _issuing_distribution_point(data: bytes, indent: int) -> str:
    pad, text = " " * indent, ""
    flags = {0x81: "Only User Certificates", 0x82: "Only CA Certificates", 0x84: "Indirect CRL"}
    fields = {field.tag: field for field in _tlvs(_first(data).value)}
    if 0xA0 in fields:
        text += _point_name(_first(fields[0xA0].value), indent)
    for tag, label in flags.items():
        if tag in fields and fields[tag].value != b"\0":
            text += f"{pad}{label}\n"
    if 0x83 in fields:
        text += _reasons("Only Some Reasons", fields[0x83].value, indent)
    if 0x85 in fields and fields[0x85].value != b"\0":
        text += f"{pad}Only Attribute Certificates\n"
    return text or f"{pad}<EMPTY>\n"


def _user_notice(notice: _Tlv, indent: int) -> str:
    pad, text = " " * indent, ""
    fields = _tlvs(notice.value)
    reference = next((field for field in fields if field.tag == _SEQUENCE), None)
    explicit = next((field for field in fields if field.tag != _SEQUENCE), None)
    if reference is not None:
        organization, numbers = _tlvs(reference.value)
        values = [_int_text(number.value) for number in _tlvs(numbers.value)]
        text += f"{pad}Organization: {_c_string(organization.value)}\n"
        text += f"{pad}Number{'s' if len(values) > 1 else ''}: {', '.join(values)}"
        text += "\n" if explicit is not None else ""
    if explicit is not None:
        text += f"{pad}Explicit Text: {_c_string(explicit.value)}"
    return text


def _qualifiers(value: bytes, indent: int) -> str:
    pad, lines = " " * indent, []
    for qualifier in _tlvs(value):
        oid, content = _tlvs(qualifier.value)
        kind = _oid(oid.value)
        if kind == "1.3.6.1.5.5.7.2.1":
            lines.append(f"{pad}CPS: {_c_string(content.value)}")
        elif kind == "1.3.6.1.5.5.7.2.2":
            lines.append(f"{pad}User Notice:\n" + _user_notice(content, indent + 2))
        else:
            lines.append(f"{pad}  Unknown Qualifier: {_long_name(oid.value)}")
    return "\n".join(lines)


def _policies(data: bytes, indent: int) -> str:
    lines = []
    for policy in _tlvs(_first(data).value):
        oid, *qualifiers = _tlvs(policy.value)
        line = f"{' ' * indent}Policy: {_long_name(oid.value)}"
        if qualifiers:
            line += "\n" + _qualifiers(qualifiers[0].value, indent + 2)
        lines.append(line)
    return "\n".join(lines)


def _subtrees(label: str, subtrees: _Tlv, indent: int) -> str:
    lines = []
    for subtree in _tlvs(subtrees.value):
        base = _first(subtree.value)
        if base.tag == 0x87:
            half = 16 if len(base.value) >= 16 else 4 if len(base.value) >= 4 else len(base.value)
            text = f"IP:{_ip_address(base.value[:half])}/{_ip_address(base.value[half:])}"
        else:
            text = _general_name_print(base)
        lines.append(" " * (indent + 2) + text)
    return f"{' ' * indent}{label}:\n" + "\n".join(lines) if lines else ""


def _name_constraints(data: bytes, indent: int) -> str:
    fields = {field.tag: field for field in _tlvs(_first(data).value)}
    permitted, excluded = fields.get(0xA0), fields.get(0xA1)
    text = _subtrees("Permitted", permitted, indent) if permitted else ""
    text += "\n" if permitted and excluded else ""
    return text + (_subtrees("Excluded", excluded, indent) if excluded else "")


def _hex_string(data: bytes, indent: int) -> str:
    """``BIO_hex_string``: upper-case bytes, 16 to a line, continuation lines indented."""
    lines = [":".join(f"{b:02X}" for b in data[i : i + 16]) for i in range(0, len(data), 16)]
    return f":\n{' ' * indent}".join(lines)


def _timestamps(data: bytes, indent: int) -> str:
    """Signed certificate timestamps (RFC 6962) as ``SCT_LIST_print`` lays them out."""
    listing = _first(data).value
    entries, pos = [], 2
    while pos < 2 + int.from_bytes(listing[:2], "big"):
        size = int.from_bytes(listing[pos : pos + 2], "big")
        entries.append(_timestamp(listing[pos + 2 : pos + 2 + size], indent))
        pos += 2 + size
    return "\n".join(entries)


def _timestamp(sct: bytes, indent: int) -> str:
    pad, deep = " " * (indent + 4), indent + 16
    text = f"{' ' * indent}Signed Certificate Timestamp:\n{pad}Version   : "
    if sct[0] != 0:
        return text + f"unknown\n{' ' * deep}" + _hex_string(sct, deep)
    end = 43 + int.from_bytes(sct[41:43], "big")
    hash_alg, sig_alg, size = sct[end], sct[end + 1], int.from_bytes(sct[end + 2 : end + 4], "big")
    millis = int.from_bytes(sct[33:41], "big")
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=millis)
    stamp = (
        f"{_MONTHS[moment.month - 1]} {moment.day:2d} {moment:%H:%M:%S}.{millis % 1000:03d} {moment.year} GMT"
    )
    algorithm = _SCT_SIGNATURES[hash_alg, sig_alg]
    extensions = _hex_string(sct[43:end], deep) if end > 43 else "none"
    return (
        f"{text}v1 (0x0)\n{pad}Log ID    : {_hex_string(sct[1:33], deep)}\n{pad}Timestamp : {stamp}\n"
        f"{pad}Extensions: {extensions}\n{pad}Signature : {algorithm}\n{pad}            "
        + _hex_string(sct[end + 4 : end + 4 + size], deep)
    )


_EXTENSIONS: dict[str, Callable[[bytes, int], str]] = {
    "2.5.29.14": partial(_i2s, lambda tlv: _colon_hex(tlv.value)),
    "2.5.29.15": partial(_i2v, partial(_bits, _KEY_USAGES), False),
    "2.5.29.16": _usage_period,
    "2.5.29.17": partial(_i2v, _alternative_names, False),
    "2.5.29.18": partial(_i2v, _alternative_names, False),
    "2.5.29.19": partial(_i2v, _basic_constraints, False),
    "2.5.29.20": partial(_i2s, _integer_text),
    "2.5.29.21": partial(_i2s, _reason_code),
    "2.5.29.23": partial(_i2s, lambda tlv: _long_name(tlv.value)),
    "2.5.29.24": partial(_i2s, _time),
    "2.5.29.27": partial(_i2s, _integer_text),
    "2.5.29.28": _issuing_distribution_point,
    "2.5.29.29": partial(_i2v, _alternative_names, False),
    "2.5.29.30": _name_constraints,
    "2.5.29.31": _distribution_points,
    "2.5.29.32": _policies,
    "2.5.29.33": partial(_i2v, _policy_mappings, False),
    "2.5.29.35": partial(_i2v, _key_identifier, True),
    "2.5.29.36": partial(_i2v, _policy_constraints, False),
    "2.5.29.37": partial(_i2v, _key_purposes, False),
    "2.5.29.46": _distribution_points,
    "2.5.29.54": partial(_i2s, _integer_text),
    "1.3.6.1.5.5.7.1.1": partial(_i2v, _info_access, True),
    "1.3.6.1.5.5.7.1.11": partial(_i2v, _info_access, True),
    "1.3.6.1.5.5.7.1.24": partial(_i2v, _tls_features, False),
    "1.3.6.1.5.5.7.48.1.5": lambda data, indent: "",
    "1.3.6.1.4.1.11129.2.4.2": _timestamps,
    "1.3.6.1.4.1.11129.2.4.3": lambda data, indent: " " * indent + "NULL",
    "1.3.6.1.4.1.11129.2.4.5": _timestamps,
    "2.16.840.1.113730.1.1": partial(_i2v, partial(_bits, _NETSCAPE_CERT_TYPES), False),
    **dict.fromkeys(
        ("2.16.840.1.113730.1." + arc for arc in ("2", "3", "4", "7", "8", "12", "13")),
        partial(_i2s, lambda tlv: _c_string(tlv.value)),
    ),
}


def _extension_body(oid: str, data: bytes, indent: int) -> str:
    printer = _EXTENSIONS.get(oid)
    if printer is not None:
        try:
            return printer(data, indent)
        except (ValueError, IndexError, KeyError):
            pass  # like OpenSSL, fall back to the raw bytes
    return " " * indent + _printable(data)


def _extensions(extensions: list[_Tlv], indent: int) -> str:
    """``X509V3_extensions_print`` without its title: name, criticality and decoded value of each."""
    text = ""
    for extension in extensions:
        oid, *fields = _tlvs(extension.value)
        critical = len(fields) == 2 and fields[0].value != b"\0"
        text += f"{' ' * indent}{_long_name(oid.value)}: {'critical' if critical else ''}\n"
        text += _extension_body(_oid(oid.value), fields[-1].value, indent + 4) + "\n"
    return text


def _titled_extensions(title: str, extensions: list[_Tlv], indent: int) -> str:
    return f"{' ' * indent}{title}:\n" + _extensions(extensions, indent + 4) if extensions else ""


def _big_number(label: str, value: bytes, indent: int = 0) -> str:
    """``ASN1_bn_print`` (and the providers' twin): small numbers inline, large ones as a hex block."""
    number = _integer(value)
    sign, pad = "-" if number < 0 else "", " " * indent
    if number == 0:
        return f"{pad}{label} 0\n"
    if abs(number).bit_length() <= 64:
        return f"{pad}{label} {sign}{abs(number)} ({sign}0x{abs(number):x})\n"
    data = _magnitude(number)
    data = b"\0" + data if data[0] & 0x80 else data
    return f"{pad}{label}{' (Negative)' if number < 0 else ''}\n" + _hex_block(data, 15, indent + 4)


def _pss_digest(oid: str) -> str:
    return _PSS_DIGESTS.get(oid, "(null)") + (" (default)" if oid == _SHA1 else "")


def _pss_restrictions(params: list[_Tlv]) -> str:
    """The PSS parameters of an RSA-PSS key, as the OpenSSL 3.0 key printer words them."""
    if not params:
        return "No PSS parameter restrictions\n"
    fields = {field.tag: _first(field.value) for field in _tlvs(params[0].value)}
    digest = _oid(_first(fields[0xA0].value).value) if 0xA0 in fields else _SHA1
    mask = _oid(_first(_tlvs(fields[0xA1].value)[1].value).value) if 0xA1 in fields else _SHA1
    salt = _integer(fields[0xA2].value) if 0xA2 in fields else 20
    trailer = _integer(fields[0xA3].value) if 0xA3 in fields else 1
    return (
        f"PSS parameter restrictions:\n  Hash Algorithm: {_pss_digest(digest)}\n"
        f"  Mask Algorithm: MGF1 with {_pss_digest(mask)}\n"
        f"  Minimum Salt Length: {salt}{' (default)' if salt == 20 else ''}\n"
        f"  Trailer Field: 0x{trailer:x}{' (default)' if trailer == 1 else ''}\n"
    )


def _key_lines(oid: str, params: list[_Tlv], key: bytes) -> str | None:
    """What the OpenSSL 3.0 providers print for a public key, before the 16-space indentation."""
    if oid in (_RSA, _RSA_PSS):
        modulus, exponent = _tlvs(_first(key).value)[:2]
        text = f"Public-Key: ({_integer(modulus.value).bit_length()} bit)\n"
        text += _big_number("Modulus:", modulus.value) + _big_number("Exponent:", exponent.value)
        return text + (_pss_restrictions(params) if oid == _RSA_PSS else "")
    if oid == _EC and params and _oid(params[0].value) in _CURVES:
        bits, nist = _CURVES[_oid(params[0].value)]
        text = f"Public-Key: ({bits} bit)\npub:\n" + _hex_block(key, 15, 4)
        text += f"ASN1 OID: {_short_name(params[0].value)}\n"
        return text + (f"NIST CURVE: {nist}\n" if nist else "")
    if oid in _ECX_KEYS:
        return f"{_ECX_KEYS[oid]} Public-Key:\npub:\n" + _hex_block(key, 15, 4)
    if oid == _DSA and params:
        prime, divisor, generator = _tlvs(params[0].value)
        text = f"Public-Key: ({_integer(prime.value).bit_length()} bit)\n"
        text += _big_number("pub: ", _first(key).value) + _big_number("P:   ", prime.value)
        return text + _big_number("Q:   ", divisor.value) + _big_number("G:   ", generator.value)
    return None


def _public_key(spki: _Tlv) -> str:
    algorithm, key = _tlvs(spki.value)
    oid, *params = _tlvs(algorithm.value)
    text = f"        Subject Public Key Info:\n            Public Key Algorithm: {_long_name(oid.value)}\n"
    try:
        lines = _key_lines(_oid(oid.value), params, key.value[1:])
    except (ValueError, IndexError):
        lines = None
    if lines is None:
        return text + " " * 12 + "Unable to load Public Key\n"
    return text + "".join(" " * 16 + line for line in lines.splitlines(keepends=True))


def _pss_parameters(params: list[_Tlv], indent: int) -> str:
    """``rsa_pss_param_print`` for a signature: hash, mask, salt length and trailer field."""
    pad = " " * indent
    if not params or params[0].tag != _SEQUENCE:
        return pad + "(INVALID PSS PARAMETERS)\n"
    fields = {field.tag: _first(field.value) for field in _tlvs(params[0].value)}
    digest = _long_name(_first(fields[0xA0].value).value) if 0xA0 in fields else "sha1 (default)"
    mask = "mgf1 with sha1 (default)"
    if 0xA1 in fields:
        mask_oid, *mask_params = _tlvs(fields[0xA1].value)
        mask_hash = "INVALID"
        if _oid(mask_oid.value) == _MGF1 and mask_params:
            mask_hash = _long_name(_first(mask_params[0].value).value)
        mask = f"{_long_name(mask_oid.value)} with {mask_hash}"
    salt = _int_hex(fields[0xA2].value) if 0xA2 in fields else "14 (default)"
    trailer = _int_hex(fields[0xA3].value) if 0xA3 in fields else "01 (default)"
    return (
        f"{pad}\n{pad}Hash Algorithm: {digest}\n{pad}Mask Algorithm: {mask}\n"
        f"{pad} Salt Length: 0x{salt}\n{pad}Trailer Field: 0x{trailer}\n"
    )


def _signature(algorithm: _Tlv, signature: _Tlv | None) -> str:
    """``X509_signature_print``: the algorithm (with RSA-PSS parameters) and, if given, the signature."""
    oid, *params = _tlvs(algorithm.value)
    text = f"    Signature Algorithm: {_long_name(oid.value)}"
    text += "\n    Signature Value:" if signature is not None else ""
    if _oid(oid.value) == _RSA_PSS:
        text += _pss_parameters(params, 8)
    elif _oid(oid.value) in _DSA_SIGNATURES and signature is not None:
        return text + "\n" + _dsa_signature(signature.value[1:])
    else:
        text += "\n"
    return text + (_hex_block(signature.value[1:], 18, 8) if signature is not None else "")


def _dsa_signature(data: bytes) -> str:
    """``dsa_sig_print``: r and s of a DSA signature, or the plain dump when it does not decode."""
    try:
        r, s = _tlvs(_first(data).value)
    except (ValueError, IndexError):
        return _hex_block(data, 18, 8)
    return _big_number("r:   ", r.value, 8) + _big_number("s:   ", s.value, 8)


def _split_signed(obj: x509.Certificate | x509.CertificateSigningRequest | x509.CertificateRevocationList):
    """The three parts of a signed object: the signed fields, the signature algorithm, the signature."""
    body, algorithm, signature = _tlvs(_first(obj.public_bytes(Encoding.DER)).value)
    return _tlvs(body.value), algorithm, signature


def _name_field(obj: x509.Certificate | x509.CertificateSigningRequest, which: str) -> _Tlv:
    fields, _algorithm, _signature = _split_signed(obj)
    if isinstance(obj, x509.Certificate):
        fields = fields[1:] if fields[0].tag == 0xA0 else fields  # the explicit version
        return fields[{"issuer": 2, "subject": 4}[which]]
    if which != "subject":
        raise ValueError("a CSR has only a subject")
    return fields[1]


def name_entries(obj: x509.Certificate | x509.CertificateSigningRequest,
                 which: str = "subject") -> list[tuple[str, str]]:
    """(dotted OID, value as OpenSSL prints it) for each attribute of the subject (or ``"issuer"``), read from the DER
    itself, so a value the cryptography library refuses to parse (appendix A's OID where a string belongs) still
    shows."""
    return [(_oid(oid), _name_value(value)) for _index, oid, value in _name_entries(_name_field(obj, which))]


def name_line(obj: x509.Certificate | x509.CertificateSigningRequest, which: str = "subject") -> str:
    """The subject (or ``"issuer"``) as ``openssl x509 -subject`` prints it: ``C = GB, O = labkit, CN = ...``."""
    return _name(_name_field(obj, which))


def validity_encodings(cert: x509.Certificate) -> tuple[str, str]:
    """How notBefore and notAfter are encoded: ``"UTCTime"`` or ``"GeneralizedTime"`` each (RFC 5280 4.1.2.5 wants
    UTCTime through 2049 and GeneralizedTime from 2050), read from the DER."""
    fields, _algorithm, _signature = _split_signed(cert)
    fields = fields[1:] if fields[0].tag == 0xA0 else fields
    return tuple("UTCTime" if t.tag == _UTC_TIME else "GeneralizedTime" for t in _tlvs(fields[3].value))


def certificate_text(cert: x509.Certificate) -> str:
    """The text of ``openssl x509 -in cert.pem -text -noout``."""
    fields, algorithm, signature = _split_signed(cert)
    version = _integer(_first(fields.pop(0).value).value) if fields[0].tag == 0xA0 else 0
    serial, inner_algorithm, issuer, validity, subject, spki, *optional = fields
    not_before, not_after = _tlvs(validity.value)
    text = "Certificate:\n    Data:\n"
    text += f"        Version: {version + 1} (0x{version:x})\n"
    text += f"        Serial Number:{_serial(serial.value)}\n"
    text += "    " + _signature(inner_algorithm, None)
    text += f"        Issuer: {_name(issuer)}\n"
    text += f"        Validity\n            Not Before: {_time(not_before)}\n"
    text += f"            Not After : {_time(not_after)}\n"
    text += f"        Subject: {_name(subject)}\n"
    text += _public_key(spki)
    labels = {0x81: "Issuer Unique ID", 0x82: "Subject Unique ID"}
    for field in optional:
        if field.tag in labels:
            text += f"        {labels[field.tag]}: " + _hex_block(field.value[1:], 18, 12)
    extensions = next((_tlvs(_first(f.value).value) for f in optional if f.tag == 0xA3), [])
    text += _titled_extensions("X509v3 extensions", extensions, 8)
    return text + _signature(algorithm, signature)


def _serial(value: bytes) -> str:
    """The serial number: `` 4096 (0x1000)`` when it fits a signed 64-bit long, else a hex line."""
    number = _integer(value)
    data = _magnitude(number)
    if len(data) <= 8 and -(2**63) <= number < 2**63 and number != -1:
        sign = "-" if number < 0 else ""
        return f" {sign}{abs(number)} ({sign}0x{abs(number):x})"
    return "\n" + " " * 12 + (" (Negative)" if number < 0 else "") + ":".join(f"{b:02x}" for b in data)


def csr_text(csr: x509.CertificateSigningRequest) -> str:
    """The text of ``openssl req -in request.pem -text -noout``."""
    (_, subject, spki, attributes), algorithm, signature = _split_signed(csr)
    text = "Certificate Request:\n    Data:\n        Version: 1 (0x0)\n"
    text += f"        Subject: {_name(subject)}\n" + _public_key(spki)
    text += "        Attributes:\n" + ("" if attributes.value else "            (none)\n")
    requests: dict[str, _Tlv] = {}
    for oid, values in (_tlvs(attribute.value) for attribute in _tlvs(attributes.value)):
        if _oid(oid.value) in _EXTENSION_REQUESTS:
            requests.setdefault(_oid(oid.value), values)
        else:
            text += _attribute(_long_name(oid.value), _tlvs(values.value))
    request = next((requests[oid] for oid in _EXTENSION_REQUESTS if oid in requests), None)
    extensions = _tlvs(_first(request.value).value) if request else []
    text += "            Requested Extensions:\n" + _extensions(extensions, 16)
    return text + _signature(algorithm, signature)


def _attribute(name: str, values: list[_Tlv]) -> str:
    """One CSR attribute, padded to 25 columns, repeating OpenSSL's padding arithmetic for extra values."""
    text, width = " " * 12 + name, len(name)
    for value in values:
        width = 25 - width
        text += " " * max(width, 0) + ":"
        width = min(width, 0)
        printable = value.tag in _ATTRIBUTE_STRINGS
        text += (_text(value.value) if printable else "unable to print attribute") + "\n"
    return text


def crl_text(crl: x509.CertificateRevocationList) -> str:
    """The text of ``openssl crl -in list.pem -text -noout``."""
    fields, algorithm, signature = _split_signed(crl)
    version = _integer(fields.pop(0).value) if fields[0].tag == _INTEGER else 0
    _, issuer, this_update, *rest = fields
    next_update = rest.pop(0) if rest and rest[0].tag in (_UTC_TIME, 0x18) else None
    revoked = _tlvs(rest.pop(0).value) if rest and rest[0].tag == _SEQUENCE else []
    extensions = _tlvs(_first(rest[0].value).value) if rest else []
    text = "Certificate Revocation List (CRL):\n"
    text += f"        Version {version + 1} (0x{version:x})\n"
    text += "    " + _signature(algorithm, None)
    text += f"        Issuer: {_name(issuer)}\n        Last Update: {_time(this_update)}\n"
    text += f"        Next Update: {_time(next_update) if next_update else 'NONE'}\n"
    text += _titled_extensions("CRL extensions", extensions, 8)
    text += "Revoked Certificates:\n" if revoked else "No Revoked Certificates.\n"
    for entry in revoked:
        serial, date, *entry_extensions = _tlvs(entry.value)
        text += f"    Serial Number: {_int_hex(serial.value)}\n        Revocation Date: {_time(date)}\n"
        entry_list = _tlvs(entry_extensions[0].value) if entry_extensions else []
        text += _titled_extensions("CRL entry extensions", entry_list, 8)
    return text + _signature(algorithm, signature)
