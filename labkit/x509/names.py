"""Names as the Expressway accepts them: the FQDN rules of guide chapter 4.

An FQDN is one or more labels separated by dots. Each label holds letters, digits and hyphens, does not start or
end with a hyphen, and is at most 63 characters; the final label starts with a letter; the whole name is at most
253 characters. (The Expressway has required phone security profile names to be FQDNs since X12.6.)

Names typed by a user, before they go into a certificate, a CSR or a CA's configuration (each refusal a
:class:`~labkit.errors.PolicyError` naming its rule):

* :func:`check_common_name`: not empty (``cn-present``), at most 64 characters (``cn-length``, RFC 5280's
  ``ub-common-name``), no control character such as a new line (``name-characters``);
* :func:`check_country`: two letters, the ISO 3166 code (``country-code``; RFC 5280's
  ``countryName`` is a PrintableString of size 2);
* :func:`check_dns_name`: a DNS name is ASCII: a name such as ``bücher.example`` goes into a certificate as its
  A-label ``xn--bcher-kva.example`` (RFC 5280 4.2.1.6, IDNA 2008 per RFC 5890), and the refusal says which
  (``name-a-label``); a label starting ``xn--`` must decode (``punycode-label``). A-labels are computed with the
  ``idna`` package (IDNA 2008 and UTS 46), not Python's older IDNA 2003 codec.
"""

from __future__ import annotations

import re
import unicodedata

import idna

from labkit import guide
from labkit.errors import PolicyError, WrongTypeError

__all__ = ["check_fqdn", "is_fqdn", "fqdn_problem", "check_attribute", "check_common_name", "check_country",
           "check_dns_name", "a_label", "punycode_problem", "CN_MAX"]

#: RFC 5280's ub-common-name: a common name has at most 64 characters.
CN_MAX = 64

_LABEL = re.compile(r"[A-Za-z0-9-]+")


def fqdn_problem(value: str) -> str | None:
    """Why ``value`` is not an FQDN by chapter 4's rules, or None when it is one."""
    if not isinstance(value, str):
        return f"it is {type(value).__name__}, not text"
    if not value.strip():
        return "it is empty"
    name = value[:-1] if value.endswith(".") else value  # a trailing dot (the DNS root) is allowed
    if "*" in name:
        return "wildcards are not supported by the Expressway"
    if len(name) > 253:
        return f"it is {len(name)} characters long; an FQDN has at most 253"
    labels = name.split(".")
    if len(labels) < 2:
        bad = _bad_characters(name)
        if bad:  # the fault a reader can see first: spaces or symbols
            return (f"it contains {bad!r}: a DNS name holds only letters, digits, hyphens and dots, and it is a "
                    "single label (a host name), not a fully qualified domain name")
        return "it is a single label (a host name), not a fully qualified domain name"
    for label in labels:
        if not label:
            return "it has an empty label (two dots in a row, or a leading dot)"
        if not _LABEL.fullmatch(label):
            problem = (f"the label '{label}' contains {_bad_characters(label)!r}: only letters, digits and hyphens "
                       "are allowed")
            ascii_form = a_label(name) if not name.isascii() else None
            return problem + (f" (an internationalised name is written as its A-label: {ascii_form})"
                              if ascii_form else "")
        if label.startswith("-") or label.endswith("-"):
            return f"the label '{label}' starts or ends with a hyphen"
        if len(label) > 63:
            return f"the label '{label[:20]}...' is {len(label)} characters long; a label has at most 63"
    if not labels[-1][0].isalpha():
        return f"the final label '{labels[-1]}' must start with a letter"
    return None


def _bad_characters(text: str) -> str:
    """The characters of ``text`` a DNS label cannot hold (RFC 1123 2.1: letters, digits, hyphens), each once."""
    return "".join(sorted({ch for ch in text if not (ch.isascii() and (ch.isalnum() or ch == "-"))}))


def is_fqdn(value: str) -> bool:
    return fqdn_problem(value) is None


def check_fqdn(value: str, field: str = "name") -> str:
    """``value`` if it is an FQDN; otherwise a PolicyError naming the field, the value and the broken rule."""
    problem = fqdn_problem(value)
    if problem:
        raise PolicyError(f"{field} must be an FQDN: {problem}", rule="fqdn", value=value, chapter=guide.CH4)
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise WrongTypeError(f"{field} must be text, not {type(value).__name__}", rule="name-type",
                             value=repr(value), chapter=guide.CH3)
    return value


def _control(value: str, field: str) -> None:
    bad = next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        raise PolicyError(f"{field} holds a control character ({bad!r}): a new line or a tab cannot go into a name "
                          "(in a configuration file it would start a line of its own); remove it",
                          rule="name-characters", value=value, chapter=guide.CH3)


def check_attribute(value: str, field: str, *, limit: int = CN_MAX, empty_rule: str = "name-empty",
                    length_rule: str = "name-length") -> str:
    """``value`` if it can be a subject attribute's value: text, not empty, no control character, at most ``limit``
    characters (RFC 5280 appendix A's upper bounds: 64 for O, OU and CN, 128 for L and ST). Raises WrongTypeError
    ``name-type`` or PolicyError ``empty_rule``, ``name-characters``, ``length_rule``."""
    _text(value, field)
    if not value.strip():
        raise PolicyError(f"{field} is empty", rule=empty_rule, value=value, chapter=guide.CH3)
    _control(value, field)
    if len(value) > limit:
        raise PolicyError(f"{field} is {len(value)} characters long; RFC 5280 allows at most {limit} here",
                          rule=length_rule, value=value, chapter=guide.CH3)
    return value


def check_common_name(value: str, field: str = "CN") -> str:
    """``value`` if it can be a certificate's common name: text, not empty, no control character, at most
    :data:`CN_MAX` characters. Raises WrongTypeError ``name-type`` or PolicyError ``cn-present``,
    ``name-characters``, ``cn-length`` (RFC 5280's ub-common-name; a longer DNS name belongs in a SAN)."""
    _text(value, field)
    if not value.strip():
        raise PolicyError(f"{field} is empty: a certificate needs a common name", rule="cn-present", value=value,
                          chapter=guide.CH3)
    return check_attribute(value, field, empty_rule="cn-present", length_rule="cn-length")


def check_country(value: str, field: str = "country") -> str:
    """``value`` if it is a two-letter ISO 3166 country code (GB, US, NO; OpenSSL takes lower case too); else
    PolicyError ``country-code`` (RFC 5280: countryName is a PrintableString of exactly two characters)."""
    _text(value, field)
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise PolicyError(f"{field} is the two-letter ISO 3166 code (GB, US, NO ...)",
                          rule="country-code", value=value, chapter=guide.CH3)
    return value


def a_label(name: str) -> str | None:
    """The ASCII form (A-labels) of a DNS name with non-ASCII labels (``bücher.example`` ->
    ``xn--bcher-kva.example``), by IDNA 2008 with UTS 46 mapping (the ``idna`` package); None when the name has no
    valid IDNA form."""
    try:
        return idna.encode(name.rstrip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def punycode_problem(label: str) -> str | None:
    """Why a label that starts with ``xn--`` is not a valid A-label (its Punycode does not decode to a valid IDNA
    2008 label), or None (also for labels without the prefix)."""
    if not label.lower().startswith("xn--"):
        return None
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        return f"'{label}' starts with xn-- but is no valid A-label ({exc})"
    return None


def check_dns_name(value: str, field: str = "name") -> str:
    """``value`` if it can be written as a DNS name in a certificate: text, not empty (``name-empty``), without
    control characters (``name-characters``), ASCII (a non-ASCII name is refused with its A-label: PolicyError
    ``name-a-label``), only letters, digits, ``-``, ``.``, ``_`` and ``*`` (``dns-name-characters``), and every
    ``xn--`` label a valid A-label (``punycode-label``). The stricter FQDN rules are :func:`check_fqdn`'s."""
    _text(value, field)
    if not value.strip():
        raise PolicyError(f"{field} is empty", rule="name-empty", value=value, chapter=guide.CH4)
    _control(value, field)
    if not value.isascii():
        label = a_label(value)
        advice = (f"write it as its A-label: {label}" if label else
                  "and it has no valid A-label (IDNA 2008) either: check the spelling")
        raise PolicyError(f"{field} has non-ASCII characters: a DNS name goes into a certificate in ASCII; {advice}",
                          rule="name-a-label", value=value, chapter=guide.CH4)
    odd = sorted({ch for ch in value if not (ch.isalnum() or ch in "-._*")})
    if odd:
        raise PolicyError(f"{field} holds {''.join(odd)!r}: a DNS name has letters, digits, hyphens and dots (a "
                          "wildcard '*' at most)", rule="dns-name-characters", value=value, chapter=guide.CH4)
    for label in value.rstrip(".").split("."):
        problem = punycode_problem(label)
        if problem:
            raise PolicyError(f"{field}: {problem}", rule="punycode-label", value=value, chapter=guide.CH4)
    return value
