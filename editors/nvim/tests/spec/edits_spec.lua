-- Results against a buffer that changes: a modified buffer is saved before it runs (pytest reads the file, so
-- unsaved lines would misplace every sign); a test removed from a file loses its sign and diagnostic at the
-- next run of that file; re-running an id that no longer exists says so; `:e!` redraws the signs where the
-- tests are.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local runs = require("pytestd.runs")

env.setup()

local function wait(run, what)
  t.ok(run, "a run started")
  t.wait_for(60000, function()
    return run.state == "finished"
  end, what or "the run ends")
  return run
end

local function run_cmd(kind)
  vim.cmd("PytestdRun " .. kind)
  return wait(runs.list[#runs.list], kind .. " run ends")
end

local function buffer_line(bufnr, text)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if l:find(text, 1, true) then
      return i
    end
  end
  error("no line with " .. text)
end

local function fresh()
  local root = env.project("edits")
  local path = root .. "/test_edit.py"
  return root, path, env.open(path)
end

t.test("nearest on a modified buffer saves it first, so the sign lands on the test's line", function()
  local _, path, bufnr = fresh()
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "# added", "# before", "# the tests" })
  t.ok(vim.bo[bufnr].modified, "the buffer is modified")
  local def = buffer_line(bufnr, "def test_second")
  vim.api.nvim_win_set_cursor(0, { def, 0 })
  local run = run_cmd("nearest")
  t.eq({ "test_edit.py::test_second" }, run.test_ids)
  t.ok(not vim.bo[bufnr].modified, "the buffer was written")
  t.eq("# added", vim.fn.readfile(path)[1])
  t.eq({ [def] = "PytestdFailed" }, env.signs(bufnr))
  t.eq({ buffer_line(bufnr, "marker: second fails") }, vim.tbl_keys(env.diagnostics(bufnr)))
end)

t.test("with save_before_run = false a modified buffer is left as it is", function()
  env.setup({ save_before_run = false })
  local _, path, bufnr = fresh()
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "# unsaved" })
  run_cmd("file")
  env.setup()
  t.ok(vim.bo[bufnr].modified, "the buffer is still modified")
  t.ok(vim.fn.readfile(path)[1] ~= "# unsaved", "the file on disk is unchanged")
  vim.cmd("edit!")
end)

t.test("a test removed from the file loses its sign and diagnostic at the next file run", function()
  local _, _, bufnr = fresh()
  run_cmd("file")
  local second = buffer_line(bufnr, "def test_second")
  t.eq("PytestdFailed", env.signs(bufnr)[second])
  -- test_second goes; test_third moves up to its line
  vim.api.nvim_buf_set_lines(bufnr, second - 1, second + 3, false, {})
  vim.cmd("silent write")
  run_cmd("file")
  t.eq({
    [buffer_line(bufnr, "def test_first")] = "PytestdPassed",
    [buffer_line(bufnr, "def test_third")] = "PytestdPassed",
  }, env.signs(bufnr))
  t.eq({}, env.diagnostics(bufnr))
end)

t.test("re-running a test id that no longer exists clears its sign and warns with the run's errors", function()
  local _, _, bufnr = fresh()
  vim.api.nvim_win_set_cursor(0, { buffer_line(bufnr, "marker: second fails"), 0 })
  run_cmd("nearest")
  local second = buffer_line(bufnr, "def test_second")
  vim.api.nvim_buf_set_lines(bufnr, second - 1, second + 3, false, {})
  vim.cmd("silent write")
  local notes = {}
  local notify = vim.notify
  env.setup({ notify = true })
  vim.notify = function(msg, level)
    notes[#notes + 1] = { msg = msg, level = level }
  end
  local ok, err = pcall(run_cmd, "last")
  vim.notify = notify
  env.setup()
  assert(ok, err)
  t.eq({}, env.signs(bufnr))
  t.eq({}, env.diagnostics(bufnr))
  t.eq(1, #notes, vim.inspect(notes))
  t.contains(notes[1].msg, "1 requested test id(s) matched no collected test")
  t.eq(vim.log.levels.WARN, notes[1].level)
end)

t.test(":e! redraws the signs and diagnostics on the tests' lines, also after lines moved since the run", function()
  local _, _, bufnr = fresh()
  run_cmd("file")
  local want = env.signs(bufnr)
  t.eq(3, vim.tbl_count(want))
  -- unsaved edits thrown away: the file is what pytest ran
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "# one", "# two" })
  vim.cmd("edit!")
  t.eq(want, env.signs(bufnr))
  -- saved edits: every test moved two lines down since pytest reported its line
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "# one", "# two" })
  vim.cmd("silent write")
  vim.cmd("edit!")
  t.eq({
    [buffer_line(bufnr, "def test_first")] = "PytestdPassed",
    [buffer_line(bufnr, "def test_second")] = "PytestdFailed",
    [buffer_line(bufnr, "def test_third")] = "PytestdPassed",
  }, env.signs(bufnr))
  t.eq({ buffer_line(bufnr, "marker: second fails") }, vim.tbl_keys(env.diagnostics(bufnr)))
end)
