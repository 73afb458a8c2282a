-- Debug runs: a pytestd run under debugpy that waits for a debugger. When debugpy listens (the daemon's
-- debugReady) the run is attached: by a function registered here, else by nvim-dap when it is installed, else a
-- message says where to attach and how. The run is an ordinary run otherwise: it streams its results, shows
-- in :PytestdRuns, and :PytestdCancel stops it even while it is paused at a breakpoint.
local config = require("pytestd.config")
local runs = require("pytestd.runs")

local M = {}

---@type fun(info: table): boolean | nil
local attacher = nil

--- Installs fn(info) to attach a debugger instead of nvim-dap; info: {host, port, run, root, label}. fn returns
--- true when it attached (false or nil: the next way is tried). nil removes it.
function M.register(fn)
  attacher = fn
end

--- Debug runs are always available; kept for callers of the earlier seam.
function M.available()
  return true
end

--- runTests' `debug` param from the settings (only the keys that are set: the daemon refuses unknown ones).
function M.params()
  local opts = config.get().debug or {}
  local params = vim.empty_dict()
  params.host = opts.host
  params.port = opts.port
  params.waitForClientMs = opts.wait_for_client_ms
  return params
end

--- Lines that say how to attach to `info` by hand: nvim-dap, then VS Code.
function M.instructions(info, why)
  local where = string.format("%s:%d", info.host, info.port)
  return {
    string.format("pytestd: %s waits for a debugger on %s (%s).", info.label or "the debug run", where, why or "nvim-dap is not installed"),
    "Attach a DAP client there. nvim-dap:",
    string.format("  require('dap').adapters.pytestd = { type = 'server', host = '%s', port = %d }", info.host, info.port),
    "  require('dap').run({ type = 'pytestd', request = 'attach', name = 'pytestd', justMyCode = true })",
    "VS Code (launch.json):",
    string.format('  { "type": "debugpy", "request": "attach", "name": "pytestd", "connect": { "host": "%s", "port": %d } }', info.host, info.port),
  }
end

--- Attaches a debugger to a run whose debugpy listens; returns how: "registered", "dap" or "message".
function M.attach(info)
  if attacher and attacher(info) then
    return "registered"
  end
  local dap = require("pytestd.dap")
  local why = nil
  if dap.installed() then
    local ok, err = pcall(dap.attach, info)
    if ok then
      return "dap"
    end
    why = "nvim-dap failed: " .. tostring(err)
  end
  info.run.attach_message = table.concat(M.instructions(info, why), "\n")
  vim.notify(info.run.attach_message, vim.log.levels.WARN)
  return "message"
end

--- Starts a debug run. request: {root, test_ids, label, quiet?, on_result?, on_finished?}. Returns the run.
function M.start(request)
  return runs.start({
    root = request.root,
    kind = request.kind or "debug",
    test_ids = request.test_ids,
    args = request.args,
    label = "debug " .. (request.label or "run"),
    quiet = request.quiet,
    debug = M.params(),
    on_result = request.on_result,
    on_finished = request.on_finished,
    on_debug_ready = function(run, ready)
      run.attached_by = M.attach({
        host = ready.host,
        port = ready.port,
        run = run,
        root = run.root,
        label = run.label,
      })
    end,
  })
end

return M
