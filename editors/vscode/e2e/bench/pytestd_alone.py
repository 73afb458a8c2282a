"""Times pytestd alone, without an editor, for the benchmark (main.js): one daemon, a discoverTests and then a
runTests over a project, through the stdlib client in editors/scripting, reading every notification as an editor
would. Prints one JSON object:
{"startMs", "discoveryMs", "discovered", "runMs", "firstResultMs", "results", "passed", "status"}.

    python pytestd_alone.py PYTESTD PYTHON PROJECT PYTEST_ARG...
"""
import json, os, sys, time, uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripting"))
from pytestd_client import PytestdClient, Run  # noqa: E402


def ms_since(t):
    return round((time.monotonic() - t) * 1000, 1)


def main():
    pytestd, python, project, pytest_args = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3]), sys.argv[4:]
    os.environ.setdefault("RUST_LOG", "warn")
    out = {}
    t = time.monotonic()
    with PytestdClient(pytestd, init_options={"python": python, "pytestArgs": pytest_args}, timeout=600) as client:
        out["startMs"] = ms_since(t)
        t = time.monotonic()
        # Asked as the extension asks (stream: false, the tree only in the response) and read as a run is, every
        # notification included: a notification left unread would be scanned again for every later message.
        run_id = str(uuid.uuid4())
        discovery = Run(client, run_id, client.send_request("discoverTests",
                                                            {"runId": run_id, "cwd": project, "stream": False}))
        for _ in discovery:
            pass
        found = discovery.result
        out["discoveryMs"] = ms_since(t)
        out["discovered"] = sum(1 for n in found["tests"] if n["kind"] == "test")
        t = time.monotonic()
        run = client.run_tests(project)
        results = 0
        for note in run:
            if note["method"] == "testResult":
                results += 1
                if results == 1:
                    out["firstResultMs"] = ms_since(t)
        out["runMs"] = ms_since(t)
        out["results"] = results
        out["passed"] = run.result["summary"]["passed"]
        out["status"] = run.result["status"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
