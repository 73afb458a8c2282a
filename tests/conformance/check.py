#!/usr/bin/env python3
"""Conformance check: pytestd must report every test exactly as pytest itself does.

    python3 tests/conformance/check.py [--pytestd BIN] [--python PY ...] [--case NAME ...] [--list] [-v]

For each case in CASES (`--list` prints them: a fixture project under tests/fixtures/fidelity/ plus extra pytest
arguments) and for each interpreter given with --python (default: target/test-venv/bin/python, the pinned
pytest 9), the project is run with the same arguments by plain pytest and twice by pytestd, once started cold
(`warm: false`) and once forked from the project's warm template (the check waits for the templates to be ready,
and a run that was not forked when it could have been is a mismatch):

  * the oracle: plain `python -m pytest --rootdir=<project> --report-log=FILE <args>` (pytest-reportlog writes
    pytest's own reports, one JSON object per line: every TestReport, SubTestReport and CollectReport);
  * pytestd: a `runTests` request with the same `args` and `python`, through editors/scripting/pytestd_client.py,
    with `stopOnCollectionErrors: true` so that pytest runs exactly as the oracle does; the case marked
    `daemon_default` instead leaves pytestd's default (run past collection errors) and gives the oracle
    `--continue-on-collection-errors`, the flag that default stands for.

Both runs get PYTHONDONTWRITEBYTECODE=1 so nothing is written into the repository. The reports are compared per
test id; every difference is a mismatch:

  ids        the set of test ids with a result (reportlog: ids with a TestReport) must be equal.
  outcome    pytest's per-test outcome, derived from the test's TestReports (setup, call, teardown in order):
             each phase has an outcome - passed with `wasxfail` in call -> xpassed; passed -> passed; skipped with
             `wasxfail` -> xfailed; skipped -> skipped; failed in call -> failed (a strict xpass is a failed call:
             pytest drops `wasxfail` and fails it); failed in setup or teardown -> error; failed in any other
             phase -> error (pytest-xdist reports a crashed worker's test as a failed report with when "???";
             pytest's terminal counts that as "failed", the protocol says a test running when its process
             crashed is an error). The test's outcome is the worst phase by passed < skipped < xfailed = xpassed
             < failed = error, the earliest phase winning a tie: a setup failure is error/setup, a failed call
             followed by a failing teardown stays failed/call, a passed (or skipped) call followed by a failing
             teardown is error/teardown. A test whose reports stop before its teardown (KeyboardInterrupt or
             pytest.exit() in the test end the session there) gets no outcome from pytest; the protocol's rule
             for a test that was running when its session ended early applies: error (`when`, `message` not
             compared).
  when       the phase that decided a non-passing outcome (not compared for xdist's "???" crash reports).
  message    skipped: the skip reason (without "Skipped: "); xfailed/xpassed: pytest's `wasxfail` reason (absent
             when empty); failed/error with a structured report: `longrepr.reprcrash.message`; failed/error with
             a plain-text report (doctests, strict xpass, xdist crash, "contains N failed subtests"): one of its
             lines. A message over 1 MiB may be cut like output (see stdout/err). xdist worker names (gw0, gw1)
             are not compared: which worker runs a test is chance. Text is compared as it can cross a UTF-8
             stream: a lone surrogate (a Python str can hold one, UTF-8 cannot) and a U+FFFD in its place are
             equal.
  traceback  failed/error with a structured report: every `path:line` of pytest's traceback entries appears in
             pytestd's traceback (it points at the test file line), unless pytestd cut a huge traceback.
  location   the test's `location` is pytest's (path, 0-based line + 1), when pytest gives a line.
  stdout/err what the test printed (pytest's "Captured stdout/stderr" sections of its last report): equal, or,
             over 1 MiB, a prefix of at most 1 MiB (UTF-8) followed by "[pytestd: output truncated]".
  subtests   pytest >= 9 reports each subtest (`subtests` fixture, unittest subTest) as a SubTestReport
             ("$report_type": "SubTestReport", the context in "_subtest.context": {msg, kwargs}); pytestd's
             `subtests` must list the same ones in order: description ("[msg] (k=v, ...)", "(<subtest>)" when
             neither is given), outcome (same phase rule as above, for a call) and message. The parent test's
             outcome is pytest's own call report: pytest has already turned a passing parent with a failed
             `subtests` subtest into "failed" ("contains N failed subtests") when the report is logged, and
             leaves a unittest parent whose subTest failed passed.
  summary    pytestd's summary counts its own results (with the ids and outcomes equal, pytest's outcomes).
  stream     every result in the response was streamed as a testResult notification with the same outcome.
  collect    each file pytest failed to collect is named in pytestd's `errors`.
  xdist      the -n 2 cases: pytestd's ids, outcomes, `when` and subtest outcomes also equal those of plain pytest
             on the same project without xdist (tests that already mismatch their own case are not listed twice).
  exit       the oracle's exit code is the one the case expects; pytestd's `exitCode` equals it and `status` is
             the documented mapping (crates/protocol/README.md): 0 and 5 -> passed, 1 -> failed, 2, 3 and 4 ->
             error with a non-empty `errors`.

Cases marked as needing pytest >= 9 (the `subtests` fixture) are skipped under older pytest, with a line saying so.
The output ends with `conformance: N tests compared, M mismatches` (one such line per interpreter first, when
several are given); each mismatch is listed before it. Exit status: 0 without mismatches, 1 with any, 2 when the
check itself cannot run (no pytestd binary, no pytest-reportlog or pytest-xdist in an interpreter).
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "fidelity")
sys.path.insert(0, os.path.join(REPO, "editors", "scripting"))
from pytestd_client import PytestdClient, PytestdError  # noqa: E402

MAX_OUTPUT = 1 << 20
TRUNCATED = "[pytestd: output truncated]"
STATUS_FOR_EXIT = {0: "passed", 1: "failed", 2: "error", 3: "error", 4: "error", 5: "passed"}
RUN_TIMEOUT_S = 180
XDIST = ["-n", "2", "--dist", "loadfile"]  # loadfile: each file on one worker, so fixture scopes stay put


class Case:
    """A fixture project run with extra pytest arguments. exit_code: what plain pytest must exit with; min_pytest:
    the oldest pytest the case runs under; same_as: a case whose plain-pytest outcomes this one's must equal;
    daemon_default: pytestd runs with its default collection-error handling (see the module's docstring)."""

    def __init__(self, name, project, args, exit_code, min_pytest=None, same_as=None, daemon_default=False):
        self.name, self.project, self.args, self.exit_code = name, project, args, exit_code
        self.min_pytest, self.same_as, self.daemon_default = min_pytest, same_as, daemon_default

    @property
    def oracle_args(self):
        return (["--continue-on-collection-errors"] if self.daemon_default else []) + self.args

    @property
    def cwd(self):
        return os.path.join(FIXTURES, self.project)


CASES = [
    Case("outcomes", "outcomes", [], 1),
    Case("outcomes -n 2", "outcomes", XDIST, 1, same_as="outcomes"),
    Case("outcomes -x", "outcomes", ["-x", "test_classes.py"], 1),
    Case("outcomes --maxfail=3", "outcomes", ["--maxfail=3"], 1),
    Case("subtests", "subtests", [], 1, min_pytest=(9,)),
    Case("subtests -n 2", "subtests", XDIST, 1, min_pytest=(9,), same_as="subtests"),
    Case("unencodable text", "unencodable", [], 1),
    Case("collection errors", "collect_errors", [], 2),
    Case("collection errors, continued", "collect_errors", ["--continue-on-collection-errors"], 1),
    Case("collection errors, pytestd's default", "collect_errors", [], 1, daemon_default=True),
    Case("xdist worker crash", "xdist_crash", ["-n", "2"], 1),
    Case("exit 0", "exitcodes/passing", [], 0),
    Case("exit 2 (KeyboardInterrupt in a test)", "exitcodes/interrupted", [], 2),
    Case("exit 3 (internal error)", "exitcodes/internal", [], 3),
    Case("exit 3 (pytest.exit in a test)", "exitcodes/pytest_exit", [], 3),
    Case("exit 4 (usage error)", "exitcodes/passing", ["--no-such-option"], 4),
    Case("exit 5 (no tests)", "exitcodes/empty", [], 5),
    Case("exit 5 (all deselected)", "exitcodes/passing", ["-k", "no_test_matches_this"], 5),
]

# --- the oracle: pytest's own reports ---------------------------------------------------------------------------

SEVERITY = {"passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 2, "failed": 3, "error": 3}


def phase_outcome(rep):
    """A phase's outcome by pytest's rules (_pytest.skipping, _pytest.runner.pytest_report_teststatus)."""
    xfail = "wasxfail" in rep
    outcome, when = rep["outcome"], rep["when"]
    if outcome == "passed":
        return "xpassed" if xfail and when == "call" else "passed"
    if outcome == "skipped":
        return "xfailed" if xfail else "skipped"
    return "failed" if when == "call" else "error"


def skip_reason(longrepr):
    reason = str(longrepr[2])
    return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason


def expected_message(rep, outcome):
    """What pytestd's `message` must be: ("eq", text or None), ("line of", text) or None (not compared)."""
    longrepr = rep.get("longrepr")
    if outcome in ("xfailed", "xpassed"):
        return ("eq", rep.get("wasxfail") or None)
    if outcome == "skipped":
        if isinstance(longrepr, list) and len(longrepr) == 3:
            return ("eq", skip_reason(longrepr))
        return None
    if outcome in ("failed", "error"):
        if isinstance(longrepr, dict) and (longrepr.get("reprcrash") or {}).get("message") is not None:
            return ("eq", longrepr["reprcrash"]["message"])
        if isinstance(longrepr, str) and longrepr.strip():
            return ("line of", longrepr)
    return None


def traceback_locations(rep):
    longrepr = rep.get("longrepr")
    if not isinstance(longrepr, dict):
        return []
    entries = (longrepr.get("reprtraceback") or {}).get("reprentries") or []
    locs = []
    for entry in entries:
        loc = (entry.get("data") or {}).get("reprfileloc")
        if loc and loc.get("path") is not None and loc.get("lineno") is not None:
            locs.append(f"{loc['path']}:{loc['lineno']}")
    return locs


def subtest_description(context):
    parts = []
    if context.get("msg") is not None:
        parts.append(f"[{context['msg']}]")
    if context.get("kwargs"):
        parts.append("(" + ", ".join(f"{k}={v}" for k, v in context["kwargs"].items()) + ")")
    return " ".join(parts) or "(<subtest>)"


def captured(rep, stream):
    prefix = f"Captured {stream} "
    return "".join(content for title, content in rep.get("sections") or [] if title.startswith(prefix))


def oracle_results(report_log):
    """Per test id: outcome, when, message rule, traceback locations, location, stdout, stderr, subtests."""
    tests, subtests, collect_errors, exitstatus = {}, {}, [], None
    if os.path.exists(report_log):
        with open(report_log, encoding="utf-8") as f:
            for line in f:
                rep = json.loads(line)
                kind = rep.get("$report_type")
                if kind == "TestReport":
                    tests.setdefault(rep["nodeid"], []).append(rep)
                elif kind == "SubTestReport":
                    subtests.setdefault(rep["nodeid"], []).append(rep)
                elif kind == "CollectReport" and rep.get("outcome") == "failed":
                    collect_errors.append(rep["nodeid"])
                elif kind == "SessionFinish":
                    exitstatus = rep.get("exitstatus")
    results = {}
    for nodeid, phases in tests.items():
        outcome, when, decisive = "passed", None, phases[-1]
        for rep in phases:
            o = phase_outcome(rep)
            if SEVERITY[o] > SEVERITY[outcome]:
                outcome, decisive = o, rep
                when = rep["when"] if rep["when"] in ("setup", "call", "teardown") else None
        unfinished = all(rep["when"] in ("setup", "call") for rep in phases)
        if unfinished and outcome not in ("failed", "error"):
            # Interrupted (KeyboardInterrupt, pytest.exit) before its teardown report: pytest gives it no outcome.
            outcome, when, decisive = "error", None, {}
        location = None
        for rep in phases:
            loc = rep.get("location")
            if loc and loc[1] is not None:
                location = {"path": loc[0], "line": loc[1] + 1}
                break
        subs = []
        for rep in subtests.get(nodeid, []):
            o = phase_outcome(rep)
            subs.append({"description": subtest_description(rep.get("_subtest.context") or {}), "outcome": o,
                         "message": expected_message(rep, o)})
        results[nodeid] = {
            "outcome": outcome, "when": when if outcome != "passed" else None,
            "message": expected_message(decisive, outcome) if outcome != "passed" else None,
            "traceback": traceback_locations(decisive) if outcome in ("failed", "error") else [],
            "location": location, "stdout": captured(phases[-1], "stdout"), "stderr": captured(phases[-1], "stderr"),
            "subtests": subs,
        }
    return results, collect_errors, exitstatus


# --- the comparison ---------------------------------------------------------------------------------------------


def short(value, limit=160):
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 20] + f"... ({len(text)} chars)"


def same_worker(text):
    """xdist worker names (gw0, gw1) depend on scheduling, not on the test: compared as equal."""
    return re.sub(r"\bgw\d+\b", "gw*", text) if isinstance(text, str) else text


def utf8(text):
    """Text as it can cross a UTF-8 stream: lone surrogates (valid in a Python str only) become one U+FFFD."""
    if not isinstance(text, str):
        return text
    return re.sub("\ufffd+", "\ufffd", re.sub("[\ud800-\udfff]", "\ufffd", text))


def check_message(rule, got):
    if rule is None:
        return None
    kind, text = rule
    text, got = utf8(same_worker(text)), utf8(same_worker(got))
    if kind == "eq":
        if isinstance(text, str) and len(text.encode("utf-8")) > MAX_OUTPUT and got and TRUNCATED in got:
            return check_output(text, got)  # a huge message may be cut like output
        return None if (got or None) == text else f"pytest {short(text)}, pytestd {short(got)}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if got and got.strip() in lines:
        return None
    return f"pytest: one line of {short(text)}, pytestd {short(got)}"


def check_output(want, got):
    want, got = utf8(want), utf8(got or "")
    if len(want.encode("utf-8")) <= MAX_OUTPUT:
        return None if got == want else f"pytest {short(want)}, pytestd {short(got)}"
    at = got.rfind(TRUNCATED)
    if at < 0 or got[at + len(TRUNCATED):].strip():
        return f"pytest printed {len(want)} chars, pytestd {len(got)} chars without the truncation marker at the end"
    kept = got[:at]
    if not want.startswith(kept):
        kept = kept[:-1] if kept.endswith("\n") else kept  # the marker's own leading newline
    if not want.startswith(kept):
        return "the text before the truncation marker is not what the test printed"
    size = len(kept.encode("utf-8"))
    if size > MAX_OUTPUT or size < MAX_OUTPUT // 2:
        return f"{size} bytes kept before the truncation marker, want at most (and about) {MAX_OUTPUT}"
    return None


def compare(case, oracle, oracle_exit, run):
    """The mismatches of one case, as (test id or None, field, text); and the number of tests compared."""
    want, collect_errors, _ = oracle
    result, streamed = run["result"], run["streamed"]
    got = result.get("results") or {}
    out = []
    if oracle_exit != case.exit_code:
        out.append((None, "exit", f"the fixture is broken: plain pytest exited {oracle_exit}, "
                                  f"the case expects {case.exit_code}"))
    if result.get("exitCode") != oracle_exit:
        out.append((None, "exit", f"pytest exited {oracle_exit}, pytestd says exitCode {result.get('exitCode')}"
                                  f" (status {result.get('status')}, errors {short(result.get('errors'))})"))
    want_status = STATUS_FOR_EXIT.get(oracle_exit)
    if result.get("status") != want_status:
        out.append((None, "status", f"pytest exit {oracle_exit} maps to {want_status}, pytestd says "
                                    f"{result.get('status')} (errors {short(result.get('errors'))})"))
    if want_status == "error" and not result.get("errors"):
        out.append((None, "status", f"pytest exit {oracle_exit}: pytestd's `errors` gives no reason"))
    errors_text = "\n".join(result.get("errors") or [])
    for nodeid in collect_errors:
        if nodeid and nodeid not in errors_text:
            out.append((nodeid, "collect", f"pytest failed to collect it; pytestd's errors do not name it: "
                                           f"{short(result.get('errors'))}"))
    for nodeid in sorted(set(want) - set(got)):
        out.append((nodeid, "ids", f"pytest reports it ({want[nodeid]['outcome']}); pytestd has no result"))
    for nodeid in sorted(set(got) - set(want)):
        out.append((nodeid, "ids", f"pytestd reports it ({got[nodeid].get('outcome')}); pytest has no such test"))
    counts = {k: 0 for k in ("passed", "failed", "skipped", "errors", "xfailed", "xpassed")}
    for nodeid in sorted(set(want) & set(got)):
        w, g = want[nodeid], got[nodeid]
        if w["outcome"] != g.get("outcome"):
            out.append((nodeid, "outcome", f"pytest {w['outcome']} ({w['when']}), pytestd {g.get('outcome')} "
                                           f"({g.get('when')}); pytestd message {short(g.get('message'))}"))
            continue
        if w["when"] is not None and w["when"] != g.get("when"):
            out.append((nodeid, "when", f"pytest {w['when']}, pytestd {g.get('when')}"))
        problem = check_message(w["message"], g.get("message"))
        if problem:
            out.append((nodeid, "message", problem))
        tb = g.get("traceback") or ""
        missing = [loc for loc in w["traceback"] if loc not in tb and TRUNCATED not in tb]
        if missing:
            out.append((nodeid, "traceback", f"pytest's traceback goes through {missing}, pytestd's does not: "
                                             f"{short(tb)}"))
        if w["location"] is not None and w["location"] != g.get("location"):
            out.append((nodeid, "location", f"pytest {w['location']}, pytestd {g.get('location')}"))
        for stream in ("stdout", "stderr"):
            problem = check_output(w[stream], g.get(stream))
            if problem:
                out.append((nodeid, stream, problem))
        gsubs = g.get("subtests") or []
        wsig = [(s["description"], s["outcome"]) for s in w["subtests"]]
        gsig = [(s.get("description"), s.get("outcome")) for s in gsubs]
        if wsig != gsig:
            out.append((nodeid, "subtests", f"pytest {wsig}, pytestd {gsig}"))
        else:
            for ws, gs in zip(w["subtests"], gsubs):
                problem = check_message(ws["message"], gs.get("message"))
                if problem:
                    out.append((nodeid, "subtests", f"subtest {ws['description']} message: {problem}"))
        if nodeid not in streamed:
            out.append((nodeid, "stream", "no testResult notification for it"))
        elif streamed[nodeid] != g.get("outcome"):
            out.append((nodeid, "stream", f"streamed as {streamed[nodeid]}, answered as {g.get('outcome')}"))
    # With the ids and outcomes equal, pytestd's summary must count its own results (else it says more).
    for g in got.values():
        key = "errors" if g.get("outcome") == "error" else g.get("outcome")
        counts[key] = counts.get(key, 0) + 1
    summary = result.get("summary") or {}
    want_summary = dict(counts, total=len(got))
    if {k: summary.get(k) for k in want_summary} != want_summary:
        out.append((None, "summary", f"pytestd's results count {want_summary}, its summary says {summary}"))
    return out, len(set(want) | set(got))


def compare_outcomes(name, want, run):
    """pytestd's outcomes under xdist against plain pytest's for the same project without xdist."""
    got = run["result"].get("results") or {}
    out = []
    for nodeid in sorted(set(want) | set(got)):
        w, g = want.get(nodeid), got.get(nodeid)
        if w is None or g is None:
            out.append((nodeid, "xdist", f"pytest without xdist ({name!r}) has it: {w is not None}; "
                                         f"pytestd with xdist has it: {g is not None}"))
        elif (w["outcome"], w["when"]) != (g.get("outcome"), g.get("when") if w["when"] else None):
            out.append((nodeid, "xdist", f"pytest without xdist ({name!r}) {w['outcome']} ({w['when']}), pytestd "
                                         f"with xdist {g.get('outcome')} ({g.get('when')})"))
        elif [s["outcome"] for s in w["subtests"]] != [s.get("outcome") for s in g.get("subtests") or []]:
            out.append((nodeid, "xdist", f"subtest outcomes without xdist {[s['outcome'] for s in w['subtests']]}, "
                                         f"pytestd with xdist {[s.get('outcome') for s in g.get('subtests') or []]}"))
    return out


# --- running both sides -----------------------------------------------------------------------------------------


# Set around this check, they would change what pytest runs; the daemon (started later) inherits their absence.
for _key in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_XDIST_WORKER"):
    os.environ.pop(_key, None)


def run_env():
    return dict(os.environ, PYTHONDONTWRITEBYTECODE="1")


def run_oracle(python, case, tmpdir):
    report_log = os.path.join(tmpdir, f"{uuid.uuid4()}.jsonl")
    cmd = [python, "-m", "pytest", "--rootdir", case.cwd, f"--report-log={report_log}", *case.oracle_args]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=case.cwd, env=run_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S)
    oracle = oracle_results(report_log)
    return oracle, proc.returncode, proc.stdout, time.monotonic() - started


RUN_ENV = {"PYTHONDONTWRITEBYTECODE": "1"}


def must_start_cold(case):
    """The daemon starts these cold even with a warm template: xdist and plugin choices (see the runner's warm/key.rs)."""
    return any(a.startswith("-n") or a.startswith("-p") or a.startswith("--dist") for a in case.args)


def run_pytestd(client, python, cases, warm):
    """Starts every case's run at once (the daemon queues past maxParallel) and collects the answers; `warm`: fork
    the runs from the projects' warm templates, else start each cold."""
    runs = {}
    for case in cases:
        run = client.run_tests(case.cwd, None, args=case.args, python=python,
                               env=RUN_ENV, timeoutMs=RUN_TIMEOUT_S * 1000,
                               stopOnCollectionErrors=not case.daemon_default, warm=warm)
        runs[run.request_id] = {"case": case, "run_id": run.run_id, "streamed": {}, "result": None, "warm": None}
    by_run_id = {r["run_id"]: r for r in runs.values()}
    pending = set(runs)
    for msg in client.messages():
        if "method" in msg:
            params = msg.get("params") or {}
            r = by_run_id.get(params.get("runId"))
            if r is not None and msg["method"] == "testResult":
                r["streamed"][params.get("testId")] = params.get("outcome")
            if r is not None and msg["method"] == "runStarted":
                r["warm"] = bool(params.get("warm"))
            continue
        r = runs.get(msg.get("id"))
        if r is None:
            continue
        if msg.get("error"):
            raise PytestdError(msg["error"].get("code"), msg["error"].get("message", ""))
        r["result"] = msg["result"]
        pending.discard(msg["id"])
        if not pending:
            break
    if pending:
        raise PytestdError(None, "pytestd exited before answering every run")
    return {r["case"].name: r for r in runs.values()}


def warm_up(client, python, cases):
    """Makes every project's warm template ready: a quick run per project asks for it (the cold round already told
    the daemon what the projects import), then listRuns is polled until each project has a ready template."""
    cwds = sorted({case.cwd for case in cases})
    for cwd in cwds:
        list(client.run_tests(cwd, None, args=["--collect-only", "-q"], python=python, env=RUN_ENV,
                              timeoutMs=RUN_TIMEOUT_S * 1000))
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        templates = client.request("listRuns", {}).get("templates", [])
        ready = {t["cwd"] for t in templates
                 if t["state"] == "ready" and os.path.realpath(t["python"]) == os.path.realpath(python)}
        if set(cwds) <= ready:
            return
        if time.monotonic() > deadline:
            raise PytestdError(None, f"no warm template got ready for {sorted(set(cwds) - ready)}")
        time.sleep(0.2)


def probe(python):
    code = ("import importlib.util, pytest; print(pytest.__version__); "
            "print(','.join(m for m in ('pytest_reportlog', 'xdist') if importlib.util.find_spec(m) is None))")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except OSError as e:
        return None, str(e)
    if out.returncode != 0:
        return None, out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
    version, missing = (out.stdout.splitlines() + ["", ""])[:2]
    return version, (f"missing {missing}" if missing else None)


def version_tuple(version):
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pytestd", default=os.path.join(REPO, "target", "release", "pytestd"),
                    help="pytestd binary (default: target/release/pytestd)")
    ap.add_argument("--python", action="append",
                    help="interpreter with pytest, pytest-reportlog and pytest-xdist; repeat for several "
                         "(default: target/test-venv/bin/python)")
    ap.add_argument("--case", action="append", help="run only the cases with this name (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the oracle's output for mismatching cases")
    a = ap.parse_args(argv)
    if a.list:
        for case in CASES:
            need = f"  (pytest >= {'.'.join(map(str, case.min_pytest))})" if case.min_pytest else ""
            print(f"{case.name}: {' '.join(['tests/fixtures/fidelity/' + case.project] + case.args)} -> exit "
                  f"{case.exit_code}{need}")
        return 0
    cases = [c for c in CASES if not a.case or c.name in a.case]
    if not cases:
        print(f"check.py: no case named {a.case}", file=sys.stderr)
        return 2
    if not os.access(a.pytestd, os.X_OK):
        print(f"check.py: no pytestd at {a.pytestd}: cargo build --release -p pytestd, or pass --pytestd",
              file=sys.stderr)
        return 2
    pythons = [os.path.abspath(p) if os.sep in p else p
               for p in (a.python or [os.path.join(REPO, "target", "test-venv", "bin", "python")])]

    try:
        return check(a, cases, pythons)
    except (PytestdError, OSError, subprocess.TimeoutExpired) as e:
        print(f"check.py: the check could not finish: {e}", file=sys.stderr)
        return 2


def check(a, cases, pythons):
    total_tests = total_mismatches = 0
    lines = []
    os.environ.setdefault("RUST_LOG", "warn")
    with tempfile.TemporaryDirectory(prefix="pytestd-conformance-") as tmpdir, \
            PytestdClient(a.pytestd, init_options={"maxParallel": 4, "warmTemplates": len({c.cwd for c in cases})},
                          timeout=RUN_TIMEOUT_S + 60) as client:
        for python in pythons:
            version, problem = probe(python)
            if version is None or problem:
                print(f"check.py: {python}: {problem or 'no pytest'}", file=sys.stderr)
                return 2
            started = time.monotonic()
            runnable = []
            for case in cases:
                if case.min_pytest and version_tuple(version) < case.min_pytest:
                    print(f"skipped [pytest {version}] {case.name}: needs pytest >= "
                          f"{'.'.join(map(str, case.min_pytest))}")
                else:
                    runnable.append(case)
            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
                oracles = {c.name: pool.submit(run_oracle, python, c, tmpdir) for c in runnable}
                # Each case twice: started cold, then forked from the project's warm template.
                rounds = [("cold", run_pytestd(client, python, runnable, warm=False))]
                warm_up(client, python, runnable)
                rounds.append(("warm", run_pytestd(client, python, runnable, warm=True)))
                tests = mismatches = 0
                for mode, answers in rounds:
                    for case in runnable:
                        oracle, oracle_exit, oracle_output, _ = oracles[case.name].result()
                        answer = answers[case.name]
                        found, compared = compare(case, oracle, oracle_exit, answer)
                        if case.same_as and case.same_as in oracles:
                            seen = {nodeid for nodeid, _, _ in found}
                            found += [m for m in compare_outcomes(case.same_as, oracles[case.same_as].result()[0][0],
                                                                  answer) if m[0] not in seen]
                        expect_warm = mode == "warm" and not must_start_cold(case)
                        if answer["warm"] != expect_warm:
                            found.append((None, "warm", f"the run was {'forked' if answer['warm'] else 'started cold'}"
                                                        f" in the {mode} round"))
                        tests += compared
                        mismatches += len(found)
                        state = "ok  " if not found else "FAIL"
                        print(f"{state} [pytest {version}] [{mode}] {case.name}: {compared} tests, "
                              f"{len(found)} mismatches")
                        for nodeid, field, text in found:
                            print(f"    MISMATCH {nodeid or '(run)'}: {field}: {text}")
                        if found and a.verbose:
                            tail = oracle_output.decode("utf-8", "replace").splitlines()[-40:]
                            print("    plain pytest's output ended with:\n" + "\n".join("      " + t for t in tail))
                        sys.stdout.flush()
            line = (f"conformance [pytest {version}]: {tests} tests compared cold and warm, {mismatches} mismatches "
                    f"({time.monotonic() - started:.1f} s)")
            print(line)
            lines.append(line)
            total_tests += tests
            total_mismatches += mismatches
    if len(pythons) > 1:
        for line in lines:
            print(line)
    print(f"conformance: {total_tests} tests compared, {total_mismatches} mismatches")
    return 1 if total_mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
