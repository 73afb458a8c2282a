#!/usr/bin/env python3
"""Measures what a coverage run costs over a plain run, through pytestd and with coverage.py alone.

On a generated project (a small package and tests that call into it), in rounds whose order rotates (medians
reported, ratios against plain pytest measured in the same run):
  pytest          - `python -m pytest`
  coverage.py     - `python -m coverage run -m pytest` then `coverage json` (what a user does by hand)
  pytestd         - runTests, every result streamed
  pytestd+cov     - runTests with `coverage: true`
  pytestd+cov+per - runTests with `coverage: {perTest: true, branch: true}`

Usage: python3 tests/bench/coverage_overhead.py [--tests 2000] [--rounds 5] [--pytestd PATH] [--python PY]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "editors", "scripting"))
from pytestd_client import PytestdClient  # noqa: E402

MODULE = '''
def classify(n):
    if n % 15 == 0:
        return "fizzbuzz"
    if n % 3 == 0:
        return "fizz"
    if n % 5 == 0:
        return "buzz"
    return str(n)


def total(values):
    result = 0
    for value in values:
        result += value
    return result
'''


def make_project(root, tests, per_file=100):
    os.makedirs(os.path.join(root, "pkg"))
    open(os.path.join(root, "pkg", "__init__.py"), "w").close()
    with open(os.path.join(root, "pkg", "logic.py"), "w") as f:
        f.write(MODULE)
    with open(os.path.join(root, "pytest.ini"), "w") as f:
        f.write("[pytest]\npythonpath = .\n")
    for n in range((tests + per_file - 1) // per_file):
        with open(os.path.join(root, "test_m%03d.py" % n), "w") as f:
            f.write("from pkg.logic import classify, total\n\n")
            for t in range(min(per_file, tests - n * per_file)):
                f.write("def test_%d():\n    assert classify(%d)\n    assert total(range(%d)) >= 0\n\n" % (t, t, t % 7))


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tests", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pytestd", default=os.path.join(REPO, "target", "release", "pytestd"))
    ap.add_argument("--python", default=os.path.join(REPO, "target", "test-venv", "bin", "python"))
    a = ap.parse_args()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory() as root, PytestdClient(a.pytestd, init_options={"python": a.python}) as c:
        make_project(root, a.tests)
        data = os.path.join(root, ".." + os.path.basename(root) + ".coverage")

        def run_pytestd(**params):
            def go():
                run = c.run_tests(root, **params)
                for _ in run:
                    pass
                assert run.result["status"] == "passed", run.result["errors"]
            return go

        def shell(*cmds):
            def go():
                for cmd in cmds:
                    subprocess.run(cmd, cwd=root, env=dict(env, COVERAGE_FILE=data), check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return go

        scenarios = {
            "pytest": shell([a.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]),
            "coverage.py": shell([a.python, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                                 [a.python, "-m", "coverage", "json", "-q", "-o", os.path.join(root, "..cov.json")]),
            "pytestd": run_pytestd(),
            "pytestd+cov": run_pytestd(coverage=True),
            "pytestd+cov+per": run_pytestd(coverage={"perTest": True, "branch": True}),
        }
        names = list(scenarios)
        times = {name: [] for name in names}
        for fn in scenarios.values():
            fn()  # warm-up: bytecode, page cache
        for r in range(a.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                times[name].append(timed(scenarios[name]))
        base = statistics.median(times["pytest"])
        print("%d tests, %d rounds, load %s" % (a.tests, a.rounds, open("/proc/loadavg").read().split()[0]))
        for name in names:
            med = statistics.median(times[name])
            print("%-16s median %6.3f s  %5.2fx pytest   rounds %s"
                  % (name, med, med / base, " ".join("%.3f" % t for t in times[name])))
        plain = statistics.median(times["pytestd"])
        print("coverage run / plain run through pytestd: %.2fx; with perTest and branches: %.2fx"
              % (statistics.median(times["pytestd+cov"]) / plain, statistics.median(times["pytestd+cov+per"]) / plain))


if __name__ == "__main__":
    main()
