#!/usr/bin/env python3
"""Runs issue 13's benchmarks from a clean checkout and writes their figures: one JSON file and a table.

It builds its virtualenv (target/bench-venv from tests/bench/requirements.txt: pytest, pytest-xdist, pandas) and
the release binary, then runs the cases asked for. Each case times every tool side by side in the same run, in
rounds whose order rotates, and reports medians and ratios; the load average is recorded with every figure.

  1 overhead   10 000 and 30 000 trivial tests, whole suite and every id selected: python -m pytest vs pytestd
               (overhead.py)
  2 warm       rerun of one test: cold python -m pytest vs pytestd's warm template, trivial and pandas projects
               (warm.py)
  3 shards     400 x 25 ms sleeping tests, and a skewed layout: serial, pytest -n 4, pytestd shards=4 (shards.py)
  4 cpu        CPU-bound tests on every core: pytest -n <cores> vs pytestd shards=<cores> (shards.py)
  5 memory     the daemon's memory idle and streaming 100 000 results (memory.py); cancelRun latency with 1000
               runs pending (cancel_latency.py)
  6 discovery  discoverTests of 50 000 tests vs pytest --collect-only -q (discovery.py)

Usage: python3 tests/bench/run.py [--case 1,2,3,4,5,6 | overhead,warm,...] [--rounds 5] [--quick]
                                  [--json target/bench/results.json] [--no-build] [--pytestd PATH] [--python PY]
--quick runs smaller suites and 3 rounds, to check the harness, not to quote. Benchmarks never run in CI.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cancel_latency  # noqa: E402
import discovery  # noqa: E402
import memory  # noqa: E402
import overhead  # noqa: E402
from common import REPO, load, machine  # noqa: E402

CASES = ["overhead", "warm", "shards", "cpu", "memory", "discovery"]
# Issue 13's targets: (case, figure path in the JSON, limit, what the figure is).
TARGETS = [
    ("overhead", ("30000", "vs_plain", "whole"), 1.02, "30 000 tests, whole suite, every result streamed"),
    ("overhead", ("30000", "vs_plain", "select"), 1.05, "30 000 tests, every id selected"),
    ("warm", ("trivial", "warm_vs_cold"), 0.2, "warm rerun vs cold pytest, trivial project"),
    ("warm", ("heavy", "warm_vs_cold"), 0.2, "warm rerun vs cold pytest, pandas project"),
    ("shards", ("sleep",), 0.8, "shards=4 vs pytest -n 4, 400 x 25 ms sleep"),
    ("shards", ("skewed",), 0.8, "shards=4 vs pytest -n 4, skewed layout"),
    ("cpu", ("cpu",), 1.0, "shards=cores vs pytest -n cores, CPU-bound"),
    ("memory", ("cancel", "worst_ms"), 10.0, "worst cancelRun (ms) with 1000 runs pending"),
    ("discovery", ("vs_collect", "discover"), 1.05, "discoverTests vs pytest --collect-only -q, 50 000 tests"),
]


def log(line):
    print(line, flush=True)


def bench_python():
    out = subprocess.run(["bash", os.path.join(REPO, "tests", "venv.sh"), "target/bench-venv",
                          "tests/bench/requirements.txt"], cwd=REPO, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def build():
    log("building the release binary (cargo build --release)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    return os.path.join(REPO, "target", "release", "pytestd")


def run_overhead(a):
    sizes = [3000] if a.quick else [10000, 30000]
    return {str(n): overhead.measure(a.pytestd, a.python, n, a.rounds, log=log) for n in sizes}


def run_warm(a):
    script = os.path.join(HERE, "warm.py")
    if not os.path.exists(script):
        return {"skipped": "tests/bench/warm.py is not there yet"}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, script, "--rounds", str(a.rounds), "--json", out.name,
                        "--pytestd", a.pytestd, "--python", a.python], check=True)
        figures = json.load(open(out.name))
    return {p["project"]: p for p in figures["projects"]} | {"load": figures.get("load")}


def run_shards(a, suites):
    script = os.path.join(HERE, "shards.py")
    if not os.path.exists(script):
        return {"skipped": "tests/bench/shards.py is not there yet"}
    out = subprocess.run([sys.executable, script, "--rounds", str(a.rounds), "--suites", ",".join(suites),
                          "--pytestd", a.pytestd, "--python", a.python], check=True, capture_output=True, text=True)
    print(out.stdout, end="", flush=True)
    lines = out.stdout.strip().splitlines()
    # shards.py ends with one JSON line of its ratios against xdist; the table above it is kept as it printed it.
    figures = json.loads(lines[-1])
    figures["report"] = lines[:-1]
    return figures


def run_memory(a):
    figures = memory.measure(a.pytestd, a.python, 20000 if a.quick else 100000, log=log)
    pending, cancels = (200, 50) if a.quick else (1000, 200)
    figures["cancel"] = cancel_latency.measure(a.pytestd, a.python, pending, cancels)
    c = figures["cancel"]
    log("  cancelRun with %d pending: median %.2f ms, p99 %.2f ms, worst %.2f ms; %d of %d runTests answered" % (
        c["pending"], c["median_ms"], c["p99_ms"], c["worst_ms"], c["answered"], c["requests"]))
    return figures


def run_discovery(a):
    return discovery.measure(a.pytestd, a.python, 10000 if a.quick else 50000, a.rounds, log=log)


def lookup(figures, path):
    for key in path:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures


def table(results):
    rows = []
    for case, path, limit, what in TARGETS:
        value = lookup(results["cases"].get(case), path)
        if value is None:
            verdict = "not measured"
        else:
            verdict = "met" if value <= limit else "missed by %.0f%%" % ((value / limit - 1) * 100)
        rows.append({"case": case, "what": what, "value": value, "target": limit, "verdict": verdict})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default=",".join(CASES),
                        help="cases by number or name, comma-separated (default: all)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per case (default 5, 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small suites: checks the harness, not for quoting")
    parser.add_argument("--json", default=os.path.join(REPO, "target", "bench", "results.json"))
    parser.add_argument("--no-build", action="store_true", help="use target/release/pytestd as it is")
    parser.add_argument("--pytestd", help="the binary to measure (default: build target/release/pytestd)")
    parser.add_argument("--python", help="an interpreter with the bench requirements (default: target/bench-venv)")
    a = parser.parse_args()
    a.rounds = a.rounds or (3 if a.quick else 5)
    wanted = []
    for name in a.case.split(","):
        name = name.strip()
        name = CASES[int(name) - 1] if re.fullmatch(r"[1-6]", name) else name
        if name not in CASES:
            parser.error("unknown case %r (cases: %s)" % (name, ", ".join(CASES)))
        wanted.append(name)
    a.python = a.python or bench_python()
    if not a.pytestd:
        a.pytestd = os.path.join(REPO, "target", "release", "pytestd") if a.no_build else build()
    results = {"machine": machine(a.python, a.pytestd), "quick": a.quick, "rounds": a.rounds,
               "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load(), "cases": {}}
    m = results["machine"]
    log("machine: %s cores, %s, %s GiB; Python %s, pytest %s; %s (%s); load %.2f" % (
        m.get("cores"), m.get("cpu"), m.get("ram_gib"), m.get("python"), m.get("pytest"), m.get("pytestd"),
        m.get("commit"), results["load_before"]))
    runners = {
        "overhead": run_overhead,
        "warm": run_warm,
        "shards": lambda a: run_shards(a, ["sleep", "skewed"]),
        "cpu": lambda a: run_shards(a, ["cpu"]),
        "memory": run_memory,
        "discovery": run_discovery,
    }
    for case in wanted:
        log("== case %d: %s (load %.2f)" % (CASES.index(case) + 1, case, load()))
        started = time.perf_counter()
        try:
            results["cases"][case] = runners[case](a)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - one broken case must not lose the others' figures
            log("  case %s failed: %s" % (case, exc))
            results["cases"][case] = {"error": str(exc)}
        results["cases"][case]["case_seconds"] = time.perf_counter() - started
        results["cases"][case]["load_after"] = load()
    results["load_after"] = load()
    results["targets"] = table(results)
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(results, f, indent=2)
    log("\n%-10s %-58s %9s %7s  %s" % ("case", "figure", "value", "target", "verdict"))
    for row in results["targets"]:
        value = "-" if row["value"] is None else "%.3f" % row["value"]
        log("%-10s %-58s %9s %7s  %s" % (row["case"], row["what"], value, row["target"], row["verdict"]))
    log("load %.2f before, %.2f after; figures in %s" % (results["load_before"], results["load_after"], a.json))


if __name__ == "__main__":
    main()
