-- The seam for debugging tests. pytestd's debug runs (a run that waits for a debugger, answered with where to
-- attach) are not in the protocol yet; when they are, a debugger integration registers here and
-- :PytestdDebug and neotest's "dap" strategy go through it. Until then both say so instead of running tests.
local M = {}

---@type fun(request: table): any | nil
local launcher = nil

--- Installs the function that starts a debug run. request: {root, test_ids, label}.
function M.register(fn)
  launcher = fn
end

function M.available()
  return launcher ~= nil
end

--- Starts a debug run through the registered launcher; nil and a reason when there is none.
function M.start(request)
  if not launcher then
    return nil, "pytestd: debugging needs the daemon's debug runs, which this version does not have yet"
  end
  return launcher(request)
end

return M
