#!/usr/bin/env python3
"""Measures sharded runs against serial pytest and pytest-xdist, on generated suites (issue 13's cases 3 and 4).

Suites:
  sleep   - 400 tests x 25 ms of sleep in 20 files of 20
  skewed  - the same 400 x 25 ms in 3 big files of 60 and 44 small files of 5
  cpu     - 200 tests x a fixed ~50 ms of arithmetic in 20 files, split across every core

Modes, timed in rounds whose order rotates (medians reported, ratios against xdist measured in the same rounds):
  serial          - `python -m pytest`
  xdist           - `python -m pytest -n N` (pytest-xdist; N = 4, or the cores for `cpu`)
  shards          - runTests with `shards: N` through one long-running daemon, as an editor runs it: the files
                    it finds are remembered after the first run, so it walks the tree instead of collecting
  shards+collect  - the same with nothing remembered (a fresh cache directory every run): it collects first
  shards+cold     - `shards` with `warm: false`: every shard a fresh interpreter, not a fork of the daemon's warm
                    template (left out when the daemon has no warm starts)
  cli             - `pytestd run --shards N` from a fresh process, the project's memory on disk (CI reruns)

Usage: python3 tests/bench/shards.py [--rounds 5] [--suites sleep,skewed,cpu] [--pytestd PATH] [--python PY]
The default interpreter is a virtualenv built from tests/bench/requirements.txt (pytest and pytest-xdist pinned)
in target/bench-venv. Targets (issue 13): shards <= 0.8x xdist on sleep and skewed; <= 1.0x xdist on cpu.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "editors", "scripting"))
from pytestd_client import PytestdClient, PytestdError  # noqa: E402

PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\n"


def write(root, name, text):
    path = os.path.join(root, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def sleep_file(count):
    return "import time\n\n" + "".join(
        "\ndef test_%d():\n    time.sleep(0.025)\n" % t for t in range(count))


def make_sleep(root):
    for f in range(20):
        write(root, "tests/test_s%02d.py" % f, sleep_file(20))


def make_skewed(root):
    for f in range(3):
        write(root, "tests/big/test_big%d.py" % f, sleep_file(60))
    for f in range(44):
        write(root, "tests/small/test_small%02d.py" % f, sleep_file(5))


def calibrate(python):
    """Iterations of the CPU test's loop that take about 50 ms of one core here: the fastest of five tries, so a busy
    machine does not shrink the work."""
    code = ("import time\ndef burn(n):\n x=0\n for i in range(n): x+=i*i\n return x\nn=200000\nbest=1e9\n"
            "for _ in range(5):\n t=time.perf_counter()\n burn(n)\n best=min(best,time.perf_counter()-t)\n"
            "print(n*0.050/best)")
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(float(out))


def make_cpu(root, python):
    iterations = calibrate(python)
    body = "".join("\ndef test_%d():\n    x = 0\n    for i in range(N):\n        x += i * i\n    assert x >= 0\n" % t
                   for t in range(10))
    for f in range(20):
        write(root, "tests/test_c%02d.py" % f, "N = %d\n" % iterations + body)


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--suites", default="sleep,skewed,cpu")
    ap.add_argument("--pytestd", default=os.path.join(REPO, "target", "release", "pytestd"))
    ap.add_argument("--python", default=None, help="an interpreter with pytest and pytest-xdist")
    a = ap.parse_args()
    python = a.python or subprocess.run(
        ["bash", os.path.join(REPO, "tests", "venv.sh"), "target/bench-venv", "tests/bench/requirements.txt"],
        check=True, capture_output=True, text=True, cwd=REPO).stdout.strip()
    cores = os.cpu_count() or 1
    print("load before: %s" % subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("cores %d, python %s, pytestd %s, %d rounds" % (cores, python, a.pytestd, a.rounds))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    remembered_cache = tempfile.mkdtemp(prefix="pytestd-bench-cache-")
    empty_cache = tempfile.mkdtemp(prefix="pytestd-bench-nocache-")
    plans = []  # the daemons' "N shards by file ..." log lines: how the files were found, and what it cost

    def on_log(params):
        message = (params or {}).get("message", "")
        if "shards by file" in message:
            plans.append(message)

    def daemon(cache):
        os.environ["XDG_CACHE_HOME"] = cache
        client = PytestdClient(a.pytestd, init_options={"python": python, "maxParallel": max(4, cores)},
                               on_log=on_log, timeout=300)
        client.start()
        return client

    remembering, forgetting = daemon(remembered_cache), daemon(empty_cache)
    os.environ["XDG_CACHE_HOME"] = remembered_cache
    summary = []
    try:
        for suite in a.suites.split(","):
            root = tempfile.mkdtemp(prefix="pytestd-bench-%s-" % suite)
            write(root, "pytest.ini", PYTEST_INI)
            {"sleep": make_sleep, "skewed": make_skewed, "cpu": lambda r: make_cpu(r, python)}[suite](root)
            n = cores if suite == "cpu" else 4

            def shell(*cmd):
                def go():
                    subprocess.run(list(cmd), cwd=root, env=env, check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return go

            def sharded(client, forget=False, **params):
                def go():
                    if forget:
                        shutil.rmtree(os.path.join(empty_cache, "pytestd"), ignore_errors=True)
                    run = client.run_tests(root, shards=n, **params)
                    for _ in run:
                        pass
                    assert run.result["status"] == "passed", run.result["errors"]
                    assert run.result["summary"]["passed"] == (200 if suite == "cpu" else 400), run.result["summary"]
                return go

            modes = {
                "serial": shell(python, "-m", "pytest", "-q"),
                "xdist": shell(python, "-m", "pytest", "-q", "-n", str(n)),
                "shards": sharded(remembering),
                "shards+collect": sharded(forgetting, forget=True),
                "shards+cold": sharded(remembering, warm=False),
                "cli": shell(a.pytestd, "run", "-q", "--python", python, "--shards", str(n), root),
            }
            try:
                modes["shards+cold"]()
            except PytestdError:
                del modes["shards+cold"]  # a daemon without warm starts: every run is cold already
            names = list(modes)
            times = {name: [] for name in names}
            for fn in modes.values():
                fn()  # warm-up: page cache, and the project's memory for `shards` and `cli`
            del plans[:]
            for r in range(a.rounds):
                order = names[r % len(names):] + names[:r % len(names)]
                for name in order:
                    started = time.perf_counter()
                    modes[name]()
                    times[name].append(time.perf_counter() - started)
            xdist = median(times["xdist"])
            print("\n%s (n=%d), load %s" % (suite, n, open("/proc/loadavg").read().split()[0]))
            for name in names:
                med = median(times[name])
                print("  %-15s median %6.3f s  %5.2fx xdist   rounds %s"
                      % (name, med, med / xdist, " ".join("%.2f" % t for t in times[name])))
            walked = [float(m) for line in plans for m in re.findall(r"walked in ([\d.]+) ms", line)]
            collected = [float(m) for line in plans for m in re.findall(r"files in (\d+) ms\)", line)]
            print("  finding the files: walk %s ms (median of %d), collect %s ms (median of %d); "
                  "shards+collect - shards = %.3f s"
                  % (median(walked), len(walked), median(collected), len(collected),
                     median(times["shards+collect"]) - median(times["shards"])))
            summary.append((suite, median(times["shards"]) / xdist))
            shutil.rmtree(root, ignore_errors=True)
    finally:
        remembering.close()
        forgetting.close()
        shutil.rmtree(remembered_cache, ignore_errors=True)
        shutil.rmtree(empty_cache, ignore_errors=True)
    print("\nload after: %s" % subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(json.dumps({suite: round(ratio, 3) for suite, ratio in summary}))


if __name__ == "__main__":
    main()
