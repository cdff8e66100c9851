"""Guide chapter 4: the FQDN rules, one case per rule."""

from __future__ import annotations

import pytest

from labkit import PolicyError
from labkit.x509.names import check_fqdn, fqdn_problem, is_fqdn


@pytest.mark.parametrize("name", ["expe.example.com", "a.b", "peer-1.cluster.example.com", "x1.example.org.",
                                  "a" * 63 + ".example.com", "jabbersecureprofile.domain.com", "9lives.example.com"])
def test_valid_fqdns(name):
    assert is_fqdn(name) and check_fqdn(name) == name


@pytest.mark.parametrize("name,words", [
    ("", "empty"),
    ("   ", "empty"),
    ("expressway", "single label"),
    ("*.example.com", "wildcard"),
    ("exp_e.example.com", "'_'"),
    ("exp e.example.com", "' '"),
    ("-expe.example.com", "hyphen"),
    ("expe-.example.com", "hyphen"),
    ("expe..example.com", "empty label"),
    (".example.com", "empty label"),
    ("expe.example.123", "start with a letter"),
    ("expe.example.1com", "start with a letter"),
    ("a" * 64 + ".example.com", "at most 63"),
    (("abcdefghi." * 26) + "com", "at most 253"),
    ("exp\u00e9.example.com", "only letters, digits and hyphens"),
])
def test_each_fqdn_rule_is_named(name, words):
    assert words in fqdn_problem(name)
    with pytest.raises(PolicyError) as info:
        check_fqdn(name, "Unified CM phone security profile name")
    assert info.value.rule == "fqdn" and "Unified CM phone security profile name must be an FQDN" in str(info.value)
    assert "chapter 4" in info.value.chapter
