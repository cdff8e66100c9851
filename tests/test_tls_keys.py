"""labkit.tls.keys against published vectors, an independent PRF, and real OpenSSL handshakes run in-process."""

from __future__ import annotations

import hashlib
import hmac
import os
import ssl

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from labkit import InputError, PolicyError, WrongTypeError, lab
from labkit.tls import keys as tk
from labkit.x509.certs import CertSpec, issue

H = bytes.fromhex


# --- TLS 1.2 PRF ------------------------------------------------------------------------------------------------------

# The P_SHA256 test vector posted to the IETF TLS list (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html),
# confirmed at https://lists.oasis-open.org/archives/pkcs11/201411/msg00019.html; the same 100 bytes are used by the
# test suites of BearSSL (test_crypto.c) and others.
PRF_SECRET = H("9bbe436ba940f017b17652849a71db35")
PRF_SEED = H("a0ba9f936cda311827a6f796ffd5198c")
PRF_OUTPUT = H(
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
    "87347b66"
)


def independent_prf(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """INDEPENDENT REFERENCE, written from RFC 5246 section 5 with the standard library's hmac (not labkit's code)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:length]


def test_prf_reproduces_the_published_p_sha256_vector():
    assert tk.prf(PRF_SECRET, b"test label", PRF_SEED, 100) == PRF_OUTPUT
    assert tk.prf(PRF_SECRET, "test label", PRF_SEED, 8) == H("e3f229ba727be17b")


@pytest.mark.parametrize("length", [0, 1, 12, 32, 33, 48, 100, 200])
def test_prf_matches_an_independent_implementation(length):
    secret, seed = os.urandom(48), os.urandom(64)
    assert tk.prf(secret, b"key expansion", seed, length) == independent_prf(secret, b"key expansion", seed, length)


@pytest.mark.parametrize("length", [-1, 1.5, True, "12"])
def test_prf_refuses_a_bad_length(length):
    with pytest.raises(InputError) as err:
        tk.prf(PRF_SECRET, b"test label", PRF_SEED, length)
    assert err.value.rule == "output-length"


def test_prf_refuses_text_where_bytes_belong():
    with pytest.raises(InputError) as err:
        tk.prf("9bbe436b", b"test label", PRF_SEED, 12)
    assert err.value.rule == "bytes-input"


# --- TLS 1.2: "The Illustrated TLS 1.2 Connection" ------------------------------------------------------------------

# Published at https://tls12.xargs.org (repository syncsynchalt/illustrated-tls12, site/index.html, "Client Encryption
# Keys Calculation", "Client/Server Handshake Finished"; captures/keylog.txt). ECDHE x25519, AES128-SHA, classic master.
CLIENT_PRIVATE = bytes(range(0x20, 0x40))
SERVER_PRIVATE = bytes(range(0x90, 0xB0))
CLIENT_PUBLIC = H("358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254")
SERVER_PUBLIC = H("9fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8fabb349a982880b615")
SHARED_SECRET = H("df4a291baa1eb7cfa6934b29b474baad2697e29f1f920dcc77c8a0a088447624")
CLIENT_RANDOM = bytes(range(0x00, 0x20))
SERVER_RANDOM = bytes(range(0x70, 0x90))
TLS12_MASTER = H("916abf9da55973e13614ae0a3f5d3f37b023ba129aee02cc9134338127cd7049781c8e19fc1eb2a7387ac06ae237344c")
TLS12_KEYLOG = f"CLIENT_RANDOM {CLIENT_RANDOM.hex()} {TLS12_MASTER.hex()}\n"


def test_tls12_illustrated_master_secret_keys_and_finished():
    premaster = tk.x25519_shared_secret(CLIENT_PRIVATE, SERVER_PUBLIC)  # the ECDHE premaster is the X25519 result
    assert premaster == SHARED_SECRET
    master = tk.master_secret(premaster, CLIENT_RANDOM, SERVER_RANDOM)
    assert master == TLS12_MASTER
    assert tk.parse_keylog(TLS12_KEYLOG)["CLIENT_RANDOM"][CLIENT_RANDOM] == master
    keys = tk.split_key_block(tk.key_block(master, CLIENT_RANDOM, SERVER_RANDOM, 104), mac_len=20, iv_len=16)
    assert {name: value.hex() for name, value in keys.items()} == {
        "client_write_mac_key": "1b7d117c7d5f690bc263cae8ef60af0f1878acc2",
        "server_write_mac_key": "2ad8bdd8c601a617126f63540eb20906f781fad2",
        "client_write_key": "f656d037b173ef3e11169f27231a84b6",
        "server_write_key": "752a18e7a9fcb7cbcdd8f98dd8f769eb",
        "client_write_iv": "a0d2550c9238eebfef5c32251abb67d6",
        "server_write_iv": "434528db4937d540d393135e06a11bb8",
    }
    client_hash = H("061dda04b3c2217ff73bd79b9cf88a2bb6ec505404aac8722db03ef417b54cb4")
    server_hash = H("b2017ba28d0e27f03ae327456b6ff00b4d5bbf0ef7cda83ce1029b521c3e7c35")
    assert tk.finished(master, b"client finished", handshake_hash=client_hash) == H("cf919626f1360c536aaad73a")
    assert tk.finished(master, "server finished", handshake_hash=server_hash) == H("844d3c10746dd722f92f0c7e")


def test_finished_from_messages_is_prf_of_their_sha256():
    messages = os.urandom(300)
    expected = independent_prf(TLS12_MASTER, b"client finished", hashlib.sha256(messages).digest(), 12)
    assert tk.finished(TLS12_MASTER, b"client finished", messages) == expected


@pytest.mark.parametrize("kwargs, rule", [
    ({"label": b"client finishd", "handshake_messages": b"x"}, "finished-label"),
    ({"label": b"client finished"}, "messages-or-hash"),
    ({"label": b"client finished", "handshake_messages": b"x", "handshake_hash": bytes(32)}, "messages-or-hash"),
    ({"label": b"client finished", "handshake_hash": bytes(20)}, "hash-length"),
])
def test_finished_bad_input(kwargs, rule):
    with pytest.raises(InputError) as err:
        tk.finished(TLS12_MASTER, **kwargs)
    assert err.value.rule == rule


def test_extended_master_secret_is_the_prf_over_the_session_hash():
    premaster, session_hash = b"\x03\x03" + os.urandom(46), hashlib.sha256(os.urandom(500)).digest()
    ems = tk.extended_master_secret(premaster, session_hash)
    assert ems == independent_prf(premaster, b"extended master secret", session_hash, 48)
    assert ems != tk.master_secret(premaster, session_hash, session_hash)
    with pytest.raises(InputError) as err:  # the messages themselves instead of their hash
        tk.extended_master_secret(premaster, os.urandom(500))
    assert err.value.rule == "session-hash-length"


def test_key_block_and_split_for_aes128_gcm_sha256():
    block = tk.key_block(TLS12_MASTER, CLIENT_RANDOM, SERVER_RANDOM)
    assert block == independent_prf(TLS12_MASTER, b"key expansion", SERVER_RANDOM + CLIENT_RANDOM, 40)
    keys = tk.split_key_block(block)
    assert list(keys) == ["client_write_key", "server_write_key", "client_write_iv", "server_write_iv"]
    assert [len(v) for v in keys.values()] == [16, 16, 4, 4]
    assert b"".join(keys.values()) == block
    with pytest.raises(InputError) as err:
        tk.split_key_block(block[:39])
    assert err.value.rule == "key-block-length"
    with pytest.raises(InputError) as err:
        tk.key_block(TLS12_MASTER[:47], CLIENT_RANDOM, SERVER_RANDOM)
    assert err.value.rule == "master-secret-length"
    with pytest.raises(InputError) as err:
        tk.master_secret(SHARED_SECRET, CLIENT_RANDOM[:31], SERVER_RANDOM)
    assert err.value.rule == "client-random-length"


# --- RSA key exchange: the premaster in ClientKeyExchange -----------------------------------------------------------

def client_key_exchange(ciphertext: bytes) -> bytes:
    """Wrap an encrypted premaster as OpenSSL's message callback shows it: type 16, 3-byte length, 2-byte length."""
    body = len(ciphertext).to_bytes(2, "big") + ciphertext
    return bytes([16]) + len(body).to_bytes(3, "big") + body


def test_decrypt_premaster_round_trip():
    key = lab.fixture_key("expe-1")
    premaster = b"\x03\x03" + os.urandom(46)
    message = client_key_exchange(key.public_key().encrypt(premaster, padding.PKCS1v15()))
    assert len(message) == 4 + 2 + 256 and message[6:] != premaster
    assert tk.decrypt_premaster(key, message) == premaster


@pytest.mark.parametrize("case", ["wrong key", "wrong version", "47 bytes", "49 bytes"])
def test_decrypt_premaster_refuses_a_bad_premaster(case):
    key = lab.fixture_key("expe-1")
    plain = {"wrong version": b"\x03\x01" + os.urandom(46), "47 bytes": b"\x03\x03" + os.urandom(45),
             "49 bytes": b"\x03\x03" + os.urandom(47)}.get(case, b"\x03\x03" + os.urandom(46))
    encrypt_to = lab.fixture_key("expc-1") if case == "wrong key" else key
    message = client_key_exchange(encrypt_to.public_key().encrypt(plain, padding.PKCS1v15()))
    with pytest.raises(PolicyError) as err:
        tk.decrypt_premaster(key, message)
    assert err.value.rule == "premaster-format"
    assert "48 bytes" in str(err.value) and "RFC 5246 section 7.4.7.1" in str(err.value)


def test_decrypt_premaster_bad_messages_and_keys():
    key = lab.fixture_key("expe-1")
    good = client_key_exchange(key.public_key().encrypt(b"\x03\x03" + bytes(46), padding.PKCS1v15()))
    for bad in (good[:5], b"", bytes([15]) + good[1:], good[:-1], good[:4] + b"\x00\x10" + good[6:]):
        with pytest.raises(InputError) as err:
            tk.decrypt_premaster(key, bad)
        assert err.value.rule == "client-key-exchange"
    big = lab.fixture_key("rsa-4096")
    with pytest.raises(PolicyError) as err:
        tk.decrypt_premaster(key, client_key_exchange(big.public_key().encrypt(bytes(48), padding.PKCS1v15())))
    assert err.value.rule == "premaster-ciphertext"
    for not_rsa in (ec.generate_private_key(ec.SECP256R1()), key.public_key()):
        with pytest.raises(WrongTypeError) as err:
            tk.decrypt_premaster(not_rsa, good)
        assert err.value.rule == "rsa-private-key"


# --- TLS 1.3: "The Illustrated TLS 1.3 Connection" ------------------------------------------------------------------

# Published at https://tls13.xargs.org (formerly tls13.ulfheim.net), repository syncsynchalt/illustrated-tls13, in its
# TLS_AES_128_GCM_SHA256 edition (site/index.html at commit 019932bc; archive/site/index.html): the two private keys,
# the ClientHello and ServerHello bytes, hello_hash, handshake_hash (through server Finished), the Finished hashes and
# verify_data, every secret, key and IV below, and two encrypted client records. The application traffic secrets and
# the exporter secret are the repository's key log (archive/captures/keylog.txt at commit 8d47fa29).
CLIENT_HELLO = (
    H("010000c6" "0303") + CLIENT_RANDOM + H("20") + bytes(range(0xE0, 0x100))
    + H("0006130113021303" "0100" "0077"
        "0000001800160000136578616d706c652e756c666865696d2e6e6574"  # server_name example.ulfheim.net
        "000a00080006001d00170018"  # supported_groups
        "000d00140012040308040401050308050501080606010201"  # signature_algorithms
        "003300260024001d0020") + CLIENT_PUBLIC  # key_share x25519
    + H("002d00020101" "002b0003020304")  # psk_key_exchange_modes, supported_versions
)
SERVER_HELLO = (
    H("02000076" "0303") + SERVER_RANDOM + H("20") + bytes(range(0xE0, 0x100))
    + H("1301" "00" "002e" "00330024001d0020") + SERVER_PUBLIC + H("002b00020304")
)
HELLO_HASH = H("da75ce1139ac80dae4044da932350cf65c97ccc9e33f1e6f7d2d4b18b736ffd5")
HANDSHAKE_HASH = H("22844b930e5e0a59a09d5ac35fc032fc91163b193874a265236e568077378d8b")
THROUGH_CERT_VERIFY_HASH = H("0cd9871cd7a164dce9fbc7f96c0f2978417dfc0c728a3f2096a7de210991a865")
TLS13_PUBLISHED = {
    "handshake_secret": "fb9fc80689b3a5d02c33243bf69a1b1b20705588a794304a6e7120155edf149a",
    "client_handshake_traffic_secret": "ff0e5b965291c608c1e8cd267eefc0afcc5e98a2786373f0db47b04786d72aea",
    "server_handshake_traffic_secret": "a2067265e7f0652a923d5d72ab0467c46132eeb968b6a32d311c805868548814",
    "client_handshake_key": "7154f314e6be7dc008df2c832baa1d39",
    "server_handshake_key": "844780a7acad9f980fa25c114e43402a",
    "client_handshake_iv": "71abc2cae4c699d47c600268",
    "server_handshake_iv": "4c042ddc120a38d1417fc815",
    "client_application_key": "49134b95328f279f0183860589ac6707",
    "server_application_key": "0b6d22c8ff68097ea871c672073773bf",
    "client_application_iv": "bc4dd5f7b98acff85466261d",
    "server_application_iv": "1b13dd9f8d8f17091d34b349",
}
TLS13_KEYLOG = f"""# archive/captures/keylog.txt of syncsynchalt/illustrated-tls13
CLIENT_HANDSHAKE_TRAFFIC_SECRET {CLIENT_RANDOM.hex()} {TLS13_PUBLISHED["client_handshake_traffic_secret"]}
SERVER_HANDSHAKE_TRAFFIC_SECRET {CLIENT_RANDOM.hex()} {TLS13_PUBLISHED["server_handshake_traffic_secret"]}
CLIENT_TRAFFIC_SECRET_0 {CLIENT_RANDOM.hex()} b8822231c1d676ecca1c11fff6594280314d03a4e91cf1af7fe73f8f7be2c11b
SERVER_TRAFFIC_SECRET_0 {CLIENT_RANDOM.hex()} 3fc35ea70693069a277956afa23b8f4543ce68ac595f2aace05cd7a1c92023d5
EXPORTER_SECRET {CLIENT_RANDOM.hex()} 0798fa25da1e8b7487b245d7c4af9b24988de3aefa0ef63259fd6c9d0b52aeed
"""
# Not printed on the page, but the RFC 8446 values for no PSK (early secret, "derived") and the master secret printed
# by independent reproductions of the page (e.g. a MIRACL-based TLS 1.3 demo, the Datagrammer QUIC test suite); the
# master secret is also pinned by the key log's application secrets above, which derive from it.
TLS13_REPRODUCED = {
    "early_secret": "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
    "derived": "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
    "master_secret": "7f2882bb9b9a46265941653e9c2f19067118151e21d12e57a7b6aca1f8150c8d",
}


def test_x25519_reproduces_the_published_keys_and_shared_secret():
    assert tk.x25519_public_bytes(CLIENT_PRIVATE) == CLIENT_PUBLIC
    assert tk.x25519_public_bytes(SERVER_PRIVATE) == SERVER_PUBLIC
    assert tk.x25519_shared_secret(CLIENT_PRIVATE, SERVER_PUBLIC) == SHARED_SECRET
    assert tk.x25519_shared_secret(SERVER_PRIVATE, CLIENT_PUBLIC) == SHARED_SECRET


def test_the_published_hellos_hash_to_the_published_hello_hash():
    assert len(CLIENT_HELLO) == 4 + 0xC6 and len(SERVER_HELLO) == 4 + 0x76
    assert tk.transcript_hash(CLIENT_HELLO + SERVER_HELLO) == HELLO_HASH


def test_tls13_key_schedule_reproduces_every_published_value():
    shared = tk.x25519_shared_secret(CLIENT_PRIVATE, SERVER_PUBLIC)
    keylog = tk.parse_keylog(TLS13_KEYLOG)
    schedule = tk.key_schedule(shared, CLIENT_HELLO + SERVER_HELLO, handshake_messages_hash=HANDSHAKE_HASH)
    assert schedule["hello_hash"] == HELLO_HASH and schedule["handshake_hash"] == HANDSHAKE_HASH
    for name, value in {**TLS13_PUBLISHED, **TLS13_REPRODUCED}.items():
        assert schedule[name].hex() == value, name
    for name, label in tk.SCHEDULE_TO_KEYLOG.items():
        assert schedule[name] == keylog[label][CLIENT_RANDOM], name
    assert list(schedule) == [
        "early_secret", "derived", "handshake_secret", "hello_hash",
        "client_handshake_traffic_secret", "client_handshake_key", "client_handshake_iv",
        "server_handshake_traffic_secret", "server_handshake_key", "server_handshake_iv",
        "master_derived", "master_secret", "handshake_hash",
        "client_application_traffic_secret_0", "client_application_key", "client_application_iv",
        "server_application_traffic_secret_0", "server_application_key", "server_application_iv",
        "exporter_master_secret",
    ]
    by_hash = tk.key_schedule(shared, hello_hash=HELLO_HASH)
    assert list(by_hash) == list(schedule)[:10] and all(by_hash[k] == schedule[k] for k in by_hash)
    assert tk.traffic_keys(schedule["server_handshake_traffic_secret"]) == (
        H(TLS13_PUBLISHED["server_handshake_key"]), H(TLS13_PUBLISHED["server_handshake_iv"]))


def test_tls13_building_blocks_match_the_schedule():
    schedule = tk.key_schedule(SHARED_SECRET, hello_hash=HELLO_HASH)
    assert tk.hkdf_extract(b"", bytes(32)) == schedule["early_secret"]
    assert tk.derive_secret(schedule["early_secret"], "derived", b"") == schedule["derived"]
    assert tk.derive_secret(schedule["handshake_secret"], "c hs traffic", CLIENT_HELLO + SERVER_HELLO) == H(
        TLS13_PUBLISHED["client_handshake_traffic_secret"])


def test_tls13_finished_reproduces_the_published_verify_data():
    server_secret = H(TLS13_PUBLISHED["server_handshake_traffic_secret"])
    client_secret = H(TLS13_PUBLISHED["client_handshake_traffic_secret"])
    assert tk.tls13_finished(server_secret, THROUGH_CERT_VERIFY_HASH) == H(
        "ea6ee176dccc4af1859e9e4e93f797eac9a78ce439301e35275ad43f3cddbde3")
    assert tk.tls13_finished(client_secret, HANDSHAKE_HASH) == H(
        "976017a77ae47f1658e28f7085fe37d149d1e9c91f56e1aebbe0c6bb054bd92b")


@pytest.mark.parametrize("key, iv, header, ciphertext, tag, plaintext", [
    # Client Handshake Finished record, sealed with the client handshake key and IV, record 0
    ("client_handshake_key", "client_handshake_iv", "1703030035",
     "7155dff4741bdfc0c43a1de0b01133ac1974edc88e7091c3ff1e2660cd719283ba40f7c10b", "5435d4eb22d0536c80c932e2f3c96083",
     "14000020976017a77ae47f1658e28f7085fe37d149d1e9c91f56e1aebbe0c6bb054bd92b16"),
    # Client Application Data "ping", sealed with the client application key and IV, record 0
    ("client_application_key", "client_application_iv", "1703030015", "c74061535e",
     "b12f5f25a781957874742ab7fb305dd5", "70696e6717"),
])
def test_published_records_decrypt_with_the_recomputed_keys(key, iv, header, ciphertext, tag, plaintext):
    schedule = tk.key_schedule(SHARED_SECRET, hello_hash=HELLO_HASH, handshake_messages_hash=HANDSHAKE_HASH)
    nonce = tk.record_nonce(schedule[iv], 0)
    assert AESGCM(schedule[key]).decrypt(nonce, H(ciphertext + tag), H(header)) == H(plaintext)


# The current edition of the same page uses TLS_AES_256_GCM_SHA384 (site/index.html at commit 40acea5d, "Server
# Handshake Keys Calc", "Server Application Keys Calc", the Server Finished record) with the same two private keys;
# its key log is captures/keylog.txt at commit ba75259f.
SHA384_PUBLISHED = {
    "hello_hash":
        "e05f64fcd082bdb0dce473adf669c2769f257a1c75a51b7887468b5e0e7a7de4f4d34555112077f16e079019d5a845bd",
    "handshake_hash":
        "fa6800169a6baac19159524fa7b9721b41be3c9db6f3f93fa5ff7e3db3ece204d2b456c51046e40ec5312c55a86126f5",
    "handshake_secret":
        "bdbbe8757494bef20de932598294ea65b5e6bf6dc5c02a960a2de2eaa9b07c929078d2caa0936231c38d1725f179d299",
    "server_handshake_traffic_secret":
        "23323da031634b241dd37d61032b62a4f450584d1f7f47983ba2f7cc0cdcc39a68f481f2b019f9403a3051908a5d1622",
    "client_handshake_traffic_secret":
        "db89d2d6df0e84fed74a2288f8fd4d0959f790ff23946cdf4c26d85e51bebd42ae184501972f8d30c4a3e4a3693d0ef0",
    "server_handshake_key": "9f13575ce3f8cfc1df64a77ceaffe89700b492ad31b4fab01c4792be1b266b7f",
    "server_handshake_iv": "9563bc8b590f671f488d2da3",
    "client_handshake_key": "1135b4826a9a70257e5a391ad93093dfd7c4214812f493b3e3daae1eb2b1ac69",
    "client_handshake_iv": "4256d2e0e88babdd05eb2f27",
    "server_application_key": "01f78623f17e3edcc09e944027ba3218d57c8e0db93cd3ac419309274700ac27",
    "server_application_iv": "196a750b0c5049c0cc51a541",
    "client_application_key": "de2f4c7672723a692319873e5c227606691a32d1c59d8b9f51dbb9352e9ca9cc",
    "client_application_iv": "bb007956f474b25de902432f",
    "server_application_traffic_secret_0":
        "86c967fd7747a36a0685b4ed8d0e6b4c02b4ddaf3cd294aa44e9f6b0183bf911e89a189ba5dfd71fccffb5cc164901f8",
    "client_application_traffic_secret_0":
        "9e47af27cb60d818a9ea7d233cb5ed4cc525fcd74614fb24b0ee59acb8e5aa7ff8d88b89792114208fec291a6fa96bad",
    "exporter_master_secret":
        "5da16dd8325dd8279e4535363384d9ad0dbe370538fc3ad74e53d533b77ac35ee072d56c90871344e6857ccb2efc9e14",
}


def test_tls13_sha384_edition_reproduces_every_published_value():
    suite = "TLS_AES_256_GCM_SHA384"
    schedule = tk.key_schedule(SHARED_SECRET, hello_hash=H(SHA384_PUBLISHED["hello_hash"]), suite=suite,
                               handshake_messages_hash=H(SHA384_PUBLISHED["handshake_hash"]))
    for name, value in SHA384_PUBLISHED.items():
        assert schedule[name].hex() == value, name
    assert len(schedule["master_secret"]) == 48
    # the Server Finished record: the 4th record under the server handshake key, so sequence number 3
    nonce = tk.record_nonce(schedule["server_handshake_iv"], 3)
    sealed = H("1061de27e51c2c9f342911806f282b710c10632ca5006755880dbf7006002d0e"
               "84fed9adf27a43b5192303e4df5c285d58e3c76224" "078440c0742374744aecf28cf3182fd0")  # ciphertext, tag
    verify_data = H("7e30eeccb6b23be6c6ca363992e842da877ee64715ae7fc0cf87f9e5032182b5bb48d1e33f9979055a160c8dbbb1569c")
    assert AESGCM(schedule["server_handshake_key"]).decrypt(nonce, sealed, H("1703030045")) == (
        H("14000030") + verify_data + H("16"))
    with pytest.raises(InputError) as err:  # a SHA-256 hash where the suite needs SHA-384
        tk.key_schedule(SHARED_SECRET, hello_hash=HELLO_HASH, suite=suite)
    assert err.value.rule == "hash-length"
    with pytest.raises(InputError) as err:
        tk.traffic_keys(SHARED_SECRET, suite="TLS_AES_128_CCM_SHA256")
    assert err.value.rule == "tls13-suite"


def test_record_nonce_xors_the_sequence_into_the_iv():
    iv = H("4c042ddc120a38d1417fc815")
    assert tk.record_nonce(iv, 0) == iv
    assert tk.record_nonce(iv, 1) == H("4c042ddc120a38d1417fc814")
    assert tk.record_nonce(iv, 0x0102) == H("4c042ddc120a38d1417fc917")
    for bad in (-1, 2**64, 1.0):
        with pytest.raises(InputError):
            tk.record_nonce(iv, bad)


@pytest.mark.parametrize("call, rule", [
    (lambda: tk.key_schedule(SHARED_SECRET), "messages-or-hash"),
    (lambda: tk.key_schedule(SHARED_SECRET, b"hello", hello_hash=HELLO_HASH), "messages-or-hash"),
    (lambda: tk.key_schedule(SHARED_SECRET, hello_hash=HELLO_HASH[:16]), "hash-length"),
    (lambda: tk.key_schedule(b"", hello_hash=HELLO_HASH), "shared-secret-present"),
    (lambda: tk.key_schedule(SHARED_SECRET, hello_hash=HELLO_HASH, handshake_messages=b"m",
                             handshake_messages_hash=HANDSHAKE_HASH), "messages-or-hash"),
    (lambda: tk.hkdf_expand_label(SHARED_SECRET, "x" * 250, b"", 32), "hkdf-label-length"),
    (lambda: tk.hkdf_expand_label(SHARED_SECRET, "key", b"", 255 * 32 + 1), "output-length"),
    (lambda: tk.x25519_shared_secret(CLIENT_PRIVATE, SERVER_PUBLIC[:31]), "x25519-key-length"),
    (lambda: tk.x25519_shared_secret(CLIENT_PRIVATE, bytes(32)), "x25519-peer-key"),
    (lambda: tk.tls13_finished(SHARED_SECRET, b"not a hash"), "hash-length"),
])
def test_tls13_bad_input(call, rule):
    with pytest.raises(InputError) as err:
        call()
    assert err.value.rule == rule


def test_p256_ecdhe_both_sides_agree():
    a, b = os.urandom(31) + b"\x01", os.urandom(31) + b"\x02"
    a_pub, b_pub = tk.p256_public_bytes(a), tk.p256_public_bytes(b)
    assert len(a_pub) == 65 and a_pub[0] == 4
    secret = tk.p256_shared_secret(a, b_pub)
    assert secret == tk.p256_shared_secret(b, a_pub) and len(secret) == 32
    b_key = ec.derive_private_key(int.from_bytes(b, "big"), ec.SECP256R1())
    a_point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), a_pub)
    assert b_key.exchange(ec.ECDH(), a_point) == secret
    with pytest.raises(InputError) as err:
        tk.p256_shared_secret(a, b"\x04" + bytes(64))
    assert err.value.rule == "p256-peer-point"
    with pytest.raises(InputError) as err:
        tk.p256_public_bytes(bytes(32))
    assert err.value.rule == "p256-private-key"


# --- NSS key log ----------------------------------------------------------------------------------------------------

def test_parse_keylog_sample_lines():
    text = "# SSL/TLS secrets log file, generated by OpenSSL\n\n" + TLS12_KEYLOG + TLS13_KEYLOG + (
        f"CLIENT_TRAFFIC_SECRET_1 {CLIENT_RANDOM.hex().upper()} {'ab' * 48}\r\n")
    log = tk.parse_keylog(text)
    assert list(log) == ["CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                         "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET",
                         "CLIENT_TRAFFIC_SECRET_1"]
    assert log["CLIENT_RANDOM"] == {CLIENT_RANDOM: TLS12_MASTER}
    exporter = H("0798fa25da1e8b7487b245d7c4af9b24988de3aefa0ef63259fd6c9d0b52aeed")
    assert log["EXPORTER_SECRET"][CLIENT_RANDOM] == exporter
    assert log["CLIENT_TRAFFIC_SECRET_1"][CLIENT_RANDOM] == H("ab" * 48)
    rsa_line = f"RSA {'c0ffee00' * 2} {TLS12_MASTER.hex()}"  # OpenSSL's line for an RSA key exchange
    assert tk.parse_keylog(rsa_line)["RSA"] == {H("c0ffee00c0ffee00"): TLS12_MASTER}
    assert tk.parse_keylog(TLS12_KEYLOG.encode()) == tk.parse_keylog(TLS12_KEYLOG)
    assert tk.parse_keylog("") == {} and tk.parse_keylog(TLS12_KEYLOG * 2) == tk.parse_keylog(TLS12_KEYLOG)


CR = CLIENT_RANDOM.hex()


@pytest.mark.parametrize("line, rule", [
    (f"CLIENT_RANDOM {CR}", "keylog-line"),
    (f"CLIENT_RANDOM {CR} {TLS12_MASTER.hex()} extra", "keylog-line"),
    (f"SERVER_RANDOM {CR} {TLS12_MASTER.hex()}", "keylog-label"),
    (f"RSA {CR} {TLS12_MASTER.hex()}", "keylog-random"),
    (f"client_random {CR} {TLS12_MASTER.hex()}", "keylog-label"),
    (f"CLIENT_RANDOM {CR} {TLS12_MASTER.hex()[:-1]}x", "keylog-hex"),
    (f"CLIENT_RANDOM {CR}0 {TLS12_MASTER.hex()}", "keylog-hex"),
    (f"CLIENT_RANDOM {CR[:62]} {TLS12_MASTER.hex()}", "keylog-random"),
    (f"CLIENT_RANDOM {CR} {'00' * 32}", "keylog-secret"),
    (f"EXPORTER_SECRET {CR} {'00' * 16}", "keylog-secret"),
])
def test_parse_keylog_names_the_bad_line(line, rule):
    with pytest.raises(InputError) as err:
        tk.parse_keylog("# comment\n" + TLS12_KEYLOG + line + "\n")
    assert err.value.rule == rule
    assert err.value.value.startswith("line 3: ")


def test_parse_keylog_conflicting_secrets_and_non_text():
    with pytest.raises(InputError) as err:
        tk.parse_keylog(TLS12_KEYLOG + f"CLIENT_RANDOM {CR} {'00' * 48}\n")
    assert err.value.rule == "keylog-conflict"
    with pytest.raises(InputError) as err:
        tk.parse_keylog(None)
    assert err.value.rule == "keylog-text"


# --- Real OpenSSL handshakes in-process (stdlib ssl, memory BIOs): recompute what OpenSSL logged ----------------------

def _handshake(tmp_path, *, tls13: bool) -> tuple[list[bytes], dict, str]:
    """One handshake over memory BIOs: the client's handshake messages in order, its key log, the suite name."""
    if not hasattr(ssl.SSLContext, "_msg_callback"):
        pytest.skip("this Python's ssl module has no _msg_callback")
    key = lab.fixture_key("expe-1")
    cert, key_file = issue(CertSpec("expe-1.lab.example", sans=("expe-1.lab.example",)), key).write(tmp_path, "expe")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key_file)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    client.keylog_filename = str(tmp_path / "keylog.txt")
    if not tls13:
        for ctx in (server, client):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("AES128-GCM-SHA256")  # RSA key exchange: the premaster travels in ClientKeyExchange
    messages: list[bytes] = []

    def record(conn, direction, version, content_type, msg_type, data):
        if content_type == ssl._TLSContentType.HANDSHAKE and len(data) >= 4:
            messages.append(bytes(data))

    client._msg_callback = record
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname="expe-1.lab.example")
    s = server.wrap_bio(s_in, s_out, server_side=True)
    done = {c: False, s: False}
    for _ in range(10):
        for conn in (c, s):
            if not done[conn]:
                try:
                    conn.do_handshake()
                    done[conn] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            break
    assert all(done.values())
    return messages, tk.parse_keylog((tmp_path / "keylog.txt").read_text()), c.cipher()[0]


def test_real_tls12_rsa_handshake_recomputes_the_logged_master_and_finished(tmp_path):
    messages, keylog, suite = _handshake(tmp_path, tls13=False)
    assert suite == "AES128-GCM-SHA256"
    types = [m[0] for m in messages]
    assert types[:5] == [1, 2, 11, 14, 16] and types[-1] == 20 and types.count(20) == 2
    client_random, server_random = messages[0][6:38], messages[1][6:38]
    logged_master = keylog["CLIENT_RANDOM"][client_random]
    premaster = tk.decrypt_premaster(lab.fixture_key("expe-1"), messages[4])
    assert keylog["RSA"][messages[4][6:14]] == premaster  # OpenSSL logs the premaster of an RSA key exchange too
    ems = tk.extended_master_secret(premaster, tk.transcript_hash(b"".join(messages[:5])))
    assert ems == logged_master  # OpenSSL negotiates the extended master secret by default
    assert tk.master_secret(premaster, client_random, server_random) != logged_master
    client_fin = types.index(20)
    assert messages[client_fin][4:] == tk.finished(ems, b"client finished", b"".join(messages[:client_fin]))
    assert messages[-1][4:] == tk.finished(ems, b"server finished", b"".join(messages[:-1]))
    assert len(tk.split_key_block(tk.key_block(ems, client_random, server_random))) == 4


def test_real_tls13_handshake_finished_matches_the_logged_secrets(tmp_path):
    messages, keylog, suite = _handshake(tmp_path, tls13=True)
    assert suite in tk.TLS13_SUITES  # TLS_AES_256_GCM_SHA384 with OpenSSL's defaults
    types = [m[0] for m in messages]
    client_random = messages[0][6:38]
    server_fin, client_fin = types.index(20), len(types) - 1 - types[::-1].index(20)
    assert server_fin < client_fin
    server_hs = keylog["SERVER_HANDSHAKE_TRAFFIC_SECRET"][client_random]
    client_hs = keylog["CLIENT_HANDSHAKE_TRAFFIC_SECRET"][client_random]
    for fin, secret in ((server_fin, server_hs), (client_fin, client_hs)):
        digest = tk.transcript_hash(b"".join(messages[:fin]), suite=suite)
        assert messages[fin][4:] == tk.tls13_finished(secret, digest, suite=suite)
    key, iv = tk.traffic_keys(keylog["CLIENT_TRAFFIC_SECRET_0"][client_random], suite=suite)
    assert len(key) == tk.TLS13_SUITES[suite][1] and len(iv) == 12
    assert set(tk.SCHEDULE_TO_KEYLOG.values()) <= set(keylog)
