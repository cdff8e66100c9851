"""Wall time and kernel peak memory of every notebook, each run in a fresh kernel (``make bench``).

    python benchmarks/notebooks.py [--update-readme] [notebooks ...]

Goals (reported, never asserted in tests): every notebook under 10 s and its kernel under 250 MB peak, so a class of
30 shares one Binder or JupyterHub node. Peak memory is the kernel process's VmHWM from /proc.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS, GOAL_MB = 10.0, 250.0


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(path: Path) -> tuple[float, float]:
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as work:
        client = NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(path.parent)}})
        os.environ["LABKIT_WORKDIR"] = work
        started = time.perf_counter()
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            elapsed = time.perf_counter() - started
            peak = _peak_mb(client.km.provisioner.process.pid)
    return elapsed, peak


def table(rows: list[tuple[str, float, float]]) -> str:
    lines = ["| notebook | wall time (s) | kernel peak (MB) | goals met |", "|---|---:|---:|---|"]
    for name, seconds, peak in rows:
        ok = "yes" if seconds < GOAL_SECONDS and peak < GOAL_MB else "NO"
        lines.append(f"| `{name}` | {seconds:.1f} | {peak:.0f} | {ok} |")
    total = sum(r[1] for r in rows)
    lines.append(f"| **whole suite** | {total:.1f} | {max(r[2] for r in rows):.0f} (max) | |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").rglob("*.ipynb"))
    rows = []
    for path in paths:
        if ".ipynb_checkpoints" in path.parts:
            continue
        seconds, peak = measure(path)
        name = str(path.relative_to(ROOT / "notebooks"))
        rows.append((name, seconds, peak))
        print(f"{name}: {seconds:.1f} s, {peak:.0f} MB", file=sys.stderr, flush=True)
    result = table(rows)
    print(result)
    if args.update_readme:
        readme = ROOT / "README.md"
        text = re.sub(r"(<!-- bench:notebooks -->\n).*?(\n<!-- /bench:notebooks -->)",
                      lambda m: m.group(1) + result + m.group(2), readme.read_text(), flags=re.S)
        readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
