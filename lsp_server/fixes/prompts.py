"""Chat messages for fixes and explanations, from the templates in `prompts/chat/*.toml` (data).

Owns loading the templates and filling them in. A user's `prompts/chat/NAME.toml` (in the
`promptsDir` setting's folder, then the user config folder: `lsp_server.data.override_folders`)
replaces the package's when it has every key the package's has, each a string; otherwise it is
skipped with a warning. Placeholders are `{name}`; they are filled in
one pass, so text from the user's file (which may itself contain `{...}`) is never expanded.
Code is fenced with a fence longer than any backtick run inside it. Must not call the model.
"""

from __future__ import annotations

import logging
import re
from importlib.resources.abc import Traversable

from lsp_server.data import Chosen, Versions, first_usable, load_toml, override_folders, package_file, versions

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
NAMES = ("fix", "explain", "ask", "translate")


def _chosen(name: str, prompts_dir: str) -> Chosen[dict[str, str]]:
    found = versions(("prompts", "chat"), override_folders(prompts_dir)).get(f"{name}.toml", Versions())
    keys = set(load_toml(package_file("prompts", "chat", f"{name}.toml")))

    def parse(source: Traversable) -> dict[str, str]:
        data = load_toml(source)
        missing = sorted(keys - set(data))
        if missing:
            raise ValueError(f"missing {', '.join(map(repr, missing))}")
        for key in sorted(keys):
            if not isinstance(data[key], str):
                raise ValueError(f"{key!r} must be a string")
        return data

    return first_usable(found, parse, "chat template")


def template(name: str, prompts_dir: str = "") -> dict[str, str]:
    """The chat template `name` (one of NAMES); read each time, so an edit takes effect at once."""
    chosen = _chosen(name, prompts_dir)
    for warning in chosen.warnings:
        log.warning("%s", warning)
    return chosen.value


def template_warnings(prompts_dir: str = "") -> list[str]:
    """One warning per user chat template that cannot be used."""
    return [w for name in NAMES for w in _chosen(name, prompts_dir).warnings]


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each `{name}` that `values` knows, in one pass; leave other braces alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fence_for(*texts: str) -> str:
    longest = max((len(m) for t in texts for m in re.findall(r"`+", t)), default=0)
    return "`" * max(3, longest + 1)


def fix_messages(*, language: str, path: str, kind: str, code: str, before: str,
                 problem: str | None, focus_line: str | None, prompts_dir: str = "",
                 answer_language: str = "English") -> list[dict]:
    t = template("fix", prompts_dir)
    values = {"language": language, "path": path, "kind": kind, "fence": fence_for(code, before),
              "answer_language": answer_language}
    values["problem"] = problem.strip() if problem and problem.strip() else fill(t["rewrite_problem"], values)
    values["focus"] = fill(t["focus"], {"line": f"`{focus_line.strip()}`"}) + "\n" if focus_line and focus_line.strip() else ""
    values["before"] = before
    values["code"] = code
    return [{"role": "system", "content": fill(t["system"], values)}, {"role": "user", "content": fill(t["user"], values)}]


def explain_messages(*, language: str, path: str, kind: str, code: str, before: str,
                     prompts_dir: str = "", answer_language: str = "English", answer_note: str = "") -> list[dict]:
    """`answer_note` asks for the answer's language in that language (`messages.answer_note`)."""
    t = template("explain", prompts_dir)
    values = {"language": language, "path": path, "kind": kind, "fence": fence_for(code, before), "before": before, "code": code,
              "answer_language": answer_language, "answer_note": answer_note}
    return [{"role": "system", "content": fill(t["system"], values)}, {"role": "user", "content": fill(t["user"], values)}]


def ask_messages(*, question: str, passages: list[tuple[str, str]], selection: tuple[str, str, str] | None = None,
                 answer_language: str = "", prompts_dir: str = "") -> list[dict]:
    """`passages` are (header, text) pairs, numbered here and fenced as data; `selection` is the
    user's selected (path, language, code), if any; the answer's language defaults to the question's."""
    t = template("ask", prompts_dir)
    texts = [text for _, text in passages] + ([selection[2]] if selection else [])
    fence = fence_for(*texts)
    blocks = [f"[{n}] {header}\n{fence}\n{text}\n{fence}" for n, (header, text) in enumerate(passages, 1)]
    chosen = ""
    if selection is not None:
        path, language, code = selection
        chosen = fill(t["selection"], {"path": path, "language": language, "code": code, "fence": fence})
    values = {"passages": "\n\n".join(blocks), "selection": chosen, "question": question.strip(),
              "answer_language": answer_language.strip() or t["question_language"]}
    return [{"role": "system", "content": fill(t["system"], values)}, {"role": "user", "content": fill(t["user"], values)}]
