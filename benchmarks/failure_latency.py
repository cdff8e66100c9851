"""How quickly failures are reported and servers stop: the waits a trainee or an administrator sits through.

    python benchmarks/failure_latency.py [--repeat N] [--update-readme]

Measured (median and worst of N): an OCSP query to a port where nothing listens (refused at once), an OCSP query to
a server that accepts the connection and never answers (ended by the query's timeout, 0.3 s here), and stopping the
lab's OCSP and CRL servers (the port closed and the thread ended). Goals, reported and never asserted in tests:
a refusal under 1 s, a silent responder under its timeout plus 1 s, a server stop under 1 s.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from labkit import InputError, lab
from labkit.ca import init_ca
from labkit.httpd import free_port
from labkit.revocation import CrlServer, OcspServer, query
from labkit.x509.certs import CertSpec, request

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 0.3  # seconds: the silent responder's query timeout


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def refused(call) -> None:
    try:
        call()
    except InputError:
        return
    raise SystemExit("expected the query to fail")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = init_ca(Path(folder) / "root", "Bench Root", key=lab.fixture_key("root-ca"))
        leaf = root.sign(request(CertSpec("expe.lab.example"), lab.fixture_key("expe-1")), "client-server")
        samples: dict[str, list[float]] = {"OCSP query, nothing listening": [],
                                           f"OCSP query, silent responder (timeout {TIMEOUT} s)": [],
                                           "OCSP server stop": [], "CRL server stop": []}
        names = list(samples)
        for _ in range(args.repeat):
            down = f"http://127.0.0.1:{free_port()}/"
            samples[names[0]].append(timed(lambda u=down: refused(lambda: query(u, leaf, root.certificate))))
            with socket.socket() as silent:
                silent.bind(("127.0.0.1", 0))
                silent.listen(1)
                url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
                samples[names[1]].append(timed(lambda u=url: refused(
                    lambda: query(u, leaf, root.certificate, timeout=TIMEOUT))))
            for name, server in ((names[2], OcspServer(root)), (names[3], CrlServer(root))):
                server.start()
                samples[name].append(timed(server.stop))
    goals = {names[0]: 1.0, names[1]: TIMEOUT + 1.0, names[2]: 1.0, names[3]: 1.0}
    rows = ["| measurement | median (ms) | worst (ms) | goal | met |", "|---|---:|---:|---:|---|"]
    for name, values in samples.items():
        worst = max(values)
        rows.append(f"| {name} | {statistics.median(values) * 1000:.1f} | {worst * 1000:.1f} | "
                    f"< {goals[name]:.1f} s | {'yes' if worst < goals[name] else 'NO'} |")
    result = "\n".join(rows)
    print(result)
    if args.update_readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        pattern = re.compile(r"(<!-- bench:latency -->\n).*?(\n<!-- /bench:latency -->)", re.S)
        if pattern.search(text):
            readme.write_text(pattern.sub(lambda m: m.group(1) + result + m.group(2), text))
        else:
            print("note: README.md has no bench:latency markers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
