"""The simulated Expressway: one module per admin page or concept (guide chapters 2-8).

* :mod:`.roles` -- the roles a certificate is checked for (one vocabulary for the whole kit);
* :mod:`.csr` -- the Generate CSR page's fields (:class:`CsrRequest`) and the request it makes (:func:`build_csr`);
* :mod:`.req_config` -- the OpenSSL twin: an ``openssl req`` config that asks for the same CSR;
* :mod:`.csr_page` -- what the Generate CSR widget calls on each change or click;
* :mod:`.node` -- one peer that keeps its key (:class:`ExpresswayNode`) and a cluster of peers (:class:`Cluster`);
* :mod:`.requirements` -- chapter 4's table of names per Unified Communications feature, and its re-issue rules;
* :mod:`.versions` -- the software releases the kit models (X14.0, X15.4, X15.5) and their clientAuth rules;
* :mod:`.findings` -- one finding (rule, severity, message, source), what every check reports;
* :mod:`.doctor` -- will this certificate work on an Expressway, and if not, why;
* :mod:`.csr_compare` -- what the CA changed between a CSR and its certificate (``doctor --csr``);
* :mod:`.probe` -- a live TLS service judged as its peers see it (``labkit probe``);
* :mod:`.upload`, :mod:`.trusted_list`, :mod:`.server_certificate`, :mod:`.store` -- the trusted CA list and
  server certificate pages (chapters 6 and 7);
* :mod:`.revocation` -- the CRL store and the SIP TLS revocation settings (chapter 8);
* :mod:`.acme_page` -- the Expressway-E's ACME page (chapter 5).

The Generate CSR names are importable from here, as they always were: ``from labkit.expressway import CsrRequest,
ExpresswayNode, Cluster, requirements_table``.
"""

from labkit.expressway.csr import (
    ALTERNATIVE_NAME_CHOICES,
    COMMON_NAME_CHOICES,
    DIGESTS,
    DOMAIN_FORMATS,
    FIELD_LABELS,
    KEY_LENGTHS,
    LAB_SUBJECT,
    CsrRequest,
    build_csr,
)
from labkit.expressway.csr_page import CsrPreview, generate_from_form, preview_csr
from labkit.expressway.node import Cluster, ExpresswayNode
from labkit.expressway.req_config import openssl_req_config
from labkit.expressway.requirements import FEATURES, REISSUE, reissue_table, requirements_table
from labkit.expressway.roles import NODE_ROLES, ROLES
from labkit.expressway.versions import DEFAULT_VERSION, VERSIONS

__all__ = ["ROLES", "NODE_ROLES", "FIELD_LABELS", "LAB_SUBJECT", "COMMON_NAME_CHOICES", "ALTERNATIVE_NAME_CHOICES",
           "DOMAIN_FORMATS", "KEY_LENGTHS", "DIGESTS", "CsrRequest", "build_csr", "ExpresswayNode", "Cluster",
           "FEATURES", "REISSUE", "requirements_table", "reissue_table", "VERSIONS", "DEFAULT_VERSION",
           "openssl_req_config", "CsrPreview", "preview_csr", "generate_from_form"]
