-- Python definitions from the Treesitter python parser, in the same shape as scan/indent.lua gives, so the
-- nearest test is found the same way with either. Uses only node methods that 0.7 and 0.11 share.
local compat = require("pytestd.compat")

local M = {}

local function node_name(node, bufnr)
  local name = node:field("name")[1]
  if not name then
    return nil
  end
  local row, col, _, end_col = name:range()
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  return line:sub(col + 1, end_col)
end

-- A node's last row; a range ending at column 0 ends on the row before.
local function last_row(node)
  local _, _, end_row, end_col = node:range()
  if end_col == 0 and end_row > 0 then
    return end_row - 1
  end
  return end_row
end

local function walk(node, bufnr, parent, defs)
  for i = 0, node:named_child_count() - 1 do
    local child = node:named_child(i)
    local def_node, outer = child, child
    if child:type() == "decorated_definition" then
      def_node = child:field("definition")[1]
    end
    local t = def_node and def_node:type()
    if t == "function_definition" or t == "class_definition" then
      local start = outer:range()
      local def_row = def_node:range()
      local def = {
        kind = t == "class_definition" and "class" or "function",
        name = node_name(def_node, bufnr),
        start = start,
        def_row = def_row,
        stop = last_row(outer),
        parent = parent,
      }
      defs[#defs + 1] = def
      local body = def_node:field("body")[1]
      if body then
        walk(body, bufnr, def, defs)
      end
    elseif child:named_child_count() > 0 then
      -- Definitions inside if/try/with blocks still count, with the same parent.
      walk(child, bufnr, parent, defs)
    end
  end
end

--- Definitions of `bufnr`, or nil when no python parser is available.
function M.definitions(bufnr)
  local parser = compat.python_parser(bufnr)
  if not parser then
    return nil
  end
  local tree = parser:parse()[1]
  if not tree then
    return nil
  end
  local defs = {}
  walk(tree:root(), bufnr, nil, defs)
  return defs
end

return M
