-- Coverage as signs: covered, missed and partly covered lines (a branch left untaken) of every loaded buffer
-- of a measured file. Own sign group and names, below the test signs in priority, so a test's result still
-- shows on its own line and clearing one kind leaves the other.
local config = require("pytestd.config")

local M = {}

M.sign_group = "pytestd_coverage"

M.signs = {
  covered = { sign = "PytestdCoverageCovered", hl = "PytestdCoverageCovered", link = "String" },
  missed = { sign = "PytestdCoverageMissed", hl = "PytestdCoverageMissed", link = "DiagnosticError" },
  partial = { sign = "PytestdCoveragePartial", hl = "PytestdCoveragePartial", link = "DiagnosticWarn" },
}

local defined = false

function M.define_signs()
  local text = config.get().coverage.text or {}
  for kind, s in pairs(M.signs) do
    vim.cmd(string.format("highlight default link %s %s", s.hl, s.link))
    vim.fn.sign_define(s.sign, { text = text[kind] or "▎", texthl = s.hl })
  end
  defined = true
end

--- Draws `bufnr` from the coverage kept for its file; removes its signs when there is none.
function M.draw(bufnr)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  if not defined then
    M.define_signs()
  end
  vim.fn.sign_unplace(M.sign_group, { buffer = bufnr })
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return
  end
  local coverage = require("pytestd.coverage")
  local file = coverage.file_of(name)
  if not file then
    return
  end
  local priority = config.get().coverage.priority
  local line_count = vim.api.nvim_buf_line_count(bufnr)
  local partial = coverage.partial_lines(file)
  local list = {}
  local function add(line, kind)
    if line >= 1 and line <= line_count then
      list[#list + 1] = {
        group = M.sign_group,
        name = M.signs[kind].sign,
        buffer = bufnr,
        lnum = line,
        priority = priority,
      }
    end
  end
  for _, line in ipairs(file.covered or {}) do
    add(line, partial[line] and "partial" or "covered")
  end
  for _, line in ipairs(file.missed or {}) do
    add(line, "missed")
  end
  vim.fn.sign_placelist(list)
end

--- Redraws every loaded buffer (after a coverage run or a clear).
function M.draw_all()
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) then
      M.draw(b)
    end
  end
end

--- Coverage signs of `bufnr`: { [lnum] = "covered" | "missed" | "partial" }.
function M.placed(bufnr)
  local by_name = {}
  for kind, s in pairs(M.signs) do
    by_name[s.sign] = kind
  end
  local out = {}
  local placed = vim.fn.sign_getplaced(bufnr, { group = M.sign_group })[1]
  for _, s in ipairs(placed and placed.signs or {}) do
    out[s.lnum] = by_name[s.name]
  end
  return out
end

return M
