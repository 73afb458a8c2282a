"""pytestd's warm template, its second part: pytest's configuration made ahead in the template (see pytestd_warm).

The template makes what every run's pytest makes first and the same way: ``_pytest.config.get_config``'s plugin
manager, Config and default plugins, made by get_config itself while a watch notes everything it reads that could
differ in a run (environment variables, sys.argv, the process id, the invocation's parameters, warnings). A run's
first get_config call takes that copy with the run's own invocation parameters, or makes its own as a cold run does
whenever anything differs (``-p no:NAME`` in its arguments, another working directory, a variable with another
value). A get_config whose code uses names pytestd does not know (7.4 to 9.2 are known) is not prepared at all.
"""

import os
import sys
import types

def _version_main_sets():
    """The PYTEST_VERSION that pytest's main sets before it loads any plugin (pytest 8.2 and later), else None."""
    try:
        import _pytest.config
        import pytest
    except Exception:  # noqa: BLE001 - without pytest a run fails as a cold one does
        return None
    for name in ("main", "_main"):
        code = getattr(getattr(_pytest.config, name, None), "__code__", None)
        if code is not None and "PYTEST_VERSION" in code.co_consts:
            return pytest.__version__
    return None


class AsInMain:
    """The environment as pytest's main makes it before it loads plugins (PYTEST_VERSION set), while the template
    imports or prepares what a cold run does after main started: a module that reads it at import must see what it
    sees in a cold run. Restored on exit, so the run's main finds the environment a cold one finds."""

    def __init__(self):
        self.value = _version_main_sets()
        self.saved = None

    def __enter__(self):
        if self.value is not None:
            self.saved = os.environ.get("PYTEST_VERSION")
            os.environ["PYTEST_VERSION"] = self.value
        return self

    def __exit__(self, *exc):
        if self.value is None:
            return
        if self.saved is None:
            os.environ.pop("PYTEST_VERSION", None)
        else:
            os.environ["PYTEST_VERSION"] = self.saved


# The names pytest's get_config uses, 7.4 to 9.2, and its parameters: a get_config that does anything else is not
# prepared ahead, and runs call it as a cold run does.
_GET_CONFIG_NAMES = frozenset(
    (
        "PytestPluginManager",
        "Config",
        "InvocationParams",
        "Path",
        "pathlib",
        "cwd",
        "args",
        "consider_preparse",
        "default_plugins",
        "import_plugin",
    )
)
_GET_CONFIG_PARAMS = (("args", "plugins"), ("args", "plugins", "prog"))
# The program name a run's pytest (9.0 and later) passes to get_config: its sys.argv[0] is pytest's __main__.py.
_PROG = "python -m pytest"


class _Watch:
    """What preparing pytest's configuration in the template does that a run's process may see otherwise: each
    environment variable read, with the value seen (the run's own variables differ, and pytest's main sets
    PYTEST_VERSION), the whole environment read, sys.argv beyond its program (the template's own) or kept, the
    process id, the invocation's parameters (the run's are set afterwards), a warning (shown in the template, never
    in the run). Modules it imports (pytest imports a few inside get_config) are imported under the same watch, as a
    cold run imports them inside pytest's main. Patches are undone on exit."""

    def __init__(self, config_module, get_config_code):
        self.config_module = config_module
        self.get_config_code = get_config_code
        self.env = {}
        self.problems = []

    def __enter__(self):
        import warnings

        environ, config = type(os.environ), self.config_module.Config
        read_variable, read_environment = _watched_environ(self, environ.__getitem__, environ.__iter__)
        self._argv = _WatchedArgv(self, [_pytest_main_path()])
        patches = [
            (environ, "__getitem__", read_variable),
            (environ, "__iter__", read_environment),
            (sys, "argv", self._argv),
            (os, "getpid", self._noted("it read the process id", os.getpid)),
            (os, "getppid", self._noted("it read the parent process id", os.getppid)),
            (config, "InvocationParams", _watched_params(self, config.InvocationParams)),
        ]
        self._saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        self._warnings = warnings.catch_warnings(record=True)
        self._warned = self._warnings.__enter__()
        warnings.simplefilter("always")
        for owner, name, value in patches:
            setattr(owner, name, value)
        return self

    def __exit__(self, *exc):
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        self._warnings.__exit__(*exc)
        self.problems.extend("it warned: %s" % (warning.message,) for warning in self._warned)
        if _held_elsewhere(vars(self), "_argv"):
            self.problems.append("it kept sys.argv")

    def _noted(self, problem, function):
        def noted(*args, **kwargs):
            self.problems.append(problem)
            return function(*args, **kwargs)

        return noted


def _held_elsewhere(namespace, key):
    """Whether anything but `namespace` holds `namespace[key]`: its count of references compared with that of an
    object only a dict holds."""
    probe = {key: object()}
    return sys.getrefcount(namespace[key]) > sys.getrefcount(probe[key])


def _watched_environ(watch, getitem, iterate):
    """os.environ's __getitem__ (every lookup: [], get, in) noting each variable read with its value, and its
    __iter__ (keys, items, copy) noting that the whole environment was read."""

    def read_variable(environ, key):
        if environ is not os.environ:
            watch.problems.append("it read os.environb")
            return getitem(environ, key)
        try:
            value = getitem(environ, key)
        except KeyError:
            watch.env.setdefault(key, None)
            raise
        watch.env.setdefault(key, value)
        return value

    def read_environment(environ):
        watch.problems.append("it read the whole environment")
        return iterate(environ)

    return read_variable, read_environment


class _WatchedArgv(list):
    """sys.argv while the configuration is prepared: its program is a run's (pytest's __main__.py, as `python -m`
    and runpy set it); reading anything else of it is noted."""

    def __init__(self, watch, items):
        super().__init__(items)
        self.watch = watch

    def __getitem__(self, index):
        if index != 0:
            self.watch.problems.append("it read sys.argv")
        return super().__getitem__(index)

    def __iter__(self):
        self.watch.problems.append("it read sys.argv")
        return super().__iter__()

    def __len__(self):
        self.watch.problems.append("it read sys.argv")
        return super().__len__()


def _watched_params(watch, base):
    """pytest's InvocationParams, noting any read of its fields but get_config's own."""

    class _Params(base):
        def __getattribute__(self, name):
            if name in ("args", "plugins", "dir") and sys._getframe(1).f_code is not watch.get_config_code:
                watch.problems.append("it read invocation_params.%s" % name)
            return base.__getattribute__(self, name)

    return _Params


def _pytest_main_path():
    """sys.argv[0] of a run's pytest: the file of pytest's __main__ module."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("pytest.__main__")
    except (ImportError, ValueError):
        spec = None
    return spec.origin if spec is not None and spec.origin else "pytest"


class _Prepared:
    """pytest's configuration as get_config makes it before it looks at the run's arguments: the plugin manager,
    the Config and the default plugins, imported and registered in get_config's own order (pluggy calls hooks in
    registration order), by get_config itself. Made once in the template; each run's process takes its copy at its
    first get_config call, with the invocation's parameters a cold run would have, or makes its own as a cold run
    does when anything it would depend on differs."""

    def __init__(self, config_module, config, cwd, env, prog):
        import inspect

        self.module = config_module
        self.original = config_module.get_config
        self.signature = inspect.signature(self.original)
        self.config = config
        self.cwd = cwd
        self.env = env
        self.prog = prog

    def install(self):
        """In the run's process: its first get_config call comes here."""
        self.module.get_config = self._get_config

    def _get_config(self, *args, **kwargs):
        self.module.get_config = self.original
        try:
            config = self._take(args, kwargs)
        except Exception:  # noqa: BLE001 - anything unexpected: the run makes its own, as a cold run does
            config = None
        return config if config is not None else self.original(*args, **kwargs)

    def _take(self, args, kwargs):
        import pathlib

        call = self.signature.bind(*args, **kwargs)
        call.apply_defaults()
        arguments, plugins = call.arguments.get("args"), call.arguments.get("plugins")
        if plugins is not None or call.arguments.get("prog") != self.prog:
            return None
        cwd = pathlib.Path.cwd()
        if cwd != self.cwd or any(os.environ.get(name) != value for name, value in self.env.items()):
            return None
        if self._chooses_plugins(arguments or ()):
            return None
        params = self.module.Config.InvocationParams(args=arguments or (), plugins=plugins, dir=cwd)
        self.config.invocation_params = params
        return self.config

    def _chooses_plugins(self, arguments):
        """Whether get_config would act on `arguments` (`-p no:NAME` blocks a plugin before the defaults load), by
        pytest's own parsing with what it would do noted instead of done."""
        chosen = []
        manager = types.SimpleNamespace(consider_pluginarg=chosen.append)
        self.module.PytestPluginManager.consider_preparse(manager, arguments, exclude_only=True)
        return bool(chosen)


def prepare_config(scope, path):
    """Returns (the prepared configuration, None) or (None, why there is none). `path` is the full sys.path, put
    back afterwards."""
    import pathlib

    try:
        import _pytest.config as config_module
    except Exception as exc:  # noqa: BLE001
        return None, "pytest cannot be imported: %r" % (exc,)
    get_config = getattr(config_module, "get_config", None)
    code = getattr(get_config, "__code__", None)
    if code is None or not set(code.co_names) <= _GET_CONFIG_NAMES:
        return None, "this pytest's get_config is not one pytestd knows"
    params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    if params not in _GET_CONFIG_PARAMS:
        return None, "this pytest's get_config takes %s" % (params,)
    if os.environ.get("PYTEST_DEBUG"):
        # pytest's tracing would write to a copy of the stderr it finds: the template's, not the run's.
        return None, "PYTEST_DEBUG is set"
    prog = _PROG if "prog" in params else None
    cwd = pathlib.Path.cwd()
    watch = _Watch(config_module, code)
    # As while preloading, nothing of the project may be imported here.
    sys.path[:] = [p for p in path if p and scope.preloadable(p)]
    try:
        with AsInMain(), watch:
            config = get_config([], None, prog=prog) if prog else get_config([], None)
    except Exception as exc:  # noqa: BLE001 - runs then make their own, and fail as a cold run fails
        return None, "get_config failed: %r" % (exc,)
    finally:
        sys.path[:] = path
    if "invocation_params" not in vars(config) or _held_elsewhere(vars(config), "invocation_params"):
        # A run replaces them; a copy kept elsewhere would keep the template's.
        watch.problems.append("it kept invocation_params elsewhere")
    if watch.problems:
        return None, "preparing it has effects a run may see otherwise: %s" % watch.problems[0]
    return _Prepared(config_module, config, cwd, watch.env, prog), None
