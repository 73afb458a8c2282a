"""pytestd's warm template: a Python process that has imported pytest, its plugins and the installed modules
earlier runs of this project used, and forks a fresh pytest for each run from there.

The daemon starts it as ``python -m pytestd_warm`` in the project's directory with the project's environment, so
``sys.path`` is exactly what ``python -m pytest`` there would get, and talks to it over a Unix socket given as
stdin. A module of the project itself (a file under the project's directory, outside the interpreter's
installation) is never preloaded, so an edit can never be served stale; the others are watched (see below).

Messages to the template: an 8-byte big-endian length, then that much JSON; a ``fork`` message carries three file
descriptors with its first bytes (the run's stdout and stderr write ends, and the read end of a "go" pipe).
Answers: one JSON line each.

    {"preload": [names], "watch": [paths]}  ->  {"ready": {...}} | {"unsafe": why}      (first message, once)
    {"fork": {"args": [...], "env": {...}, "runId": id}} + fds  ->  {"pid": n} | {"stale": why} | {"error": why}

Modules a cold run imports after pytest's main started (pytest's default plugins, the learned ones) are imported
with the environment main makes (PYTEST_VERSION set, pytest 8.2 and later). The template also makes ahead what
every run's pytest makes first and the same way, get_config's plugin manager, Config and default plugins
(``pytestd_warm_config``), and under PYTHONDONTWRITEBYTECODE the bytecode caches of pytestd's plugin that every
run would otherwise make again (``pytestd_warm_bytecode``).

A fork goes through an intermediate child that exits at once, so the run's process is adopted by the daemon (a
child subreaper) and the daemon waits for it as for any pytest it started. The run's process starts its own
session, waits for the daemon's "go" byte (sent once the daemon has recorded the pid), puts the run's pipes on
its stdout and stderr, takes the run's environment and runs ``python -m pytest`` with the run's arguments.

The template answers ``stale`` and exits when anything it loaded or depends on changed since it started (the
interpreter, a directory of installed packages, a preloaded module's file, one of the watched configuration
files) or when the project now has a module that would shadow a preloaded one: the daemon then runs cold and
starts a fresh template. It exits when the daemon closes the socket.
"""

import os
import sys

# The modules the interpreter imported before this one ran, as it does before `python -m pytest` runs: a module of
# the project cannot shadow these, in a cold run either.
_STARTUP = frozenset(sys.modules)
# `python -m` put the project's directory first on sys.path; nothing of the project may be imported here, not even
# by the imports below. The child gets the path back before pytest starts.
_PATH = sys.path[:]
sys.path[:] = [p for p in _PATH if p and os.path.realpath(p) != os.path.realpath(os.getcwd())]

import json  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import sysconfig  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

# The template's other parts, beside it in the daemon's directory; the run's process drops them from sys.modules.
from pytestd_warm_bytecode import cache_bytecode  # noqa: E402
from pytestd_warm_config import AsInMain, prepare_config  # noqa: E402

_PARTS = ("pytestd_warm_bytecode", "pytestd_warm_config")

_RUN_ID_VAR = "PYTESTD_RUN_ID"
_MAX_MESSAGE = 64 << 20


def _installation_dirs():
    """Directories whose modules belong to the interpreter's installation, even inside the project (a .venv)."""
    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(os.path.realpath(path))
    try:
        import site

        dirs.update(os.path.realpath(p) for p in site.getsitepackages())
        user = site.getusersitepackages()
        if user:
            dirs.add(os.path.realpath(user))
    except Exception:  # noqa: BLE001 - a stripped site module must not stop the template
        pass
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        # lib-dynload and the zipped stdlib live beside the stdlib directory.
        dirs.add(os.path.realpath(os.path.join(prefix, "lib")))
    return dirs


def _inside(path, dirs):
    return any(path == d or path.startswith(d + os.sep) for d in dirs)


class _Scope:
    """What may be preloaded: a module of the installation, or one from outside the project's directory. The
    project's own modules never are."""

    def __init__(self):
        self.installation = _installation_dirs()
        self.project = {os.path.realpath(os.getcwd())}

    def preloadable(self, path):
        real = os.path.realpath(path or os.curdir)
        return _inside(real, self.installation) or not _inside(real, self.project)


class _Control:
    """The socket to the daemon: length-prefixed JSON in (fds with a fork), JSON lines out."""

    def __init__(self, sock):
        self.sock = sock

    def receive(self):
        head, fds, _flags, _addr = socket.recv_fds(self.sock, 8, 3)
        if not head:
            return None, []
        while len(head) < 8:
            more = self.sock.recv(8 - len(head))
            if not more:
                return None, fds
            head += more
        (length,) = struct.unpack(">Q", head)
        if length > _MAX_MESSAGE:
            raise ValueError("message of %d bytes" % length)
        body = bytearray()
        while len(body) < length:
            more = self.sock.recv(min(length - len(body), 1 << 16))
            if not more:
                return None, fds
            body += more
        return json.loads(body), fds

    def send(self, message):
        self.sock.sendall(json.dumps(message).encode() + b"\n")


def _stat(path):
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


class _Fingerprint:
    """What the template's modules came from, stat'ed again before every fork."""

    def __init__(self, scope, watch):
        paths = {os.path.realpath(sys.executable)}
        # The directories modules come from: installing or removing a package changes the one it goes to. Not the
        # daemon's runtime directory, where this module and the plugin live: runs' files come and go there.
        own = os.path.dirname(os.path.realpath(__file__))
        paths.update(
            os.path.realpath(p) for p in sys.path if p and scope.preloadable(p) and os.path.realpath(p) != own
        )
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                paths.add(path)
        paths.update(watch)
        self.seen = {path: _stat(path) for path in paths}

    def changed(self):
        for path, seen in self.seen.items():
            if _stat(path) != seen:
                return path
        return None


# What `python -m pytest` imports before pytest's main runs, and what the run's process needs before pytest starts
# (it writes its /proc areas with ctypes).
_FIRST = ["pytest", "_pytest.config", "_pytest.main", "_pytest.python", "_pytest.runner", "ctypes"]


def _import_all(names, scope, loaded, failed):
    """Imports `names` in order; returns why the template is unsafe, or None."""
    for name in names:
        if name in sys.modules:
            continue
        threads = threading.active_count()
        try:
            __import__(name)
        except BaseException as exc:  # noqa: BLE001 - a module that cannot load is simply not preloaded
            failed.append("%s: %s" % (name, exc.__class__.__name__))
            continue
        if threading.active_count() != threads:
            return "importing %s started a thread" % name
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and not scope.preloadable(path):
            return "module %s comes from the project (%s)" % (name, path)
        loaded.append(name)
    return None


def _default_plugin_modules():
    """The modules of pytest's default plugins, which every run's get_config imports."""
    try:
        import _pytest.config

        return ["_pytest." + name for name in _pytest.config.default_plugins]
    except Exception:  # noqa: BLE001
        return []


def _preload(names, scope):
    """Imports pytest, the modules of pytest's default plugins and `names`, none from the project; returns (loaded,
    failed, why unsafe or None)."""
    loaded, failed = [], []
    # The project's directories stay hidden while preloading, so no module of the project can be imported here.
    sys.path[:] = [p for p in _PATH if p and scope.preloadable(p)]
    try:
        unsafe = _import_all(_FIRST, scope, loaded, failed)
        if unsafe is not None:
            return loaded, failed, unsafe
        # A cold run imports the rest once pytest's main has started: its default plugins, then the others.
        with AsInMain():
            unsafe = _import_all(_default_plugin_modules() + names, scope, loaded, failed)
        if unsafe is not None:
            return loaded, failed, unsafe
    finally:
        sys.path[:] = _PATH
    try:
        # pytest reads the installed distributions' entry points at every start; this fills importlib's caches.
        import importlib.metadata

        importlib.metadata.entry_points()
    except Exception:  # noqa: BLE001
        pass
    return loaded, failed, None


class _Shadows:
    """The project's directories on ``sys.path`` and, for each preloaded top-level module, the project directories
    that come before the entry it was loaded from: a module appearing there would be what a cold run imports."""

    def __init__(self, names, scope):
        entries = [os.path.realpath(p or os.curdir) for p in sys.path]
        project = [i for i, entry in enumerate(entries) if not scope.preloadable(entry)]
        self.checks = []
        for top in sorted({name.partition(".")[0] for name in names} - _STARTUP):
            path = getattr(sys.modules.get(top), "__file__", None)
            if not isinstance(path, str):
                continue
            origin = os.path.dirname(os.path.realpath(path))
            if os.path.basename(path).startswith("__init__."):
                origin = os.path.dirname(origin)
            at = entries.index(origin) if origin in entries else len(entries)
            self.checks.extend((entries[i], top) for i in project if i < at)

    def found(self):
        for directory, top in self.checks:
            base = os.path.join(directory, top)
            if os.path.isdir(base) or os.path.exists(base + ".py"):
                return "%s shadows the preloaded module %s" % (base, top)
        return None


def _proc_area(first, last):
    """The address and bytes of a memory area /proc/self/stat locates by its fields `first` and `last` (1-based:
    48 and 49 are the command line, 50 and 51 the original environment)."""
    import ctypes

    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    # What follows the command name starts at field 3.
    start, end = int(fields[first - 3]), int(fields[last - 3])
    return ctypes, start, ctypes.string_at(start, end - start)


def _set_proc_run_id(run_id):
    """Writes the run's id into the placeholder the daemon put in this process's original environment block, which
    /proc/<pid>/environ shows and which the daemon reads to tie escaped processes to their run."""
    try:
        ctypes, start, block = _proc_area(50, 51)
        key = (_RUN_ID_VAR + "=").encode()
        if block.startswith(key):
            at = 0
        else:
            found = block.find(b"\0" + key)
            if found < 0:
                return
            at = found + 1
        value_at = at + len(key)
        value_end = block.find(b"\0", value_at)
        room = (value_end if value_end >= 0 else len(block)) - value_at
        value = run_id.encode()
        if len(value) > room or b"\0" in value:
            return
        ctypes.memmove(start + value_at, value + b"\0" * (room - len(value)), room)
    except Exception:  # noqa: BLE001 - without it, escaped processes are still found through the run's group
        pass


def _set_proc_cmdline(args):
    """Shows the run's command line (`python -m pytest ...`) in /proc/<pid>/cmdline, ps and top, in the room the
    daemon's placeholder argument left, cut if it does not fit."""
    try:
        ctypes, start, area = _proc_area(48, 49)
        line = b"\0".join(os.fsencode(a) for a in [sys.executable, "-m", "pytest"] + list(args))
        line = line[: len(area) - 1]
        ctypes.memmove(start, line + b"\0" * (len(area) - len(line)), len(area))
    except Exception:  # noqa: BLE001 - a cosmetic; the run is the same without it
        pass


def _become_run(ctl, request, fds, pid_pipe):
    """In the run's process: its own session, the daemon's go, the run's pipes and environment."""
    os.close(pid_pipe)
    ctl.sock.close()
    out, err, go = fds
    os.setsid()
    if os.read(go, 1) != b"g":
        os._exit(70)
    os.close(go)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in (devnull, out, err):
        os.close(fd)
    for name, value in request["env"].items():
        os.environ[name] = value
    _set_proc_run_id(os.environ.get(_RUN_ID_VAR, ""))
    _set_proc_cmdline(request["args"])
    sys.path[:] = _PATH
    # A cold run has no such modules; what the run needs of them is held by reference.
    for name in _PARTS:
        sys.modules.pop(name, None)
    return request["args"]


def _fork(ctl, request, fds):
    """Forks the run's process through an intermediate; returns its pid in the template, the run's arguments in
    the run's process."""
    read_pid, write_pid = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    intermediate = os.fork()
    if intermediate == 0:
        try:
            os.close(read_pid)
            run = os.fork()
            if run != 0:
                os.write(write_pid, struct.pack(">i", run))
        except BaseException:  # noqa: BLE001 - the template sees the pipe close without a pid
            os._exit(1)
        if run != 0:
            os._exit(0)
        try:
            return _become_run(ctl, request, fds, write_pid)
        except BaseException as exc:  # noqa: BLE001 - nothing of the template's loop may run here
            os.write(2, ("pytestd: cannot start the run from the warm template: %r\n" % (exc,)).encode())
            os._exit(70)
    os.close(write_pid)
    data = b""
    while len(data) < 4:
        more = os.read(read_pid, 4 - len(data))
        if not more:
            break
        data += more
    os.close(read_pid)
    os.waitpid(intermediate, 0)
    if len(data) != 4:
        raise OSError("the intermediate process died before it forked")
    return struct.unpack(">i", data)[0]


def _answer(ctl, fork, fds, fingerprint, shadows):
    """Serves one fork request in the template: the run's arguments in the run's process, "stop" when the template
    must end, None to go on."""
    if fork is None or len(fds) != 3:
        ctl.send({"error": "a fork request needs its arguments and three descriptors"})
        return None
    stale = fingerprint.changed()
    if stale is not None:
        ctl.send({"stale": "%s changed since the template started" % stale})
        return "stop"
    shadow = shadows.found()
    if shadow is not None:
        ctl.send({"stale": shadow})
        return "stop"
    try:
        result = _fork(ctl, fork, fds)
    except OSError as exc:
        ctl.send({"error": "cannot fork: %s" % exc})
        return None
    if isinstance(result, list):
        return result
    ctl.send({"pid": result})
    return None


def _serve(ctl):
    """The template's life; returns the run's arguments in a forked run process, None when the template ends."""
    request, _ = ctl.receive()
    if request is None or "preload" not in request:
        return None
    scope = _Scope()
    started = time.monotonic()
    loaded, failed, unsafe = _preload(list(request.get("preload") or []), scope)
    if unsafe is not None:
        ctl.send({"unsafe": unsafe})
        return None
    cache_bytecode()
    # What was imported stays for the template's life: the collector need not scan it in every run, and pages the
    # collector would write to stay shared with the runs.
    import gc

    gc.collect()
    gc.freeze()
    # After the freeze: the configuration, and all a run's pytest hangs on it, stay collectable as in a cold run.
    threads = threading.active_count()
    prepared, unprepared = prepare_config(scope, _PATH)
    if threading.active_count() != threads:
        ctl.send({"unsafe": "preparing pytest's configuration started a thread"})
        return None
    fingerprint = _Fingerprint(scope, request.get("watch") or [])
    shadows = _Shadows(list(sys.modules), scope)
    shadowed = shadows.found()
    if shadowed is not None:
        # A cold run imports the project's module: no template can stand in for it while that file is there.
        ctl.send({"unsafe": shadowed})
        return None
    ctl.send(
        {
            "ready": {
                "pid": os.getpid(),
                "modules": len(sys.modules),
                "preloaded": loaded,
                "failed": failed,
                "seconds": round(time.monotonic() - started, 3),
                "python": sys.version.split()[0],
                "config": "prepared" if prepared is not None else unprepared,
            }
        }
    )
    while True:
        request, fds = ctl.receive()
        if request is None:
            return None
        outcome = _answer(ctl, request.get("fork"), fds, fingerprint, shadows)
        if isinstance(outcome, list):
            if prepared is not None:
                prepared.install()
            return outcome
        for fd in fds:
            os.close(fd)
        if outcome == "stop":
            return None


def _main():
    control_fd = os.dup(0)
    # Nothing the template imports may read the control stream.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    ctl = _Control(socket.socket(fileno=control_fd))
    if not hasattr(socket, "recv_fds"):
        ctl.send({"unsafe": "Python %s cannot pass file descriptors (3.9 can)" % sys.version.split()[0]})
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    return _serve(ctl)


if __name__ == "__main__":
    _args = _main()
    if _args is None:
        sys.exit(0)
    import runpy

    sys.argv = ["pytest"] + list(_args)
    del _args
    runpy.run_module("pytest", run_name="__main__", alter_sys=True)
