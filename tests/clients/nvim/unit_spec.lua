-- Unit tests of the Neovim plugin's pure logic (no server). Run:
--   nvim --headless --clean -l tests/clients/nvim/unit_spec.lua editor-clients/neovim
-- Prints one line per case and a closing "N passed, N failed" line; exits 1 on failure.
local plugin_root = assert(arg[1], 'usage: unit_spec.lua PLUGIN_ROOT')
vim.opt.runtimepath:prepend(plugin_root)

local passed, failed = 0, 0
local function case(name, fn)
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
    print('ok   ' .. name)
  else
    failed = failed + 1
    print('FAIL ' .. name .. ': ' .. tostring(err))
  end
end
local function eq(got, want)
  if not vim.deep_equal(got, want) then
    error(('got %s, want %s'):format(vim.inspect(got), vim.inspect(want)), 2)
  end
end

local inline = require('local_llm.inline')
local status = require('local_llm.status')
local local_llm = require('local_llm')
local ask = require('local_llm.ask')

local cite = { uri = 'file:///w/a.py', path = 'a.py', title = 'function f',
  range = { start = { line = 9, character = 0 }, ['end'] = { line = 10, character = 0 } } }
local passage = { uri = 'file:///w/README.md', path = 'README.md', title = 'README.md: Install',
  range = { start = { line = 0, character = 0 }, ['end'] = { line = 4, character = 0 } } }
for _, t in ipairs({
  { 'citations first', { citations = { cite }, passages = { passage, cite } },
    { { filename = '/w/a.py', lnum = 10, col = 1, text = 'function f' } } },
  { 'no citation: the passages', { citations = {}, passages = { passage } },
    { { filename = '/w/README.md', lnum = 1, col = 1, text = 'README.md: Install' } } },
  { 'nothing to search', { citations = {}, passages = {} }, {} },
}) do
  case('ask.qf_items: ' .. t[1], function()
    eq(ask.qf_items(t[2]), t[3])
  end)
end
case('ask.markdown: answer then sources', function()
  local md = ask.markdown({ answer = 'It is in f.', citations = { cite }, passages = {} })
  eq(vim.split(md, '\n', { plain = true })[1], 'It is in f.')
  assert(md:find('a.py:10', 1, true), md)
end)

local function float_texts()
  local found = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      table.insert(found, table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, true), '\n'))
    end
  end
  return found
end

-- Streamed pieces, then the answer: one float with the latest text, and the cursor never leaves
-- the user's window (a float opened again with a focus_id would take the cursor into it).
for _, t in ipairs({
  { 'one piece', { 'It' } },
  { 'three pieces', { 'It', 'It returns', 'It returns a - b' } },
  { 'an empty piece is ignored', { 'It', '' } },
}) do
  case('ask.on_text then the answer: ' .. t[1], function()
    local user_win = vim.api.nvim_get_current_win()
    for i, text in ipairs(t[2]) do
      ask.on_text(nil, { question = 'q', text = text })
      eq(vim.api.nvim_get_current_win(), user_win)
      local last = text ~= '' and text or t[2][i - 1]
      eq(float_texts(), { last .. ' …' })
    end
    ask._show({ question = 'q', answer = 'It returns a - b.', citations = {}, passages = {} })
    eq(vim.api.nvim_get_current_win(), user_win)
    eq(float_texts(), { 'It returns a - b.' })
    vim.api.nvim_win_close(ask.win, true)
  end)
end

-- remaining(insert_text, line, cursor_col, range_start_col)
for _, t in ipairs({
  { 'no range: all of it', { 'foo(bar)', 'x = ', 4, nil }, 'foo(bar)' },
  { 'range at cursor', { 'foo(bar)', 'x = ', 4, 4 }, 'foo(bar)' },
  { 'range before cursor, typed part skipped', { 'foo(bar)', 'x = fo', 6, 4 }, 'o(bar)' },
  { 'range before cursor, text differs', { 'baz()', 'x = fo', 6, 4 }, 'baz()' },
}) do
  case('remaining: ' .. t[1], function()
    eq(inline.remaining(unpack(t[2], 1, 4)), t[3])
  end)
end

for _, t in ipairs({
  { 'word', 'foo(bar)', 'foo' },
  { 'blanks then word', '  return x', '  return' },
  { 'punctuation run', '(bar)', '(' },
  { 'punctuation run of several', '.= 1', '.=' },
  { 'line break with indentation', '\n    return x', '\n    ' },
  { 'only blanks', '   ', '   ' },
  { 'empty', '', '' },
}) do
  case('next_word: ' .. t[1], function()
    eq(inline.next_word(t[2]), t[3])
  end)
end

for _, t in ipairs({
  { 'rest of line', 'a + b\n    return c', 'a + b' },
  { 'single line', 'a + b', 'a + b' },
  { 'leading break takes next line', '\n    return c\nfoo', '\n    return c' },
  { 'empty', '', '' },
}) do
  case('next_line: ' .. t[1], function()
    eq(inline.next_line(t[2]), t[3])
  end)
end

for _, t in ipairs({
  { 'nothing known', { message = '' }, '' },
  { 'ready', { state = 'ready', model = 'm', message = '' }, 'LLM: ready' },
  { 'error', { state = 'error', message = 'no file' }, 'LLM: error' },
  { 'disabled', { state = 'disabled', message = '' }, 'LLM: disabled' },
  {
    'progress with percentage, % escaped for the statusline',
    { state = 'loading', message = '', progress = { title = 'Loading model', percentage = 40 } },
    'LLM: Loading model 40%%',
  },
  { 'progress without title', { state = 'loading', message = '', progress = { title = '' } }, 'LLM: loading' },
}) do
  case('status.format: ' .. t[1], function()
    eq(status.format(t[2]), t[3])
  end)
end

case('status.on_status stores the notification', function()
  status.on_status(nil, { state = 'error', model = vim.NIL, message = 'boom' }, {})
  eq(status.current.state, 'error')
  eq(status.current.model, nil)
  eq(status.current.message, 'boom')
end)

case('make_init_options: expands ~ and sets clientShowsExplanations', function()
  local o = local_llm.make_init_options({ modelPath = '~/m.gguf', maxTokens = 32 })
  eq(o.modelPath, vim.fn.expand('~') .. '/m.gguf')
  eq(o.maxTokens, 32)
  eq(o.clientShowsExplanations, true)
end)

case('make_init_options: empty modelPath stays empty', function()
  eq(local_llm.make_init_options({ modelPath = '' }).modelPath, '')
end)

case('setup: keymap false disables, others keep defaults', function()
  local_llm.setup({ enable = false, keymaps = { accept = false, dismiss = '<C-e>' } })
  eq(local_llm.config.keymaps.accept, false)
  eq(local_llm.config.keymaps.dismiss, '<C-e>')
  eq(local_llm.config.keymaps.accept_word, '<M-Right>')
end)

case('setup: vim.lsp.config merges lsp/local_llm.lua with user options', function()
  local_llm.setup({
    enable = false,
    cmd = { 'my-server', '--log-file', '/tmp/x.log' },
    init_options = { modelPath = '/m.gguf' },
  })
  local cfg = vim.lsp.config.local_llm
  eq(cfg.cmd, { 'my-server', '--log-file', '/tmp/x.log' })
  eq(cfg.init_options.modelPath, '/m.gguf')
  eq(cfg.init_options.clientShowsExplanations, true)
  eq(cfg.settings.localLlm.modelPath, '/m.gguf')
  eq(vim.tbl_contains(cfg.filetypes, 'python'), true)
  eq(type(cfg.handlers['localLlm/status']), 'function')
end)

case('setup: commands exist', function()
  eq(vim.fn.exists(':LocalLlmExplain'), 2)
  eq(vim.fn.exists(':LocalLlmStatus'), 2)
  eq(vim.fn.exists(':LocalLlmAsk'), 2)
  eq(vim.lsp.commands['localLlm.ask'] ~= nil, true)
end)

case('use_inline: auto follows the Neovim version', function()
  local_llm.setup({ enable = false })
  eq(local_llm.use_inline(), vim.lsp.inline_completion ~= nil)
  local_llm.setup({ enable = false, inline_completion = false })
  eq(local_llm.use_inline(), false)
end)

print(('%d passed, %d failed'):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
