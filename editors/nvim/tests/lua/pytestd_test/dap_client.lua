-- A minimal Debug Adapter Protocol client for the tests: a TCP connection (vim.loop) with Content-Length
-- framing, requests answered by seq, events kept in order. Enough to attach to debugpy, set a breakpoint,
-- wait for `stopped`, read the stack and continue.
local M = {}

local Client = {}
Client.__index = Client

--- Connects to host:port; returns the client once connected (or raises after timeout_ms).
function M.connect(host, port, timeout_ms)
  local self = setmetatable({ seq = 0, responses = {}, events = {}, buffer = "", closed = false }, Client)
  local tcp = vim.loop.new_tcp()
  self.tcp = tcp
  local connected, conn_err = false, nil
  tcp:connect(host, port, function(err)
    if err then
      conn_err = err
      return
    end
    tcp:read_start(function(read_err, chunk)
      if read_err or not chunk then
        self.closed = true
        return
      end
      self.buffer = self.buffer .. chunk
      self:_drain()
    end)
    connected = true
  end)
  assert(vim.wait(timeout_ms or 10000, function()
    return connected or conn_err ~= nil
  end, 10), "DAP connect timed out")
  assert(not conn_err, "DAP connect failed: " .. tostring(conn_err))
  return self
end

-- Splits complete messages off the buffer. Runs in libuv's callback: only plain Lua here.
function Client:_drain()
  while true do
    local header_end = self.buffer:find("\r\n\r\n", 1, true)
    if not header_end then
      return
    end
    local length = tonumber(self.buffer:sub(1, header_end):match("Content%-Length: *(%d+)"))
    if not length or #self.buffer < header_end + 3 + length then
      return
    end
    local body = self.buffer:sub(header_end + 4, header_end + 3 + length)
    self.buffer = self.buffer:sub(header_end + 4 + length)
    self.raw = self.raw or {}
    self.raw[#self.raw + 1] = body
  end
end

-- Decodes messages read so far (vim.json is not for libuv callbacks in 0.7, so decoding happens here).
function Client:_decode()
  local raw = self.raw or {}
  self.raw = {}
  for _, body in ipairs(raw) do
    local msg = vim.fn.json_decode(body)
    if msg.type == "response" then
      self.responses[msg.request_seq] = msg
    elseif msg.type == "event" then
      self.events[#self.events + 1] = msg
    end
  end
end

--- Sends a request; returns its seq.
function Client:send(command, arguments)
  self.seq = self.seq + 1
  local body = vim.fn.json_encode({ seq = self.seq, type = "request", command = command, arguments = arguments or vim.empty_dict() })
  self.tcp:write(string.format("Content-Length: %d\r\n\r\n%s", #body, body))
  return self.seq
end

--- Waits (at most timeout_ms) for the response to request `seq`; raises on timeout.
function Client:response(seq, timeout_ms)
  assert(vim.wait(timeout_ms or 10000, function()
    self:_decode()
    return self.responses[seq] ~= nil
  end, 10), "no DAP response to request " .. seq)
  return self.responses[seq]
end

--- Sends a request and waits for a successful response; returns its body.
function Client:request(command, arguments, timeout_ms)
  local r = self:response(self:send(command, arguments), timeout_ms)
  assert(r.success, string.format("DAP %s failed: %s", command, tostring(r.message)))
  return r.body
end

--- Waits for the first event named `name` not taken yet; returns it (and takes it).
function Client:event(name, timeout_ms)
  local found = nil
  assert(vim.wait(timeout_ms or 10000, function()
    self:_decode()
    for i, e in ipairs(self.events) do
      if e.event == name then
        found = table.remove(self.events, i)
        return true
      end
    end
    return false
  end, 10), "no DAP event " .. name)
  return found
end

--- Waits until the other side has closed the connection.
function Client:wait_closed(timeout_ms)
  return vim.wait(timeout_ms or 10000, function()
    return self.closed
  end, 10)
end

function Client:close()
  if not self.tcp:is_closing() then
    self.tcp:close()
  end
end

return M
