-- The :Pytestd* commands. Loading is cheap: the plugin's modules are required on first use.
if vim.g.loaded_pytestd then
  return
end
vim.g.loaded_pytestd = true

local function pytestd()
  return require("pytestd")
end

vim.api.nvim_create_user_command("PytestdRun", function(args)
  pytestd().run(args.args ~= "" and args.args or "nearest")
end, {
  nargs = "?",
  complete = function()
    return { "nearest", "file", "suite", "last", "failed" }
  end,
  desc = "pytestd: run the nearest test, the file, the suite, the last run or the failed tests",
})

vim.api.nvim_create_user_command("PytestdCancel", function(args)
  pytestd().cancel(args.args ~= "" and args.args or nil)
end, {
  nargs = "?",
  complete = function()
    local ids = { "all" }
    for _, run in ipairs(require("pytestd.runs").live()) do
      ids[#ids + 1] = run.id
    end
    return ids
  end,
  desc = "pytestd: cancel a run (a run id, all, or the latest)",
})

vim.api.nvim_create_user_command("PytestdOutput", function()
  pytestd().output()
end, { desc = "pytestd: output and traceback of the test under the cursor" })

vim.api.nvim_create_user_command("PytestdRuns", function()
  pytestd().runs()
end, { desc = "pytestd: running and queued runs" })

vim.api.nvim_create_user_command("PytestdLog", function()
  pytestd().log()
end, { desc = "pytestd: the shared log" })

vim.api.nvim_create_user_command("PytestdSummary", function()
  pytestd().summary()
end, { desc = "pytestd: tree of the last run's results" })

vim.api.nvim_create_user_command("PytestdDebug", function(args)
  pytestd().debug(args.args ~= "" and args.args or "nearest")
end, {
  nargs = "?",
  complete = function()
    return { "nearest", "file", "suite", "last", "failed" }
  end,
  desc = "pytestd: debug the nearest test or the file under debugpy (attached with nvim-dap when installed)",
})

vim.api.nvim_create_user_command("PytestdCoverage", function(args)
  local what = args.fargs[1] or "file"
  pytestd().coverage(what, { per_test = args.fargs[2] == "per_test" or nil })
end, {
  nargs = "*",
  complete = function(_, line)
    if #vim.split(line, "%s+") > 2 then
      return { "per_test" }
    end
    return { "file", "suite", "nearest", "clear", "summary", "tests" }
  end,
  desc = "pytestd: coverage of the file or suite as signs and a summary; clear, summary, tests of a line",
})
