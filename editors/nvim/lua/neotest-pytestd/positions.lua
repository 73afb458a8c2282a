-- neotest positions from pytestd's discovery: a file's tree (classes as namespaces, tests, parametrized
-- functions as tests whose cases are tests of their own) with ranges from the file's definitions.
local indent = require("pytestd.scan.indent")
local nearest = require("pytestd.nearest")

local M = {}

--- The neotest id of a pytest node id: the absolute path for a file, then pytest's "::" parts.
function M.position_id(root, node_id)
  return root .. "/" .. node_id
end

--- The pytest node id of a neotest position id, or nil when it lies outside `root` (nil for root itself).
function M.node_id(root, position_id)
  if position_id == root then
    return nil
  end
  if position_id:sub(1, #root + 1) == root .. "/" then
    return position_id:sub(#root + 2)
  end
  return position_id
end

--- The nested list neotest's Tree.from_list takes, for the file `path` (absolute) and discovered `nodes`.
function M.build(root, path, rel, nodes, lines)
  local defs = indent.definitions(lines)
  local by_name = {}
  for _, def in ipairs(defs) do
    by_name[nearest.qualified(def)] = def
  end
  local function range_of(qualified)
    local def = by_name[qualified]
    if def then
      return { def.start, 0, def.stop, #(lines[def.stop + 1] or "") }
    end
    return nil
  end
  local file_pos = {
    type = "file",
    id = path,
    name = vim.fn.fnamemodify(path, ":t"),
    path = path,
    range = { 0, 0, math.max(#lines - 1, 0), 0 },
  }
  local lists = { [rel] = { file_pos } }
  for _, node in ipairs(nodes) do
    if node.id ~= rel and node.id:sub(1, #rel + 2) == rel .. "::" and lists[node.parentId or ""] then
      local qualified = node.id:sub(#rel + 3)
      local base = qualified:gsub("%[.*%]$", "")
      local range = range_of(base)
      if not range and node.line then
        range = { node.line - 1, 0, node.line - 1, 0 }
      end
      local kind = node.kind == "class" and "namespace" or "test"
      local pos = {
        type = kind,
        id = M.position_id(root, node.id),
        name = node.name,
        path = path,
        range = range,
      }
      local list = { pos }
      lists[node.id] = list
      table.insert(lists[node.parentId], list)
    end
  end
  -- Source order, as neotest shows it (pytest's collection may list classes first).
  local function start_of(item)
    local range = item[1].range
    return range and range[1] or math.huge
  end
  local function sort(list)
    local children = { unpack(list, 2) }
    table.sort(children, function(a, b)
      local sa, sb = start_of(a), start_of(b)
      if sa ~= sb then
        return sa < sb
      end
      return a[1].id < b[1].id
    end)
    for i, child in ipairs(children) do
      list[i + 1] = child
      sort(child)
    end
  end
  sort(lists[rel])
  return lists[rel]
end

return M
