-- Runs one spec file (named by PYTESTD_NVIM_SPEC) in this headless Neovim, then exits: status 0 when every
-- case passed. Started by test.sh as: nvim --headless -u NONE -i NONE -n -c "luafile tests/run.lua".
local tests_dir = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h")
local plugin_dir = vim.fn.fnamemodify(tests_dir, ":h")

vim.opt.runtimepath:prepend(tests_dir)
vim.opt.runtimepath:prepend(plugin_dir)
local extra_rtp = os.getenv("PYTESTD_NVIM_RTP")
if extra_rtp and extra_rtp ~= "" then
  for _, dir in ipairs(vim.split(extra_rtp, ",", { plain = true })) do
    vim.opt.runtimepath:append(dir)
  end
end
vim.cmd("runtime plugin/pytestd.lua")

local spec = os.getenv("PYTESTD_NVIM_SPEC")
local harness = require("pytestd_test.harness")
local ok, err = xpcall(dofile, debug.traceback, spec)
local passed, failed = 0, 0
if ok then
  passed, failed = harness.run(vim.fn.fnamemodify(spec, ":t:r") .. ": ")
else
  io.stdout:write("FAIL loading " .. spec .. "\n    " .. tostring(err) .. "\n")
  failed = 1
end
pcall(function()
  require("pytestd").stop(5000)
end)
io.stdout:write(string.format("%d passed, %d failed\n", passed, failed))
io.stdout:flush()
vim.cmd(failed == 0 and "qall!" or "cquit 1")
