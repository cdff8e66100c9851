"""``init_ca`` as the notebooks call it: safe to run again (issue 14).

A notebook cell that makes a CA is run again all the time: after a fix, or by Run All. :func:`init_ca` is
:func:`labkit.ca.init_ca` for the notebooks' working folders (:func:`labkit.lab.workdir`): when the folder already
holds a CA it

* **reopens** it when it is the CA the call asks for (the same name, key, issuer, validity, CRL and OCSP URLs and
  policy), keeping its database and serials, as the cell's first run left them;
* **makes it afresh** when the call asks for another one (the cell was fixed: ``days=LONG`` added, another parent):
  the folder is the lab's scratch space, which the notebook's Imports cell empties anyway.

Anywhere else (a folder outside the lab's working folder, an administrator's CA) an existing CA is refused, exactly
as :func:`labkit.ca.init_ca` and ``labkit ca init`` refuse it (``ca-folder-empty``): nothing is touched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cryptography.x509.oid import NameOID

from labkit import lab
from labkit.ca import CertificateAuthority, open_ca
from labkit.ca import init_ca as _init_ca
from labkit.errors import LabkitError
from labkit.x509.verify import signed_by

__all__ = ["init_ca"]


def _same(ca: CertificateAuthority, common_name: str, key, parent, days: int, options: dict) -> bool:
    """Whether the CA in the folder is the one ``init_ca(folder, common_name, key=key, ...)`` would make."""
    cert = ca.certificate
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer = parent.certificate.subject if parent is not None else cert.subject
    config = ca.config
    return (bool(names) and names[0].value == common_name and cert.public_key() == key.public_key()
            and cert.issuer == issuer and (cert.not_valid_after_utc - cert.not_valid_before_utc).days == days
            and config.crl_url == options.get("crl_url") and config.ocsp_url == options.get("ocsp_url")
            and config.policy.name == options.get("policy", "policy_anything")
            and signed_by(cert, parent.certificate if parent is not None else cert))


def _in_lab(folder: Path) -> bool:
    root = lab.work_root()
    return folder != root and root in folder.parents


def init_ca(folder: str | Path, common_name: str, *, key, parent: CertificateAuthority | None = None,
            days: int = 3650, **options) -> CertificateAuthority:
    """:func:`labkit.ca.init_ca` (same arguments, same result, same refusals) for a notebook cell that may run again:
    in a folder below the lab's working folder that holds a CA already, the same CA is reopened and another one is
    made afresh (see the module's docstring). Returns the :class:`~labkit.ca.CertificateAuthority`."""
    path = Path(folder).resolve()
    exists = (path / "openssl.cnf").exists() or (path / "index.txt").exists()
    if exists and options.get("config") is None and _in_lab(path):
        try:
            ca = open_ca(path, passphrase=options.get("passphrase"))
            if _same(ca, common_name, key, parent, days, options):
                return ca
        except LabkitError:
            pass  # not a CA labkit can open: made afresh below
        shutil.rmtree(path)
    return _init_ca(path, common_name, key=key, parent=parent, days=days, **options)
