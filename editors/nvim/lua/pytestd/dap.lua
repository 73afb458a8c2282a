-- The bridge to nvim-dap for debug runs: debugpy already speaks DAP on the port debugReady gives, so nvim-dap
-- connects to it as a `server` adapter and sends an `attach` request. The adapter is registered as
-- `pytestd` (unless the user defined one) and reads the address from each configuration, so two debug runs
-- at once each reach their own port.
local config = require("pytestd.config")

local M = {}

M.adapter_name = "pytestd"

function M.installed()
  local ok = pcall(require, "dap")
  return ok
end

--- The nvim-dap adapter: a server at the configuration's `connect` address.
function M.adapter(callback, configuration)
  local connect = configuration.connect or {}
  callback({ type = "server", host = connect.host, port = connect.port })
end

--- The attach configuration for `info` ({host, port, label}), with the user's dap_configuration over it.
function M.configuration(info)
  local opts = config.get().debug or {}
  return vim.tbl_deep_extend("force", {
    type = M.adapter_name,
    request = "attach",
    name = "pytestd: " .. (info.label or "debug"),
    connect = { host = info.host, port = info.port },
    justMyCode = opts.just_my_code ~= false,
  }, opts.dap_configuration or {})
end

--- Starts an nvim-dap session attached to `info`'s debugpy.
function M.attach(info)
  local dap = require("dap")
  dap.adapters = dap.adapters or {}
  if dap.adapters[M.adapter_name] == nil then
    dap.adapters[M.adapter_name] = M.adapter
  end
  -- new = true: a second debug run gets its own session instead of restarting the first.
  dap.run(M.configuration(info), { new = true, filetype = "python" })
end

return M
