-- :PytestdOutput: the message, traceback and captured output of the test under the cursor (all cases of a
-- parametrized test), in a float.
local float = require("pytestd.ui.float")
local nearest = require("pytestd.nearest")
local paths = require("pytestd.paths")
local state = require("pytestd.state")
local status = require("pytestd.status")

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
  -- Passing subtests have nothing to show but their number; each failing one gets its message and traceback.
  local subs = r.subtests or {}
  if #subs > 0 then
    local failing = status.failed_subtests(r)
    lines[#lines + 1] = string.format("── subtests: %d passed, %d failed", #subs - #failing, #failing)
    for _, sub in ipairs(failing) do
      local text = sub.message or ""
      if sub.traceback and sub.traceback ~= "" then
        text = text .. (text ~= "" and "\n" or "") .. sub.traceback
      end
      add_block(lines, string.format("subtest %s %s", sub.description or "", (sub.outcome or ""):upper()), text)
    end
  end
  return lines
end

--- The {id, entry} pairs the cursor designates: a failure's diagnostic on the cursor line first, else the
--- nearest test (and, for a parametrized test or a class, everything under it). Looks in every project root
--- that holds the buffer's file and has results (a run from a file outside any project uses its directory).
function M.entries_at_cursor()
  local bufnr = vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(bufnr)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local roots = {}
  for _, root in ipairs(state.roots()) do
    if name ~= "" and paths.relative(root, name) then
      roots[#roots + 1] = root
    end
  end
  local out, seen = {}, {}
  for _, d in ipairs(vim.diagnostic.get(bufnr, { namespace = require("pytestd.ui.render").ns, lnum = row })) do
    local id = d.user_data and d.user_data.test_id
    for _, root in ipairs(roots) do
      local entry = id and not seen[id] and state.get(root, id)
      if entry then
        seen[id] = true
        out[#out + 1] = { id = id, entry = entry }
      end
    end
  end
  if #out > 0 then
    return out
  end
  for _, root in ipairs(roots) do
    local id = nearest.test_id(bufnr, row, root)
    local file = id and paths.id_file(id)
    for _, t in ipairs(id and state.tests_in_file(root, file) or {}) do
      if t.id == id or t.id:sub(1, #id + 1) == id .. "[" or t.id:sub(1, #id + 2) == id .. "::" or id == file then
        out[#out + 1] = t
      end
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
