"""The capstone (notebook 10): the reference path passes every step; each step refuses the typical wrong answer.

Every handshake here is real (OpenSSL through Python's ssl, over TCP on 127.0.0.1), and the checks run them again
from the objects they are given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from conftest import lab_clock_behind_the_machine
from cryptography.hazmat.primitives import serialization

from labkit import InputError, lab
from labkit.ca import init_ca
from labkit.chapters.ch10_capstone import LONG, SITE, Site, describe, openssl_verify
from labkit.exercises import check
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest, build_csr
from labkit.expressway.node import Cluster, ExpresswayNode
from labkit.expressway.revocation import CrlStore, RevocationSettings, sip_tls_handshake
from labkit.expressway.store import CertificateStore
from labkit.tls.connection import Endpoint

CRL_ONLY = RevocationSettings(use_ocsp=False, allow_cdp_downloads=False)


class Capstone:
    """The reference path, one method per step, each with the knob a typical mistake turns."""

    def __init__(self, work):
        self.work = work
        self.root = self.issuing = self.cluster = self.expe = None
        self.csrs, self.certificates, self.stores = {}, {}, {}
        self.client = self.server = self.crl = self.crl_store = self.settings = None

    def cas(self, *, parent=True, days=LONG, at=None):
        self.root = init_ca(self.work / "root", "labkit Root CA", key=lab.fixture_key("root-ca"), days=days, at=at)
        self.issuing = init_ca(self.work / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"),
                               parent=self.root if parent else None, days=days, at=at)
        return self

    def nodes(self, *, c_role="expressway-c", peers=SITE.peers, e_role="expressway-e"):
        self.cluster = Cluster(SITE.cluster_fqdn, c_role, peers)
        self.expe = ExpresswayNode(SITE.expe_fqdn, e_role)
        return self

    def requests(self, *, phone_profiles=SITE.phone_profiles, ucm_domains=SITE.ucm_domains, common_name="cluster"):
        for peer in SITE.peers:
            request = self.cluster.request_for(peer, common_name=common_name, phone_security_profiles=phone_profiles,
                                               chat_node_aliases=SITE.chat_aliases, **LAB_SUBJECT)
            self.csrs[peer] = self.cluster.node(peer).generate_csr(request, key=lab.fixture_key(SITE.key_name(peer)))
        edge = CsrRequest(role="expressway-e", fqdn=SITE.expe_fqdn, ucm_registration_domains=ucm_domains,
                          ucm_domain_format="collab-edge", xmpp_federation_domains=SITE.xmpp_domains,
                          chat_node_aliases=SITE.chat_aliases, **LAB_SUBJECT)
        self.csrs[SITE.expe_fqdn] = self.expe.generate_csr(edge, key=lab.fixture_key("expe-1"))
        return self

    def sign(self, *, profile="client-server", days=LONG, at=None, ca=None, install=True):
        ca = ca or self.issuing
        self.certificates = {name: ca.sign(csr, profile, days=days, at=at) for name, csr in self.csrs.items()}
        if install:
            for peer in SITE.peers:
                self.cluster.install(peer, self.certificates[peer])
            self.expe.install_certificate(self.certificates[SITE.expe_fqdn])
        return self

    def trust(self, *, expe_trusts=None):
        for node in (*self.cluster.nodes, self.expe):
            store = CertificateStore(node)
            anchors = (self.root, self.issuing) if node is not self.expe or expe_trusts is None else expe_trusts
            for ca in anchors:
                store.trusted.append(ca.certificate)
            self.stores[node.name] = store
        return self

    def endpoints(self, peer="expc1.lab.example", **changes):
        node = self.cluster.node(peer)
        client = dict(chain=(node.certificate, self.issuing.certificate), key=lab.fixture_key(SITE.key_name(peer)),
                      trusted=self.stores[peer].trusted.certificates, server_name=SITE.expe_fqdn)
        server = dict(chain=(self.expe.certificate, self.issuing.certificate), key=lab.fixture_key("expe-1"),
                      trusted=self.stores[SITE.expe_fqdn].trusted.certificates, require_client_certificate=True)
        for name, value in changes.items():
            side, _, attribute = name.partition("_")
            (client if side == "client" else server)[attribute] = value
        self.client, self.server = Endpoint(**client), Endpoint(**server)
        return self

    def revoke(self, *, revoke=True, publish_after=True, upload=True, crl_days=LONG, settings=CRL_ONLY):
        if not publish_after:
            self.crl = self.issuing.crl(days=crl_days)
        if revoke:
            self.issuing.revoke(self.client.chain[0], "keyCompromise")
        if publish_after:
            self.crl = self.issuing.crl(days=crl_days)
        self.crl_store = CrlStore()
        if upload:
            self.crl_store.upload(self.crl.public_bytes(serialization.Encoding.PEM))
        self.settings = settings
        return self

    def recover(self, key="expc-3", peer="expc1.lab.example"):
        node = self.cluster.node(peer)
        request = self.cluster.request_for(peer, phone_security_profiles=SITE.phone_profiles,
                                           chat_node_aliases=SITE.chat_aliases, **LAB_SUBJECT)
        node.generate_csr(request, key=lab.fixture_key(key))
        self.cluster.install(peer, self.issuing.sign(node.pending_csr, "client-server", days=LONG))
        return Endpoint(chain=(node.certificate, self.issuing.certificate), key=lab.fixture_key(key),
                        trusted=self.stores[peer].trusted.certificates, server_name=SITE.expe_fqdn)

    # the checks, as the notebook calls them
    def check1(self):
        return check("10.1", self.root, self.issuing)

    def check2(self):
        return check("10.2", self.cluster, self.expe)

    def check3(self):
        return check("10.3", self.csrs, cluster=self.cluster, expe=self.expe)

    def check4(self):
        return check("10.4", self.certificates, ca=self.issuing, cluster=self.cluster, expe=self.expe)

    def check5(self):
        return check("10.5", self.stores, cluster=self.cluster, expe=self.expe)

    def check6(self):
        return check("10.6", self.client, self.server, stores=self.stores, cluster=self.cluster, expe=self.expe)

    def check7(self):
        return check("10.7", self.settings, self.crl_store, client=self.client, server=self.server, ca=self.issuing)

    def check8(self, client):
        return check("10.8", client, server=self.server, settings=self.settings, crl_store=self.crl_store,
                     ca=self.issuing, cluster=self.cluster)


@pytest.fixture
def lab_path(tmp_path):
    """The capstone made with the lab clock a month behind the machine's: OpenSSL judges every certificate and CRL
    at the machine's clock, so LONG ones are valid and the 20-day and 7-day ones of the tests have ended, on any date
    (from the lab instant they would hold only while the machine's date is well after 2026-01-05)."""
    lab_clock_behind_the_machine(days=30)
    return Capstone(tmp_path)


@pytest.fixture
def zone(lab_path):
    """Steps 1-6 done the reference way: a working traversal zone."""
    return lab_path.cas().nodes().requests().sign().trust().endpoints()


def _not_yet(result, *words):
    assert not result, result
    for word in words:
        assert word in result.message, result.message
    return result


# -- the whole path ---------------------------------------------------------------------------------------------

def test_the_reference_path_passes_every_step_in_order(lab_path):
    lab_path.cas()
    assert lab_path.check1()
    lab_path.nodes()
    assert lab_path.check2()
    lab_path.requests()
    assert lab_path.check3()
    lab_path.sign()
    assert lab_path.check4()
    lab_path.trust()
    assert lab_path.check5()
    lab_path.endpoints()
    assert lab_path.check6()
    lab_path.revoke()
    result = lab_path.check7()
    assert result and "verify code 23" in result.message
    # earlier steps still pass once later ones are done (a trainee re-running a cell)
    assert lab_path.check3() and lab_path.check4() and lab_path.check5()
    assert lab_path.check8(lab_path.recover())


def test_placeholders_say_not_yet_naming_the_missing_step(lab_path):
    results = [lab_path.check1(), lab_path.check2(), lab_path.check3(), lab_path.check4(), lab_path.check5(),
               lab_path.check6(), lab_path.check7(), lab_path.check8(None)]
    assert not any(results)
    assert "step 1" in results[0].message and "step 2" in results[1].message  # where the call is, not the call
    assert all("step" in r.message for r in results[2:]), [r.message for r in results]
    assert check("10.3", {}, cluster=None, expe=None).message.endswith("do step 2 first")
    # a cell that passes ca=issuing while issuing is still None says so, rather than asking for ca=issuing
    assert all("issuing is still None" in r.message for r in (results[3], results[6], results[7]))


# -- 10.1 --------------------------------------------------------------------------------------------------------

def test_10_1_an_issuing_ca_without_parent_is_a_second_root(lab_path):
    _not_yet(lab_path.cas(parent=False).check1(), "signed itself", "parent=root")


def test_10_1_a_ca_expired_by_the_real_clock_is_refused(lab_path):
    lab_path.cas(days=20, at=lab.now() - dt.timedelta(days=10))  # valid at the lab clock, ended by the machine's
    assert lab_path.root.certificate.not_valid_after_utc < lab.now_real()
    _not_yet(lab_path.check1(), "machine's clock", "LONG")


def test_10_1_the_root_alone_is_not_enough(lab_path):
    lab_path.cas()
    _not_yet(check("10.1", lab_path.root, None), "issuing CA", "who signs it")
    _not_yet(check("10.1", lab_path.root, lab_path.root), "same CA")


# -- 10.2 --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change,words", [
    ({"c_role": "expressway-e"}, ("Expressway-C",)),
    ({"peers": ("expc1.lab.example",)}, ("peers",)),
    ({"e_role": "expressway-c"}, ("Expressway-E",)),
])
def test_10_2_roles_and_peers_follow_the_site(lab_path, change, words):
    _not_yet(lab_path.nodes(**change).check2(), *words)


# -- 10.3 --------------------------------------------------------------------------------------------------------

def test_10_3_a_peer_request_without_the_phone_security_profile_is_refused(lab_path):
    lab_path.nodes().requests(phone_profiles=())
    _not_yet(lab_path.check3(), "uc-phone-profile", "expc1.lab.example")


def test_10_3_an_edge_request_without_the_registration_domain_is_refused(lab_path):
    lab_path.nodes().requests(ucm_domains=())
    _not_yet(lab_path.check3(), "uc-registration-domain", SITE.expe_fqdn)


def test_10_3_a_clustered_peer_names_the_cluster_in_its_cn(lab_path):
    lab_path.nodes().requests(common_name="fqdn")
    _not_yet(lab_path.check3(), "cluster-cn")


def test_10_3_a_request_made_off_the_node_is_refused(lab_path):
    lab_path.nodes().requests()
    peer = "expc2.lab.example"
    outside = build_csr(lab_path.cluster.request_for(peer, **LAB_SUBJECT), lab.fixture_key("trainee"))
    _not_yet(check("10.3", {**lab_path.csrs, peer: outside}, cluster=lab_path.cluster, expe=lab_path.expe),
             "not made on expc2.lab.example")


# -- 10.4 --------------------------------------------------------------------------------------------------------

def test_10_4_the_server_profile_lacks_client_auth(lab_path):
    lab_path.cas().nodes().requests().sign(profile="server")
    _not_yet(lab_path.check4(), "clientAuth", "profile")


def test_10_4_a_certificate_signed_but_not_installed_is_refused(lab_path):
    lab_path.cas().nodes().requests().sign(install=False)
    _not_yet(lab_path.check4(), "not installed")


def test_10_4_servers_get_their_certificates_from_the_issuing_ca(lab_path):
    lab_path.cas().nodes().requests()
    lab_path.sign(ca=lab_path.root)
    _not_yet(lab_path.check4(), "not signed by 'labkit Issuing CA'")


def test_10_4_a_certificate_expired_by_the_real_clock_is_refused(lab_path):
    lab_path.cas().nodes().requests().sign(days=20, at=lab.now() - dt.timedelta(days=10))
    assert all(cert.not_valid_after_utc < lab.now_real() for cert in lab_path.certificates.values())
    _not_yet(lab_path.check4(), "machine's clock")


def test_10_4_a_certificate_swapped_between_peers_is_refused(lab_path):
    lab_path.cas().nodes().requests().sign()
    swapped = {**lab_path.certificates, "expc1.lab.example": lab_path.certificates["expc2.lab.example"]}
    _not_yet(check("10.4", swapped, ca=lab_path.issuing, cluster=lab_path.cluster, expe=lab_path.expe),
             "another node's key")


# -- 10.5 --------------------------------------------------------------------------------------------------------

def test_10_5_a_trusted_ca_list_without_the_issuing_ca_is_refused(lab_path):
    lab_path.cas().nodes().requests().sign()
    lab_path.trust(expe_trusts=(lab_path.root,))
    _not_yet(lab_path.check5(), "expe.lab.example's trusted CA list", "Issuing CA")


def test_10_5_every_node_needs_its_store(lab_path):
    lab_path.cas().nodes().requests().sign().trust()
    del lab_path.stores["expc2.lab.example"]
    _not_yet(lab_path.check5(), "expc2.lab.example")


# -- 10.6 --------------------------------------------------------------------------------------------------------

def test_10_6_a_traversal_zone_is_mutual_tls(zone):
    zone.endpoints(server_require_client_certificate=False)
    _not_yet(zone.check6(), "require_client_certificate=True")


def test_10_6_the_key_must_be_the_nodes(zone):
    zone.endpoints(client_key=lab.fixture_key("expc-2"))
    _not_yet(zone.check6(), "expc-1")


def test_10_6_a_peer_address_not_in_the_certificate_fails_on_the_real_handshake(zone):
    zone.endpoints(client_server_name="expe-old.lab.example")
    _not_yet(zone.check6(), "handshake failed", "subject alternative names")


def test_10_6_the_endpoints_trust_their_nodes_lists_and_the_handshake_is_run(zone, tmp_path):
    rogue = init_ca(tmp_path / "rogue", "labkit Root CA", key=lab.fixture_key("rogue-ca"), days=LONG)
    zone.endpoints(server_trusted=(rogue.certificate,))
    _not_yet(zone.check6(), "not in expe.lab.example's trusted CA list")
    store = zone.stores[SITE.expe_fqdn]  # now the E's own list trusts the wrong root: OpenSSL on the E refuses
    store.trusted.delete(0, 1)
    store.trusted.append(rogue.certificate)
    zone.endpoints()
    _not_yet(zone.check6(), "handshake failed", "server refused", "issuer is unknown")


# -- 10.7 --------------------------------------------------------------------------------------------------------

def test_10_7_nothing_revoked_keeps_the_zone_up(zone):
    _not_yet(zone.revoke(revoke=False).check7(), "still valid", "revoke")


def test_10_7_a_crl_published_before_the_revocation_does_not_list_it(zone):
    _not_yet(zone.revoke(publish_after=False).check7(), "publish a new one")


def test_10_7_a_crl_not_given_to_the_expressway_e_changes_nothing(zone):
    _not_yet(zone.revoke(upload=False).check7(), "holds no CRL")


def test_10_7_crl_checking_must_be_on(zone):
    _not_yet(zone.revoke(settings=RevocationSettings(checking=False)).check7(), "checking=True")
    _not_yet(check("10.7", None, zone.crl_store, client=zone.client, server=zone.server, ca=zone.issuing),
             "RevocationSettings")


def test_10_7_a_crl_expired_by_the_real_clock_is_refused_with_code_12_not_23(zone):
    zone.revoke(crl_days=7)
    assert zone.crl.next_update_utc < lab.now_real()  # fresh for 7 days from the lab clock, ended by the machine's
    result = _not_yet(zone.check7(), "not because OpenSSL found the certificate")
    assert "CRL has expired" in result.message


def test_10_7_revoking_the_server_instead_of_the_client_is_not_it(zone):
    zone.issuing.revoke(zone.server.chain[0], "keyCompromise")
    _not_yet(zone.check7(), "still valid")


# -- 10.8 --------------------------------------------------------------------------------------------------------

def test_10_8_reusing_the_compromised_key_is_refused(zone):
    zone.revoke()
    _not_yet(zone.check8(zone.recover(key="expc-1")), "new one")


def test_10_8_the_revoked_certificate_itself_is_refused(zone):
    zone.revoke()
    _not_yet(zone.check8(zone.client), "revoked one")


# -- the module's own helpers -------------------------------------------------------------------------------------

def test_tcp_and_memory_handshakes_reach_the_same_revocation_verdict(zone):
    zone.revoke()
    _, tcp = sip_tls_handshake(zone.client, zone.server, zone.settings, zone.crl_store, tcp=True)
    _, memory = sip_tls_handshake(zone.client, zone.server, zone.settings, zone.crl_store)
    assert (tcp.outcome.failed_side, tcp.outcome.verify_code) == (memory.outcome.failed_side,
                                                                   memory.outcome.verify_code) == ("server", 23)
    assert describe((None, tcp)).startswith("FAILED (server, verify code 23)")
    decision, plain = sip_tls_handshake(zone.client, zone.server, RevocationSettings(checking=False), CrlStore(),
                                        tcp=True)
    assert plain.ok and decision.source == "off"  # no settings: no checking, the zone is up


def test_openssl_verify_agrees_with_the_handshakes(zone, openssl_bin):
    good = openssl_verify(zone.work, zone.certificates, root=zone.root, issuing=zone.issuing)
    assert good.ok and good.stdout.count(": OK") == 3 and str(zone.work) not in good.command
    zone.revoke()
    peer = {"expc1.lab.example": zone.client.chain[0]}
    refused = openssl_verify(zone.work, peer, root=zone.root, issuing=zone.issuing, crl=True)
    assert not refused.ok and "certificate revoked" in refused.stdout + refused.stderr
    assert "-crl_check" in refused.command
    assert openssl_verify(zone.work, None, root=zone.root, issuing=zone.issuing).startswith("nothing to verify")


def test_describe_says_nothing_ran_yet():
    assert describe(None) == "no handshake yet"


def test_a_site_names_fqdns_only():
    with pytest.raises(InputError, match="site-fqdn"):
        Site(phone_profiles=("jabbersecure",))
    with pytest.raises(InputError, match="site-keys"):
        Site(keys=(("expc1.lab.example", "expc-1"),))
    assert dataclasses.replace(SITE).nodes == (*SITE.peers, SITE.expe_fqdn)
    assert SITE.table().loc["Expressway-E FQDN", "value"] == SITE.expe_fqdn
