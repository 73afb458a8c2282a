-- Differences between Neovim 0.7 (Debian 12's) and current Neovim, in one place, so the rest of the plugin
-- is written once.
local M = {}

-- vim.uv arrived in 0.10; vim.loop is the same libuv binding under its older name.
M.uv = vim.uv or vim.loop

M.has_010 = vim.fn.has("nvim-0.10") == 1

M.islist = vim.islist or vim.tbl_islist

--- Starts a JSON-RPC peer over stdio. 0.10 changed vim.lsp.rpc.start from (cmd, args, dispatchers, extra)
--- to (cmd_list, dispatchers, extra).
function M.rpc_start(cmd, dispatchers, extra)
  if M.has_010 then
    return vim.lsp.rpc.start(cmd, dispatchers, extra)
  end
  local args = {}
  for i = 2, #cmd do
    args[#args + 1] = cmd[i]
  end
  return vim.lsp.rpc.start(cmd[1], args, dispatchers, extra)
end

--- The python parser of buffer `bufnr`, or nil when Treesitter or the parser is missing. 0.7 raises when no
--- parser is found; 0.11 may return nil and an error instead.
function M.python_parser(bufnr)
  if not vim.treesitter or not vim.treesitter.get_parser then
    return nil
  end
  local ok, parser = pcall(vim.treesitter.get_parser, bufnr, "python")
  if ok and parser then
    return parser
  end
  return nil
end

--- Whether a Python parser is on the runtimepath at all (without needing a buffer).
function M.has_python_parser()
  return #vim.api.nvim_get_runtime_file("parser/python.so", false) > 0
end

function M.buf_set_option(bufnr, name, value)
  if vim.api.nvim_set_option_value and M.has_010 then
    vim.api.nvim_set_option_value(name, value, { buf = bufnr })
  else
    vim.api.nvim_buf_set_option(bufnr, name, value)
  end
end

function M.win_set_option(win, name, value)
  if vim.api.nvim_set_option_value and M.has_010 then
    vim.api.nvim_set_option_value(name, value, { win = win })
  else
    vim.api.nvim_win_set_option(win, name, value)
  end
end

return M
