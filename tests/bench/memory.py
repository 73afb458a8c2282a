#!/usr/bin/env python3
"""The daemon's memory (issue 13's case 5): resident set idle after initialize, and while and after streaming a
run of 100 000 trivial tests, first with `results: "summary"`, then with every result in the response (`"full"`,
what the editors ask for).

Figures are the daemon's own process (its pytest children are not counted): VmRSS idle; VmHWM (the peak) after
each run; VmRSS once the protocol has been quiet for 3 s (the daemon gives freed memory back after 1 s of quiet).

Usage: python3 tests/bench/memory.py [--tests 100000] [--pytestd PATH] [--python PY]
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import PYTEST_ARGS, Daemon, add_binary_args, make_suite, rss_kb  # noqa: E402

QUIET = 3.0


def measure(pytestd, python, tests=100000, log=print):
    with tempfile.TemporaryDirectory(prefix="pytestd-memory-") as root:
        make_suite(root, tests)
        # Cold starts: a warm template is another process, and its memory is not the daemon's.
        daemon = Daemon(pytestd, python, {"warmStart": False})
        try:
            time.sleep(1.0)
            figures = {"tests": tests, "idle_rss_mib": rss_kb(daemon.pid) / 1024}
            for mode in ("summary", "full"):
                started = time.perf_counter()
                msg, streamed = daemon.request("runTests", {"cwd": root, "args": PYTEST_ARGS, "results": mode})
                elapsed = time.perf_counter() - started
                passed = (msg.get("result") or {}).get("summary", {}).get("passed")
                if passed != tests or streamed != tests:
                    raise SystemExit("the %s run was incomplete: %s passed, %d streamed" % (mode, passed, streamed))
                peak = rss_kb(daemon.pid, "VmHWM") / 1024
                after = rss_kb(daemon.pid) / 1024
                time.sleep(QUIET)
                settled = rss_kb(daemon.pid) / 1024
                figures[mode] = {"seconds": elapsed, "peak_rss_mib": peak, "rss_after_mib": after,
                                 "rss_settled_mib": settled}
                log("  %s: %d results in %.1f s, daemon peak %.0f MiB, %.0f MiB after, %.0f MiB %.0f s later" % (
                    mode, tests, elapsed, peak, after, settled, QUIET))
        finally:
            daemon.close()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=100000)
    add_binary_args(parser)
    args = parser.parse_args()
    figures = measure(args.pytestd, args.python, args.tests)
    print("idle: %.1f MiB" % figures["idle_rss_mib"])


if __name__ == "__main__":
    main()
