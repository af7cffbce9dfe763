"""`localLlm/cursor`: the client says where the user's cursor rests, so the prompt there is
computed before the user types (`Completer.reveal`).

A notification the editor clients of this project send (Neovim: on entering a buffer and when
the cursor rests); VS Code needs none, the code action requests it makes at every cursor move
tell the same. Params: `{"textDocument": {"uri"}, "position": {"line", "character"}}`. An
adapter: anything malformed is ignored (it is a hint; nothing depends on it).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

CURSOR_NOTIFICATION = "localLlm/cursor"


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def cursor_of(params: Any) -> tuple[str, int, int] | None:
    """(uri, line, character) from the notification's params, or None when they are not that."""
    uri = _get(_get(params, "textDocument"), "uri")
    position = _get(params, "position")
    line, character = _get(position, "line"), _get(position, "character")
    if not isinstance(uri, str) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (line, character)):
        return None
    return uri, line, character


def register(server) -> None:
    @server.feature(CURSOR_NOTIFICATION)
    def cursor(ls, params: Any) -> None:
        where = cursor_of(params)
        if where is None:
            log.debug("%s: ignored malformed params", CURSOR_NOTIFICATION)
            return
        ls.completer.reveal(*where, ls.encoding)
