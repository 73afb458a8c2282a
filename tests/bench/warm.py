#!/usr/bin/env python3
"""Warm reruns: the editor's loop of running one test again and again. Measures, in the same run and in rounds
whose order rotates (medians reported):

  cold    plain `python -m pytest -q <file>::<test>` in the project, as a terminal user runs it
  pytestd the same test through one long-lived pytestd, runTests sent and its response read, forked from the
          project's warm template (the script waits for the template first, and checks every timed run was forked)
  nowarm  the same through pytestd with `warm: false`, for what the template saves inside pytestd

on two generated projects: `trivial` (one test, nothing imported) and `heavy` (a module-level import of a real
library, `--heavy` names it, default pandas; skipped with a note when the interpreter lacks it).

Usage: python3 tests/bench/warm.py [--rounds 7] [--heavy pandas] [--json FILE] [--pytestd PATH] [--python PY]
Target (issue 13): pytestd warm <= 0.2x cold.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import Daemon, add_binary_args  # noqa: E402

TEST_ID = "test_one.py::test_one"
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider"]


def make_project(root, heavy):
    head = "import %s\n\n" % heavy if heavy else ""
    with open(os.path.join(root, "test_one.py"), "w") as f:
        f.write(head + "def test_one():\n    assert 1 + 1 == 2\n")
    with open(os.path.join(root, "pytest.ini"), "w") as f:
        f.write("[pytest]\naddopts = -p no:cacheprovider\n")


def time_cold(python, root):
    started = time.perf_counter()
    out = subprocess.run([python, "-m", "pytest", *PYTEST_ARGS, TEST_ID], cwd=root, capture_output=True)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit("plain pytest failed in %s:\n%s" % (root, out.stdout.decode()[-2000:]))
    return elapsed


def time_daemon(daemon, root, warm):
    """One run through the daemon; returns (seconds, whether it was forked)."""
    daemon.next_id += 1
    request_id = daemon.next_id
    started = time.perf_counter()
    daemon.send({"jsonrpc": "2.0", "id": request_id, "method": "runTests",
                 "params": {"cwd": root, "testIds": [TEST_ID], "warm": warm}})
    forked = False
    while True:
        msg = daemon.recv()
        if msg.get("method") == "runStarted":
            forked = bool(msg["params"].get("warm"))
        if msg.get("id") == request_id:
            elapsed = time.perf_counter() - started
            result = msg.get("result") or {}
            if result.get("status") != "passed":
                raise SystemExit("pytestd's run did not pass: %s" % json.dumps(msg)[:2000])
            return elapsed, forked


def wait_for_template(daemon, root, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        reply, _ = daemon.request("listRuns", {})
        for template in (reply.get("result") or {}).get("templates", []):
            if template["cwd"] == root and template["state"] == "ready":
                return template
        time.sleep(0.2)
    raise SystemExit("no warm template got ready for %s in %d s" % (root, timeout))


def bench_project(args, daemon, name, heavy):
    with tempfile.TemporaryDirectory(prefix="pytestd-warm-%s-" % name) as root:
        root = os.path.realpath(root)
        make_project(root, heavy)
        # A first run teaches the daemon what the project imports; then its template gets ready with them.
        time_daemon(daemon, root, True)
        time_cold(args.python, root)
        time_daemon(daemon, root, True)
        template = wait_for_template(daemon, root)
        times = {"cold": [], "pytestd": [], "nowarm": []}
        order = list(times)
        for r in range(args.rounds):
            for mode in order[r % 3:] + order[:r % 3]:
                if mode == "cold":
                    times[mode].append(time_cold(args.python, root))
                else:
                    elapsed, forked = time_daemon(daemon, root, mode == "pytestd")
                    if forked != (mode == "pytestd"):
                        raise SystemExit("%s run in %s was %s" % (mode, name, "forked" if forked else "cold"))
                    times[mode].append(elapsed)
        medians = {mode: statistics.median(t) for mode, t in times.items()}
        return {
            "project": name,
            "heavy": heavy,
            "rounds": args.rounds,
            "median_s": medians,
            "warm_vs_cold": medians["pytestd"] / medians["cold"],
            "nowarm_vs_cold": medians["nowarm"] / medians["cold"],
            "template_rss_bytes": template.get("rssBytes"),
            "template_modules": template.get("modules"),
        }


def has_module(python, module):
    return subprocess.run([python, "-c", "import %s" % module], capture_output=True).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--heavy", default="pandas", help="a library the heavy project imports")
    parser.add_argument("--json", help="write the figures here too")
    add_binary_args(parser)
    args = parser.parse_args()
    # The cold runs start in each project's directory: a relative interpreter path must not depend on it.
    if os.sep in args.python:
        args.python = os.path.abspath(args.python)
    load_before = os.getloadavg()[0]
    projects = [("trivial", None)]
    if has_module(args.python, args.heavy):
        projects.append(("heavy", args.heavy))
    else:
        print("note: %s lacks %s: the heavy project is skipped" % (args.python, args.heavy), file=sys.stderr)
    daemon = Daemon(args.pytestd, args.python)
    try:
        figures = [bench_project(args, daemon, name, heavy) for name, heavy in projects]
    finally:
        daemon.close()
    load = os.getloadavg()[0]
    print("%-8s %-8s %10s %10s %10s %8s %8s" % ("project", "library", "cold s", "warm s", "nowarm s", "warm/c",
                                                "nowarm/c"))
    for f in figures:
        m = f["median_s"]
        print("%-8s %-8s %10.3f %10.3f %10.3f %7.2fx %7.2fx" % (f["project"], f["heavy"] or "-", m["cold"],
                                                                 m["pytestd"], m["nowarm"], f["warm_vs_cold"],
                                                                 f["nowarm_vs_cold"]))
    print("%d rounds; load average %.2f before, %.2f after; target: warm <= 0.2x cold" % (args.rounds, load_before,
                                                                                          load))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load": load, "load_before": load_before, "projects": figures}, f, indent=2)


if __name__ == "__main__":
    main()
