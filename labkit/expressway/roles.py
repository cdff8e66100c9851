"""The roles a certificate is checked for: one vocabulary for the whole kit (doctor, the CSR page, the clinic).

An Expressway is an Expressway-C (inside, towards Unified CM) or an Expressway-E (at the edge); guide chapter 4 says
which names each one's certificate carries. ``expressway`` checks a certificate for either, and ``ca`` checks a CA
certificate for the trusted CA list (chapter 7). ``labkit probe`` looks at a live server, which is an Expressway or
a ``peer`` (a TLS server that is not an Expressway, such as Unified CM or an LDAP server: doctor is not applied).
"""

from __future__ import annotations

__all__ = ["ROLES", "NODE_ROLES", "PROBE_ROLES"]

#: Every role, and what the kit calls it on pages and in menus.
ROLES: dict[str, str] = {"expressway": "Expressway (C or E)", "expressway-c": "Expressway-C",
                         "expressway-e": "Expressway-E", "ca": "CA certificate"}

#: The roles one Expressway peer can have (the Generate CSR page's two products).
NODE_ROLES: dict[str, str] = {role: ROLES[role] for role in ("expressway-c", "expressway-e")}

#: The roles a live server can have for ``labkit probe``: an Expressway (doctor's roles) or a peer that is not one.
PROBE_ROLES: dict[str, str] = {**{role: ROLES[role] for role in ("expressway", "expressway-c", "expressway-e")},
                               "peer": "a TLS server that is not an Expressway"}
