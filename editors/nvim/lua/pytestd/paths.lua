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

-- The section that makes a shared configuration file pytest's (pytest's rootdir rules); other names (pytest.ini,
-- .pytest.ini, pytest.toml) count by existing.
local sections = {
  ["pyproject.toml"] = { "^%s*%[tool%.pytest%.ini_options%]", "^%s*%[tool%.pytest%]" },
  ["tox.ini"] = { "^%s*%[pytest%]" },
  ["setup.cfg"] = { "^%s*%[tool:pytest%]" },
}

local function has_section(file, patterns)
  local ok, lines = pcall(vim.fn.readfile, file)
  if not ok then
    return false
  end
  for _, line in ipairs(lines) do
    for _, pattern in ipairs(patterns) do
      if line:match(pattern) then
        return true
      end
    end
  end
  return false
end

local function configures_pytest(dir, marker)
  local path = dir .. "/" .. marker
  if not exists(path) then
    return false
  end
  local patterns = sections[marker]
  return patterns == nil or has_section(path, patterns)
end

local function nearest_where(dir, accept)
  local d = dir
  while true do
    if accept(d) then
      return d
    end
    local parent = vim.fn.fnamemodify(d, ":h")
    if parent == d then
      return nil
    end
    d = parent
  end
end

--- The project root of `path`, as pytest finds its rootdir: the nearest directory at or above it with a
--- pytest configuration (pytest.ini; pyproject.toml with [tool.pytest.ini_options] or [tool.pytest]; tox.ini
--- with [pytest]; setup.cfg with [tool:pytest]), else the nearest with `.git` (a repository's .git must not win
--- over a sub-project's pytest.ini), else the nearest with one of the configuration files even without a
--- pytest section (pytest's own last resort). nil when there is none of them.
function M.find_root(path, markers)
  markers = markers or config.get().root_markers
  path = M.normalize(path)
  local dir = vim.fn.isdirectory(path) == 1 and path or vim.fn.fnamemodify(path, ":h")
  local configs, vcs = {}, {}
  for _, marker in ipairs(markers) do
    table.insert(marker == ".git" and vcs or configs, marker)
  end
  local function any(list, test)
    return function(d)
      for _, marker in ipairs(list) do
        if test(d, marker) then
          return true
        end
      end
      return false
    end
  end
  local function present(d, marker)
    return exists(d .. "/" .. marker)
  end
  return nearest_where(dir, any(configs, configures_pytest))
    or (#vcs > 0 and nearest_where(dir, any(vcs, present)))
    or nearest_where(dir, any(configs, present))
    or nil
end

--- Root for the buffer when it shows a file inside a project, else for the working directory.
function M.current_root(bufnr)
  bufnr = bufnr or 0
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name ~= "" and vim.bo[bufnr].buftype == "" then
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
