#!/usr/bin/env python3
"""Soak test: overlapping runs, cancels, protocol garbage and result-socket attacks thrown at one pytestd.

Until the time is up, a fixed mix (seeded, so a failure can be replayed) goes to one daemon:
- bursts of runTests (quick tests, slow tests, failing tests, a test whose grandchild ignores SIGTERM, a test that
  attacks the result socket from inside its run), cancelRun of random live runs (some twice), listRuns polls;
- protocol garbage on the same stdin, glued in front of real requests: bad headers, bad or oversized Content-Length,
  bodies shorter or longer than their length, invalid JSON, invalid UTF-8, lone surrogates, JSON that is not JSON-RPC,
  unknown methods and `$/` requests with ids, `$/` notifications, random bytes;
- result-socket attacks from this process, outside every run: connections that never say hello, floods beyond the
  daemon's connection caps, hellos with a wrong token, and a hello with a live run's id and token stolen from its
  environment, followed by a forged report. From inside a run, test_attack.py opens idle connections beyond the
  per-run cap and says hello with a wrong token.

Invariants, each checked throughout, any one broken fails the soak (exit 1):
- every request with an id is answered exactly once: runTests, cancelRun and listRuns, and every piece of garbage
  whose id can be read (with the error code that kind of garbage must get); garbage whose id cannot be read gets an
  error with id null, and nothing is answered under an id that was never sent;
- every cancelRun is answered within 10 s (the slowest is reported);
- a run that was not cancelled reports its tests as they are (test_quick: one pass, one failure; test_attack passes,
  which means the socket refused what it had to), and no forged report reaches the client;
- never more than maxParallel pytest processes of this daemon are alive at a sample;
- the socket refuses every attack, and the daemon keeps no descriptor of the attacks once they are over;
- when the daemon exits, no process it started is left.

Usage: python3 tests/bench/soak.py [--seconds 60 | --minutes 2] [--max-parallel 4] [--seed 7] [--flood 1100]
       [--pytestd PATH] [--python PY]
The last line starts with `soak:`, and says `ok` or how many invariants broke.
"""

import argparse
import json
import os
import queue
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import add_binary_args  # noqa: E402

FORGED_ID = "forged.py::test_forged"
ATTACK_ID = "test_attack.py::test_attacks_from_inside_are_refused"

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
    # From inside its own run (so from the run's process group): a hello with a wrong token, then more idle
    # connections than a run may hold. The daemon must refuse the first and the ones beyond the cap at once, and
    # close the held ones at the hello deadline.
    "test_attack.py": r'''
import json
import os
import select
import socket
import time

FORGED = {"type": "report", "nodeid": "forged.py::test_forged", "when": "call", "outcome": "passed", "duration": 0}


def connect():
    address = os.environ["PYTESTD_SOCKET"]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(30)
    conn.connect("\0" + address[1:] if address.startswith("@") else address)
    return conn


def read_to_close(conn):
    data = b""
    while True:
        try:
            chunk = conn.recv(4096)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            conn.close()
            return data.decode()
        data += chunk


def test_attacks_from_inside_are_refused():
    conn = connect()
    hello = {"type": "hello", "runId": os.environ["PYTESTD_RUN_ID"], "token": "wrong", "pid": 1, "pytestVersion": "x"}
    try:
        conn.sendall((json.dumps(hello) + "\n" + json.dumps(FORGED) + "\n").encode())
    except (BrokenPipeError, ConnectionResetError):
        pass
    said = read_to_close(conn)
    assert "refused" in said and "wrong token" in said, said

    started = time.monotonic()
    conns = [connect() for _ in range(8)]
    held, refused = list(conns), []
    while len(held) > 3 and time.monotonic() - started < 5:
        ready, _, _ = select.select(held, [], [], 0.1)
        refused += [read_to_close(c) for c in ready]
        held = [c for c in held if c not in ready]
    assert len(held) == 3, "the plugin's connection and 3 more are held: %r" % refused
    assert all("too many connections from the process group" in text for text in refused), refused
    closed = [read_to_close(c) for c in held]
    assert all("no hello within" in text for text in closed), closed
''',
}

# What each kind of run must report when it was not cancelled: test id -> outcome.
EXPECTED = {
    "quick": {"test_quick.py::test_a": "passed", "test_quick.py::test_b": "failed"},
    "slow": {"test_slow.py::test_slow": "passed"},
    "stubborn": {},
    "attack": {ATTACK_ID: "passed"},
    "all": {"test_quick.py::test_a": "passed", "test_quick.py::test_b": "failed", ATTACK_ID: "passed"},
}
SELECTION = {"quick": ["test_quick.py"], "slow": ["test_slow.py"], "stubborn": ["test_stubborn.py"],
             "attack": ["test_attack.py"], "all": []}

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
# How long any one answer may take, however loaded the machine: far beyond a healthy daemon, short of a hang.
REPLY_TIMEOUT = 10.0
# How many connections a flood opens by default: beyond the daemon's cap of 1024 held connections.
FLOOD = 1100


def frame(body):
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def body(msg):
    return json.dumps(msg).encode()


def garbage(rng, gid):
    """One piece of protocol garbage: (kind, bytes, the error code its id `gid` must be answered with, or None when
    no answer under its id is due)."""
    request = body({"jsonrpc": "2.0", "id": gid, "method": "listRuns", "params": {}})
    kind = rng.choice([
        "bad-length", "no-length", "bare", "lf-headers", "short-length", "long-length", "oversize", "invalid-json",
        "invalid-utf8", "invalid-utf8-unread", "surrogate", "surrogate-unread", "not-json-rpc", "unknown-method",
        "dollar-request", "dollar-notification", "bad-header-bytes", "random-bytes",
    ])
    if kind == "bad-length":
        return kind, b"Content-Length: abc\r\n\r\n" + request, PARSE_ERROR
    if kind == "no-length":
        return kind, b"Content-Type: application/json\r\n\r\n" + request, PARSE_ERROR
    if kind == "bare":
        return kind, request, PARSE_ERROR
    if kind == "lf-headers":
        return kind, b"Content-Length: %d\n\n%s" % (len(request), request), PARSE_ERROR
    if kind == "short-length":
        return kind, b"Content-Length: %d\r\n\r\n%s" % (rng.randint(1, 20), request), PARSE_ERROR
    if kind == "long-length":
        # A truncated body: the length promises more than comes before the next frame.
        return kind, b"Content-Length: %d\r\n\r\n%s" % (len(request) + rng.randint(1, 400), request), PARSE_ERROR
    if kind == "oversize":
        return kind, b'Content-Length: 1000000000000\r\n\r\n{"jsonrpc":', None
    if kind == "invalid-json":
        text = b'{"jsonrpc":"2.0","id":%s,"method":"listRuns","params":{oops}' % json.dumps(gid).encode()
        return kind, frame(text), PARSE_ERROR
    if kind == "invalid-utf8":
        text = b'{"jsonrpc":"2.0","id":%s,"method":"listRuns","params":{"x":"\xff\xfe"}}' % json.dumps(gid).encode()
        return kind, frame(text), PARSE_ERROR
    if kind == "invalid-utf8-unread":
        # In a field no message type has: a parser that skips it unread would pass the body on.
        text = b'{"jsonrpc":"2.0","id":%s,"method":"listRuns","params":{},"x":"\xff"}' % json.dumps(gid).encode()
        return kind, frame(text), PARSE_ERROR
    if kind == "surrogate":
        text = b'{"jsonrpc":"2.0","id":%s,"method":"runTests","params":{"cwd":"\\ud800"}}' % json.dumps(gid).encode()
        return kind, frame(text), INVALID_PARAMS
    if kind == "surrogate-unread":
        text = b'{"jsonrpc":"2.0","id":%s,"method":"listRuns","params":{},"x":"\\ud800"}' % json.dumps(gid).encode()
        return kind, frame(text), INVALID_PARAMS
    if kind == "not-json-rpc":
        return kind, frame(body({"id": gid, "a": 1})), INVALID_REQUEST
    if kind == "unknown-method":
        return kind, frame(body({"jsonrpc": "2.0", "id": gid, "method": "pytestd/noSuchMethod", "params": {}})), \
            METHOD_NOT_FOUND
    if kind == "dollar-request":
        return kind, frame(body({"jsonrpc": "2.0", "id": gid, "method": "$/noSuchRequest", "params": {}})), \
            METHOD_NOT_FOUND
    if kind == "dollar-notification":
        return kind, frame(body({"jsonrpc": "2.0", "method": "$/noSuchNotification", "params": {}})), None
    if kind == "bad-header-bytes":
        return kind, rng.choice([b"\x00\xff\r\n\r\n", b"a:b", b"Foo bar\r\n\r\n", b"Content-Length: 12"]), None
    return kind, bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))), None


class Client:
    """pytestd on pipes; a thread reads its frames into a queue, each stamped with its arrival time."""

    def __init__(self, pytestd, python, log):
        self.p = subprocess.Popen([pytestd, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self.inbox = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0
        self.write(frame(body({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                               "params": {"capabilities": {}, "initializationOptions": {"python": python}}})))
        msg = {}
        while msg.get("id") != 0:
            msg, _ = self.recv(REPLY_TIMEOUT)
        if "result" not in msg:
            raise RuntimeError("initialize failed: %s" % msg)
        self.write(frame(body({"jsonrpc": "2.0", "method": "initialized", "params": {}})))

    def _read(self):
        out = self.p.stdout
        try:
            while True:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        return
                    if line == b"\r\n":
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.inbox.put((json.loads(out.read(length)), time.perf_counter()))
        finally:
            self.inbox.put((None, time.perf_counter()))

    def write(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def recv(self, timeout):
        """The next message and its arrival time; raises queue.Empty after `timeout`, EOFError once output ended."""
        msg, at = self.inbox.get(timeout=timeout)
        if msg is None:
            self.inbox.put((None, at))
            raise EOFError("pytestd closed its output")
        return msg, at


class Soak:
    def __init__(self, args, root, mark):
        self.args, self.root, self.mark = args, root, mark
        self.rng = random.Random(args.seed)
        self.broken = []
        self.pending = {}  # id -> (what, detail); what is a method or "garbage"
        self.answers = {}
        self.sent_at = {}
        self.cancel_ms = []
        self.unanswered_cancels = set()
        self.live = {}  # run id -> kind, runs not answered yet
        self.run_ids = set()
        self.cancelled = set()
        self.counts = {"runTests": 0, "cancelRun": 0, "listRuns": 0, "garbage": 0, "garbage-with-id": 0,
                       "null-id-errors": 0, "notifications": 0}
        self.garbage_kinds = {}
        self.attacks = {}
        self.statuses = {}
        self.max_seen = 0
        self.max_seen_commands = []
        self.socket_address = None

    def violation(self, text):
        if len(self.broken) < 50:
            print("BROKEN: " + text, flush=True)
        self.broken.append(text)

    # The protocol side.

    def send(self, method, params, glue=b""):
        self.client.next_id += 1
        mid = self.client.next_id
        self.pending[mid] = (method, params)
        self.counts[method] += 1
        self.sent_at[mid] = time.perf_counter()
        self.client.write(glue + frame(body({"jsonrpc": "2.0", "id": mid, "method": method, "params": params})))
        return mid

    def some_garbage(self):
        """Garbage to glue in front of the next request, half the time."""
        if self.rng.random() < 0.5:
            return b""
        gid = "g-%d" % self.counts["garbage"]
        kind, data, code = garbage(self.rng, gid)
        self.counts["garbage"] += 1
        self.garbage_kinds[kind] = self.garbage_kinds.get(kind, 0) + 1
        if code is not None:
            self.counts["garbage-with-id"] += 1
            self.pending[gid] = ("garbage", (kind, code))
        return data

    def run_tests(self):
        kind = self.rng.choice(["quick", "quick", "quick", "slow", "stubborn", "attack", "attack", "all"])
        run_id = uuid.uuid4().hex
        self.live[run_id] = kind
        self.run_ids.add(run_id)
        self.send("runTests", {"cwd": self.root, "runId": run_id, "testIds": SELECTION[kind]}, self.some_garbage())

    def cancel(self, run_id):
        self.cancelled.add(run_id)
        mid = self.send("cancelRun", {"runId": run_id}, self.some_garbage())
        self.unanswered_cancels.add(mid)

    def handle(self, msg, at):
        if "method" in msg:
            self.counts["notifications"] += 1
            params = msg.get("params") or {}
            if params.get("testId") == FORGED_ID or (params.get("result") or {}).get("testId") == FORGED_ID:
                self.violation("a forged report reached the client: %s" % msg)
            return
        mid = msg.get("id")
        if mid is None:
            self.counts["null-id-errors"] += 1
            if "error" not in msg:
                self.violation("an answer without an id that is not an error: %s" % msg)
            return
        if mid in self.answers:
            self.violation("%r answered twice: %s" % (mid, msg))
            return
        if mid not in self.pending:
            self.violation("an answer under an id never sent: %s" % msg)
            return
        self.answers[mid] = msg
        what, detail = self.pending[mid]
        if what == "garbage":
            kind, code = detail
            got = (msg.get("error") or {}).get("code")
            if got != code:
                self.violation("garbage %s (%s) answered %s, not error %d" % (mid, kind, msg, code))
        elif what == "cancelRun":
            self.unanswered_cancels.discard(mid)
            self.cancel_ms.append((at - self.sent_at[mid]) * 1000)
            if "result" not in msg:
                self.violation("cancelRun %s failed: %s" % (mid, msg))
        elif what == "listRuns":
            if "result" not in msg:
                self.violation("listRuns %s failed: %s" % (mid, msg))
        elif what == "runTests":
            self.check_run(detail["runId"], msg)

    def check_run(self, run_id, msg):
        kind = self.live.pop(run_id, None)
        result = msg.get("result")
        if result is None:
            self.violation("runTests %s (%s) answered an error: %s" % (run_id, kind, msg))
            return
        status = result["status"]
        key = "%s %s" % (kind, status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if FORGED_ID in result.get("results", {}):
            self.violation("a forged report is in the result of run %s" % run_id)
        if status in ("cancelled", "timedOut") and run_id in self.cancelled:
            return
        for test_id, outcome in EXPECTED[kind].items():
            got = result.get("results", {}).get(test_id, {})
            if got.get("outcome") != outcome:
                self.violation("run %s (%s, %s): %s is %s, not %s: %s" % (
                    run_id, kind, status, test_id, got.get("outcome"), outcome,
                    got.get("message") or got.get("traceback") or result.get("errors")))

    def drain(self, until=None, timeout=REPLY_TIMEOUT):
        """Handles every message that has come; with `until`, waits (at most `timeout`) until it holds."""
        deadline = time.perf_counter() + timeout
        while True:
            if until is not None and until():
                return True
            wait = 0 if until is None else max(0.0, deadline - time.perf_counter())
            try:
                msg, at = self.client.recv(wait)
            except queue.Empty:
                return until is None
            self.handle(msg, at)

    # The result socket side.

    def marked_env(self, leaders_only):
        """Environments of live pytest processes of this soak (only group leaders: one per running run)."""
        found = []
        needle = self.mark.encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    environ = f.read()
                if needle not in environ:
                    continue
                with open("/proc/%s/stat" % pid) as s:
                    fields = s.read().rsplit(")", 1)[1].split()
                if fields[0] == "Z" or (leaders_only and fields[2] != pid):
                    continue
                env = dict(v.split(b"=", 1) for v in environ.split(b"\0") if b"=" in v)
                env = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in env.items()}
                with open("/proc/%s/cmdline" % pid, "rb") as c:
                    env["/proc/cmdline"] = c.read().replace(b"\0", b" ").decode(errors="replace")[:200]
                found.append(env)
            except (OSError, ValueError):
                pass
        return found

    def connect(self):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(REPLY_TIMEOUT)
        address = self.socket_address
        conn.connect("\0" + address[1:] if address.startswith("@") else address)
        return conn

    @staticmethod
    def read_to_close(conn):
        data = b""
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            data += b"<kept open>"
        finally:
            conn.close()
        return data.decode(errors="replace")

    def expect_refused(self, attack, said, reasons):
        if "refused" not in said or not any(reason in said for reason in reasons):
            self.violation("socket attack %s was not refused as it should be: %r" % (attack, said[:300]))

    def attack(self):
        """One attack on the result socket from outside every run; needs a live run to learn the address."""
        # A pytest that has not exec'd yet shows the daemon's environment, without the run's variables; a process
        # forked from a warm worker shows the worker's, which may not hold the run's token.
        envs = [env for env in self.marked_env(leaders_only=True)
                if "PYTESTD_SOCKET" in env and env.get("PYTESTD_RUN_ID") in self.run_ids]
        if not envs:
            return
        victim = self.rng.choice(envs)
        self.socket_address = victim["PYTESTD_SOCKET"]
        outside = ["not in the process group of any live run", "too many result connections",
                   "too many connections waiting for a run to start"]
        kind = self.rng.choice(["silent", "wrong-token", "stolen-token", "stolen-token", "flood"])
        if kind == "stolen-token" and "PYTESTD_TOKEN" not in victim:
            kind = "wrong-token"
        self.attacks[kind] = self.attacks.get(kind, 0) + 1
        try:
            if kind == "silent":
                # Says nothing at all: refused at once, never held until the hello deadline.
                conns = [self.connect() for _ in range(20)]
                for conn in conns:
                    self.expect_refused(kind, self.read_to_close(conn), outside)
            elif kind in ("wrong-token", "stolen-token"):
                token = victim["PYTESTD_TOKEN"] if kind == "stolen-token" else uuid.uuid4().hex
                hello = {"type": "hello", "runId": victim["PYTESTD_RUN_ID"], "token": token, "pid": os.getpid(),
                         "pytestVersion": "9"}
                forged = {"type": "report", "nodeid": FORGED_ID, "when": "call", "outcome": "passed", "duration": 0}
                conn = self.connect()
                try:
                    conn.sendall((json.dumps(hello) + "\n" + json.dumps(forged) + "\n").encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused on sight, before the hello was read
                self.expect_refused(kind, self.read_to_close(conn), outside)
            else:
                conns = []
                for _ in range(self.args.flood):
                    try:
                        conns.append(self.connect())
                    except (ConnectionRefusedError, BlockingIOError, socket.timeout):
                        pass  # the listen backlog is full: the kernel turned it away, which is fine too
                for conn in conns:
                    self.expect_refused(kind, self.read_to_close(conn), outside)
        except OSError as err:
            self.violation("socket attack %s failed on this side: %s" % (kind, err))

    def sample(self):
        # Group leaders running one of this soak's runs: a process kept ready for later runs (a warm worker) is no
        # run's until it is handed one.
        leaders = [env for env in self.marked_env(leaders_only=True) if env.get("PYTESTD_RUN_ID") in self.run_ids]
        if len(leaders) > self.max_seen:
            self.max_seen = len(leaders)
            self.max_seen_commands = [env["/proc/cmdline"] for env in leaders]

    # The whole soak.

    def main(self, seconds):
        with open(os.path.join(self.root, "daemon.log"), "wb") as log:
            self.client = Client(self.args.pytestd, self.args.python, log)
            try:
                self.soak(seconds)
            except (EOFError, OSError) as err:
                self.violation("the daemon stopped serving: %s" % err)
        self.client.p.stdin.close()
        try:
            self.client.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.violation("the daemon did not exit within 60 s of its stdin closing")
            self.client.p.kill()
        if self.broken:
            with open(os.path.join(self.root, "daemon.log"), "rb") as log:
                tail = log.read()[-4000:].decode(errors="replace")
            print("daemon stderr (tail):\n" + tail, file=sys.stderr)

    def soak(self, seconds):
        client = self.client
        mark_name, mark_value = self.mark.split("=")
        client.write(frame(body({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {
            "settings": {"pytestd": {"maxParallel": self.args.max_parallel, "killGraceMs": 300,
                                     "env": {mark_name: mark_value}}}}})))
        # The daemon's descriptors before any attack: attacks must leave none behind.
        fds_before = len(os.listdir("/proc/%d/fd" % client.p.pid))
        deadline = time.time() + seconds
        next_sample = next_attack = 0.0
        while time.time() < deadline:
            # A queue that stays a few runs deep: long enough that cancels hit queued runs too, short enough that
            # most runs get to run, so their results (and the attacks from inside) are checked.
            if len(self.live) < 3 * self.args.max_parallel:
                for _ in range(self.rng.randint(1, 4)):
                    self.run_tests()
            if self.live and self.rng.random() < 0.1:
                target = self.rng.choice(sorted(self.live))
                self.cancel(target)
                if self.rng.random() < 0.2:
                    self.cancel(target)  # a second cancel kills at once
            if self.rng.random() < 0.3:
                self.send("listRuns", {}, self.some_garbage())
            # Every cancel sent must be answered before the next burst (the runs' answers arrive meanwhile).
            if not self.drain(until=lambda: not self.unanswered_cancels):
                self.violation("a cancelRun was not answered within %.0f s" % REPLY_TIMEOUT)
                return
            if time.time() >= next_attack:
                self.attack()
                next_attack = time.time() + self.rng.uniform(0.5, 2.0)
            time.sleep(0.05)  # a busy client, not a flood: bursts of a few requests, twenty times a second
            self.drain()
            if time.time() >= next_sample:
                self.sample()
                next_sample = time.time() + 0.2
        for run_id in sorted(self.live):
            self.cancel(run_id)
        # The kill ladder of every run still going, with room for a loaded machine.
        if not self.drain(until=lambda: len(self.answers) == len(self.pending), timeout=120):
            missing = sorted((str(m) for m in self.pending if m not in self.answers))
            self.violation("%d requests never answered: %s" % (len(missing), ", ".join(missing[:20])))
        # The daemon keeps serving after everything: one last request on a quiet line.
        last = self.send("listRuns", {})
        if not self.drain(until=lambda: last in self.answers):
            self.violation("the daemon did not answer a last listRuns")
        fds_after = len(os.listdir("/proc/%d/fd" % client.p.pid))
        if fds_after > fds_before + 8:
            self.violation("the daemon holds %d descriptors after the soak, %d before" % (fds_after, fds_before))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--max-parallel", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flood", type=int, default=FLOOD,
                        help="connections a flood opens (default %(default)s, beyond the daemon's total cap)")
    add_binary_args(parser)
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    # A flood needs more descriptors than the usual soft limit of 1024; the daemon inherits the raised limit too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.flood + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    mark = "PYTESTD_SOAK_MARK=%s" % uuid.uuid4().hex
    started = time.time()
    with tempfile.TemporaryDirectory() as root:
        for name, text in PROJECT.items():
            with open(os.path.join(root, name), "w") as f:
                f.write(text)
        with open(os.path.join(root, "pytest.ini"), "w") as f:
            f.write("[pytest]\naddopts = -p no:cacheprovider\n")
        soak = Soak(args, root, mark)
        soak.main(seconds)
        # The daemon is gone: so must be everything it started (the plugin's and the daemon's own kill paths).
        left_deadline = time.time() + 10
        left = soak.marked_env(leaders_only=False)
        while left and time.time() < left_deadline:
            time.sleep(0.1)
            left = soak.marked_env(leaders_only=False)
        if left:
            soak.violation("%d processes of the soak left after the daemon exited" % len(left))
        if soak.max_seen > args.max_parallel:
            soak.violation("%d pytest processes alive at once, over maxParallel %d: %s" % (
                soak.max_seen, args.max_parallel, "; ".join(soak.max_seen_commands)))

    s, c = soak, soak.counts
    cancels = sorted(s.cancel_ms)
    requests = c["runTests"] + c["cancelRun"] + c["listRuns"]
    print("runs: " + ", ".join("%s %d" % item for item in sorted(s.statuses.items())))
    print("garbage: " + ", ".join("%s %d" % item for item in sorted(s.garbage_kinds.items())))
    print("socket attacks: " + ", ".join("%s %d" % item for item in sorted(s.attacks.items())))
    print("soak: %.0f s (seed %d): %d requests (%d runTests, %d cancelRun, %d listRuns), %d answered once; "
          "%d garbage frames (%d answered under their id, %d errors without one); %d socket attacks; "
          "cancel latency median %.1f ms, max %.1f ms; most pytest alive %d of %d; %s" % (
              time.time() - started, args.seed, requests, c["runTests"], c["cancelRun"], c["listRuns"],
              sum(1 for m, (w, _) in s.pending.items() if w != "garbage" and m in s.answers),
              c["garbage"], sum(1 for m, (w, _) in s.pending.items() if w == "garbage" and m in s.answers),
              c["null-id-errors"], sum(s.attacks.values()),
              statistics.median(cancels) if cancels else 0, cancels[-1] if cancels else 0, s.max_seen,
              args.max_parallel, "ok" if not s.broken else "%d invariants broken" % len(s.broken)))
    sys.exit(1 if s.broken else 0)


if __name__ == "__main__":
    main()
