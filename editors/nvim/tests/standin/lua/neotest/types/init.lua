-- A stand-in for the part of neotest the adapter uses, for CI where neotest cannot be installed: the
-- `neotest.types` module with its Tree of positions. It follows neotest's Tree: built from nested lists (head
-- = the node's data, tail = its children), one shared key -> node index, depth-first iteration with a
-- `continue` predicate, parents and root.
local Tree = {}
Tree.__index = Tree

local function new(data, key, parent, nodes)
  local tree = setmetatable({ _data = data, _children = {}, _key = key, _parent = parent, _nodes = nodes }, Tree)
  nodes[key(data)] = tree
  return tree
end

local function from_list(data, key, parent, nodes)
  if (vim.islist or vim.tbl_islist)(data) then
    local node = new(data[1], key, parent, nodes)
    for i = 2, #data do
      node._children[#node._children + 1] = from_list(data[i], key, node, nodes)
    end
    return node
  end
  return new(data, key, parent, nodes)
end

function Tree.from_list(data, key)
  return from_list(data, key, nil, {})
end

function Tree:data()
  return self._data
end

function Tree:children()
  return vim.list_extend({}, self._children)
end

function Tree:parent()
  return self._parent
end

function Tree:get_key(key)
  return self._nodes[key]
end

function Tree:root()
  local node = self
  while node._parent do
    node = node._parent
  end
  return node
end

function Tree:iter_parents()
  local node = self
  return function()
    node = node._parent
    return node
  end
end

function Tree:to_list()
  if #self._children == 0 then
    return { self._data }
  end
  local list = { self._data }
  for _, child in ipairs(self._children) do
    list[#list + 1] = child:to_list()
  end
  return list
end

--- Depth-first, the node itself first; children are skipped where args.continue(node) is false.
function Tree:iter_nodes(args)
  args = args or {}
  local order = {}
  local function visit(node)
    order[#order + 1] = node
    if args.continue and not args.continue(node) then
      return
    end
    for _, child in ipairs(node._children) do
      visit(child)
    end
  end
  visit(self)
  local i = 0
  return function()
    i = i + 1
    if order[i] then
      return i, order[i]
    end
  end
end

function Tree:iter(args)
  local nodes = self:iter_nodes(args)
  return function()
    local i, node = nodes()
    if i then
      return i, node:data()
    end
  end
end

return { Tree = Tree }
