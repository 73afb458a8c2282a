-- :PytestdSummary: the last finished run's results as a tree (file, classes, tests, failing subtests) in a side
-- buffer; <CR> on a test's line jumps to its definition, on a failing subtest's to where it failed.
local compat = require("pytestd.compat")
local config = require("pytestd.config")
local failures = require("pytestd.failures")
local paths = require("pytestd.paths")
local status = require("pytestd.status")

local M = {}

--- Tree lines and, per line, where <CR> goes: {lines = {...}, targets = {[lnum] = {path, line}}}.
function M.build(run)
  local text = config.get().signs.text
  local lines = { run.summary_line or require("pytestd.ui.report").summary_line(run) }
  local targets = {}
  local ids = vim.deepcopy(run.order)
  table.sort(ids)
  local open = {} -- path of prefixes already printed
  for _, id in ipairs(ids) do
    local r = run.results[id]
    local parts = vim.split(id, "::", { plain = true })
    for depth = 1, #parts - 1 do
      local prefix = table.concat(parts, "::", 1, depth)
      if not open[prefix] then
        open[prefix] = true
        lines[#lines + 1] = string.rep("  ", depth - 1) .. parts[depth]
        if depth == 1 then
          targets[#lines] = { path = paths.absolute(run.root, parts[1]), line = 1 }
        end
      end
    end
    local loc = r.location or { path = paths.id_file(id), line = 1 }
    local shown = status.of(r)
    local indent = string.rep("  ", #parts - 1)
    lines[#lines + 1] = string.format("%s%s %s  %s", indent, text[shown] or "?", parts[#parts], shown)
    targets[#lines] = { path = paths.absolute(run.root, loc.path), line = loc.line or 1 }
    if status.is_failure(r.outcome) and r.message then
      lines[#lines] = lines[#lines] .. ": " .. r.message:gsub("\n.*", "")
    end
    for _, sub in ipairs(status.failed_subtests(r)) do
      lines[#lines + 1] = string.format("%s  subtest %s %s: %s", indent, sub.description or "", sub.outcome,
        ((sub.message or ""):gsub("\n.*", "")))
      local at = failures.innermost(run.root, sub.traceback) or loc
      targets[#lines] = { path = paths.absolute(run.root, at.path), line = at.line or 1 }
    end
  end
  for _, c in ipairs(run.collection_errors) do
    lines[#lines + 1] = string.format("%s  collection error: %s", c.path, c.message or "")
    targets[#lines] = { path = paths.absolute(run.root, c.path), line = c.line or 1 }
  end
  return { lines = lines, targets = targets }
end

local function jump(targets, origin_win)
  local lnum = vim.api.nvim_win_get_cursor(0)[1]
  local t = targets[lnum]
  if not t then
    return
  end
  if origin_win and vim.api.nvim_win_is_valid(origin_win) then
    vim.api.nvim_set_current_win(origin_win)
  else
    vim.cmd("wincmd p")
  end
  vim.cmd("edit " .. vim.fn.fnameescape(t.path))
  vim.api.nvim_win_set_cursor(0, { math.max(1, math.min(t.line, vim.api.nvim_buf_line_count(0))), 0 })
end

function M.open(run)
  if not run then
    vim.notify("pytestd: no finished run yet", vim.log.levels.INFO)
    return nil
  end
  local built = M.build(run)
  local origin = vim.api.nvim_get_current_win()
  vim.cmd("botright vsplit")
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_win_set_buf(0, buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, built.lines)
  compat.buf_set_option(buf, "modifiable", false)
  compat.buf_set_option(buf, "bufhidden", "wipe")
  compat.buf_set_option(buf, "filetype", "pytestdsummary")
  vim.api.nvim_buf_set_keymap(buf, "n", "<CR>", "", {
    noremap = true,
    silent = true,
    callback = function()
      jump(built.targets, origin)
    end,
  })
  vim.api.nvim_buf_set_keymap(buf, "n", "q", "<cmd>close<CR>", { noremap = true, silent = true })
  return buf
end

M.jump = jump

return M
