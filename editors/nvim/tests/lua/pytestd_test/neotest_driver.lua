-- Drives the neotest adapter the way neotest does. With the stand-in (CI): discover_positions, build_spec,
-- the spec's own strategy, its result stream read to the end, then results(), all in plain calls. With the
-- real neotest (PYTESTD_REAL_NEOTEST=1): the same steps through neotest's own TestRunner and ProcessTracker
-- inside nvim-nio tasks, so neotest's result merging and missing-result filling apply.
local M = {}

M.real = os.getenv("PYTESTD_REAL_NEOTEST") == "1"

local function in_task(fn, timeout_ms)
  local nio = require("nio")
  local done, value, err = false, nil, nil
  nio.run(function()
    local ok, v = pcall(fn)
    if ok then
      value = v
    else
      err = v
    end
    done = true
  end)
  if not vim.wait(timeout_ms or 120000, function()
    return done
  end, 10) then
    error("neotest task timed out")
  end
  if err then
    error(err, 0)
  end
  return value
end

function M.discover(adapter, path)
  if M.real then
    return in_task(function()
      return adapter.discover_positions(path)
    end)
  end
  return adapter.discover_positions(path)
end

--- Runs `tree` (a node of a discovered tree). Returns the final results and the list of streamed batches.
function M.run(adapter, tree, strategy)
  local batches = {}
  if M.real then
    local root = adapter.root(tree:data().path)
    require("neotest.config").setup({ adapters = { adapter } })
    local processes = require("neotest.client.strategies")()
    local runner = require("neotest.client.runner")(processes)
    local results = in_task(function()
      return runner:run_tree(tree, { strategy = strategy or "integrated" }, "neotest-pytestd:" .. root, adapter,
        function(r)
          batches[#batches + 1] = r
        end)
    end)
    return results, batches
  end
  local spec = adapter.build_spec({ tree = tree, strategy = strategy or "integrated" })
  assert(type(spec.strategy) == "function", "the adapter brings its own strategy")
  local process = spec.strategy(spec, { position = tree:data(), adapter = adapter })
  for batch in spec.stream(function() end) do
    batches[#batches + 1] = batch
  end
  local code = process.result()
  local output = process.output()
  local results = adapter.results(spec, { code = code, output = output }, tree)
  return results, batches, { process = process, spec = spec }
end

--- Starts a run without waiting (for cancel tests): returns a function that waits and gives the results,
--- and the process (stand-in) or stop function (real neotest).
function M.start(adapter, tree)
  if M.real then
    local root = adapter.root(tree:data().path)
    require("neotest.config").setup({ adapters = { adapter } })
    local processes = require("neotest.client.strategies")()
    local runner = require("neotest.client.runner")(processes)
    local nio = require("nio")
    local done, results = false, nil
    nio.run(function()
      results = runner:run_tree(tree, { strategy = "integrated" }, "neotest-pytestd:" .. root, adapter, function() end)
      done = true
    end)
    local function stop()
      nio.run(function()
        runner:stop(tree, "neotest-pytestd:" .. root)
      end)
    end
    local function wait(ms)
      assert(vim.wait(ms, function()
        return done
      end, 10), "the neotest run ended")
      return results
    end
    return wait, stop
  end
  local spec = adapter.build_spec({ tree = tree, strategy = "integrated" })
  local process = spec.strategy(spec, { position = tree:data(), adapter = adapter })
  local function wait(ms)
    assert(vim.wait(ms, process.is_complete, 10), "the run ended")
    return adapter.results(spec, { code = process.result(), output = process.output() }, tree)
  end
  return wait, process.stop
end

return M
