"""The roles a certificate is checked for: one vocabulary for the whole kit (doctor, the CSR page, the clinic).

An Expressway is an Expressway-C (inside, towards Unified CM) or an Expressway-E (at the edge); guide chapter 4 says
which names each one's certificate carries. ``expressway`` checks a certificate for either, and ``ca`` checks a CA
certificate for the trusted CA list (chapter 7).
"""

from __future__ import annotations

__all__ = ["ROLES", "NODE_ROLES"]

#: Every role, and what the kit calls it on pages and in menus.
ROLES: dict[str, str] = {"expressway": "Expressway (C or E)", "expressway-c": "Expressway-C",
                         "expressway-e": "Expressway-E", "ca": "CA certificate"}

#: The roles one Expressway peer can have (the Generate CSR page's two products).
NODE_ROLES: dict[str, str] = {role: ROLES[role] for role in ("expressway-c", "expressway-e")}
