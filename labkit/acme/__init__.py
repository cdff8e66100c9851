"""ACME against a real ACME server, Pebble (guide chapter 5), in layers from the bottom:

* :mod:`.pebble` -- Pebble and its DNS as two processes on 127.0.0.1, started and stopped reliably;
* :mod:`.challenge` -- the Expressway-E's short-lived virtual host that answers HTTP-01 challenges;
* :mod:`.client` -- the ACME client flow (account, order, validation, revocation) with the ``acme`` library;
* :mod:`.renewal` -- the automated-renewal model on the lab clock (no network).

The Expressway-E's ACME page, which drives these for one node, is :mod:`labkit.expressway.acme_page`.
"""
