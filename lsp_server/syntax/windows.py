"""How much of the text around the cursor to read: windows that end on whole definitions.

Owns `window_start` (where to start reading a prefix), `window_end` (how much of a suffix to
read for the lines after the cursor's) and `suffix_parse_window` (the part of a suffix that
truncation parses after the prefix's window). Not the prompt's windows, which are measured in
tokens (`lsp_server.context.fim`).
Must not run tree-sitter, know about LSP positions, or decide anything about a completion.
"""

from __future__ import annotations

from lsp_server.syntax.lexer import CLOSERS, code_of, lex
from lsp_server.syntax.lines import end_of_line, indent_width, start_of_line
from lsp_server.syntax.rules import Rules, matches


def window_start(text: str, offset: int, max_lines: int = 200) -> int:
    """Where to start reading `text` to understand `offset`: the closest line before the cursor
    line that starts at column 0 with code, at most `max_lines` lines back; failing that, the
    closest of the least indented lines there (e.g. the header of the enclosing method)."""
    cursor_line = start_of_line(text, offset)
    end = cursor_line - 1
    best, best_indent = cursor_line, None
    for _ in range(max_lines):
        if end < 0:
            return 0
        start = start_of_line(text, end)
        line = text[start:end]
        ch = line[:1]
        if ch and not ch.isspace() and ch not in CLOSERS:
            return start
        if line.strip() and line.lstrip()[0] not in CLOSERS:
            indent = indent_width(line)
            if best_indent is None or indent < best_indent:
                best, best_indent = start, indent
        end = start - 1
    return best


def window_end(text: str, max_lines: int = 80) -> int:
    """How much of a suffix to read: through the first line (after the first) that starts at
    column 0 with code, at most `max_lines` lines."""
    pos = text.find("\n")
    if pos < 0:
        return len(text)
    for _ in range(max_lines):
        end = end_of_line(text, pos + 1)
        ch = text[pos + 1 : pos + 2]
        if end == len(text) or (ch and not ch.isspace() and ch not in CLOSERS):
            return end
        pos = end
    return pos


def suffix_parse_window(suffix: str, rules: Rules, max_lines: int = 40) -> tuple[str, bool]:
    """The part of `suffix` to parse after the prefix's window (see `window_start`), so that the
    window ends on whole definitions where the file allows: whole lines, up to (not through)
    the first line after the cursor's that starts at column 0 with code (the next definition;
    a line that `inner_column0` says may stand there inside a body, such as C's `#endif`, does
    not end it). At most `max_lines` lines: then cut back, within the second half, to the last
    line of code at the shallowest bracket depth that is no decorator (the end of a block rather
    than the middle of a statement), and say so (True: the code goes on after the window, which
    may leave brackets open that the file closes further down)."""
    first_end = suffix.find("\n")
    if first_end < 0:
        return suffix, False
    limit = first_end
    for _ in range(max_lines + 1):  # lex only what the window can hold
        limit = end_of_line(suffix, limit + 1)
    tokens = [t for t in lex(suffix[:limit], rules) if t.kind in ("open", "close")]
    ti = depth = 0
    pos = first_end
    best_end, best_depth = None, 0
    for i in range(max_lines):
        if pos >= len(suffix):
            return suffix, False
        end = end_of_line(suffix, pos + 1)
        line = suffix[pos + 1 : end]
        ch = line[:1]
        if ch and not ch.isspace() and ch not in CLOSERS and code_of(rules, line).strip() \
                and not matches(rules.inner_column0, line):
            return suffix[:pos], False  # the next definition
        while ti < len(tokens) and tokens[ti].start < end:
            depth += 1 if tokens[ti].kind == "open" else -1
            ti += 1
        pos = end
        # a line of code that does not belong to the next one (not a decorator or annotation)
        if i >= max_lines // 2 and (best_end is None or depth <= best_depth) and code_of(rules, line).strip() \
                and not matches(rules.joins_next, line):
            best_end, best_depth = end, depth
    if pos >= len(suffix):
        return suffix, False
    return suffix[: best_end if best_end is not None else pos], True
