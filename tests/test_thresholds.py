"""Every documented threshold, pinned on both sides of its limit.

A rule table that says "under 2048 bits" or "within 30 days" is a promise about one exact number; a test that sits
far from it would not notice the number moving. Each case here sits at the limit and one step either side.
Public keys of odd sizes are built from their numbers (a certificate carries only the public key, so no private key
of that size is needed); CSRs, which are signed by their own key, use real keys.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from labkit import PolicyError, lab
from labkit.expressway.doctor import doctor
from labkit.x509.certs import CertSpec, Issued, issue, sign_builder

UTC = dt.timezone.utc


def rsa_public_key(bits: int) -> rsa.RSAPublicKey:
    """An RSA public key whose modulus has exactly ``bits`` bits (odd, top bit set; not a product of two primes,
    which only a private key would reveal)."""
    n = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    return rsa.RSAPublicNumbers(65537, n).public_key()


def lab_issuer() -> Issued:
    return issue(CertSpec("Threshold CA", ca=True, days=3650), lab.fixture_key("issuing-ca"))


def certificate(*, public=None, not_after: dt.datetime | None = None, days: int = 365) -> x509.Certificate:
    """A server certificate from the lab issuer with the given public key and expiry (everything else ordinary)."""
    issuer = lab_issuer()
    leaf = issue(CertSpec("expe.lab.example", days=days), public or lab.fixture_key("expe-1").public_key(), issuer)
    if not_after is None:
        return leaf.certificate
    cert = leaf.certificate
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.issuer)
               .public_key(cert.public_key()).serial_number(cert.serial_number)
               .not_valid_before(cert.not_valid_before_utc).not_valid_after(not_after))
    for ext in cert.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    return sign_builder(builder, issuer.key)


def rules(cert, **kwargs) -> set[str]:
    return set(doctor(cert, role="expressway-e", **kwargs).rules())


# -- doctor: expires-soon "within 30 days" ------------------------------------------------------------------------

@pytest.mark.parametrize(("days_left", "fires"), [(29, True), (30, True), (31, False)])
def test_expires_soon_fires_up_to_30_days_left(days_left, fires):
    cert = certificate(not_after=lab.now() + dt.timedelta(days=days_left))
    assert ("expires-soon" in rules(cert)) is fires


def test_expires_soon_counts_whole_seconds_at_the_limit():
    just_over = certificate(not_after=lab.now() + dt.timedelta(days=30, seconds=1))
    assert "expires-soon" not in rules(just_over)


# -- doctor: validity includes both ends (RFC 5280 4.1.2.5) -----------------------------------------------------

def test_a_certificate_is_valid_at_its_not_after_and_not_before_instants():
    cert = certificate(days=365)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    assert "expired" not in rules(cert, at=end) and "expires-soon" in rules(cert, at=end)
    assert "expired" in rules(cert, at=end + dt.timedelta(seconds=1))
    assert "not-yet-valid" not in rules(cert, at=start)
    assert "not-yet-valid" in rules(cert, at=start - dt.timedelta(seconds=1))


# -- doctor: RSA key sizes -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bits", "expected"), [
    (2047, {"key-too-small"}),
    (2048, set()),
    (8191, set()),
    (8192, {"key-8192"}),
])
def test_rsa_key_size_limits(bits, expected):
    found = rules(certificate(public=rsa_public_key(bits))) & {"key-too-small", "key-8192"}
    assert found == expected


# -- doctor: the year 2050 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("not_after", "fires"), [
    (dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), False),
    (dt.datetime(2050, 1, 1, 0, 0, 0, tzinfo=UTC), True),
])
def test_expires_after_2050_starts_on_the_first_second_of_2050(not_after, fires):
    assert ("expires-after-2050" in rules(certificate(not_after=not_after))) is fires


# -- the server certificate page's security level -----------------------------------------------------------------

@pytest.mark.parametrize(("bits", "fires"), [(2047, True), (2048, False)])
def test_upload_security_level_needs_2048_bit_rsa(bits, fires):
    from labkit.expressway.store import CertificateStore

    store = CertificateStore()
    cert = certificate(public=rsa_public_key(bits))
    found = store.server._warnings(cert)
    assert ("security-level" in [f.rule for f in found]) is fires


# -- the CA refuses short RSA keys (CSRs and CA keys) -------------------------------------------------------------

@pytest.fixture(scope="module")
def key_2047():
    return rsa.generate_private_key(public_exponent=65537, key_size=2047)


def test_ca_signs_a_2048_bit_request_and_refuses_2047(tmp_path, key_2047):
    from labkit.ca import init_ca
    from labkit.x509.certs import request

    ca = init_ca(tmp_path / "ca", "Threshold CA", key=lab.fixture_key("root-ca"))
    issued = ca.sign(request(CertSpec("ok.lab.example"), lab.fixture_key("trainee")))
    assert issued.public_key().key_size == 2048
    with pytest.raises(PolicyError) as caught:
        ca.sign(request(CertSpec("short.lab.example"), key_2047))
    assert caught.value.rule == "rsa-key-size" and "2047 bits" in str(caught.value)


def test_ca_key_needs_2048_bits(tmp_path, key_2047):
    from labkit.ca import init_ca

    with pytest.raises(PolicyError) as caught:
        init_ca(tmp_path / "short", "Short CA", key=key_2047)
    assert caught.value.rule == "rsa-key-size"
    assert not (tmp_path / "short" / "index.txt").exists()
    init_ca(tmp_path / "fine", "Fine CA", key=lab.fixture_key("root-ca"))


# -- index.txt dates: UTCTime through 2049, four-digit years from 2050 (RFC 5280 4.1.2.5) --------------------------

@pytest.mark.parametrize(("moment", "text"), [
    (dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), "491231235959Z"),
    (dt.datetime(2050, 1, 1, 0, 0, 0, tzinfo=UTC), "20500101000000Z"),
])
def test_index_txt_switches_to_four_digit_years_in_2050(moment, text):
    from labkit.ca import database

    assert database.openssl_time(moment) == text
    assert database.parse_openssl_time(text) == moment


# -- input sizes ---------------------------------------------------------------------------------------------------

def test_input_limit_is_exactly_max_input_bytes(tmp_path):
    from labkit import InputError
    from labkit.x509.loading import MAX_INPUT_BYTES, read_file

    at_limit = tmp_path / "at-limit.bin"
    at_limit.write_bytes(b"\0" * MAX_INPUT_BYTES)
    assert len(read_file(at_limit)) == MAX_INPUT_BYTES
    over = tmp_path / "over.bin"
    over.write_bytes(b"\0" * (MAX_INPUT_BYTES + 1))
    with pytest.raises(InputError) as caught:
        read_file(over)
    assert caught.value.rule == "file-too-large"


@pytest.mark.parametrize(("length", "refused"), [(64, False), (65, True)])
def test_csr_common_name_holds_at_most_64_characters(length, refused):
    from labkit.expressway.csr import LAB_SUBJECT, CsrRequest

    name = ("a" * (length - len(".lab.example")) + ".lab.example")
    assert len(name) == length

    def make():
        return CsrRequest(role="expressway-e", fqdn="expe.lab.example", common_name="custom",
                          custom_common_name=name, **LAB_SUBJECT)

    if refused:
        with pytest.raises(PolicyError) as caught:
            make()
        assert caught.value.rule == "cn-length"
    else:
        assert make().cn == name
