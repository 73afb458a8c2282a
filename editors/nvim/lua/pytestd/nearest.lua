-- The pytest node id of the test at (or nearest above) the cursor: Treesitter's python parser when it is
-- installed, the indentation scanner otherwise.
local config = require("pytestd.config")
local indent = require("pytestd.scan.indent")
local paths = require("pytestd.paths")
local treesitter = require("pytestd.scan.treesitter")

local M = {}

--- Definitions of the buffer and which scanner found them ("treesitter" or "indent").
function M.definitions(bufnr, opts)
  opts = opts or {}
  local use_ts = opts.treesitter
  if use_ts == nil then
    use_ts = config.get().treesitter
  end
  if use_ts then
    local defs = treesitter.definitions(bufnr)
    if defs then
      return defs, "treesitter"
    end
  end
  return indent.definitions(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)), "indent"
end

local function is_test_function(def)
  return def.kind == "function" and def.name:match("^test") ~= nil
end

-- A class pytest may collect: Test* by default; any class holding test methods (a unittest.TestCase) too.
local function is_test_class(def, defs)
  if def.kind ~= "class" then
    return false
  end
  if def.name:match("^Test") then
    return true
  end
  for _, d in ipairs(defs) do
    if d.parent == def and is_test_function(d) then
      return true
    end
  end
  return false
end

-- Whether `def` and every class above it could be collected (a test method nested in a helper function is not).
local function collectable(def, defs)
  local p = def.parent
  while p do
    if not is_test_class(p, defs) then
      return false
    end
    p = p.parent
  end
  return is_test_function(def) or is_test_class(def, defs)
end

--- "Outer::Inner::test_name" for a definition.
function M.qualified(def)
  local parts = {}
  local d = def
  while d do
    table.insert(parts, 1, d.name)
    d = d.parent
  end
  return table.concat(parts, "::")
end

--- The test definition for 0-based `row`: the outermost test function around the row (a helper nested in a
--- test belongs to the test); else the innermost test class around it; else the nearest collectable
--- definition that ends above the row; else nil (the file).
function M.definition_at(defs, row)
  local enclosing = {}
  for _, def in ipairs(defs) do
    if def.start <= row and row <= def.stop then
      enclosing[#enclosing + 1] = def -- parents come first: outermost first
    end
  end
  for _, def in ipairs(enclosing) do
    if is_test_function(def) and collectable(def, defs) then
      return def
    end
  end
  for i = #enclosing, 1, -1 do
    if collectable(enclosing[i], defs) then
      -- Inside a test class but between its methods: the nearest method above, else the class.
      local best = nil
      for _, def in ipairs(defs) do
        if def.parent == enclosing[i] and def.stop < row and collectable(def, defs) then
          best = def
        end
      end
      return best or enclosing[i]
    end
  end
  local best = nil
  for _, def in ipairs(defs) do
    if def.parent == nil and def.stop < row and collectable(def, defs) then
      best = def
    end
  end
  return best
end

--- The node id of the nearest test in `bufnr` at 0-based `row` (default: the cursor), relative to `root`;
--- the file's id when the cursor is above every test. Returns id, definition (or nil), scanner used.
function M.test_id(bufnr, row, root, opts)
  bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  if row == nil then
    row = vim.api.nvim_win_get_cursor(0)[1] - 1
  end
  root = root or paths.current_root(bufnr)
  local file = paths.relative(root, vim.api.nvim_buf_get_name(bufnr))
  if not file then
    return nil
  end
  local defs, scanner = M.definitions(bufnr, opts)
  local def = M.definition_at(defs, row)
  if not def then
    return file, nil, scanner
  end
  return file .. "::" .. M.qualified(def), def, scanner
end

--- 1-based line pytest gives as the location of a node id's "Class::test" part in `bufnr` (its first
--- decorator's line, as Python's co_firstlineno), used to place a running test's sign before its result
--- (which carries the line) arrives.
function M.line_of(bufnr, qualified, opts)
  local defs = M.definitions(bufnr, opts)
  for _, def in ipairs(defs) do
    if M.qualified(def) == qualified then
      return def.start + 1
    end
  end
  return nil
end

return M
