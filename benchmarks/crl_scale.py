"""A CRL of 100,000 entries: how long it takes to build, how big it is, and how fast a node checks serials.

    python benchmarks/crl_scale.py [--entries N] [--lookups M] [--update-readme]

Measured: building and signing a CRL of N revoked serials (labkit's ``bulk_crl``, which hands the builder the
whole list; and, for a smaller N, cryptography's ``add_revoked_certificate`` one entry at a time, which copies the
list each time), the DER size, and lookups per second with labkit's ``is_revoked`` (a set built once per CRL)
against cryptography's ``get_revoked_certificate_by_serial_number`` (a scan per call). Reported, never asserted.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from labkit import lab
from labkit.revocation.crl import bulk_crl, is_revoked
from labkit.x509.pki import lab_chain

ROOT = Path(__file__).resolve().parent.parent


def one_by_one(issuer, key, serials):
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject).last_update(lab.now())
               .next_update(lab.now()))
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(lab.now()).build())
    return builder.sign(key, hashes.SHA256())


def rate(check, serials) -> float:
    started = time.perf_counter()
    for serial in serials:
        check(serial)
    return len(serials) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    issuer = lab_chain().intermediate
    serials = range(0x100000, 0x100000 + args.entries)
    started = time.perf_counter()
    crl = bulk_crl(issuer.certificate, issuer.key, serials)
    build = time.perf_counter() - started
    size = len(crl.public_bytes(serialization.Encoding.DER))
    small = min(args.entries, 30_000)
    started = time.perf_counter()
    one_by_one(issuer.certificate, issuer.key, range(1, small + 1))
    slow = time.perf_counter() - started
    probe = [random.Random(1).randrange(0x100000, 0x100000 + 2 * args.entries) for _ in range(args.lookups)]
    started = time.perf_counter()
    is_revoked(crl, 0)  # builds the index
    index = time.perf_counter() - started
    ours = rate(lambda s: is_revoked(crl, s), probe)
    theirs = rate(lambda s: crl.get_revoked_certificate_by_serial_number(s), probe[:300])
    rows = [
        "| measurement | value |", "|---|---:|",
        f"| build and sign a CRL of {args.entries:,} entries (labkit `bulk_crl`) | {build:.2f} s |",
        f"| the same for {small:,} entries, one `add_revoked_certificate` at a time | {slow:.2f} s |",
        f"| DER size | {size / 1e6:.1f} MB |",
        f"| labkit `is_revoked` index build (once per CRL) | {index * 1000:.0f} ms |",
        f"| lookups per second, labkit `is_revoked` | {ours:,.0f} |",
        f"| lookups per second, cryptography `get_revoked_certificate_by_serial_number` | {theirs:,.0f} |",
        f"| ratio | {ours / theirs:,.0f}x |",
    ]
    result = "\n".join(rows)
    print(result)
    if args.update_readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        pattern = re.compile(r"(<!-- bench:crl -->\n).*?(\n<!-- /bench:crl -->)", re.S)
        if pattern.search(text):
            readme.write_text(pattern.sub(lambda m: m.group(1) + result + m.group(2), text))
        else:
            print("note: README.md has no bench:crl markers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
