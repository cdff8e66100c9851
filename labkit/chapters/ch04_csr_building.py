"""Notebook 04, building CSRs (guide chapters 3 and 4): exercises 04.1-04.3 on an Expressway-E request for MRA,
the owner of a stray certificate in a cluster, and a phone security profile name the Expressway accepts.
"""

from __future__ import annotations

from labkit import guide
from labkit.ca import self_signed
from labkit.chapters.lab_ca import init_ca
from labkit.exercises import check, exercise
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest, build_csr
from labkit.expressway.doctor import doctor
from labkit.expressway.node import Cluster, ExpresswayNode
from labkit.expressway.req_config import openssl_req_config
from labkit.expressway.requirements import reissue_table, requirements_table
from labkit.x509 import decode
from labkit.x509.openssl import openssl

__all__ = ["build_csr", "check", "Cluster", "CsrRequest", "decode", "doctor", "ExpresswayNode", "init_ca",
           "LAB_SUBJECT", "openssl", "openssl_req_config", "reissue_table", "requirements_table", "self_signed"]


@exercise("04.1", "An Expressway-E request for MRA with CollabEdgeDNS", guide.CH4_EXPRESSWAY)
def _edge_request(answer, *, domain: str) -> tuple[bool, str]:
    from labkit.expressway.csr import CsrRequest

    if not isinstance(answer, CsrRequest):
        return False, "pass the CsrRequest you built (CsrRequest(role=..., fqdn=..., ...))"
    if answer.role != "expressway-e":
        return False, "registration domains go on the Expressway-E's certificate: role='expressway-e'"
    names = answer.dns_names()
    if f"collab-edge.{domain}" not in names:
        return False, (f"the SANs {names} lack collab-edge.{domain}: which registration domains format puts that "
                       "prefix in front of the domain?")
    if domain in names:
        return False, f"CollabEdgeDNS keeps the bare domain {domain} out of the certificate; remove it from the SANs"
    return True, f"collab-edge.{domain} is in the SANs, and the top-level domain {domain} is not"


@exercise("04.2", "Whose certificate is it?", guide.CH3_CLUSTER)
def _owner(answer, *, cluster, certificate) -> tuple[bool, str]:
    owner = cluster.owner_of(certificate)
    if owner is None:
        return False, "none of the peers' keys matches this certificate"
    given = answer.name if isinstance(answer, ExpresswayNode) else str(answer)  # cluster.owner_of(...) or a name
    if given.strip().lower() == owner.name.lower():
        return True, "its public key matches that peer's pending CSR, so only that peer can use it"
    return False, "compare the certificate's public key with each peer's (cluster.owner_of does it for you)"


@exercise("04.3", "A phone security profile name the Expressway accepts", guide.CH4_EXPRESSWAY)
def _profile_name(answer, *, profile: str, domain: str) -> tuple[bool, str]:
    from labkit.x509.names import fqdn_problem

    if not isinstance(answer, str):
        return False, f"answer with the profile's new name as text (a str), not {type(answer).__name__}"
    given = answer.strip()
    problem = fqdn_problem(given)
    if problem:
        return False, f"since X12.6 the name must be an FQDN: {problem}"
    if given.lower() != f"{profile}.{domain}".lower():
        return False, f"an FQDN, yes, but not the one that still names this profile in {domain}"
    return True, ("an FQDN: rename the profile to it on Unified CM and give the same name on the Expressway-C, so "
                  "TLS phones using it can register through MRA")
