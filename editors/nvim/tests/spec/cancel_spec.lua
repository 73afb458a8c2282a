-- :PytestdCancel stops a run and every process it started (checked in /proc), and the run's sign goes from
-- running to nothing; :PytestdCancel all stops every live run.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local runs = require("pytestd.runs")

local pid_file = vim.fn.tempname() .. ".pids"
vim.env.PYTESTD_NVIM_PIDS = pid_file
env.setup()

local root = env.project("blocking")
local path = root .. "/test_block.py"

local function read_pids(file)
  local f = io.open(file, "r")
  if not f then
    return nil
  end
  local text = f:read("*a")
  f:close()
  local a, b = text:match("^(%d+) (%d+)")
  return a and { tonumber(a), tonumber(b) } or nil
end

t.test("cancel stops the run, pytest and the test's child process", function()
  local bufnr = env.open(path)
  vim.api.nvim_win_set_cursor(0, { env.line_of(path, "child.wait()"), 0 })
  vim.cmd("PytestdRun nearest")
  local run = runs.list[#runs.list]
  t.eq({ "test_block.py::test_blocks" }, run.test_ids)
  local pids = t.wait_for(60000, function()
    return read_pids(pid_file)
  end, "the test records its pids")
  t.ok(env.alive(pids[1]) and env.alive(pids[2]), "pytest and its child run")
  t.eq(run.pid, pids[1], "runStarted's pid is pytest's")
  t.wait_for(5000, function()
    return env.signs(bufnr)[env.line_of(path, "def test_blocks")] == "PytestdRunning"
  end, "the running sign is shown")
  vim.cmd("PytestdCancel " .. run.id)
  t.wait_for(15000, function()
    return run.state == "finished"
  end, "the run ends")
  t.eq("cancelled", run.status)
  t.wait_for(15000, function()
    return not env.alive(pids[1]) and not env.alive(pids[2])
  end, "pytest and its child are gone")
  t.wait_for(5000, function()
    return next(env.signs(bufnr)) == nil
  end, "the running sign is removed")
  t.eq({}, env.diagnostics(bufnr))
end)

t.test("cancel all stops every live run", function()
  os.remove(pid_file)
  env.open(path)
  t.eq({}, runs.live(), "nothing left from the first case")
  local a = require("pytestd").run("file")
  local b = require("pytestd").run("file")
  t.wait_for(60000, function()
    return a.state == "running" and b.state == "running"
  end, "both runs start")
  local chosen = require("pytestd").cancel("all")
  t.eq(2, #chosen)
  t.wait_for(15000, function()
    return a.state == "finished" and b.state == "finished"
  end, "both runs end")
  t.eq({ "cancelled", "cancelled" }, { a.status, b.status })
  t.eq({}, runs.live())
end)
