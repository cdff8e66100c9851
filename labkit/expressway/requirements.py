"""Chapter 4's table: which subject alternative names each Unified Communications feature needs, on which role.
"""

from __future__ import annotations

__all__ = ["FEATURES", "requirements_table"]

FEATURES = ("Business to Business Calls", "XMPP Federation", "Jabber Guest", "Mobile and Remote Access")


_E_ONLY, _C_ONLY, _BOTH = "Expressway-E only", "Expressway-C only", "Required"


_REQUIREMENTS: dict[str, dict[str, str]] = {
    "Unified CM registration domains": {"Mobile and Remote Access": _E_ONLY},
    "XMPP federation domains": {"XMPP Federation": _E_ONLY},
    "IM and Presence chat node aliases (federated group chat)": {"XMPP Federation": _BOTH},
    "Unified CM phone security profile names": {"Mobile and Remote Access": _C_ONLY},
    "Expressway cluster name (clustered systems only)": {
        "Business to Business Calls": _C_ONLY, "Jabber Guest": _C_ONLY, "Mobile and Remote Access": _C_ONLY},
}


def requirements_table():
    """Chapter 4's table: which alternative names each Unified Communications feature needs, and on which role.

    Rows are the alternative-name elements of the Generate CSR page, columns the features; a cell says
    ``Expressway-E only``, ``Expressway-C only``, ``Required`` (on both) or is empty (not needed for that feature).
    """
    import pandas as pd  # imported here: the command line starts faster without it

    table = pd.DataFrame([[row.get(feature, "") for feature in FEATURES] for row in _REQUIREMENTS.values()],
                         index=pd.Index(list(_REQUIREMENTS), name="Subject alternative name element"),
                         columns=pd.Index(FEATURES, name="Feature"))
    return table
