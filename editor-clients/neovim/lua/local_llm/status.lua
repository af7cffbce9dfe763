-- Model state for the statusline: fed by the server's `localLlm/status` notification and by its
-- `$/progress` reports (through the `LspProgress` autocmd). Owns only that state and its
-- formatting; it sends nothing to the server.

local M = {}

M.client_name = 'local_llm'

---@class local_llm.State
---@field state? 'loading'|'ready'|'error'|'disabled'
---@field model? string
---@field message string
---@field progress? {title: string, message?: string, percentage?: integer}
M.current = { state = nil, model = nil, message = '', progress = nil }

local function changed()
  -- Statuslines and anyone listening (`:autocmd User LocalLlmStatus`) update now.
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'LocalLlmStatus', modeline = false })
  pcall(vim.cmd.redrawstatus)
end

--- Handler of the `localLlm/status` notification.
---@param result? {state: string, model?: string, message?: string}
function M.on_status(_, result, _)
  if type(result) ~= 'table' then
    return
  end
  M.current.state = result.state
  M.current.model = result.model ~= vim.NIL and result.model or nil
  M.current.message = type(result.message) == 'string' and result.message or ''
  if result.state ~= 'loading' then
    M.current.progress = nil
  end
  changed()
end

--- Callback of the `LspProgress` autocmd (only this server's reports are used).
---@param ev {data: {client_id: integer, params: lsp.ProgressParams}}
function M.on_progress(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  if not client or client.name ~= M.client_name then
    return
  end
  local value = ev.data.params.value
  if type(value) ~= 'table' then
    return
  end
  if value.kind == 'end' then
    M.current.progress = nil
  else
    local prev = M.current.progress or {}
    M.current.progress = {
      title = value.title or prev.title or '',
      message = value.message or prev.message,
      percentage = value.percentage or prev.percentage,
    }
  end
  changed()
end

--- Pure formatting of a state table, for tests and custom statuslines.
---@param s local_llm.State
---@return string
function M.format(s)
  if s.progress then
    local p = s.progress
    local text = 'LLM: ' .. (p.title ~= '' and p.title or 'loading')
    if p.percentage then
      text = text .. (' %d%%%%'):format(p.percentage)
    end
    return text
  end
  if not s.state then
    return ''
  end
  if s.state == 'ready' then
    return 'LLM: ready'
  end
  return 'LLM: ' .. s.state
end

--- The statusline string: '' when no local_llm client runs, otherwise e.g.
--- `LLM: loading 40%%`, `LLM: ready`, `LLM: error`. `%` is escaped for 'statusline'.
---@return string
function M.statusline()
  if #vim.lsp.get_clients({ name = M.client_name }) == 0 then
    return ''
  end
  return M.format(M.current)
end

return M
