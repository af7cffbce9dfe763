-- Explain a range: sends `workspace/executeCommand localLlm.explain` and shows the Markdown answer
-- in a floating window. Also the client-side handler of the `localLlm.explain` command, so the
-- server's "Explain this code" code action lands in the same window.

local M = {}

M.command = 'localLlm.explain'

---@type {border?: string|string[], max_width?: integer, max_height?: integer}
M.float_opts = { border = 'rounded', max_width = 100, max_height = 30 }

--- The last explanation shown (Markdown), for tests and for `:LocalLlmExplain!` re-opening.
---@type string?
M.last = nil

--- The last failure message (for tests and `:LocalLlmStatus`).
---@type string?
M.last_error = nil

--- The server's client attached to `bufnr`, or nil (and the user is told so).
function M.attached(bufnr)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = require('local_llm.status').client_name })[1]
  if not client then
    vim.notify('local-llm: the server is not attached to this buffer', vim.log.levels.WARN)
  end
  return client
end

--- LSP range of lines `l1`..`l2` (1-based, inclusive), or of the last visual selection when
--- `use_marks` is set and it was charwise.
---@return lsp.Range
function M.range_of(bufnr, l1, l2, use_marks, encoding)
  local util = vim.lsp.util
  if use_marks and vim.fn.visualmode() == 'v' then
    return util.make_given_range_params(nil, nil, bufnr, encoding).range
  end
  local last = vim.api.nvim_buf_get_lines(bufnr, l2 - 1, l2, true)[1]
  return {
    start = { line = l1 - 1, character = 0 },
    ['end'] = { line = l2 - 1, character = util.character_offset(bufnr, l2 - 1, #last, encoding) },
  }
end

--- Show Markdown in a floating window next to the cursor. Returns the window and buffer.
---@param markdown string
---@return integer winid, integer bufnr
function M.show(markdown)
  M.last = markdown
  local lines = vim.split(markdown, '\n', { plain = true })
  local opts = vim.tbl_extend('force', { focus_id = 'local_llm_explain' }, M.float_opts)
  local fbuf, fwin = vim.lsp.util.open_floating_preview(lines, 'markdown', opts)
  return fwin, fbuf
end

local function on_result(err, result)
  if err then
    M.last_error = 'explain failed: ' .. (err.message or vim.inspect(err))
    vim.notify('local-llm: ' .. M.last_error, vim.log.levels.ERROR)
    return
  end
  if type(result) ~= 'string' or result == '' then
    M.last_error = 'the model returned no explanation'
    vim.notify('local-llm: ' .. M.last_error, vim.log.levels.WARN)
    return
  end
  M.last_error = nil
  M.show(result)
end

--- Ask the server to explain `range` of `bufnr`; the answer opens in a float.
---@param bufnr integer
---@param range lsp.Range
function M.request(bufnr, range)
  local client = M.attached(bufnr)
  if not client then
    return
  end
  vim.notify('local-llm: explaining…', vim.log.levels.INFO)
  client:request('workspace/executeCommand', {
    command = M.command,
    arguments = { { uri = vim.uri_from_bufnr(bufnr), range = range } },
  }, on_result, bufnr)
end

--- `:[range]LocalLlmExplain` (with `!`: show the last explanation again).
function M.user_command(args)
  if args.bang and M.last then
    M.show(M.last)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.attached(bufnr)
  if not client then
    return
  end
  local range = M.range_of(bufnr, args.line1, args.line2, args.range > 0, client.offset_encoding)
  M.request(bufnr, range)
end

--- Client-side handler for the `localLlm.explain` command of code actions (`vim.lsp.commands`).
---@param command lsp.Command
---@param ctx {bufnr: integer, client_id: integer}
function M.lsp_command(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  vim.notify('local-llm: explaining…', vim.log.levels.INFO)
  client:request('workspace/executeCommand', {
    command = command.command,
    arguments = command.arguments,
  }, on_result, ctx.bufnr)
end

return M
