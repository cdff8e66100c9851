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
    ("not a domain!!", "contains ' !': a DNS name holds only letters"),  # the visible fault first (a trainee's try)
    ("hello world", "single label"),  # ... and the other one too
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


# -- names typed by a user (issue 16): A-labels, Punycode, the CN and the country -----------------------------------

def test_a_non_ascii_name_is_refused_with_its_a_label():
    from asserts import assert_refused

    from labkit.x509.names import a_label, check_dns_name

    assert a_label("bücher.example") == "xn--bcher-kva.example" == "bücher.example".encode("idna").decode()
    error = assert_refused("name-a-label", check_dns_name, "bücher.lab.example", "--san")
    assert "xn--bcher-kva.lab.example" in str(error)
    assert "xn--bcher-kva.example" in fqdn_problem("bücher.example")  # the FQDN rule gives the same advice
    assert check_dns_name("xn--bcher-kva.lab.example") == "xn--bcher-kva.lab.example"


@pytest.mark.parametrize("label", ["xn--zz", "xn--abc-", "xn--a", "xn--ls8h"])
def test_an_xn_label_that_does_not_decode_is_refused(label):
    from asserts import assert_refused

    from labkit.x509.names import check_dns_name, punycode_problem

    assert punycode_problem(label) and punycode_problem("bcher") is None
    assert_refused("punycode-label", check_dns_name, f"{label}.lab.example")


@pytest.mark.parametrize(("value", "rule"), [("", "cn-present"), ("  ", "cn-present"), ("a" * 65, "cn-length"),
                                             ("a\nb", "name-characters"), ("a\tb", "name-characters"),
                                             (42, "name-type")])
def test_a_common_name_is_1_to_64_characters_without_control_characters(value, rule):
    from asserts import assert_refused

    from labkit.x509.names import check_common_name

    assert_refused(rule, check_common_name, value)
    assert check_common_name("a" * 64) == "a" * 64 and check_common_name("Zürich Root CA") == "Zürich Root CA"


@pytest.mark.parametrize("value", ["GBR", "G", "1X", "Ü1", ""])
def test_a_country_is_two_letters(value):
    from asserts import assert_refused

    from labkit.x509.names import check_country

    assert_refused("country-code", check_country, value)
    assert check_country("NO") == "NO"
