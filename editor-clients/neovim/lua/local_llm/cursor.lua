-- Tells the server where the cursor rests (`localLlm/cursor`), so that the model computes the
-- prompt of that place before the user types there: the first suggestion in a newly opened file
-- then does not wait for it. Sent when the server attaches, on entering the buffer and when the
-- cursor rests (CursorHold, `updatetime`), once per line. Owns only that notification.
local M = {}

M.method = 'localLlm/cursor'

---@param client vim.lsp.Client
---@param bufnr integer
function M.send(client, bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local line = params.position.line
  if vim.b[bufnr].local_llm_cursor_line == line then
    return
  end
  vim.b[bufnr].local_llm_cursor_line = line
  client:notify(M.method, { textDocument = params.textDocument, position = params.position })
end

---@param client vim.lsp.Client
---@param bufnr integer
---@param group integer
function M.attach(client, bufnr, group)
  vim.api.nvim_create_autocmd({ 'BufEnter', 'CursorHold' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      if client:is_stopped() then
        return true -- removes this autocmd
      end
      M.send(client, bufnr)
    end,
  })
  vim.b[bufnr].local_llm_cursor_line = nil
  M.send(client, bufnr)
end

return M
