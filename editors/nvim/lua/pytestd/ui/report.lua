-- The end of a run: its failures (and collection errors) as a quickfix list of their own, and a one-line
-- summary through vim.notify.
local config = require("pytestd.config")
local failures = require("pytestd.failures")
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
    local shown = status.of(r)
    local s = status.get(shown)
    if s and s.qf then
      for _, f in ipairs(failures.of(run.root, r)) do
        local message = f.subtest and f.message or (r.message or "")
        items[#items + 1] = {
          filename = paths.absolute(run.root, f.path),
          lnum = f.line or 1,
          col = 1,
          type = s.qf,
          text = string.format("%s %s: %s", shown:upper(), id, (message:gsub("\n.*", ""))),
        }
      end
    end
  end
  return items
end

--- The run's `errors` worth telling (requested ids that matched nothing, pytest's own complaints), first lines
--- only; collection errors are left out: they are counted apart and shown on their lines.
function M.notable_errors(run)
  local out = {}
  for _, e in ipairs(run.errors or {}) do
    if not e:find("^error collecting ") then
      out[#out + 1] = (e:gsub("\n.*", ""))
    end
  end
  return out
end

function M.summary_line(run)
  local seconds = (run.duration_ms or 0) / 1000
  local counts = status.count(run.summary, run.results)
  local line = string.format("pytestd %s: %s", run.label or "run", status.summary_text(counts))
  if run.status ~= "passed" and run.status ~= "failed" then
    line = line .. string.format(" (%s)", run.status or "?")
  end
  line = line .. string.format(" in %.2fs", seconds)
  if #run.collection_errors > 0 then
    line = line .. string.format(", %d collection error%s", #run.collection_errors, #run.collection_errors == 1 and "" or "s")
  end
  local errors = M.notable_errors(run)
  if #errors > 0 then
    line = line .. ": " .. table.concat(errors, "; ")
  end
  return line
end

function M.run_finished(run)
  local opts = config.get()
  if opts.quickfix.enabled then
    local items = M.quickfix_items(run)
    run.quickfix_items = items
    vim.fn.setqflist({}, " ", { title = "pytestd " .. (run.label or "") .. " " .. run.id:sub(1, 8), items = items })
    if opts.quickfix.open and #items > 0 then
      vim.cmd("copen")
      vim.cmd("wincmd p")
    end
  end
  run.summary_line = M.summary_line(run)
  if opts.notify then
    local failed = (run.status ~= "passed" and run.status ~= "cancelled") or #M.notable_errors(run) > 0
    vim.notify(run.summary_line, failed and vim.log.levels.WARN or vim.log.levels.INFO)
  end
end

return M
