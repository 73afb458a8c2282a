-- The plugin's settings: defaults, merged with what setup() is given, read by every other module.
local M = {}

M.defaults = {
  -- The daemon's command line; `pytestd` must be on PATH unless this names it.
  cmd = { "pytestd", "serve" },
  -- Interpreter for runs: a path, or a function(root) returning one. When nil, a project's .venv/venv is used,
  -- then $VIRTUAL_ENV, then the daemon's own choice (python3 from PATH).
  python = nil,
  -- initializationOptions passed through to the daemon (nil leaves the daemon's default).
  max_parallel = nil,
  pytest_args = nil,
  env = nil,
  -- Fork runs from the daemon's warm template of the project (false: every run starts a fresh interpreter).
  warm_start = nil,
  -- Split each run (not debug runs) by file across this many pytest processes, or "auto" (nil or 1: no split).
  shards = nil,
  -- Files or directories that mark a project root, looked for upwards from the buffer. pyproject.toml,
  -- tox.ini and setup.cfg count first only with a pytest section, as in pytest's rootdir rules (paths.lua).
  root_markers = {
    "pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml", "pyproject.toml", "tox.ini", "setup.cfg", ".git",
  },
  -- Write a modified buffer before running it (pytest reads the file: unsaved edits would misplace results).
  save_before_run = true,
  -- Use the Treesitter python parser for the nearest test when it is installed.
  treesitter = true,
  signs = {
    enabled = true,
    priority = 20,
    -- Sign text per status (at most two cells each).
    text = {
      running = "…",
      passed = "✓",
      failed = "✗",
      error = "E",
      skipped = "↷",
      xfailed = "x",
      xpassed = "X",
    },
  },
  diagnostics = { enabled = true },
  quickfix = { enabled = true, open = false },
  -- A one-line summary through vim.notify when a run ends.
  notify = true,
  -- Lines of the shared log (:PytestdLog) kept in memory.
  log_max_lines = 20000,
  -- Lines of each run's own pytest output kept for :PytestdOutput.
  output_max_lines = 5000,
  float = { border = "rounded", width = 0.8, height = 0.7 },
  -- :PytestdDebug: runs under debugpy, attached with nvim-dap when it is installed.
  debug = {
    -- How long the run waits for a debugger before it ends as an error (nil: the daemon's 60 s).
    wait_for_client_ms = nil,
    -- Where debugpy listens (nil: 127.0.0.1 and a free port).
    host = nil,
    port = nil,
    -- Step only through the project's code, not pytest's or the libraries'.
    just_my_code = true,
    -- Merged into the nvim-dap configuration (e.g. { console = "integratedTerminal" }).
    dap_configuration = nil,
  },
  -- :PytestdCoverage: runs measured by coverage.py, shown as signs and a per-file summary.
  coverage = {
    branch = true,
    per_test = false,   -- also record which test ran which line
    include = nil,      -- coverage.py file patterns
    omit = nil,
    open_summary = true, -- open the summary float when a coverage run ends
    priority = 10,      -- below the test signs, which win on a test's own line
    text = { covered = "▎", missed = "▎", partial = "▎" },
  },
}

M.options = vim.deepcopy(M.defaults)

function M.setup(opts)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  return M.options
end

function M.get()
  return M.options
end

return M
