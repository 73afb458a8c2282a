#!/usr/bin/env python3
"""Discovery of a large suite (issue 13's case 6): `python -m pytest --collect-only -q` (its output to a pipe that
is read) against `discoverTests` through one long-lived daemon, asked as the editors ask it (`stream: false`: the
tree only in the response), the client parsing every message, in rounds whose order rotates (medians reported).

  collect   - python -m pytest --collect-only -q -p no:cacheprovider
  discover  - discoverTests with `stream: false` from a daemon with warm starts off: pytest started cold, as
              `collect` is
  streamed  - the same with `stream: true` (the default): the tree also streamed as `testsDiscovered` batches,
              every one of them read
  warm      - discoverTests with `stream: false` from a daemon with its default settings (forked from the warm
              template when it can)

Usage: python3 tests/bench/discovery.py [--tests 50000] [--rounds 5] [--pytestd PATH] [--python PY]
Target (issue 13): discover <= 1.05x collect.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import PYTEST_ARGS, Daemon, add_binary_args, load, make_suite, median, rounds  # noqa: E402

SCENARIOS = ("collect", "discover", "streamed", "warm")


def time_collect(python, root, tests):
    started = time.perf_counter()
    out = subprocess.run([python, "-m", "pytest", "--collect-only"] + PYTEST_ARGS, cwd=root,
                         stdout=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    listed = sum(1 for line in out.stdout.splitlines() if b"::" in line)
    if listed != tests:
        raise SystemExit("pytest --collect-only listed %d tests, not %d" % (listed, tests))
    return elapsed


def time_discover(daemon, root, tests, stream):
    streamed = [0]

    def count(msg):
        if msg.get("method") == "testsDiscovered":
            streamed[0] += sum(1 for node in msg["params"]["tests"] if node.get("kind") == "test")

    params = {"cwd": root, "args": ["-p", "no:cacheprovider"], "stream": stream}
    started = time.perf_counter()
    msg, _ = daemon.request("discoverTests", params, on_message=count)
    elapsed = time.perf_counter() - started
    found = sum(1 for node in (msg.get("result") or {}).get("tests", []) if node.get("kind") == "test")
    if found != tests or streamed[0] != (tests if stream else 0):
        raise SystemExit("discoverTests (stream: %s) found %d tests and streamed %d, of %d: %s" % (
            stream, found, streamed[0], tests, str(msg)[:500]))
    return elapsed


def measure(pytestd, python, tests=50000, count=5, log=print):
    with tempfile.TemporaryDirectory(prefix="pytestd-discovery-") as root:
        root = os.path.realpath(root)
        make_suite(root, tests)
        cold = Daemon(pytestd, python, {"warmStart": False})
        default = Daemon(pytestd, python)
        try:
            run = {
                "collect": lambda: time_collect(python, root, tests),
                "discover": lambda: time_discover(cold, root, tests, False),
                "streamed": lambda: time_discover(cold, root, tests, True),
                "warm": lambda: time_discover(default, root, tests, False),
            }
            for name in SCENARIOS:  # warm-up: page cache, bytecode, the template
                run[name]()
            loads = [load()]

            def on_round(r, last):
                loads.append(load())
                log("  %d tests, round %d: %s  load %.2f" % (tests, r + 1, "  ".join(
                    "%s %.2fs" % (name, t) for name, t in last.items()), loads[-1]))

            times = rounds([(name, run[name]) for name in SCENARIOS], count, on_round)
        finally:
            cold.close()
            default.close()
    medians = {name: median(t) for name, t in times.items()}
    return {
        "tests": tests,
        "rounds": count,
        "median_s": medians,
        "vs_collect": {name: medians[name] / medians["collect"] for name in SCENARIOS[1:]},
        "times_s": times,
        "load": {"min": min(loads), "max": max(loads)},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=5)
    add_binary_args(parser)
    args = parser.parse_args()
    figures = measure(args.pytestd, args.python, args.tests, args.rounds)
    for name, ratio in figures["vs_collect"].items():
        print("%-9s %.2fs = %.3fx pytest --collect-only -q (%.2fs)" % (
            name, figures["median_s"][name], ratio, figures["median_s"]["collect"]))
    print("load average %.2f-%.2f over %d rounds" % (figures["load"]["min"], figures["load"]["max"], args.rounds))


if __name__ == "__main__":
    main()
