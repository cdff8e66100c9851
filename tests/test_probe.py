"""`labkit probe`: real peers on 127.0.0.1 (`openssl s_server` serving chosen chains, Debian's Prosody for XMPP
STARTTLS), judged through the command line as an administrator runs it, and unreachable hosts that must answer at
once with exit 2."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from asserts import assert_refused
from conftest import ROOT, run_cli
from cryptography.hazmat.primitives import serialization

from labkit import InputError, guide, lab
from labkit.expressway.probe import SERVICES, probe
from labkit.httpd import free_port
from labkit.tls.chain_server import ChainServer
from labkit.x509.certs import CertSpec, issue
from labkit.x509.decode import fingerprint

NAME = "vcse.example.com"
LAB_INSTANT = "2026-01-05T09:00:00Z"


class Pki:
    """Two hierarchies under one root, made from fixture keys and valid on the real clock (OpenSSL's s_client
    checks the real time unless told otherwise): root -> issuing -> leaf, and root -> policy -> issuing2 -> leaf2."""

    def __init__(self, folder: Path):
        start = lab.now_real() - dt.timedelta(days=1)
        key = lab.fixture_key
        self.root = issue(CertSpec("Probe Root CA", ca=True, days=120), key("root-ca"), at=start)
        self.issuing = issue(CertSpec("Probe Issuing CA", ca=True, path_length=0, days=120), key("issuing-ca"),
                             self.root, at=start)
        self.leaf = issue(CertSpec(NAME, days=90), key("expe-1"), self.issuing, at=start)
        self.server_only = issue(CertSpec(NAME, days=90, client_auth=False), key("expe-1"), self.issuing, at=start)
        self.client = issue(CertSpec("expc.example.com", days=90), key("expc-1"), self.issuing, at=start)
        self.policy = issue(CertSpec("Probe Policy CA", ca=True, path_length=1, days=120), key("ucm"), self.root,
                            at=start)
        self.issuing2 = issue(CertSpec("Probe Issuing CA 2", ca=True, path_length=0, days=120), key("imp"),
                              self.policy, at=start)
        self.leaf2 = issue(CertSpec(NAME, days=90), key("expe-2"), self.issuing2, at=start)
        self.short_ca = issue(CertSpec("Probe Short CA", ca=True, path_length=0, days=3), key("ocsp-signer"),
                              self.root, at=start)
        self.under_short = issue(CertSpec(NAME, days=90), key("expe-1"), self.short_ca, at=start)
        self.rogue = issue(CertSpec("Probe Root CA", ca=True, days=120), key("rogue-ca"), at=start)
        self.folder = folder
        for name in ("root", "rogue"):
            (folder / f"{name}.pem").write_bytes(getattr(self, name).cert_pem())
        (folder / "root-and-issuing.pem").write_bytes(self.root.cert_pem() + self.issuing.cert_pem())
        self.client.write(folder, "client")
        (folder / "client-chain.pem").write_bytes(self.client.cert_pem() + self.issuing.cert_pem())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (make test installs it as root)")
    return Pki(tmp_path_factory.mktemp("probe"))


def cli(pki: Pki, port: int, *flags, ca="root.pem", servername=NAME):
    """`labkit probe 127.0.0.1:PORT --ca CA --servername NAME --json FLAGS` -> (exit code, JSON document)."""
    args = ["probe", f"127.0.0.1:{port}", "--json", *flags]
    args += ["--ca", ca] if ca else []
    args += ["--servername", servername] if servername else []
    done = run_cli(*args, cwd=pki.folder, expect=(0, 1))
    return done.returncode, json.loads(done.stdout)


def rules(document) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in document["findings"]}


def live(host, port, **options):
    """The Python API at the real clock (it follows the lab clock unless told, and these certificates are new)."""
    return probe(host, port, at=options.pop("at", lab.now_real()), **options)


def serve(*issued, key=None, **options) -> ChainServer:
    return ChainServer([i.certificate for i in issued], key or issued[0].key, **options)


# -- the acceptance cases ---------------------------------------------------------------------------------------

def test_a_complete_chain_is_clean_and_reported_as_sent(pki):
    with serve(pki.leaf, pki.issuing) as server:
        code, doc = cli(pki, server.port)
    assert code == 0 and doc["ok"] and doc["findings"] == []
    assert [c["subject"] for c in doc["chain"]] == ["C = GB, O = labkit, CN = vcse.example.com",
                                                    "C = GB, O = labkit, CN = Probe Issuing CA"]
    assert doc["chain"][0]["sha256"] == fingerprint(pki.leaf.certificate)
    assert doc["chain"][1]["issuer"] == "C = GB, O = labkit, CN = Probe Root CA"
    assert doc["version"].startswith("TLSv1.") and doc["cipher"]
    assert doc["verification"] == {"trusted": "root.pem", "code": 0, "message": "ok", "explanation": "verified"}
    assert doc["name"] == {"checked": NAME, "matches": True}
    assert doc["client_certificate"] == {"requested": False, "ca_names": [], "sent": False}
    assert doc["command"].startswith(f"openssl s_client -connect 127.0.0.1:{server.port} -servername {NAME}")


def test_a_missing_intermediate_is_chain_incomplete_exit_1(pki):
    with serve(pki.leaf) as server:
        code, doc = cli(pki, server.port)
        assert code == 1 and len(doc["chain"]) == 1
        assert rules(doc) == {"chain-incomplete": "error", "verify-failed": "error"}
        assert doc["verification"]["code"] == 21 and "intermediate" in doc["verification"]["explanation"]
        # a client that holds the intermediate itself gets by; peers that trust only the root do not
        code, doc = cli(pki, server.port, ca="root-and-issuing.pem")
    assert code == 0 and rules(doc) == {"chain-incomplete": "warning"}


def test_the_wrong_order_is_chain_order_exit_1_and_the_right_order_is_clean(pki):
    with serve(pki.leaf2, pki.policy, pki.issuing2) as server:
        code, doc = cli(pki, server.port)
    assert code == 1 and rules(doc) == {"chain-order": "error"}
    assert [c["subject"].rsplit("CN = ", 1)[1] for c in doc["chain"]] == [NAME, "Probe Policy CA",
                                                                         "Probe Issuing CA 2"]
    assert doc["verification"]["code"] == 0  # OpenSSL's own client sorts it out; stricter peers do not
    with serve(pki.leaf2, pki.issuing2, pki.policy) as server:
        code, doc = cli(pki, server.port)
    assert code == 0 and doc["findings"] == []


def test_a_root_sent_along_is_a_note_not_an_error(pki):
    with serve(pki.leaf, pki.issuing, pki.root) as server:
        code, doc = cli(pki, server.port)
    assert code == 0 and rules(doc) == {"chain-root-sent": "info"} and len(doc["chain"]) == 3


def test_a_server_auth_only_leaf_probed_as_an_expressway_e_lacks_client_auth(pki):
    with serve(pki.server_only, pki.issuing) as server:
        code, doc = cli(pki, server.port, "--role", "expressway-e")
        assert code == 1 and rules(doc) == {"eku-no-client-auth": "error"}
        code, doc = cli(pki, server.port, "--role", "peer")  # not an Expressway: doctor is not applied
    assert code == 0 and doc["findings"] == []


# -- mutual TLS ----------------------------------------------------------------------------------------------

def test_a_server_that_requests_a_client_certificate_names_its_cas(pki):
    with serve(pki.leaf, pki.issuing, client_cas=[pki.root.certificate]) as server:
        code, doc = cli(pki, server.port)
    assert code == 0 and rules(doc) == {"client-certificate-requested": "info"}
    assert doc["client_certificate"] == {"requested": True, "ca_names": ["C = GB, O = labkit, CN = Probe Root CA"],
                                         "sent": False}


def test_a_server_that_requires_one_fails_without_it_and_passes_with_the_right_one(pki):
    with serve(pki.leaf, pki.issuing, client_cas=[pki.root.certificate], require_client_certificate=True) as server:
        code, doc = cli(pki, server.port)
        assert code == 1 and rules(doc) == {"client-certificate-requested": "info",
                                            "client-certificate-required": "error"}
        assert len(doc["chain"]) == 2  # the chain is judged even so
        # the server trusts only the root: a client certificate without its intermediate is refused
        code, doc = cli(pki, server.port, "--cert", "client.pem", "--key", "client.key.pem")
        assert code == 1 and rules(doc)["client-certificate-refused"] == "error"
        assert "unknown_ca" in next(f["message"] for f in doc["findings"] if f["rule"] == "client-certificate-refused")
        code, doc = cli(pki, server.port, "--cert", "client-chain.pem", "--key", "client.key.pem")
    assert code == 0 and doc["client_certificate"]["sent"] is True and "-cert_chain" in doc["command"]


# -- the other rules, through the Python API (same code, no process start) -------------------------------------

def test_names_are_checked_for_the_name_asked_and_for_an_ip_address(pki):
    with serve(pki.leaf, pki.issuing) as server:
        wrong = live("127.0.0.1", server.port, servername="other.example.com", ca=[pki.root.certificate])
        by_ip = live("127.0.0.1", server.port, ca=[pki.root.certificate])
    assert wrong.rules() == ["name-mismatch"] and "vcse.example.com" in wrong.findings[0].message
    assert by_ip.rules() == ["name-mismatch"] and by_ip.name_checked == "127.0.0.1"
    assert "-noservername" in by_ip.command


def test_a_chain_from_an_untrusted_root_fails_verification_with_the_kits_explanation(pki):
    with serve(pki.leaf, pki.issuing) as server:
        result = live("127.0.0.1", server.port, servername=NAME, ca=pki.folder / "rogue.pem")
    assert result.verify_code == 20 and {"verify-failed", "chain-incomplete"} <= set(result.rules())
    failed = next(f for f in result.findings if f.rule == "verify-failed")
    assert "code 20" in failed.message and "root CA is not in the trusted CA list" in failed.message


def test_an_expired_intermediate_is_chain_expired_ca(pki):
    with serve(pki.under_short, pki.short_ca) as server:
        now = live("127.0.0.1", server.port, servername=NAME, ca=[pki.root.certificate], at=lab.now_real())
        later = live("127.0.0.1", server.port, servername=NAME, ca=[pki.root.certificate],
                      at=lab.now_real() + dt.timedelta(days=5))
    assert now.ok and now.findings == ()
    assert "chain-expired-ca" in later.rules() and later.verify_code == 10  # -attime reached OpenSSL too


def test_a_certificate_off_the_path_is_chain_unrelated(pki):
    with serve(pki.leaf, pki.issuing, pki.rogue) as server:
        result = live("127.0.0.1", server.port, servername=NAME, ca=[pki.root.certificate])
    assert result.rules() == ["chain-unrelated"] and result.ok


def test_a_port_that_does_not_speak_tls_is_handshake_failed(pki):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer():
        with listener, listener.accept()[0] as conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    result = live("127.0.0.1", port, servername=NAME, ca=[pki.root.certificate], timeout=5)
    thread.join(5)
    assert result.rules() == ["handshake-failed"] and result.chain == () and not result.ok


# -- unreachable: exit 2 at once, one line, no traceback -----------------------------------------------------------

def _refused(*args):
    """`labkit probe ARGS` ends with exit 2 and one line naming probe-unreachable (run_cli bounds the wait at 60 s;
    how long it takes is measured in benchmarks/failure_latency.py)."""
    done = run_cli("probe", *args, expect=2)
    said = done.stderr.decode()
    assert done.stdout == b"" and len(said.strip().splitlines()) == 1 and "probe-unreachable" in said, said
    return said


def test_a_closed_port_answers_exit_2_naming_host_port_and_cause():
    port = free_port()
    said = _refused(f"127.0.0.1:{port}")
    assert f"127.0.0.1:{port}" in said and "refused" in said


def test_a_host_that_does_not_resolve_answers_exit_2():
    said = _refused("no-such-host.invalid:5061", "--timeout", "3")
    assert "no-such-host.invalid:5061" in said and "resolve" in said


def test_a_silent_port_is_given_up_after_the_timeout():
    listener = socket.create_server(("127.0.0.1", 0))  # accepts TCP, never says a word
    port = listener.getsockname()[1]
    with listener:
        said = _refused(f"127.0.0.1:{port}", "--timeout", "1")
    assert "no TLS answer within 1 s" in said


# -- documentation in step ---------------------------------------------------------------------------------------

def test_every_probe_rule_in_the_table_is_asserted_here():
    from labkit.expressway import probe as module

    documented = set(re.findall(r"^([a-z][a-z-]+)\s{2,}(?:error|warning|info)\s", module.__doc__, re.M))
    assert len(documented) == 12
    source = Path(__file__).read_text()
    missing = {rule for rule in documented if f'"{rule}"' not in source}
    assert missing == set()


def test_the_readme_documents_every_json_field(pki):
    with serve(pki.leaf, pki.issuing) as server:
        document = live("127.0.0.1", server.port, servername=NAME, ca=[pki.root.certificate]).as_json()
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### `labkit probe`: JSON fields", 1)[1].split("\n#", 1)[0]
    first_columns = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    documented = {name for column in first_columns for name in re.findall(r"`([a-z0-9_.]+)`", column)}
    fields = set(document) | {f"{k}.{sub}" for k, v in document.items() if isinstance(v, dict) for sub in v}
    fields |= {f"chain.{sub}" for sub in document["chain"][0]} | {f"findings.{sub}" for sub in ("rule", "severity",
                                                                                               "message", "chapter")}
    assert documented == fields


# -- Prosody: a real XMPP server, STARTTLS on c2s and s2s -------------------------------------------------------

_PROSODY_CONFIG = """\
run_as_root = true
pidfile = "{folder}/prosody.pid"
data_path = "{folder}/data"
certificates = "{folder}/certs"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
s2s_ports = {{ {s2s} }}
c2s_direct_tls_ports = {{ }}
s2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
modules_enabled = {{ "tls", "saslauth", "dialback", "disco", "posix" }}
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{folder}/prosody.log" }} }}
ssl = {{ certificate = "{folder}/chain.pem", key = "{folder}/key.pem" }}
authentication = "internal_hashed"
storage = "internal"
VirtualHost "{name}"
"""


@pytest.fixture(scope="module")
def prosody(pki, tmp_path_factory):
    """Prosody on two free ports of 127.0.0.1, serving the lab leaf and its intermediate; stopped afterwards."""
    if shutil.which("prosody") is None:
        pytest.skip("prosody is not installed (make test installs it as root)")
    folder = tmp_path_factory.mktemp("prosody")
    for sub in ("data", "certs"):
        (folder / sub).mkdir()
    (folder / "chain.pem").write_bytes(pki.leaf.cert_pem() + pki.issuing.cert_pem())
    (folder / "key.pem").write_bytes(pki.leaf.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (folder / "key.pem").chmod(0o600)
    c2s, s2s = free_port(), free_port()
    config = folder / "prosody.cfg.lua"
    config.write_text(_PROSODY_CONFIG.format(folder=folder, c2s=c2s, s2s=s2s, name=NAME))
    proc = subprocess.Popen(["prosody", "-F", "--config", str(config)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 15  # a bound on the start-up wait, not a measurement
        while not all(_listening(port) for port in (c2s, s2s)):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (folder / "prosody.log").read_text() if (folder / "prosody.log").exists() else ""
                pytest.fail(f"prosody did not start:\n{log}")
            time.sleep(0.05)
        yield c2s, s2s
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def test_prosody_c2s_completes_starttls_and_reports_the_chain(pki, prosody):
    c2s, _ = prosody
    code, doc = cli(pki, c2s, "--service", "xmpp-c2s", "--role", "expressway-e")
    assert code == 0 and doc["findings"] == [], doc["findings"]
    assert [c["sha256"] for c in doc["chain"]] == [fingerprint(pki.leaf.certificate),
                                                   fingerprint(pki.issuing.certificate)]
    assert "-starttls xmpp -xmpphost vcse.example.com" in doc["command"] and doc["service"] == "xmpp-c2s"


def test_prosody_s2s_completes_starttls_and_asks_for_a_client_certificate(pki, prosody):
    _, s2s = prosody
    result = live("127.0.0.1", s2s, service="xmpp-s2s", servername=NAME, ca=[pki.root.certificate])
    assert result.ok and len(result.chain) == 2 and "-starttls xmpp-server" in result.command
    assert result.client_certificate_requested and result.rules() == ["client-certificate-requested"]


def test_prosody_refuses_starttls_for_a_domain_it_does_not_host(pki, prosody):
    c2s, _ = prosody
    result = live("127.0.0.1", c2s, service="xmpp-c2s", servername="other.example.com",
                   ca=[pki.root.certificate], timeout=5)
    assert result.rules() == ["starttls-failed"] and result.chain == () and not result.ok
    assert "other.example.com" in result.findings[0].message


def test_default_ports_follow_the_service():
    assert {name: (s.port, s.starttls) for name, s in SERVICES.items()} == {
        "https": (443, None), "sip-tls": (5061, None), "traversal": (7001, None), "xmpp-c2s": (5222, "xmpp"),
        "xmpp-s2s": (5269, "xmpp-server"), "ldaps": (636, None)}


def test_the_lab_clock_reaches_openssl_as_attime(pki):
    with serve(pki.leaf, pki.issuing) as server:
        result = probe("127.0.0.1", server.port, servername=NAME, ca=[pki.root.certificate], at=LAB_INSTANT)
    # the lab instant (2026-01-05) is before these certificates were made: OpenSSL and doctor both say so
    assert result.verify_code == 9 and "not-yet-valid" in result.rules()
    assert f"-attime {int(lab.parse_instant(LAB_INSTANT).timestamp())}" in result.command


def test_a_lab_server_is_stopped_by_reset_all_and_its_files_go(pki):
    server = serve(pki.leaf, pki.issuing).start()
    folder = Path(server._folder.name)
    assert server.running and folder.is_dir()
    report = lab.reset_all()
    assert f"ChainServer on port {server.port}" in report.stopped
    assert not server.running and not folder.exists()
    assert_refused("probe-unreachable", live, "127.0.0.1", server.port, ca=[pki.root.certificate], timeout=3,
                   chapter=guide.CH2_TLS, error=InputError)


def test_bad_input_is_named_before_any_connection(tmp_path):
    said = run_cli("probe", "no-such-host.invalid", "--ca", tmp_path / "missing.pem", expect=2).stderr.decode()
    assert "file-exists" in said and "probe-unreachable" not in said
    assert "host-port" in run_cli("probe", "127.0.0.1:99999", expect=2).stderr.decode()


def test_a_lab_server_left_running_stops_when_its_python_exits():
    import os
    import sys

    code = ("from labkit.chapters.ch02_tls_handshake import lab_pki\nfrom labkit.tls.chain_server import ChainServer\n"
            "p = lab_pki()\n"
            "print(ChainServer([p.expe.certificate], p.expe.key).start()._proc.pid)")
    pid = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             timeout=60).stdout)
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
