-- A stand-in of the two parts of nvim-dap the plugin calls (dap.adapters and dap.run), recording what it was
-- given; put on the runtimepath by debug_spec to check the attach call without the real nvim-dap.
local M = { adapters = {}, calls = {} }

function M.run(config, opts)
  M.calls[#M.calls + 1] = { config = config, opts = opts }
end

return M
