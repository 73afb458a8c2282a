-- The end of a run: its failures (and collection errors) as a quickfix list of their own, and a one-line
-- summary through vim.notify.
local config = require("pytestd.config")
local paths = require("pytestd.paths")
local status = require("pytestd.status")

local M = {}

function M.quickfix_items(run)
  local items = {}
  for _, c in ipairs(run.collection_errors) do
    items[#items + 1] = {
      filename = paths.absolute(run.root, c.path),
      lnum = c.line or 1,
      col = 1,
      type = "E",
      text = "collection error: " .. (c.message or ""),
    }
  end
  for _, id in ipairs(run.order) do
    local r = run.results[id]
    local s = status.get(r.outcome)
    if s and s.qf then
      local loc = r.failureLocation or r.location or { path = paths.id_file(id), line = 1 }
      items[#items + 1] = {
        filename = paths.absolute(run.root, loc.path),
        lnum = loc.line or 1,
        col = 1,
        type = s.qf,
        text = string.format("%s %s: %s", r.outcome:upper(), id, (r.message or ""):gsub("\n.*", "")),
      }
    end
  end
  return items
end

function M.summary_line(run)
  local seconds = (run.duration_ms or 0) / 1000
  local line = string.format("pytestd %s: %s", run.label or "run", status.summary_text(run.summary))
  if run.status ~= "passed" and run.status ~= "failed" then
    line = line .. string.format(" (%s)", run.status or "?")
  end
  line = line .. string.format(" in %.2fs", seconds)
  if #run.collection_errors > 0 then
    line = line .. string.format(", %d collection error%s", #run.collection_errors, #run.collection_errors == 1 and "" or "s")
  end
  if run.status == "error" and run.errors[1] then
    line = line .. ": " .. run.errors[1]:gsub("\n.*", "")
  end
  return line
end

function M.run_finished(run)
  local opts = config.get()
  if opts.quickfix.enabled then
    local items = M.quickfix_items(run)
    run.quickfix_items = items
    vim.fn.setqflist({}, " ", { title = "pytestd " .. (run.label or "") .. " " .. run.id:sub(1, 14), items = items })
    if opts.quickfix.open and #items > 0 then
      vim.cmd("copen")
      vim.cmd("wincmd p")
    end
  end
  run.summary_line = M.summary_line(run)
  if opts.notify then
    local failed = run.status ~= "passed" and run.status ~= "cancelled"
    vim.notify(run.summary_line, failed and vim.log.levels.WARN or vim.log.levels.INFO)
  end
end

return M
