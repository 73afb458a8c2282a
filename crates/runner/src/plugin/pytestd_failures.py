"""What pytestd tells an editor about a failure beyond pytest's text: where it happened and what was compared.

pytestd's plugin imports this module. From the exception pytest caught it takes the traceback's frames (pytest's
and pluggy's own left out), the innermost frame inside the project (where an editor puts the failure message),
and, for a failed ``assert actual == expected``, both sides pretty-printed so an editor can show a diff. For a file
that fails to collect it finds the exception and the line in that file it points at.

Everything here runs only on failures; a passing test never reaches it.
"""

import os
import pprint

import _pytest
import pluggy
import pytest

_MAX_FRAMES = 100
_MAX_TEXT = 1 << 20
_INTERNAL_DIRS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep for module in (_pytest, pluggy, pytest)
) + (os.path.dirname(os.path.abspath(__file__)) + os.sep,)
_PACKAGE_DIRS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


def _relative(path, root):
    """Relative to the project when inside it, else absolute; always with forward slashes."""
    path = os.path.abspath(path)
    if path == root or path.startswith(root + os.sep):
        path = os.path.relpath(path, root)
    return path.replace(os.sep, "/")


def _in_project(path, root):
    path = os.path.abspath(path)
    return path.startswith(root + os.sep) and not any(part in path for part in _PACKAGE_DIRS)


def _hidden(frame):
    try:
        return bool(frame.f_locals.get("__tracebackhide__", frame.f_globals.get("__tracebackhide__", False)))
    except Exception:  # noqa: BLE001 - a frame we cannot look into is shown
        return False


def _pretty(value):
    if isinstance(value, str):
        text = value
    else:
        try:
            text = pprint.pformat(value, width=88)
        except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the failure
            try:
                text = repr(value)
            except Exception:  # noqa: BLE001
                return None
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "\n[pytestd: truncated]"


def test_failure(excinfo, root, compared):
    """Frames, failure location and compared values of a test phase's exception, as plugin message fields."""
    details = {}
    frames, innermost = [], None
    for entry in excinfo.traceback:
        path = str(entry.path)
        if path.startswith(_INTERNAL_DIRS) or _hidden(entry.frame.raw):
            continue
        frame = {"path": _relative(path, root), "line": entry.lineno + 1, "name": entry.name}
        frames.append(frame)
        if _in_project(path, root):
            innermost = frame
    if frames:
        details["frames"] = frames[-_MAX_FRAMES:]
    if innermost is not None:
        details["failureLocation"] = {"path": innermost["path"], "line": innermost["line"]}
    if compared is not None and isinstance(excinfo.value, AssertionError):
        actual, expected = (_pretty(side) for side in compared)
        if actual is not None and expected is not None:
            details["actual"] = actual
            details["expected"] = expected
    return details


def _original(exc):
    """pytest wraps import and syntax errors of a test module in its own CollectError: the cause is the news."""
    if isinstance(exc, pytest.Collector.CollectError):
        return exc.__cause__ or exc.__context__ or exc
    cause = getattr(exc, "cause", None)  # ConftestImportFailure
    if isinstance(cause, BaseException):
        return cause
    return exc


def _one_line(exc):
    if isinstance(exc, pytest.Collector.CollectError) and exc.__cause__ is None and exc.__context__ is None:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("E ")]
        text = (errors or lines or [type(exc).__name__])[-1]
        return text[2:].strip() if text.startswith("E ") else text.strip()
    detail = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    detail = detail.strip().splitlines()[0] if detail.strip() else ""
    return "%s: %s" % (type(exc).__name__, detail) if detail else type(exc).__name__


def _line_in(exc, path):
    """The line of `path` the exception points at: a syntax error's own line, else the deepest frame there."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        if os.path.abspath(exc.filename) == path:
            return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def collect_failure(collector, excinfo, root):
    """The broken file, the line the error points at and the exception in one line, as plugin message fields."""
    raised = excinfo.value
    exc = _original(raised)
    path = getattr(raised, "path", None) or getattr(collector, "path", None)
    details = {"message": _bounded_line(_one_line(exc))}
    if path is not None:
        path = os.path.abspath(str(path))
        details["path"] = _relative(path, root)
        line = _line_in(exc, path)
        if line:
            details["line"] = line
    return details


def _bounded_line(text):
    return text if len(text) <= 4096 else text[:4096] + "..."
