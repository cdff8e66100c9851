"""Widgets: small ipywidgets apps that only compose; every callback calls one labkit function.

Each has a non-widget twin in the core package (noted in its docstring) and a headless test.
"""

from .acme import acme_page
from .ca_form import sign_form
from .clinic import certificate_clinic
from .csr_form import csr_form
from .decoder import decoder
from .revocation import revocation_settings
from .signature import signature_lab
from .store import server_certificate_page, trusted_ca_page
from .tls_lab import failure_lab
from .welcome import widget_check

__all__ = ["widget_check", "signature_lab", "decoder", "sign_form", "csr_form", "failure_lab", "revocation_settings",
           "trusted_ca_page", "server_certificate_page", "acme_page", "certificate_clinic"]
