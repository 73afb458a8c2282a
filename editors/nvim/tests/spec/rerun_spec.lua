-- `last` re-runs exactly what the last run asked for; `failed` re-runs exactly the tests that failed (or
-- errored) in the last finished run, and nothing of another project.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local runs = require("pytestd.runs")

env.setup()

local root = env.project("basic")
local calc = root .. "/tests/test_calc.py"

local function run_and_wait(kind)
  vim.cmd("PytestdRun " .. kind)
  local run = runs.list[#runs.list]
  t.wait_for(60000, function()
    return run.state == "finished"
  end, kind .. " run ends")
  return run
end

local function sorted_keys(map)
  local k = vim.tbl_keys(map)
  table.sort(k)
  return k
end

local failed_ids = {
  "tests/test_calc.py::TestGroup::TestInner::test_nested",
  "tests/test_calc.py::test_helper_fails",
  "tests/test_calc.py::test_setup_error",
  "tests/test_calc.py::test_small[3]",
  "tests/test_calc.py::test_subtracts",
}

t.test("failed re-runs the failed and errored tests of the last run", function()
  env.open(calc)
  local first = run_and_wait("file")
  t.eq(12, first.summary.total)
  local again = run_and_wait("failed")
  local ids = vim.deepcopy(again.test_ids)
  table.sort(ids)
  t.eq(failed_ids, ids, "requested ids")
  t.eq(failed_ids, sorted_keys(again.results), "results")
end)

t.test("last re-runs what the last run asked for", function()
  env.open(calc)
  vim.api.nvim_win_set_cursor(0, { env.line_of(calc, "def test_in_class"), 0 })
  local nearest = run_and_wait("nearest")
  t.eq({ "tests/test_calc.py::TestGroup::test_in_class" }, nearest.test_ids)
  env.open(root .. "/tests/test_other.py")
  local last = run_and_wait("last")
  t.eq(nearest.test_ids, last.test_ids)
  t.eq({ "tests/test_calc.py::TestGroup::test_in_class" }, sorted_keys(last.results))
end)

t.test("nearest on a parametrized test runs all its cases", function()
  env.open(calc)
  vim.api.nvim_win_set_cursor(0, { env.line_of(calc, "marker: small fails here"), 0 })
  local run = run_and_wait("nearest")
  t.eq({ "tests/test_calc.py::test_small" }, run.test_ids)
  t.eq({ "tests/test_calc.py::test_small[1]", "tests/test_calc.py::test_small[2]", "tests/test_calc.py::test_small[3]" },
    sorted_keys(run.results))
end)

t.test("failed after a run with only the parametrized cases re-runs the failing case", function()
  local run = run_and_wait("failed")
  t.eq({ "tests/test_calc.py::test_small[3]" }, run.test_ids)
  t.eq({ "tests/test_calc.py::test_small[3]" }, sorted_keys(run.results))
end)

t.test("suite runs every file", function()
  env.open(calc)
  local run = run_and_wait("suite")
  t.eq(nil, run.test_ids)
  t.eq(14, run.summary.total)
end)
