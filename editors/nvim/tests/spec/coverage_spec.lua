-- Coverage runs against the real daemon and coverage.py: the signs of a measured module are on the lines the
-- daemon returns and the lines `coverage json` reports for the same tests run by coverage.py directly, in
-- buffers open during the run and opened later; partly taken branches are marked; the summary; per-test lines;
-- clear; the test signs stay apart.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local coverage = require("pytestd.coverage")
local signs = require("pytestd.ui.coverage_signs")

env.setup({ coverage = { open_summary = true } })

local root = env.project("measured")
local calc = root .. "/calc.py"
local test_file = root .. "/test_calc.py"

--- What coverage.py reports for the fixture's tests, run by itself in a copy of the project.
local function coverage_py()
  local copy = env.project("measured")
  local out = vim.fn.system({ "sh", "-c", "cd '" .. copy .. "' && '" .. env.python .. "' -m coverage run --branch -m pytest -q -p no:cacheprovider >/dev/null && '"
    .. env.python .. "' -m coverage json -q -o cov.json" })
  assert(vim.v.shell_error == 0, "coverage.py failed: " .. out)
  return vim.fn.json_decode(table.concat(vim.fn.readfile(copy .. "/cov.json"), "\n"))
end

--- { [line] = kind } expected from lists of covered and missed lines and missing branch arcs.
local function expected_signs(covered, missed, missing_arcs)
  local ran = {}
  for _, l in ipairs(covered) do
    ran[l] = true
  end
  local out = {}
  for _, l in ipairs(covered) do
    out[l] = "covered"
  end
  for _, arc in ipairs(missing_arcs) do
    if ran[arc[1]] then
      out[arc[1]] = "partial"
    end
  end
  for _, l in ipairs(missed) do
    out[l] = "missed"
  end
  return out
end

local run = nil

t.test("coverage signs are on the lines the daemon and coverage.py report", function()
  local calc_buf = env.open(calc)
  local test_buf = env.open(test_file)
  vim.cmd("PytestdCoverage file")
  run = require("pytestd.runs").list[#require("pytestd.runs").list]
  t.eq({ "test_calc.py" }, run.test_ids)
  t.wait_for(60000, function()
    return run.state == "finished"
  end, "the coverage run ends")
  t.eq("passed", run.status)
  local file = run.coverage.files["calc.py"]
  t.ok(file, "calc.py was measured")
  local from_daemon = expected_signs(file.covered, file.missed, file.branches.missing)
  t.eq(from_daemon, signs.placed(calc_buf), "signs match the daemon's lines")

  local cp = coverage_py().files["calc.py"]
  local from_coverage_py = expected_signs(cp.executed_lines, cp.missing_lines, cp.missing_branches)
  t.eq(from_coverage_py, signs.placed(calc_buf), "signs match coverage.py's own report")

  -- The fixture's known shape, so a change in both cannot go unnoticed.
  t.eq("missed", signs.placed(calc_buf)[env.line_of(calc, 'return "negative"')])
  t.eq("partial", signs.placed(calc_buf)[env.line_of(calc, "if n < 0:")])
  t.eq("partial", signs.placed(calc_buf)[env.line_of(calc, "if flag:")])
  t.eq("covered", signs.placed(calc_buf)[env.line_of(calc, "return a + b")])
  t.eq("missed", signs.placed(calc_buf)[env.line_of(calc, "x = 1")])
  t.eq(nil, signs.placed(calc_buf)[1], "the docstring's blank neighbour has no sign")

  -- The test file has both: coverage signs in their group, test results in theirs.
  t.eq("covered", signs.placed(test_buf)[env.line_of(test_file, "# breakpoint here")])
  t.wait_for(5000, function()
    return env.signs(test_buf)[env.line_of(test_file, "def test_add")] == "PytestdPassed"
  end, "the test sign stays")
  t.eq("covered", signs.placed(test_buf)[env.line_of(test_file, "def test_add")])
end)

t.test("the summary shows each file and the total, as coverage.py counts them", function()
  local buf = vim.api.nvim_get_current_buf()
  t.eq("pytestd_coverage", vim.bo[buf].filetype, "the summary float is open")
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  t.eq({ "File", "Stmts", "Miss", "Branch", "BrPart", "Cover" }, vim.split(vim.trim(lines[1]), "%s+"))
  local cp = coverage_py()
  local rows = {}
  for _, line in ipairs(lines) do
    local parts = vim.split(vim.trim(line), "%s+")
    rows[parts[1]] = parts
  end
  local s = cp.files["calc.py"].summary
  t.eq({ "calc.py", tostring(s.num_statements), tostring(s.missing_lines), tostring(s.num_branches),
    tostring(s.num_partial_branches), s.percent_covered_display .. "%" }, rows["calc.py"])
  local total = cp.totals
  t.eq({ "TOTAL", tostring(total.num_statements), tostring(total.missing_lines), tostring(total.num_branches),
    tostring(total.num_partial_branches), total.percent_covered_display .. "%" }, rows["TOTAL"])
  vim.cmd("close")
end)

t.test("a measured file opened after the run gets its signs", function()
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b) == calc then
      vim.cmd("bwipeout! " .. b)
    end
  end
  local buf = env.open(calc)
  local file = run.coverage.files["calc.py"]
  t.eq(expected_signs(file.covered, file.missed, file.branches.missing), signs.placed(buf))
end)

t.test("clear removes the coverage signs and leaves the test signs", function()
  local test_buf = env.open(test_file)
  t.ok(next(signs.placed(test_buf)) ~= nil, "signs before")
  vim.cmd("PytestdCoverage clear")
  t.eq({}, signs.placed(test_buf))
  t.eq("PytestdPassed", env.signs(test_buf)[env.line_of(test_file, "def test_add")])
  local buf = env.open(calc)
  t.eq({}, signs.placed(buf))
end)

t.test("per test: the lines each test ran, and the tests of a line", function()
  env.open(test_file)
  local r = require("pytestd").coverage("file", { per_test = true, no_summary = true })
  t.wait_for(60000, function()
    return r.state == "finished"
  end, "the coverage run ends")
  t.ok(r.coverage.tests, "per-test data")
  t.eq({ "test_calc.py::test_add" }, coverage.tests_at(calc, env.line_of(calc, "return a + b")))
  t.eq({ "test_calc.py::test_partial" }, coverage.tests_at(calc, env.line_of(calc, "result = 1")))
  t.eq({}, coverage.tests_at(calc, env.line_of(calc, "x = 1")))
  vim.api.nvim_win_set_cursor(0, { env.line_of(test_file, "assert classify(5)"), 0 })
  t.eq({ "test_calc.py::test_classify" }, require("pytestd").coverage("tests"))
  vim.cmd("close")
end)
