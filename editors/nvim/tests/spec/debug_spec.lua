-- Debug runs against the real daemon and the real debugpy: debugReady, cancel with nothing left (checked in
-- /proc), the attach message without nvim-dap, the attach call with a stand-in of nvim-dap, and a real DAP
-- client (in Lua) that stops at a breakpoint and continues to the results, or cancels while paused. With the
-- real nvim-dap on the runtimepath (PYTESTD_REAL_DAP=1) only the cases that attach it run.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local dap_client = require("pytestd_test.dap_client")
local debug = require("pytestd.debug")

env.setup({ debug = { wait_for_client_ms = 60000 } })

local root = env.project("measured")
local test_file = root .. "/test_calc.py"
local bp_line = env.line_of(test_file, "# breakpoint here")

-- Notifications, kept for the message checks.
local notes = {}
vim.notify = function(msg, level)
  notes[#notes + 1] = { msg = msg, level = level }
end

--- Pids of live processes whose command line mentions the project (pytest runs with --rootdir <root>).
local function project_processes()
  local out = {}
  for _, name in ipairs(vim.fn.readdir("/proc")) do
    if name:match("^%d+$") then
      local f = io.open("/proc/" .. name .. "/cmdline", "r")
      local cmd = f and f:read("*a") or ""
      if f then
        f:close()
      end
      if cmd:find(root, 1, true) and env.alive(tonumber(name)) then
        out[#out + 1] = tonumber(name)
      end
    end
  end
  return out
end

local function ready(run)
  return t.wait_for(60000, function()
    return run.debug_ready
  end, "debugReady")
end

local function cancel_and_check(run)
  local pid = run.pid
  t.ok(pid and env.alive(pid), "pytest runs")
  t.ok(vim.tbl_contains(project_processes(), pid), "pytest is found by its command line")
  vim.cmd("PytestdCancel " .. run.id)
  t.wait_for(15000, function()
    return run.state == "finished"
  end, "the run ends")
  t.eq("cancelled", run.status)
  t.wait_for(15000, function()
    return not env.alive(pid) and #project_processes() == 0
  end, "pytest and debugpy are gone")
end

if os.getenv("PYTESTD_REAL_DAP") == "1" then
  local function stopped_session(dap)
    return t.wait_for(60000, function()
      local s = dap.session()
      return s and s.stopped_thread_id and s.current_frame and s
    end, "nvim-dap stops at the breakpoint")
  end

  t.test("the real nvim-dap attaches, stops at the breakpoint and continues to the results", function()
    local dap = require("dap")
    env.open(test_file)
    vim.api.nvim_win_set_cursor(0, { bp_line, 0 })
    dap.set_breakpoint()
    local run = require("pytestd").debug("file")
    ready(run)
    t.eq(bp_line, stopped_session(dap).current_frame.line)
    t.eq("dap", run.attached_by)
    dap.continue()
    t.wait_for(60000, function()
      return run.state == "finished"
    end, "the run ends")
    t.eq("passed", run.status)
    t.eq(3, run.summary.passed)
  end)

  t.test("cancel while nvim-dap is paused at the breakpoint leaves no process", function()
    local dap = require("dap")
    env.open(test_file)
    local run = require("pytestd").debug("nearest")
    ready(run)
    stopped_session(dap)
    cancel_and_check(run)
    t.wait_for(15000, function()
      return dap.session() == nil
    end, "the nvim-dap session ends")
  end)
  return
end

t.test("without nvim-dap a debug run says where and how to attach, and cancels cleanly", function()
  t.ok(not pcall(require, "dap"), "no nvim-dap on the runtimepath")
  env.open(test_file)
  vim.api.nvim_win_set_cursor(0, { bp_line, 0 })
  notes = {}
  vim.cmd("PytestdDebug nearest")
  local run = require("pytestd.runs").list[#require("pytestd.runs").list]
  t.eq({ "test_calc.py::test_add" }, run.test_ids)
  t.ok(run.debug, "a debug run")
  local r = ready(run)
  t.eq("127.0.0.1", r.host)
  t.ok(r.port > 0, "a port")
  t.eq("message", run.attached_by)
  local msg = t.wait_for(5000, function()
    for _, n in ipairs(notes) do
      if n.msg:find("waits for a debugger", 1, true) then
        return n.msg
      end
    end
  end, "the attach message")
  t.contains(msg, string.format("127.0.0.1:%d", r.port))
  t.contains(msg, string.format("type = 'server', host = '127.0.0.1', port = %d", r.port))
  t.contains(msg, "request = 'attach'")
  t.contains(msg, string.format('"connect": { "host": "127.0.0.1", "port": %d }', r.port))
  cancel_and_check(run)
end)

t.test("with nvim-dap the run is attached to debugReady's host and port", function()
  vim.opt.runtimepath:prepend(env.tests_dir .. "/fakedap")
  local dap = require("dap")
  env.open(test_file)
  local run = require("pytestd").debug("file")
  local r = ready(run)
  t.wait_for(5000, function()
    return #dap.calls == 1
  end, "dap.run is called")
  t.eq("dap", run.attached_by)
  local call = dap.calls[1]
  t.eq("pytestd", call.config.type)
  t.eq("attach", call.config.request)
  t.eq({ host = r.host, port = r.port }, call.config.connect)
  t.eq(true, call.config.justMyCode)
  t.eq(true, call.opts.new)
  local resolved = nil
  dap.adapters.pytestd(function(adapter)
    resolved = adapter
  end, call.config)
  t.eq({ type = "server", host = r.host, port = r.port }, resolved)
  cancel_and_check(run)
  package.loaded.dap = nil
  vim.opt.runtimepath:remove(env.tests_dir .. "/fakedap")
end)

-- Attaches the Lua DAP client to debugReady's port through the registered attacher, with a breakpoint.
local function debug_with_client(kind)
  local client = nil
  debug.register(function(info)
    client = dap_client.connect(info.host, info.port)
    return true
  end)
  env.open(test_file)
  vim.api.nvim_win_set_cursor(0, { bp_line, 0 })
  local run = require("pytestd").debug(kind)
  ready(run)
  t.wait_for(10000, function()
    return client
  end, "the client connects")
  debug.register(nil)
  t.eq("registered", run.attached_by)
  client:request("initialize", { clientID = "pytestd-tests", adapterID = "debugpy", linesStartAt1 = true, columnsStartAt1 = true, pathFormat = "path" })
  local attach_seq = client:send("attach", { justMyCode = true })
  client:event("initialized", 30000)
  local bps = client:request("setBreakpoints", { source = { path = test_file }, breakpoints = { { line = bp_line } } })
  t.eq(1, #bps.breakpoints)
  client:request("configurationDone")
  t.ok(client:response(attach_seq, 30000).success, "attach succeeds")
  local stopped = client:event("stopped", 60000)
  t.eq("breakpoint", stopped.body.reason)
  local stack = client:request("stackTrace", { threadId = stopped.body.threadId })
  t.eq(bp_line, stack.stackFrames[1].line)
  t.eq(test_file, vim.loop.fs_realpath(stack.stackFrames[1].source.path))
  t.ok(run.state ~= "finished", "the run waits while paused")
  return run, client, stopped
end

t.test("a DAP client stops at the breakpoint, continues, and the run ends with its results", function()
  local run, client, stopped = debug_with_client("file")
  t.eq(nil, run.results["test_calc.py::test_add"], "test_add has not finished while paused")
  client:request("continue", { threadId = stopped.body.threadId })
  t.wait_for(60000, function()
    return run.state == "finished"
  end, "the run ends")
  t.eq("passed", run.status)
  t.eq({ passed = 3, total = 3 }, { passed = run.summary.passed, total = run.summary.total })
  for _, id in ipairs({ "test_calc.py::test_add", "test_calc.py::test_classify", "test_calc.py::test_partial" }) do
    t.eq("passed", run.results[id] and run.results[id].outcome, id)
  end
  t.ok(client:wait_closed(15000), "debugpy closes the connection when pytest ends")
  client:close()
  t.wait_for(15000, function()
    return #project_processes() == 0
  end, "nothing is left")
end)

t.test("cancel while paused at the breakpoint leaves no process", function()
  local run, client = debug_with_client("nearest")
  cancel_and_check(run)
  t.ok(client:wait_closed(15000), "the debug connection is closed")
  client:close()
end)

t.test("no debugger within wait_for_client_ms ends the run as an error that says so", function()
  require("pytestd.config").get().debug.wait_for_client_ms = 1500
  debug.register(function()
    return true -- a debugger that never comes
  end)
  local run = require("pytestd").debug("file")
  t.wait_for(60000, function()
    return run.state == "finished"
  end, "the run ends")
  debug.register(nil)
  require("pytestd.config").get().debug.wait_for_client_ms = 60000
  t.eq("error", run.status)
  t.contains(run.errors[1], "no debugger attached")
  t.wait_for(15000, function()
    return #project_processes() == 0
  end, "nothing is left")
end)
