-- Tests a finished run asked for but did not report (renamed, removed, or in a module that no longer
-- collects): their old signs and diagnostics go, so nothing stays drawn for a test that no longer exists.
-- Only after a run that ran everything it asked for: a cancelled or failed-to-start run, or one whose pytest
-- arguments deselect or stop early (-x, -k, -m, --lf, …), says nothing about the tests it did not report.
local config = require("pytestd.config")
local paths = require("pytestd.paths")
local state = require("pytestd.state")

local M = {}

local partial_flags = { "^%-%-exitfirst", "^%-%-maxfail", "^%-%-lf$", "^%-%-last%-failed", "^%-%-sw$",
  "^%-%-stepwise", "^%-%-deselect", "^%-%-sw%-skip", "^%-%-stepwise%-skip" }

--- Whether pytest arguments may leave requested tests unreported: -x/-k/-m (alone or in a cluster of short
--- options) or one of the long options above.
function M.partial_args(args)
  for _, a in ipairs(args or {}) do
    if a:match("^%-[%a]*[xkm]") and not a:match("^%-%-") then
      return true
    end
    for _, pattern in ipairs(partial_flags) do
      if a:match(pattern) then
        return true
      end
    end
  end
  return false
end

--- Whether test `id` is among what `requested` (node ids, files or directories; nil or empty: everything) asks.
function M.covers(requested, id)
  if not requested or #requested == 0 then
    return true
  end
  local file = paths.id_file(id)
  for _, r in ipairs(requested) do
    if r == "." or id == r or id:sub(1, #r + 2) == r .. "::" or id:sub(1, #r + 1) == r .. "[" then
      return true
    end
    if not r:find("::", 1, true) and (file == r or file:sub(1, #r + 1) == r .. "/") then
      return true
    end
  end
  return false
end

--- Forgets the tests `run` asked for and did not report. `newer(run_id)` tells whether a run started after
--- this one (its entries stay: they are newer news). Returns the files to redraw.
function M.forget_unreported(run, newer)
  if run.status ~= "passed" and run.status ~= "failed" then
    return {}
  end
  if M.partial_args(run.args_requested) or M.partial_args(config.get().pytest_args) then
    return {}
  end
  local files = {}
  for _, t in ipairs(state.all(run.root)) do
    local entry = t.entry
    if not run.results[t.id] and entry.run_id ~= run.id and entry.outcome ~= "running"
      and not newer(entry.run_id) and M.covers(run.test_ids, t.id) then
      vim.list_extend(files, state.forget(run.root, t.id))
    end
  end
  return files
end

return M
