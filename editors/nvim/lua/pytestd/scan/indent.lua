-- Python definitions (classes and functions, with their decorators and nesting) from indentation alone, for
-- when no Treesitter parser is installed. Brackets and triple-quoted strings are followed so a multi-line
-- signature, decorator or dedented string does not end a block early.
local M = {}

-- Counts bracket depth and triple-quote state over one physical line; single-line strings and comments are
-- skipped so a "(" inside them does not count.
local function scan_line(line, depth, in_triple)
  local i, n = 1, #line
  while i <= n do
    if in_triple then
      local close = line:find(in_triple, i, true)
      if not close then
        return depth, in_triple
      end
      i = close + 3
      in_triple = nil
    else
      local c = line:sub(i, i)
      local three = line:sub(i, i + 2)
      if three == '"""' or three == "'''" then
        in_triple = three
        i = i + 3
      elseif c == '"' or c == "'" then
        local j = i + 1
        while j <= n do
          local d = line:sub(j, j)
          if d == "\\" then
            j = j + 1
          elseif d == c then
            break
          end
          j = j + 1
        end
        i = j + 1
      elseif c == "#" then
        return depth, in_triple
      else
        if c == "(" or c == "[" or c == "{" then
          depth = depth + 1
        elseif c == ")" or c == "]" or c == "}" then
          depth = math.max(0, depth - 1)
        end
        i = i + 1
      end
    end
  end
  return depth, in_triple
end

--- Logical lines: {first = row0, last = row0, indent = n, text = first physical line} for every statement
--- start, blank lines and comment-only lines left out.
local function logical_lines(lines)
  local out = {}
  local depth, in_triple = 0, nil
  local current = nil
  for row, line in ipairs(lines) do
    if current then
      current.last = row - 1
    elseif not line:match("^%s*$") and not line:match("^%s*#") then
      current = { first = row - 1, last = row - 1, indent = #line:match("^%s*"), text = line }
    end
    depth, in_triple = scan_line(line, depth, in_triple)
    if current and depth == 0 and not in_triple and not line:match("\\%s*$") then
      out[#out + 1] = current
      current = nil
    end
  end
  if current then
    out[#out + 1] = current
  end
  return out
end

--- Definitions in `lines` (a list of strings) as a flat list, parents before children:
--- {kind = "class"|"function", name, start = row0 (first decorator), def_row = row0, stop = row0, parent = def}
function M.definitions(lines)
  local defs = {}
  local stack = {}
  local decorator_start = nil
  local last_row = nil

  local function close_until(indent)
    while #stack > 0 and stack[#stack].indent >= indent do
      local def = table.remove(stack)
      def.stop = math.max(def.def_row, last_row or def.def_row)
    end
  end

  for _, l in ipairs(logical_lines(lines)) do
    close_until(l.indent)
    local text = l.text
    local kind, name
    name = text:match("^%s*async%s+def%s+([%w_]+)") or text:match("^%s*def%s+([%w_]+)")
    if name then
      kind = "function"
    else
      name = text:match("^%s*class%s+([%w_]+)")
      kind = name and "class" or nil
    end
    if text:match("^%s*@") then
      decorator_start = decorator_start or l.first
    elseif kind then
      local def = {
        kind = kind,
        name = name,
        start = decorator_start or l.first,
        def_row = l.first,
        stop = l.last,
        indent = l.indent,
        parent = stack[#stack],
      }
      defs[#defs + 1] = def
      stack[#stack + 1] = def
      decorator_start = nil
    else
      decorator_start = nil
    end
    last_row = l.last
  end
  close_until(-1)
  for _, def in ipairs(defs) do
    def.indent = nil
  end
  return defs
end

return M
