"""Chat messages for fixes and explanations, from the templates in `prompts/chat/*.toml` (data).

Owns loading the templates and filling them in. Placeholders are `{name}`; they are filled in
one pass, so text from the user's file (which may itself contain `{...}`) is never expanded.
Code is fenced with a fence longer than any backtick run inside it. Must not call the model.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lsp_server.context.templates import prompts_dir
from lsp_server.data import load_toml


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=None)
def template(name: str) -> dict[str, str]:
    return load_toml(prompts_dir() / "chat" / f"{name}.toml")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each `{name}` that `values` knows, in one pass; leave other braces alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fence_for(*texts: str) -> str:
    longest = max((len(m) for t in texts for m in re.findall(r"`+", t)), default=0)
    return "`" * max(3, longest + 1)


def fix_messages(*, language: str, path: str, kind: str, code: str, before: str,
                 problem: str | None, focus_line: str | None) -> list[dict]:
    t = template("fix")
    values = {"language": language, "path": path, "kind": kind, "fence": fence_for(code, before)}
    values["problem"] = problem.strip() if problem and problem.strip() else fill(t["rewrite_problem"], values)
    values["focus"] = fill(t["focus"], {"line": f"`{focus_line.strip()}`"}) + "\n" if focus_line and focus_line.strip() else ""
    values["before"] = before
    values["code"] = code
    return [{"role": "system", "content": fill(t["system"], values)}, {"role": "user", "content": fill(t["user"], values)}]


def explain_messages(*, language: str, path: str, kind: str, code: str, before: str) -> list[dict]:
    t = template("explain")
    values = {"language": language, "path": path, "kind": kind, "fence": fence_for(code, before), "before": before, "code": code}
    return [{"role": "system", "content": fill(t["system"], values)}, {"role": "user", "content": fill(t["user"], values)}]
