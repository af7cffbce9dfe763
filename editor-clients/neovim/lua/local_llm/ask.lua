-- Ask the workspace: sends `workspace/executeCommand localLlm.ask` with a question (and the
-- selection, if any) and shows the Markdown answer in a floating window; its citations (or, when
-- the model cited none, the passages it answered from) go into the quickfix list. Also the
-- client-side handler of the `localLlm.ask` command, so the server's "Ask about this code…" code
-- action asks for the question (`vim.ui.input`) and lands in the same window. While the model
-- writes, the server's `localLlm/askText` notifications show the answer so far in that window.

local M = {}

M.command = 'localLlm.ask'

--- The last result (the server's {question, answer, citations, passages}), for tests and `:LocalLlmAsk!`.
---@type table?
M.last = nil

--- The last failure message (for tests).
---@type string?
M.last_error = nil

--- Quickfix items for a result: its citations, else the passages it answered from.
---@param result {citations: table[], passages: table[]}
---@return table[]
function M.qf_items(result)
  local items = {}
  local from = (#(result.citations or {}) > 0) and result.citations or (result.passages or {})
  for _, loc in ipairs(from) do
    table.insert(items, {
      filename = vim.uri_to_fname(loc.uri),
      lnum = loc.range.start.line + 1,
      col = loc.range.start.character + 1,
      text = loc.title or '',
    })
  end
  return items
end

--- The float's Markdown: the answer, then its sources as `path:line`.
---@param result {answer: string, citations: table[], passages: table[]}
---@return string
function M.markdown(result)
  local lines = { result.answer or '' }
  local items = M.qf_items(result)
  if #items > 0 then
    table.insert(lines, '')
    table.insert(lines, #(result.citations or {}) > 0 and '**Cited** (quickfix list):' or '**Passages** (quickfix list):')
    for _, it in ipairs(items) do
      table.insert(lines, ('- `%s:%d` %s'):format(vim.fn.fnamemodify(it.filename, ':~:.'), it.lnum, it.text))
    end
  end
  return table.concat(lines, '\n')
end

--- The answer's float, while it is open.
---@type integer?
M.win = nil

--- Show `lines` (Markdown) in the answer's float. A float already open is replaced, not focused
--- (`open_floating_preview` with a `focus_id` would move the cursor into it at every streamed
--- piece); when the user is reading in it, its text is updated in place.
---@param lines string[]
local function open(lines)
  local win = M.win
  if win and vim.api.nvim_win_is_valid(win) then
    if vim.api.nvim_get_current_win() == win then
      local buf = vim.api.nvim_win_get_buf(win)
      vim.bo[buf].modifiable = true
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
      vim.bo[buf].modifiable = false
      return
    end
    vim.api.nvim_win_close(win, true)
  end
  local explain = require('local_llm.explain')
  local opts = vim.tbl_extend('force', explain.float_opts, { focus_id = 'local_llm_ask', focus = false })
  local _, fwin = vim.lsp.util.open_floating_preview(lines, 'markdown', opts)
  M.win = fwin
end

local function show(result)
  M.last = result
  local items = M.qf_items(result)
  vim.fn.setqflist({}, ' ', { title = 'local-llm: ' .. (result.question or 'ask'), items = items })
  open(vim.split(M.markdown(result), '\n', { plain = true }))
end
M._show = show -- for tests

--- The text streamed so far (for tests).
---@type string?
M.streamed = nil

--- Handler of the `localLlm/askText` notification: the answer so far, in the float.
function M.on_text(_, params)
  if type(params) ~= 'table' or type(params.text) ~= 'string' or params.text == '' then
    return
  end
  M.streamed = params.text
  pcall(open, vim.split(params.text .. ' …', '\n', { plain = true }))
end

local function on_result(err, result)
  if err then
    M.last_error = 'ask failed: ' .. (err.message or vim.inspect(err))
    vim.notify('local-llm: ' .. M.last_error, vim.log.levels.ERROR)
    return
  end
  if type(result) ~= 'table' or type(result.answer) ~= 'string' then
    M.last_error = 'the server returned no answer'
    vim.notify('local-llm: ' .. M.last_error, vim.log.levels.WARN)
    return
  end
  M.last_error = nil
  show(result)
end

local function send(client, bufnr, argument)
  vim.notify('local-llm: asking the workspace…', vim.log.levels.INFO)
  client:request('workspace/executeCommand', { command = M.command, arguments = { argument } }, on_result, bufnr)
end

--- Ask `question` (about `range` of `bufnr`, when given).
function M.request(bufnr, question, range)
  local client = require('local_llm.explain').attached(bufnr)
  if not client then
    return
  end
  local argument = { question = question }
  if range then
    argument.uri = vim.uri_from_bufnr(bufnr)
    argument.range = range
  end
  send(client, bufnr, argument)
end

local function with_question(question, then_)
  if question and question:match('%S') then
    then_(question)
    return
  end
  vim.ui.input({ prompt = 'Ask the workspace: ' }, function(input)
    if input and input:match('%S') then
      then_(input)
    end
  end)
end

--- `:[range]LocalLlmAsk [question]` (with a range: about those lines; without a question: asks
--- for one; with `!`: shows the last answer again).
function M.user_command(args)
  if args.bang and M.last then
    show(M.last)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = require('local_llm.explain').attached(bufnr)
  if not client then
    return
  end
  local range = nil
  if args.range > 0 then
    range = require('local_llm.explain').range_of(bufnr, args.line1, args.line2, true, client.offset_encoding)
  end
  with_question(args.args, function(question)
    M.request(bufnr, question, range)
  end)
end

--- Client-side handler for the `localLlm.ask` command of code actions (`vim.lsp.commands`): the
--- action carries the selection; the question comes from the user.
---@param command lsp.Command
---@param ctx {bufnr: integer, client_id: integer}
function M.lsp_command(command, ctx)
  local argument = vim.deepcopy((command.arguments or {})[1] or {})
  with_question(argument.question, function(question)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      argument.question = question
      send(client, ctx.bufnr, argument)
    end
  end)
end

return M
