"""One module per notebook: the chapter's scenario objects and its exercise checks, named after the notebook.

``ch07_crl_checks`` is what ``notebooks/07-crl-checks.ipynb`` imports. A chapter module builds on the product
layers (:mod:`labkit.expressway`, :mod:`labkit.ca`, :mod:`labkit.revocation`, :mod:`labkit.tls`, :mod:`labkit.acme`,
:mod:`labkit.x509`) and, where the story needs it, on an earlier chapter; never on a later one, the widgets or the
command line. Its exercises register with :mod:`labkit.exercises` when the module is imported.
"""
