"""Certificates per second issued by labkit's CA, against the bare cryptography floor and an ``openssl ca`` loop.

    python benchmarks/ca_issue.py [--n N] [--n-openssl N] [--quick] [--update-readme]

``make bench`` calls it. Three ways to issue the same "server" certificate (2048-bit RSA issuing CA, SHA-256,
basicConstraints, keyUsage, extendedKeyUsage serverAuth, SKI, AKI and the CSR's subjectAltName) from one CSR:

* **labkit** ``CertificateAuthority.sign(csr, "server")`` N times into a labkit-made CA directory, all in one
  process: policy, profile, the ``flock``, and the database writes (``serial``, ``index.txt``, ``newcerts/``);
  and the same N in one ``sign_many`` call (one lock, one serial update, one index append, as
  ``openssl ca -infiles`` does);
* **bare builder**: a ``cryptography`` ``CertificateBuilder`` with the same extensions, signed with the same key,
  no files: the floor any Python CA stands on;
* **openssl ca loop**: ``openssl ca -batch -config DIR/openssl.cnf -extensions server_ext`` started once per
  certificate as a subprocess, into its own fresh labkit-made CA directory: what a trainee would otherwise script.

Each method runs a short warm-up that is not counted, then N timed iterations (``time.perf_counter``); the whole
set runs ``--repeat`` times (3) and the median run of each method is reported, because a shared 2-core machine is
noisy. Every CA lives
in a temporary directory removed afterwards, and the lab clock is left as it is. Goals (reported, never asserted):
labkit at least 10x the openssl ca loop and at least 0.5x the bare builder. ``--update-readme`` writes the result
between ``<!-- bench:ca -->`` and ``<!-- /bench:ca -->`` in README.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit import lab
from labkit.ca import CertificateAuthority, init_ca, open_ca
from labkit.x509.certs import CertSpec, request, sign_builder

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_N, DEFAULT_N_OPENSSL = 300, 60
QUICK_N, QUICK_N_OPENSSL = 30, 10
WARMUP = 3
GOAL_OPENSSL, GOAL_BUILDER = 10.0, 0.5
MARKERS = re.compile(r"(<!-- bench:ca -->\n).*?(\n<!-- /bench:ca -->)", re.S)


@dataclass(frozen=True)
class Result:
    method: str
    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


def timed(method: str, count: int, step: Callable[[int], object]) -> Result:
    """Run ``step`` WARMUP times uncounted, then ``count`` times under the clock."""
    for i in range(WARMUP):
        step(-1 - i)
    started = time.perf_counter()
    for i in range(count):
        step(i)
    result = Result(method, count, time.perf_counter() - started)
    print(f"{method}: {count} in {result.seconds:.2f} s", file=sys.stderr, flush=True)
    return result


def make_cas(folder: Path) -> CertificateAuthority:
    """A fresh root and issuing CA below ``folder``; the issuing CA, opened as a trainee would open it."""
    root = init_ca(folder / "root", "Bench Root", key=lab.fixture_key("root-ca"))
    init_ca(folder / "issuing", "Bench Issuing", key=lab.fixture_key("issuing-ca"), parent=root)
    return open_ca(folder / "issuing")


def bench_request() -> x509.CertificateSigningRequest:
    return request(CertSpec("bench.lab.example"), lab.fixture_key("expe-1"))


# -- (a) labkit ---------------------------------------------------------------------------------------------------


def measure_labkit(csr: x509.CertificateSigningRequest, count: int) -> tuple[Result, x509.Certificate]:
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as work:
        ca = make_cas(Path(work))
        result = timed("labkit `CertificateAuthority.sign`", count, lambda _: ca.sign(csr, "server"))
        issued = len(ca.entries())  # the issuing CA's own certificate is in the root's database, not this one
        if issued != count + WARMUP:
            raise RuntimeError(f"labkit recorded {issued} certificates, expected {count + WARMUP}")
        sample = ca.sign(csr, "server")
    return result, sample


def measure_labkit_batch(csr: x509.CertificateSigningRequest, count: int) -> Result:
    """The same N certificates in one ``sign_many`` call: one lock, one serial update, one index append."""
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as work:
        ca = make_cas(Path(work))
        ca.sign_many([csr] * WARMUP, "server")
        started = time.perf_counter()
        ca.sign_many([csr] * count, "server")
        result = Result("labkit `CertificateAuthority.sign_many` (one batch)", count, time.perf_counter() - started)
        if len(ca.entries()) != count + WARMUP:
            raise RuntimeError("labkit's batch did not record every certificate")
    print(f"{result.method}: {count} in {result.seconds:.2f} s", file=sys.stderr, flush=True)
    return result


# -- (b) the bare cryptography floor ------------------------------------------------------------------------------


def server_builder(csr: x509.CertificateSigningRequest, ca_cert: x509.Certificate,
                   serial: int) -> x509.CertificateBuilder:
    """The "server" profile as a plain CertificateBuilder: what labkit's CA produces, without its checks or files."""
    public = csr.public_key()
    start = lab.now()
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    return (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_cert.subject).public_key(public)
            .serial_number(serial).not_valid_before(start).not_valid_after(start + _dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(usage, True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
            .add_extension(san, False))


def measure_builder(csr: x509.CertificateSigningRequest, count: int) -> tuple[Result, x509.Certificate]:
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as work:
        ca_cert = make_cas(Path(work)).certificate
    key = lab.fixture_key("issuing-ca")
    result = timed("bare `CertificateBuilder.sign`", count,
                   lambda i: sign_builder(server_builder(csr, ca_cert, 0x10000 + i), key))
    return result, sign_builder(server_builder(csr, ca_cert, 0x1000), key)


# -- (c) one openssl ca process per certificate -------------------------------------------------------------------


def openssl_step(folder: Path, csr_path: Path) -> Callable[[int], object]:
    config = folder / "openssl.cnf"

    def step(i: int) -> None:
        out = folder / "out" / f"{i + WARMUP}.pem"
        subprocess.run(["openssl", "ca", "-batch", "-config", str(config), "-extensions", "server_ext",
                        "-in", str(csr_path), "-out", str(out)], check=True, capture_output=True)

    return step


def measure_openssl(csr: x509.CertificateSigningRequest, count: int) -> tuple[Result, x509.Certificate]:
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as work:
        folder = make_cas(Path(work)).folder
        csr_path = Path(work) / "bench.csr.pem"
        csr_path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        (folder / "out").mkdir()
        result = timed("`openssl ca -batch`, one process each", count, openssl_step(folder, csr_path))
        issued = len(open_ca(folder).entries())
        if issued != count + WARMUP:
            raise RuntimeError(f"openssl ca recorded {issued} certificates, expected {count + WARMUP}")
        sample = x509.load_pem_x509_certificate(_pem_block((folder / "out" / f"{WARMUP}.pem").read_bytes()))
    return result, sample


def _pem_block(data: bytes) -> bytes:
    """``openssl ca`` writes a text dump before the PEM block unless ``-notext``."""
    return data[data.index(b"-----BEGIN CERTIFICATE-----"):]


# -- report -------------------------------------------------------------------------------------------------------


def extension_names(cert: x509.Certificate) -> list[str]:
    return sorted(ext.oid.dotted_string for ext in cert.extensions)


def check_same_extensions(samples: dict[str, x509.Certificate]) -> None:
    """Warn when the three methods did not issue the same kind of certificate (the comparison would be unfair)."""
    reference = extension_names(samples["labkit"])
    for method, cert in samples.items():
        if extension_names(cert) != reference:
            print(f"note: {method} issued extensions {extension_names(cert)}, labkit {reference}", file=sys.stderr)


def _median(samples: list):
    """The middle run by rate (samples are Results, or (Result, certificate) pairs)."""
    ordered = sorted(samples, key=lambda sample: (sample[0] if isinstance(sample, tuple) else sample).rate)
    return ordered[len(ordered) // 2]


def table(results: list[Result]) -> str:
    labkit = results[0].rate
    lines = ["| method | certificates | seconds | certificates/second | ratio to labkit |",
             "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.method} | {r.count} | {r.seconds:.2f} | {r.rate:.1f} | {r.rate / labkit:.2f}x |")
    return "\n".join(lines)


def goals(labkits: list[Result], builder: Result, openssl: Result) -> str:
    lines = []
    for labkit in labkits:
        over_openssl, over_builder = labkit.rate / openssl.rate, labkit.rate / builder.rate
        lines += [
            f"- Goal: {labkit.method} >= {GOAL_OPENSSL:g}x the per-process openssl ca loop: "
            f"{_met(over_openssl >= GOAL_OPENSSL)} ({over_openssl:.1f}x)",
            f"- Goal: {labkit.method} >= {GOAL_BUILDER:g}x the bare builder: {_met(over_builder >= GOAL_BUILDER)} "
            f"({over_builder:.2f}x)",
        ]
    return "\n".join(lines)


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def update_readme(readme: Path, result: str) -> bool:
    """Replace the text between the bench:ca markers; False (and no write) when the markers are missing."""
    text = readme.read_text()
    if not MARKERS.search(text):
        return False
    readme.write_text(MARKERS.sub(lambda m: m.group(1) + result + m.group(2), text))
    return True


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help=f"certificates for labkit and the bare builder ({DEFAULT_N})")
    parser.add_argument("--n-openssl", type=int, help=f"certificates for the openssl ca loop ({DEFAULT_N_OPENSSL})")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_N} and {QUICK_N_OPENSSL}")
    parser.add_argument("--repeat", type=int, default=3, help="runs of everything; the median is reported (3)")
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = QUICK_N if args.quick else DEFAULT_N
    if args.n_openssl is None:
        args.n_openssl = QUICK_N_OPENSSL if args.quick else DEFAULT_N_OPENSSL
    if args.n < 1 or args.n_openssl < 1 or args.repeat < 1:
        parser.error("--n, --n-openssl and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    csr = bench_request()
    runs = [(measure_labkit(csr, args.n), measure_labkit_batch(csr, args.n), measure_builder(csr, args.n),
             measure_openssl(csr, args.n_openssl)) for _ in range(args.repeat)]
    (labkit, labkit_cert), batch, (builder, builder_cert), (openssl, openssl_cert) = (
        _median([run[i] for run in runs]) for i in range(4))
    check_same_extensions({"labkit": labkit_cert, "bare builder": builder_cert, "openssl ca": openssl_cert})
    result = table([labkit, batch, builder, openssl]) + "\n\n" + goals([labkit, batch], builder, openssl)
    print(result)
    if args.update_readme and not update_readme(ROOT / "README.md", result):
        print("note: README.md has no <!-- bench:ca --> ... <!-- /bench:ca --> markers; left unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
