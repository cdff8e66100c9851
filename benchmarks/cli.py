"""How fast the ``labkit`` command starts, beside the ``openssl`` command doing the same job.

    python benchmarks/cli.py [--repeat N] [--update-readme]

Each command runs N times as a fresh process (median and best wall time): ``labkit --version`` against
``openssl version``, ``labkit decode`` against ``openssl x509 -text -noout``, and ``labkit doctor`` against the same
OpenSSL command (OpenSSL has no doctor; decoding is the closest step). Goal, reported and never asserted in tests:
labkit within 3x OpenSSL.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABKIT = str(Path(sys.executable).with_name("labkit"))
GOAL = 3.0


def timed(argv: list[str], repeat: int) -> tuple[float, float]:
    """Median and best wall time (seconds) of ``repeat`` runs of ``argv``, after one warm-up run."""
    subprocess.run(argv, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    from labkit.x509.pki import lab_chain

    with tempfile.TemporaryDirectory() as folder:
        cert = Path(folder) / "server.pem"
        cert.write_bytes(lab_chain().server.cert_pem())
        pairs = [
            ("--version", [LABKIT, "--version"], ["openssl", "version"]),
            ("decode", [LABKIT, "decode", str(cert)], ["openssl", "x509", "-in", str(cert), "-text", "-noout"]),
            ("doctor", [LABKIT, "doctor", str(cert), "--at", "2026-01-05T09:00:00Z"],
             ["openssl", "x509", "-in", str(cert), "-text", "-noout"]),
        ]
        rows = ["| command | labkit median (ms) | labkit best (ms) | openssl median (ms) | ratio | within 3x |",
                "|---|---:|---:|---:|---:|---|"]
        for name, ours, theirs in pairs:
            median, best = timed(ours, args.repeat)
            reference, _ = timed(theirs, args.repeat)
            ratio = median / reference
            rows.append(f"| `labkit {name}` vs `{' '.join(theirs[:2])}` | {median * 1000:.0f} | {best * 1000:.0f} | "
                        f"{reference * 1000:.0f} | {ratio:.1f}x | {'yes' if ratio <= GOAL else 'no'} |")
    result = "\n".join(rows)
    print(result)
    if args.update_readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        pattern = re.compile(r"(<!-- bench:cli -->\n).*?(\n<!-- /bench:cli -->)", re.S)
        if pattern.search(text):
            readme.write_text(pattern.sub(lambda m: m.group(1) + result + m.group(2), text))
        else:
            print("note: README.md has no bench:cli markers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
