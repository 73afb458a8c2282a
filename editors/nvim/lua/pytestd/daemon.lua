-- One pytestd daemon per project root: started on first use, initialized once, then shared by every run,
-- discovery and listRuns of that root. Notifications are routed to their run by runId; window/logMessage lines
-- go to the shared log.
local compat = require("pytestd.compat")
local config = require("pytestd.config")
local log = require("pytestd.log")

local M = {}

---@type table<string, table> root -> daemon
local daemons = {}

local Daemon = {}
Daemon.__index = Daemon

local function default_python(root)
  for _, candidate in ipairs({ root .. "/.venv/bin/python", root .. "/venv/bin/python" }) do
    if vim.fn.executable(candidate) == 1 then
      return candidate, "the project's virtualenv"
    end
  end
  local venv = vim.env.VIRTUAL_ENV
  if venv and venv ~= "" and vim.fn.executable(venv .. "/bin/python") == 1 then
    return venv .. "/bin/python", "$VIRTUAL_ENV"
  end
  return nil
end

--- The interpreter runs of `root` use, and where that choice comes from; nil when the daemon picks
--- (python3 from PATH).
function M.python_for(root)
  local python = config.get().python
  if type(python) == "function" then
    python = python(root)
    if python then
      return python, "the python option (a function)"
    end
  elseif python then
    return python, "the python option"
  end
  return default_python(root)
end

--- Only the keys that are set: the daemon refuses unknown keys and wrong types, and an empty Lua table would
--- go out as a JSON array.
local function initialization_options(root)
  local opts = config.get()
  local init = vim.empty_dict()
  init.python = (M.python_for(root))
  init.maxParallel = opts.max_parallel
  init.warmStart = opts.warm_start
  if opts.pytest_args and #opts.pytest_args > 0 then
    init.pytestArgs = opts.pytest_args
  end
  if opts.env and next(opts.env) then
    init.env = opts.env
  end
  return init
end

function Daemon:_on_notification(method, params)
  if method == "window/logMessage" then
    log.append(params and params.message or "")
    return
  end
  if method == "window/showMessage" then
    vim.notify("pytestd: " .. tostring(params and params.message), vim.log.levels.WARN)
    return
  end
  local run_id = params and params.runId
  local handler = run_id and self.handlers[run_id]
  if handler then
    handler(method, params)
  end
end

function Daemon:_on_exit(code, signal)
  self.exited = true
  daemons[self.root] = nil
  log.append(string.format("[pytestd] daemon for %s exited (code %s, signal %s)", self.root, code, signal))
  local waiting = self.waiting
  self.waiting = {}
  for _, call in ipairs(waiting) do
    call.callback({ code = -32099, message = "pytestd exited" }, nil)
  end
  for _, on_exit in pairs(self.exit_handlers) do
    on_exit()
  end
end

function Daemon:_start()
  local opts = config.get()
  local cmd = opts.cmd
  if type(cmd) == "string" then
    cmd = { cmd, "serve" }
  end
  if vim.fn.executable(cmd[1]) ~= 1 then
    error(string.format("pytestd: %q is not executable; set cmd in require('pytestd').setup{}", cmd[1]))
  end
  local this = self
  local rpc = compat.rpc_start(cmd, {
    notification = function(method, params)
      this:_on_notification(method, params)
    end,
    -- The daemon asks nothing that needs an answer beyond null (0.7 insists on a non-nil result).
    server_request = function()
      return vim.NIL, nil
    end,
    -- Not scheduled by vim.lsp.rpc in 0.7: leave the loop callback before touching the editor.
    on_exit = function(code, signal)
      vim.schedule(function()
        this:_on_exit(code, signal)
      end)
    end,
    on_error = function(code, err)
      log.append(string.format("[pytestd] rpc error %s: %s", tostring(code), vim.inspect(err)))
    end,
  }, { cwd = self.root })
  if not rpc then
    error("pytestd: could not start " .. table.concat(cmd, " "))
  end
  self.rpc = rpc
  self.pid = rpc.pid
  rpc.request("initialize", {
    processId = vim.fn.getpid(),
    rootUri = vim.uri_from_fname(self.root),
    capabilities = vim.empty_dict(),
    initializationOptions = initialization_options(self.root),
  }, function(err, result)
    if err then
      self.init_error = err
      log.append("[pytestd] initialize failed: " .. vim.inspect(err))
      vim.notify("pytestd: initialize failed: " .. tostring(err.message or vim.inspect(err)), vim.log.levels.ERROR)
      for _, call in ipairs(self.waiting) do
        call.callback(err, nil)
      end
      self.waiting = {}
      return
    end
    self.server_info = result and result.serverInfo
    rpc.notify("initialized", vim.empty_dict())
    self.ready = true
    local waiting = self.waiting
    self.waiting = {}
    for _, call in ipairs(waiting) do
      self:request(call.method, call.params, call.callback)
    end
  end)
end

--- Sends a request once the daemon is initialized; callback(err, result) runs on the main loop.
function Daemon:request(method, params, callback)
  callback = callback or function() end
  if self.exited then
    callback({ code = -32099, message = "pytestd exited" }, nil)
    return
  end
  if self.init_error then
    callback(self.init_error, nil)
    return
  end
  if not self.ready then
    table.insert(self.waiting, { method = method, params = params, callback = callback })
    return
  end
  local ok = self.rpc.request(method, params, callback)
  if not ok then
    callback({ code = -32099, message = "pytestd is not running" }, nil)
  end
end

function Daemon:notify(method, params)
  if self.ready and not self.exited then
    self.rpc.notify(method, params)
  end
end

--- Routes notifications carrying `run_id` to handler(method, params) until unsubscribed.
function Daemon:subscribe(run_id, handler)
  self.handlers[run_id] = handler
end

function Daemon:unsubscribe(run_id)
  self.handlers[run_id] = nil
end

function Daemon:on_exit(key, fn)
  self.exit_handlers[key] = fn
end

--- shutdown (which cancels every run), then exit; the daemon's end is reported through on_exit.
function Daemon:stop()
  if self.exited then
    return
  end
  if not self.ready then
    self.rpc.terminate()
    return
  end
  self.rpc.request("shutdown", nil, function()
    if not self.exited then
      self.rpc.notify("exit", nil)
    end
  end)
end

--- The daemon for `root`, started (and initialized in the background) when there is none yet.
function M.get(root)
  local d = daemons[root]
  if d and not d.exited then
    return d
  end
  d = setmetatable({
    root = root,
    handlers = {},
    exit_handlers = {},
    waiting = {},
    ready = false,
    exited = false,
  }, Daemon)
  daemons[root] = d
  local ok, err = pcall(d._start, d)
  if not ok then
    daemons[root] = nil
    error(err, 0)
  end
  return d
end

--- The running daemon for `root`, without starting one.
function M.find(root)
  return daemons[root]
end

function M.all()
  local list = {}
  for _, d in pairs(daemons) do
    list[#list + 1] = d
  end
  return list
end

--- Stops every daemon and waits (at most timeout_ms) until they have exited.
function M.stop_all(timeout_ms)
  local list = M.all()
  for _, d in ipairs(list) do
    d:stop()
  end
  return vim.wait(timeout_ms or 5000, function()
    for _, d in ipairs(list) do
      if not d.exited then
        return false
      end
    end
    return true
  end, 20)
end

return M
