"""Typed settings with defaults, and the one converter that reads them from the client.

Owns the `Settings` type (camelCase on the wire, every field defaulted) and `parse_settings`,
which never raises: unknown keys and values of the wrong type are reported back as warnings and
replaced by their defaults, so a typo in an editor's config cannot take the server down.
"""

from __future__ import annotations

from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override


@attrs.frozen
class Settings:
    model_path: str = ""
    model: str = attrs.field(default="default", validator=attrs.validators.in_(("default", "small")))
    fim_template: str = ""
    max_tokens: int = attrs.field(default=128, validator=[attrs.validators.ge(1), attrs.validators.le(4096)])
    # 0 turns the budget off (benchmarks use that for load-independent results)
    latency_target_ms: int = attrs.field(default=2000, validator=attrs.validators.or_(attrs.validators.in_((0,)), attrs.validators.ge(100)))
    prefix_tokens: int = attrs.field(default=1024, validator=[attrs.validators.ge(16), attrs.validators.le(32768)])
    suffix_tokens: int = attrs.field(default=256, validator=[attrs.validators.ge(0), attrs.validators.le(32768)])
    context_size: int = attrs.field(default=4096, validator=[attrs.validators.ge(256), attrs.validators.le(131072)])
    disabled_languages: tuple[str, ...] = ()
    threads: int = attrs.field(default=0, validator=[attrs.validators.ge(0), attrs.validators.le(256)])
    client_shows_explanations: bool = False
    reuse_shifted_cache: bool = True
    # A completion whose request the client cancels because the user typed on goes on while what
    # the user types is what it is generating; its result then serves the next request.
    follow_typing: bool = True
    # A completion still generating after this long is shown with the lines it has, and the rest
    # is finished for the next request at the cursor (accepting or typing on); 0: off.
    partial_after_ms: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    # Off by default: a precomputed prompt for "suggestion accepted" can move the prefix window's
    # anchor and evict the KV cache of the real next keystroke (measured on a 4k-token file).
    precompute_next: bool = False
    # Off by default: most editors already get syntax errors from the language's own server.
    publish_syntax_errors: bool = False
    # A folder with the package's prompts/ layout (prompts/fim/*.toml, prompts/chat/*.toml) whose
    # files replace the shipped templates of the same name, before the user config folder's.
    prompts_dir: str = ""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


converter = cattrs.Converter(forbid_extra_keys=False)
_FIELDS = {f.name: _camel(f.name) for f in attrs.fields(Settings)}
converter.register_structure_hook(
    Settings,
    make_dict_structure_fn(Settings, converter, **{n: override(rename=c) for n, c in _FIELDS.items()}),
)
converter.register_unstructure_hook(
    Settings,
    make_dict_unstructure_fn(Settings, converter, **{n: override(rename=c) for n, c in _FIELDS.items()}),
)

_STRICT_TYPES: dict[str, type | tuple[type, ...]] = {
    "model_path": str, "model": str, "fim_template": str, "max_tokens": int, "latency_target_ms": int,
    "prefix_tokens": int, "suffix_tokens": int, "context_size": int, "disabled_languages": (list, tuple),
    "threads": int, "client_shows_explanations": bool, "reuse_shifted_cache": bool, "follow_typing": bool, "partial_after_ms": int,
    "precompute_next": bool, "publish_syntax_errors": bool, "prompts_dir": str,
}


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Client options -> Settings, plus one warning per key that was ignored and why.

    Keys are camelCase; a value of the wrong type or out of range keeps the base value.
    """
    base = base or Settings()
    if raw is None:
        return base, []
    if not isinstance(raw, dict):
        return base, [f"settings must be an object, got {type(raw).__name__}; using defaults"]
    by_wire = {c: n for n, c in _FIELDS.items()}
    warnings: list[str] = []
    values = converter.unstructure(base)
    for key, value in raw.items():
        name = by_wire.get(key)
        if name is None:
            warnings.append(f"unknown setting {key!r} ignored")
            continue
        expected = _STRICT_TYPES[name]
        if isinstance(value, bool) and expected is int or not isinstance(value, expected):
            warnings.append(f"setting {key!r} has the wrong type ({type(value).__name__}); keeping {values[key]!r}")
            continue
        if name == "disabled_languages" and not all(isinstance(v, str) for v in value):
            warnings.append(f"setting {key!r} must be a list of strings; keeping {values[key]!r}")
            continue
        candidate = dict(values, **{key: value})
        try:
            converter.structure(candidate, Settings)
        except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
            warnings.append(f"setting {key!r} = {value!r} is out of range ({_reason(exc)}); keeping {values[key]!r}")
            continue
        values = candidate
    return converter.structure(values, Settings), warnings


def _reason(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc.args[0]) if exc.args else str(exc)
