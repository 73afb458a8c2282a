-- :PytestdRuns: what every daemon is running and queueing (listRuns), with memory and CPU, in a float.
local daemon = require("pytestd.daemon")
local float = require("pytestd.ui.float")

local M = {}

local function mib(bytes)
  return string.format("%.1f MiB", (bytes or 0) / 1048576)
end

function M.lines(root, result)
  local lines = {
    string.format("%s  running %d/%d, queued %d", root, result.running or 0, result.maxParallel or 0, result.queued or 0),
  }
  for _, r in ipairs(result.runs or {}) do
    -- The id first and whole: it is what :PytestdCancel takes.
    lines[#lines + 1] = string.format("  %s  %-8s pid %s  %d tests  %.1fs  rss %s (peak %s)  cpu %d ms", r.runId,
      r.state, tostring(r.pid or "-"), r.testCount or 0, (r.elapsedMs or 0) / 1000, mib(r.rssBytes), mib(r.peakRssBytes),
      r.cpuMs or 0)
  end
  for _, t in ipairs(result.templates or {}) do
    lines[#lines + 1] = string.format("  warm template %-8s pid %s  %d modules  %d runs  rss %s  idle %.0fs", t.state,
      tostring(t.pid), t.modules or 0, t.runs or 0, mib(t.rssBytes), (t.idleMs or 0) / 1000)
  end
  for _, f in ipairs(result.recentFailures or {}) do
    lines[#lines + 1] = string.format("  ended %s %s %.0fs ago: %s", f.status, f.runId, (f.endedMsAgo or 0) / 1000, f.reason or "")
  end
  return lines
end

--- Asks every daemon for listRuns; callback(lines) once all have answered.
function M.collect(callback)
  local all = daemon.all()
  if #all == 0 then
    callback({ "pytestd: no daemon running" })
    return
  end
  local pending, blocks = #all, {}
  for i, d in ipairs(all) do
    d:request("listRuns", vim.empty_dict(), function(err, result)
      blocks[i] = err and { d.root .. ": " .. tostring(err.message) } or M.lines(d.root, result)
      pending = pending - 1
      if pending == 0 then
        local lines = {}
        for j = 1, #all do
          vim.list_extend(lines, blocks[j])
        end
        callback(lines)
      end
    end)
  end
end

function M.open()
  M.collect(function(lines)
    float.open(lines, { filetype = "pytestdruns", fit = true })
  end)
end

return M
