-- Server configuration for the built-in client: `vim.lsp.enable('local_llm')` picks this file up
-- from the runtimepath (Neovim 0.11+). `require('local_llm').setup()` merges the user's options
-- into it with `vim.lsp.config('local_llm', ...)`; this file holds only the defaults and must not
-- create keymaps or commands (that is setup()'s job).

---@type vim.lsp.Config
return {
  cmd = { 'local-llm-lsp' },
  filetypes = {
    'python',
    'javascript',
    'typescript',
    'typescriptreact',
    'go',
    'rust',
    'c',
    'cpp',
    'java',
  },
  root_markers = { '.git' },
  -- The plugin shows explanations in a floating window itself.
  init_options = { clientShowsExplanations = true },
  handlers = {
    ['localLlm/status'] = function(err, result, ctx)
      local ok, status = pcall(require, 'local_llm.status')
      if ok then
        status.on_status(err, result, ctx)
      end
    end,
    -- The answer of :LocalLlmAsk as the model writes it.
    ['localLlm/askText'] = function(err, result, ctx)
      local ok, ask = pcall(require, 'local_llm.ask')
      if ok then
        ask.on_text(err, result, ctx)
      end
    end,
  },
}
