"""A simulated class on the real classroom hub: N trainees log in, spawn, run notebook 05 and pass one exercise.

    python benchmarks/classroom.py [--trainees 10] [--stagger 1.0] [--update-readme]     (as root)

The hub is ``classroom/jupyterhub_config.py`` on free ports of 127.0.0.1, with N throw-away system users and one
instructor (all removed at the end). Trainees arrive ``--stagger`` seconds apart, as a class logging in; each logs in
on the hub's login page, spawns a server, runs every code cell of ``05-openssl-ca.ipynb`` in a kernel through the
hub, starts the revocation lab's CRL and OCSP servers and a Pebble (the lab servers of notebooks 07 and 08), and
passes exercise 05.1 with the reference solution's cell. Meanwhile the instructor's class table is read every
0.1 s. Reported (goals are reported, never asserted): spawn time, notebook time, memory per trainee (server, kernel
and lab servers; PSS, so shared pages are divided among the processes sharing them, and RSS), the hub's own memory
(hub, proxy, class service, culler), and how long after a check the class table shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from labkit.classroom import accounts
from labkit.classroom.drive import LocalHub, Member

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "05-openssl-ca.ipynb"
SOLUTION = next(c.source for c in nbformat.read(ROOT / "notebooks" / "solutions" / "05-openssl-ca-solutions.ipynb",
                                                as_version=4).cells
                if c.cell_type == "code" and 'check("05.1"' in c.source)
LAB_SERVERS = """
from labkit import lab
from labkit.chapters.ch07_crl_checks import RevocationLab
from labkit.acme.pebble import Pebble, pebble_available
rlab = RevocationLab(lab.workdir("bench-07", fresh=True)).start()
pebble = Pebble().start() if pebble_available() else None
"""
GOALS = {"spawn median (s)": 5.0, "memory per trainee (MB, PSS)": 300.0, "class table current after a check (s)": 2.0}


def cpu_seconds(pids) -> float:
    """User and system CPU time of ``pids`` and of their children that ended (openssl runs of the notebook)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    return total / ticks


def memory_mb(pids) -> tuple[float, float]:
    """(PSS, RSS) in MB summed over ``pids`` (processes that ended meanwhile count 0)."""
    pss = rss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024, rss / 1024


class TableWatcher(threading.Thread):
    """Reads the class table every 0.1 s as the instructor; remembers when each trainee's 05.1 first shows PASS."""

    def __init__(self, instructor: Member):
        super().__init__(daemon=True)
        self.instructor, self.first_pass, self.stopped = instructor, {}, threading.Event()
        self.request_times: list[float] = []

    def run(self) -> None:
        while not self.stopped.is_set():
            started = time.monotonic()
            answer = self.instructor.service("GET", "api/class")
            now = time.monotonic()
            self.request_times.append(now - started)
            if answer.status_code == 200:
                table = answer.json()
                if "05.1" in table["exercises"]:
                    column = table["exercises"].index("05.1")
                    for row in table["rows"]:
                        if row["statuses"][column] == "PASS":
                            self.first_pass.setdefault(row["trainee"], now)
            self.stopped.wait(0.1)


def trainee(hub: LocalHub, name: str, delay: float) -> dict:
    time.sleep(delay)
    member = Member(hub.url, name, hub.passwords[name])
    started = time.monotonic()
    member.login()
    login = time.monotonic() - started
    spawn = member.spawn()
    kernel = member.kernel()
    started = time.monotonic()
    ran = member.run_notebook(NOTEBOOK, kernel)
    notebook = time.monotonic() - started
    errors = [out.error for _, out in ran if out.error]
    servers = kernel.execute(LAB_SERVERS)
    out = kernel.execute(SOLUTION)
    checked = time.monotonic()
    if "PASS [05.1]" not in out.text:
        errors.append(f"05.1 did not pass: {out.text[:200]} {out.error}")
    if servers.error:
        errors.append(servers.error)
    return {"name": name, "login": login, "spawn": spawn, "notebook": notebook, "checked": checked,
            "errors": errors, "member": member, "kernel": kernel}


def run(trainees: int, stagger: float) -> dict:
    hub = LocalHub([f"t{i:02d}" for i in range(1, trainees + 1)], ["i1"])
    try:
        started = time.monotonic()
        hub.start()
        hub_start = time.monotonic() - started
        instructor = Member(hub.url, hub.instructors[0], hub.passwords[hub.instructors[0]]).login()
        alone = instructor.spawn()  # one server starting on an otherwise idle machine: the floor
        watcher = TableWatcher(instructor)
        watcher.start()
        with ThreadPoolExecutor(trainees) as pool:
            results = list(pool.map(lambda item: trainee(hub, item[1], item[0] * stagger),
                                    enumerate(hub.trainees)))
        last_check = max(r["checked"] for r in results)
        deadline = time.monotonic() + 30
        while len(watcher.first_pass) < trainees and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.stopped.set()
        watcher.join()
        per_trainee, cpu = [], []
        for name in hub.trainees:
            pids = accounts.user_processes(pwd.getpwnam(name).pw_uid)
            per_trainee.append(memory_mb(pids))
            cpu.append(cpu_seconds(pids))
        hub_pids = hub.processes() - hub.user_processes()
        hub_memory = memory_mb(hub_pids)
        # The kernel sends its result while the driver is still receiving the cell's output: clamp at 0.
        latencies = [max(0.0, watcher.first_pass[r["name"]] - r["checked"]) for r in results
                     if r["name"] in watcher.first_pass]
        return {
            "trainees": trainees, "stagger": stagger, "hub_start": hub_start, "alone": alone, "cpu": cpu,
            "errors": [e for r in results for e in r["errors"]],
            "spawn": [r["spawn"] for r in results], "notebook": [r["notebook"] for r in results],
            "login": [r["login"] for r in results],
            "pss": [m[0] for m in per_trainee], "rss": [m[1] for m in per_trainee],
            "hub_pss": hub_memory[0], "hub_rss": hub_memory[1], "hub_processes": len(hub_pids),
            "latency": latencies, "shown_all": len(watcher.first_pass) == trainees,
            "all_shown_after_last_check": max(0.0, max(watcher.first_pass.values()) - last_check)
            if watcher.first_pass else float("nan"),
            "table_request": statistics.median(watcher.request_times) if watcher.request_times else float("nan"),
            "load": os.getloadavg(),
        }
    finally:
        hub.stop()
        hub.close()


def report(m: dict) -> str:
    spawn_median = statistics.median(m["spawn"])
    pss_mean = statistics.mean(m["pss"])
    latency_worst = max(m["latency"]) if m["latency"] else float("nan")
    rows = [
        ("trainees (arriving every s)", f"{m['trainees']} ({m['stagger']:g})"),
        ("hub start (hub, proxy, class service, culler)", f"{m['hub_start']:.1f} s"),
        ("login (median)", f"{statistics.median(m['login']):.2f} s"),
        ("spawn, one server alone on the machine", f"{m['alone']:.1f} s"),
        ("spawn during the class's arrival: median / worst", f"{spawn_median:.1f} / {max(m['spawn']):.1f} s"),
        ("notebook 05 through the hub: median / worst", f"{statistics.median(m['notebook']):.1f} / "
                                                        f"{max(m['notebook']):.1f} s"),
        ("CPU per trainee (spawn, notebook 05, lab servers): mean", f"{statistics.mean(m['cpu']):.1f} s"),
        ("memory per trainee, PSS: mean / worst", f"{pss_mean:.0f} / {max(m['pss']):.0f} MB"),
        ("memory per trainee, RSS: mean / worst", f"{statistics.mean(m['rss']):.0f} / {max(m['rss']):.0f} MB"),
        ("hub's own memory, PSS (RSS)", f"{m['hub_pss']:.0f} MB ({m['hub_rss']:.0f} MB, "
                                        f"{m['hub_processes']} processes)"),
        ("class table shows a check after: median / worst", f"{statistics.median(m['latency']):.2f} / "
                                                            f"{latency_worst:.2f} s"),
        ("class table shows all N, after the last check", f"{m['all_shown_after_last_check']:.2f} s"),
        ("one class table request (median)", f"{m['table_request'] * 1000:.0f} ms"),
        ("load average during the run (1, 5, 15 min)", " / ".join(f"{x:.1f}" for x in m["load"])),
    ]
    lines = ["| measurement | value |", "|---|---:|"] + [f"| {a} | {b} |" for a, b in rows]
    lines.append("")
    for goal, limit in GOALS.items():
        value = {"spawn median (s)": spawn_median, "memory per trainee (MB, PSS)": pss_mean,
                 "class table current after a check (s)": latency_worst}[goal]
        lines.append(f"- Goal: {goal} under {limit:g}: {'met' if value < limit else 'NOT met'} ({value:.2f})")
    if m["errors"]:
        lines.append(f"- Errors: {len(m['errors'])} ({m['errors'][0][:120]})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=10)
    parser.add_argument("--stagger", type=float, default=1.0, help="seconds between two trainees' arrivals")
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--json", action="store_true", help="also print the raw measurements")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/classroom.py: skipped, it needs root (each trainee is a system user)", file=sys.stderr)
        return 0
    measured = run(args.trainees, args.stagger)
    result = report(measured)
    print(result)
    if args.json:
        print(json.dumps({k: v for k, v in measured.items()}, indent=1, default=str))
    if args.update_readme:
        readme = ROOT / "README.md"
        text = re.sub(r"(<!-- bench:classroom -->\n).*?(<!-- /bench:classroom -->)",
                      lambda match: match.group(1) + result + "\n" + match.group(2), readme.read_text(), flags=re.S)
        readme.write_text(text)
    return 0 if not measured["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
