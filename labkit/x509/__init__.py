"""X.509 as OpenSSL sees it: the layer every other part of labkit stands on.

One module per concept: :mod:`.certs` (issue certificates and CSRs from a small spec), :mod:`.loading` (the one
reader: PEM, DER, bundles, PKCS#7 and PKCS#12, detecting what they hold; :mod:`.der` walks the DER it needs),
:mod:`.convert` (PEM and DER, appendix C), :mod:`.decode` and :mod:`.text` (``openssl x509|req|crl -text``, appendix
D) with its OID table in :mod:`.oids`, :mod:`.names` (the FQDN rules of chapter 4), :mod:`.pki` (keys, signatures and
chains of chapter 2), :mod:`.verify` (one chain check with OpenSSL's verify codes explained), :mod:`.openssl` (the
real ``openssl`` command) and :mod:`.files` (atomic writes).

Nothing here knows about the Expressway; import the module you need (``from labkit.x509 import decode``).
"""
