-- Paths: a buffer's project root (found from marker files upwards) and conversions between absolute paths and
-- the root-relative paths pytest uses in node ids.
local compat = require("pytestd.compat")
local config = require("pytestd.config")

local M = {}

local function exists(path)
  return compat.uv.fs_stat(path) ~= nil
end

function M.normalize(path)
  path = vim.fn.fnamemodify(path, ":p")
  if #path > 1 then
    path = path:gsub("/+$", "")
  end
  return path
end

local function nearest_with(dir, markers)
  local d = dir
  while true do
    for _, marker in ipairs(markers) do
      if exists(d .. "/" .. marker) then
        return d
      end
    end
    local parent = vim.fn.fnamemodify(d, ":h")
    if parent == d then
      return nil
    end
    d = parent
  end
end

--- The nearest directory at or above `path` holding a pytest configuration file (as pytest finds its rootdir),
--- else the nearest holding `.git`: a repository's .git must not win over a sub-project's pytest.ini.
function M.find_root(path, markers)
  markers = markers or config.get().root_markers
  path = M.normalize(path)
  local dir = vim.fn.isdirectory(path) == 1 and path or vim.fn.fnamemodify(path, ":h")
  local configs, vcs = {}, {}
  for _, marker in ipairs(markers) do
    table.insert(marker == ".git" and vcs or configs, marker)
  end
  return nearest_with(dir, configs) or (#vcs > 0 and nearest_with(dir, vcs)) or nil
end

--- Root for the current buffer, else for the working directory.
function M.current_root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr or 0)
  if name ~= "" then
    local root = M.find_root(name)
    if root then
      return root
    end
  end
  return M.find_root(vim.fn.getcwd()) or M.normalize(vim.fn.getcwd())
end

--- `path` relative to `root` with forward slashes, or nil when it lies outside.
function M.relative(root, path)
  path = M.normalize(path)
  if path == root then
    return "."
  end
  if path:sub(1, #root + 1) == root .. "/" then
    return path:sub(#root + 2)
  end
  return nil
end

--- The absolute path of a path pytest reported (relative to the run's cwd, or already absolute).
function M.absolute(root, path)
  if path:sub(1, 1) == "/" then
    return path
  end
  return root .. "/" .. path
end

--- The file part of a pytest node id (`tests/test_x.py::TestA::test_b[1]` -> `tests/test_x.py`).
function M.id_file(test_id)
  return (test_id:match("^(.-)::") or test_id)
end

return M
