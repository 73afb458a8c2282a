"""What real pytest says about a fixture folder, as JSON on stdout: the oracle the end-to-end test compares the
Testing view with. Runs pytest in-process in the current directory:

    python oracle.py OUT.json

{"tests": {nodeid: {"line": 1-based definition line, "markers": [...], "outcome": "passed|failed|error|skipped|
xfailed|xpassed", "reason": str|null}}, "collectionErrors": [{"path": ..., "message": ...}]}
"""
import json
import sys

import pytest

# Markers the protocol leaves out of a test's tags: they shape collection rather than describe the test.
NOT_TAGS = {"parametrize", "usefixtures", "filterwarnings"}


class Oracle:
    def __init__(self):
        self.tests = {}
        self.collection_errors = []

    def pytest_collection_modifyitems(self, items):
        for item in items:
            _, line, _ = item.location
            markers = sorted({m.name for m in item.iter_markers()} - NOT_TAGS)
            self.tests[item.nodeid] = {"line": line + 1, "markers": markers, "outcome": None, "reason": None}

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append({"path": report.nodeid, "message": str(report.longrepr)})

    def pytest_runtest_logreport(self, report):
        test = self.tests[report.nodeid]
        if hasattr(report, "wasxfail"):
            test["outcome"] = "xfailed" if report.skipped else "xpassed"
            test["reason"] = report.wasxfail
        elif report.when == "call" or report.outcome != "passed":
            if test["outcome"] in (None, "passed"):
                errored = report.failed and report.when != "call"
                test["outcome"] = "error" if errored else report.outcome
                if report.skipped:
                    test["reason"] = report.longrepr[2]


def main():
    oracle = Oracle()
    pytest.main(["-q", "-p", "no:cacheprovider", "--continue-on-collection-errors"], plugins=[oracle])
    with open(sys.argv[1], "w") as out:
        json.dump({"tests": oracle.tests, "collectionErrors": oracle.collection_errors}, out, indent=1)


if __name__ == "__main__":
    main()
