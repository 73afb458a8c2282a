-- Two runs at once keep their results apart: each run holds only its own file's results, its own summary and
-- its own quickfix list, though both run at the same time in the same daemon.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")

local gate = vim.fn.tempname() .. ".gate"
vim.env.PYTESTD_NVIM_GATE = gate
env.setup()

local root = env.project("gated")

t.test("two runs going at once keep their results apart", function()
  env.open(root .. "/test_a.py")
  local a = require("pytestd").run("file")
  env.open(root .. "/test_b.py")
  local b = require("pytestd").run("file")
  t.ok(a.id ~= b.id, "distinct run ids")
  -- Both must have tests running before either may finish: the gate stays shut until then.
  t.wait_for(60000, function()
    return next(a.running) ~= nil and next(b.running) ~= nil
  end, "both runs have a test running")
  vim.fn.writefile({}, gate)
  t.wait_for(60000, function()
    return a.state == "finished" and b.state == "finished"
  end, "both runs end")
  t.eq({ "test_a.py::test_a_fails", "test_a.py::test_a_passes" }, (function()
    local k = vim.tbl_keys(a.results)
    table.sort(k)
    return k
  end)())
  t.eq({ "test_b.py::test_b_fails", "test_b.py::test_b_passes" }, (function()
    local k = vim.tbl_keys(b.results)
    table.sort(k)
    return k
  end)())
  t.eq(1, a.summary.failed)
  t.eq(1, b.summary.failed)
  t.eq(2, a.summary.total)
  t.eq(2, b.summary.total)
  t.contains(a.quickfix_items[1].text, "test_a_fails")
  t.eq(1, #a.quickfix_items)
  t.contains(b.quickfix_items[1].text, "test_b_fails")
  t.eq(1, #b.quickfix_items)
  -- Each buffer shows its own file's failure.
  local da = env.diagnostics(vim.fn.bufnr(root .. "/test_a.py"))
  local db = env.diagnostics(vim.fn.bufnr(root .. "/test_b.py"))
  t.contains(da[env.line_of(root .. "/test_a.py", "assert \"a\"")][1], "'a' == 'z'")
  t.contains(db[env.line_of(root .. "/test_b.py", "assert \"b\"")][1], "'b' == 'z'")
end)
