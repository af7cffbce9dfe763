-- local-llm for Neovim: `require('local_llm').setup(opts)` configures and enables the
-- `local_llm` server (lsp/local_llm.lua), turns on inline completion in its buffers (Neovim 0.12+;
-- `textDocument/completion` on 0.11), sets the keymaps, `:LocalLlmExplain` / `:LocalLlmStatus`,
-- and the statusline function `require('local_llm').status()`. Fix code actions need nothing
-- here: they come through `vim.lsp.buf.code_action()` (default keymap `gra`).

local M = {}

local status = require('local_llm.status')
local inline = require('local_llm.inline')
local explain = require('local_llm.explain')
local ask = require('local_llm.ask')
local cursor = require('local_llm.cursor')

--- Defaults; every key may be overridden in setup(). A keymap set to `false` is not mapped.
M.defaults = {
  -- Server command; nil keeps lsp/local_llm.lua's `{ 'local-llm-lsp' }`.
  -- Example: { 'local-llm-lsp', '--log-file', vim.fn.stdpath('log') .. '/local-llm.log' }
  cmd = nil,
  -- Filetypes; nil keeps the list in lsp/local_llm.lua.
  filetypes = nil,
  -- Server settings (docs/PROTOCOL.md), sent as initializationOptions and as the `localLlm`
  -- settings section, e.g. { modelPath = '~/models/qwen2.5-coder-1.5b.gguf', maxTokens = 64 }.
  init_options = {},
  -- Call vim.lsp.enable('local_llm') (set false to enable it yourself).
  enable = true,
  -- 'auto': inline completion where Neovim has it (0.12+), else textDocument/completion.
  -- true: always inline completion; false: always textDocument/completion.
  inline_completion = 'auto',
  -- Insert-mode keymaps, buffer-local in buffers the server is attached to.
  keymaps = {
    accept = '<Tab>', -- accept the whole suggestion (falls back to a plain <Tab>)
    accept_word = '<M-Right>', -- accept the next word of it
    accept_line = '<M-C-Right>', -- accept the rest of its current line
    next = '<M-]>', -- next suggestion
    prev = '<M-[>', -- previous suggestion
    dismiss = '<C-]>', -- hide it (falls back to a plain <C-]>)
    trigger = '<C-Space>', -- 0.11 fallback only: ask for a completion now
  },
  -- Options of the explanation float (see :h vim.lsp.util.open_floating_preview()).
  explain = { border = 'rounded', max_width = 100, max_height = 30 },
}

M.config = vim.deepcopy(M.defaults)

local augroup = vim.api.nvim_create_augroup('local_llm', { clear = true })

--- Whether inline completion is used with this config on this Neovim.
function M.use_inline()
  local want = M.config.inline_completion
  if want == 'auto' then
    return inline.available()
  end
  return want and inline.available()
end

--- initializationOptions from the user's `init_options`: the client always shows explanations
--- itself, and `~` in modelPath is expanded.
---@param user table
---@return table
function M.make_init_options(user)
  local opts = vim.deepcopy(user or {})
  if type(opts.modelPath) == 'string' and opts.modelPath ~= '' then
    opts.modelPath = vim.fn.expand(opts.modelPath)
  end
  opts.clientShowsExplanations = true
  return opts
end

local function map(bufnr, lhs, rhs, desc, expr)
  if not lhs then
    return
  end
  vim.keymap.set('i', lhs, rhs, { buffer = bufnr, expr = expr, silent = true, desc = 'local-llm: ' .. desc })
end

local function termcodes(keys)
  return vim.api.nvim_replace_termcodes(keys, true, false, true)
end

--- Keymaps for a buffer the server attached to.
local function set_keymaps(bufnr)
  local k = M.config.keymaps or {}
  if M.use_inline() then
    map(bufnr, k.accept, function()
      if not inline.accept() then
        return termcodes(k.accept)
      end
      return ''
    end, 'accept suggestion', true)
    map(bufnr, k.accept_word, inline.accept_word, 'accept next word')
    map(bufnr, k.accept_line, inline.accept_line, 'accept line')
    map(bufnr, k.next, inline.next, 'next suggestion')
    map(bufnr, k.prev, inline.prev, 'previous suggestion')
    map(bufnr, k.dismiss, function()
      if not inline.visible(bufnr) then
        return termcodes(k.dismiss)
      end
      vim.schedule(function()
        inline.dismiss(bufnr)
      end)
      return ''
    end, 'dismiss suggestion', true)
  else
    map(bufnr, k.trigger, function()
      vim.lsp.completion.get()
    end, 'complete')
  end
end

local function on_attach(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  if not client or client.name ~= status.client_name then
    return
  end
  local bufnr = ev.buf
  if M.use_inline() then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  elseif vim.lsp.completion then
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = true })
  end
  set_keymaps(bufnr)
  cursor.attach(client, bufnr, augroup) -- where the cursor rests: the server prefills (its `prefill` setting)
end

--- Statusline component, e.g. `set statusline+=%{%v:lua.require'local_llm'.status()%}`.
---@return string
function M.status()
  return status.statusline()
end

local function status_command()
  local s = status.current
  local lines = {
    ('state: %s'):format(s.state or 'unknown'),
    ('model: %s'):format(s.model or '-'),
  }
  if s.message ~= '' then
    table.insert(lines, 'message: ' .. s.message)
  end
  if s.progress then
    table.insert(lines, ('progress: %s %s%%'):format(s.progress.title, s.progress.percentage or '?'))
  end
  vim.notify(table.concat(lines, '\n'), vim.log.levels.INFO)
end

---@param opts? table see M.defaults
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- keymaps = { accept = false } must win over the default, which tbl_deep_extend keeps.
  for name, lhs in pairs((opts or {}).keymaps or {}) do
    M.config.keymaps[name] = lhs
  end
  explain.float_opts = M.config.explain

  local init_options = M.make_init_options(M.config.init_options)
  local server = {
    init_options = init_options,
    settings = { localLlm = init_options },
  }
  if M.config.cmd then
    server.cmd = M.config.cmd
  end
  if M.config.filetypes then
    server.filetypes = M.config.filetypes
  end
  vim.lsp.config('local_llm', server)

  vim.lsp.commands[explain.command] = explain.lsp_command
  vim.lsp.commands[ask.command] = ask.lsp_command

  vim.api.nvim_clear_autocmds({ group = augroup })
  vim.api.nvim_create_autocmd('LspAttach', { group = augroup, callback = on_attach })
  vim.api.nvim_create_autocmd('LspProgress', { group = augroup, callback = status.on_progress })

  vim.api.nvim_create_user_command('LocalLlmExplain', explain.user_command, {
    range = true,
    bang = true,
    desc = 'Explain the selected lines with the local model (! shows the last answer again)',
  })
  vim.api.nvim_create_user_command('LocalLlmAsk', ask.user_command, {
    range = true,
    bang = true,
    nargs = '*',
    desc = 'Ask the workspace a question (about the selected lines, with a range); citations go to the quickfix list',
  })
  vim.api.nvim_create_user_command('LocalLlmStatus', status_command, {
    desc = 'Show the local model state',
  })

  if M.config.enable then
    vim.lsp.enable('local_llm')
  end
end

return M
