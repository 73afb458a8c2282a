#!/usr/bin/env python3
"""Measures how fast pytestd answers cancelRun while 1000 runTests are pending (4 running, the rest queued).

Each cancel is timed from writing the request to reading its response; the runs being cancelled are queued ones
(taken from the back of the queue, the worst case for a FIFO) and running ones. Reports median, p99 and worst.
Each cancel is followed by a control: a cancelRun of a run that does not exist, which takes the same path through
the daemon (reader, router, coordinator, writer) and changes nothing. Its latencies are the floor of a request's
round trip on this machine at that moment, so a tail both share comes from the machine (scheduling on busy
cores), not from the cancel's work. Afterwards every run is cancelled and each runTests must be answered exactly
once.

Usage: python3 tests/bench/cancel_latency.py [--pending 1000] [--cancels 200] [--pytestd PATH] [--python PY]
Target (see README): every cancelRun answered in < 10 ms. `tests/bench/run.py` calls `measure` (issue 13's case 5).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Daemon, add_binary_args  # noqa: E402


def measure(pytestd, python, pending=1000, cancels=200):
    """Cancel round trips with `pending` runTests pending: median, p99 and worst in ms, and whether every runTests
    was answered exactly once."""
    args = argparse.Namespace(pytestd=pytestd, python=python, pending=pending, cancels=cancels)
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "test_wait.py"), "w") as f:
            f.write("import time\n\ndef test_waits():\n    time.sleep(600)\n")
        open(os.path.join(root, "pytest.ini"), "w").write("[pytest]\n")
        daemon = Daemon(args.pytestd, args.python)
        daemon.next_id += 1
        daemon.send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration",
                     "params": {"settings": {"pytestd": {"maxParallel": 4, "maxQueued": args.pending,
                                                          "killGraceMs": 200}}}})
        run_ids = ["run-%05d" % i for i in range(args.pending)]
        request_ids = {}
        for run_id in run_ids:
            daemon.next_id += 1
            request_ids[daemon.next_id] = run_id
            daemon.send({"jsonrpc": "2.0", "id": daemon.next_id, "method": "runTests",
                         "params": {"cwd": root, "runId": run_id}})
        answered = {}
        started = queued = 0
        # Measure in the steady state: every run admitted, announced and its notifications read.
        while started < 4 or queued < args.pending - 4:
            msg = daemon.recv()
            if msg.get("method") == "runStarted":
                started += 1
            elif msg.get("method") == "runQueued":
                queued += 1
            elif msg.get("id") in request_ids:
                answered[msg["id"]] = msg
        latencies, control = [], []

        def round_trip(run_id):
            daemon.next_id += 1
            cancel_id = daemon.next_id
            start = time.perf_counter()
            daemon.send({"jsonrpc": "2.0", "id": cancel_id, "method": "cancelRun", "params": {"runId": run_id}})
            while True:
                msg = daemon.recv()
                if msg.get("id") == cancel_id:
                    return (time.perf_counter() - start) * 1000, msg
                if msg.get("id") in request_ids:
                    answered.setdefault(msg["id"], msg)

        # Queued runs from the back of the queue, then the running ones.
        targets = run_ids[::-1][: max(0, args.cancels - 4)] + run_ids[:4]
        for run_id in targets:
            elapsed, msg = round_trip(run_id)
            latencies.append(elapsed)
            if "error" in msg:
                sys.exit("cancelRun failed: %s" % msg)
            elapsed, msg = round_trip("no-such-run")
            control.append(elapsed)
            if "error" not in msg:
                sys.exit("cancelRun of an unknown run did not fail: %s" % msg)
        for run_id in run_ids:
            daemon.next_id += 1
            daemon.send({"jsonrpc": "2.0", "id": daemon.next_id, "method": "cancelRun", "params": {"runId": run_id}})
        deadline = time.time() + 120
        while len(answered) < len(request_ids) and time.time() < deadline:
            msg = daemon.recv()
            if msg.get("id") in request_ids:
                if msg["id"] in answered and answered[msg["id"]] is not msg:
                    sys.exit("runTests %s answered twice" % msg["id"])
                answered[msg["id"]] = msg
        daemon.close()
    slowest = sorted(range(len(latencies)), key=lambda i: latencies[i])[-5:]
    ordered, floor = sorted(latencies), sorted(control)

    def p99(values):
        return values[min(len(values) - 1, int(len(values) * 0.99))]

    return {
        "pending": pending,
        "cancels": len(latencies),
        "median_ms": statistics.median(ordered),
        "p99_ms": p99(ordered),
        "worst_ms": ordered[-1],
        "control_median_ms": statistics.median(floor),
        "control_p99_ms": p99(floor),
        "control_worst_ms": floor[-1],
        "slowest": ["#%d %s %.2f ms" % (i, targets[i], latencies[i]) for i in slowest],
        "answered": len(answered),
        "requests": len(request_ids),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=1000)
    parser.add_argument("--cancels", type=int, default=200)
    add_binary_args(parser)
    args = parser.parse_args()
    figures = measure(args.pytestd, args.python, args.pending, args.cancels)
    print("slowest: " + ", ".join(figures["slowest"]))
    print("cancelRun with %d runTests pending: %d cancels, median %.2f ms, p99 %.2f ms, worst %.2f ms" % (
        figures["pending"], figures["cancels"], figures["median_ms"], figures["p99_ms"], figures["worst_ms"]))
    print("control (cancelRun of an unknown run, same path, no work): median %.2f ms, p99 %.2f ms, worst %.2f ms" % (
        figures["control_median_ms"], figures["control_p99_ms"], figures["control_worst_ms"]))
    print("runTests answered: %d of %d" % (figures["answered"], figures["requests"]))
    if figures["answered"] != figures["requests"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
