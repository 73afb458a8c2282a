"""pytestd's warm template, its third part: bytecode caches of pytestd's own plugin (see pytestd_warm).

Under PYTHONDONTWRITEBYTECODE every run would compile pytestd's plugin again, and pytest's assertion rewriter would
rewrite it again. The template writes those caches once, into the daemon's private directory where the plugin
lives, exactly as Python and pytest would have written them.
"""

import os
import sys
import types

def cache_bytecode():
    """Writes the bytecode a run's process would otherwise compile at each start under PYTHONDONTWRITEBYTECODE:
    pytestd's plugin as pytest's assertion rewriter caches it, and both the plugin and its failure module as Python
    caches them. What is written is what pytest and Python would have written there themselves, read back as they
    would read their own; only into the daemon's directory (not under a PYTHONPYCACHEPREFIX), which goes with it."""
    if not sys.dont_write_bytecode or getattr(sys, "pycache_prefix", None):
        return
    # As the run's process finds these modules, on the path the daemon put on PYTHONPATH.
    own = os.path.dirname(__file__)
    try:
        _cache_rewritten(os.path.join(own, "pytestd_plugin.py"))
    except Exception:  # noqa: BLE001 - without it the run's pytest rewrites the plugin itself
        pass
    import importlib.machinery

    for name in ("pytestd_plugin", "pytestd_failures"):
        sys.dont_write_bytecode = False
        try:
            importlib.machinery.SourceFileLoader(name, os.path.join(own, name + ".py")).get_code(name)
        except Exception:  # noqa: BLE001
            pass
        finally:
            sys.dont_write_bytecode = True


def _cache_rewritten(path):
    """pytest's rewritten-module cache of `path`, made by pytest's rewriter without a configuration: the same code
    as with the run's only when the module has no assert statement (the configuration can turn on the assertion
    pass hook), so only then."""
    import ast
    from pathlib import Path

    import _pytest.assertion.rewrite as rewrite

    source = Path(path)
    pyc = rewrite.get_cache_dir(source) / (source.name[: -len(".py")] + rewrite.PYC_TAIL)
    if rewrite._read_pyc(source, pyc) is not None:
        return
    if any(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(source.read_bytes()))):
        return
    meta, code = rewrite._rewrite_test(source, None)
    os.makedirs(pyc.parent, exist_ok=True)
    rewrite._write_pyc(types.SimpleNamespace(trace=lambda message: None), code, meta, pyc)
    if rewrite._read_pyc(source, pyc) is None:
        os.unlink(pyc)
