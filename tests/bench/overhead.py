#!/usr/bin/env python3
"""Measures what running through pytestd costs over plain pytest, on a generated suite of trivial tests (issue 13's
case 1).

Scenarios, each timed in rounds against plain `python -m pytest -q` (its output to a pipe that is read, as pytestd
reads it) in the same run, in an order that rotates every round (medians reported). The suite's pytest.ini adds
`-p no:cacheprovider` for both sides (no .pytest_cache written between rounds); it sits in the ini file rather than
on the command line because a run whose arguments choose plugins is never forked from a warm template.
  plain          - python -m pytest
  whole          - runTests of the whole suite, pytest started cold (`warm: false`): every result streamed as a
                   notification and parsed by this client, then the response, as the editors ask for it
                   (`results: "summary"`: counts, no second copy of the results). This is the result path the 2%
                   target is about.
  select         - the same with every test id listed in `testIds` (target: within 5%)
  whole-full     - whole with `results: "full"` (the protocol's default for scripts): what a response repeating
                   every result costs
  whole-warm     - whole as the daemon runs it by default: forked from the project's warm template (every timed run
                   is checked to have been forked)

Usage: python3 tests/bench/overhead.py [--tests 30000] [--rounds 5] [--scenarios whole,select] [--pytestd PATH]
       [--python PY]
Targets (issue 13): whole <= 1.02x plain at 30 000 tests, select <= 1.05x.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Re-exported: the other benchmarks import the client and the shared options from here.
from common import PYTEST_ARGS, Daemon, add_binary_args, load, make_suite, median, rounds  # noqa: E402,F401

ARGS = ["-q"]
INI = "[pytest]\naddopts = -p no:cacheprovider\n"

SCENARIOS = ("plain", "whole", "select", "whole-full", "whole-warm")


def time_plain(python, root):
    started = time.perf_counter()
    subprocess.run([python, "-m", "pytest"] + ARGS, cwd=root, stdout=subprocess.PIPE, check=False)
    return time.perf_counter() - started


def time_pytestd(daemon, root, expected, ids=None, warm=False, summary=True, check_start=True):
    params = {"cwd": root, "args": ARGS, "warm": warm}
    if ids is not None:
        params["testIds"] = ids
    if summary:
        params["results"] = "summary"
    forked = []
    started = time.perf_counter()
    msg, streamed = daemon.request("runTests", params, on_message=lambda m: forked.append(
        bool(m["params"].get("warm"))) if m.get("method") == "runStarted" else None)
    elapsed = time.perf_counter() - started
    result = msg.get("result") or {}
    if result.get("summary", {}).get("passed") != expected or streamed != expected:
        raise SystemExit("pytestd run was incomplete: %s passed, %d streamed" % (result.get("summary"), streamed))
    if check_start and forked != [warm]:
        raise SystemExit("a run asked %s a warm start was %s" % ("for" if warm else "without", forked))
    return elapsed


def wait_for_template(daemon, root, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        reply, _ = daemon.request("listRuns", {})
        for template in (reply.get("result") or {}).get("templates", []):
            if template.get("cwd") == root and template.get("state") == "ready":
                return
        time.sleep(0.2)
    raise SystemExit("no warm template got ready for %s in %d s" % (root, timeout))


def measure(pytestd, python, tests, count, scenarios=SCENARIOS, log=print):
    """Runs the scenarios on a fresh suite of `tests` tests; returns medians (s), ratios to plain and every time."""
    scenarios = ["plain"] + [s for s in scenarios if s != "plain"]
    with tempfile.TemporaryDirectory(prefix="pytestd-overhead-") as root:
        root = os.path.realpath(root)
        ids = make_suite(root, tests)
        with open(os.path.join(root, "pytest.ini"), "w") as f:
            f.write(INI)
        daemon = Daemon(pytestd, python)
        try:
            run = {
                "plain": lambda: time_plain(python, root),
                "whole": lambda: time_pytestd(daemon, root, tests),
                "select": lambda: time_pytestd(daemon, root, tests, ids=ids),
                "whole-full": lambda: time_pytestd(daemon, root, tests, summary=False),
                "whole-warm": lambda: time_pytestd(daemon, root, tests, warm=True),
            }
            # Warm-up: the page cache and bytecode, the plugin's bytecode in the daemon's directory; and for
            # whole-warm a template that has seen the suite's imports (this first warm run may start cold).
            for name in scenarios:
                if name == "whole-warm":
                    time_pytestd(daemon, root, tests, warm=True, check_start=False)
                    wait_for_template(daemon, root)
                else:
                    run[name]()
            loads = [load()]

            def on_round(r, last):
                loads.append(load())
                log("  %d tests, round %d: %s  load %.2f" % (tests, r + 1, "  ".join(
                    "%s %.2fs" % (name, t) for name, t in last.items()), loads[-1]))

            times = rounds([(name, run[name]) for name in scenarios], count, on_round)
        finally:
            daemon.close()
    medians = {name: median(t) for name, t in times.items()}
    return {
        "tests": tests,
        "rounds": count,
        "median_s": medians,
        "vs_plain": {name: medians[name] / medians["plain"] for name in scenarios if name != "plain"},
        "times_s": times,
        "load": {"min": min(loads), "max": max(loads)},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS[1:]))
    add_binary_args(parser)
    args = parser.parse_args()
    figures = measure(args.pytestd, args.python, args.tests, args.rounds, args.scenarios.split(","))
    plain = figures["median_s"]["plain"]
    print("median over %d rounds, %d tests: plain pytest %.2fs (load %.2f-%.2f)" % (
        args.rounds, args.tests, plain, figures["load"]["min"], figures["load"]["max"]))
    for name, ratio in figures["vs_plain"].items():
        print("  pytestd %-14s %.2fs = %.3fx plain" % (name, figures["median_s"][name], ratio))


if __name__ == "__main__":
    main()
