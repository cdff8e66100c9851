"""Widgets: small ipywidgets apps that only compose; every callback calls one labkit function.

Each has a non-widget twin in the core package (noted in its docstring) and a headless test.
"""

from labkit.widgets.acme import acme_page
from labkit.widgets.ca_form import sign_form
from labkit.widgets.clinic import certificate_clinic
from labkit.widgets.csr_form import csr_form
from labkit.widgets.decoder import decoder
from labkit.widgets.revocation import revocation_settings
from labkit.widgets.signature import signature_lab
from labkit.widgets.store import server_certificate_page, trusted_ca_page
from labkit.widgets.tls_lab import failure_lab
from labkit.widgets.welcome import widget_check

__all__ = ["widget_check", "signature_lab", "decoder", "sign_form", "csr_form", "failure_lab", "revocation_settings",
           "trusted_ca_page", "server_certificate_page", "acme_page", "certificate_clinic"]
