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
  -- :checkhealth shows its report in a buffer of its own: the file being edited is the alternate one.
  local from = nil
  for _, b in ipairs({ vim.fn.bufnr("#"), vim.api.nvim_get_current_buf() }) do
    if not from and b > 0 and vim.api.nvim_buf_is_valid(b) and vim.bo[b].buftype == ""
      and vim.api.nvim_buf_get_name(b) ~= "" then
      from = b
    end
  end
  local root = from and paths.find_root(vim.api.nvim_buf_get_name(from))
  if root then
    local shown = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(from), ":~:.")
    health.info("project root: " .. root .. " (of " .. shown .. ")")
  else
    root = paths.current_root(from or 0)
    health.info("project root: " .. root .. " (of the working directory)")
  end
  local python, source = require("pytestd.daemon").python_for(root)
  if python and vim.fn.executable(python) == 1 then
    health.ok("python: " .. python .. " (" .. source .. ")")
  elseif python then
    health.error("python not executable: " .. python .. " (" .. source .. ")")
  else
    local fallback = vim.fn.exepath("python3")
    if fallback ~= "" then
      health.info("python: " .. fallback .. " (python3 from PATH: no .venv, venv or $VIRTUAL_ENV)")
    else
      health.warn("python: none (no .venv, venv or $VIRTUAL_ENV, and no python3 on PATH)")
    end
  end
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
