"""The lab's OCSP responder under load and misuse (guide chapter 8's servers, issue 16).

    python benchmarks/servers.py [--clients 10] [--requests 2000] [--idle 50] [--hold 20] [--update-readme]

1. ``--requests`` OCSP queries (POST, a real signed answer each) from ``--clients`` threads at once: throughput,
   median and 95th-percentile latency, errors.
2. ``--idle`` connections that send nothing, held ``--hold`` seconds: whether the server closes them
   (``labkit.httpd.READ_TIMEOUT``), and how long a real query takes while they are open (workers are bounded by
   ``labkit.httpd.MAX_WORKERS``, so a flood of silent clients delays real ones by at most the read timeout).

Reported, never asserted in tests.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from labkit import httpd, lab
from labkit.ca import init_ca
from labkit.revocation import OcspServer, query
from labkit.x509.certs import CertSpec, request

ROOT = Path(__file__).resolve().parent.parent


def load(server: OcspServer, leaf, issuer, clients: int, total: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(count: int) -> None:
        nonlocal errors
        for _ in range(count):
            started = time.perf_counter()
            try:
                answer = query(server.url, leaf, issuer, timeout=30)
                ok = answer.status == "good"
            except Exception:  # noqa: BLE001 - a benchmark counts every failure
                ok = False
            with lock:
                latencies.append(time.perf_counter() - started)
                errors += 0 if ok else 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(total // clients,)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, errors


def idle_flood(server: OcspServer, leaf, issuer, idle: int, hold: float) -> tuple[int, float, float]:
    """Open ``idle`` silent connections; return how many the server closed within ``hold`` s, when the last one
    was closed, and how long a real query took meanwhile."""
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=hold + 5) for _ in range(idle)]
    closed_at: list[float] = []
    started = time.perf_counter()

    def watch(sock: socket.socket) -> None:
        try:
            if sock.recv(1) == b"":
                closed_at.append(time.perf_counter() - started)
        except OSError:
            pass

    watchers = [threading.Thread(target=watch, args=(s,), daemon=True) for s in sockets]
    for thread in watchers:
        thread.start()
    real_started = time.perf_counter()
    query(server.url, leaf, issuer, timeout=hold + 5)
    real = time.perf_counter() - real_started
    for thread in watchers:
        thread.join(timeout=max(0.0, hold - (time.perf_counter() - started)))
    for sock in sockets:
        sock.close()
    return len(closed_at), max(closed_at, default=float("nan")), real


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--idle", type=int, default=50)
    parser.add_argument("--hold", type=float, default=20.0)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ca = init_ca(Path(folder) / "ca", "Bench CA", key=lab.fixture_key("issuing-ca"))
        leaf = ca.sign(request(CertSpec("expe.lab.example"), lab.fixture_key("expe-1")), "client-server")
        with OcspServer(ca) as server:
            seconds, latencies, errors = load(server, leaf, ca.certificate, args.clients, args.requests)
            closed, last_closed, real = idle_flood(server, leaf, ca.certificate, args.idle, args.hold)
    quantiles = statistics.quantiles(latencies, n=20)
    rows = [
        "| measurement | value |", "|---|---:|",
        f"| OCSP queries from {args.clients} clients at once | {len(latencies):,} |",
        f"| errors | {errors} |",
        f"| throughput | {len(latencies) / seconds:,.0f} queries/s |",
        f"| latency, median / 95th percentile | {statistics.median(latencies) * 1000:.1f} / "
        f"{quantiles[18] * 1000:.1f} ms |",
        f"| silent connections opened and held {args.hold:g} s | {args.idle} |",
        f"| of those closed by the server (read timeout {httpd.READ_TIMEOUT:g} s) | {closed} |",
        f"| the last one closed after | {last_closed:.1f} s |",
        f"| a real query while they were open ({httpd.MAX_WORKERS} workers) | {real * 1000:.0f} ms |",
    ]
    result = "\n".join(rows)
    print(result)
    if args.update_readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        pattern = re.compile(r"(<!-- bench:servers -->\n).*?(\n<!-- /bench:servers -->)", re.S)
        if pattern.search(text):
            readme.write_text(pattern.sub(lambda m: m.group(1) + result + m.group(2), text))
        else:
            print("note: README.md has no bench:servers markers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
