-- A file run through :PytestdRun file against the real daemon: signs and diagnostics on the right lines, an
-- xfail that does not look like a failure, the failure in a helper shown in the helper, the quickfix list and
-- summary, :PytestdOutput, :PytestdSummary, :PytestdLog, :PytestdRuns, and a collection error on its line.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local runs = require("pytestd.runs")

env.setup()

local root = env.project("basic")
local calc = root .. "/tests/test_calc.py"
local helpers = root .. "/tests/helpers.py"

local function line(text)
  return env.line_of(calc, text)
end

local run = nil

local function file_run()
  if run then
    return run
  end
  env.open(helpers) -- loaded before the run: its diagnostics must arrive while it is not the current buffer
  env.open(calc)
  vim.cmd("PytestdRun file")
  run = runs.list[#runs.list]
  t.ok(run, "a run started")
  t.wait_for(60000, function()
    return run.state == "finished"
  end, "the file run ends")
  return run
end

t.test("a file run reports every test of the file and nothing else", function()
  local r = file_run()
  t.eq("failed", r.status)
  t.eq({ "tests/test_calc.py" }, r.test_ids)
  t.eq({ passed = 4, failed = 4, errors = 1, skipped = 1, xfailed = 1, xpassed = 1, total = 12 }, r.summary)
  for id in pairs(r.results) do
    t.eq("tests/test_calc.py", id:match("^(.-)::"), "result of another file: " .. id)
  end
end)

t.test("signs sit on each test's line with its status", function()
  file_run()
  local bufnr = vim.fn.bufnr(calc)
  local want = {
    [line("def test_adds")] = "PytestdPassed",
    [line("def test_subtracts")] = "PytestdFailed",
    [line("def test_helper_fails")] = "PytestdFailed",
    [line('@pytest.mark.skip(reason="not today")')] = "PytestdSkipped",
    [line('@pytest.mark.xfail(reason="known bug")')] = "PytestdXfailed",
    [line('@pytest.mark.xfail(reason="fixed already")')] = "PytestdXpassed",
    [line("def test_setup_error")] = "PytestdError",
    -- two cases pass, one fails: the line shows the failure
    [line("@pytest.mark.parametrize(")] = "PytestdFailed",
    [line("def test_in_class")] = "PytestdPassed",
    [line("def test_nested")] = "PytestdFailed",
  }
  t.eq(want, env.signs(bufnr))
end)

t.test("diagnostics sit on the failing lines with pytest's message", function()
  file_run()
  local diags = env.diagnostics(vim.fn.bufnr(calc))
  local lines = vim.tbl_keys(diags)
  table.sort(lines)
  t.eq({
    line("marker: subtracts fails here"),
    line("marker: fixture raises"),
    line("marker: small fails here"),
    line("marker: nested fails here"),
  }, lines, "diagnostic lines in test_calc.py")
  t.contains(diags[line("marker: subtracts fails here")][1], "assert 2 == 3")
  t.contains(diags[line("marker: fixture raises")][1], "fixture broke")
  t.contains(diags[line("marker: small fails here")][1], "[3]")
  t.contains(diags[line("marker: nested fails here")][1], "assert 'a' == 'b'")
end)

t.test("a failure raised in a helper is shown in the helper's buffer", function()
  file_run()
  local diags = env.diagnostics(vim.fn.bufnr(helpers))
  local want = env.line_of(helpers, "assert value > 0")
  t.eq({ want }, vim.tbl_keys(diags))
  t.contains(diags[want][1], "value must be positive")
end)

t.test("xfailed and xpassed tests are not failures: no diagnostic, no quickfix entry", function()
  local r = file_run()
  local diags = env.diagnostics(vim.fn.bufnr(calc))
  t.eq(nil, diags[line('@pytest.mark.xfail(reason="known bug")')])
  t.eq(nil, diags[line("assert False")])
  for _, item in ipairs(r.quickfix_items) do
    t.ok(not item.text:find("expected_failure", 1, true), "xfailed in quickfix: " .. item.text)
    t.ok(not item.text:find("unexpected_pass", 1, true), "xpassed in quickfix: " .. item.text)
  end
end)

t.test("the quickfix list holds the failures at their failing lines, and a summary line is made", function()
  local r = file_run()
  local qf = vim.fn.getqflist()
  local got = {}
  for _, item in ipairs(qf) do
    got[#got + 1] = string.format("%s:%d", vim.fn.fnamemodify(vim.fn.bufname(item.bufnr), ":t"), item.lnum)
  end
  table.sort(got)
  local want = {
    "helpers.py:" .. env.line_of(helpers, "assert value > 0"),
    "test_calc.py:" .. line("marker: fixture raises"),
    "test_calc.py:" .. line("marker: nested fails here"),
    "test_calc.py:" .. line("marker: small fails here"),
    "test_calc.py:" .. line("marker: subtracts fails here"),
  }
  table.sort(want)
  t.eq(want, got)
  t.contains(r.summary_line, "4 passed, 4 failed, 1 error, 1 skipped, 1 xfailed, 1 xpassed")
end)

t.test(":PytestdOutput shows the message and traceback of the test under the cursor", function()
  file_run()
  env.open(calc)
  vim.api.nvim_win_set_cursor(0, { line("marker: subtracts fails here"), 0 })
  vim.cmd("PytestdOutput")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  t.contains(text, "tests/test_calc.py::test_subtracts  FAILED")
  t.contains(text, "assert 2 == 3")
  t.contains(text, "── traceback")
  vim.cmd("close")
end)

t.test(":PytestdSummary lists the run as a tree and <CR> jumps to a test", function()
  file_run()
  env.open(calc)
  vim.cmd("PytestdSummary")
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  local target = nil
  for i, l in ipairs(lines) do
    if l:find("test_nested", 1, true) then
      target = i
    end
  end
  t.ok(target, "test_nested listed: " .. table.concat(lines, "\n"))
  t.contains(lines[target - 1], "TestInner")
  vim.api.nvim_win_set_cursor(0, { target, 0 })
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)
  t.eq(calc, vim.api.nvim_buf_get_name(0))
  t.eq(line("def test_nested"), vim.api.nvim_win_get_cursor(0)[1])
  vim.cmd("only")
end)

t.test(":PytestdLog opens the shared log in a split, with run-id prefixes, and follows new lines", function()
  local r = file_run()
  env.open(calc)
  local origin = vim.api.nvim_get_current_win()
  local windows = #vim.api.nvim_tabpage_list_wins(0)
  vim.cmd("PytestdLog")
  t.eq(windows + 1, #vim.api.nvim_tabpage_list_wins(0), "a split")
  t.eq(calc, vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(origin)), "the file stays in its window")
  local log_win = vim.api.nvim_get_current_win()
  local log_buf = vim.api.nvim_get_current_buf()
  t.contains(vim.api.nvim_buf_get_name(log_buf), "pytestd://log")
  local text = table.concat(vim.api.nvim_buf_get_lines(log_buf, 0, -1, false), "\n")
  t.contains(text, "[" .. r.id:sub(1, 8) .. "]")
  t.contains(text, "test session starts")
  -- A run started from the file's window: its lines arrive in the log and the log window follows them.
  vim.api.nvim_set_current_win(origin)
  vim.api.nvim_win_set_cursor(0, { line("def test_adds"), 0 })
  local more = require("pytestd").run("nearest")
  t.wait_for(60000, function()
    return more.state == "finished"
  end, "the nearest run ends")
  t.wait_for(5000, function()
    return table.concat(vim.api.nvim_buf_get_lines(log_buf, 0, -1, false), "\n"):find("[" .. more.id:sub(1, 8) .. "]", 1, true)
  end, "the new run's lines in the log")
  t.eq(vim.api.nvim_buf_line_count(log_buf), vim.api.nvim_win_get_cursor(log_win)[1], "the log window follows")
  vim.api.nvim_win_close(log_win, true)
end)

t.test(":PytestdRuns lists a running run", function()
  local blocking = env.project("gated")
  local rtmp = vim.fn.tempname()
  -- A run whose tests wait on a gate opened only after listRuns answered; the project's daemon starts now,
  -- so it inherits the variable.
  vim.env.PYTESTD_NVIM_GATE = rtmp .. ".gate"
  env.open(blocking .. "/test_a.py")
  local r = require("pytestd").run("file")
  t.wait_for(30000, function()
    return next(r.running) ~= nil
  end, "a test starts")
  local lines = nil
  require("pytestd.ui.runs").collect(function(l)
    lines = l
  end)
  t.wait_for(10000, function()
    return lines
  end, "listRuns answers")
  t.contains(table.concat(lines, "\n"), r.id)
  t.contains(table.concat(lines, "\n"), "running")
  -- The float shows every run id whole: no wrapping that splits it or pushes rows out of sight.
  local _, win = require("pytestd.ui.float").open(lines, { filetype = "pytestdruns", fit = true })
  local width = vim.api.nvim_win_get_width(win)
  t.eq(false, vim.api.nvim_win_get_option(win, "wrap"))
  t.eq(#lines, vim.api.nvim_win_get_height(win))
  for _, l in ipairs(lines) do
    local _, stop = l:find(r.id, 1, true)
    t.ok(not stop or stop <= width, "run id beyond the window's width " .. width .. ": " .. l)
  end
  vim.api.nvim_win_close(win, true)
  vim.fn.writefile({}, rtmp .. ".gate")
  t.wait_for(60000, function()
    return r.state == "finished"
  end, "the gated run ends")
  t.eq({ passed = 1, failed = 1 }, { passed = r.summary.passed, failed = r.summary.failed })
end)

t.test(":PytestdRuns lists the project's warm template once a run has ended", function()
  file_run()
  -- One listRuns in flight at a time, asked again until the template shows.
  local text, asking = "", false
  t.wait_for(60000, function()
    if not asking then
      asking = true
      require("pytestd.ui.runs").collect(function(lines)
        text = table.concat(lines, "\n")
        asking = false
      end)
    end
    return text:find("warm template ready", 1, true) ~= nil
  end, "a ready warm template in listRuns")
  t.ok(text:find("MiB", 1, true), "its memory is shown: " .. text)
end)

t.test("a module that fails to import gets a diagnostic on the failing import's line", function()
  local broken = env.project("broken")
  local path = broken .. "/test_broken.py"
  env.open(broken .. "/test_fine.py")
  local r = require("pytestd").run("suite")
  t.wait_for(60000, function()
    return r.state == "finished"
  end, "the suite run ends")
  local bufnr = env.open(path)
  local diags = env.diagnostics(bufnr)
  local want = env.line_of(path, "marker: import fails")
  t.ok(diags[want], "diagnostic on line " .. want .. ": " .. vim.inspect(diags))
  t.contains(diags[want][1], "pytestd_nvim_no_such_module")
  t.ok(r.results["test_fine.py::test_fine"], "the other module's tests still ran")
end)
