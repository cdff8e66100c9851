"""Does the test suite notice small deliberate bugs? A mutation check you can rerun (issue 12; not in `make test`).

    .venv/bin/python scripts/mutation_check.py                 # every mutation, one at a time
    .venv/bin/python scripts/mutation_check.py -j 2            # two at a time (the reference machine has 2 cores)
    .venv/bin/python scripts/mutation_check.py 'doctor-*' ca-serial-file-behind     # a subset, by name or glob
    .venv/bin/python scripts/mutation_check.py --list          # the mutations and the tests that should catch them
    .venv/bin/python scripts/mutation_check.py --markdown mutations.md --timeout 300 --keep

Each mutation (:data:`MUTATIONS`) is one exact snippet of one file and its replacement, a one-line description and
the pytest arguments (node ids, files, ``-k`` expressions; a ``*`` in a path is a glob, dropped when it matches
nothing, so tests still being written can be named) of the tests that should catch it. The working tree (every
file git tracks or would track, uncommitted edits included) is copied to a temporary folder, one copy per worker;
the mutation is applied to the copy, the selected tests run there with this Python (the project's venv) and
``PYTHONPATH`` pointing at the copy, so the copy's ``labkit`` and the copy's tests are the ones that run; then the
file is put back for the next mutation.

Results:

* ``killed``: the selected tests failed (pytest exit 1; the first failing test is named, and it is run again on
  the unmutated copy: if it fails there too, the result is ``error``);
* ``SURVIVED``: the selected tests passed with the bug in place;
* ``timeout``: the tests did not finish within ``--timeout`` seconds (their process group is killed);
* ``stale``: the snippet is not in the file exactly once (the code moved on): update the mutation;
* ``error``: pytest could not run the selection (usage error, nothing collected) or it fails without the mutation.

The table (markdown) goes to standard output, progress to standard error. Exit status 0 when every mutation was
killed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = "tests/nbval-sanitize.cfg"


@dataclass(frozen=True)
class Mutation:
    name: str
    origin: str  # "issue 12" (a kind the issue found surviving) or "added"
    path: str  # relative to the repository root
    old: str  # the exact snippet; it must occur exactly once
    new: str
    description: str
    tests: tuple[str, ...]  # pytest arguments


def _m(name, origin, path, old, new, description, *tests) -> Mutation:
    return Mutation(name, origin, path, old, new, description, tuple(tests))


_I, _A, _H = "issue 12", "added", "issue 16"
_WIDGETS = "tests/test_widget*.py"
_CLI = "tests/test_cli[._]*py"  # test_cli.py, test_cli_*.py; not test_clinic.py

MUTATIONS: tuple[Mutation, ...] = (
    # -- the kinds issue 12 found surviving the whole suite ---------------------------------------------------------
    _m("walkthrough-master-flag-true", _I, "labkit/tls/walkthrough.py",
       '"key log CLIENT_RANDOM line", master == logged_master),', '"key log CLIENT_RANDOM line", True),',
       "TLS 1.2 walkthrough: the master secret 'matches the key log' whatever the key log says",
       "tests/test_tls_walkthrough.py"),
    _m("walkthrough-tls13-finished-flag-true", _I, "labkit/tls/walkthrough.py",
       "k.tls13_finished(server_secret, k.transcript_hash(before_server_fin, suite=suite), suite=suite)\n"
       "             == server_fin),", "True),",
       "TLS 1.3 walkthrough: the server Finished check always passes",
       "tests/test_tls_walkthrough.py"),
    _m("clinic-openssl-always-agrees", _I, "labkit/instructor/clinic.py",
       "else self.openssl_run.ok == self.chain.ok", "else True",
       "clinic: 'OpenSSL agrees' even when openssl verify reached the other verdict",
       "tests/test_clinic.py"),
    _m("doctor-expiry-26-days", _I, "labkit/expressway/doctor.py",
       "elif end - at <= _dt.timedelta(days=30):", "elif end - at <= _dt.timedelta(days=26):",
       "doctor: expires-soon from 26 days instead of 30",
       "tests/test_doctor.py", "tests/test_thresholds.py"),
    _m("doctor-rsa-1100-bits", _I, "labkit/expressway/doctor.py",
       "elif key.key_size < 2048:", "elif key.key_size < 1100:",
       "doctor: key-too-small only under 1100 bits instead of 2048",
       "tests/test_doctor.py", "tests/test_thresholds.py"),
    _m("doctor-after-2050-exclusive", _I, "labkit/expressway/doctor.py",
       "if end.year >= 2050:", "if end.year > 2050:",
       "doctor: expires-after-2050 misses certificates expiring in 2050",
       "tests/test_doctor.py", "tests/test_thresholds.py"),
    _m("cli-serve-unregistered", _I, "labkit/cli/__init__.py",
       ', "serve": "labkit.cli.serve"}', "}",
       "`labkit serve` is not registered with the command line",
       "tests/test_revocation_services.py", _CLI, "-k", "serve or cli"),
    _m("cli-probe-unregistered", _A, "labkit/cli/__init__.py",
       '"probe": "labkit.cli.probe", ', "",
       "`labkit probe` is not registered with the command line",
       _CLI, "-k", "documented_commands or probe"),
    _m("probe-order-judged-by-set", _A, "labkit/expressway/probe.py",
       "if sent_path != path[1:]:", "if set(sent_path) != set(path[1:]):",
       "probe: chain-order compares which CAs were sent, not their order",
       "tests/test_probe.py", "-k", "order"),
    _m("csr-compare-eku-kept", _A, "labkit/expressway/csr_compare.py",
       "            if oid not in issued and oid not in accepted_drops:",
       "            if oid not in wanted and oid not in accepted_drops:",
       "doctor --csr: a purpose the CA dropped is never reported (copy and paste)",
       "tests/test_csr_compare.py"),
    _m("cli-decode-table-needs-at", _I, "labkit/cli/x509.py",
       "        at = lab.parse_instant(args.at) if args.at else lab.now_real()\n        with pd",
       "        at = lab.parse_instant(args.at)\n        with pd",
       "`labkit decode --table` without --at crashes (traceback)",
       "tests/test_decode.py", _CLI, "-k", "cli or table"),
    _m("widget-revocation-cdp-always-on", _I, "labkit/widgets/revocation.py",
       "RevocationSettings(checking.value, ocsp.value, crls.value, cdp.value, fallback.value)",
       "RevocationSettings(checking.value, ocsp.value, crls.value, True, fallback.value)",
       "revocation widget: 'Allow CRL downloads from CDPs' is tied to True",
       _WIDGETS, "tests/test_exercises.py", "-k", "widget"),
    _m("widget-acme-automate-noop", _I, "labkit/widgets/acme.py",
       "lambda: page.automate(days.value, when.value)))",
       "lambda: None))",
       "ACME page: the 'Enable automated mode' button does nothing",
       _WIDGETS, "tests/test_acme.py", "-k", "widget"),
    _m("crl-lookup-without-index", _I, "labkit/revocation/crl.py",
       "    cached = _INDEXES.get(id(crl))\n"
       "    if cached is None or cached[0] is not crl:\n"
       "        if len(_INDEXES) > 64:\n"
       "            _INDEXES.clear()\n"
       "        cached = (crl, frozenset(entry.serial_number for entry in crl))\n"
       "        _INDEXES[id(crl)] = cached\n"
       "    return serial in cached[1]\n",
       "    return crl.get_revoked_certificate_by_serial_number(serial) is not None\n",
       "is_revoked scans the CRL on every lookup (same answers, no index)",
       "tests/test_crl_checks.py"),
    _m("layer-ca-imports-ipywidgets", _I, "labkit/ca/policy.py",
       "from dataclasses import dataclass\n\nfrom cryptography import x509\n",
       "from dataclasses import dataclass\n\nimport ipywidgets  # noqa: F401\nfrom cryptography import x509\n",
       "a core module under labkit/ca/ imports ipywidgets",
       "tests/test_project.py", "tests/test_layer*.py"),
    # -- added: realistic bugs across the CA, doctor, loading, revocation, TLS and the exercises -------------------
    _m("ca-serial-file-behind", _A, "labkit/ca/authority.py",
       "write_number(self.config.serial, first + len(csrs))", "write_number(self.config.serial, first + len(csrs) - 1)",
       "CA: the serial file is left one behind the last issued serial (openssl ca would reuse it)",
       "tests/test_ca.py"),
    _m("ca-policy-match-as-optional", _A, "labkit/ca/policy.py",
       "    for field, rule in policy.fields:\n        values = request.get_attributes_for_oid(FIELDS[field])",
       "    for field, rule in ((f, 'optional' if r == 'match' else r) for f, r in policy.fields):\n"
       "        values = request.get_attributes_for_oid(FIELDS[field])",
       "CA policy: 'match' fields are treated as 'optional'",
       "tests/test_ca.py"),
    _m("ca-crl-reason-dropped", _A, "labkit/ca/authority.py",
       "item = item.add_extension(x509.CRLReason(REASONS[entry.reason]), False)", "item = item",
       "CA: the CRL entries lose their revocation reason",
       "tests/test_ca.py"),
    _m("ca-client-server-without-clientauth", _A, "labkit/ca/policy.py",
       '"Expressway needs for mutual TLS zones", extended_usages=(_SERVER, _CLIENT)),',
       '"Expressway needs for mutual TLS zones", extended_usages=(_SERVER,)),',
       "CA: the client-server profile (AD CS 'Web client and server') issues serverAuth only",
       "tests/test_ca.py", "tests/test_exercises.py"),
    _m("ca-index-utctime-through-2050", _A, "labkit/ca/database.py",
       '"%Y%m%d%H%M%SZ" if moment.year >= 2050 else', '"%Y%m%d%H%M%SZ" if moment.year > 2050 else',
       "CA database: expiry times in 2050 written as two-digit UTCTime",
       "tests/test_ca.py", "tests/test_thresholds.py"),
    _m("ca-csr-signature-unchecked", _A, "labkit/ca/authority.py",
       "    if not csr.is_signature_valid:\n", "    if False:\n",
       "CA: a CSR whose signature does not verify is signed anyway",
       "tests/test_ca.py"),
    _m("doctor-clientauth-checks-serverauth", _A, "labkit/expressway/doctor.py",
       "if ExtendedKeyUsageOID.CLIENT_AUTH in s.eku:", "if ExtendedKeyUsageOID.SERVER_AUTH in s.eku:",
       "doctor: the clientAuth rule tests serverAuth (copy and paste)",
       "tests/test_doctor.py"),
    _m("doctor-named-attribute-flagged", _A, "labkit/expressway/doctor.py",
       'unnamed, undecoded = not is_named_oid(dotted), value.startswith("#")',
       'unnamed, undecoded = dotted not in ("2.5.4.6", "2.5.4.10", "2.5.4.3"), value.startswith("#")',
       "doctor: every attribute outside C, O, CN is flagged again (the EV attributes OpenSSL names among them)",
       "tests/test_doctor.py"),
    _m("doctor-clientauth-ignores-version", _A, "labkit/expressway/doctor.py",
       "    if separate_client_store(e.version):\n", "    if False:\n",
       "doctor: X15.5's separate client certificate store is ignored (eku-no-client-auth stays an error)",
       "tests/test_doctor.py"),
    _m("upload-client-auth-not-refused", _A, "labkit/expressway/server_certificate.py",
       "if _client_auth(cert) is not False or not settings.unified_communications:", "if True:",
       "store: X14 uploads a server certificate without clientAuth while Unified Communications is on",
       "tests/test_store.py"),
    _m("revocation-cas-not-checked", _A, "labkit/expressway/revocation.py",
       "cas = [ca for ca in (issuer, *chain) if ca.subject != ca.issuer]", "cas = []",
       "revocation: CRL checking covers the peer's certificate only, not every CA in the chain",
       "tests/test_revocation_matrix.py", "tests/test_widget_controls.py"),
    _m("doctor-collab-edge-not-accepted", _A, "labkit/expressway/doctor.py",
       'if not (s.has_dns(domain) or s.has_dns(f"collab-edge.{domain}")):', "if not s.has_dns(domain):",
       "doctor: a registration domain as collab-edge.D no longer satisfies uc-registration-domain",
       "tests/test_doctor.py"),
    _m("doctor-expired-at-not-after", _A, "labkit/expressway/doctor.py",
       "elif at > end:", "elif at >= end:",
       "doctor: 'expired' at the notAfter instant itself (RFC 5280: notAfter is still valid)",
       "tests/test_doctor.py", "tests/test_thresholds.py"),
    _m("loading-glued-pem-accepted", _A, "labkit/x509/loading.py",
       "raw[block.end() : block.end() + 5] == b\"-----\"", "raw[block.end() : block.end() + 6] == b\"-----\"",
       "loading: an END line glued to the next BEGIN (appendix A's missing newline) is no longer refused",
       "tests/test_bad_input.py", "tests/test_troubleshooting.py"),
    _m("loading-expected-kind-unchecked", _A, "labkit/x509/loading.py",
       "    item = items[0]\n    _check_kind(item, expect)\n    return item\n",
       "    item = items[0]\n    return item\n",
       "loading: load(expect=...) accepts a CSR where a certificate belongs",
       "tests/test_bad_input.py"),
    _m("ocsp-status-inverted", _A, "labkit/revocation/ocsp.py",
       'if entry is not None and entry.status == "R":', 'if entry is not None and entry.status != "R":',
       "OCSP responder: revoked answered good, good answered revoked",
       "tests/test_revocation_services.py"),
    _m("ocsp-unknown-serial-good", _A, "labkit/revocation/ocsp.py",
       "            elif entry is not None:\n                status = ocsp.OCSPCertStatus.GOOD",
       "            else:\n                status = ocsp.OCSPCertStatus.GOOD",
       "OCSP responder: a serial the CA never issued is answered good, not unknown",
       "tests/test_revocation_services.py"),
    _m("crl-expired-crl-not-revoking", _A, "labkit/expressway/revocation.py",
       "if crl.next_update_utc is not None and crl.next_update_utc < moment:",
       "if crl.next_update_utc is not None and crl.next_update_utc < crl.last_update_utc:",
       "CRL store: an expired CRL no longer makes its CA's certificates count as revoked",
       "tests/test_crl_checks.py", "tests/test_revocation_matrix.py"),
    _m("revocation-fallback-inverted", _A, "labkit/expressway/revocation.py",
       'accept = settings.fallback == "not-revoked"', 'accept = settings.fallback == "revoked"',
       "SIP TLS revocation: the fallback does the opposite of its setting",
       "tests/test_crl_checks.py", "tests/test_revocation_matrix.py"),
    _m("revocation-cdp-setting-ignored", _A, "labkit/expressway/revocation.py",
       'if status == "unknown" and settings.allow_cdp_downloads:', 'if status == "unknown":',
       "SIP TLS revocation: CRLs are downloaded from CDPs even when that is not allowed",
       "tests/test_crl_checks.py", "tests/test_revocation_matrix.py"),
    _m("tls12-prf-master-label", _A, "labkit/tls/keys.py",
       'prf(_premaster(premaster), b"master secret", cr + sr, 48)',
       'prf(_premaster(premaster), b"master_secret", cr + sr, 48)',
       "TLS 1.2: the master secret PRF uses a wrong label",
       "tests/test_tls_keys.py", "tests/test_tls_walkthrough.py"),
    _m("tls12-key-block-random-order", _A, "labkit/tls/keys.py",
       'prf(master, b"key expansion", sr + cr,', 'prf(master, b"key expansion", cr + sr,',
       "TLS 1.2: the key block takes the randoms client first (RFC 5246 wants server first)",
       "tests/test_tls_keys.py", "tests/test_tls_walkthrough.py"),
    _m("tls13-label-prefix", _A, "labkit/tls/keys.py",
       'full_label = b"tls13 " + _label(', 'full_label = b"tls1.3 " + _label(',
       "TLS 1.3: HKDF-Expand-Label with a wrong label prefix",
       "tests/test_tls_keys.py", "tests/test_tls_walkthrough.py"),
    _m("tls-crl-check-flag-dropped", _A, "labkit/tls/connection.py",
       "ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN if self.crl_check == \"chain\" else ssl.VERIFY_CRL_CHECK_LEAF",
       "ctx.verify_flags |= ssl.VERIFY_DEFAULT",
       "TLS: CRLs are loaded into the context but OpenSSL is not told to check them",
       "tests/test_tls.py", "tests/test_crl_checks.py", "tests/test_revocation_matrix.py"),
    _m("tls-client-certificate-not-required", _A, "labkit/tls/connection.py",
       "ctx.verify_mode = ssl.CERT_REQUIRED if self.require_client_certificate else ssl.CERT_NONE",
       "ctx.verify_mode = ssl.CERT_NONE",
       "TLS: a server never asks for the client's certificate (mutual TLS zones not mutual)",
       "tests/test_tls.py"),
    _m("exercise-05.3-any-serial", _A, "labkit/chapters/ch05_openssl_ca.py",
       "if any(e.serial_hex == given.zfill(len(e.serial_hex)) for e in wanted):",
       "if any(e.serial_hex == given.zfill(len(e.serial_hex)) for e in ca.entries()):",
       "exercise 05.3 accepts the serial of any certificate of the CA",
       "tests/test_exercises.py"),
    _m("exercise-05.1-server-only-accepted", _A, "labkit/chapters/ch05_openssl_ca.py",
       "if not {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= usages:", "if not usages:",
       "exercise 05.1 accepts a serverAuth-only certificate for a mutual-TLS zone",
       "tests/test_exercises.py"),
    _m("exercise-03.3-peer-fqdn-accepted", _A, "labkit/chapters/ch03_expressway_certificates.py",
       "if given == cluster_fqdn.lower():", "if given in (cluster_fqdn.lower(), peer_fqdn.lower()):",
       "exercise 03.3 accepts the peer's own FQDN as a clustered peer's CN",
       "tests/test_exercises.py"),
    _m("exercise-06.1-one-extra-ca-accepted", _A, "labkit/chapters/ch06_loading_certificates.py",
       "    if extra:\n        return False, f\"it verifies, but the list also holds",
       "    if len(extra) > 1:\n        return False, f\"it verifies, but the list also holds",
       "exercise 06.1 accepts a trusted CA list with one CA too many",
       "tests/test_exercises.py", "tests/test_store.py"),
    # -- issue 16: servers and lab processes that hold -------------------------------------------------------------
    _m("server-workers-unbounded", _H, "labkit/httpd.py",
       "while not self._workers.acquire(timeout=_POLL):", "while False:",
       "lab HTTP servers: one thread per connection, however many", "tests/test_servers.py"),
    _m("server-no-read-timeout", _H, "labkit/httpd.py", "        return READ_TIMEOUT\n", "        return None\n",
       "lab HTTP servers: a silent connection is never closed", "tests/test_servers.py"),
    _m("server-early-hangup-traceback", _H, "labkit/httpd.py",
       "    def handle_error(self, request, client_address) -> None:",
       "    def _quiet_error(self, request, client_address) -> None:",
       "lab HTTP servers: a client that hangs up early prints a traceback", "tests/test_servers.py"),
    _m("pebble-forked-by-the-caller", _H, "labkit/acme/pebble.py",
       "proc = _SPAWNER.submit(subprocess.Popen, argv,",
       "proc = (lambda f, *a, **k: type('R', (), {'result': lambda self: f(*a, **k)})())(subprocess.Popen, argv,",
       "Pebble forked by the calling thread: it dies when that thread ends", "tests/test_acme.py"),
    # -- issue 16: the CA carries exactly what it was given; refusals change nothing ---------------------------------
    _m("ca-config-value-unquoted", _H, "labkit/ca/config.py",
       """    return '"' + value.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') + '"'""", "    return value",
       "openssl.cnf: values written raw (a folder with '#' or '$' breaks openssl ca)",
       "tests/test_ca_safety.py"),
    _m("ca-control-characters-accepted", _H, "labkit/x509/names.py",
       "    if bad is not None:\n        raise PolicyError(f\"{field} holds a control character",
       "    if False:\n        raise PolicyError(f\"{field} holds a control character",
       "names: a new line in a CN is no longer refused by the name rules (only openssl.cnf's quoting stops it)",
       "tests/test_ca_safety.py", "tests/test_bad_input.py", "-k", "injection or ca-"),
    _m("ca-days-zero-defaulted", _H, "labkit/ca/authority.py",
       "end = validity_end(start, self.config.default_days if days is None else days)",
       "end = validity_end(start, days or self.config.default_days)",
       "CA: --days 0 silently replaced by the configured default", "tests/test_ca_safety.py"),
    _m("ca-serial-used-before-output-check", _H, "labkit/cli/ca.py",
       "    if args.out:\n        check_output(args.out)  # before a serial is used up\n", "",
       "ca sign: an -o that cannot be written is found after the serial was used up",
       "tests/test_ca_safety.py", "tests/test_bad_input.py", "-k", "output or ca-"),
    _m("loading-quotes-file-bytes", _H, "labkit/x509/loading.py",
       "value=f\"{'text' if text_like else 'binary data'}, {len(raw):,} bytes (not shown: it may be a secret)\"",
       "value=raw",
       "loading: a file that is no certificate is quoted in the error (a passphrase file given as a CSR is shown)",
       "tests/test_bad_input.py", "-k", "pass or nothing_changed or python"),
    _m("doctor-serial-unchecked", _H, "labkit/expressway/doctor.py",
       "    if serial <= 0:\n        yield Finding(\"serial-number\"",
       "    if False:\n        yield Finding(\"serial-number\"",
       "doctor: a zero or negative serial number is not reported", "tests/test_doctor.py", "-k", "serial"),
    # -- issue 15: what administrators bring -----------------------------------------------------------------------
    _m("ca-unique-subject-ignored", _A, "labkit/ca/authority.py",
       "            if self.unique_subject:\n                self._check_unique(lines)",
       "            if False:\n                self._check_unique(lines)",
       "CA: a second valid certificate with one subject is issued although unique_subject is on (TXT_DB error 2)",
       "tests/test_openssl_ca_folders.py"),
    _m("ca-index-empty-line-accepted", _A, "labkit/ca/database.py",
       "        if not line.strip():\n            problems.append(", "        if False:\n            problems.append(",
       "CA database: an empty line in index.txt is no longer refused (openssl ca cannot read the file)",
       "tests/test_openssl_ca_folders.py"),
    _m("ocsp-first-certificate-only", _A, "labkit/revocation/ocsp.py",
       "                for single in children(request_list)]",
       "                for single in children(request_list)[:1]]",
       "OCSP responder: a request for several certificates is answered for the first one only",
       "tests/test_field_inputs.py"),
    _m("verify-missing-ca-blamed-on-root", _A, "labkit/x509/verify.py",
       "        for depth, ca in enumerate(path[1:], 1):  # check_extensions",
       "        for depth, ca in []:  # check_extensions",
       "verify: an issuing CA without basicConstraints is no longer named as the cause (case 11)",
       "tests/test_field_inputs.py"),
    _m("loading-pkcs7-certificates-dropped", _A, "labkit/x509/loading.py",
       "                    if entry[0] == 0x30:", "                    if entry[0] == 0x30 and not items:",
       "loading: only the first certificate of a PKCS#7 bundle is read",
       "tests/test_field_inputs.py"),
    # -- issue 14: the trainee's path --------------------------------------------------------------------------------
    _m("notebook-handler-not-installed", "issue 14", "labkit/errors.py",
       "    shell.set_custom_exc((LabkitError,), show_in_notebook)\n    return True",
       "    return True",
       "notebooks: a LabkitError in a cell shows its whole traceback again (no one-line refusal)",
       "tests/test_notebooks.py", "-k", "one_line"),
    _m("revocation-lab-decides-on-stopped-servers", "issue 14", "labkit/chapters/ch07_crl_checks.py",
       "        settings = settings or RevocationSettings()\n        self.start()\n",
       "        settings = settings or RevocationSettings()\n",
       "notebook 07: the revocation lab decides on servers that were stopped (a revoked certificate accepted)",
       "tests/test_revocation_services.py", "-k", "reset"),
    _m("paste-keeps-the-uploaded-file", "issue 14", "labkit/widgets/_common.py",
       "            self.upload.value = ()  # typing or pasting replaces the file\n",
       "            pass\n",
       "paste-or-upload: typing leaves the uploaded file in place, and the file still wins",
       _WIDGETS),
    _m("ca-folder-gone-unchecked", "issue 14", "labkit/ca/database.py",
       "        if now is None or (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):",
       "        if False:",
       "CA: an object whose folder lab.reset_all() deleted (or another CA replaced) reads and writes there again",
       "tests/test_ca_safety.py", "-k", "folder_was"),
    _m("doctor-expected-names-unchecked", "issue 14", "labkit/expressway/doctor.py",
       "                if problem:\n                    raise InputError(f\"{label} must be an FQDN",
       "                if False:\n                    raise InputError(f\"{label} must be an FQDN",
       "doctor: a name to look for typed wrong is searched for in the certificate instead of refused",
       "tests/test_bad_input.py", "-k", "doctor"),
    _m("button-row-squeezable", "issue 14", "labkit/widgets/_common.py",
       '            child.layout.flex = "0 0 auto"', "            pass",
       "widgets: a button beside a long message shrinks and its label is cut ('Gene...')",
       _WIDGETS, "-k", "squeez"),
    # -- the administrator's break-it trial ----------------------------------------------------------------------
    _m("ca-output-may-be-ca-file", "issue 16", "labkit/cli/ca.py",
       "    ca.check_not_own_file(args.out)\n    csr = load_file", "    csr = load_file",
       "ca sign: -o private/ca.key.pem replaces the CA's key with the new certificate, as openssl ca -out would",
       "tests/test_bad_input.py", "-k", "ca-"),
    _m("index-crlf-accepted", "issue 15", "labkit/ca/database.py",
       '        if line.endswith("\\r"):', '        if False:',
       "CA database: an index.txt with Windows line ends passes (OpenSSL then issues duplicate subjects)",
       "tests/test_openssl_ca_folders.py", "-k", "windows"),
)


# -- running --------------------------------------------------------------------------------------------------------

@dataclass
class Result:
    mutation: Mutation
    status: str  # killed | SURVIVED | timeout | stale | error
    detail: str = ""
    seconds: float = 0.0
    selection: tuple[str, ...] = ()


def _tree_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    return [name for name in listed if name and (ROOT / name).is_file()]


def make_copy(dest: Path, files: list[str]) -> Path:
    """The working tree as it is now (uncommitted edits included, ignored files left out) at ``dest``."""
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return dest


def applicable(mutation: Mutation, root: Path = ROOT) -> str | None:
    """None when the mutation applies to ``root``; otherwise why it is stale."""
    path = root / mutation.path
    if not path.is_file():
        return f"{mutation.path} does not exist"
    count = path.read_text().count(mutation.old)
    return None if count == 1 else f"the snippet occurs {count} times in {mutation.path}"


def selection(tests: tuple[str, ...], root: Path) -> tuple[str, ...]:
    """The pytest arguments with globs expanded in ``root`` (a glob that matches nothing is dropped)."""
    out: list[str] = []
    for arg in tests:
        if "*" in arg and not arg.startswith("-") and "/" in arg:
            out += sorted(str(p.relative_to(root)) for p in root.glob(arg))
        else:
            out.append(arg)
    return tuple(out)


def _targets(args: tuple[str, ...]) -> list[str]:
    """The files and node ids among pytest arguments (not options, nor the value of ``-k`` or ``-m``)."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-k", "-m"):
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(copy), env.get("PYTHONPATH"))))
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the copy is reused: no stale bytecode of a mutated module
    env.pop("LABKIT_WORKDIR", None)
    return env


def run_pytest(copy: Path, args: tuple[str, ...], timeout: float, log: Path) -> tuple[int | None, float, str]:
    """(exit code or None on timeout, seconds, first failing test) of pytest ``args`` in ``copy``."""
    nbval = ("--nbval", "--nbval-current-env", "--nbval-sanitize-with", SANITIZE) if any(
        ".ipynb" in a for a in args) else ()
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--basetemp",
               str(copy.parent / f"{copy.name}-pytest"), *nbval, *args]
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=copy, env=_env(copy), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the tests' kernels and servers too
            proc.wait()
            code = None
    seconds = time.monotonic() - started
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", log.read_text(errors="replace"), re.M)
    return code, seconds, failed.group(1) if failed else ""


def check_mutation(mutation: Mutation, copies: queue.Queue, timeout: float, logs: Path) -> Result:
    copy = copies.get()
    try:
        stale = applicable(mutation, copy)
        if stale:
            return Result(mutation, "stale", stale)
        args = selection(mutation.tests, copy)
        if not _targets(args):
            return Result(mutation, "error", "no test file matches the selection")
        path = copy / mutation.path
        original = path.read_text()
        path.write_text(original.replace(mutation.old, mutation.new, 1))
        try:
            code, seconds, failed = run_pytest(copy, args, timeout, logs / f"{mutation.name}.log")
        finally:
            path.write_text(original)
        status, detail = {0: ("SURVIVED", ""), 1: ("killed", failed), None: ("timeout", f"after {timeout:.0f} s"),
                          5: ("error", "no tests collected")}.get(code, ("error", f"pytest exit {code}"))
        if status == "error" and code not in (5, None):
            detail += f" (see {logs / (mutation.name + '.log')})"
        return Result(mutation, status, detail, seconds, args)
    finally:
        copies.put(copy)


def _baseline(args: tuple[str, ...], copies: queue.Queue, timeout: float, log: Path) -> tuple[int | None, str]:
    copy = copies.get()
    try:
        code, _, failed = run_pytest(copy, args, timeout, log)
        return code, failed
    finally:
        copies.put(copy)


def table(results: list[Result]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| mutation | from | what it breaks | tests | result | time (s) |", "|---|---|---|---|---|---:|"]
    for r in results:
        tests = " ".join(r.mutation.tests)
        result = r.status + (f": {r.detail}" if r.detail else "")
        lines.append(f"| `{r.mutation.name}` | {r.mutation.origin} | {cell(r.mutation.description)} | "
                     f"`{cell(tests)}` | {cell(result)} | {r.seconds:.1f} |")
    counts = {s: sum(r.status == s for r in results) for s in ("killed", "SURVIVED", "timeout", "stale", "error")}
    lines.append("")
    lines.append(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n) + f" of {len(results)} mutations")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="mutations to run, by name or glob (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="mutations run at the same time (default 1)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for one mutation's tests (default 600)")
    parser.add_argument("--list", action="store_true", help="list the mutations and whether each still applies")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies and logs")
    args = parser.parse_args(argv)

    chosen = [m for m in MUTATIONS if not args.names or any(fnmatch.fnmatch(m.name, n) for n in args.names)]
    if not chosen:
        parser.error("no mutation matches " + " ".join(args.names))
    names = [m.name for m in MUTATIONS]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        parser.error(f"duplicate mutation names: {sorted(duplicates)}")
    if args.list:
        for m in chosen:
            stale = applicable(m)
            print(f"{m.name:40} {m.origin:8} {m.path:32} {'STALE: ' + stale if stale else 'applies'}\n"
                  f"{'':40} {m.description}\n{'':40} pytest {' '.join(m.tests)}")
        return 0

    work = Path(tempfile.mkdtemp(prefix="labkit-mutants-"))
    logs = work / "logs"
    logs.mkdir()
    started = time.monotonic()
    try:
        files = _tree_files()
        copies: queue.Queue = queue.Queue()
        for n in range(max(1, args.jobs)):
            copies.put(make_copy(work / f"tree{n}", files))
        probe = subprocess.run([sys.executable, "-c", "import labkit; print(labkit.__file__)"], cwd=work / "tree0",
                               env=_env(work / "tree0"), capture_output=True, text=True)
        if not probe.stdout.startswith(str(work / "tree0")):
            print(f"the copy's labkit is not the one imported: {probe.stdout or probe.stderr}", file=sys.stderr)
            return 2
        print(f"{len(chosen)} mutations, {args.jobs} at a time, copies in {work}", file=sys.stderr)
        results: list[Result] = []
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for result in pool.map(lambda m: check_mutation(m, copies, args.timeout, logs), chosen):
                results.append(result)
                print(f"  {result.mutation.name}: {result.status} {result.detail} ({result.seconds:.1f} s)",
                      file=sys.stderr)
            # The test that killed a mutation must pass without it, or the kill proves nothing (a timeout: the
            # whole selection must finish without it).
            def check(r: Result) -> tuple[str, ...]:
                return (r.detail,) if r.status == "killed" and r.detail else r.selection

            killing = sorted({check(r) for r in results if r.status in ("killed", "timeout")})
            baselines = dict(zip(killing, pool.map(
                lambda sel: _baseline(sel, copies, args.timeout, logs / f"baseline-{killing.index(sel)}.log"),
                killing), strict=True))
        for r in results:
            code, failed = baselines.get(check(r), (0, ""))
            if r.status in ("killed", "timeout") and code != 0:
                again = "times out" if code is None else f"fails ({failed or 'exit ' + str(code)})"
                r.status, r.detail = "error", f"{r.status} {r.detail}, but {again} without the mutation too"
        text = table(results)
        text += f"\n\nWall time {time.monotonic() - started:.0f} s with -j {args.jobs}."
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(text + "\n")
        return 0 if all(r.status == "killed" for r in results) else 1
    finally:
        if args.keep:
            print(f"copies and logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
