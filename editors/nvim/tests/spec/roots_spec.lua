-- Project roots: configuration files count as pytest's rootdir rules count them (pyproject.toml, tox.ini and
-- setup.cfg only with a pytest section, checked against the rootdir real pytest reports), else .git; a test
-- file outside any project runs from its own directory; :checkhealth names the root and the interpreter.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local paths = require("pytestd.paths")
local runs = require("pytestd.runs")

env.setup()

local function tree(files)
  local dir = vim.loop.fs_realpath(vim.fn.fnamemodify(vim.fn.tempname(), ":p:h")) .. "/roots-" .. vim.loop.hrtime()
  for name, lines in pairs(files) do
    vim.fn.mkdir(vim.fn.fnamemodify(dir .. "/" .. name, ":h"), "p")
    if name:sub(-1) == "/" then
      vim.fn.mkdir(dir .. "/" .. name, "p")
    else
      vim.fn.writefile(lines, dir .. "/" .. name)
    end
  end
  return dir
end

-- The rootdir real pytest reports for a test file, run from the file's directory.
local function pytest_rootdir(file)
  local out = vim.fn.system({ env.python, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider",
    vim.fn.fnamemodify(file, ":t") }, "")
  return out:match("rootdir: ([^,\n]+)") or error("no rootdir in pytest's output: " .. out)
end

local function with_cwd(dir, fn)
  local old = vim.fn.getcwd()
  vim.cmd("cd " .. vim.fn.fnameescape(dir))
  local ok, res = pcall(fn)
  vim.cmd("cd " .. vim.fn.fnameescape(old))
  assert(ok, res)
  return res
end

local test_lines = { "def test_x():", "    assert True" }

t.test("shared configuration files without a pytest section do not make a root; as pytest decides", function()
  local cases = {
    {
      files = { ["pyproject.toml"] = { "[tool.pytest.ini_options]", "addopts = ''" },
        ["sub/setup.cfg"] = { "[flake8]", "max-line-length = 100" }, ["sub/tox.ini"] = { "[tox]" },
        ["sub/pyproject.toml"] = { "[tool.black]" }, ["sub/test_x.py"] = test_lines },
    },
    { files = { ["tox.ini"] = { "[pytest]" }, ["sub/setup.cfg"] = { "[metadata]" }, ["sub/test_x.py"] = test_lines } },
    { files = { ["setup.cfg"] = { "[tool:pytest]" }, ["sub/tox.ini"] = { "[tox]" }, ["sub/test_x.py"] = test_lines } },
    { files = { ["pytest.ini"] = {}, ["sub/pyproject.toml"] = { "[project]" }, ["sub/test_x.py"] = test_lines } },
    { files = { ["pyproject.toml"] = { "[tool.pytest]" }, ["sub/setup.cfg"] = {}, ["sub/test_x.py"] = test_lines } },
  }
  for _, c in ipairs(cases) do
    local dir = tree(c.files)
    local file = dir .. "/sub/test_x.py"
    t.eq(dir, paths.find_root(file), vim.inspect(c.files))
    t.eq(dir, with_cwd(dir .. "/sub", function()
      return pytest_rootdir(file)
    end), "pytest's rootdir for " .. vim.inspect(c.files))
  end
end)

t.test(".git wins over a configuration file without a pytest section; such a file is the last resort", function()
  local dir = tree({ [".git/"] = true, ["sub/pyproject.toml"] = { "[project]" }, ["sub/test_x.py"] = test_lines })
  t.eq(dir, paths.find_root(dir .. "/sub/test_x.py"))
  local bare = tree({ ["sub/pyproject.toml"] = { "[project]" }, ["sub/test_x.py"] = test_lines })
  t.eq(bare .. "/sub", paths.find_root(bare .. "/sub/test_x.py"))
end)

t.test("a test file outside any project runs from its own directory", function()
  local dir = env.project("loose")
  local path = dir .. "/test_loose.py"
  t.eq(nil, paths.find_root(path))
  local bufnr = env.open(path)
  vim.api.nvim_win_set_cursor(0, { env.line_of(path, "marker: alone fails"), 0 })
  vim.cmd("PytestdRun nearest")
  local run = runs.list[#runs.list]
  t.ok(run and run.root == dir, "a nearest run rooted at the file's directory")
  t.eq({ "test_loose.py::test_alone_fails" }, run.test_ids)
  t.wait_for(60000, function()
    return run.state == "finished"
  end, "the nearest run ends")
  t.eq("failed", run.results["test_loose.py::test_alone_fails"].outcome)
  vim.cmd("PytestdRun file")
  local file_run = runs.list[#runs.list]
  t.wait_for(60000, function()
    return file_run.state == "finished"
  end, "the file run ends")
  t.eq(2, file_run.summary.total)
  t.eq({
    [env.line_of(path, "def test_alone()")] = "PytestdPassed",
    [env.line_of(path, "def test_alone_fails")] = "PytestdFailed",
  }, env.signs(bufnr))
  vim.cmd("PytestdOutput")
  t.contains(table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n"), "test_alone_fails  FAILED")
  vim.cmd("close")
end)

t.test(":checkhealth pytestd names the current file's project root and the interpreter", function()
  local root = env.project("basic")
  env.open(root .. "/tests/test_calc.py")
  vim.cmd("checkhealth pytestd")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  vim.cmd("bwipeout")
  t.contains(text, "project root: " .. root)
  t.contains(text, "python: " .. env.python)
end)
