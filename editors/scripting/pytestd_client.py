#!/usr/bin/env python3
"""A small stdlib-only client for pytestd (Python 3.8+), usable as a library and as a command.

pytestd speaks JSON-RPC 2.0 with LSP framing (Content-Length headers) on stdin/stdout. PytestdClient spawns
`pytestd serve`, does the initialize/initialized handshake and sends requests; run_tests() returns a Run that
yields the run's notifications (runStarted, testStarted, testResult, runOutput, runFinished) as they stream and
holds the runTests response (status, summary, results, errors, ...) in `run.result` once the run has ended.

    python3 pytestd_client.py [--pytestd PATH] [--python PY] PROJECT_DIR [TEST_ID...]

prints each result as it streams, then a summary; exits 0 if the run passed, 1 if tests failed, 2 otherwise.
"""
import argparse, collections, itertools, json, os, queue, shutil, subprocess, sys, threading, uuid


class PytestdError(Exception):
    """A JSON-RPC error response (code, message, data), or the daemon going silent or away (code None)."""

    def __init__(self, code, message, data=None):
        super().__init__(message if code is None else f"{message} (code {code})")
        self.code, self.data = code, data


class Run:
    """A runTests request in flight: iterate it for its notifications; `result` is set when the run has ended."""

    def __init__(self, client, run_id, request_id):
        self.client, self.run_id, self.request_id, self.result = client, run_id, request_id, None

    def __iter__(self):  # a generator whose return value is the result, so `result = yield from run` works too
        mine = (("id", self.request_id), ("run", self.run_id))
        while self.result is None:
            msg = self.client._take(mine)
            if "method" in msg:
                yield msg
            else:
                self.result = self.client._unwrap(msg)
        return self.result

    def cancel(self):
        return self.client.cancel_run(self.run_id)


class PytestdClient:
    """One `pytestd serve` process: start() first, close() at the end (or use `with`).

    init_options: initializationOptions (python, maxParallel, maxQueued, killGraceMs, pytestArgs, env).
    on_log: called with the params of each window/logMessage (else they are dropped). stderr: for the daemon's
    logs (inherited by default). timeout: seconds to wait for a message before raising PytestdError.
    """

    def __init__(self, pytestd="pytestd", init_options=None, on_log=None, stderr=None, timeout=None):
        self.cmd, self.init_options, self.on_log = pytestd, init_options, on_log
        self.stderr, self.timeout = stderr, timeout
        self.proc, self._ids = None, itertools.count(1)
        # Messages read but not yet claimed, by owner (see _owner), each with its place in the order of arrival:
        # a claim looks only at its owners' queues, so a large backlog of another run's messages costs it nothing.
        self._kept, self._arrival = {}, itertools.count()
        self._inbox, self._lock = queue.Queue(), threading.Lock()

    def start(self):
        """Spawn the daemon (in its own session: Ctrl-C is the caller's to handle) and initialize it."""
        self.proc = subprocess.Popen([self.cmd, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, start_new_session=True)
        threading.Thread(target=self._read_all, daemon=True).start()
        result = self.request("initialize", {"processId": os.getpid(), "capabilities": {},
                                             "initializationOptions": self.init_options or {}})
        self.notify("initialized")
        return result

    def _read_all(self):  # reader thread: framed messages from the daemon's stdout into the inbox, None at EOF
        try:
            while True:
                lines = itertools.takewhile(bytes.strip, iter(self.proc.stdout.readline, b""))
                headers = dict(line.decode("ascii").lower().split(":", 1) for line in lines)
                length = int(headers["content-length"])
                self._inbox.put(json.loads(self.proc.stdout.read(length).decode("utf-8")))
        except (KeyError, ValueError):
            pass  # EOF (no headers) or a broken frame: either way the conversation is over
        finally:
            self._inbox.put(None)

    def _send(self, msg):
        body = json.dumps(dict(msg, jsonrpc="2.0")).encode("utf-8")
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            self.proc.stdin.flush()

    @staticmethod
    def _owner(msg):
        """("id", request id) for a response, ("run", runId) for a run's notification, ("other", None) else."""
        if "method" not in msg:
            return ("id", msg.get("id"))
        params = msg.get("params")
        run_id = params.get("runId") if isinstance(params, dict) else None
        return ("other", None) if run_id is None else ("run", run_id)

    def _claim_kept(self, owners):
        """The earliest kept message of any of owners (all owners if None), removed; None if there is none."""
        keys = [k for k in (self._kept if owners is None else owners) if k in self._kept]
        if not keys:
            return None
        key = min(keys, key=lambda k: self._kept[k][0][0])
        kept = self._kept[key]
        msg = kept.popleft()[1]
        if not kept:
            del self._kept[key]
        return msg

    def _take(self, owners=None):
        """The first message, kept back earlier or new, belonging to one of owners (any message if None; see
        _owner); others are kept back for their owners."""
        msg = self._claim_kept(owners)
        if msg is not None:
            return msg
        while True:
            try:
                msg = self._inbox.get(timeout=self.timeout)
            except queue.Empty:
                raise PytestdError(None, f"no message from pytestd in {self.timeout} s") from None
            if msg is None:
                self._inbox.put(None)  # stay at end of input for later callers
                raise PytestdError(None, f"pytestd exited (status {self.proc.wait()})")
            if "method" in msg and "id" in msg:  # a request from the daemon: answer it, none needs more
                self._send({"id": msg["id"], "result": None})
            owner = self._owner(msg)
            if msg.get("method") == "window/logMessage":
                self.on_log and self.on_log(msg.get("params"))
            elif owners is None or owner in owners:
                return msg
            else:
                self._kept.setdefault(owner, collections.deque()).append((next(self._arrival), msg))

    @staticmethod
    def _unwrap(response):
        err = response.get("error")
        if err:
            raise PytestdError(err.get("code"), err.get("message", ""), err.get("data"))
        return response.get("result")

    def send_request(self, method, params=None):
        """Send a request without waiting for its response; returns its id."""
        rid = next(self._ids)
        self._send({"id": rid, "method": method, "params": {} if params is None else params})
        return rid

    def request(self, method, params=None):
        """Send a request and wait for its result (an error response raises PytestdError)."""
        rid = self.send_request(method, params)
        return self._unwrap(self._take((("id", rid),)))

    def notify(self, method, params=None):
        self._send({"method": method, "params": {} if params is None else params})

    def messages(self):
        """Yield every message no request or Run has consumed, in order of arrival, until the daemon exits."""
        try:
            while True:
                yield self._take()
        except PytestdError as e:
            if e.code is not None or self.proc.poll() is None:
                raise  # an error response or a timeout, not the end

    def run_tests(self, cwd, test_ids=None, run_id=None, **params):
        """Start a run now; params: args, python, env, timeoutMs. Returns a Run (iterate it for notifications)."""
        params.update(runId=run_id or str(uuid.uuid4()), cwd=os.path.abspath(cwd))
        if test_ids:
            params["testIds"] = list(test_ids)
        return Run(self, params["runId"], self.send_request("runTests", params))

    def cancel_run(self, run_id):
        """Returns {runId, state: "cancelled" | "alreadyFinished"}."""
        return self.request("cancelRun", {"runId": run_id})

    def close(self):
        """shutdown, exit, and wait for the daemon to end (killed after 10 s)."""
        try:
            self.request("shutdown")
            self.notify("exit")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (PytestdError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.proc and self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()


def _ms(ms):
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run a project's tests through pytestd, printing results as they come.")
    ap.add_argument("--pytestd", help="pytestd binary (default: pytestd from PATH, else <repo>/target/release/pytestd)")
    ap.add_argument("--python", help="Python interpreter with pytest installed (default: the daemon's choice)")
    ap.add_argument("--timeout", type=float, help="time limit for the whole run, in seconds")
    ap.add_argument("project", help="project directory; pytest runs there")
    ap.add_argument("test_ids", nargs="*", help="pytest node ids (default: the whole suite)")
    a = ap.parse_args(argv)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pytestd = a.pytestd or shutil.which("pytestd") or os.path.join(repo, "target", "release", "pytestd")
    os.environ.setdefault("RUST_LOG", "warn")  # the daemon's info logs would drown the results
    extra = {k: v for k, v in (("python", a.python), ("timeoutMs", a.timeout and int(a.timeout * 1000))) if v}
    try:
        with PytestdClient(pytestd) as client:
            run = client.run_tests(a.project, a.test_ids, **extra)
            try:
                for note in run:
                    p = note["params"]
                    if note["method"] == "testResult":
                        print(f"{p['outcome'].upper():<7} {p['testId']}  ({_ms(p.get('durationMs', 0))})")
                        if p["outcome"] != "passed" and p.get("message"):
                            print("\n".join(("    " + line).rstrip() for line in p["message"].splitlines()))
                        sys.stdout.flush()
            except KeyboardInterrupt:
                print(f"interrupted: cancelling run {run.run_id}", file=sys.stderr)
                run.cancel()
                for _ in run:
                    pass
    except FileNotFoundError:
        print(f"pytestd_client: no {pytestd}: cargo build --release -p pytestd, or pass --pytestd", file=sys.stderr)
        return 2
    except (PytestdError, OSError) as e:
        print(f"pytestd_client: {e}", file=sys.stderr)
        return 2
    res, s = run.result, run.result["summary"]
    for err in res.get("errors") or []:
        print(f"ERROR {err}")
    others = [f"{s[k]} {k}" for k in ("skipped", "errors", "xfailed", "xpassed") if s.get(k)]
    code = "" if res.get("exitCode") is None else f", pytest exit code {res['exitCode']}"
    print(f"run {res['status']} in {_ms(res.get('durationMs', 0))}{code}")
    print(", ".join([f"{s['passed']} passed", f"{s['failed']} failed"] + others))
    return {"passed": 0, "failed": 1}.get(res["status"], 2)


if __name__ == "__main__":
    sys.exit(main())
