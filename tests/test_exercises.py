"""Exercises accept right answers and reject wrong ones with a hint (answers are computed, not stored)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import lab_clock_behind_the_machine

from labkit import InputError, LabError, PolicyError, lab
from labkit.chapters.ch01_pki_basics import mystery_signature
from labkit.exercises import EXERCISES, check
from labkit.x509 import pki
from labkit.x509.decode import fingerprint, fingerprint_line


def test_00_1_clock_one_week_forward():
    assert not check("00.1", lab.now())
    lab.clock.advance(days=7)
    assert check("00.1", lab.now())
    assert not check("00.1", "2026-01-12")


def test_01_1_only_the_signed_message_passes():
    candidates, signature, public = mystery_signature()
    signed = [c for c in candidates if pki.verify(public, c, signature)]
    assert len(signed) == 1
    assert check("01.1", signed[0])
    for other in set(candidates) - set(signed):
        result = check("01.1", other)
        assert not result and "public key" in result.message


def test_01_2_the_issuing_ca_signed_the_server_not_the_root():
    chain = pki.lab_chain()
    server = chain.server.certificate
    assert check("01.2", chain.intermediate.certificate, server=server)
    wrong = check("01.2", chain.root.certificate, server=server)
    assert not wrong and "Issuer" in wrong.message
    from labkit.x509.certs import CertSpec, issue

    impostor = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0), lab.fixture_key("rogue-ca"))
    assert "did not make the signature" in check("01.2", impostor.certificate, server=server).message
    assert "itself" in check("01.2", server, server=server).message
    assert not check("01.2", "the root", server=server)


@pytest.mark.parametrize("answer,ok", [
    (["generate a private key", "create a CSR", "CA signs the certificate"], True),
    (["key", "certificate signing request", "authorise the certificate"], True),
    (["make a keypair", "send a CSR", "get cert"], True),
    (["create a request", "generate a key", "CA signs the certificate"], False),
    (["key", "certificate"], False),
    ("key, request, certificate", False),
])
def test_01_3_stage_order(answer, ok):
    assert bool(check("01.3", answer)) is ok


def test_01_4_fingerprint_in_any_openssl_spelling():
    cert = pki.lab_chain().root.certificate
    assert check("01.4", fingerprint_line(cert), certificate=cert)
    assert check("01.4", fingerprint(cert).replace(":", "").lower(), certificate=cert)
    pasted = f"$ openssl x509 -in root.pem -noout -fingerprint -sha256\n{fingerprint_line(cert)}\n"
    assert check("01.4", pasted, certificate=cert)
    sha1 = check("01.4", fingerprint(cert, "sha1"), certificate=cert)
    assert not sha1 and "SHA-1" in sha1.message
    assert not check("01.4", fingerprint(pki.lab_chain().server.certificate), certificate=cert)


def test_results_render_and_unknown_ids_are_refused():
    result = check("00.1", dt.datetime(2020, 1, 1))
    assert str(result).startswith("NOT YET [00.1]") and "NOT YET" in result._repr_html_()
    with pytest.raises(LabError, match="exercise-id"):
        check("99.9", 1)
    assert all(e.chapter for e in EXERCISES.values())


@pytest.fixture
def issuing(tmp_path):
    from labkit.ca import init_ca

    root = init_ca(tmp_path / "root", "labkit Root CA", key=lab.fixture_key("root-ca"))
    return init_ca(tmp_path / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root)


def _csr(name="expe2.lab.example", key="expe-2"):
    from labkit.x509.certs import CertSpec, request

    return request(CertSpec(name), lab.fixture_key(key))


def test_05_1_needs_the_client_server_profile_from_that_ca(issuing, tmp_path):
    from labkit.ca import init_ca

    assert check("05.1", issuing.sign(_csr(), "client-server"), ca=issuing)
    server_only = check("05.1", issuing.sign(_csr(), "server"), ca=issuing)
    assert not server_only and "both purposes" in server_only.message
    other = init_ca(tmp_path / "other", "Other CA", key=lab.fixture_key("rogue-ca"))
    assert "not issued by" in check("05.1", other.sign(_csr(), "client-server"), ca=issuing).message


def test_05_2_the_crl_must_list_the_certificate_and_be_signed_by_the_ca(issuing):
    cert = issuing.sign(_csr(), "client-server")
    before = issuing.crl()
    assert not check("05.2", before, certificate=cert, ca=issuing)
    issuing.revoke(cert, "superseded")
    assert check("05.2", issuing.crl(), certificate=cert, ca=issuing)
    assert not check("05.2", "crl.pem", certificate=cert, ca=issuing)


def test_05_3_serial_lookup(issuing):
    issuing.sign(_csr("ucm.lab.example", "ucm"), "server")
    imp = issuing.sign(_csr("imp.lab.example", "imp"), "server")
    assert check("05.3", f"{imp.serial_number:X}", ca=issuing, common_name="imp.lab.example")
    assert check("05.3", f"0x{imp.serial_number:x}", ca=issuing, common_name="imp.lab.example")
    assert not check("05.3", "1000", ca=issuing, common_name="imp.lab.example")


def test_03_1_the_rule_comes_from_doctor():
    from labkit.chapters.ch03_expressway_certificates import mystery_certificate
    from labkit.expressway.doctor import doctor

    rule = doctor(mystery_certificate()).errors[0].rule
    assert check("03.1", rule)
    assert not check("03.1", "wildcard") and not check("03.1", "")


@pytest.mark.parametrize("answer,ok", [
    (["expc.lab.example", "expc2.lab.example"], True),
    (["expc2.lab.example", "expc.lab.example", "expc1.lab.example"], True),
    (["expc2.lab.example"], False),
    (["expc.lab.example"], False),
    (["*.lab.example", "expc2.lab.example", "expc.lab.example"], False),
    ("expc.lab.example, expc2.lab.example", False),
])
def test_03_2_peer_sans(answer, ok):
    assert bool(check("03.2", answer, cluster_fqdn="expc.lab.example", peer_fqdn="expc2.lab.example")) is ok


def test_03_3_peer_cn_is_the_cluster():
    flags = {"cluster_fqdn": "expc.lab.example", "peer_fqdn": "expc2.lab.example"}
    assert check("03.3", "expc.lab.example", **flags)
    assert "standalone" in check("03.3", "expc2.lab.example", **flags).message
    assert not check("03.3", "expc", **flags)


def test_04_1_collab_edge_format_only():
    from labkit.expressway.csr import LAB_SUBJECT, CsrRequest

    good = CsrRequest(role="expressway-e", fqdn="edge.example.com", ucm_registration_domains=("example.com",),
                      ucm_domain_format="collab-edge", **LAB_SUBJECT)
    assert check("04.1", good, domain="example.com")
    dns = CsrRequest(role="expressway-e", fqdn="edge.example.com", ucm_registration_domains=("example.com",),
                     **LAB_SUBJECT)
    assert "collab-edge.example.com" in check("04.1", dns, domain="example.com").message
    both = CsrRequest(role="expressway-e", fqdn="edge.example.com", ucm_registration_domains=("example.com",),
                      ucm_domain_format="collab-edge", additional_names=("example.com",), **LAB_SUBJECT)
    assert "bare domain" in check("04.1", both, domain="example.com").message
    assert not check("04.1", "edge.example.com", domain="example.com")


def test_04_1_the_forms_label_collab_edge_dns_means_the_same_as_collab_edge():
    """Issue 14: the widget shows CollabEdgeDNS and Expressway-E; typed as the answer, they mean what the keys mean."""
    from labkit.expressway.csr import LAB_SUBJECT, CsrRequest

    labelled = CsrRequest(role="Expressway-E", fqdn="edge.example.com", ucm_registration_domains=("example.com",),
                          ucm_domain_format="CollabEdgeDNS", **LAB_SUBJECT)
    assert (labelled.role, labelled.ucm_domain_format) == ("expressway-e", "collab-edge")
    assert check("04.1", labelled, domain="example.com")
    with pytest.raises(PolicyError, match="domain-format"):
        CsrRequest(role="expressway-e", fqdn="edge.example.com", ucm_domain_format="CollabEdge", **LAB_SUBJECT)


def test_04_2_owner_is_found_by_key(issuing):
    from labkit.expressway.csr import LAB_SUBJECT
    from labkit.expressway.node import Cluster

    cluster = Cluster("expc.lab.example", "expressway-c", ["expc1.lab.example", "expc2.lab.example"])
    for n, peer in enumerate(cluster.peers, 1):
        cluster.node(peer).generate_csr(cluster.request_for(peer, **LAB_SUBJECT), key=lab.fixture_key(f"expc-{n}"))
    cert = issuing.sign(cluster.node("expc2.lab.example").pending_csr, "client-server")
    assert check("04.2", "expc2.lab.example", cluster=cluster, certificate=cert)
    assert not check("04.2", "expc1.lab.example", cluster=cluster, certificate=cert)
    assert check("04.2", cluster.owner_of(cert), cluster=cluster, certificate=cert)  # as the hint suggests
    assert not check("04.2", cluster.node("expc1.lab.example"), cluster=cluster, certificate=cert)
    foreign = issuing.sign(_csr(), "client-server")
    assert "none of the peers" in check("04.2", "expc1.lab.example", cluster=cluster, certificate=foreign).message


@pytest.mark.parametrize("answer,ok", [("DX80SecureProfile.lab.example", True), ("dx80secureprofile.LAB.example", True),
                                       ("DX80SecureProfile", False), ("DX80_Secure.lab.example", False),
                                       ("jabber.lab.example", False)])
def test_04_3_profile_name_must_be_the_fqdn_of_the_profile(answer, ok):
    assert bool(check("04.3", answer, profile="DX80SecureProfile", domain="lab.example")) is ok


def test_04_3_an_answer_of_the_wrong_kind_is_told_what_kind_is_wanted():
    result = check("04.3", 42, profile="DX80SecureProfile", domain="lab.example")
    assert not result and "as text (a str), not int" in result.message and "FQDN" not in result.message


@pytest.fixture
def revocation_lab(tmp_path):
    """Notebook 07's lab, made a month before the machine's clock, at which OpenSSL judges its certificates and
    CRLs: its checks then hold on any date, not only while the machine's date is after the lab instant."""
    from labkit.chapters.ch07_crl_checks import RevocationLab

    lab_clock_behind_the_machine(days=30)
    with RevocationLab(tmp_path / "rlab") as rlab:
        yield rlab


def test_07_exercises_check_real_behaviour(revocation_lab):
    from labkit import revocation
    from labkit.revocation.crl import bulk_crl

    assert check("07.1", "not-revoked", revocation_lab=revocation_lab)
    assert check("07.1", "Treat as not revoked", revocation_lab=revocation_lab)  # the widget's label (issue 14)
    assert not check("07.1", "revoked", revocation_lab=revocation_lab)
    assert not check("07.1", "treat as revoked", revocation_lab=revocation_lab)
    assert not check("07.1", "ignore", revocation_lab=revocation_lab)
    cert = revocation_lab.client_certificate("good").certificate
    good = revocation.query(None, cert, revocation_lab.issuing.certificate)
    assert not check("07.2", good, certificate=cert)
    revocation_lab.issuing.revoke(cert, "superseded")
    assert check("07.2", revocation.query(None, cert, revocation_lab.issuing.certificate), certificate=cert)
    issuer = revocation_lab.issuing
    big = bulk_crl(issuer.certificate, issuer.private_key(), range(0x10000, 0x30000))
    assert check("07.3", True, crl=big, serial=0x2345F) and not check("07.3", False, crl=big, serial=0x2345F)
    assert check("07.3", False, crl=big, serial=0x40000) and not check("07.3", "no", crl=big, serial=0x40000)


def test_revocation_widget_applies_each_setting(revocation_lab):
    from labkit.widgets import revocation_settings

    box = revocation_settings(revocation_lab, "responder-down")
    assert "handshake: OK" in box.pane.value  # the CRL from the distribution point says good
    box.crls.value = False
    assert "handshake: OK" in box.pane.value and "fallback" in box.pane.value  # not-revoked by default
    box.fallback.value = "revoked"
    assert "REFUSED by the server" in box.pane.value
    box.state.value = "crl-expired"
    box.crls.value = True
    assert "handshake: OK" in box.pane.value  # OCSP comes first and says good
    box.ocsp.value = False
    assert "verify_code 12" in box.pane.value  # only the expired CRL is left: OpenSSL refuses
    box.checking.value = False
    assert "handshake: OK" in box.pane.value


def test_progress_shows_pass_not_yet_and_not_tried():
    import labkit

    check("01.3", ["generate a key", "create a CSR", "CA signs the certificate"])
    check("01.4", "nonsense", certificate=pki.lab_chain().root.certificate)
    table = labkit.progress("01").set_index("exercise")
    assert table.loc["01.3", "status"] == "pass" and table.loc["01.4", "status"] == "not yet"
    assert set(table["status"]) <= {"pass", "not yet", "not tried"}
    assert len(labkit.progress()) == len(EXERCISES) >= 20


def _check_outputs(path):
    """(exercise id, "PASS" or "NOT YET") for every check result a notebook shows in its saved outputs."""
    import re

    import nbformat

    shown = "\n".join(o.get("data", {}).get("text/plain", "") for c in nbformat.read(path, as_version=4).cells
                      if c.cell_type == "code" for o in c.outputs)
    return [(m.group(2), m.group(1)) for m in re.finditer(r"(PASS|NOT YET) \[(\d\d\.\d+)\]", shown)]


def test_every_exercise_is_in_a_chapter_notebook_rejects_its_placeholder_and_passes_in_the_solutions():
    """Trainee copies show NOT YET for every exercise (the placeholder answer is refused), the reference solutions
    PASS, and every registered exercise is used by a notebook and exercised by a test here."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    trainee, solved = {}, {}
    for path in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        for ex, verdict in _check_outputs(path):
            trainee.setdefault(ex, set()).add(verdict)
        for ex, verdict in _check_outputs(root / "notebooks" / "solutions" / f"{path.stem}-solutions.ipynb"):
            solved.setdefault(ex, set()).add(verdict)
    assert set(trainee) == set(solved) == set(EXERCISES), set(EXERCISES) ^ set(trainee)
    assert all(v == {"NOT YET"} for v in trainee.values()), {k: v for k, v in trainee.items() if v != {"NOT YET"}}
    assert all(v == {"PASS"} for v in solved.values()), {k: v for k, v in solved.items() if v != {"PASS"}}
    tests = "\n".join(p.read_text() for p in (root / "tests").glob("test_*.py"))
    untested = [ex for ex in EXERCISES if not re.search(rf'check\(\s*"{re.escape(ex)}"', tests)]
    assert not untested, f"no test calls check() for {untested}"


# -- what becomes NOT YET, and what is a bug ----------------------------------------------------------------------

@pytest.fixture
def scratch_exercise():
    """Register checkers under a scratch id for one test, and take them away afterwards."""
    from labkit import exercises

    made = []

    def register(checker):
        exercises.exercise("99.9", "scratch", "nowhere")(checker)
        made.append("99.9")
        return checker

    yield register
    for ex_id in made:
        exercises.EXERCISES.pop(ex_id, None)
        exercises._RESULTS.pop(ex_id, None)


def test_a_broken_checker_raises_its_own_error(scratch_exercise):
    @scratch_exercise
    def checker(answer):
        return {}["missing"], "never"

    with pytest.raises(KeyError):
        check("99.9", "anything")


def test_a_type_error_inside_a_checker_is_a_bug_not_a_wrong_form(scratch_exercise):
    @scratch_exercise
    def checker(answer):
        return len(answer) + "1", "never"  # the checker's own mistake

    with pytest.raises(TypeError, match="unsupported operand"):
        check("99.9", "anything")


def test_an_answer_that_does_not_fit_the_checker_is_not_yet(scratch_exercise):
    @scratch_exercise
    def checker(answer, *, certificate):
        return True, "fine"

    result = check("99.9", "one", "two", certificate=None)
    assert not result and "not in the expected form" in result.message
    assert check("99.9", "one", certificate=None)


def test_a_labkit_error_raised_on_the_answer_is_not_yet_with_its_rule(scratch_exercise):
    from labkit import PolicyError

    @scratch_exercise
    def checker(answer):
        raise PolicyError("that name is not an FQDN", rule="fqdn", value=answer, chapter="guide chapter 4 (x)")

    result = check("99.9", "host")
    assert not result and "rule: fqdn" in result.message and "value: host" in result.message


def test_labkit_errors_are_the_builtin_errors_ordinary_handlers_catch():
    from labkit import InputError, LabkitError, PasswordError, PolicyError, WrongTypeError

    assert issubclass(InputError, ValueError) and issubclass(PolicyError, ValueError)
    assert issubclass(PasswordError, ValueError) and issubclass(WrongTypeError, TypeError)
    assert all(issubclass(cls, LabkitError) for cls in (InputError, PolicyError, PasswordError, WrongTypeError))
    with pytest.raises(ValueError, match="rule: pem-or-der"):
        from labkit.x509.loading import load

        load(b"not a certificate")


def test_08_2_passes_with_the_chosen_days_in_week_order_and_none_left_out():
    from labkit.acme.renewal import renewal_schedule

    every = renewal_schedule(lab.now(), days_of_week=["Sun", "Wednesday", "Monday", 3, "Tuesday", "Sat", "Fri"],
                             horizon_days=365)
    assert check("08.2", every, margin_days=25).message.endswith("(deploying on Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
    two = renewal_schedule(lab.now(), days_of_week=["Thursday", "Monday"], horizon_days=365)
    assert check("08.2", two, margin_days=25).message.endswith("(deploying on Mon, Thu)")
    assert "fell on Mon, Thu)" in check("08.2", list(two), margin_days=25).message  # a plain list: what happened


def _answers_in(source: str) -> list[str]:
    """What a cell gives as answers and writes as code: the string answers it passes to check() (after the exercise
    id), and its code fragments of 12 characters or more (lines split at commas), quotes and spaces made alike."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
            found += [n.value for arg in node.args[1:] for n in ast.walk(arg)
                      if isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) >= 6]
    for line in source.splitlines():
        found += [part for part in (p.strip() for p in line.split(",")) if len(part) >= 12]
    return [_alike(text) for text in found]


def _alike(text: str) -> str:
    return " ".join(text.replace("'", '"').split())


def _hints_that_give_away(chapter_cell: str, hint: str, solution_cell: str) -> list[str]:
    """What the reference solution adds to the starting code and the hint spells out."""
    start = {_alike(s) for s in _answers_in(chapter_cell)}
    return [part for part in _answers_in(solution_cell) if part not in start and part in _alike(hint)]


def test_no_hint_a_chapter_notebook_shows_hands_out_the_reference_solution():
    """Issue 14: hints guide without giving the solution. For the starting code of every exercise, the NOT YET hint
    the notebook shows holds none of what the reference solution adds (its string literals, its code fragments)."""
    import pathlib
    import re

    import nbformat

    root = pathlib.Path(__file__).resolve().parent.parent
    leaks = {}
    for path in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        solutions = nbformat.read(root / "notebooks" / "solutions" / f"{path.stem}-solutions.ipynb", as_version=4)
        for cell in (c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"):
            for ex in re.findall(r'check\("(\d\d\.\d)"', cell.source):
                solved = next(c.source for c in solutions.cells
                              if c.cell_type == "code" and f'check("{ex}"' in c.source)
                shown = [o.get("data", {}).get("text/plain", "") for o in cell.outputs]
                for hint in (text for text in shown if "NOT YET" in text):
                    given = _hints_that_give_away(cell.source, hint, solved)
                    if given:
                        leaks[ex] = given
    assert not leaks, f"hints that hand out the solution: {leaks}"


def test_the_hint_check_catches_a_hint_that_hands_out_the_solution():
    """Canary: issue 14's 00.1 and 04.1 hints, which named the very call and keyword the solution adds."""
    start = 'answer = CsrRequest(role="expressway-e", fqdn="edge.example.com", **LAB_SUBJECT)  # which format?'
    solved = ('answer = CsrRequest(role="expressway-e", fqdn="edge.example.com", ucm_domain_format="collab-edge", '
              "**LAB_SUBJECT)")
    old = "NOT YET [04.1] the SANs lack collab-edge.example.com: give it with ucm_domain_format='collab-edge'"
    assert _hints_that_give_away(start, old, solved) == [_alike('ucm_domain_format="collab-edge"')]
    old = "NOT YET [00.1] call lab.reset() first, then lab.clock.advance(days=7)"
    assert _hints_that_give_away("check('00.1', lab.now())", old, "lab.clock.advance(days=7)")
    old = "NOT YET [04.3] keep the profile's name and make it DX80SecureProfile.lab.example"
    assert _hints_that_give_away('check("04.3", "DX80SecureProfile", profile="DX80SecureProfile")', old,
                                 'check("04.3", "DX80SecureProfile.lab.example", profile="DX80SecureProfile")')
    assert not _hints_that_give_away(start, "NOT YET [04.1] which format puts the prefix in front?", solved)


# -- cells run again (issue 14): a CA that exists is reopened, a fixed call makes it afresh, elsewhere refused ------

def test_a_notebook_cell_that_makes_a_ca_can_run_again_and_a_fixed_call_passes(tmp_path):
    from labkit.ca import open_ca
    from labkit.chapters.ch10_capstone import LONG, init_ca
    from labkit.x509.certs import CertSpec, request

    work = lab.workdir("10-capstone", fresh=True)
    root = init_ca(work / "root", "labkit Root CA", key=lab.fixture_key("root-ca"))  # forgot days=LONG
    issuing = init_ca(work / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root)
    issued = issuing.sign(request(CertSpec("expc1.lab.example"), lab.fixture_key("expc-1")), "client-server")
    again = init_ca(work / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root)
    assert again.certificate == issuing.certificate and [e.serial for e in again.entries()] == [issued.serial_number]
    # the 10.1 cell fixed and run again: both CAs made afresh with the new validity, and the check passes
    root = init_ca(work / "root", "labkit Root CA", key=lab.fixture_key("root-ca"), days=LONG)
    issuing = init_ca(work / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root, days=LONG)
    assert (issuing.certificate.not_valid_after_utc - issuing.certificate.not_valid_before_utc).days == LONG
    assert issuing.entries() == [] and check("10.1", root, issuing)
    # outside the lab's working folder, an existing CA is refused and left as it was
    outside = tmp_path / "admin-ca"
    kept = init_ca(outside, "Admin CA", key=lab.fixture_key("rogue-ca")).certificate
    with pytest.raises(InputError) as info:
        init_ca(outside, "Admin CA", key=lab.fixture_key("rogue-ca"), days=30)
    assert info.value.rule == "ca-folder-empty" and open_ca(outside).certificate == kept
