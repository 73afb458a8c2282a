"""pytestd's pytest plugin: streams this session's test reports to the daemon that started it.

The daemon starts pytest with ``-p pytestd_plugin`` and passes, in the environment, the path of its result
socket, this run's id and a secret token. Everything is read and the connection made at import time, before any
test runs, so tests that clear ``os.environ`` or forbid new sockets cannot cut the stream.

Messages are newline-delimited JSON (see the protocol crate's ``plugin`` module). The hot path, a passing test
with no output, costs two short hand-formatted lines copied into the journal; anything else is sent in full. A
timer thread sends what the journal gained every 20 ms: a write per test would wake the daemon thousands of times a
second and cost more than the tests. ``os._exit`` is wrapped to send what is queued, and to say so, before the
interpreter goes; at session end everything is sent.

The journal is a file the daemon made for this run (``PYTESTD_JOURNAL``), mapped into memory: a line is in it as
soon as it is queued, without a system call, so a pytest that dies in a way no Python code sees (SIGKILL, a
segfault, closed descriptors) loses nothing. The daemon reads the lines the socket did not deliver from it after
pytest died. Its layout: 8 bytes, little-endian, the stream offset of the data's first byte (the bytes sent before
it was last rewound), then the data: exactly the bytes the socket carries after the hello, then zeros.
"""

import io
import json
import json.encoder
import mmap
import os
import signal
import socket
import sys
import threading
import time
import types

import pytest

_SOCKET = os.environ.get("PYTESTD_SOCKET")
_RUN_ID = os.environ.get("PYTESTD_RUN_ID")
_TOKEN = os.environ.get("PYTESTD_TOKEN")
_SELECT_FILE = os.environ.get("PYTESTD_SELECT_FILE")
_JOURNAL = os.environ.get("PYTESTD_JOURNAL")
_DISCOVER = os.environ.get("PYTESTD_MODE") == "discover"
_RECORD_IMPORTS = os.environ.get("PYTESTD_RECORD_IMPORTS") == "1"
# xdist workers load this plugin too; only the controller talks to the daemon (it sees every worker's reports).
_IS_XDIST_WORKER = "PYTEST_XDIST_WORKER" in os.environ

# Captured output sent per test is bounded so a test printing gigabytes cannot flood the daemon.
_MAX_OUTPUT = 1 << 20
_TRUNCATED = "\n[pytestd: output truncated]\n"
_FLUSH_INTERVAL = 0.02
# The journal's header (the data's stream offset), and how much it grows at a time. Once everything written was
# sent, the next line that does not fit starts the data over: the file stays about this size.
_JOURNAL_HEADER = 8
_JOURNAL_CHUNK = 1 << 20
# Markers that say how a test is built rather than what it is; editors turn the others into filterable tags.
_NOT_TAGS = frozenset(("parametrize", "usefixtures", "filterwarnings"))

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# The C string encoder: a quoted JSON string in one call, for the per-test hot path. Not the ASCII one: that
# writes a lone surrogate as a "\ud800" escape, which no strict JSON reader accepts. Raw, it is encoded with
# "surrogatepass" below and arrives as invalid UTF-8, which the daemon replaces with U+FFFD.
_quote = json.encoder.encode_basestring
_UTF8, _RAW = "utf-8", "surrogatepass"


class _Channel:
    """The connection to the daemon: a journal that is also the send buffer, plus a watchdog that ends pytest if
    the daemon dies.

    The test thread copies each line into the journal with ``mm.write``, which moves the map's position on only
    after the copy; the timer thread sends ``_sent:mm.tell()``. Sending, growing and rewinding hold one lock, so
    lines keep their order whichever thread sends, and the hot path takes no lock and makes no system call.
    """

    def __init__(self, path, run_id, token, journal):
        self.finished = False
        self._broken = False
        self._journal = journal
        self.mm = _map_journal(journal, _JOURNAL_CHUNK)
        self.mm.seek(_JOURNAL_HEADER)
        # Maps replaced by bigger ones stay alive: freeing one closes the descriptor Python's mmap keeps, which
        # by then may be a test's own file (after os.closerange).
        self._old_maps = []
        self._sent = _JOURNAL_HEADER
        self._base = 0
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(30)
        self._sock.connect("\0" + path[1:] if path.startswith("@") else path)  # "@name": an abstract socket
        hello = {"type": "hello", "runId": run_id, "token": token, "pid": os.getpid(),
                 "pytestVersion": pytest.__version__}
        self._sock.sendall((_dumps(hello) + "\n").encode())
        reply = self._read_line()
        if reply.get("type") != "welcome":
            raise ConnectionError("the daemon refused this run: %s" % reply.get("reason", reply))
        self._sock.settimeout(None)
        self.pid = os.getpid()
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forked)
        threading.Thread(target=self._watch, name="pytestd-watchdog", daemon=True).start()
        threading.Thread(target=self._tick, name="pytestd-flush", daemon=True).start()

    def _read_line(self):
        data = b""
        while not data.endswith(b"\n"):
            chunk = self._sock.recv(4096)
            if not chunk:
                raise ConnectionError("the daemon closed the connection during the handshake")
            data += chunk
        return json.loads(data)

    def _watch(self):
        # The daemon never writes after the handshake and closes its end only when it goes away. If that happens
        # before the session finished, nobody is listening any more: stop the whole process group rather than
        # run on as an orphan.
        try:
            while self._sock.recv(4096):
                pass
        except OSError:
            pass
        if not self.finished:
            try:
                os.killpg(os.getpgrp(), signal.SIGKILL)
            except OSError:
                os._exit(70)

    def _tick(self):
        while not self._broken and not self.finished:
            time.sleep(_FLUSH_INTERVAL)
            if self.mm.tell() != self._sent:
                self.flush()

    def send(self, msg):
        self.put(_dumps(msg) + "\n")

    def put(self, line):
        """Queues one line; from here on it survives any death of pytest. The hot path inlines this."""
        data = line.encode(_UTF8, _RAW)
        try:
            self.mm.write(data)
        except ValueError:  # the map is full
            self.put_bytes(data)

    def put_bytes(self, data):
        with self._lock:
            mm = self.mm
            if mm.tell() + len(data) > len(mm):
                self._send_unsent()  # once per chunk: what is sent need not stay
                pos = mm.tell()
                if self._sent == pos:
                    # Everything so far reached the daemon: start the data over. Zeros first, so that a death now
                    # leaves a journal that holds nothing unsent; then the new stream offset.
                    mm[_JOURNAL_HEADER:pos] = bytes(pos - _JOURNAL_HEADER)
                    self._base += pos - _JOURNAL_HEADER
                    mm[:_JOURNAL_HEADER] = self._base.to_bytes(_JOURNAL_HEADER, "little")
                    mm.seek(_JOURNAL_HEADER)
                    self._sent = _JOURNAL_HEADER
                if mm.tell() + len(data) > len(mm):
                    self._grow(mm.tell() + len(data))
            self.mm.write(data)

    def _grow(self, need):
        old, pos = self.mm, self.mm.tell()
        size = len(old)
        while size < need:
            size += max(_JOURNAL_CHUNK, size // 2)
        # A bigger map of the same file, opened by path: mmap.resize would ftruncate the descriptor the map
        # keeps, which a test may have closed and reused.
        try:
            grown = _map_journal(self._journal, size) if self._journal else None
        except (OSError, ValueError):
            grown = None
        if grown is None:
            # No file to grow (a test removed it, or there is no journal): keep sending from memory.
            grown = mmap.mmap(-1, size)
            grown[:pos] = old[:pos]
        grown.seek(pos)
        self._old_maps.append(old)
        self.mm = grown

    def _forked(self):
        # A forked child shares the journal's pages and the socket, not the stream: whatever it queues goes into
        # private memory and nowhere else.
        pos = self.mm.tell()
        self.mm = mmap.mmap(-1, len(self.mm))
        self.mm.seek(pos)
        self._broken = True

    def flush(self):
        with self._lock:
            self._send_unsent()

    def _send_unsent(self):
        start, end = self._sent, self.mm.tell()
        if start == end or self._broken:
            return
        try:
            self._sock.sendall(self.mm[start:end])
        except OSError:
            self._broken = True  # the journal keeps the rest for the daemon
            return
        self._sent = end


def _map_journal(path, size):
    """Maps the run's journal, at least `size` bytes of it; without one, an anonymous map that is only the send
    buffer."""
    if not path:
        return mmap.mmap(-1, size)
    fd = os.open(path, os.O_RDWR)
    try:
        if os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)
        try:
            return mmap.mmap(fd, size, trackfd=False)  # Python 3.13+: no descriptor kept
        except TypeError:
            return mmap.mmap(fd, size)
    finally:
        os.close(fd)


_channel = None
_connect_error = None
if _SOCKET and _RUN_ID and _TOKEN and not _IS_XDIST_WORKER:
    try:
        _channel = _Channel(_SOCKET, _RUN_ID, _TOKEN, _JOURNAL)
    except (OSError, ValueError) as exc:
        _connect_error = exc


def _read_selection():
    if not _SELECT_FILE or _IS_XDIST_WORKER:
        return None
    with open(_SELECT_FILE, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


_selection = _read_selection()


def _settings(name):
    text = os.environ.get(name)
    return json.loads(text) if text else None


# Coverage starts now, before conftest files and test modules are imported, in xdist's workers too.
_COVERAGE = _settings("PYTESTD_COVERAGE")
_cov = None
_cov_per_test = False
_cov_error = None
if _COVERAGE is not None:
    import pytestd_coverage

    try:
        _cov = pytestd_coverage.start(_COVERAGE)
        _cov_per_test = bool(_COVERAGE.get("perTest"))
    except pytestd_coverage.CoverageMissing as exc:
        _cov_error = str(exc)
_DEBUG = _settings("PYTESTD_DEBUG") if not _IS_XDIST_WORKER else None

_real_exit = os._exit


def _exit_reporting(code):
    # A test that ends the interpreter skips every hook; tell the daemon, so it knows which test did it and that
    # nothing was lost. Forked children share the socket but not the stream: they exit quietly.
    channel = _channel
    if channel is not None and not channel.finished and os.getpid() == channel.pid:
        try:
            _send_pending()
            channel.send({"type": "exiting", "code": int(code)})
            channel.flush()
        except Exception:  # noqa: BLE001 - exiting must never fail
            pass
    _real_exit(code)


if _channel is not None:
    os._exit = _exit_reporting

# Per test: duration of phases not sent yet, so the one line that is sent carries the test's whole time.
_unsent_duration = {}
_unsent_get = _unsent_duration.get


_MIN_PYTEST = (7, 4)


def _pytest_version():
    parts = []
    for part in pytest.__version__.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def pytest_configure(config):
    if _channel is not None and _pytest_version() < _MIN_PYTEST:
        raise pytest.UsageError("pytestd needs pytest %d.%d or newer; this interpreter has pytest %s "
                                "(upgrade it with `python -m pip install -U pytest`)"
                                % (_MIN_PYTEST + (pytest.__version__,)))
    if _connect_error is not None:
        raise pytest.UsageError("pytestd: cannot report to the daemon: %s" % _connect_error)
    if _channel is None:
        return
    if _DISCOVER:
        config.pluginmanager.register(_DiscoveryStream(), "pytestd-discovery-stream")
    if _cov_error is not None:
        _run_error(_cov_error)
    if _DEBUG is not None:
        _start_debugging()


def _run_error(message):
    """Ends the session before it starts, telling the daemon why in words a person can act on."""
    _channel.send({"type": "runError", "message": message})
    _channel.flush()
    raise pytest.UsageError(message)


def _start_debugging():
    import pytestd_debug

    try:
        where = pytestd_debug.listen(_DEBUG)
        _channel.send({"type": "debugReady", "host": where[0], "port": where[1]})
        _channel.flush()
        pytestd_debug.wait_for_client(_DEBUG, where)
    except RuntimeError as exc:
        _run_error(str(exc))


def _selected_paths(selection):
    """The files and directories the selected ids live in, and every directory above them."""
    paths, above = set(), set()
    for test_id in selection:
        path = test_id.split("::", 1)[0].rstrip("/")
        paths.add(path)
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            above.add(path)
    return paths, above


_prune = _selected_paths(_selection) if _selection is not None else None


def pytest_ignore_collect(collection_path, config):
    # Collect only where selected tests live: the daemon may pass whole directories to keep pytest's own
    # per-argument cost down, and this keeps collection to the needed files.
    if _prune is None:
        return None
    rel = os.path.relpath(str(collection_path), str(config.rootpath)).replace(os.sep, "/")
    paths, above = _prune
    if rel == "." or rel in above:
        return None
    while True:
        if rel in paths:
            return None
        if "/" not in rel:
            return True
        rel = rel.rsplit("/", 1)[0]


def _selector(wanted):
    """Returns the requested id that selects `nodeid`: itself, or an enclosing class, module or directory."""

    def match(nodeid):
        if nodeid in wanted:
            return nodeid
        base = nodeid.split("[", 1)[0]
        if base != nodeid and base in wanted:
            return base
        parts = base.split("::")
        for i in range(len(parts) - 1, 0, -1):
            candidate = "::".join(parts[:i])
            if candidate in wanted:
                return candidate
        path = parts[0]
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            if path in wanted:
                return path
        return None

    return match


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    # Selecting here is linear; passing 30 000 ids as arguments makes pytest match them in quadratic time.
    if _selection is None:
        return
    wanted = set(_selection)
    match = _selector(wanted)
    selected, deselected, matched = [], [], set()
    for item in items:
        key = match(item.nodeid)
        if key is None:
            deselected.append(item)
        else:
            matched.add(key)
            selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    missing = [test_id for test_id in _selection if test_id not in matched]
    if missing and _channel is not None:
        # The daemon shows a few; the count is what matters beyond that.
        _channel.send({"type": "notFound", "ids": missing[:1000], "total": len(missing)})


def pytest_collection_finish(session):
    if _channel is None:
        return
    if _DISCOVER:
        tree = _tree(session.config)
        for item in session.items:
            tree.add_item(item)
        tree.flush()
    _channel.send({"type": "collected", "count": len(session.items)})


_DISCOVERY_BATCH = 1000
_tree_sender = None


def _tree(config):
    global _tree_sender
    if _tree_sender is None:
        _tree_sender = _TreeSender(str(config.rootpath))
    return _tree_sender


def _may_deselect(config):
    """Whether something may drop collected tests before collection ends (then nodes go out only at the end)."""
    option = config.option
    return bool(getattr(option, "keyword", "") or getattr(option, "markexpr", "")
                or getattr(option, "deselect", None) or getattr(option, "lf", False)
                or getattr(option, "last_failed_no_failures", "all") != "all")


def pytest_collectreport(report):
    if _channel is None:
        return
    _send_pending()
    if report.failed:
        msg = {"type": "collectError", "nodeid": report.nodeid, "longrepr": _bounded(str(report.longrepr))}
        msg.update(_collect_details.pop(report.nodeid, None) or {})
        _channel.send(msg)
    elif report.skipped:
        # A module skipped as a whole (pytest.skip(allow_module_level=True)): pytest counts it as a skip.
        _channel.send({"type": "collectSkip", "nodeid": report.nodeid, "reason": _bounded(_message(report) or "")})
    elif _stream_early and _tree_sender is not None:
        # A collector is done (pytest reports it after its items): what it collected goes out now, so large trees
        # show up while pytest still works.
        _tree_sender.flush()


class _DiscoveryStream:
    """Registered in discovery mode only, so a run pays nothing per collected item: each test as pytest collects
    it, in pytest's own collection order (what `--collect-only -q` prints)."""

    @staticmethod
    def pytest_itemcollected(item):
        if _stream_early:
            (_tree_sender or _tree(item.config)).add_item(item)

    @staticmethod
    def pytest_unconfigure(config):
        # This module's globals outlive the session (os._exit's wrapper, the channel's threads and its at-fork
        # callback hold them), and through them the collected tree and, by the assertion rewriter that loaded
        # this module (its loader), pytest's config and the whole session: kept past the interpreter's first
        # collection at exit, those cost it a second one (half a second for 50 000 tests). Nothing needs them
        # once the session is over.
        global _tree_sender
        _tree_sender = None
        module = globals()
        module.pop("__loader__", None)
        spec = module.get("__spec__")
        if spec is not None:
            spec.loader = None


_stream_early = False


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    global _stream_early
    _stream_early = _DISCOVER and not _may_deselect(session.config)


class _TreeSender:
    """Sends the collected tree, parents before children, each node once, in batches.

    Per item, only what is the item's own is worked out: consecutive items mostly share their parent, whose chain
    was sent with the first of them, and an item met again at collection end is known by identity. A test's node
    is written as JSON text directly, its parent's id and its path quoted once for all their tests: building a
    dict per test for the encoder cost more than the rest of the item's work."""

    def __init__(self, root):
        self.root = root
        self.seen = set()
        # Each node's JSON text.
        self.batch = []
        # Items already sent, by id(); each is held here, so its id cannot be reused by another object.
        self.items = {}
        self.parent = None
        self.parent_id = None
        # `,"parentId":…` and `,"path":…` as they go into a node's text.
        self.parent_fields = {}
        self.path_fields = {}

    def add_item(self, item):
        if id(item) in self.items:
            return
        self.items[id(item)] = item
        nodeid = item.nodeid
        if nodeid in self.seen:
            return
        parent = item.parent
        if parent is self.parent:
            parent_id = self.parent_id
        else:
            parent_id = self.add_parents(item)
            self.parent, self.parent_id = parent, parent_id
        path, lineno = _item_place(item)
        path = path.replace(os.sep, "/") if path is not None else None
        line = lineno + 1 if lineno is not None else None
        name = item.name
        original = getattr(item, "originalname", None)
        if original and original != name and nodeid.endswith("::" + name):
            # Parametrized cases hang under a node for their function, which pytest itself does not have.
            function_id = nodeid[: len(nodeid) - len(name)] + original
            if function_id not in self.seen:
                self.add(function_id, original, "function", parent_id, path, line)
            parent_id = function_id
        markers = _markers(item)
        if type(nodeid) is str and type(name) is str and (path is None or type(path) is str):
            self.add_test(nodeid, name, parent_id, path, line, markers)
        else:
            self.add(nodeid, name, "test", parent_id, path, line, markers)

    def add_parents(self, item):
        """Sends the item's enclosing nodes not sent yet, and returns the id of its parent in the tree."""
        parent_id = None
        for node in item.listchain()[1:-1]:
            if node.nodeid in ("", "."):
                continue  # the project directory itself: its children are the top level
            if node.nodeid not in self.seen:
                path, line = _node_place(node, self.root)
                self.add(node.nodeid, node.name, _kind(node), parent_id, path, line)
            parent_id = node.nodeid
        return parent_id

    def add(self, node_id, name, kind, parent_id, path, line, markers=None):
        self.seen.add(node_id)
        node = {"id": node_id, "name": name, "kind": kind}
        if parent_id:
            node["parentId"] = parent_id
        if path is not None:
            node["path"] = path
        if line is not None:
            node["line"] = line
        if markers:
            node["markers"] = markers
        self.batch.append(_dumps(node))
        if len(self.batch) >= _DISCOVERY_BATCH:
            self.flush()

    def add_test(self, node_id, name, parent_id, path, line, markers):
        """What `add` writes for a test, without the dict."""
        self.seen.add(node_id)
        parent_field = self.parent_fields.get(parent_id)
        if parent_field is None:
            parent_field = self.parent_fields[parent_id] = ',"parentId":' + _dumps(parent_id) if parent_id else ""
        path_field = self.path_fields.get(path)
        if path_field is None:
            path_field = self.path_fields[path] = ',"path":' + _dumps(path) if path is not None else ""
        line_field = "" if line is None else ',"line":' + (str(line) if type(line) is int else _dumps(line))
        markers_field = ',"markers":' + _dumps(markers) if markers else ""
        self.batch.append('{"id":%s,"name":%s,"kind":"test"%s%s%s%s}' % (
            _quote(node_id), _quote(name), parent_field, path_field, line_field, markers_field))
        if len(self.batch) >= _DISCOVERY_BATCH:
            self.flush()

    def flush(self):
        if self.batch:
            _channel.put('{"type":"discovered","nodes":[' + ",".join(self.batch) + "]}\n")
            self.batch = []


# Per source file (a code object's co_filename): the path `item.location` gives a test defined there.
_file_paths = {}
_FUNCTION_REPORTINFO = getattr(pytest.Function, "reportinfo", None)
try:
    from _pytest.compat import get_real_func as _get_real_func  # what pytest's getfslineno unwraps with
except ImportError:
    _get_real_func = None


def _item_place(item):
    """A test's (path, 0-based line) exactly as `item.location` gives them, computing the path once per source file.
    `item.location` builds a Path, stats the file and makes it relative for every item: most of what discovery
    added to pytest's own collection. Only items placed by pytest's own `reportinfo` from a plain function's code
    take the shortcut; anything else asks pytest."""
    code = _function_code(item)
    if code is None:
        location = item.location
        return location[0], location[1]
    path = _file_paths.get(code.co_filename)
    if path is None:
        path = _file_paths[code.co_filename] = item.location[0]
    return path, code.co_firstlineno - 1  # what pytest's getfslineno gives


# Per item class: whether pytest's own Function.reportinfo places its items.
_placed_by_pytest = {}


def _function_code(item):
    """The code object pytest's `reportinfo` takes a Function's place from, or None when it would look elsewhere."""
    cls = type(item)
    placed = _placed_by_pytest.get(cls)
    if placed is None:
        placed = _placed_by_pytest[cls] = (_get_real_func is not None and _FUNCTION_REPORTINFO is not None
                                           and getattr(cls, "reportinfo", None) is _FUNCTION_REPORTINFO)
    if not placed:
        return None
    try:
        obj = item.obj
        if isinstance(getattr(obj, "compat_co_firstlineno", None), int):
            return None
        # A plain function that wraps nothing is its own real function: get_real_func would return it as it is,
        # at more cost than the rest of this.
        if type(obj) is not types.FunctionType or hasattr(obj, "__wrapped__") or hasattr(obj, "__pytest_wrapped__"):
            obj = _get_real_func(obj)
        if hasattr(obj, "place_as"):
            return None
        code = obj.__code__
    except Exception:  # noqa: BLE001 - pytest's internals moved, or no plain function: pytest's own answer
        return None
    return code if isinstance(code, types.CodeType) and code.co_filename else None


_NODE_ITER_MARKERS = (pytest.Item.iter_markers, pytest.Item.iter_markers_with_node)
# Per item class: whether its markers are pytest's own iter_markers.
_own_iter_markers = {}


def _markers(item):
    names = []
    cls = type(item)
    own = _own_iter_markers.get(cls)
    if own is None:
        own = _own_iter_markers[cls] = (cls.iter_markers, cls.iter_markers_with_node) == _NODE_ITER_MARKERS
    if own:
        # What pytest's own iter_markers yields (the item's own marks, then each enclosing node's, up to the
        # session), without its two generators per item.
        node = item
        while node is not None:
            for mark in node.own_markers:
                if mark.name not in _NOT_TAGS and mark.name not in names:
                    names.append(mark.name)
            node = node.parent
        return names
    for mark in item.iter_markers():
        if mark.name not in _NOT_TAGS and mark.name not in names:
            names.append(mark.name)
    return names


def _kind(node):
    if isinstance(node, pytest.Class):
        return "class"
    if isinstance(node, pytest.Package):  # before Module: in pytest 7 a Package is a Module
        return "package"
    if isinstance(node, pytest.File):
        return "module"
    if isinstance(node, pytest.Collector) and hasattr(node, "path") and os.path.isdir(str(node.path)):
        return "directory"
    return "class"


def _node_place(node, root):
    path = getattr(node, "path", None)
    rel = os.path.relpath(str(path), root).replace(os.sep, "/") if path is not None else None
    if isinstance(node, pytest.Class) and path is not None:
        try:
            return rel, _class_line(node.obj, str(path))
        except Exception:  # noqa: BLE001 - a place is optional
            return rel, None
    return rel, None


# Per file: class qualname -> 1-based line. pytest's reportinfo() finds a class's line with inspect.findsource,
# which parses the whole module again for every class (seconds for a large file of many classes).
_class_lines = {}


def _class_line(cls, path):
    line = getattr(cls, "__firstlineno__", None)  # Python 3.13+
    if line:
        return line
    lines = _class_lines.get(path)
    if lines is None:
        lines = _class_lines[path] = _index_classes(path)
    return lines.get(getattr(cls, "__qualname__", None))


def _index_classes(path):
    """Each class statement's line (its first decorator's, as inspect.findsource gives it) by qualified name."""
    import ast

    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return {}
    lines = {}

    def walk(body, prefix):
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                qualname = prefix + statement.name
                first = statement.decorator_list[0].lineno if statement.decorator_list else statement.lineno
                lines.setdefault(qualname, first)
                walk(statement.body, qualname + ".")
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(statement.body, prefix + statement.name + ".<locals>.")

    walk(tree.body, "")
    return lines


_quoted_paths = {}

# A failed phase's message waits here for pytest_exception_interact, which pytest calls right after the report
# with the exception still at hand: it adds where the failure happened and sends the message. Anything else that
# sends first sends it (a failure with no exception to look at, such as a strict xpass, or an xdist worker's).
# No hook of ours runs for passing tests, which keeps their cost where it was.
_pending = None
_collect_details = {}
# The sides of the last `==` assertion pytest explained in the running test.
_compared = None


def _send_pending():
    global _pending
    if _pending is not None:
        _channel.send(_pending)
        _pending = None


def pytest_assertrepr_compare(config, op, left, right):
    global _compared
    if op == "==" and _channel is not None:
        _compared = (left, right)
    return None  # pytest's own explanation stays


def pytest_exception_interact(node, call, report):
    global _compared
    if _channel is None or call.excinfo is None:
        return
    compared, _compared = _compared, None
    try:
        import pytestd_failures  # only once something failed: a passing session never pays for it

        if isinstance(node, pytest.Collector):
            # For a collector, this runs before pytest_collectreport.
            _collect_details[node.nodeid] = pytestd_failures.collect_failure(
                node, call.excinfo, str(node.config.rootpath))
        elif _pending is not None and _pending["nodeid"] == node.nodeid and _pending["when"] == report.when:
            _pending.update(pytestd_failures.test_failure(call.excinfo, str(node.config.rootpath), compared))
    except Exception:  # noqa: BLE001 - the details are extras; the report itself must go out
        pass
    _send_pending()


# The last test started and its id as a JSON string: its quiet teardown, the next line sent for it, reuses it.
_started_id = None
_started_quoted = None


def pytest_runtest_logstart(nodeid, location):
    # Per test: f-strings rather than % (no argument tuple for the collector to count, half the time).
    global _compared, _started_id, _started_quoted
    if _cov_per_test:
        _cov.switch_context(nodeid)
    channel = _channel
    if channel is None:
        return
    _compared = None
    _started_id = nodeid
    quoted_id = _started_quoted = _quote(nodeid)
    path, lineno = location[0], location[1]
    if path is None or lineno is None:
        data = f'{{"type":"testStarted","nodeid":{quoted_id}}}\n'.encode(_UTF8, _RAW)
    else:
        quoted = _quoted_paths.get(path)
        if quoted is None:
            quoted = _quoted_paths[path] = _quote(path.replace(os.sep, "/"))
        data = f'{{"type":"testStarted","nodeid":{quoted_id},"path":{quoted},"line":{lineno + 1}}}\n'.encode(
            _UTF8, _RAW)
    try:
        channel.mm.write(data)  # channel.put, inlined
    except ValueError:
        channel.put_bytes(data)


def _subtest_description(report):
    describe = getattr(report, "_sub_test_description", None)
    if describe is not None:
        return describe()
    context = report.context
    parts = []
    if getattr(context, "msg", None) is not None:
        parts.append("[%s]" % context.msg)
    kwargs = getattr(context, "kwargs", None)
    if kwargs:
        parts.append("(%s)" % ", ".join("%s=%s" % item for item in kwargs.items()))
    return " ".join(parts) or "(<subtest>)"


def _bounded(text):
    if text is not None and len(text) > _MAX_OUTPUT:
        return text[:_MAX_OUTPUT] + _TRUNCATED
    return text


def _bounded_middle(text):
    # A traceback's end names the failing line: keep both ends of an overlong one.
    if text is not None and len(text) > _MAX_OUTPUT:
        half = _MAX_OUTPUT // 2
        return text[:half] + _TRUNCATED + text[-half:]
    return text


def _longrepr_text(report):
    """pytest's failure text as its terminal shows it. ``report.longreprtext`` strips the whole text, and with it
    the indentation of the first source line."""
    try:
        from _pytest._io import TerminalWriter

        out = io.StringIO()
        writer = TerminalWriter(out)
        writer.hasmarkup = False
        report.toterminal(writer)
        return out.getvalue().strip("\n").rstrip()
    except Exception:  # noqa: BLE001 - pytest's internals moved: its own text, first indentation lost
        return report.longreprtext


def _captured(report, prefix):
    return _bounded("".join(content for title, content in report.sections if title.startswith(prefix)))


def _message(report):
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    if longrepr is not None:
        text = str(longrepr)
        return text.strip().splitlines()[-1] if text.strip() else None
    return None


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    # Last: pytest's own reporting may still change a report (a test whose subtest failed becomes failed).
    global _pending
    channel = _channel
    if channel is None:
        return
    nodeid = report.nodeid
    # getattr, never report.__dict__: reading __dict__ makes Python build a real dict for the report, and the
    # reports pytest keeps (every passing call's) then carry it to the end, which every full collection walks.
    wasxfail = getattr(report, "wasxfail", None)
    subtest = getattr(report, "context", None) is not None
    if report.outcome == "passed" and wasxfail is None and not subtest:
        # The hot path: a passing phase. Setup and call only add their time; a quiet teardown ends the test.
        if report.when != "teardown":
            _unsent_duration[nodeid] = _unsent_get(nodeid, 0.0) + report.duration
            return
        if not report.sections:
            if _pending is not None:
                _send_pending()
            quoted_id = _started_quoted if nodeid is _started_id else _quote(nodeid)
            seconds = _unsent_duration.pop(nodeid, 0.0) + report.duration
            try:
                # Whole nanoseconds as `1234e-9`: repr of a float runs the shortest-digits algorithm, a quarter of
                # what this plugin cost a passing test; an integer is cheap and as exact as the clock.
                data = f'{{"type":"report","nodeid":{quoted_id},"when":"teardown","outcome":"passed",' \
                       f'"duration":{int(seconds * 1e9)}e-9}}\n'.encode(_UTF8, _RAW)
            except (ValueError, OverflowError):  # not finite: no JSON number says it
                data = f'{{"type":"report","nodeid":{quoted_id},"when":"teardown","outcome":"passed",' \
                       f'"duration":0}}\n'.encode(_UTF8, _RAW)
            try:
                channel.mm.write(data)  # channel.put, inlined
            except ValueError:
                channel.put_bytes(data)
            return
    msg = {"type": "report", "nodeid": nodeid, "when": report.when, "outcome": report.outcome,
           "duration": _unsent_duration.pop(nodeid, 0.0) + (report.duration or 0.0)}
    if wasxfail is not None:
        msg["wasxfail"] = str(wasxfail)
    if subtest:
        msg["subtest"] = _subtest_description(report)
    message = _bounded(_message(report))
    if message:
        msg["message"] = message
    if report.failed:
        msg["longrepr"] = _bounded_middle(_longrepr_text(report))
    elif report.skipped and wasxfail is None and isinstance(report.longrepr, tuple):
        # Where the skip happened, as pytest's -rs and JUnit report show it: `test_a.py:12: reason`.
        path, lineno, reason = report.longrepr
        msg["longrepr"] = _bounded("%s:%s: %s" % (path, lineno, reason[9:] if reason.startswith("Skipped: ") else reason))
    if report.when == "teardown" and report.sections:
        stdout = _captured(report, "Captured stdout")
        stderr = _captured(report, "Captured stderr")
        log = _captured(report, "Captured log")
        if log:
            msg["log"] = log
        if stdout:
            msg["stdout"] = stdout
        if stderr:
            msg["stderr"] = stderr
    _send_pending()
    if report.failed and not subtest:
        _pending = msg
    else:
        channel.send(msg)


def pytest_warning_recorded(warning_message, when, nodeid, location):
    # Warnings are few (pytest's summary lists them), so each goes out as its own line.
    if _channel is None:
        return
    _send_pending()
    msg = {"type": "warning", "message": _bounded(str(warning_message.message)),
           "category": getattr(warning_message.category, "__name__", str(warning_message.category))}
    if warning_message.filename:
        path = os.path.abspath(warning_message.filename)
        root = os.getcwd()  # pytest runs in its rootdir
        if path.startswith(root + os.sep):
            path = os.path.relpath(path, root)
        msg["path"] = path.replace(os.sep, "/")
        if warning_message.lineno:
            msg["line"] = int(warning_message.lineno)
    if nodeid:
        msg["nodeId"] = nodeid
    _channel.send(msg)


def _installed_imports():
    """Names of the imported modules the project's warm template may preload, in import order: those of the
    interpreter's installation (standard library, site-packages, even in a .venv inside the project) and those from
    outside the project's directory. The project's own modules, this plugin and modules without a file are left
    out. Prefixes are compared as given and resolved, without resolving each module's path (a run may have
    thousands)."""
    import sysconfig

    def both(path):
        return {os.path.join(path, ""), os.path.join(os.path.realpath(path), "")}

    paths = sysconfig.get_paths()
    installation = set()
    for root in [paths.get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")] + [
        os.path.join(prefix, "lib") for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix)
    ]:
        if root:
            installation |= both(root)
    installation = tuple(installation)
    project = tuple(both(os.getcwd()))
    names = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or name.startswith("pytestd_") or name == "__main__":
            continue
        if path.startswith(installation) or not path.startswith(project):
            names.append(name)
    return names


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _cov is not None:
        # Last of the session's hooks (xdist's workers are done and saved): the controller combines and reports.
        report = pytestd_coverage.finish(_cov, _COVERAGE, report=_channel is not None and "report" in _COVERAGE)
        if report is not None:
            _channel.send({"type": "coverage", "path": report})
    if _channel is None:
        return
    _send_pending()
    if _RECORD_IMPORTS:
        _channel.send({"type": "imports", "modules": _installed_imports()})
    _channel.send({"type": "sessionFinish", "exitStatus": int(exitstatus)})
    _channel.finished = True
    _channel.flush()
