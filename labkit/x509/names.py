"""Names as the Expressway accepts them: the FQDN rules of guide chapter 4.

An FQDN is one or more labels separated by dots. Each label holds letters, digits and hyphens, does not start or
end with a hyphen, and is at most 63 characters; the final label starts with a letter; the whole name is at most
253 characters. (The Expressway has required phone security profile names to be FQDNs since X12.6.)
"""

from __future__ import annotations

import re

from labkit import guide
from labkit.errors import PolicyError

__all__ = ["check_fqdn", "is_fqdn", "fqdn_problem"]

_LABEL = re.compile(r"[A-Za-z0-9-]+")


def fqdn_problem(value: str) -> str | None:
    """Why ``value`` is not an FQDN by chapter 4's rules, or None when it is one."""
    if not isinstance(value, str) or not value.strip():
        return "it is empty"
    name = value[:-1] if value.endswith(".") else value  # a trailing dot (the DNS root) is allowed
    if "*" in name:
        return "wildcards are not supported by the Expressway"
    if len(name) > 253:
        return f"it is {len(name)} characters long; an FQDN has at most 253"
    labels = name.split(".")
    if len(labels) < 2:
        return "it is a single label (a host name), not a fully qualified domain name"
    for label in labels:
        if not label:
            return "it has an empty label (two dots in a row, or a leading dot)"
        if not _LABEL.fullmatch(label):
            bad = sorted({ch for ch in label if not (ch.isascii() and (ch.isalnum() or ch == "-"))})
            return f"the label '{label}' contains {''.join(bad)!r}: only letters, digits and hyphens are allowed"
        if label.startswith("-") or label.endswith("-"):
            return f"the label '{label}' starts or ends with a hyphen"
        if len(label) > 63:
            return f"the label '{label[:20]}...' is {len(label)} characters long; a label has at most 63"
    if not labels[-1][0].isalpha():
        return f"the final label '{labels[-1]}' must start with a letter"
    return None


def is_fqdn(value: str) -> bool:
    return fqdn_problem(value) is None


def check_fqdn(value: str, field: str = "name") -> str:
    """``value`` if it is an FQDN; otherwise a PolicyError naming the field, the value and the broken rule."""
    problem = fqdn_problem(value)
    if problem:
        raise PolicyError(f"{field} must be an FQDN: {problem}", rule="fqdn", value=value, chapter=guide.CH4)
    return value
