-- Drives a real Neovim session against the real server: run by tests/clients/test_neovim.py as
--   nvim --headless --clean -c 'luafile tests/clients/nvim/e2e_driver.lua'
-- Inputs (environment): LOCAL_LLM_PLUGIN (editor-clients/neovim), LOCAL_LLM_CMD (JSON list, the
-- server command), LOCAL_LLM_MODEL (a GGUF), LOCAL_LLM_FILE (a Python file to edit),
-- LOCAL_LLM_RESULT (where to write the JSON report), LOCAL_LLM_STEP_TIMEOUT_MS.
-- The steps run in a coroutine resumed by timers, so Neovim's main loop processes typed keys and
-- LSP messages between them. Every observation goes into the report; the pytest side asserts.

local env = vim.env
local report = { steps = {}, errors = {} }
-- Record notifications (e.g. "No code actions available") so steps can fail fast on them.
local notified = {}
local orig_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(notified, tostring(msg))
  return orig_notify(msg, level, opts)
end

local step_timeout = tonumber(env.LOCAL_LLM_STEP_TIMEOUT_MS or '') or 60000

local function write_report()
  local f = assert(io.open(env.LOCAL_LLM_RESULT, 'w'))
  f:write(vim.json.encode(report))
  f:close()
end

local function finish(ok)
  report.ok = ok
  report.messages = vim.fn.execute('messages')
  report.notified = notified
  report.status = require('local_llm.status').current
  report.statusline = require('local_llm').status()
  pcall(write_report)
  vim.cmd(ok and 'qall!' or 'cquit! 1')
end

local co
local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    table.insert(report.errors, debug.traceback(co, tostring(err)))
    finish(false)
  elseif coroutine.status(co) == 'dead' then
    finish(#report.errors == 0)
  end
end

local function sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

--- Wait until cond() returns a truthy value; error after `timeout` ms.
local function wait_for(what, cond, timeout)
  local deadline = vim.uv.now() + (timeout or step_timeout)
  while true do
    local value = cond()
    if value then
      return value
    end
    if vim.uv.now() > deadline then
      error('timed out waiting for ' .. what)
    end
    sleep(50)
  end
end

local function feed(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'tm', false)
end

local function lines()
  return vim.api.nvim_buf_get_lines(0, 0, -1, true)
end

local function client()
  return vim.lsp.get_clients({ bufnr = 0, name = 'local_llm' })[1]
end

local function inline_marks()
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  if not ns then
    return nil
  end
  local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
  return #marks > 0 and marks or nil
end

local function floats()
  local found = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      local buf = vim.api.nvim_win_get_buf(win)
      table.insert(found, { win = win, lines = vim.api.nvim_buf_get_lines(buf, 0, -1, true) })
    end
  end
  return #found > 0 and found or nil
end

local function step(name, fn)
  local t0 = vim.uv.now()
  local entry = { name = name }
  table.insert(report.steps, entry)
  local ok, err = pcall(fn, entry)
  entry.ms = vim.uv.now() - t0
  entry.ok = ok
  if not ok then
    entry.error = tostring(err)
    table.insert(report.errors, name .. ': ' .. tostring(err))
  end
  return ok
end

local function main()
  vim.opt.runtimepath:prepend(env.LOCAL_LLM_PLUGIN)
  vim.o.swapfile = false
  vim.o.statusline = "%f %{%v:lua.require'local_llm'.status()%}"

  -- LOCAL_LLM_MODE=completion: the Neovim 0.11 path (textDocument/completion in the menu).
  local completion_mode = env.LOCAL_LLM_MODE == 'completion'
  vim.o.completeopt = 'menu,menuone,noinsert'
  require('local_llm').setup({
    cmd = vim.json.decode(env.LOCAL_LLM_CMD),
    init_options = { modelPath = env.LOCAL_LLM_MODEL, maxTokens = 16, latencyTargetMs = 5000 },
    inline_completion = not completion_mode,
  })
  report.inline_completion_api = vim.lsp.inline_completion ~= nil

  vim.cmd.edit(vim.fn.fnameescape(env.LOCAL_LLM_FILE))

  if not step('attach', function(e)
    local c = wait_for('the server to attach', client)
    e.server_capabilities = {
      inlineCompletionProvider = c.server_capabilities.inlineCompletionProvider ~= nil,
      completionProvider = c.server_capabilities.completionProvider ~= nil,
      codeActionProvider = c.server_capabilities.codeActionProvider ~= nil,
      executeCommandProvider = c.server_capabilities.executeCommandProvider,
    }
  end) then
    return
  end

  step('model ready', function(e)
    local st = require('local_llm.status')
    wait_for('localLlm/status ready', function()
      return st.current.state == 'ready' or st.current.state == 'error'
    end)
    e.status = vim.deepcopy(st.current)
    e.statusline = require('local_llm').status()
    if st.current.state ~= 'ready' then
      error('model state ' .. tostring(st.current.state) .. ': ' .. st.current.message)
    end
  end)

  -- The plugin told the server where the cursor rests (localLlm/cursor): the worker computed the
  -- prompt there before anything was typed.
  step('prefill where the cursor rests', function(e)
    local c = client()
    e.warmed_tokens = 0
    wait_for('the worker to compute the prompt at the cursor', function()
      c:request('workspace/executeCommand', { command = 'localLlm.status', arguments = {} }, function(_, result)
        local w = result and result.worker
        e.warmed_tokens = (w and w.warmed_tokens) or 0
      end, 0)
      return e.warmed_tokens > 0
    end)
  end)

  if completion_mode then
    step('completion menu', function(e)
      -- Typing '(' (a trigger character) opens the menu through vim.lsp.completion's autotrigger.
      feed('Go' .. 'result = add(')
      wait_for('the completion menu', function()
        return vim.fn.pumvisible() == 1
      end)
      e.before = lines()
      e.items = vim.tbl_map(function(it)
        return it.word
      end, vim.fn.complete_info({ 'items' }).items)
      feed('<C-y>')
      wait_for('the item in the buffer', function()
        return not vim.deep_equal(lines(), e.before)
      end, 5000)
      sleep(200)
      e.after = lines()
      feed('<Esc>')
      sleep(50)
    end)
    return
  end

  step('inline completion', function(e)
    e.enabled = vim.lsp.inline_completion.is_enabled({ bufnr = 0 })
    -- Type a new line at the end of the file, in insert mode, as a user would.
    feed('Go' .. 'result = add(')
    local marks = wait_for('an inline suggestion', inline_marks)
    e.mode = vim.api.nvim_get_mode().mode
    e.virt_text = marks[1][4].virt_text
    local cap = vim.lsp._capability.all.inline_completion.active[vim.api.nvim_get_current_buf()]
    local item = cap and cap.current
    e.item = item
      and {
        insert_text = item.insert_text,
        range = item.range and {
          start = { item.range.start.row, item.range.start.col },
          ['end'] = { item.range.end_.row, item.range.end_.col },
        },
      }
    e.before = lines()
    local row, col = unpack(vim.api.nvim_win_get_cursor(0))
    e.cursor = { row, col }
    -- Expected line after accepting: the item's range (or the cursor) replaced by its text.
    local line = e.before[row]
    local s, en = col, col
    if item and item.range then
      s, en = item.range.start.col, item.range.end_.col
    end
    local text = type(item.insert_text) == 'string' and item.insert_text or item.insert_text.value
    local new = line:sub(1, s) .. text .. line:sub(en + 1)
    e.expected = vim.list_extend(vim.list_slice(e.before, 1, row - 1), vim.split(new, '\n', { plain = true }))
    vim.list_extend(e.expected, vim.list_slice(e.before, row + 1))
    -- Accept with the plugin's default keymap (<Tab>).
    feed('<Tab>')
    wait_for('the suggestion in the buffer', function()
      return not vim.deep_equal(lines(), e.before)
    end, 5000)
    sleep(100)
    e.after = lines()
    feed('<Esc>')
    sleep(50)
  end)

  step('accept word', function(e)
    -- A second suggestion on a new line; <M-Right> takes only its next word.
    feed('o' .. 'total = add(')
    wait_for('an inline suggestion', inline_marks)
    local cap = vim.lsp._capability.all.inline_completion.active[vim.api.nvim_get_current_buf()]
    local item = cap and cap.current
    e.insert_text = item and item.insert_text
    e.before = vim.api.nvim_get_current_line()
    feed('<M-Right>')
    wait_for('the word in the buffer', function()
      return vim.api.nvim_get_current_line() ~= e.before
    end, 5000)
    e.after = vim.api.nvim_get_current_line()
    e.expected_word = require('local_llm.inline').next_word(e.insert_text)
    feed('<Esc>')
    sleep(50)
  end)

  step('fix code action', function(e)
    -- Cursor into the body of `add`, then ask for code actions as `gra` would.
    vim.api.nvim_win_set_cursor(0, { 2, 4 })
    e.before = lines()
    if not client():supports_method('textDocument/codeAction') then
      error('the server offers no code actions')
    end
    local offered = {}
    vim.lsp.buf.code_action({
      filter = function(action)
        table.insert(offered, { title = action.title, kind = action.kind })
        return action.title:lower():find('fix', 1, true) ~= nil
          and (action.kind == nil or action.kind:find('^refactor') ~= nil)
      end,
      apply = true,
    })
    -- The server answers with an edit, or (when the model's answer does not check out) with a
    -- message; LOCAL_LLM_EXPECT_FIX_EDIT=1 accepts only the edit.
    local seen = #notified
    local want_edit = env.LOCAL_LLM_EXPECT_FIX_EDIT == '1'
    e.outcome = wait_for('the fix to change the buffer', function()
      for i = seen + 1, #notified do
        if notified[i]:find('No code actions', 1, true) then
          error(notified[i] .. '; offered: ' .. vim.inspect(offered))
        end
        if not want_edit and notified[i]:find('LSP[local_llm]', 1, true) then
          e.server_message = notified[i]
          return 'message'
        end
      end
      return not vim.deep_equal(lines(), e.before) and 'edit'
    end)
    if e.outcome == 'message' then
      sleep(500) -- an edit may still follow the message
      if not vim.deep_equal(lines(), e.before) then
        e.outcome = 'edit'
      end
    end
    e.offered = offered
    e.after = lines()
  end)

  step('explain', function(e)
    vim.cmd('stopinsert')
    -- Select the lines of `add` linewise, then :'<,'>LocalLlmExplain.
    vim.api.nvim_win_set_cursor(0, { 1, 0 })
    feed('Vj<Esc>')
    sleep(50)
    local explain = require('local_llm.explain')
    vim.cmd("'<,'>LocalLlmExplain")
    local found = wait_for('the explanation float', function()
      if explain.last_error then
        error(explain.last_error)
      end
      local fl = floats()
      return fl and explain.last and fl
    end)
    e.float_lines = found[1].lines
    e.explanation = require('local_llm.explain').last
  end)

  step('explain code action', function(e)
    -- The server's "Explain this code" action runs localLlm.explain through the plugin's
    -- client-side command handler, which opens the same float.
    local explain = require('local_llm.explain')
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        vim.api.nvim_win_close(win, true)
      end
    end
    explain.last = nil
    vim.api.nvim_win_set_cursor(0, { 1, 4 })
    local offered = {}
    vim.lsp.buf.code_action({
      filter = function(action)
        table.insert(offered, action.title)
        return action.title == 'Explain this code'
      end,
      apply = true,
    })
    local found = wait_for('the explanation float from the code action', function()
      if explain.last_error then
        error(explain.last_error)
      end
      local fl = floats()
      return fl and explain.last and fl
    end)
    e.offered = offered
    e.float_lines = found[1].lines
    e.explanation = explain.last
  end)

  step('ask', function(e)
    -- :LocalLlmAsk answers from the workspace (the project folder: the sample file) in a float;
    -- its citations, or the passages it was answered from, fill the quickfix list.
    local ask = require('local_llm.ask')
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        vim.api.nvim_win_close(win, true)
      end
    end
    ask.last = nil
    vim.cmd('LocalLlmAsk what does add return?')
    local found = wait_for('the answer float', function()
      if ask.last_error then
        error(ask.last_error)
      end
      local fl = floats()
      return fl and ask.last and fl
    end)
    e.answer = ask.last.answer
    e.passages = #ask.last.passages
    e.quickfix = vim.tbl_map(function(it)
      return { file = vim.fn.fnamemodify(vim.fn.bufname(it.bufnr), ':t'), lnum = it.lnum }
    end, vim.fn.getqflist())
    e.float_lines = found[1].lines
    e.streamed = ask.streamed ~= nil
  end)
end

-- Overall watchdog: never hang the test run.
vim.defer_fn(function()
  table.insert(report.errors, 'driver watchdog fired')
  finish(false)
end, tonumber(env.LOCAL_LLM_TOTAL_TIMEOUT_MS or '') or 240000)

co = coroutine.create(main)
vim.schedule(resume)
