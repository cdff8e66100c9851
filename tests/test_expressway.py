"""The Expressway's Generate CSR page (guide chapters 3 and 4): the form's rules, the names in the request, one CSR
per peer, the right certificate on the right peer, the OpenSSL twin and the widget."""

from __future__ import annotations

import html
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import lab
from labkit.ca import init_ca
from labkit.errors import InputError, PolicyError
from labkit.expressway.csr import FIELD_LABELS, KEY_LENGTHS, LAB_SUBJECT, CsrRequest, build_csr
from labkit.expressway.csr_page import SIZED_KEYS, generate_from_form, preview_csr
from labkit.expressway.node import Cluster, ExpresswayNode
from labkit.expressway.req_config import openssl_req_config
from labkit.expressway.requirements import reissue_table, requirements_table

C1, C2, C3, CLUSTER_C = "expc1.lab.example", "expc2.lab.example", "expc3.lab.example", "expc.lab.example"
E1, E2, CLUSTER_E = "expe1.lab.example", "expe2.lab.example", "expe.lab.example"


def c_request(**fields) -> CsrRequest:
    """A standalone Expressway-C's form, with the lab subject, changed by ``fields``."""
    return CsrRequest(**{"role": "expressway-c", "fqdn": C1, **LAB_SUBJECT, **fields})


def e_request(**fields) -> CsrRequest:
    return CsrRequest(**{"role": "expressway-e", "fqdn": E1, **LAB_SUBJECT, **fields})


def sans_of(csr_or_cert) -> list[str]:
    names = csr_or_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(name.value) for name in names]


def cn_of(csr_or_cert) -> str:
    return csr_or_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def assert_server_and_client_auth(csr_or_cert) -> None:
    """Chapter 3: the Expressway asks for both purposes in every request (it is a TLS client as well)."""
    eku = csr_or_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def refused(make, **fields) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        make(**fields)
    return info.value


# -- every field refuses bad input, naming the field --------------------------------------------------------------

BAD_INPUT = [
    # (maker, fields, field whose label the message starts with, rule, a phrase of the message)
    (c_request, {"role": "expressway"}, "role", "role", "expressway-c"),
    (c_request, {"fqdn": ""}, "fqdn", "field-required", "required"),
    (c_request, {"fqdn": "expc1"}, "fqdn", "fqdn", "single label"),
    (c_request, {"fqdn": "*.lab.example"}, "fqdn", "fqdn", "wildcard"),
    (c_request, {"cluster_fqdn": "exp_c.lab.example"}, "cluster_fqdn", "fqdn", "'_'"),
    (c_request, {"peers": (C1, C1)}, "peers", "duplicate-peer", "once"),
    (c_request, {"peers": (C2, C3)}, "fqdn", "peer-listed", C2),
    (c_request, {"peers": (C1, "expc2")}, "peers", "fqdn", "single label"),
    (c_request, {"common_name": "ip"}, "common_name", "cn-source", "custom"),
    (c_request, {"common_name": "cluster"}, "common_name", "cn-source", "Cluster name"),
    (c_request, {"common_name": "custom"}, "custom_common_name", "field-required", "Custom"),
    (c_request, {"common_name": "custom", "custom_common_name": "  "}, "custom_common_name", "field-required", ""),
    (c_request, {"common_name": "custom", "custom_common_name": "*.lab.example"}, "custom_common_name", "fqdn",
     "wildcards are not supported"),
    (c_request, {"custom_common_name": "other.lab.example"}, "custom_common_name", "cn-source", "only used"),
    (c_request, {"fqdn": "a" * 60 + ".lab.example"}, "common_name", "cn-length", "at most 64"),
    (c_request, {"alternative_name": "all"}, "alternative_name", "san-source", "none"),
    (c_request, {"alternative_name": "peers"}, "alternative_name", "san-source", "Peer FQDNs"),
    (c_request, {"alternative_name": "cluster"}, "alternative_name", "san-source", "Cluster name"),
    (c_request, {"additional_names": ("not a name",)}, "additional_names", "fqdn-or-ip", "IP address"),
    (c_request, {"additional_names": ("*.lab.example",)}, "additional_names", "fqdn-or-ip", "wildcards"),
    (c_request, {"additional_names": ("300.1.2.3",)}, "additional_names", "fqdn-or-ip", "not a valid one"),
    (c_request, {"additional_names": ("2001:db8::g",)}, "additional_names", "fqdn-or-ip", "not a valid one"),
    (c_request, {"ucm_registration_domains": ("lab.example",)}, "ucm_registration_domains", "field-not-for-role",
     "Expressway-E only"),
    (c_request, {"xmpp_federation_domains": ("lab.example",)}, "xmpp_federation_domains", "field-not-for-role",
     "not on the Expressway-C's page"),
    (e_request, {"phone_security_profiles": ("jabber.lab.example",)}, "phone_security_profiles",
     "field-not-for-role", "Expressway-C only"),
    (e_request, {"ucm_domain_format": "srv"}, "ucm_domain_format", "domain-format", "CollabEdgeDNS"),
    (e_request, {"ucm_registration_domains": ("-lab.example",)}, "ucm_registration_domains", "fqdn", "hyphen"),
    (e_request, {"xmpp_federation_domains": ("xmpp..lab.example",)}, "xmpp_federation_domains", "fqdn",
     "empty label"),
    (e_request, {"chat_node_aliases": ("chat room.lab.example",)}, "chat_node_aliases", "fqdn", "' '"),
    (c_request, {"phone_security_profiles": ("jabbersecureprofile",)}, "phone_security_profiles", "fqdn",
     "X12.6"),
    (c_request, {"phone_security_profiles": ("*.lab.example",)}, "phone_security_profiles", "fqdn", "wildcards"),
    (c_request, {"phone_security_profiles": ("dx80.lab.123",)}, "phone_security_profiles", "fqdn",
     "must start with a letter"),
    (c_request, {"key_length": 1024}, "key_length", "key-length", "2048, 4096 or 8192"),
    (c_request, {"key_length": 3072}, "key_length", "key-length", "2048, 4096 or 8192"),
    (c_request, {"key_length": "4096"}, "key_length", "key-length", "whole number"),
    (c_request, {"key_length": True}, "key_length", "key-length", "whole number"),
    (c_request, {"digest": "sha1"}, "digest", "digest", "X8.10"),
    (c_request, {"digest": "SHA-1"}, "digest", "digest", "X8.10"),
    (c_request, {"digest": "md5"}, "digest", "digest", "SHA-256"),
    (c_request, {"country": ""}, "country", "field-required", "required"),
    (c_request, {"country": "GBR"}, "country", "country-code", "two-letter"),
    (c_request, {"country": "G1"}, "country", "country-code", "two-letter"),
    (c_request, {"state": ""}, "state", "field-required", "required"),
    (c_request, {"locality": " "}, "locality", "field-required", "required"),
    (c_request, {"organization": ""}, "organization", "field-required", "required"),
    (c_request, {"unit": ""}, "unit", "field-required", "required"),
    (c_request, {"organization": "x" * 65}, "organization", "field-length", "at most 64"),
    (c_request, {"unit": "Collab\nTeam"}, "unit", "printable", "new lines"),
]


@pytest.mark.parametrize(("make", "fields", "field", "rule", "phrase"), BAD_INPUT,
                         ids=[f"{case[2]}-{case[3]}-{i}" for i, case in enumerate(BAD_INPUT)])
def test_each_form_field_refuses_bad_input_naming_the_field(make, fields, field, rule, phrase):
    error = refused(make, **fields)
    assert error.rule == rule
    assert str(error).startswith(FIELD_LABELS[field] + ":"), str(error)
    assert phrase in str(error)
    assert "see guide" in str(error)


def test_a_field_for_the_other_role_names_the_field_and_the_role():
    error = refused(c_request, ucm_registration_domains=("lab.example",))
    assert "Unified CM registration domains" in str(error) and "Expressway-C" in str(error)
    assert error.value == "lab.example"


def test_key_length_8192_is_accepted_with_the_appendix_a_warning():
    request = c_request(key_length=8192)
    warning = [note for note in request.guidance() if "8192" in note]
    assert warning and "4096" in warning[0] and "SIP TLS zones" in warning[0] and "appendix A" in warning[0]
    assert not [note for note in c_request(key_length=4096).guidance() if "8192" in note]


def test_the_form_normalises_what_it_accepts():
    request = c_request(fqdn=" expc1.lab.example. ", country="gb", digest="SHA-384", peers=[C1, C2],
                        additional_names="2001:0db8:0:0::1", unit=" Collaboration ")
    assert (request.fqdn, request.country, request.digest, request.unit) == (C1, "GB", "sha384", "Collaboration")
    assert request.peers == (C1, C2) and request.additional_names == ("2001:db8::1",)


def test_subject_is_c_st_l_o_ou_cn_in_that_order():
    request = c_request()
    assert [attr.oid for attr in request.subject()] == [
        NameOID.COUNTRY_NAME, NameOID.STATE_OR_PROVINCE_NAME, NameOID.LOCALITY_NAME, NameOID.ORGANIZATION_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.COMMON_NAME]
    assert request.subject_text() == "C = GB, ST = England, L = London, O = labkit, OU = Collaboration, CN = " + C1


# -- which names go into the request ------------------------------------------------------------------------------

def test_standalone_expressway_has_its_fqdn_as_cn_and_only_san():
    request = c_request()
    assert request.cn == C1 and request.dns_names() == [C1]


def test_custom_common_name_is_also_the_first_san():
    request = c_request(common_name="custom", custom_common_name="vcs.lab.example", alternative_name="none")
    assert request.cn == "vcs.lab.example" and request.dns_names() == ["vcs.lab.example"]


def test_clustered_peer_names_itself_and_the_cluster_whatever_the_alternative_name_choice():
    cluster = Cluster(CLUSTER_C, "expressway-c", [C1, C2, C3])
    by_default = cluster.request_for(C2, **LAB_SUBJECT)
    assert by_default.cn == CLUSTER_C
    assert by_default.dns_names() == [CLUSTER_C, C1, C2, C3]
    assert cluster.request_for(C2, alternative_name="cluster", **LAB_SUBJECT).dns_names() == [CLUSTER_C, C2]
    no_choice = cluster.request_for(C2, alternative_name="none", **LAB_SUBJECT)
    assert no_choice.dns_names() == [CLUSTER_C, C2]
    assert any("Alternative name is None" in note for note in no_choice.guidance())
    peer_cn = cluster.request_for(C3, common_name="fqdn", **LAB_SUBJECT)
    assert peer_cn.cn == C3 and peer_cn.dns_names() == [C3, C1, C2, CLUSTER_C]
    assert any("cluster FQDN in the common name" in note for note in peer_cn.guidance())


def test_expressway_c_adds_chat_node_aliases_and_phone_security_profiles_after_its_own_names():
    request = c_request(additional_names=("203.0.113.10", "vcs-c.lab.example"),
                        chat_node_aliases=("chatroom1.lab.example",),
                        phone_security_profiles=("jabbersecureprofile.lab.example", "DX80SecureProfile.lab.example"))
    assert request.dns_names() == [C1, "203.0.113.10", "vcs-c.lab.example", "chatroom1.lab.example",
                                   "jabbersecureprofile.lab.example", "DX80SecureProfile.lab.example"]
    assert isinstance(request.general_names()[1], x509.IPAddress)
    notes = " ".join(request.guidance())
    assert "Expressway-E certificate needs the same list" in notes and "FQDNs, not IP addresses" in notes


@pytest.mark.parametrize(("domain_format", "registration_name"),
                         [("dns", "lab.example"), ("collab-edge", "collab-edge.lab.example")])
def test_expressway_e_registration_domains_in_dns_or_collab_edge_format(domain_format, registration_name):
    request = e_request(ucm_registration_domains=("lab.example",), ucm_domain_format=domain_format,
                        xmpp_federation_domains=("lab.example", "xmpp.lab.example"),
                        chat_node_aliases=("chatroom1.lab.example",))
    expected = [E1, registration_name, "lab.example", "xmpp.lab.example", "chatroom1.lab.example"]
    assert request.dns_names() == list(dict.fromkeys(expected))


def test_collab_edge_format_warns_when_the_prefix_was_typed_too():
    request = e_request(ucm_registration_domains=("collab-edge.lab.example",), ucm_domain_format="collab-edge")
    assert request.dns_names() == [E1, "collab-edge.collab-edge.lab.example"]
    assert any("adds 'collab-edge.' itself" in note for note in request.guidance())


def test_names_are_listed_once_whatever_their_case():
    request = e_request(additional_names=("EXPE1.lab.example",), chat_node_aliases=("chat.lab.example",) * 2)
    assert request.dns_names() == [E1, "chat.lab.example"]


# -- the CSR itself -----------------------------------------------------------------------------------------------

def test_csr_always_asks_for_server_and_client_auth_and_verifies():
    for request in (c_request(), e_request(ucm_registration_domains=("lab.example",))):
        csr = build_csr(request, lab.fixture_key("expc-1"))
        assert_server_and_client_auth(csr)
        assert csr.is_signature_valid
        assert sans_of(csr) == request.dns_names() and cn_of(csr) == request.cn


@pytest.mark.parametrize(("digest", "algorithm"), [("sha256", hashes.SHA256), ("sha384", hashes.SHA384),
                                                   ("sha512", hashes.SHA512)])
def test_csr_is_signed_with_the_chosen_digest(digest, algorithm):
    csr = build_csr(c_request(digest=digest), lab.fixture_key("expc-1"))
    assert isinstance(csr.signature_hash_algorithm, algorithm)


def test_fixture_key_gives_byte_identical_csr_on_every_run():
    first = build_csr(c_request(chat_node_aliases=("chat.lab.example",)), lab.fixture_key("expc-1"))
    again = build_csr(c_request(chat_node_aliases=("chat.lab.example",)), lab.fixture_key("expc-1"))
    assert first.public_bytes(serialization.Encoding.DER) == again.public_bytes(serialization.Encoding.DER)


def test_build_csr_refuses_a_key_of_another_length_or_type():
    error = refused(build_csr, request=c_request(key_length=4096), key=lab.fixture_key("expc-1"))
    assert error.rule == "key-length" and "Key length (in bits)" in str(error) and "2048" in str(error)
    error = refused(build_csr, request=c_request(), key=lab.fixture_key("ec-p256"))
    assert error.rule == "key-type" and "RSA" in str(error)


# -- the OpenSSL twin ---------------------------------------------------------------------------------------------

TWIN_REQUESTS = {
    "standalone-c": (c_request(phone_security_profiles=("jabbersecure.lab.example",)), "expc-1"),
    "clustered-e-sha384": (Cluster(CLUSTER_E, "expressway-e", [E1, E2]).request_for(
        E2, digest="sha384", ucm_registration_domains=("lab.example",), ucm_domain_format="collab-edge",
        xmpp_federation_domains=("lab.example",), additional_names=("198.51.100.7", "2001:db8::7"),
        **LAB_SUBJECT), "expe-2"),
    "quotes-and-utf8-sha512": (c_request(digest="sha512", locality="Zürich $HOME #1",
                                         organization='Smith "&" Sons \\ O\'Brien'), "expc-3"),
}


@pytest.mark.parametrize("case", list(TWIN_REQUESTS))
def test_openssl_req_with_the_twin_config_makes_the_same_csr_byte_for_byte(case, openssl_bin, tmp_path):
    request, key_name = TWIN_REQUESTS[case]
    key = lab.fixture_key(key_name)
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (tmp_path / "req.cnf").write_text(openssl_req_config(request), encoding="utf-8")
    subprocess.run([openssl_bin, "req", "-new", "-key", "k.pem", "-config", "req.cnf", "-out", "r.csr"],
                   cwd=tmp_path, check=True, capture_output=True)
    theirs = x509.load_pem_x509_csr((tmp_path / "r.csr").read_bytes())
    ours = build_csr(request, key)
    assert theirs.subject == ours.subject and sans_of(theirs) == sans_of(ours)
    assert_server_and_client_auth(theirs)
    assert theirs.public_bytes(serialization.Encoding.DER) == ours.public_bytes(serialization.Encoding.DER)


def test_twin_config_has_the_sections_openssl_req_needs():
    text = openssl_req_config(e_request(digest="sha512"))
    for line in ("prompt             = no", "default_md         = sha512", "distinguished_name = req_dn",
                 "req_extensions     = req_ext", f"subjectAltName   = DNS:{E1}",
                 "extendedKeyUsage = serverAuth, clientAuth", "CN = " + E1):
        assert line in text


# -- one CSR per peer, the right certificate on the right peer -----------------------------------------------------

@pytest.fixture
def issuing(tmp_path):
    root = init_ca(tmp_path / "root", "labkit Root CA", key=lab.fixture_key("root-ca"))
    return init_ca(tmp_path / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root)


@pytest.fixture
def cluster_c() -> Cluster:
    cluster = Cluster(CLUSTER_C, "expressway-c", [C1, C2, C3])
    for peer, key in zip(cluster.peers, ("expc-1", "expc-2", "expc-3"), strict=True):
        cluster.node(peer).generate_csr(cluster.request_for(peer, **LAB_SUBJECT), lab.fixture_key(key))
    return cluster


def test_only_one_csr_in_progress_per_peer_until_it_is_discarded(cluster_c):
    node = cluster_c.node(C1)
    first = node.pending_csr
    error = refused(node.generate_csr, request=cluster_c.request_for(C1, **LAB_SUBJECT), key=lab.fixture_key("expc-1"))
    assert error.rule == "one-pending-csr" and "Discard CSR first" in str(error) and C1 in str(error)
    assert node.pending_csr is first
    assert node.discard_csr() is True and node.pending_csr is None and node.discard_csr() is False
    error = refused(node.csr_pem)
    assert error.rule == "no-pending-csr"
    again = node.generate_csr(cluster_c.request_for(C1, **LAB_SUBJECT), lab.fixture_key("expc-1"))
    assert again.public_bytes(serialization.Encoding.DER) == first.public_bytes(serialization.Encoding.DER)
    assert node.csr_pem().startswith(b"-----BEGIN CERTIFICATE REQUEST-----")


def test_wrong_peer_upload_is_refused_naming_both_peers_and_the_right_one_installs(cluster_c, issuing):
    cert = issuing.sign(cluster_c.node(C2).pending_csr, "client-server")
    error = refused(cluster_c.install, peer=C1, cert=cert)
    assert error.rule == "key-mismatch"
    assert f"{C1}'s CSR" in str(error) and f"this certificate belongs to {C2}'s CSR; upload it there" in str(error)
    assert cluster_c.node(C1).pending_csr is not None and cluster_c.node(C1).certificate is None
    installed = cluster_c.install(C2, cert.public_bytes(serialization.Encoding.PEM))  # as uploaded: a PEM file
    node = cluster_c.node(C2)
    assert installed == cert and node.certificate == cert and node.pending_csr is None
    assert node.key_matches(cert) and not cluster_c.node(C3).key_matches(cert)
    assert cn_of(cert) == CLUSTER_C and sans_of(cert) == [CLUSTER_C, C1, C2, C3]
    assert_server_and_client_auth(cert)
    again = refused(cluster_c.install, peer=C2, cert=cert)  # nothing pending any more
    assert again.rule == "no-pending-csr"
    status = cluster_c.status()
    assert list(status["CSR pending"]) == [True, False, True] and status.loc[C2, "certificate CN"] == CLUSTER_C


def test_upload_to_a_peer_without_a_csr_says_whose_certificate_it_is(cluster_c, issuing):
    cert = issuing.sign(cluster_c.node(C3).pending_csr, "client-server")
    cluster_c.node(C1).discard_csr()
    error = refused(cluster_c.node(C1).install_certificate, cert=cert)
    assert error.rule == "no-pending-csr" and f"belongs to {C3}'s CSR" in str(error)


def test_standalone_node_refuses_a_certificate_for_another_key(issuing):
    node = ExpresswayNode(E1, "expressway-e")
    node.generate_csr(e_request(), lab.fixture_key("expe-1"))
    stranger = ExpresswayNode(E2, "expressway-e")
    cert = issuing.sign(stranger.generate_csr(e_request(fqdn=E2), lab.fixture_key("expe-2")), "client-server")
    error = refused(node.install_certificate, cert=cert)
    assert error.rule == "key-mismatch" and E1 in str(error) and "belongs to" not in str(error)


def test_the_private_key_stays_on_the_node(cluster_c, issuing):
    node = cluster_c.node(C3)
    node.install_certificate(issuing.sign(node.pending_csr, "client-server"))
    public = [getattr(node, name) for name in dir(node) if not name.startswith("_")]
    assert not any(isinstance(value, rsa.RSAPrivateKey) for value in public)
    assert "PRIVATE" not in repr(node) and "certificate serial" in repr(node)
    with pytest.raises(AttributeError):
        node.key = lab.fixture_key("trainee")  # no place to put (or read) a key from outside


def test_generate_without_a_key_makes_a_fresh_one_of_the_form_length():
    node = ExpresswayNode(C1, "expressway-c")
    csr = node.generate_csr(c_request())
    assert csr.public_key().key_size == 2048
    assert csr.public_key() != lab.fixture_key("expc-1").public_key()


def test_a_node_makes_csrs_only_for_itself_and_its_cluster(cluster_c):
    node = cluster_c.node(C1)
    node.discard_csr()
    assert refused(node.generate_csr, request=c_request(fqdn=C2, peers=(C1, C2, C3))).rule == "csr-fqdn"
    assert refused(node.generate_csr, request=c_request()).rule == "cluster-fqdn"
    assert refused(node.generate_csr, request=c_request(cluster_fqdn=CLUSTER_C, peers=(C1, C2))).rule \
        == "cluster-peers"
    standalone_e = ExpresswayNode(E1, "expressway-e")
    assert refused(standalone_e.generate_csr, request=c_request(fqdn=E1)).rule == "role"
    assert refused(cluster_c.node, fqdn="expc9.lab.example").rule == "unknown-peer"
    with pytest.raises(TypeError):
        cluster_c.request_for(C1, fqdn=C2)


def test_a_cluster_needs_distinct_fqdn_peers():
    assert refused(Cluster, cluster_fqdn=CLUSTER_C, role="expressway-c", peer_fqdns=[C1, C1]).rule == "duplicate-peer"
    assert refused(Cluster, cluster_fqdn=CLUSTER_C, role="expressway-c", peer_fqdns=[]).rule == "field-required"
    assert refused(Cluster, cluster_fqdn="expc", role="expressway-c", peer_fqdns=[C1]).rule == "fqdn"


# -- chapter 4's table ---------------------------------------------------------------------------------------------

def test_requirements_table_follows_chapter_4():
    """The guide's table read in order (its text copy prints the rows right to left): the cluster name is on the
    Expressway-C for MRA, Jabber Guest and XMPP Federation, and business-to-business calls need none of the names."""
    table = requirements_table()
    assert table.shape == (5, 4)
    assert list(table.columns) == ["Mobile and Remote Access", "Jabber Guest", "XMPP Federation",
                                   "Business to Business Calls"]
    assert table.loc["Unified CM registration domains", "Mobile and Remote Access"] == "Expressway-E only"
    assert table.loc["XMPP federation domains", "XMPP Federation"] == "Expressway-E only"
    assert table.loc["IM and Presence chat node aliases (federated group chat)", "XMPP Federation"] == "Required"
    assert table.loc["Unified CM phone security profile names", "Mobile and Remote Access"] == "Expressway-C only"
    cluster_row = table.loc["Expressway cluster name (clustered systems only)"]
    assert dict(cluster_row) == {"Mobile and Remote Access": "Expressway-C only", "Jabber Guest": "Expressway-C only",
                                 "XMPP Federation": "Expressway-C only", "Business to Business Calls": ""}
    assert set(table["Business to Business Calls"]) == {""}
    assert (table != "").sum().sum() == 7


def test_reissue_table_follows_chapter_4():
    table = reissue_table()
    assert table.loc["chat node aliases added or renamed", "Expressway-C"] == "may need a new certificate"
    assert table.loc["chat node aliases added or renamed", "Expressway-E"].startswith("new certificate needed")
    assert table.loc["XMPP federation domains changed", "Expressway-C"] == ""
    assert table.loc["new TLS phone security profiles", "Expressway-E"] == ""
    assert set(table["Expressway-E"]) - {""} <= {"new certificate needed", "new certificate needed (aliases added)"}


def test_an_expressway_c_that_discovered_im_and_presence_adds_their_chat_node_aliases_itself():
    cluster = Cluster(CLUSTER_C, "expressway-c", [C1, C2])
    assert cluster.discover_im_and_presence(["chat.lab.example", "CHAT.lab.example."]) == ("chat.lab.example",)
    csr = cluster.node(C1).generate_csr(cluster.request_for(C1, **LAB_SUBJECT), key=lab.fixture_key("expc-1"))
    assert "chat.lab.example" in sans_of(csr)
    typed = cluster.request_for(C2, chat_node_aliases=("chat.lab.example",), **LAB_SUBJECT)
    assert sans_of(cluster.node(C2).generate_csr(typed, key=lab.fixture_key("expc-2"))).count("chat.lab.example") == 1
    error = refused(ExpresswayNode(E1, "expressway-e").discover_im_and_presence, chat_node_aliases=["chat.lab.example"])
    assert error.rule == "discovery-on-c"


def test_the_node_knows_its_version_and_a_request_for_another_release_is_refused():
    node = ExpresswayNode(E1, "expressway-e", version="X15.5", unified_communications=True)
    assert node.version == "X15.5" and node.unified_communications and "X15.5" in repr(node)
    error = refused(node.generate_csr, request=e_request(), key=lab.fixture_key("expe-1"))
    assert error.rule == "expressway-version" and "X15.5" in error.message
    assert node.generate_csr(e_request(version="X15.5"), key=lab.fixture_key("expe-1")) is not None
    assert refused(e_request, version="X16").rule == "expressway-version"
    with pytest.raises(InputError, match="expressway-version"):
        ExpresswayNode(E1, "expressway-e", version="X8.11")
    assert any("EnableServerEkuUpload" in note for note in e_request(version="X15.4").guidance())
    assert not any("X15" in note for note in e_request().guidance())


def test_the_form_offers_each_uc_field_on_the_roles_the_table_names():
    table = requirements_table()
    fields = {"Unified CM registration domains": "ucm_registration_domains",
              "XMPP federation domains": "xmpp_federation_domains",
              "IM and Presence chat node aliases (federated group chat)": "chat_node_aliases",
              "Unified CM phone security profile names": "phone_security_profiles"}
    for row, field in fields.items():
        cells = set(table.loc[row]) - {""}
        for make, role in ((c_request, "Expressway-C"), (e_request, "Expressway-E")):
            offered = cells == {"Required"} or cells == {f"{role} only"}
            try:
                make(**{field: ("name.lab.example",)})
            except PolicyError as error:
                assert not offered and error.rule == "field-not-for-role", (row, role)
            else:
                assert offered, (row, role)


# -- what the widget calls -----------------------------------------------------------------------------------------

FORM = {"role": "expressway-c", "fqdn": C1, **LAB_SUBJECT}


def test_preview_reads_comma_separated_fields_and_builds_the_csr():
    preview = preview_csr({**FORM, "phone_security_profiles": "a.lab.example, b.lab.example,",
                           "key_length": "2048", "custom_common_name": "ignored.lab.example"},
                          lab.fixture_key("expc-1"))
    assert preview.ok and preview.error is None
    assert sans_of(preview.csr) == [C1, "a.lab.example", "b.lab.example"]
    assert preview.alternative_names == f"DNS:{C1}, DNS:a.lab.example, DNS:b.lab.example"
    assert "Requested Extensions" in preview.decoded and preview.pem.startswith("-----BEGIN CERTIFICATE REQUEST")
    assert isinstance(preview.guidance, list)


def test_preview_returns_the_error_instead_of_raising():
    preview = preview_csr({**FORM, "phone_security_profiles": "jabbersecure"}, lab.fixture_key("expc-1"))
    assert preview.csr is None and not preview.ok
    assert preview.error.startswith("Unified CM phone security profile names:")  # no class name
    assert preview.field == "phone_security_profiles"  # so the page shows it under that field
    assert preview.summary() == preview.error and preview.decoded == "" and preview.pem == ""


@pytest.mark.parametrize("bits", KEY_LENGTHS)
def test_preview_honours_every_key_length_with_a_fixture_key_of_that_size(bits):
    preview = preview_csr({**FORM, "key_length": bits}, lab.fixture_key("expc-1"))
    assert preview.ok and preview.csr.public_key().key_size == bits
    used = lab.fixture_key("expc-1") if bits == 2048 else lab.fixture_key(SIZED_KEYS[bits])
    assert preview.csr.public_key() == used.public_key()
    assert ("fixture key" in preview.note) == (bits != 2048)


def test_generate_from_form_makes_the_csr_with_the_key_of_the_chosen_length():
    node = ExpresswayNode(C1, "expressway-c")
    done = generate_from_form(node, {**FORM, "key_length": 4096}, lab.fixture_key("expc-1"))
    assert done.ok and node.pending_csr.public_key() == lab.fixture_key("rsa-4096").public_key()
    assert "rsa-4096" in done.summary()


def test_preview_without_a_key_shows_names_and_guidance_but_no_csr():
    preview = preview_csr({**FORM, "key_length": 8192})
    assert preview.ok and preview.csr is None and "No key yet" in preview.summary()
    assert "Alternative name as it will appear: DNS:" + C1 in preview.summary()
    assert any("8192" in note for note in preview.guidance)


def test_generate_from_form_leaves_a_pending_csr_or_the_refusal():
    node = ExpresswayNode(C1, "expressway-c")
    done = generate_from_form(node, FORM, lab.fixture_key("expc-1"))
    assert done.ok and node.pending_csr == done.csr and "pending" in done.summary()
    again = generate_from_form(node, FORM, lab.fixture_key("expc-1"))
    assert "one-pending-csr" in again.error


# -- the widget, headless -------------------------------------------------------------------------------------------

def pane_text(pane) -> str:
    return html.unescape(pane.value)


def test_csr_form_previews_live_and_shows_errors_as_fields_change():
    from labkit.widgets.csr_form import csr_form

    cluster = Cluster(CLUSTER_C, "expressway-c", [C1, C2])
    box = csr_form(cluster, C2, key=lab.fixture_key("expc-2"))
    assert box.fqdn.value == C2 and box.fqdn.disabled and box.role.disabled
    assert f"CN = {CLUSTER_C}" in pane_text(box.pane)
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in pane_text(box.decoded)
    assert "-----BEGIN CERTIFICATE REQUEST-----" in pane_text(box.pem)
    box.phone_security_profiles.value = "jabbersecureprofile"
    assert "Unified CM phone security profile names" in pane_text(box.pane) and "X12.6" in pane_text(box.pane)
    assert "Traceback" not in pane_text(box.pane) and box.preview.csr is None
    box.phone_security_profiles.value = "jabbersecureprofile.lab.example"
    assert box.preview.ok and "DNS:jabbersecureprofile.lab.example" in pane_text(box.pane)
    box.ucm_registration_domains.value = "lab.example"
    assert box.preview.error and "field-not-for-role" in pane_text(box.pane)
    box.ucm_registration_domains.value = ""
    box.key_length.value = 8192  # honoured: the fixture key of 8192 bits signs, and doctor's warning shows
    assert box.preview.ok and "key-8192" in pane_text(box.pane) and "Public-Key: (8192 bit)" in pane_text(box.decoded)
    box.key_length.value = 2048
    box.common_name.value = "custom"
    assert "Custom common name: this field is required" in pane_text(box.pane)
    # right under the field it is about, and under no other
    assert "this field is required" in pane_text(box.note) and box.note_field == "custom_common_name"
    holder = next(s for s in box.children if box.custom_common_name in getattr(s, "children", ()))
    assert holder.children[holder.children.index(box.custom_common_name) + 1] is box.note
    assert sum(box.note in s.children for s in box.children if hasattr(s, "children")) == 1
    box.custom_common_name.value = "vcs.lab.example"
    assert box.preview.ok and "CN = vcs.lab.example" in pane_text(box.decoded)
    assert "Generate CSR form" in repr(box)


def test_csr_form_generate_and_discard_act_on_the_peer():
    from labkit.widgets.csr_form import csr_form

    node = ExpresswayNode(E1, "expressway-e")
    box = csr_form(node, key=lab.fixture_key("expe-1"))
    box.ucm_domain_format.value = "collab-edge"
    box.ucm_registration_domains.value = "lab.example"
    box.generate.click()
    assert node.pending_csr is not None and "collab-edge.lab.example" in sans_of(node.pending_csr)
    assert "pending" in pane_text(box.pane)
    box.generate.click()  # pressed again as it is: the pending CSR stays shown, the line beside the button says why
    assert "pending" in pane_text(box.pane) and "Discard CSR first" in pane_text(box.action)
    box.unit.value = "Video"  # a changed request: the refusal is the answer to it
    box.generate.click()
    assert "Discard CSR first" in pane_text(box.pane) and "one-pending-csr" in pane_text(box.action)
    box.discard.click()
    assert node.pending_csr is None and "discarded" in pane_text(box.pane)


def test_csr_form_without_a_peer_is_a_free_standing_preview():
    from labkit.widgets.csr_form import csr_form

    box = csr_form()
    assert box.generate.disabled and box.preview.ok and box.preview.csr is None
    box.fqdn.value = "expc1"
    assert "FQDN of this peer" in pane_text(box.pane) and "single label" in pane_text(box.pane)


@pytest.mark.parametrize("role,fields,flags", [
    ("expressway-e", dict(ucm_registration_domains=("lab.example",), ucm_domain_format="collab-edge",
                          xmpp_federation_domains=("im.lab.example",), chat_node_aliases=("chat.lab.example",)),
     dict(ucm_domains=["lab.example"], xmpp_domains=["im.lab.example"], chat_aliases=["chat.lab.example"])),
    ("expressway-c", dict(phone_security_profiles=("jabbersecure.lab.example",),
                          chat_node_aliases=("chat.lab.example",)),
     dict(phone_profiles=["jabbersecure.lab.example"], chat_aliases=["chat.lab.example"])),
], ids=["expressway-e", "expressway-c"])
def test_a_form_csr_signed_client_server_passes_doctor_for_the_same_role_and_flags(tmp_path, role, fields, flags):
    from labkit.ca import init_ca
    from labkit.expressway.csr import LAB_SUBJECT
    from labkit.expressway.doctor import doctor
    from labkit.expressway.node import Cluster

    root = init_ca(tmp_path / "root", "labkit Root CA", key=lab.fixture_key("root-ca"))
    issuing = init_ca(tmp_path / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root)
    prefix = "expe" if role == "expressway-e" else "expc"
    cluster = Cluster(f"{prefix}.lab.example", role, [f"{prefix}1.lab.example", f"{prefix}2.lab.example"])
    peer = f"{prefix}1.lab.example"
    node = cluster.node(peer)
    node.generate_csr(cluster.request_for(peer, **fields, **LAB_SUBJECT), key=lab.fixture_key(f"{prefix}-1"))
    cert = issuing.sign(node.pending_csr, "client-server")
    cluster.install(peer, cert)
    report = doctor(cert, role=role, cluster_fqdn=f"{prefix}.lab.example", peer_fqdn=peer, **flags)
    assert report.ok and report.rules() == [], report.text()
    assert node.certificate == cert
