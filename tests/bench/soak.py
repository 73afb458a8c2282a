#!/usr/bin/env python3
"""Soak test: overlapping runs and cancels thrown at one pytestd for minutes.

A fixed mix runs until the time is up: bursts of runTests (quick tests, slow tests, failing tests, a test whose
grandchild ignores SIGTERM), cancelRun of random live runs (some twice), listRuns polls. Throughout it checks what
issue-level promises say: every runTests is answered exactly once, never more than maxParallel pytest processes
of this daemon are alive at a sample, every cancelRun is answered (the slowest is reported), and when the daemon
exits no process it started is left.

Usage: python3 tests/bench/soak.py [--minutes 2] [--max-parallel 4] [--pytestd PATH] [--python PY]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import Daemon, add_binary_args  # noqa: E402

PROJECT = {
    "test_quick.py": "def test_a():\n    pass\n\ndef test_b():\n    assert 1 == 2\n",
    "test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(3)\n",
    "test_stubborn.py": (
        "import signal, subprocess, sys, time\n\n"
        "def test_stubborn():\n"
        "    subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "    time.sleep(60)\n"
    ),
}


def marked_pids(mark, leaders_only=False):
    """Live processes carrying `mark` in their environment; with `leaders_only`, only pytest processes that lead
    their own process group (one per running job)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if mark in f.read():
                    with open("/proc/%s/stat" % pid) as s:
                        fields = s.read().rsplit(")", 1)[1].split()
                    if fields[0] == "Z" or (leaders_only and fields[2] != pid):
                        continue
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--max-parallel", type=int, default=4)
    add_binary_args(parser)
    args = parser.parse_args()
    mark = "PYTESTD_SOAK_MARK=%s" % uuid.uuid4().hex
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as root:
        for name, text in PROJECT.items():
            with open(os.path.join(root, name), "w") as f:
                f.write(text)
        open(os.path.join(root, "pytest.ini"), "w").write("[pytest]\naddopts = -p no:cacheprovider\n")
        daemon = Daemon(args.pytestd, args.python)
        daemon.send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {
            "pytestd": {"maxParallel": args.max_parallel, "killGraceMs": 300, "env": {mark.split("=")[0]: mark.split("=")[1]}}}}})
        pending, answers, cancels, cancel_sent = {}, {}, [], {}
        live = []
        max_seen = 0
        deadline = time.time() + args.minutes * 60
        next_sample = 0.0
        while time.time() < deadline:
            for _ in range(rng.randint(1, 6)):
                run_id = uuid.uuid4().hex
                ids = rng.choice([["test_quick.py"], ["test_slow.py"], ["test_stubborn.py"], []])
                daemon.next_id += 1
                pending[daemon.next_id] = run_id
                live.append(run_id)
                daemon.send({"jsonrpc": "2.0", "id": daemon.next_id, "method": "runTests",
                             "params": {"cwd": root, "runId": run_id, "testIds": ids}})
            for _ in range(rng.randint(0, 4)):
                if live:
                    target = rng.choice(live)
                    daemon.next_id += 1
                    cancel_sent[daemon.next_id] = time.perf_counter()
                    daemon.send({"jsonrpc": "2.0", "id": daemon.next_id, "method": "cancelRun",
                                 "params": {"runId": target}})
            # Read until the cancels are answered (runs' answers arrive meanwhile).
            while cancel_sent:
                msg = daemon.recv()
                mid = msg.get("id")
                if mid in cancel_sent:
                    cancels.append((time.perf_counter() - cancel_sent.pop(mid)) * 1000)
                elif mid in pending:
                    if mid in answers:
                        sys.exit("runTests %s answered twice" % mid)
                    answers[mid] = msg
                    if pending[mid] in live:
                        live.remove(pending[mid])
            time.sleep(0.05)  # a busy client, not a flood: bursts of a few requests, twenty times a second
            if time.time() >= next_sample:
                max_seen = max(max_seen, len(marked_pids(mark.encode(), leaders_only=True)))
                next_sample = time.time() + 0.2
        for run_id in list(live):
            daemon.next_id += 1
            daemon.send({"jsonrpc": "2.0", "id": daemon.next_id, "method": "cancelRun", "params": {"runId": run_id}})
        end = time.time() + 120
        while len(answers) < len(pending) and time.time() < end:
            msg = daemon.recv()
            if msg.get("id") in pending:
                if msg["id"] in answers:
                    sys.exit("runTests %s answered twice" % msg["id"])
                answers[msg["id"]] = msg
        daemon.close()
    time.sleep(1)
    left = marked_pids(mark.encode())
    cancels.sort()
    print("soak %.1f min: %d runTests, %d answered exactly once; %d cancels, median %.2f ms, worst %.2f ms; "
          "most pytest processes running at a sample: %d; processes left after exit: %d" % (
              args.minutes, len(pending), len(answers), len(cancels),
              statistics.median(cancels) if cancels else 0, cancels[-1] if cancels else 0, max_seen, len(left)))
    kinds = {}
    for msg in answers.values():
        kind = msg["result"]["status"] if "result" in msg else "error %s" % msg["error"]["code"]
        kinds[kind] = kinds.get(kind, 0) + 1
    print("answers: " + ", ".join("%s %d" % item for item in sorted(kinds.items())))
    if len(answers) != len(pending) or left or max_seen > args.max_parallel:
        sys.exit(1)


if __name__ == "__main__":
    main()
