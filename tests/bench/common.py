"""What the benchmarks share: a JSON-RPC client for the daemon, generated suites, timing in rotating rounds, and
a description of the machine a figure came from.

The client reads the daemon's output in large chunks and parses every message (a client that skipped parsing would
flatter the daemon), counting the `testResult` notifications of the request it waits for.
"""

import json
import os
import platform
import statistics
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Both sides run with these flags: quiet output (one progress line per 80 tests rather than one per test) and no
# cache plugin, so neither side writes .pytest_cache between rounds and every round runs the same work.
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider"]


class Daemon:
    """One `pytestd serve`, initialized; `options` go into initializationOptions beside the interpreter."""

    def __init__(self, pytestd, python, options=None, env=None):
        self.p = subprocess.Popen([pytestd, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env)
        self.fd = self.p.stdout.fileno()
        self.buf = bytearray()
        self.next_id = 0
        init = {"python": python}
        init.update(options or {})
        reply, _ = self.request("initialize", {"capabilities": {}, "initializationOptions": init})
        if "error" in reply:
            raise SystemExit("pytestd refused its settings: %s" % reply["error"])
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    @property
    def pid(self):
        return self.p.pid

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.p.stdin.flush()

    def recv(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                length = None
                for line in bytes(self.buf[:end]).split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                start = end + 4
                if length is not None and len(self.buf) >= start + length:
                    body = bytes(self.buf[start:start + length])
                    del self.buf[:start + length]
                    return json.loads(body)
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise EOFError("pytestd closed its output")
            self.buf += chunk

    def request(self, method, params, on_message=None):
        """Sends a request and returns (its response, how many testResult notifications came before it)."""
        self.next_id += 1
        request_id = self.next_id
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        streamed = 0
        while True:
            msg = self.recv()
            if msg.get("id") == request_id:
                return msg, streamed
            if msg.get("method") == "testResult":
                streamed += 1
            if on_message is not None:
                on_message(msg)

    def close(self):
        try:
            self.request("shutdown", None)
            self.send({"jsonrpc": "2.0", "method": "exit"})
            self.p.wait(timeout=30)
        except (OSError, EOFError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


def make_suite(root, tests, per_file=100):
    """`tests` trivial passing tests in files of `per_file`; returns their ids in collection order."""
    ids = []
    for f in range((tests + per_file - 1) // per_file):
        name = "test_m%04d.py" % f
        count = min(per_file, tests - f * per_file)
        with open(os.path.join(root, name), "w") as fh:
            for t in range(count):
                fh.write("def test_%d():\n    pass\n" % t)
                ids.append("%s::test_%d" % (name, t))
    with open(os.path.join(root, "pytest.ini"), "w") as fh:
        fh.write("[pytest]\n")
    return ids


def add_binary_args(parser):
    """The options every benchmark shares: which pytestd and which Python."""
    parser.add_argument("--pytestd", default=os.path.join(REPO, "target", "release", "pytestd"))
    venv_python = os.path.join(REPO, "target", "test-venv", "bin", "python")
    parser.add_argument("--python", default=os.environ.get("PYTESTD_TEST_PYTHON", venv_python))


def rounds(scenarios, count, on_round=None):
    """Times each (name, fn) `count` times, the order rotated every round: on a shared machine a run's place in a
    burst of load shifts its time, and a fixed order would hand that bias to one scenario. Returns name -> list of
    seconds (fn may return its own seconds; otherwise the call is timed)."""
    times = {name: [] for name, _ in scenarios}
    for r in range(count):
        k = r % len(scenarios)
        for name, fn in scenarios[k:] + scenarios[:k]:
            started = time.perf_counter()
            seconds = fn()
            times[name].append(seconds if seconds is not None else time.perf_counter() - started)
        if on_round is not None:
            on_round(r, {name: t[-1] for name, t in times.items()})
    return times


def median(values):
    return statistics.median(values) if values else float("nan")


def load():
    return os.getloadavg()[0]


def machine(python, pytestd=None):
    """The machine and the software a figure came from."""
    info = {"cores": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        with open("/proc/meminfo") as f:
            total_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
        info["ram_gib"] = round(total_kb / (1 << 20), 1)
    except (OSError, StopIteration):
        pass
    versions = subprocess.run(
        [python, "-c", "import sys, pytest; print(sys.version.split()[0], pytest.__version__)"],
        capture_output=True, text=True)
    if versions.returncode == 0:
        info["python"], info["pytest"] = versions.stdout.split()
    if pytestd:
        out = subprocess.run([pytestd, "--version"], capture_output=True, text=True)
        info["pytestd"] = out.stdout.strip()
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if commit.returncode == 0:
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        info["commit"] = commit.stdout.strip() + ("+dirty" if dirty else "")
    return info


def rss_kb(pid, field="VmRSS"):
    """A process's resident memory (or its peak, `VmHWM`), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0
