"""Just enough DER (ITU-T X.690) to split a structure into its elements and put one together again.

labkit leaves the meaning of every X.509 structure to pyca/cryptography. It needs to walk the encoding itself in three
places where cryptography has no API: the certificates and CRLs of a PKCS#7 bundle (``openssl crl2pkcs7`` writes the
certificates unsorted, which cryptography only reads after a warning), the several certificates of one OCSP request
(cryptography parses requests for one certificate only) and the re-signed OCSP response. Each element is kept as its
complete encoding (tag, length and content), so nothing is decoded twice or re-encoded by accident.

``openssl asn1parse -inform DER -in FILE -i`` shows the same elements.
"""

from __future__ import annotations

import re

__all__ = ["DerError", "plain_problem", "element", "children", "tlv", "header_length", "element_length", "oid_der"]


class DerError(ValueError):
    """The bytes are not a complete DER (or definite-length BER) element."""


_KINDS = {
    "UnexpectedTag": "an element of the wrong type where the structure needs another (corrupted, or another kind "
                     "of object)",
    "ExtraData": "bytes left over after the end of the structure (two objects joined, or corrupted)",
    "InvalidLength": "a length that does not fit its element (corrupted)",
    "InvalidValue": "a value that is not valid for its type (corrupted)",
    "InvalidTag": "a tag that is not valid DER (corrupted)",
    "InvalidSetOrdering": "a SET whose elements are not in DER order",
    "EncodedDefault": "a field that holds its default value, which DER leaves out",
    "IntegerOverflow": "a number too large for its field",
    "OidTooLong": "an object identifier too long to read",
    "UnknownDefinedBy": "an algorithm or type labkit's library does not know",
}


def plain_problem(exc: BaseException) -> str:
    """What a parser's complaint (cryptography's ``ValueError``, a :class:`DerError`) means, in plain words and without
    the library's internals (``ParseError { kind: ShortData { needed: 435 } }`` becomes "the DER ends 435 bytes
    early: the data was cut short"). Unknown complaints are named as corrupted data."""
    text = str(exc)
    short = re.search(r"ShortData \{ needed: (\d+) \}", text)
    if short:
        return f"the DER ends {short[1]} bytes early: the data was cut short"
    kind = re.search(r"kind: (\w+)", text)
    if kind and kind[1] in _KINDS:
        return f"the DER holds {_KINDS[kind[1]]}"
    if isinstance(exc, DerError):
        return f"the DER is {text}" if text.startswith("cut short") else f"the DER is not as expected ({text})"
    if "ParseError" in text or "asn1" in text.lower():
        return "the DER is cut short or corrupted"
    return text


def _length(data: bytes, offset: int) -> tuple[int | None, int]:
    """(content length or None for BER's indefinite form, size of the length octets) at ``offset``."""
    if offset >= len(data):
        raise DerError("cut short in a length")
    first = data[offset]
    if first < 0x80:
        return first, 1
    count = first & 0x7F
    if count == 0:
        return None, 1
    if count > 4 or offset + 1 + count > len(data):
        raise DerError("a length that does not fit")
    return int.from_bytes(data[offset + 1:offset + 1 + count], "big"), 1 + count


def element(data: bytes, offset: int = 0) -> tuple[int, int, int, int]:
    """``(tag, content_start, content_end, end)`` of the element at ``offset``. BER's indefinite lengths (``0x80``,
    closed by ``00 00``) are followed too, because Windows tools write PKCS#7 files that way."""
    if offset + 2 > len(data):
        raise DerError("cut short in a tag")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used in these structures")
    size, octets = _length(data, offset + 1)
    start = offset + 1 + octets
    if size is not None:
        if start + size > len(data):
            raise DerError("an element runs past the end of the data")
        return tag, start, start + size, start + size
    position = start
    while True:
        if data[position:position + 2] == b"\x00\x00":
            return tag, start, position, position + 2
        position = element(data, position)[3]


def children(der: bytes) -> list[bytes]:
    """The complete encodings of the elements inside one constructed element (a SEQUENCE, SET or tagged value)."""
    _, start, end, _ = element(der)
    parts, offset = [], start
    while offset < end:
        stop = element(der, offset)[3]
        parts.append(der[offset:stop])
        offset = stop
    return parts


def header_length(der: bytes) -> int:
    """The size of the tag and length octets of the element at the start of ``der``."""
    return element(der)[1]


def element_length(der: bytes, offset: int) -> int:
    """The size of the whole element at ``offset``."""
    return element(der, offset)[3] - offset


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element: ``tag``, the definite length of ``content``, and ``content``."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def oid_der(dotted: str) -> bytes:
    """The DER of an OBJECT IDENTIFIER (``06 len arcs``), to recognise a structure by its first OID."""
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, bytes(body))
