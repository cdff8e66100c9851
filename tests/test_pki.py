"""Guide chapter 2: key pairs, signatures, certificates and chains, each checked against OpenSSL."""

from __future__ import annotations

import subprocess

import pytest
from asserts import KEY_TYPES, assert_is_ca, assert_is_leaf, key_type_of
from conftest import run_openssl
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import InputError, PolicyError, lab
from labkit.x509 import pki
from labkit.x509.certs import CertSpec, issue, request
from labkit.x509.openssl import attime


def test_encrypt_decrypt_round_trip_and_is_deterministic_in_the_lab():
    key = lab.fixture_key("trainee")
    c1 = pki.encrypt(key.public_key(), "secret")
    assert c1 == pki.encrypt(key.public_key(), "secret")
    assert pki.decrypt(key, c1) == b"secret"
    fresh = pki.encrypt(key.public_key(), "secret", fresh=True)
    assert fresh != c1 and pki.decrypt(key, fresh) == b"secret"


def test_only_the_matching_private_key_decrypts():
    ciphertext = pki.encrypt(lab.fixture_key("trainee").public_key(), "secret")
    with pytest.raises(PolicyError, match="oaep-decrypt"):
        pki.decrypt(lab.fixture_key("ucm"), ciphertext)
    tampered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    with pytest.raises(PolicyError):
        pki.decrypt(lab.fixture_key("trainee"), tampered)


def test_oaep_message_length_limit_is_explained():
    with pytest.raises(InputError, match="oaep-message-length"):
        pki.encrypt(lab.fixture_key("trainee").public_key(), "x" * 200)


def test_openssl_decrypts_labkit_oaep(tmp_path, openssl_bin):
    key = lab.fixture_key("trainee")
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (tmp_path / "c.bin").write_bytes(pki.encrypt(key.public_key(), "meet at 18:00"))
    out = run_openssl("pkeyutl", "-decrypt", "-inkey", tmp_path / "k.pem", "-in", tmp_path / "c.bin", "-pkeyopt",
                      "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256")
    assert out.stdout == b"meet at 18:00"


def test_signatures_equal_openssl_dgst_and_detect_tampering(tmp_path, openssl_bin):
    key = lab.fixture_key("trainee")
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (tmp_path / "m.txt").write_text("Upload at 18:00")
    run_openssl("dgst", "-sha256", "-sign", tmp_path / "k.pem", "-out", tmp_path / "m.sig", tmp_path / "m.txt")
    signature = pki.sign(key, "Upload at 18:00")
    assert signature == (tmp_path / "m.sig").read_bytes()
    assert pki.verify(key.public_key(), "Upload at 18:00", signature)
    assert not pki.verify(key.public_key(), "Upload at 19:00", signature)
    assert not pki.verify(lab.fixture_key("ucm").public_key(), "Upload at 18:00", signature)


def test_lab_chain_is_root_issuing_server_and_identical_across_runs():
    chain = pki.lab_chain()
    assert_is_ca(chain.root.certificate)
    assert_is_ca(chain.intermediate.certificate, path_length=0)
    assert_is_leaf(chain.server.certificate)
    assert [c.serial_number for c in chain.certificates] == [0x1002, 0x1001, 0x1000]
    assert chain.server.certificate.not_valid_before_utc == lab.DEFAULT_INSTANT
    lab.reset()
    assert pki.lab_chain().certificates == chain.certificates  # same bytes: fixed keys, clock, serials


def test_openssl_verifies_the_lab_chain_and_rejects_it_without_the_intermediate(tmp_path, openssl_bin):
    chain = pki.lab_chain()
    chain.root.write(tmp_path, "root")
    chain.intermediate.write(tmp_path, "inter")
    chain.server.write(tmp_path, "server")
    ok = run_openssl("verify", "-attime", attime(), "-CAfile", tmp_path / "root.pem", "-untrusted",
                     tmp_path / "inter.pem", tmp_path / "server.pem")
    assert ok.stdout.strip().endswith(b"OK")
    with pytest.raises(subprocess.CalledProcessError):
        run_openssl("verify", "-attime", attime(), "-CAfile", tmp_path / "root.pem", tmp_path / "server.pem")


def test_verify_chain_explains_a_missing_intermediate_and_a_foreign_root():
    chain = pki.lab_chain()
    check = pki.verify_chain(chain.server.certificate, trusted=[chain.root.certificate],
                             intermediates=[chain.intermediate.certificate])
    assert check.ok and check.path == chain.certificates and check.require() == chain.certificates
    missing = pki.verify_chain(chain.server.certificate, trusted=[chain.root.certificate])
    assert not missing and missing.code == 20 and missing.rule == "chain-verifies"
    assert missing.reason.startswith("'labkit Issuing CA', which issued 'expe.lab.example', is not in the trust store")
    with pytest.raises(PolicyError, match="chain-verifies"):
        missing.require()
    rogue = issue(CertSpec("labkit Root CA", ca=True), lab.fixture_key("rogue-ca"))
    foreign = pki.verify_chain(chain.server.certificate, trusted=[rogue.certificate],
                               intermediates=[chain.intermediate.certificate])
    assert not foreign and foreign.code == 7 and "another CA with the same name" in foreign.reason
    empty = pki.verify_chain(chain.server.certificate, trusted=[])
    assert not empty and empty.rule == "trust-store-not-empty"
    with pytest.raises(PolicyError, match="trust-store-not-empty"):
        empty.require()


def test_verify_chain_checks_the_name_asked_for():
    chain = pki.lab_chain()
    wrong = pki.verify_chain(chain.server.certificate, trusted=[chain.root.certificate],
                             intermediates=[chain.intermediate.certificate], name="other.lab.example")
    assert not wrong and wrong.code == 62 and "subject alternative names" in wrong.reason


def test_an_expired_server_certificate_fails_at_a_later_instant():
    chain = pki.lab_chain()
    lab.clock.advance(days=366)
    late = pki.verify_chain(chain.server.certificate, trusted=[chain.root.certificate],
                            intermediates=[chain.intermediate.certificate])
    assert not late and late.code == 10 and "outside its validity period at 2027-01-06 09:00 UTC" in late.reason
    lab.reset()
    early = pki.verify_chain(chain.server.certificate, trusted=[chain.root.certificate],
                             intermediates=[chain.intermediate.certificate], at="2025-12-31T00:00:00Z")
    assert not early and early.code == 9


def test_cert_spec_rules_are_checked_at_construction():
    with pytest.raises(PolicyError, match="path-length-needs-ca"):
        CertSpec("x.lab.example", path_length=0)
    with pytest.raises(PolicyError, match="cn-present"):
        CertSpec(" ")
    with pytest.raises(PolicyError, match="validity-positive"):
        CertSpec("x.lab.example", days=0)


def test_request_carries_the_public_key_and_names_and_is_signed(openssl_bin, tmp_path):
    key = lab.fixture_key("trainee")
    csr = request(CertSpec("trainee.lab.example", sans=("alt.lab.example",)), key)
    assert csr.is_signature_valid and csr.public_key() == key.public_key()
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["trainee.lab.example", "alt.lab.example"]
    (tmp_path / "r.pem").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    assert b"verify OK" in run_openssl("req", "-in", tmp_path / "r.pem", "-verify", "-noout").stderr


def test_ec_leaf_has_no_key_encipherment_and_signs_deterministically():
    root = issue(CertSpec("EC Root", ca=True), lab.fixture_key("ec-p256"), serial=1)
    again = issue(CertSpec("EC Root", ca=True), lab.fixture_key("ec-p256"), serial=1)
    assert root.certificate == again.certificate
    leaf = issue(CertSpec("ec.lab.example"), lab.fixture_key("ec-p256"), root)
    assert not leaf.certificate.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_a_chain_of_each_key_type_verifies_and_its_leaf_is_a_leaf(key_type, tmp_path, openssl_bin):
    """The lab issues for RSA and EC keys alike; only keyEncipherment differs (RSA key transport)."""
    chain = pki.lab_chain()
    leaf = issue(CertSpec("expe.lab.example"), lab.fixture_key(KEY_TYPES[key_type]), chain.intermediate)
    assert key_type_of(leaf.certificate) == key_type
    assert_is_leaf(leaf.certificate)
    check = pki.verify_chain(leaf.certificate, trusted=[chain.root.certificate],
                             intermediates=[chain.intermediate.certificate])
    assert check.ok, check.reason
    for name, cert in (("root", chain.root), ("inter", chain.intermediate), ("leaf", leaf)):
        (tmp_path / f"{name}.pem").write_bytes(cert.cert_pem())
    done = run_openssl("verify", "-attime", attime(), "-CAfile", tmp_path / "root.pem", "-untrusted",
                       tmp_path / "inter.pem", tmp_path / "leaf.pem")
    assert done.stdout.strip().endswith(b"OK")

