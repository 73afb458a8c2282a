-- Test environment: where the daemon, the interpreter and the fixtures are (from variables test.sh sets),
-- fresh copies of fixture projects in a temporary directory, and plugin setup for the tests.
local M = {}

local this = debug.getinfo(1, "S").source:sub(2)
M.tests_dir = vim.fn.fnamemodify(this, ":p:h:h:h")
M.fixtures = M.tests_dir .. "/fixtures"

M.pytestd = os.getenv("PYTESTD_BIN")
M.python = os.getenv("PYTESTD_PYTHON")

local tmp_root = nil

--- A fresh copy of fixture `name` in a temporary directory (runs write caches; the repository stays clean).
function M.project(name)
  tmp_root = tmp_root or vim.fn.fnamemodify(vim.fn.tempname(), ":p:h") .. "/projects"
  vim.fn.mkdir(tmp_root, "p")
  local dest = string.format("%s/%s-%d", tmp_root, name, vim.loop.hrtime())
  local out = vim.fn.system({ "cp", "-R", M.fixtures .. "/" .. name, dest })
  assert(vim.v.shell_error == 0, "copy failed: " .. out)
  return vim.loop.fs_realpath(dest)
end

--- Configures the plugin for tests: the built daemon, the test venv's python, no notifications.
function M.setup(extra)
  assert(M.pytestd and vim.fn.executable(M.pytestd) == 1, "PYTESTD_BIN must name the built pytestd")
  assert(M.python and vim.fn.executable(M.python) == 1, "PYTESTD_PYTHON must name a python with pytest")
  local opts = vim.tbl_deep_extend("force", {
    cmd = { M.pytestd, "serve" },
    python = M.python,
    notify = false,
  }, extra or {})
  require("pytestd").setup(opts)
end

--- 1-based line of the first line of `path` containing `text`.
function M.line_of(path, text)
  for i, line in ipairs(vim.fn.readfile(path)) do
    if line:find(text, 1, true) then
      return i
    end
  end
  error("no line with " .. text .. " in " .. path)
end

--- Signs of group pytestd in `bufnr`: { [lnum] = sign name }.
function M.signs(bufnr)
  local placed = vim.fn.sign_getplaced(bufnr, { group = "pytestd" })[1]
  local out = {}
  for _, s in ipairs(placed and placed.signs or {}) do
    out[s.lnum] = s.name
  end
  return out
end

--- Diagnostics of namespace pytestd in `bufnr`: { [lnum 1-based] = {messages} }.
function M.diagnostics(bufnr)
  local ns = vim.api.nvim_create_namespace("pytestd")
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr, { namespace = ns })) do
    local list = out[d.lnum + 1] or {}
    list[#list + 1] = d.message
    out[d.lnum + 1] = list
  end
  return out
end

--- Whether process `pid` still runs (a zombie waiting to be reaped does not).
function M.alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then
    return false
  end
  local stat = f:read("*a") or ""
  f:close()
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

function M.open(path)
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  return vim.api.nvim_get_current_buf()
end

return M
