"""Chapter 4's tables: which subject alternative names each Unified Communications feature needs, on which role, and
which configuration changes call for a new certificate.

The text copy of the X14.0 guide prints the first table's rows right to left; read in order (and as the same table
reads in Cisco's other editions of it, such as the MRA and XMPP federation deployment guides), the Expressway-C
carries the cluster name for Mobile and Remote Access, Jabber Guest and XMPP Federation, and business-to-business
calls need none of these names. The cluster name is there because the Expressway-E's Unified Communications
traversal zone checks the Expressway-C's certificate against its *TLS verify subject name*, which is the C's cluster
name (the MRA deployment guide's secure traversal zone).
"""

from __future__ import annotations

__all__ = ["FEATURES", "REISSUE", "requirements_table", "reissue_table"]

FEATURES = ("Mobile and Remote Access", "Jabber Guest", "XMPP Federation", "Business to Business Calls")


_E_ONLY, _C_ONLY, _BOTH = "Expressway-E only", "Expressway-C only", "Required"


_REQUIREMENTS: dict[str, dict[str, str]] = {
    "Unified CM registration domains": {"Mobile and Remote Access": _E_ONLY},
    "XMPP federation domains": {"XMPP Federation": _E_ONLY},
    "IM and Presence chat node aliases (federated group chat)": {"XMPP Federation": _BOTH},
    "Unified CM phone security profile names": {"Mobile and Remote Access": _C_ONLY},
    "Expressway cluster name (clustered systems only)": {
        "Mobile and Remote Access": _C_ONLY, "Jabber Guest": _C_ONLY, "XMPP Federation": _C_ONLY},
}


#: Chapter 4's note on new certificates: which change needs a new certificate on which role. The guide says the
#: Expressway-C *may* need one (its CSR page adds discovered chat node aliases by itself) and the Expressway-E *must*.
REISSUE: dict[str, dict[str, str]] = {
    "chat node aliases added or renamed": {"Expressway-C": "may need a new certificate",
                                           "Expressway-E": "new certificate needed (aliases added)"},
    "IM and Presence nodes added or renamed": {"Expressway-C": "may need a new certificate"},
    "new TLS phone security profiles": {"Expressway-C": "may need a new certificate"},
    "Unified CM registration domains changed": {"Expressway-E": "new certificate needed"},
    "XMPP federation domains changed": {"Expressway-E": "new certificate needed"},
}


def requirements_table():
    """Chapter 4's table: which alternative names each Unified Communications feature needs, and on which role.

    Rows are the alternative-name elements of the Generate CSR page, columns the features (MRA, Jabber Guest, XMPP
    Federation, business-to-business calls, in the guide's order); a cell says ``Expressway-E only``,
    ``Expressway-C only``, ``Required`` (on both) or is empty (not needed for that feature). Returns a pandas
    DataFrame.
    """
    import pandas as pd  # imported here: the command line starts faster without it

    return pd.DataFrame([[row.get(feature, "") for feature in FEATURES] for row in _REQUIREMENTS.values()],
                        index=pd.Index(list(_REQUIREMENTS), name="Subject alternative name element"),
                        columns=pd.Index(FEATURES, name="Feature"))


def reissue_table():
    """Chapter 4's re-issue rules as a table: one row per configuration change, one column per role; a cell says
    whether that role's certificate needs (or may need) to be issued again, or is empty. Returns a DataFrame.

    Whatever the change, a new certificate takes effect on the Expressway after a restart (chapter 4)."""
    import pandas as pd

    roles = ["Expressway-C", "Expressway-E"]
    return pd.DataFrame([[row.get(role, "") for role in roles] for row in REISSUE.values()],
                        index=pd.Index(list(REISSUE), name="Change"), columns=pd.Index(roles, name="Role"))
