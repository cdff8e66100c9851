"""The certificate clinic: everything an instructor asks about a certificate someone brings, on one page.

:func:`examine` reads a certificate file (PEM, DER, a PEM bundle with its chain, PKCS#7) and answers three questions:

1. **What is in it?** The certificate as ``openssl x509 -text -noout`` prints it (:func:`labkit.x509.decode.text`) and a
   short summary (guide appendix D).
2. **Will it work on this Expressway?** :func:`labkit.expressway.doctor.doctor`'s findings for the role and names given
   (guide chapters 2-4, appendix A).
3. **Does this trusted CA list vouch for it?** :meth:`labkit.expressway.store.TrustedCaList.chain_check` at the lab
   clock,
   against one of :data:`TRUST_LISTS` (guide chapter 7: the list needs the full chain up to a root), beside the
   ``openssl verify`` command that asks the same question, run to show that OpenSSL agrees.

The answer is a :class:`ClinicReport` (frozen; it prints as text and renders as HTML). Input that cannot be read, or
that is not a certificate (a CSR, a key, garbage), raises the :class:`~labkit.errors.LabkitError` of
:mod:`labkit.x509.loading`, which the widget (:func:`labkit.widgets.certificate_clinic`) shows as its message.

:func:`examples` are ready-made inputs for a demonstration without typing: the specimens of
:mod:`labkit.chapters.ch03_expressway_certificates`
(one broken rule each), the good certificate with its chain as a PEM bundle, as PKCS#7 and as DER, and inputs the
clinic refuses (a CSR, a cut-off PEM, plain text). The lab CAs (:func:`lab_cas`) are made from fixture keys on the
lab clock, with fixed serials, so the same input gives the same page on every run.

What labkit had to decide here:

* in a bundle, the certificate examined is the one that issued none of the others (whatever the order, as in a
  PKCS#7 file); the others are offered as intermediates, as a TLS peer sends them (``openssl verify -untrusted``);
* ``openssl verify`` runs with ``-no-CApath -no-CAstore`` (only the chosen list, never the machine's own trust store)
  and ``-auth_level 2`` (at least 112-bit security: RSA of 2048 bits or more, no SHA-1), which is what labkit's
  verifier enforces too; at its default level ``openssl verify`` accepts SHA-1 signatures. The Expressway's upload
  only warns about such a certificate (chapter 7: the security level is not acceptable); it fails later, when a peer
  checks it.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import shlex
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from labkit import guide, lab
from labkit.chapters.ch03_expressway_certificates import specimens
from labkit.errors import InputError, WrongTypeError
from labkit.expressway.doctor import Expectations, Finding, Report, doctor
from labkit.expressway.findings import BACKGROUND, COLOURS, html_table, severity_html
from labkit.expressway.roles import ROLES
from labkit.expressway.trusted_list import ChainCheck, TrustedCaList
from labkit.x509 import decode
from labkit.x509 import openssl as _openssl
from labkit.x509.certs import CertSpec, issue, request
from labkit.x509.files import write_atomic
from labkit.x509.loading import chain_order, load_all, outside_text

__all__ = ["ROLES", "TRUST_LISTS", "DEFAULT_TRUST", "UPLOADED", "LabCas", "lab_cas", "Example",
           "examples", "example", "ClinicReport", "examine", "reset_question"]

_PRE = "white-space:pre-wrap;word-break:normal;overflow-wrap:normal;overflow-x:auto"

UPLOADED = "uploaded extra CA"
DEFAULT_TRUST = "lab root + issuing CA"

#: The trusted CA lists the clinic checks against, and what each one holds.
TRUST_LISTS = {
    DEFAULT_TRUST: "the lab's root CA and its issuing CA: the full chain, as chapter 7 asks",
    "lab root only": "the lab's root CA alone: the issuing CA must come with the certificate",
    "issuing CA only": "the lab's issuing CA without its root: the chain stops short of a root",
    "rogue CA": "a root that calls itself 'labkit Root CA' but has another key",
    "none": "an empty list (the lab's CAs are in no system trust store either)",
    UPLOADED: "the CA certificates of a PEM file you give",
}

_ROGUE_SERIAL = 0xBAD


# -- the lab's CAs ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LabCas:
    """The lab's root and issuing CA (the issuer of every specimen) and a rogue root that borrows the root's name."""

    root: x509.Certificate
    issuing: x509.Certificate
    rogue: x509.Certificate


def lab_cas(at: _dt.datetime | str | None = None) -> LabCas:
    """The lab CAs, issued at ``at`` (the lab clock by default). The root and issuing CA are those
    :func:`labkit.x509.pki.lab_chain` makes in a fresh lab (serials 0x1000 and 0x1001); the lab counter is not used."""
    return _lab_cas(lab.now(at))


@lru_cache(maxsize=4)
def _lab_cas(moment: _dt.datetime) -> LabCas:
    root = issue(CertSpec("labkit Root CA", ca=True, days=3650), lab.fixture_key("root-ca"), at=moment,
                 serial=lab.FIRST_SERIAL)
    issuing = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0, days=1825), lab.fixture_key("issuing-ca"),
                    root, at=moment, serial=lab.FIRST_SERIAL + 1)
    rogue = issue(CertSpec("labkit Root CA", ca=True, days=3650), lab.fixture_key("rogue-ca"), at=moment,
                  serial=_ROGUE_SERIAL)
    return LabCas(root.certificate, issuing.certificate, rogue.certificate)


def _trusted_list(trust: str, extra_ca, cas: LabCas) -> tuple[TrustedCaList, tuple[Finding, ...]]:
    if trust not in TRUST_LISTS:
        raise InputError(f"Unknown trusted CA list; choose one of: {', '.join(TRUST_LISTS)}",
                         rule="clinic-trust-list", value=trust, chapter=guide.CH7)
    trusted = TrustedCaList()
    if trust == UPLOADED:
        if extra_ca is None or (isinstance(extra_ca, str | bytes) and not extra_ca.strip()):
            raise InputError("Give the PEM file of CA certificates to trust (paste it or upload it), or choose "
                             "another list", rule="clinic-extra-ca", value="nothing given", chapter=guide.CH7)
        return trusted, tuple(trusted.append(extra_ca))
    chosen = {DEFAULT_TRUST: (cas.root, cas.issuing), "lab root only": (cas.root,), "issuing CA only": (cas.issuing,),
              "rogue CA": (cas.rogue,), "none": ()}[trust]
    for cert in chosen:
        trusted.append(cert)
    return trusted, ()


# -- examples -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    """A file an instructor could be handed: its bytes, a file name, what it shows, and the doctor flags that
    describe the Expressway it is meant for."""

    name: str
    note: str
    data: bytes
    filename: str
    flags: dict = field(default_factory=dict)

    @property
    def is_text(self) -> bool:
        """True when the file is text (PEM or anything typed), false for binary DER."""
        return all(32 <= b < 127 or b in (9, 10, 13) for b in self.data)


def examples(at: _dt.datetime | str | None = None) -> tuple[Example, ...]:
    """Every example, issued at ``at`` (the lab clock by default): the specimens, then chains and bad input."""
    return _examples(lab.now(at))


def example(name: str, at: _dt.datetime | str | None = None) -> Example:
    """The example called ``name`` (see :func:`examples`)."""
    found = {e.name: e for e in examples(at)}
    if name not in found:
        raise InputError(f"No example of that name; choose one of: {', '.join(found)}", rule="clinic-example",
                         value=name, chapter=guide.CH2_AWARE)
    return found[name]


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@lru_cache(maxsize=4)
def _examples(moment: _dt.datetime) -> tuple[Example, ...]:
    # specimens()' lab_chain() takes three serials of the lab counter (once per instant, thanks to the cache); the
    # specimens themselves have fixed serials.
    gallery = specimens(at=moment)
    cas = _lab_cas(moment)
    good = gallery[0].certificate
    csr = request(CertSpec("expe.lab.example"), lab.fixture_key("expe-1"))
    chain = [
        Example("good + issuing CA (PEM bundle)", "the certificate followed by its issuing CA, as a CA often sends it",
                _pem(good, cas.issuing), "expe-chain.pem"),
        Example("good + chain (PKCS#7)", "root, issuing CA and certificate in a .p7b, the way AD CS hands out a chain",
                pkcs7.serialize_certificates([cas.root, cas.issuing, good], serialization.Encoding.PEM),
                "expe-chain.p7b"),
        Example("good as DER (.cer)", "the good certificate in binary DER, which the Expressway does not take",
                good.public_bytes(serialization.Encoding.DER), "expe.cer"),
        Example("a CSR", "a certificate signing request where a certificate belongs",
                csr.public_bytes(serialization.Encoding.PEM), "expe.csr"),
        Example("cut-off PEM", "the good certificate with its second half lost in an email",
                _pem(good)[:400], "expe-cut.pem"),
        Example("not a certificate", "plain text pasted by mistake",
                b"Hello, here is our certificate as you asked. Kind regards\n", "email.txt"),
    ]
    return tuple(Example(s.name, s.point, _pem(s.certificate), f"{s.name}.pem", dict(s.flags))
                 for s in gallery) + tuple(chain)


# -- reading the input --------------------------------------------------------------------------------------------

def _read(data: bytes | str) -> tuple[list[x509.Certificate], str, list[str]]:
    """The certificates of ``data``, how the input was written, and notes about the file."""
    notes: list[str] = []
    items = load_all(data)
    extra = outside_text(data)
    if extra is not None:
        notes.append(f"The file has text outside its PEM blocks ('{extra[:40]}'), skipped as OpenSSL skips it; "
                     "`labkit convert FILE --to pem -o clean.pem` (or `openssl x509 -in FILE -out clean.pem`) "
                     f"writes a clean copy [{guide.CH7}]")
    for item in items:
        if item.kind != "certificate":
            hint = (f": a CSR must be signed by a CA before it becomes a certificate ({guide.CH3})"
                    if item.kind == "csr" else "")
            raise WrongTypeError(f"The clinic examines certificates, but this file holds {item.description}{hint}",
                                 rule="expect-certificate", value=item.label or item.container or "DER")
    certs = [item.obj for item in items]
    container = items[0].container
    if container:
        source = f"a {container} ({items[0].encoding}) file of {len(certs)} certificate{'s' if len(certs) != 1 else ''}"
    elif items[0].encoding == "DER":
        source = "a DER (binary) certificate"
    elif len(certs) > 1:
        source = f"a PEM bundle of {len(certs)} certificates"
    else:
        source = "a PEM certificate"
    if items[0].encoding == "DER":
        notes.append("DER: the Expressway takes PEM only; convert it with `labkit convert FILE --to pem -o FILE.pem` "
                     "(`openssl x509 -inform DER -in FILE.cer -out FILE.pem`; guide appendix C)")
    return certs, source, notes


def _split(certs: list[x509.Certificate]) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The certificate to examine (the end-entity one) and the rest of the bundle, in chain order."""
    ordered = chain_order(certs)
    return ordered[0], tuple(ordered[1:])


def _names(value) -> tuple[str, ...]:
    """Names given as a tuple, or as text separated by commas or spaces (what a form field holds)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[\s,;]+", value) if part)
    return tuple(str(v).strip() for v in value if str(v).strip())


_label = decode.label


_SUMMARY = ("Subject", "Issuer", "Serial Number", "Not Before", "Not After", "Status at", "Public Key Algorithm",
            "Public Key Size", "Signature Algorithm", "X509v3 Subject Alternative Name", "X509v3 Extended Key Usage",
            "X509v3 Basic Constraints", "SHA-256 Fingerprint")


def _summary(cert: x509.Certificate, moment: _dt.datetime) -> tuple[tuple[str, str], ...]:
    frame = decode.table(cert, at=moment)
    rows = list(zip(frame["field"], frame["value"], strict=True))
    picked = []
    for wanted in _SUMMARY:
        picked += [(name, " ".join(value.split("\n"))) for name, value in rows if name.startswith(wanted)][:1]
    return tuple(picked)


def _breakable(text: str) -> str:
    """HTML ``text`` with a line-break opportunity after each colon of a long hex run (a fingerprint, a serial), so a
    table cell wraps it instead of growing past the page; words are never broken."""
    return re.sub(r"((?:[0-9A-F]{2}:){8,}[0-9A-F]{2})", lambda m: m.group(1).replace(":", ":<wbr>"), text)


# -- the report ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClinicReport:
    """What :func:`examine` found: the decode, doctor's findings, and the chain check with OpenSSL's answer."""

    certificate: x509.Certificate
    bundle: tuple[x509.Certificate, ...]  # the other certificates of the file, offered as intermediates
    source: str  # how the input was written ("a PEM bundle of 2 certificates" ...)
    notes: tuple[str, ...]
    decoded: str  # openssl x509 -text -noout
    summary: tuple[tuple[str, str], ...]
    doctor: Report
    role: str
    trust: str
    trusted: tuple[x509.Certificate, ...]  # the trust anchors and CAs of the chosen list
    trust_findings: tuple[Finding, ...]  # what appending an uploaded CA file said
    chain: ChainCheck
    command: str  # the equivalent openssl verify command
    openssl_run: _openssl.Run | None  # its run, or None when openssl was not run
    at: _dt.datetime

    @property
    def name(self) -> str:
        return _label(self.certificate.subject)

    @property
    def openssl_agrees(self) -> bool | None:
        """Whether ``openssl verify`` reached the same verdict as labkit (None: it was not run)."""
        return None if self.openssl_run is None else self.openssl_run.ok == self.chain.ok

    @property
    def verdict(self) -> str:
        """One line: doctor's verdict and the chain's, and whether OpenSSL agrees."""
        errors = len(self.doctor.errors)
        health = "no doctor errors" if not errors else f"{errors} doctor error{'s' if errors != 1 else ''}"
        trust = "TRUSTED" if self.chain.ok else "NOT TRUSTED"
        agree = ("" if self.openssl_agrees is None else "; OpenSSL agrees" if self.openssl_agrees
                 else f"; OpenSSL DISAGREES ({self._openssl_said()}; see 3.)")
        return f"'{self.name}': {health}; {trust} by '{self.trust}'{agree}"

    def _openssl_said(self) -> str:
        """OpenSSL's own answer in a few words: "openssl verify: OK", or its first error line's reason and code."""
        if self.openssl_run.ok:
            return "openssl verify: OK"
        found = re.search(r"error (\d+) at (\d+) depth lookup: ?(.*)", str(self.openssl_run))
        return (f"openssl verify: {found.group(3).strip()}, error {found.group(1)} at depth {found.group(2)}"
                if found else "openssl verify refused it")

    def _agreement(self) -> str:
        if self.openssl_run is None:
            return "OpenSSL was not run here: run the command above to compare."
        said = "verified the chain" if self.openssl_run.ok else "refused the chain"
        if self.openssl_agrees:
            return f"OpenSSL agrees: it {said} too."
        return (f"OpenSSL DISAGREES: it {said}. labkit models the Expressway's check (every CA on the path needs "
                "basicConstraints CA:TRUE; names and key usages are not checked here); compare the reasons.")

    def text(self, *, decoded: bool = False) -> str:
        """The report as plain text; ``decoded=True`` adds the full ``openssl x509 -text`` view."""
        width = max(len(name) for name, _ in self.summary)
        lines = [f"Certificate clinic at {self.at:%Y-%m-%d %H:%M} UTC: {self.verdict}",
                 f"Input: {self.source}; examined '{self.name}'"]
        lines += [f"  other certificate in the file: '{_label(c.subject)}' (issued by '{_label(c.issuer)}')"
                  for c in self.bundle]
        lines += [f"Note: {note}" for note in self.notes]
        lines += ["", "1. Decode (openssl x509 -text -noout, summarised)"]
        lines += [f"  {name:<{width}}  {value}" for name, value in self.summary]
        if decoded:
            lines += ["", self.decoded.rstrip("\n")]
        lines += ["", f"2. Doctor (role {self.role})"]
        lines += ["  " + line for line in self.doctor.text().splitlines()]
        anchors = ", ".join(f"'{_label(c.subject)}'" for c in self.trusted) or "nothing"
        lines += ["", f"3. Chain check against '{self.trust}' ({anchors}) at {self.at:%Y-%m-%d %H:%M} UTC"]
        lines += [f"  {f.severity.upper()} {f.rule}: {f.message}" for f in self.trust_findings]
        lines.append(f"  {self.chain}")
        run = str(self.openssl_run) if self.openssl_run is not None else f"$ {self.command}"
        lines += ["  " + line for line in run.splitlines()]
        lines.append("  " + self._agreement())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())

    @property
    def meaning(self) -> str:
        """What the verdict means, as one of :data:`~labkit.expressway.findings.COLOURS`' keys: ``"ok"`` when the
        chain is trusted and doctor found no error, else ``"error"``."""
        return "ok" if self.chain.ok and self.doctor.ok else "error"

    def verdict_html(self, examined: str = "") -> str:
        """The verdict as a banner for the projector: white on the colour of its meaning (contrast at least 4.5:1),
        with what was examined (``examined``: "Example 'expired' (expired.pem)") and the clock it was judged at."""
        e = html.escape
        what = f"{e(examined)}: " if examined else ""
        return (f'<div class="labkit-verdict" style="background:{COLOURS[self.meaning]};color:{BACKGROUND};'
                f'padding:8px 12px;border-radius:4px;font-size:120%;line-height:1.35">'
                f"<b>{e(self.verdict)}</b><br>"
                f'<span style="font-size:85%">{what}{e(self.source)}; judged at {e(self.clock)}.</span></div>')

    def details_html(self) -> str:
        """Everything under the verdict: the notes, the decode summary, doctor's findings, the chain check and
        OpenSSL's answer, each coloured by what it means."""
        e = html.escape
        good, bad, warn = COLOURS["ok"], COLOURS["error"], COLOURS["warning"]
        parts = ['<div class="labkit-clinic-report">']
        if self.bundle:
            rows = [(e(_label(c.subject)), e(_label(c.issuer)), f"{c.not_valid_after_utc:%Y-%m-%d}")
                    for c in self.bundle]
            parts.append("<p>Other certificates in the file (offered as intermediates):</p>"
                         + html_table(("subject", "issuer", "expires"), rows))
        parts += [f'<p style="color:{warn}">Note: {e(note)}</p>' for note in self.notes]
        parts.append(f"<h4>1. Decode: {e(self.name)}</h4>"
                     + html_table(("field", "value"), [(e(name), _breakable(e(value))) for name, value in self.summary])
                     + "<details><summary>The whole certificate as <code>openssl x509 -text -noout</code> prints it"
                     f'</summary><pre style="{_PRE}">{e(self.decoded)}</pre></details>')
        parts.append(f"<h4>2. Doctor (role {e(ROLES.get(self.role, self.role))})</h4>{self.doctor._repr_html_()}")
        anchors = ", ".join(_label(c.subject) for c in self.trusted) or "nothing"
        what = TRUST_LISTS[self.trust]
        parts.append(f"<h4>3. Chain check against &lsquo;{e(self.trust)}&rsquo;</h4><p>{e(what[:1].upper() + what[1:])}"
                     f" (the list holds: {e(anchors)}).</p>")
        parts += [f"<p>{severity_html(f.severity)} <code>{e(f.rule)}</code> {e(f.message)}</p>"
                  for f in self.trust_findings]
        parts.append(f'<p style="color:{good if self.chain.ok else bad}"><b>{e(str(self.chain))}</b></p>')
        run = str(self.openssl_run) if self.openssl_run is not None else f"$ {self.command}"
        # Agreement is not good news in itself: OpenSSL agreeing that the chain is refused is said in red, and so is
        # a disagreement (one of the two verdicts is wrong for this chain).
        agree_colour = {None: "inherit", True: good if self.chain.ok else bad, False: bad}[self.openssl_agrees]
        parts.append(f'<pre style="{_PRE}">{e(run)}</pre>'
                     f'<p style="color:{agree_colour}"><b>{e(self._agreement())}</b></p></div>')
        return "".join(parts)

    @property
    def clock(self) -> str:
        """The instant the report judged at, in words."""
        return f"{self.at:%Y-%m-%d %H:%M} UTC"

    def _repr_html_(self) -> str:
        return self.verdict_html() + self.details_html()


def reset_question(plan: lab.ResetPlan) -> str:
    """What *Reset lab* will do, asked before it is done: the servers it stops, the working folders it deletes (and
    where), the exercise results, clock and serials it puts back (:func:`labkit.lab.reset_all`)."""
    servers = (f"stop {len(plan.servers)} lab server(s) ({', '.join(plan.servers)})" if plan.servers
               else "stop no server (none is running)")
    folders = (f"delete {len(plan.folders)} working folder(s) in {plan.root}: {', '.join(plan.folders)}"
               if plan.folders else f"delete no folder ({plan.root} holds none)")
    return (f"Reset the whole lab? This will {servers}, {folders}, forget every exercise result of this session, and "
            f"put the lab clock back to {lab.DEFAULT_INSTANT:%Y-%m-%d %H:%M} UTC and the serial numbers to "
            f"{lab.FIRST_SERIAL:#x}."
            + (" What the notebooks made in those folders is lost; the notebooks themselves are not touched."
               if plan.folders else ""))


# -- the verb -----------------------------------------------------------------------------------------------------

def examine(data: bytes | str, *, trust: str = DEFAULT_TRUST, role: str = "expressway", fqdn: str | None = None,
            cluster_fqdn: str | None = None, peer_fqdn: str | None = None, ucm_domains: Iterable[str] | str = (),
            xmpp_domains: Iterable[str] | str = (), chat_aliases: Iterable[str] | str = (),
            phone_profiles: Iterable[str] | str = (), extra_ca: bytes | str | None = None,
            at: _dt.datetime | str | None = None, run_openssl: bool = True,
            folder: str | Path | None = None) -> ClinicReport:
    """Decode, doctor and chain-check the certificate in ``data`` (PEM, DER, a PEM bundle or PKCS#7).

    ``trust`` names one of :data:`TRUST_LISTS`; with :data:`UPLOADED`, ``extra_ca`` is the PEM file of CA
    certificates to trust. ``role`` and the names are :func:`~labkit.expressway.doctor.doctor`'s (names may be one
    string,
    separated by commas or spaces, as a form field holds them). ``at`` is "now" (the lab clock by default).
    ``run_openssl`` runs the equivalent ``openssl verify`` (when openssl is installed) on files written to
    ``folder`` (kept), or to a temporary folder (removed). Unreadable input raises a LabkitError.
    """
    expect = Expectations(role, fqdn or None, cluster_fqdn or None, peer_fqdn or None, _names(ucm_domains),
                          _names(xmpp_domains), _names(chat_aliases), _names(phone_profiles))
    moment = lab.now(at)
    certs, source, notes = _read(data)
    leaf, bundle = _split(certs)
    if bundle:
        notes.append(f"The file holds {len(certs)} certificates. The Expressway's server certificate page takes the "
                     "server certificate alone; its issuing and root CAs go into the trusted CA list "
                     f"[{guide.CH7}]")
    trusted, trust_findings = _trusted_list(trust, extra_ca, lab_cas(moment))
    report = doctor(leaf, role=expect.role, fqdn=expect.fqdn, cluster_fqdn=expect.cluster_fqdn,
                    peer_fqdn=expect.peer_fqdn, ucm_domains=expect.ucm_domains, xmpp_domains=expect.xmpp_domains,
                    chat_aliases=expect.chat_aliases, phone_profiles=expect.phone_profiles, at=moment)
    chain = trusted.chain_check(leaf, intermediates=bundle, at=moment)
    anchors = trusted.certificates
    args = ["verify", "-attime", _openssl.attime(moment), "-auth_level", "2", "-no-CApath", "-no-CAstore"]
    args += ["-CAfile", "trusted.pem"] if anchors else ["-no-CAfile"]
    args += ["-untrusted", "untrusted.pem"] if bundle else []
    args.append("cert.pem")
    run = None
    if run_openssl and _openssl.available():
        files = {"trusted.pem": _pem(*anchors), "untrusted.pem": _pem(*bundle), "cert.pem": _pem(leaf)}
        if folder is not None:
            run = _verify(args, files, Path(folder))
        else:
            with tempfile.TemporaryDirectory(prefix="labkit-clinic-") as tmp:
                run = _verify(args, files, Path(tmp))
    return ClinicReport(leaf, bundle, source, tuple(notes), decode.text(leaf), _summary(leaf, moment), report,
                        expect.role, trust, anchors, trust_findings, chain, shlex.join(("openssl", *args)), run,
                        moment)


def _verify(args: list[str], files: dict[str, bytes], folder: Path) -> _openssl.Run:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content:
            write_atomic(folder / name, content, fsync=False)
    return _openssl.openssl(*args, cwd=folder)
