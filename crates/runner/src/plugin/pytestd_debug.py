"""Debug runs for pytestd: pytest under the real debugpy, waiting for a DAP client before any test runs.

debugpy listens with its debug adapter inside this process (nothing else to start, and nothing that can outlive
the run's process group), on loopback, on a free port unless one is given. The plugin tells the daemon where
(``debugReady``) as soon as debugpy accepts connections, then waits for a client for at most ``waitForClientMs``.
"""

import sys
import threading


def listen(settings):
    """Starts debugpy's listener; returns (host, port). Raises RuntimeError with a sentence if it cannot."""
    try:
        import debugpy
    except ImportError as exc:
        raise RuntimeError(
            "debugpy is not installed for %s (%s): install it with `%s -m pip install debugpy`"
            % (sys.executable, exc, sys.executable)) from exc
    host = settings.get("host") or "127.0.0.1"
    port = settings.get("port") or 0
    try:
        bound = debugpy.listen((host, port), in_process_debug_adapter=True)
    except Exception as exc:  # noqa: BLE001 - a port in use, an address that is not ours
        raise RuntimeError("debugpy cannot listen on %s:%s: %s" % (host, port, exc)) from exc
    return bound[0], int(bound[1])


def wait_for_client(settings, where):
    """Waits for a DAP client to attach; raises RuntimeError when none does in time."""
    import debugpy

    wait_ms = settings.get("waitForClientMs") or 60000
    attached = threading.Event()

    def wait():
        debugpy.wait_for_client()
        attached.set()

    threading.Thread(target=wait, name="pytestd-debug-wait", daemon=True).start()
    if not attached.wait(wait_ms / 1000.0):
        debugpy.wait_for_client.cancel()
        raise RuntimeError("no debugger attached to %s:%d within %d ms (waitForClientMs)" % (where + (wait_ms,)))
