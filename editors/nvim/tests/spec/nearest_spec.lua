-- Nearest-test detection on classes, nested classes, decorators, parametrized and multi-line definitions:
-- every line of the shapes fixture names the id it must give, checked with the Treesitter parser and with the
-- indentation fallback.
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local compat = require("pytestd.compat")
local nearest = require("pytestd.nearest")

local root = env.fixtures .. "/nearest"
local path = root .. "/test_shapes.py"

local function expectations()
  local list = {}
  for i, line in ipairs(vim.fn.readfile(path)) do
    local id = line:match("# %-> (%S+)%s*$")
    if id then
      list[#list + 1] = { row = i - 1, id = id, text = line }
    end
  end
  return list
end

local function check(use_ts, want_scanner)
  local bufnr = env.open(path)
  local cases = expectations()
  t.ok(#cases > 30, "the fixture has its expectations")
  local wrong = {}
  for _, c in ipairs(cases) do
    local id, _, scanner = nearest.test_id(bufnr, c.row, root, { treesitter = use_ts })
    t.eq(want_scanner, scanner, "scanner used")
    if id ~= c.id then
      wrong[#wrong + 1] = string.format("line %d %q: got %s, want %s", c.row + 1, c.text, tostring(id), c.id)
    end
  end
  t.eq({}, wrong, "ids per line")
end

t.test("the python parser loads when test.sh built it", function()
  if os.getenv("PYTESTD_EXPECT_PARSER") == "1" then
    t.ok(compat.has_python_parser(), "parser/python.so on the runtimepath")
    local bufnr = env.open(path)
    t.ok(compat.python_parser(bufnr) ~= nil, "the parser loads in this Neovim")
  else
    t.ok(true)
  end
end)

t.test("nearest test with the Treesitter parser", function()
  if not compat.has_python_parser() then
    error("no python parser on the runtimepath (set PYTESTD_NVIM_RTP)")
  end
  check(true, "treesitter")
end)

t.test("nearest test with the indentation fallback", function()
  check(false, "indent")
end)

t.test("both scanners find the same definitions", function()
  if not compat.has_python_parser() then
    error("no python parser on the runtimepath")
  end
  local bufnr = env.open(path)
  local function shape(defs)
    local out = {}
    for _, d in ipairs(defs) do
      out[#out + 1] = string.format("%s %s %d-%d def %d", d.kind, nearest.qualified(d), d.start, d.stop, d.def_row)
    end
    return out
  end
  local ts = nearest.definitions(bufnr, { treesitter = true })
  local ind = nearest.definitions(bufnr, { treesitter = false })
  t.eq(shape(ts), shape(ind), "definitions")
end)

t.test("a running test's sign line is its first decorator's line, as pytest reports it", function()
  local bufnr = env.open(path)
  local want = env.line_of(path, "@pytest.mark.slow")
  t.eq(want, nearest.line_of(bufnr, "test_decorated", { treesitter = false }))
  if compat.has_python_parser() then
    t.eq(want, nearest.line_of(bufnr, "test_decorated", { treesitter = true }))
  end
  t.eq(env.line_of(path, "class TestNested"), nearest.line_of(bufnr, "TestOuter::TestNested", { treesitter = false }))
end)

t.test("the nearest id of a buffer outside any project root is refused", function()
  vim.cmd("enew")
  local target, err = require("pytestd.targets").resolve("nearest", {})
  t.eq(nil, target)
  t.contains(err, "no file")
end)
