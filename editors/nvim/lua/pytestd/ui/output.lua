-- :PytestdOutput: the message, traceback and captured output of the test under the cursor (all cases of a
-- parametrized test), in a float.
local float = require("pytestd.ui.float")
local nearest = require("pytestd.nearest")
local paths = require("pytestd.paths")
local state = require("pytestd.state")

local M = {}

local function add_block(lines, title, text)
  if text and text ~= "" then
    lines[#lines + 1] = "── " .. title
    for _, l in ipairs(vim.split(text, "\n", { plain = true })) do
      lines[#lines + 1] = l
    end
  end
end

function M.lines_for(id, entry)
  local r = entry.result or {}
  local lines = { string.format("%s  %s%s", id, (entry.outcome or "?"):upper(), r.when and (" (" .. r.when .. ")") or "") }
  if r.durationMs then
    lines[1] = lines[1] .. string.format("  %.1f ms", r.durationMs)
  end
  add_block(lines, "message", r.message)
  if r.expected or r.actual then
    add_block(lines, "expected", r.expected)
    add_block(lines, "actual", r.actual)
  end
  add_block(lines, "traceback", r.traceback)
  add_block(lines, "stdout", r.stdout)
  add_block(lines, "stderr", r.stderr)
  for _, sub in ipairs(r.subtests or {}) do
    add_block(lines, "subtest " .. (sub.description or "") .. " " .. (sub.outcome or ""), (sub.message or "") .. "\n" .. (sub.traceback or ""))
  end
  return lines
end

--- The {id, entry} pairs the cursor designates: a failure's diagnostic on the cursor line first, else the
--- nearest test (and, for a parametrized test or a class, everything under it).
function M.entries_at_cursor()
  local bufnr = vim.api.nvim_get_current_buf()
  local root = paths.current_root(bufnr)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr, { namespace = require("pytestd.ui.render").ns, lnum = row })) do
    local id = d.user_data and d.user_data.test_id
    local entry = id and state.get(root, id)
    if entry then
      out[#out + 1] = { id = id, entry = entry }
    end
  end
  if #out > 0 then
    return out
  end
  local id = nearest.test_id(bufnr, row, root)
  if not id then
    return out
  end
  local file = paths.id_file(id)
  for _, t in ipairs(state.tests_in_file(root, file)) do
    if t.id == id or t.id:sub(1, #id + 1) == id .. "[" or t.id:sub(1, #id + 2) == id .. "::" or id == file then
      out[#out + 1] = t
    end
  end
  return out
end

function M.open()
  local entries = M.entries_at_cursor()
  if #entries == 0 then
    vim.notify("pytestd: no result for the test under the cursor", vim.log.levels.INFO)
    return nil
  end
  local lines = {}
  for i, t in ipairs(entries) do
    if i > 1 then
      lines[#lines + 1] = ""
    end
    vim.list_extend(lines, M.lines_for(t.id, t.entry))
  end
  return float.open(lines, { filetype = "pytestdoutput" })
end

return M
