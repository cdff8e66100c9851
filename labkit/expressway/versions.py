"""The Expressway software releases the kit models, and what each does with the clientAuth purpose.

The guide is the X14.0 edition, and X14.0 is the kit's default everywhere (``ExpresswayNode(version=...)``, the
store's upload, the Generate CSR form, ``labkit doctor --expressway-version``). Public CAs have since stopped
putting clientAuth into server certificates, and later releases answer that (sources in :mod:`labkit.guide`):

* **X14.0** (and every release up to X15.3): the server certificate serves as the Expressway's TLS client
  certificate too. While Unified Communications features are on, a server certificate without the clientAuth
  purpose cannot be uploaded (the X14.0.1 administrator guide; the guide's chapter 2 and appendix E ask for both
  purposes). Field notice FN74362 lists X14.0.0 to X15.3.x as affected by the public CAs' change.
* **X15.4**: a command-line switch on the Expressway-E (``xConfiguration XCP TLS Certificate CVS
  EnableServerEkuUpload: On``) lets it take a serverAuth-only server certificate; the Expressway-C is unchanged.
* **X15.5**: two stores, a server certificate store and a client certificate store, each used where it is needed;
  the server certificate may be serverAuth-only and mutual TLS uses the client certificate. X15.5 deprecates the
  X15.4 switch.

What labkit assumes where Cisco's documents are silent: on X15.5 with no client certificate loaded, the server
certificate is presented as the client certificate, as before.
"""

from __future__ import annotations

from labkit import guide
from labkit.errors import InputError

__all__ = ["VERSIONS", "DEFAULT_VERSION", "check_version", "separate_client_store", "server_eku_switch"]

#: The releases the kit models, and a one-line summary of each one's clientAuth rule.
VERSIONS: dict[str, str] = {
    "X14.0": "the guide's release: one certificate is server and client; without clientAuth it cannot be uploaded "
             "while Unified Communications is on",
    "X15.4": "as X14, plus an Expressway-E switch (EnableServerEkuUpload) that accepts a serverAuth-only upload",
    "X15.5": "separate server and client certificate stores: the server certificate may be serverAuth-only",
}

DEFAULT_VERSION = "X14.0"


def check_version(version: str) -> str:
    """``version`` if the kit models it; an :class:`~labkit.errors.InputError` (rule ``expressway-version``)
    naming the choices otherwise."""
    if version not in VERSIONS:
        raise InputError(f"Expressway software version: choose one of {', '.join(VERSIONS)}",
                         rule="expressway-version", value=version, chapter=guide.CISCO_X15_5_EKU)
    return version


def server_eku_switch(version: str, role: str) -> bool:
    """Whether this release offers the Expressway-E's switch for a serverAuth-only upload (X15.4 on an E)."""
    return check_version(version) == "X15.4" and role == "expressway-e"


def separate_client_store(version: str) -> bool:
    """Whether this release keeps a client certificate apart from the server certificate (X15.5)."""
    return check_version(version) == "X15.5"
