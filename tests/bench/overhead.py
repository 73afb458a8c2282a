#!/usr/bin/env python3
"""Measures what running through pytestd costs over plain pytest, on a generated suite of trivial tests.

Scenarios, each timed in rounds against plain `python -m pytest` in the same run, in an order that rotates every
round (medians reported):
  whole   - pytestd runs the whole suite, every result streamed to this client and parsed
  select  - pytestd runs the suite selected by listing every test id in `testIds`

Usage: python3 tests/bench/overhead.py [--tests 30000] [--rounds 5] [--pytestd PATH] [--python PY]
Targets (see README): whole <= 1.02x plain pytest; select about the cost of whole.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider"]


def make_suite(root, tests, per_file=100):
    ids = []
    for f in range((tests + per_file - 1) // per_file):
        name = "test_m%04d.py" % f
        count = min(per_file, tests - f * per_file)
        with open(os.path.join(root, name), "w") as fh:
            for t in range(count):
                fh.write("def test_%d():\n    pass\n" % t)
                ids.append("%s::test_%d" % (name, t))
    open(os.path.join(root, "pytest.ini"), "w").write("[pytest]\n")
    return ids


class Daemon:
    def __init__(self, pytestd, python):
        self.p = subprocess.Popen([pytestd, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.request("initialize", {"capabilities": {}, "initializationOptions": {"python": python}})
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.p.stdin.flush()

    def recv(self):
        length = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise EOFError("pytestd closed its output")
            if line == b"\r\n":
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        streamed = 0
        while True:
            msg = self.recv()
            if msg.get("id") == self.next_id:
                return msg, streamed
            if msg.get("method") == "testResult":
                streamed += 1

    def close(self):
        self.request("shutdown", None)
        self.send({"jsonrpc": "2.0", "method": "exit"})
        self.p.wait(timeout=30)


def time_plain(python, root):
    # pytest's output goes to a pipe that is read, as under pytestd (writing to a pipe costs more than /dev/null).
    start = time.perf_counter()
    subprocess.run([python, "-m", "pytest"] + PYTEST_ARGS, cwd=root, stdout=subprocess.PIPE, check=False)
    return time.perf_counter() - start


def time_pytestd(daemon, root, ids, expected):
    params = {"cwd": root, "args": PYTEST_ARGS}
    if ids is not None:
        params["testIds"] = ids
    start = time.perf_counter()
    msg, streamed = daemon.request("runTests", params)
    elapsed = time.perf_counter() - start
    result = msg.get("result") or {}
    if result.get("summary", {}).get("passed") != expected or streamed != expected:
        sys.exit("pytestd run was incomplete: %s passed, %d streamed" % (result.get("summary"), streamed))
    return elapsed


def add_binary_args(parser):
    """The options every benchmark shares: which pytestd and which Python."""
    parser.add_argument("--pytestd", default=os.path.join(REPO, "target", "release", "pytestd"))
    venv_python = os.path.join(REPO, "target", "test-venv", "bin", "python")
    parser.add_argument("--python", default=os.environ.get("PYTESTD_TEST_PYTHON", venv_python))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=5)
    add_binary_args(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        ids = make_suite(root, args.tests)
        daemon = Daemon(args.pytestd, args.python)
        times = {"plain": [], "whole": [], "select": []}
        try:
            time_plain(args.python, root)  # warm the file cache and bytecode
            scenarios = [
                ("plain", lambda: time_plain(args.python, root)),
                ("whole", lambda: time_pytestd(daemon, root, None, args.tests)),
                ("select", lambda: time_pytestd(daemon, root, ids, args.tests)),
            ]
            for r in range(args.rounds):
                # The order rotates every round: on a shared machine a run's position in a burst of load shifts
                # its time, and a fixed order would hand that bias to one scenario.
                for name, run in scenarios[r % 3:] + scenarios[:r % 3]:
                    times[name].append(run())
                print("round %d: plain %.2fs  whole %.2fs  select %.2fs" % (
                    r + 1, times["plain"][-1], times["whole"][-1], times["select"][-1]), flush=True)
        finally:
            daemon.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    print("median over %d rounds, %d tests: plain pytest %.2fs" % (args.rounds, args.tests, med["plain"]))
    print("  pytestd whole suite : %.2fs  = %.3fx plain" % (med["whole"], med["whole"] / med["plain"]))
    print("  pytestd all ids     : %.2fs  = %.3fx plain, %.3fx whole" % (
        med["select"], med["select"] / med["plain"], med["select"] / med["whole"]))


if __name__ == "__main__":
    main()
