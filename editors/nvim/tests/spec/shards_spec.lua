-- `shards`: a run split across pytest processes is still one run: both files' tests run at the same time (one
-- pytest process runs one test at a time), and their results, summary and quickfix list land in that one run.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")

local gate = vim.fn.tempname() .. ".gate"
vim.env.PYTESTD_NVIM_GATE = gate
env.setup({ shards = 2, max_parallel = 2 })

local root = env.project("gated")

t.test("a sharded run runs its files in two processes and keeps every result", function()
  env.open(root .. "/test_a.py")
  local run = require("pytestd").run("suite")
  -- The gate stays shut until a test of each file is running: only two processes can get there.
  t.wait_for(60000, function()
    local files = {}
    for id in pairs(run.running) do
      files[id:match("^[^:]+")] = true
    end
    return files["test_a.py"] and files["test_b.py"]
  end, "a test of each file running at once")
  vim.fn.writefile({}, gate)
  t.wait_for(60000, function()
    return run.state == "finished"
  end, "the run ends")
  local ids = vim.tbl_keys(run.results)
  table.sort(ids)
  t.eq({ "test_a.py::test_a_fails", "test_a.py::test_a_passes", "test_b.py::test_b_fails", "test_b.py::test_b_passes" }, ids)
  t.eq(4, run.summary.total)
  t.eq(2, run.summary.failed)
  t.eq("failed", run.status)
  t.eq(2, #run.quickfix_items)
end)
