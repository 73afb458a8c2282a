-- :checkhealth pytestd: the daemon binary, the interpreter for the current project, the Treesitter parser,
-- nvim-dap for debug runs.
local compat = require("pytestd.compat")
local config = require("pytestd.config")
local paths = require("pytestd.paths")

local M = {}

-- vim.health's names arrived in 0.10; 0.7 has report_* in the `health` module.
local function reporter()
  if vim.health and vim.health.start then
    return vim.health
  end
  local h = require("health")
  return { start = h.report_start, ok = h.report_ok, warn = h.report_warn, error = h.report_error, info = h.report_info }
end

function M.check()
  local health = reporter()
  health.start("pytestd")
  local cmd = config.get().cmd
  cmd = type(cmd) == "string" and cmd or cmd[1]
  if vim.fn.executable(cmd) == 1 then
    health.ok("daemon: " .. vim.fn.exepath(cmd))
  else
    health.error("daemon not found: " .. cmd .. " (set cmd in require('pytestd').setup{})")
  end
  local root = paths.current_root(0)
  health.info("project root: " .. root)
  local python = config.get().python
  if type(python) == "function" then
    python = python(root)
  end
  health.info("python: " .. (python or "the project's .venv, $VIRTUAL_ENV, else python3 from PATH"))
  if compat.has_python_parser() then
    health.ok("Treesitter python parser found: nearest test uses it")
  else
    health.warn("no Treesitter python parser: nearest test uses the indentation fallback")
  end
  if require("pytestd.dap").installed() then
    health.ok("nvim-dap found: :PytestdDebug attaches it")
  else
    health.info("no nvim-dap: :PytestdDebug says where to attach a debugger")
  end
  health.info("debug runs need debugpy and coverage runs coverage.py in the project's interpreter")
end

return M
