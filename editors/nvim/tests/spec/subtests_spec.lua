-- Subtests: a unittest test whose subTest fails stays `passed` in pytest's report (pytest prints SUBFAILED and
-- counts the failure), and a test using the `subtests` fixture fails. Both must show as failures: a ✗ sign,
-- a diagnostic per failing subtest where it failed (with the subtest's description), quickfix entries,
-- `:PytestdRun failed`, and a summary line that counts the test as failed.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local runs = require("pytestd.runs")

env.setup()

local root = env.project("subtests")
local path = root .. "/test_sub.py"
local helper = root .. "/helper.py"

local function line(text)
  return env.line_of(path, text)
end

local run = nil

local function file_run()
  if run then
    return run
  end
  env.open(helper)
  env.open(path)
  vim.cmd("PytestdRun file")
  run = runs.list[#runs.list]
  t.wait_for(60000, function()
    return run.state == "finished"
  end, "the file run ends")
  return run
end

t.test("the daemon keeps the unittest test passed and lists its failing subtests", function()
  local r = file_run()
  local even = r.results["test_sub.py::TestNumbers::test_even"]
  t.eq("passed", even.outcome)
  t.eq(4, #even.subtests)
end)

t.test("a test with a failing subtest gets the failed sign; all-passing subtests stay passed", function()
  file_run()
  t.eq({
    [line("def test_even")] = "PytestdFailed",
    [line("def test_all_pass")] = "PytestdPassed",
    [line("def test_plain")] = "PytestdPassed",
    [line("def test_fixture")] = "PytestdFailed",
  }, env.signs(vim.fn.bufnr(path)))
end)

t.test("each failing subtest has a diagnostic on its failing line naming the subtest", function()
  file_run()
  local diags = env.diagnostics(vim.fn.bufnr(path))
  local at = diags[line("marker: subtest fails")]
  t.ok(at, "diagnostics on the subtest's line: " .. vim.inspect(diags))
  table.sort(at)
  t.eq(2, #at)
  t.contains(at[1], "(i=1)")
  t.contains(at[1], "AssertionError: 1 != 0")
  t.contains(at[2], "(i=3)")
end)

t.test("a subtest failing in a helper is shown on the helper's line", function()
  file_run()
  local diags = env.diagnostics(vim.fn.bufnr(helper))
  local want = env.line_of(helper, "marker: helper raises")
  t.eq({ want }, vim.tbl_keys(diags))
  table.sort(diags[want])
  t.eq(2, #diags[want])
  t.contains(diags[want][1], "[case] (i=1)")
  t.contains(diags[want][1], "too big")
  t.contains(diags[want][2], "[case] (i=2)")
end)

t.test("the quickfix list has an entry per failing subtest", function()
  local r = file_run()
  local got = {}
  for _, item in ipairs(r.quickfix_items) do
    if item.text:find("test_even", 1, true) then
      got[#got + 1] = string.format("%d %s", item.lnum, item.text:match("%(i=%d%)") or "?")
    end
  end
  table.sort(got)
  t.eq({ line("marker: subtest fails") .. " (i=1)", line("marker: subtest fails") .. " (i=3)" }, got)
end)

t.test("the summary counts a test with a failing subtest as failed", function()
  local r = file_run()
  t.contains(r.summary_line, "2 passed, 2 failed")
  t.contains(r.summary_line, "4 subtests failed")
end)

t.test(":PytestdRun failed re-runs the tests with failing subtests", function()
  file_run()
  local ids = runs.failed_ids(run)
  table.sort(ids)
  t.eq({ "test_sub.py::TestNumbers::test_even", "test_sub.py::test_fixture" }, ids)
  vim.cmd("PytestdRun failed")
  local again = runs.list[#runs.list]
  t.wait_for(60000, function()
    return again.state == "finished"
  end, "the failed run ends")
  local got = vim.tbl_keys(again.results)
  table.sort(got)
  t.eq(ids, got)
end)

t.test(":PytestdOutput shows the failing subtests, not the passing ones", function()
  file_run()
  env.open(path)
  vim.api.nvim_win_set_cursor(0, { line("marker: subtest fails"), 0 })
  vim.cmd("PytestdOutput")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  vim.cmd("close")
  t.contains(text, "test_even  FAILED")
  t.contains(text, "subtests: 2 passed, 2 failed")
  t.contains(text, "subtest (i=1) FAILED")
  t.ok(not text:find("(i=0)", 1, true), "a passing subtest shown: " .. text)
end)

t.test(":PytestdSummary lists the failing subtests under their test, which is marked failed", function()
  local r = file_run()
  local built = require("pytestd.ui.summary").build(r)
  local text = table.concat(built.lines, "\n")
  t.contains(text, "✗ test_even  failed")
  t.contains(text, "subtest (i=3) failed: AssertionError: 1 != 0")
  for lnum, l in ipairs(built.lines) do
    if l:find("subtest [case] (i=2)", 1, true) then
      t.eq({ path = helper, line = env.line_of(helper, "marker: helper raises") }, built.targets[lnum])
    end
  end
end)

t.test("neotest sees a test with a failing subtest as failed, with an error per failing subtest", function()
  local r = file_run()
  local converted = require("neotest-pytestd.results").convert(root, r.results["test_sub.py::TestNumbers::test_even"])
  t.eq("failed", converted.status)
  t.eq(2, #converted.errors)
  t.eq(line("marker: subtest fails") - 1, converted.errors[1].line)
  t.contains(converted.errors[2].message, "(i=3)")
end)
