-- pytestd for Neovim: run pytest through the pytestd daemon (one per project root) and see results as signs,
-- diagnostics, a quickfix list and a summary. Every command is also a function here, for mappings.
local config = require("pytestd.config")
local daemon = require("pytestd.daemon")
local render = require("pytestd.ui.render")
local runs = require("pytestd.runs")
local targets = require("pytestd.targets")

local M = {}

local initialized = false

local function init()
  if initialized then
    return
  end
  initialized = true
  render.define_signs()
  runs.on("report", function(event, run)
    if event == "finished" and not run.quiet then
      require("pytestd.ui.report").run_finished(run)
    end
  end)
  local group = vim.api.nvim_create_augroup("pytestd", { clear = true })
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufWinEnter" }, {
    group = group,
    pattern = "*.py",
    callback = function(args)
      render.draw_buffer(args.buf)
      if #require("pytestd.coverage").roots() > 0 then
        require("pytestd.ui.coverage_signs").draw(args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd("ColorScheme", {
    group = group,
    callback = function()
      render.define_signs()
      require("pytestd.ui.coverage_signs").define_signs()
    end,
  })
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = group,
    callback = function()
      daemon.stop_all(2000)
    end,
  })
end

--- Configures the plugin (see config.lua for the options). Calling it again replaces the options.
function M.setup(opts)
  config.setup(opts)
  initialized = false
  init()
end

--- Runs `kind` (nearest, file, suite, last, failed). opts: {bufnr, row, treesitter, on_finished}.
--- Returns the run, or nil and a message (also shown).
function M.run(kind, opts)
  init()
  opts = opts or {}
  local target, err = targets.resolve(kind or "nearest", opts)
  if not target then
    vim.notify(err, vim.log.levels.WARN)
    return nil, err
  end
  if opts.strategy == "debug" then
    target.on_finished = opts.on_finished
    return require("pytestd.debug").start(target)
  end
  local ok, run = pcall(runs.start, {
    root = target.root,
    kind = kind,
    test_ids = target.test_ids,
    args = target.args,
    label = target.label,
    on_finished = opts.on_finished,
  })
  if not ok then
    vim.notify(tostring(run), vim.log.levels.ERROR)
    return nil, tostring(run)
  end
  return run
end

--- Cancels a run: `what` is a run id (or a unique prefix), "all", or nil for the most recent live run.
--- Returns the runs asked to stop.
function M.cancel(what)
  init()
  local chosen = {}
  if what == "all" then
    chosen = runs.live()
  elseif what and what ~= "" then
    local run = runs.find(what)
    if not run then
      vim.notify("pytestd: no run " .. what, vim.log.levels.WARN)
      return {}
    end
    chosen = { run }
  else
    local live = runs.live()
    chosen = { live[#live] }
  end
  if #chosen == 0 then
    vim.notify("pytestd: no run is going", vim.log.levels.INFO)
  end
  for _, run in ipairs(chosen) do
    runs.cancel(run, function(err)
      if err then
        vim.notify("pytestd: cancel " .. run.id .. ": " .. tostring(err.message), vim.log.levels.WARN)
      end
    end)
  end
  return chosen
end

--- Starts a debug run of `kind` (nearest, file, suite, last, failed): pytest under debugpy, attached with
--- nvim-dap when it is installed (else a message says where to attach). opts as for run(). Returns the run.
function M.debug(kind, opts)
  init()
  opts = opts or {}
  local target, err = targets.resolve(kind or "nearest", opts)
  if not target then
    vim.notify(err, vim.log.levels.WARN)
    return nil, err
  end
  target.on_finished = opts.on_finished
  local ok, run = pcall(require("pytestd.debug").start, target)
  if not ok then
    vim.notify(tostring(run), vim.log.levels.ERROR)
    return nil, tostring(run)
  end
  return run
end

--- Coverage: `what` is file, suite, nearest, last or failed (a coverage run of it, shown as signs and a
--- summary), "clear" (remove the signs), "summary" (reopen the summary) or "tests" (the tests that ran the
--- cursor's line; needs per_test). opts: {per_test?, branch?, on_finished?, bufnr?}. Returns the run for a run.
function M.coverage(what, opts)
  init()
  opts = opts or {}
  local coverage = require("pytestd.coverage")
  what = what or "file"
  if what == "clear" then
    coverage.clear()
    return nil
  elseif what == "summary" then
    -- The buffer's project when it was measured, else whichever was measured last.
    local root = require("pytestd.paths").current_root(0)
    return require("pytestd.ui.coverage_summary").open(coverage.get(root) and root or nil)
  elseif what == "tests" then
    local name = vim.api.nvim_buf_get_name(opts.bufnr or 0)
    local line = opts.row or vim.api.nvim_win_get_cursor(0)[1]
    local ids = coverage.tests_at(name, line)
    if #ids == 0 then
      vim.notify("pytestd: no test ran this line (or the coverage run was not per test)", vim.log.levels.INFO)
    else
      require("pytestd.ui.float").open(ids)
    end
    return ids
  end
  local target, err = targets.resolve(what, opts)
  if not target then
    vim.notify(err, vim.log.levels.WARN)
    return nil, err
  end
  local ok, run = pcall(coverage.start, target, opts)
  if not ok then
    vim.notify(tostring(run), vim.log.levels.ERROR)
    return nil, tostring(run)
  end
  return run
end

function M.output()
  init()
  return require("pytestd.ui.output").open()
end

function M.runs()
  init()
  return require("pytestd.ui.runs").open()
end

function M.log()
  init()
  return require("pytestd.log").open()
end

function M.summary()
  init()
  local paths = require("pytestd.paths")
  local root = paths.current_root(0)
  local run = runs.last_finished[root] or (runs.last_root and runs.last_finished[runs.last_root])
  return require("pytestd.ui.summary").open(run)
end

--- Stops every daemon (they cancel their runs first); waits at most timeout_ms.
function M.stop(timeout_ms)
  return daemon.stop_all(timeout_ms)
end

M.kinds = targets.kinds

return M
