"""Coverage runs for pytestd: coverage.py measures, this module only starts, names and reports it.

pytestd's plugin starts coverage.py when it is imported (before the project's conftest files and test modules),
switches coverage.py's dynamic context to each test's id when per-test coverage is asked for, and at the end of
the session saves its data. The process that talks to the daemon then combines the data of every process of the
run (pytest-xdist's workers write their own) and writes coverage.py's JSON report, and LCOV or Cobertura XML when
asked; the daemon reads the JSON report. ``python -m pytestd_coverage SETTINGS_JSON`` does that combining and
reporting alone, for runs split across several pytest processes that each only saved their data.

Settings (JSON, from the daemon): ``dataFile`` (coverage.py's data file; each process writes
``<dataFile>.<tag>.<pid>``), ``tag``, ``branch``, ``include``, ``omit``, ``perTest``, and ``report``, ``lcov``,
``xml`` (report files; without ``report`` a process only saves its data). ``combine`` lists data files to combine
instead of this run's own (for a run split across pytest processes, each of which combined its own).
"""

import glob
import json
import os
import sys


class CoverageMissing(Exception):
    """coverage.py cannot be imported in this interpreter."""


def _import():
    try:
        import coverage
    except ImportError as exc:
        raise CoverageMissing(
            "coverage.py is not installed for %s (%s): install it with `%s -m pip install coverage`"
            % (sys.executable, exc, sys.executable)) from exc
    return coverage


# pytestd's own modules live here; they are never the project's coverage.
_OWN_FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "*")


def _coverage(settings, suffix):
    coverage = _import()
    cov = coverage.Coverage(
        data_file=settings["dataFile"],
        data_suffix=suffix,
        branch=settings.get("branch"),
        include=settings.get("include"),
        omit=settings.get("omit"),
        config_file=True,
    )
    cov.set_option("run:omit", list(cov.get_option("run:omit") or []) + [_OWN_FILES])
    return cov


def start(settings):
    """Starts measuring this process; returns the Coverage object."""
    cov = _coverage(settings, "%s.%d" % (settings["tag"], os.getpid()))
    cov.start()
    return cov


def finish(cov, settings, report):
    """Stops and saves this process's data; with `report`, combines the run's data and writes the reports."""
    cov.switch_context("")  # what runs after the last test belongs to no test
    cov.stop()
    cov.save()
    if report:
        return write_reports(settings)
    return None


def write_reports(settings):
    """Combines every data file of the run and writes the JSON report (and LCOV, XML); returns the JSON's path."""
    cov = _coverage(settings, None)
    parts = settings.get("combine")
    if parts is None:
        parts = sorted(glob.glob(glob.escape(settings["dataFile"]) + "." + glob.escape(settings["tag"]) + ".*"))
    if parts:
        cov.combine(parts, keep=False)
    else:
        cov.load()
    out = settings["report"]
    try:
        cov.json_report(outfile=out, show_contexts=bool(settings.get("perTest")))
        if settings.get("lcov"):
            cov.lcov_report(outfile=settings["lcov"])
        if settings.get("xml"):
            cov.xml_report(outfile=settings["xml"])
    except Exception as exc:  # noqa: BLE001 - coverage.py's NoDataError: nothing was measured
        if type(exc).__name__ != "NoDataError":
            raise
        with open(out, "w", encoding="utf-8") as f:
            json.dump({"files": {}, "totals": {"num_statements": 0, "covered_lines": 0, "missing_lines": 0,
                                              "percent_covered": 100.0}}, f)
    return out


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: python -m pytestd_coverage SETTINGS_JSON\n")
        return 2
    try:
        write_reports(json.loads(argv[1]))
    except CoverageMissing as exc:
        sys.stderr.write("%s\n" % exc)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
