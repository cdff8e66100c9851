"""TODO: docstring for expressway.roles (split from expressway)."""

from __future__ import annotations

#: The two Expressway roles, as labkit spells them.
ROLES = {"expressway-c": "Expressway-C", "expressway-e": "Expressway-E"}
