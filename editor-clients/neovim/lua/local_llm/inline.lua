-- Inline-completion key actions on top of `vim.lsp.inline_completion` (Neovim 0.12+): accept all,
-- accept the next word or line of the suggestion, cycle, dismiss. The pure text functions
-- (`remaining`, `next_word`, `next_line`) are tested without a server; the rest only calls
-- Neovim's own inline-completion API.

local M = {}

--- Whether this Neovim has LSP inline completion (0.12+).
function M.available()
  return vim.lsp.inline_completion ~= nil
end

--- Text of the suggestion that is not yet in the buffer.
--- `line` is the cursor line, `cursor_col` the 0-based byte column of the cursor, `range_start_col`
--- the 0-based byte column where the item's range starts on that line (nil: the item has no range
--- and is inserted at the cursor).
---@param insert_text string
---@param line string
---@param cursor_col integer
---@param range_start_col? integer
---@return string
function M.remaining(insert_text, line, cursor_col, range_start_col)
  if not range_start_col or range_start_col >= cursor_col then
    return insert_text
  end
  local typed = line:sub(range_start_col + 1, cursor_col)
  if insert_text:sub(1, #typed) == typed then
    return insert_text:sub(#typed + 1)
  end
  return insert_text
end

--- The next word of `text`: leading blanks, then a run of word characters, or else a run of
--- punctuation. A leading line break takes the next line's indentation with it.
---@param text string
---@return string
function M.next_word(text)
  local nl = text:match('^\r?\n[ \t]*')
  if nl then
    return nl
  end
  return text:match('^[ \t]*[%w_]+') or text:match('^[ \t]*[^%w_%s]+') or text:match('^[ \t]+') or text
end

--- The rest of the current line of `text` (without its line break); when `text` starts with a
--- line break, that break and the whole next line.
---@param text string
---@return string
function M.next_line(text)
  local nl, rest = text:match('^(\r?\n)(.*)$')
  if nl then
    return nl .. (rest:match('^[^\r\n]*') or '')
  end
  return text:match('^[^\r\n]*') or text
end

--- Insert `piece` at the cursor of the current window and move the cursor behind it.
---@param piece string
local function insert_at_cursor(piece)
  if piece == '' then
    return
  end
  local win = vim.api.nvim_get_current_win()
  local buf = vim.api.nvim_win_get_buf(win)
  local row, col = unpack(vim.api.nvim_win_get_cursor(win))
  local lines = vim.split(piece, '\n', { plain = true })
  vim.api.nvim_buf_set_text(buf, row - 1, col, row - 1, col, lines)
  local new_row = row + #lines - 1
  local new_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(win, { new_row, new_col })
end

--- Accept part of the shown suggestion. `pick` chooses the part from the remaining text.
---@param pick fun(text: string): string
---@return boolean accepted
local function accept_part(pick)
  return vim.lsp.inline_completion.get({
    on_accept = function(item)
      local text = item.insert_text
      if type(text) ~= 'string' then
        text = text.value -- a snippet: accept its raw text
      end
      local row, col = unpack(vim.api.nvim_win_get_cursor(0))
      local line = vim.api.nvim_get_current_line()
      local start_col
      if item.range and item.range.start.row == row - 1 then
        start_col = item.range.start.col
      end
      insert_at_cursor(pick(M.remaining(text, line, col, start_col)))
    end,
  })
end

---@return boolean accepted
function M.accept()
  return vim.lsp.inline_completion.get()
end

---@return boolean accepted
function M.accept_word()
  return accept_part(M.next_word)
end

---@return boolean accepted
function M.accept_line()
  return accept_part(M.next_line)
end

function M.next()
  vim.lsp.inline_completion.select({ count = 1 })
end

function M.prev()
  vim.lsp.inline_completion.select({ count = -1 })
end

--- Whether a suggestion is shown in `bufnr`.
---@param bufnr? integer
---@return boolean
function M.visible(bufnr)
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  if not ns then
    return false
  end
  return #vim.api.nvim_buf_get_extmarks(bufnr or 0, ns, 0, -1, { limit = 1 }) > 0
end

--- Hide the current suggestion until the next edit or cursor move. Neovim has no public
--- "dismiss" yet: turning the feature off and on for the buffer clears it.
---@param bufnr? integer
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not vim.lsp.inline_completion.is_enabled({ bufnr = bufnr }) then
    return
  end
  vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
end

return M
