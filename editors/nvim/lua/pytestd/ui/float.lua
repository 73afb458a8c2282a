-- A scratch buffer in a centred floating window, closed with q or <Esc>; for :PytestdOutput and :PytestdRuns.
local compat = require("pytestd.compat")
local config = require("pytestd.config")

local M = {}

function M.open(lines, opts)
  opts = opts or {}
  local fopts = config.get().float
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  compat.buf_set_option(buf, "modifiable", false)
  compat.buf_set_option(buf, "bufhidden", "wipe")
  if opts.filetype then
    compat.buf_set_option(buf, "filetype", opts.filetype)
  end
  local columns, rows = vim.o.columns, vim.o.lines
  local width = math.max(20, math.floor(columns * fopts.width))
  local height = math.max(3, math.min(#lines, math.floor(rows * fopts.height)))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((rows - height) / 2) - 1,
    col = math.floor((columns - width) / 2),
    style = "minimal",
    border = fopts.border,
  })
  compat.win_set_option(win, "wrap", true)
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.api.nvim_buf_set_keymap(buf, "n", key, "<cmd>close<CR>", { noremap = true, silent = true })
  end
  return buf, win
end

return M
