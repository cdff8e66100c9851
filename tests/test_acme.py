"""ACME on the Expressway-E (guide chapter 5) against a real Pebble, and the renewal model on the lab clock."""

from __future__ import annotations

import datetime as _dt
import gc
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from asserts import assert_legend_off_the_data, assert_refused
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import lab
from labkit.acme import client as acme_client
from labkit.acme import pebble as acme_pebble
from labkit.acme.challenge import ChallengeHost
from labkit.acme.client import AcmeAccount, order_certificate, revoke
from labkit.acme.pebble import Pebble
from labkit.acme.renewal import renewal_schedule, renewal_timeline
from labkit.errors import InputError, LabError, PolicyError
from labkit.exercises import check
from labkit.expressway.acme_page import AcmePage, deploy
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
from labkit.expressway.node import Cluster, ExpresswayNode
from labkit.expressway.store import CertificateStore
from labkit.revocation.servers import free_port
from labkit.x509.verify import verify_chain

NO_PEBBLE = "pebble is not installed (apt-get install pebble; make test installs it as root)"
needs_pebble = pytest.mark.skipif(not acme_pebble.pebble_available(), reason=NO_PEBBLE)
EXPE_NAMES = ["expe.lab.example", "mra.lab.example", "collab-edge.lab.example"]


@pytest.fixture(scope="session", autouse=True)
def no_pebble_left_behind():
    """At the end of the session, no Pebble or challtestsrv that labkit started is still running."""
    yield
    if shutil.which("pgrep") is None:
        return
    found = subprocess.run(["pgrep", "-f", "pebble"], capture_output=True, text=True).stdout.split()
    alive = {int(pid) for pid in found} & set(acme_pebble.STARTED_PIDS)
    assert not alive, f"pebble processes left running: {sorted(alive)}"


@pytest.fixture(scope="module")
def pebble():
    if not acme_pebble.pebble_available():
        pytest.skip(NO_PEBBLE)
    with Pebble() as server:
        yield server
    assert not server.running


@pytest.fixture(scope="module")
def account(pebble):
    return AcmeAccount.register(pebble, "certadmin@lab.example", accept_terms=True)


def expe_node(key_name: str = "expe-1", fqdn: str = "expe.lab.example") -> ExpresswayNode:
    node = ExpresswayNode(fqdn, "expressway-e")
    node.generate_csr(CsrRequest(role="expressway-e", fqdn=fqdn, additional_names=("mra.lab.example",),
                                 ucm_registration_domains=("lab.example",), ucm_domain_format="collab-edge",
                                 **LAB_SUBJECT), key=lab.fixture_key(key_name))
    return node


def sans(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)


# -- end to end --------------------------------------------------------------------------------------------------

@needs_pebble
def test_order_deploy_revoke_end_to_end(pebble, account, tmp_path):
    node = expe_node("expe-1")
    store = CertificateStore(node)
    host = ChallengeHost(pebble.http_port)
    chain_pem = order_certificate(account, node, host=host)

    # Pebble really fetched every challenge file from labkit's virtual host, which is down again
    assert host.requests and all(method == "GET" and path.startswith("/.well-known/acme-challenge/") and status == 200
                                 for method, path, status in host.requests)
    assert len({path for _, path, _ in host.requests}) == 3  # one token per name
    assert not host.running

    leaf, intermediate = acme_client._certificates(chain_pem)
    assert sans(leaf) == EXPE_NAMES
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days in (89, 90)
    roots = pebble.roots()
    assert verify_chain(chain_pem, trusted=roots, at=lab.now_real()).ok  # Pebble issues at real time
    # ... and the real tool agrees
    if shutil.which("openssl"):
        root_file, chain_file, leaf_file = tmp_path / "root.pem", tmp_path / "int.pem", tmp_path / "leaf.pem"
        root_file.write_text(roots.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
        chain_file.write_text(roots.split("-----END CERTIFICATE-----\n", 1)[1])
        leaf_file.write_text(chain_pem.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
        run = subprocess.run(["openssl", "verify", "-CAfile", root_file, "-untrusted", chain_file, leaf_file],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr

    # deploy: in service at once, Pebble's root and intermediate trusted
    done = deploy(store, chain_pem, roots)
    assert node.certificate == leaf and node.pending_csr is None
    assert store.server.active_certificate == leaf and not store.server.restart_required
    assert {c.subject for c in done.appended} == {c.subject for c in acme_client._certificates(roots)}
    assert intermediate in store.trusted.entries
    assert store.chain_check(leaf, at=lab.now_real())

    # the certificate in use cannot be revoked; a superseded one can, and Pebble says so
    with pytest.raises(PolicyError) as refused:
        revoke(account, leaf, "superseded", node=node)
    assert refused.value.rule == "acme-revoke-in-use"
    node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", **LAB_SUBJECT),
                      key=lab.fixture_key("expe-2"))
    successor = order_certificate(account, node)
    deploy(store, successor, roots)
    assert pebble.cert_status(leaf.serial_number)["Status"] == "Valid"
    status = revoke(account, leaf, "superseded", node=node)
    assert status["Status"] == "Revoked"
    assert acme_client.is_revoked(pebble, leaf)
    assert not acme_client.is_revoked(pebble, node.certificate)


@needs_pebble
def test_acme_page_flow(pebble):
    page = AcmePage(expe_node("expe-2"))
    with pytest.raises(PolicyError, match="acme-account"):
        page.sign()
    with pytest.raises(PolicyError) as no_terms:
        page.register(pebble, "certadmin@lab.example", accept_terms=False)
    assert no_terms.value.rule == "acme-terms"
    assert page.register(pebble, "certadmin@lab.example", True).startswith("Account registered")
    assert "collab-edge.lab.example" in page.sign()
    assert "ACME certificate staged: True" in page.status()
    assert not check("08.1", page, name="mra.lab.example")  # staged is not in service
    assert "without a restart" in page.deploy()
    assert check("08.1", page, name="mra.lab.example")
    assert "does not name other.lab.example" in check("08.1", page, name="other.lab.example").message
    assert not check("08.1", "the page", name="mra.lab.example")
    assert "ACME certificate staged: False" in page.status()
    with pytest.raises(PolicyError, match="acme-nothing-pending"):
        page.deploy()
    assert page.automate(["Mon", "Thu"], "02:30") == "Automated mode on: deployment on Monday, Thursday at 02:30"


# -- the virtual host --------------------------------------------------------------------------------------------

def _status(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_virtual_host_serves_only_challenge_files():
    port = free_port()
    with ChallengeHost(port, {"tok-EN_1": "tok-EN_1.thumbprint"}) as host:
        with urllib.request.urlopen(f"{host.url}/.well-known/acme-challenge/tok-EN_1", timeout=3) as response:
            assert response.read() == b"tok-EN_1.thumbprint"
        for path in ("/", "/.well-known/", "/.well-known/acme-challenge/", "/.well-known/acme-challenge/other",
                     "/.well-known/acme-challenge/../acme-challenge/tok-EN_1", "/index.html", "/etc/passwd"):
            assert _status(host.url + path) == 404, path
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "HEAD"):
            assert _status(f"{host.url}/.well-known/acme-challenge/tok-EN_1", method) == 404, method
    assert not host.running
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/acme-challenge/tok-EN_1", timeout=2)


# -- failures ----------------------------------------------------------------------------------------------------

def test_pebble_not_installed(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not acme_pebble.pebble_available()
    with pytest.raises(LabError) as missing, Pebble():
        pass
    assert missing.value.rule == "pebble-installed"
    assert "apt-get install pebble" in str(missing.value) and "make test" in str(missing.value)


@needs_pebble
def test_terms_must_be_accepted(pebble):
    with pytest.raises(PolicyError) as refused:
        AcmeAccount.register(pebble, "certadmin@lab.example", accept_terms=False)
    assert refused.value.rule == "acme-terms"
    empty = assert_refused("acme-email", AcmeAccount.register, pebble, "  ", accept_terms=True, error=InputError)
    assert "is needed" in str(empty)
    for wrong in ("not an address", "pki @lab.example", "pki@localhost"):  # said as what it is, not as missing
        typed = assert_refused("acme-email", AcmeAccount.register, pebble, wrong, accept_terms=True, error=InputError)
        assert "is not an email address" in str(typed) and "is needed" not in str(typed)


@needs_pebble
def test_challenge_not_served_fails_validation(account):
    node = expe_node("expe-2")
    with pytest.raises(PolicyError) as failed:
        order_certificate(account, node, serve=False)
    assert failed.value.rule == "acme-challenge-failed"
    assert "connection refused" in failed.value.message  # Pebble's own words
    assert node.pending_csr is not None and node.certificate is None


@needs_pebble
def test_name_that_does_not_resolve(pebble, account):
    node = expe_node("expe-2", fqdn="gone.lab.example")
    pebble.break_dns("gone.lab.example")
    try:
        with pytest.raises(PolicyError) as failed:
            order_certificate(account, node)
    finally:
        pebble.fix_dns("gone.lab.example")
    assert failed.value.rule == "acme-name-not-resolved"
    assert "gone.lab.example" in failed.value.message


@needs_pebble
def test_an_authorization_the_provider_hands_back_is_validated_afresh(tmp_path):
    """Pebble reuses a still valid authorization now and then even when told not to (the cause of notebook 08's
    flaky DNS cell: a name that no longer resolved still got its certificate). Here Pebble reuses every time, and a
    name whose DNS is broken is still refused: every order is validated anew."""
    with Pebble(authz_reuse=100) as reusing:
        account = AcmeAccount.register(reusing, "certadmin@lab.example", accept_terms=True)
        order_certificate(account, expe_node("expe-1"))
        again = account.client.new_order(expe_node("expe-2").csr_pem())
        assert {a.body.status.name for a in again.authorizations} == {"valid"}  # the provider reuses them
        reusing.break_dns("expe.lab.example")
        with pytest.raises(PolicyError) as info:
            order_certificate(account, expe_node("expe-2"))
        assert info.value.rule == "acme-name-not-resolved"
        reusing.fix_dns("expe.lab.example")
        host = ChallengeHost(reusing.http_port)
        order_certificate(account, expe_node("expe-2"), host=host)
        assert len({path for _, path, _ in host.requests}) == len(EXPE_NAMES)  # a file fetched for every name


def test_acme_is_for_the_expressway_e_only():
    with pytest.raises(PolicyError, match="acme-expressway-e-only"):
        AcmePage(ExpresswayNode("expc.lab.example", "expressway-c"))


# -- renewal on the lab clock ------------------------------------------------------------------------------------

def test_renewal_at_two_thirds_twice_a_day_deterministic():
    issued = lab.DEFAULT_INSTANT
    events = renewal_schedule(issued, days_of_week=["Monday", "Thursday"], time_of_day="02:30", seed=7,
                              failed_attempts=3)
    attempts = [e for e in events if e.kind == "attempt" and e.generation == 1]
    assert attempts[0].when.date() == (issued + _dt.timedelta(days=60)).date()  # day 60 of 90
    per_day: dict = {}
    for e in attempts:
        per_day.setdefault(e.when.date(), []).append(e)
    assert [len(v) for v in per_day.values()] == [2, 2]  # two attempts a day; the fourth one succeeds
    assert [e.ok for e in attempts] == [False, False, False, True]
    deployed = next(e for e in events if e.kind == "deployed" and e.generation == 1)
    assert deployed.when > attempts[-1].when and deployed.when.strftime("%a %H:%M") in ("Mon 02:30", "Thu 02:30")
    assert events == renewal_schedule(issued, days_of_week=["Monday", "Thursday"], time_of_day="02:30", seed=7,
                                      failed_attempts=3)
    assert events != renewal_schedule(issued, days_of_week=["Monday", "Thursday"], time_of_day="02:30", seed=8,
                                      failed_attempts=3)
    assert events == sorted(events, key=lambda e: e.when)
    # with 90-day certificates renewed on day 60, a year needs about six certificates
    assert 5 <= max(e.generation for e in events) <= 7


def test_08_2_the_schedule_must_deploy_each_renewal_at_least_margin_days_before_expiry():
    events = renewal_schedule(lab.DEFAULT_INSTANT, days_of_week=["Monday"], time_of_day="02:00", horizon_days=365)
    deployed = {e.generation: e.when for e in events if e.kind == "deployed"}
    expires = {e.generation: e.when for e in events if e.kind == "expires"}
    worst = min((expires[g - 1] - when).days for g, when in deployed.items() if g and g - 1 in expires)
    assert check("08.2", events, margin_days=worst)
    refused = check("08.2", events, margin_days=worst + 1)
    assert not refused and f"only {worst} days before" in refused.message
    assert not check("08.2", [], margin_days=1) and not check("08.2", "Mondays", margin_days=1)


def test_renewal_schedule_refusals_and_figure():
    with pytest.raises(InputError, match="acme-schedule-day"):
        renewal_schedule(days_of_week=["Someday"])
    with pytest.raises(InputError, match="acme-schedule-time"):
        renewal_schedule(time_of_day="25:00")
    with pytest.raises(InputError, match="acme-renew-fraction"):
        renewal_schedule(renew_fraction=1.5)
    fig = renewal_timeline(renewal_schedule(horizon_days=200))
    assert len(fig.axes) == 1 and "two-thirds" in fig.axes[0].get_title()
    assert_legend_off_the_data(fig)


def test_the_legend_check_sees_a_legend_on_the_bars():
    """Canary for assert_legend_off_the_data: issue 14's timelines put theirs in the lower right, on the bars."""
    fig = renewal_timeline(renewal_schedule(horizon_days=200))
    fig.axes[0].legend(loc="lower right")
    with pytest.raises(AssertionError, match="lies on the axes"):
        assert_legend_off_the_data(fig)


def test_acme_page_widget_clicks_through_the_expressway_steps():
    import shutil as _shutil

    if not _shutil.which("pebble"):
        pytest.skip("pebble is not installed (make test installs it as root)")
    from labkit.acme.pebble import Pebble
    from labkit.expressway.acme_page import AcmePage
    from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
    from labkit.expressway.node import ExpresswayNode
    from labkit.widgets import acme_page

    node = ExpresswayNode("expe.lab.example", "expressway-e")
    node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", **LAB_SUBJECT),
                      key=lab.fixture_key("expe-1"))
    with Pebble() as pebble:
        box = acme_page(AcmePage(node), pebble)
        box.deploy.click()
        assert "acme-nothing-pending" in box.pane.value  # deploy before sign: the page says why
        box.terms.value = False
        box.register.click()
        assert "acme-terms" in box.pane.value
        box.terms.value = True
        box.email.value = "admin@lab.example"
        box.register.click()
        assert "Account registered" in box.pane.value, box.pane.value
        box.sign.click()
        assert "staged" in box.pane.value
        box.deploy.click()
        assert "without a restart" in box.pane.value and node.certificate is not None


@needs_pebble
def test_the_kernels_pebble_serves_every_run_and_a_page_whose_provider_stopped_says_to_register_again():
    """Issue 14, 08: the provider lives as long as the kernel (a notebook run again uses the same one); once it
    was stopped (lab.reset_all() stops it: it registers with lab.started), the page refuses in one line to sign for
    an account the provider no longer knows, and Register starts the provider again."""
    from asserts import assert_refused

    from labkit import guide

    provider = acme_pebble.shared_pebble()
    try:
        assert provider.running and acme_pebble.shared_pebble() is provider and provider.starts == 1
        page = AcmePage(expe_node("expe-2"))
        page.register(provider, "certadmin@lab.example", True)
        page.sign()
        assert provider in lab._SERVICES  # what lab.reset_all() stops
        provider.stop()
        assert_refused("acme-account-gone", page.deploy, chapter=guide.CH5, error=PolicyError)
        assert_refused("acme-nothing-pending", page.deploy, chapter=guide.CH5, error=PolicyError)
        assert_refused("acme-account-gone", page.sign, chapter=guide.CH5, error=PolicyError)
        page.register(provider, "certadmin@lab.example", True)  # starts it again: a new Pebble
        assert provider.running and provider.starts == 2
        page.sign()
        page.deploy()
        assert sans(page.node.certificate) == EXPE_NAMES
        assert acme_pebble.shared_pebble() is provider and provider.starts == 2
    finally:
        provider.stop()


# -- Pebble's processes and folder follow the Python process ------------------------------------------------------

def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie counts as ended: it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def _wait_gone(pids, seconds: float = 15.0) -> bool:
    """Wait (bounded) until every process in ``pids`` has ended."""
    for _ in range(int(seconds / 0.1)):
        if all(_gone(pid) for pid in pids):
            return True
        threading.Event().wait(0.1)
    return False


@needs_pebble
def test_a_pebble_started_from_a_worker_thread_outlives_the_thread():
    """PR_SET_PDEATHSIG follows the forking thread; labkit forks from one thread that lives as long as Python."""
    started = {}
    worker = threading.Thread(target=lambda: started.setdefault("pebble", Pebble().start()))
    worker.start()
    worker.join()
    pebble = started["pebble"]
    try:
        assert not worker.is_alive() and pebble.running
        assert "newAccount" in json.loads(pebble._get(pebble.directory_url))
    finally:
        pebble.stop()
    assert not pebble.running


@needs_pebble
def test_a_collected_pebble_stops_and_removes_its_folder():
    pebble = Pebble().start()
    folder, pids = pebble.folder, pebble.pids
    assert folder.is_dir() and (folder / "owner.pid").read_text() == str(os.getpid())
    del pebble
    gc.collect()
    assert not folder.exists()
    assert _wait_gone(pids)


@needs_pebble
def test_pebble_dies_with_a_killed_kernel_and_its_folder_is_cleared_next_time(tmp_path):
    script = ("import json, sys, time\nfrom labkit.acme.pebble import Pebble\n"
              "p = Pebble().start()\nprint(json.dumps({'pids': p.pids, 'folder': str(p.folder)}), flush=True)\n"
              "time.sleep(60)\n")
    kernel = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(kernel.stdout.readline())
    finally:
        kernel.kill()
        kernel.wait(timeout=10)
    assert _wait_gone(info["pids"]), "Pebble outlived the killed Python"
    folder = Path(info["folder"])
    assert folder.is_dir()  # a SIGKILL leaves no chance to clean up...
    assert folder in acme_pebble.clear_stale_folders(folder.parent)  # ...so the next start clears it
    assert not folder.exists()


def test_stale_folder_clearing_keeps_live_owners_and_unknown_folders(tmp_path):
    finished = subprocess.Popen(["true"])
    finished.wait()  # ended and reaped: its pid names no process
    ended = tmp_path / "labkit-pebble-ended"
    ended.mkdir()
    (ended / "owner.pid").write_text(str(finished.pid))
    mine = tmp_path / "labkit-pebble-mine"
    mine.mkdir()
    (mine / "owner.pid").write_text(str(os.getpid()))
    foreign = tmp_path / "labkit-pebble-foreign"
    foreign.mkdir()  # no owner file: not labkit's to judge
    other = tmp_path / "something-else"
    other.mkdir()
    (other / "owner.pid").write_text(str(finished.pid))
    assert acme_pebble.clear_stale_folders(tmp_path) == [ended]
    assert mine.exists() and foreign.exists() and other.exists()


# -- chapter 5 completed: a cluster's port 80, the command-line revocation, reasons, lifetimes, intermediates ---------

def cluster_nodes():
    """Two Expressway-E peers of cluster expe.lab.example, each with its own CSR for the cluster name and itself."""
    cluster = Cluster("expe.lab.example", "expressway-e", ["expe1.lab.example", "expe2.lab.example"])
    for number, peer in enumerate(cluster.peers, 1):
        cluster.node(peer).generate_csr(cluster.request_for(peer, **LAB_SUBJECT),
                                        key=lab.fixture_key(f"expe-{number}"))
    return cluster


@needs_pebble
def test_every_peer_of_an_expressway_e_cluster_serves_the_challenges_on_port_80(pebble, account):
    """Chapter 5: the provider may reach any peer, so the files go on all peers and port 80 must be open on each."""
    cluster = cluster_nodes()
    peers = [ChallengeHost(free_port()), ChallengeHost(free_port())]
    chain = order_certificate(account, cluster.node("expe1.lab.example"), peers=peers)
    names = ["expe.lab.example", "expe1.lab.example", "expe2.lab.example"]
    assert sans(acme_client._certificates(chain)[0]) == names
    assert all(peer.requests and not peer.running and not peer.resources for peer in peers)  # both served, then off
    with pytest.raises(PolicyError) as failed:  # peer 2 keeps port 80 closed: a fetch that reaches it fails
        order_certificate(account, cluster.node("expe2.lab.example"), peers=[ChallengeHost(free_port()),
                                                                         ChallengeHost(free_port())], closed=[1])
    assert failed.value.rule == "acme-challenge-failed" and "502" in failed.value.message


@needs_pebble
def test_the_command_line_revocation_as_chapter_5_describes(pebble, account, tmp_path):
    page = AcmePage(expe_node("expe-1"))
    page.account, page.provider = account, pebble
    page.sign()
    page.deploy()
    old = page.node.certificate
    (tmp_path / "old.pem").write_bytes(old.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(PolicyError, match="acme-revoke-in-use"):
        page.xcommand(f'xcommand Acmerevoke "{tmp_path / "old.pem"}"')
    page.node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example",
                                      additional_names=("other.lab.example",), **LAB_SUBJECT),
                           key=lab.fixture_key("expe-2"))
    page.sign()  # signed, not deployed: but with other names, so no proof
    page.deploy()
    with pytest.raises(PolicyError, match="acme-revoke-proof"):
        page.xcommand(f'xcommand Acmerevoke CertPath:"{tmp_path / "old.pem"}" Provider:"Pebble"')
    page.node.generate_csr(expe_request_same_names := CsrRequest(
        role="expressway-e", fqdn="expe.lab.example", additional_names=("mra.lab.example",),
        ucm_registration_domains=("lab.example",), ucm_domain_format="collab-edge", **LAB_SUBJECT),
        key=lab.fixture_key("trainee"))
    assert expe_request_same_names.dns_names() == EXPE_NAMES
    page.sign()  # the same names, signed by the same provider: proof enough, no need to deploy it
    assert page.xcommand(f'xcommand Acmerevoke "{tmp_path / "old.pem"}"') == "200 OK"
    assert acme_client.is_revoked(pebble, old)
    with pytest.raises(InputError, match="acme-xcommand"):
        page.xcommand("xcommand Acmerevok /tmp/x.pem")


@needs_pebble
def test_acme_carries_any_rfc_5280_reason_and_the_provider_decides(pebble, account):
    node = expe_node("expe-2")
    issued = acme_client._certificates(order_certificate(account, node))[0]
    from labkit.x509.reasons import ACME_REASONS

    assert "CACompromise" not in ACME_REASONS
    assert revoke(account, issued, "CACompromise")["Status"] == "Revoked"  # Pebble takes it; Let's Encrypt may not
    with pytest.raises(InputError, match="acme-revoke-reason"):
        revoke(account, issued, "stolen")


def test_an_x14_expressway_e_cannot_deploy_a_serverauth_only_acme_certificate_x15_5_can(tmp_path):
    """Let's Encrypt's default profile has left clientAuth out since 2026-02-11: with UC on, X14 refuses it."""
    from labkit.chapters.ch08_acme import rotating_provider

    provider = rotating_provider(tmp_path / "provider")
    for version, refused in (("X14.0", True), ("X15.5", False)):
        node = ExpresswayNode("expe.lab.example", "expressway-e", version=version, unified_communications=True)
        node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", version=version, **LAB_SUBJECT),
                          key=lab.fixture_key("expe-1"))
        store = CertificateStore(node)
        chain = provider.sign(node.pending_csr, client_auth=False)
        if refused:
            with pytest.raises(PolicyError, match="server-certificate-client-auth"):
                deploy(store, chain, provider.roots())
            assert node.pending_csr is not None and len(store.trusted) == 0  # nothing changed
        else:
            assert deploy(store, chain, provider.roots()).certificate == node.certificate


def test_intermediates_rotate_so_a_trust_list_needs_every_active_one(tmp_path):
    from labkit.chapters.ch08_acme import rotating_provider
    from labkit.expressway.trusted_list import TrustedCaList

    provider = rotating_provider(tmp_path / "provider")
    node = expe_node("expe-1")
    issued = [acme_client._certificates(provider.sign(node.pending_csr, intermediate=i))[0] for i in (0, 1)]
    guide_style = TrustedCaList()
    guide_style.append(provider.roots())
    guide_style.append(provider.intermediates[0].certificate)
    assert guide_style.chain_check(issued[0]) and not guide_style.chain_check(issued[1])
    guide_style.append(provider.intermediates[1].certificate)
    assert all(guide_style.chain_check(cert) for cert in issued)


def test_lifetimes_shorten_to_64_and_45_days_and_two_thirds_still_leaves_a_third():
    from labkit.acme.renewal import deployment_margin, lets_encrypt_lifetime
    from labkit.chapters.ch08_acme import lifetimes_table

    assert [lets_encrypt_lifetime(d) for d in ("2026-01-05T00:00:00Z", "2027-02-10T00:00:00Z",
                                                "2028-02-16T00:00:00Z")] == [90, 64, 45]
    table = lifetimes_table(("Monday",))
    assert list(table["lifetime (days)"]) == [90, 64, 45] and list(table["days left then"]) == [30.0, 21.3, 15.0]
    short = renewal_schedule(lab.now(), lifetime_days=45, days_of_week=["Monday"], horizon_days=200)
    assert [e.when - lab.now() for e in short if e.kind == "attempt"][0] >= _dt.timedelta(days=30)
    worst, _ = deployment_margin(short)
    assert _dt.timedelta(days=7) < worst < _dt.timedelta(days=15)  # weekly deployment still in time
