"""FIM prompt templates: loaded from `prompts/fim/*.toml` (data) and chosen from GGUF metadata.

Owns the template type, checking a template file (a user's may be broken: it is then skipped with a
warning, never fatal), and the choice of a template for a model. The user's template files
override the package's in the order `lsp_server.data.override_folders` gives. A template names token roles
(`<fim_pre>`, `<fim_suf>`, `<fim_mid>`, `<fim_pad>`, `<fim_rep>`, `<fim_sep>`) whose ids come from
the model's own vocabulary, never from a table of model names; the text of a template is data.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from lsp_server.data import first_usable, load_toml, override_folders, package_file, versions

log = logging.getLogger(__name__)


ROLES = ("fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep")
_ROLE_ITEM = re.compile(r"^<(fim_(?:pre|suf|mid|pad|rep|sep))>$")
_ROLE_LIKE = re.compile(r"^<fim_\w*>$")  # a role's form: <fim_middle> is a typo, not text


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
    # Cross-file context, the repository-level form (items as in `sequence`, with {repo}, {path}
    # and {text}): the header once, then a file item per piece, all before `sequence`. A template
    # without it (or a model without the roles it names) gets the pieces commented into the prefix.
    context_header: tuple[str, ...] = ()
    context_file: tuple[str, ...] = ()

    def context_roles(self) -> set[str]:
        return {m.group(1) for item in self.context_header + self.context_file if (m := _ROLE_ITEM.match(item))}

    def roles_needed(self, with_path: bool) -> set[str]:
        seq = self.sequence if with_path else self.sequence_no_path
        return {m.group(1) for item in seq if (m := _ROLE_ITEM.match(item))}


def role_of(item: str) -> str | None:
    m = _ROLE_ITEM.match(item)
    return m.group(1) if m else None


def _load(path: Traversable) -> FimTemplate:
    """A template file -> FimTemplate; a missing key raises KeyError, a wrong value ValueError."""
    data = load_toml(path)
    name = data["name"]
    if not isinstance(name, str) or not name:
        raise ValueError("'name' must be a non-empty string")
    sequence = _strings(data, "sequence")
    template = FimTemplate(
        name=name,
        description=str(data.get("description", "")),
        match=_patterns(_strings(data, "match", ())),
        sequence=_sequence(sequence, "sequence"),
        sequence_no_path=_sequence(_strings(data, "sequence_no_path", sequence), "sequence_no_path"),
        bos=_bool(data, "bos"),
        stop_roles=_strings(data, "stop_roles", ()),
        stop_text=_strings(data, "stop_text", ()),
        context_header=_context_items(_strings(data, "context_header", ()), "context_header"),
        context_file=_context_items(_strings(data, "context_file", ()), "context_file"),
    )
    unknown = [r for r in template.stop_roles if r not in ROLES]
    if unknown:
        raise ValueError(f"'stop_roles' has unknown roles {unknown}; known: {', '.join(ROLES)}")
    return template


def _strings(data: dict, key: str, default: tuple | list | None = None) -> tuple[str, ...]:
    value = data[key] if default is None else data.get(key, default)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key!r} must be a list of strings")
    return tuple(value)


def _bool(data: dict, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} must be true or false")
    return value


def _patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"'match' pattern {pattern!r} is not a regular expression ({exc})") from None
    return patterns


def _sequence(items: tuple[str, ...], key: str) -> tuple[str, ...]:
    for item in items:
        if _ROLE_LIKE.match(item) and role_of(item) is None:
            raise ValueError(f"{key!r} has an unknown token role {item!r}; known: {', '.join(f'<{r}>' for r in ROLES)}")
    for placeholder in ("{prefix}", "{suffix}"):
        if not any(placeholder in item for item in items):
            raise ValueError(f"{key!r} has no {placeholder}")
    return items


def _context_items(items: tuple[str, ...], key: str) -> tuple[str, ...]:
    for item in items:
        if _ROLE_LIKE.match(item) and role_of(item) is None:
            raise ValueError(f"{key!r} has an unknown token role {item!r}; known: {', '.join(f'<{r}>' for r in ROLES)}")
    if key == "context_file" and items and not any("{text}" in item for item in items):
        raise ValueError("'context_file' has no {text}")
    return items


def fim_templates(prompts_dir: str = "") -> tuple[dict[str, FimTemplate], list[str]]:
    """The FIM templates by name, and a warning per user template that could not be used.

    Lookup, first wins: `prompts_dir`/prompts/fim/NAME.toml (the `promptsDir` setting), the user
    config folder's prompts/fim/NAME.toml, the package's. A user file of a shipped file's name
    replaces it; another name adds a template; a broken one is skipped with a warning.
    """
    found = versions(("prompts", "fim"), override_folders(prompts_dir))
    templates: dict[str, FimTemplate] = {}
    warnings: list[str] = []
    # the shipped file names first, so a new user file that reuses a shipped `name` replaces it
    for _, found_versions in sorted(found.items(), key=lambda kv: (kv[1].shipped is None, kv[0])):
        chosen = first_usable(found_versions, _load, "FIM template")
        warnings += chosen.warnings
        if chosen.value is not None:
            templates[chosen.value.name] = chosen.value
    return templates, warnings


def load_templates(prompts_dir: str = "") -> dict[str, FimTemplate]:
    return fim_templates(prompts_dir)[0]


GENERIC = "starcoder"  # a plain PSM template, for models no template claims


def choose_template(metadata: dict[str, str], override: str = "", prompts_dir: str = "") -> FimTemplate:
    """The template named by `override`, else the one whose `match` fits the GGUF metadata best.
    Templates are looked up as `fim_templates` says; a user template that cannot be used is logged.

    Metadata keys used: general.architecture, general.name, general.basename, tokenizer.ggml.pre.
    The longest matching pattern wins (so "codegemma" beats "gemma"); no match gives plain PSM.
    """
    templates, warnings = fim_templates(prompts_dir)
    for warning in warnings:
        log.warning("%s", warning)
    if override:
        if override not in templates:
            raise KeyError(f"unknown FIM template {override!r}; known: {', '.join(sorted(templates))}")
        return templates[override]
    haystack = " ".join(
        str(metadata.get(k, "")) for k in ("general.architecture", "general.name", "general.basename", "tokenizer.ggml.pre")
    ).lower()
    best, best_len = templates.get(GENERIC) or _load(package_file("prompts", "fim", f"{GENERIC}.toml")), 0
    for template in templates.values():
        for pattern in template.match:
            m = re.search(pattern, haystack)
            if m and len(pattern) > best_len:
                best, best_len = template, len(pattern)
    return best
