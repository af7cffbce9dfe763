"""FIM prompt templates: loaded from `prompts/fim/*.toml` (data) and chosen from GGUF metadata.

Owns the template type and the choice of a template for a model. A template names token roles
(`<fim_pre>`, `<fim_suf>`, `<fim_mid>`, `<fim_pad>`, `<fim_rep>`, `<fim_sep>`) whose ids come from
the model's own vocabulary, never from a table of model names; the text of a template is data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources.abc import Traversable
from pathlib import Path

from lsp_server.data import load_toml, package_file


ROLES = ("fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep")
_ROLE_ITEM = re.compile(r"^<(fim_(?:pre|suf|mid|pad|rep|sep))>$")


def prompts_dir() -> Traversable:
    """The package's `prompts/` folder."""
    return package_file("prompts")


@dataclass(frozen=True)
class FimTemplate:
    name: str
    description: str
    match: tuple[str, ...]
    sequence: tuple[str, ...]
    sequence_no_path: tuple[str, ...]
    bos: bool
    stop_roles: tuple[str, ...]
    stop_text: tuple[str, ...]

    def roles_needed(self, with_path: bool) -> set[str]:
        seq = self.sequence if with_path else self.sequence_no_path
        return {m.group(1) for item in seq if (m := _ROLE_ITEM.match(item))}


def role_of(item: str) -> str | None:
    m = _ROLE_ITEM.match(item)
    return m.group(1) if m else None


def _load(path: Traversable) -> FimTemplate:
    data = load_toml(path)
    sequence = tuple(data["sequence"])
    return FimTemplate(
        name=data["name"],
        description=data.get("description", ""),
        match=tuple(data.get("match", ())),
        sequence=sequence,
        sequence_no_path=tuple(data.get("sequence_no_path", sequence)),
        bos=bool(data.get("bos", False)),
        stop_roles=tuple(data.get("stop_roles", ())),
        stop_text=tuple(data.get("stop_text", ())),
    )


@lru_cache(maxsize=None)
def load_templates(directory: str | None = None) -> dict[str, FimTemplate]:
    folder = Path(directory) if directory else prompts_dir() / "fim"
    templates = [_load(p) for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".toml")]
    return {t.name: t for t in templates}


GENERIC = "starcoder"  # a plain PSM template, for models no template claims


def choose_template(metadata: dict[str, str], override: str = "") -> FimTemplate:
    """The template named by `override`, else the one whose `match` fits the GGUF metadata best.

    Metadata keys used: general.architecture, general.name, general.basename, tokenizer.ggml.pre.
    The longest matching pattern wins (so "codegemma" beats "gemma"); no match gives plain PSM.
    """
    templates = load_templates()
    if override:
        if override not in templates:
            raise KeyError(f"unknown FIM template {override!r}; known: {', '.join(sorted(templates))}")
        return templates[override]
    haystack = " ".join(
        str(metadata.get(k, "")) for k in ("general.architecture", "general.name", "general.basename", "tokenizer.ggml.pre")
    ).lower()
    best, best_len = templates[GENERIC], 0
    for template in templates.values():
        for pattern in template.match:
            m = re.search(pattern, haystack)
            if m and len(pattern) > best_len:
                best, best_len = template, len(pattern)
    return best
