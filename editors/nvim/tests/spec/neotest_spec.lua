-- The neotest adapter against a stand-in of neotest's Tree (CI) or the real neotest (PYTESTD_REAL_NEOTEST=1,
-- its runtimepath in PYTESTD_NVIM_RTP): positions from discovery with parametrized cases of their own,
-- streamed results with the status mapping, a namespace run, cancel, a collection error, and the dap strategy
-- (a debug run, attached by a real DAP client).
local t = require("pytestd_test.harness")
local env = require("pytestd_test.env")
local driver = require("pytestd_test.neotest_driver")

if driver.real then
  t.ok(vim.fn.has("nvim-0.10") == 1, "neotest needs Neovim 0.10 or newer")
  t.ok(not vim.api.nvim_get_runtime_file("lua/neotest/init.lua", false)[1]:find("standin", 1, true), "real neotest")
else
  vim.opt.runtimepath:prepend(env.tests_dir .. "/standin")
end

local pid_file = vim.fn.tempname() .. ".pids"
vim.env.PYTESTD_NVIM_PIDS = pid_file
env.setup()
local adapter = require("neotest-pytestd")

local root = env.project("basic")
local calc = root .. "/tests/test_calc.py"

local function ids(tree)
  local out = {}
  for _, pos in tree:iter() do
    out[#out + 1] = pos.type .. " " .. pos.id:gsub("^" .. vim.pesc(root) .. "/", "")
  end
  return out
end

local tree_cache = nil
local function tree()
  tree_cache = tree_cache or driver.discover(adapter, calc)
  return tree_cache
end

t.test("root, filter_dir and is_test_file", function()
  t.eq(root, adapter.root(root .. "/tests"))
  t.ok(adapter.is_test_file(calc))
  t.ok(not adapter.is_test_file(root .. "/tests/helpers.py"))
  t.ok(adapter.filter_dir("tests", "tests", root))
  t.ok(not adapter.filter_dir(".venv", ".venv", root))
  t.ok(not adapter.filter_dir("__pycache__", "tests/__pycache__", root))
end)

t.test("positions come from discovery, parametrized cases as positions of their own", function()
  t.eq({
    "file tests/test_calc.py",
    "test tests/test_calc.py::test_adds",
    "test tests/test_calc.py::test_subtracts",
    "test tests/test_calc.py::test_helper_fails",
    "test tests/test_calc.py::test_skipped",
    "test tests/test_calc.py::test_expected_failure",
    "test tests/test_calc.py::test_unexpected_pass",
    "test tests/test_calc.py::test_setup_error",
    "test tests/test_calc.py::test_small",
    "test tests/test_calc.py::test_small[1]",
    "test tests/test_calc.py::test_small[2]",
    "test tests/test_calc.py::test_small[3]",
    "namespace tests/test_calc.py::TestGroup",
    "test tests/test_calc.py::TestGroup::test_in_class",
    "namespace tests/test_calc.py::TestGroup::TestInner",
    "test tests/test_calc.py::TestGroup::TestInner::test_nested",
  }, ids(tree()))
end)

t.test("ranges cover each definition with its decorators", function()
  local function range(id)
    return tree():get_key(root .. "/" .. id):data().range
  end
  t.eq(env.line_of(calc, '@pytest.mark.skip(reason="not today")') - 1, range("tests/test_calc.py::test_skipped")[1])
  local small = range("tests/test_calc.py::test_small")
  t.eq(env.line_of(calc, "@pytest.mark.parametrize(") - 1, small[1])
  t.eq(env.line_of(calc, "marker: small fails here") - 1, small[3])
  t.eq(small, range("tests/test_calc.py::test_small[2]"))
  local group = range("tests/test_calc.py::TestGroup")
  t.eq(env.line_of(calc, "class TestGroup") - 1, group[1])
  t.eq(env.line_of(calc, "marker: nested fails here") - 1, group[3])
end)

t.test("a file run streams results and maps every status faithfully", function()
  local results, batches = driver.run(adapter, tree())
  t.ok(#batches >= 1, "results were streamed")
  local function status(id)
    local r = results[root .. "/" .. id]
    return r and r.status
  end
  t.eq("passed", status("tests/test_calc.py::test_adds"))
  t.eq("failed", status("tests/test_calc.py::test_subtracts"))
  t.eq("failed", status("tests/test_calc.py::test_helper_fails"))
  t.eq("skipped", status("tests/test_calc.py::test_skipped"))
  t.eq("skipped", status("tests/test_calc.py::test_expected_failure"), "xfailed is not a failure")
  t.eq("passed", status("tests/test_calc.py::test_unexpected_pass"), "a non-strict xpass passes")
  t.eq("failed", status("tests/test_calc.py::test_setup_error"), "a setup error fails")
  t.eq("passed", status("tests/test_calc.py::test_small[1]"))
  t.eq("failed", status("tests/test_calc.py::test_small[3]"))
  t.eq("failed", status("tests/test_calc.py::TestGroup::TestInner::test_nested"))
  local sub = results[root .. "/tests/test_calc.py::test_subtracts"]
  t.eq(env.line_of(calc, "marker: subtracts fails here") - 1, sub.errors[1].line)
  t.contains(sub.errors[1].message, "assert 2 == 3")
  t.contains(results[root .. "/tests/test_calc.py::test_expected_failure"].short, "XFAILED")
  t.eq(nil, results[root .. "/tests/test_calc.py::test_expected_failure"].errors)
  local output = table.concat(vim.fn.readfile(sub.output), "\n")
  t.contains(output, "test session starts")
end)

t.test("a namespace runs only its tests", function()
  local group = tree():get_key(root .. "/tests/test_calc.py::TestGroup")
  local results = driver.run(adapter, group)
  local tests = {}
  for id, r in pairs(results) do
    if id:find("::test_", 1, true) then
      tests[#tests + 1] = id:gsub("^" .. vim.pesc(root) .. "/", "") .. " " .. r.status
    end
  end
  table.sort(tests)
  t.eq({
    "tests/test_calc.py::TestGroup::TestInner::test_nested failed",
    "tests/test_calc.py::TestGroup::test_in_class passed",
  }, tests)
end)

t.test("a parametrized case runs alone", function()
  local case = tree():get_key(root .. "/tests/test_calc.py::test_small[2]")
  local results = driver.run(adapter, case)
  t.eq("passed", results[root .. "/tests/test_calc.py::test_small[2]"].status)
  t.eq(nil, results[root .. "/tests/test_calc.py::test_small[1]"])
end)

t.test("stopping a neotest run cancels it and its processes", function()
  local blocking = env.project("blocking")
  local btree = driver.discover(adapter, blocking .. "/test_block.py")
  local wait, stop = driver.start(adapter, btree)
  local pids = t.wait_for(60000, function()
    local f = io.open(pid_file, "r")
    if not f then
      return nil
    end
    local a, b = f:read("*a"):match("^(%d+) (%d+)")
    f:close()
    return a and { a, b }
  end, "the test records its pids")
  stop()
  local results = wait(20000)
  t.eq(nil, results[blocking .. "/test_block.py::test_blocks"] and results[blocking .. "/test_block.py::test_blocks"].status == "passed" or nil)
  t.wait_for(15000, function()
    return not env.alive(pids[1]) and not env.alive(pids[2])
  end, "pytest and its child are gone")
end)

t.test("a file that fails to import is a failed file position", function()
  local broken = env.project("broken")
  local btree = driver.discover(adapter, broken .. "/test_broken.py")
  t.eq({ "file test_broken.py" }, (function()
    local out = {}
    for _, pos in btree:iter() do
      out[#out + 1] = pos.type .. " " .. pos.id:gsub("^" .. vim.pesc(broken) .. "/", "")
    end
    return out
  end)())
  local results = driver.run(adapter, btree)
  local r = results[broken .. "/test_broken.py"]
  t.eq("failed", r.status)
  t.contains(r.errors[1].message, "pytestd_nvim_no_such_module")
  t.eq(env.line_of(broken .. "/test_broken.py", "marker: import fails") - 1, r.errors[1].line)
end)

t.test("the dap strategy is a debug run: a DAP client attaches on debugReady and the results stream", function()
  local attached = nil
  -- The registered attacher stands where nvim-dap would: a real DAP client on debugReady's port.
  require("pytestd.debug").register(function(info)
    local client = require("pytestd_test.dap_client").connect(info.host, info.port)
    client:request("initialize", { clientID = "pytestd-tests", adapterID = "debugpy", linesStartAt1 = true, pathFormat = "path" })
    local seq = client:send("attach", { justMyCode = true })
    client:event("initialized", 30000)
    client:request("configurationDone")
    assert(client:response(seq, 30000).success, "attach succeeds")
    attached = { client = client, run = info.run }
    return true
  end)
  local node = tree():get_key(root .. "/tests/test_calc.py::test_adds")
  local ok, results = pcall(driver.run, adapter, node, "dap")
  require("pytestd.debug").register(nil)
  t.ok(ok, tostring(results))
  t.ok(attached, "a debugger was attached")
  t.ok(attached.run.debug and attached.run.debug_ready, "the run was a debug run")
  t.eq("passed", results[root .. "/tests/test_calc.py::test_adds"].status)
  t.ok(attached.client:wait_closed(15000), "debugpy ends with the run")
  attached.client:close()
end)
