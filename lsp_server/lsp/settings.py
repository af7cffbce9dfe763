"""Typed settings with defaults, and the one converter that reads them from the client.

Owns the `Settings` type (camelCase on the wire, every field defaulted) and `parse_settings`,
which never raises: unknown keys and values of the wrong type are reported back as warnings and
replaced by their defaults, so a typo in an editor's config cannot take the server down.

`Settings` is the one description of the settings: each field carries its type, default, the
values it accepts (`choices`, `minimum`, `maximum`, `off`: these make its validator) and its
`doc`; the tables in README.md and docs/PROTOCOL.md and the VS Code schema are rendered from
them (`settings_docs`). Must not know about editors or files.
"""

from __future__ import annotations

import typing
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

v = attrs.validators  # short: every field below uses it


def setting(default: Any, doc: str, *, choices: tuple = (), minimum: int | None = None, maximum: int | None = None,
            off: int | None = None, machine: bool = False, client: bool = False) -> Any:
    """An attrs field with its description and accepted values in its metadata.

    `off`: one value below `minimum` that is accepted too (0 for "turned off"). `machine`: a
    property of the machine the server runs on (a path), kept per machine by editors that have
    remote windows. `client`: set by the editor client about itself, not a user's choice.
    """
    bounds = [b for b in (minimum is not None and v.ge(minimum), maximum is not None and v.le(maximum)) if b]
    in_range = v.and_(*bounds) if len(bounds) > 1 else bounds[0] if bounds else None
    if in_range is not None and off is not None:
        in_range = v.or_(v.in_((off,)), in_range)
    validators = [check for check in (choices and v.in_(choices), in_range) if check]
    metadata = {"doc": doc, "choices": choices, "minimum": minimum, "maximum": maximum, "off": off,
                "machine": machine, "client": client}
    return attrs.field(default=default, validator=validators or None, metadata=metadata)


@attrs.frozen
class Settings:
    model_path: str = setting(
        "", "a GGUF file (`~` is expanded); empty: the bundled model chosen by `model`. The command line's "
        "`--model` wins over it", machine=True)
    model: str = setting(
        "default", "which bundled model to load when `modelPath` is empty: `default` (Qwen2.5-Coder 1.5B) or "
        "`small` (0.5B: half the memory, faster, much weaker)", choices=("default", "small"))
    fim_template: str = setting(
        "", "force a FIM prompt template, by the `name` in its file in `lsp_server/prompts/fim/` (e.g. "
        "`qwen2.5-coder`); empty: chosen from the GGUF metadata")
    max_tokens: int = setting(128, "upper bound of tokens generated per suggestion", minimum=1, maximum=4096)
    latency_target_ms: int = setting(
        2000, "time budget per suggestion in milliseconds: what is left of it once the prompt is computed, "
        "but never less than twice what the prompt took, buys tokens at the speed measured on this machine, and "
        "generation stops at the end of the line in which it runs out; so a suggestion after a cold prompt "
        "is completed rather than cut short. A prompt that would take more than half of it at this machine's "
        "measured speed (a newly opened file, a jump elsewhere) is answered from a small window around the cursor, "
        "and the full one is computed ahead, while idle and in what is left of the target after each such answer "
        "(0: off, always the full prompt)", minimum=100, off=0)
    prefix_tokens: int = setting(1024, "prompt window before the cursor, in the model's own tokens",
                                 minimum=16, maximum=32768)
    suffix_tokens: int = setting(
        256, "prompt window after the cursor, in the model's own tokens; an engine that computes it again at every "
        "keystroke (a remote backend, or `reuseShiftedCache` off) gets only what half of `latencyTargetMs` computes "
        "at its measured speed (at least 32 tokens)", minimum=0, maximum=32768)
    context_size: int = setting(4096, "the context size llama.cpp allocates, in tokens", minimum=256, maximum=131072)
    disabled_languages: tuple[str, ...] = setting(
        (), "the `languageId`s that get no suggestions, e.g. `[\"markdown\", \"c\"]`")
    threads: int = setting(0, "the threads llama.cpp computes with (0: the cores this process may run on, at most 8)",
                           minimum=0, maximum=256)
    client_shows_explanations: bool = setting(
        False, "set by an editor client that displays the result of `localLlm.explain` itself; the server then "
        "does not also send it as `window/showMessage`", client=True)
    reuse_shifted_cache: bool = setting(
        True, "on a keystroke, move the FIM suffix's KV entries instead of recomputing them, all but the first 8 "
        "(moving those changes the suggestion); the moved ones are recomputed while the worker is idle, and "
        "after 64 typed tokens at the latest")
    # A completion whose request the client cancels because the user typed on goes on while what
    # the user types is what it is generating; its result then serves the next request.
    follow_typing: bool = setting(
        True, "when the editor cancels a request because you typed on, the model goes on as long as what you "
        "type is what it is writing (it stops at the first character that differs, or 0.1 s after the cancel "
        "if nothing was typed); the next request then gets the rest at once")
    # A completion still generating after this long is shown with the lines it has, and the rest
    # is finished for the next request at the cursor (accepting or typing on); 0: off.
    partial_after_ms: int = setting(
        0, "a suggestion still being generated this many milliseconds after its request reached the model is "
        "shown with the complete lines it has; the model goes on, and accepting those lines (or typing them) "
        "gets the rest at once. For slow machines, where a multi-line suggestion takes seconds "
        "(`local-llm-lsp doctor` says when, and what value); needs `followTyping` (0: off)", minimum=0)
    # Off by default: a precomputed prompt for "suggestion accepted" can move the prefix window's
    # anchor and evict the KV cache of the real next keystroke (measured on a 4k-token file).
    precompute_next: bool = setting(
        False, "while a suggestion is shown, compute the one that follows its acceptance (can evict the KV "
        "cache on files larger than the prefix window)")
    prefill: bool = setting(
        True, "when the editor shows the server a place in a file before you type there (VS Code asks for code "
        "actions wherever the cursor goes; the Neovim client says where the cursor rests), the model computes "
        "the prompt for that place while it is idle, beside the one in use, so that the first suggestion there "
        "does not wait for it")
    # Off by default: most editors already get syntax errors from the language's own server.
    publish_syntax_errors: bool = setting(
        False, "publish the server's own tree-sitter syntax errors (ERROR and MISSING nodes) as diagnostics "
        "with source `local-llm-lsp`, 0.8 s after typing stops; cleared on close or when turned off. For "
        "editors with no other language server for the file")
    wait_for_model_ms: int = setting(
        30000, "a suggestion asked for while the model is still loading (or its worker restarting) waits up to "
        "this many milliseconds and is answered once the model is ready; the editor's cancel still ends it "
        "(0: answered empty at once)", minimum=0, maximum=600000)
    workspace_index: bool = setting(
        True, "index the workspace folders in the background (the definitions and imports of their source files, "
        "honouring `.gitignore`), so that completions can see what the code at the cursor imports; off: nothing is "
        "read beyond the open documents")
    index_max_files: int = setting(
        20000, "the most source files the workspace index reads per folder (a larger folder, such as a home "
        "folder, is indexed up to this many files, shallowest first, with a warning)", minimum=1, maximum=1000000)
    index_max_file_bytes: int = setting(
        1000000, "files larger than this many bytes are left out of the workspace index", minimum=1000,
        maximum=100000000)
    context_tokens: int = setting(
        1024, "the tokens of the prompt given to definitions from other files and similar code from recent files and "
        "the workspace "
        "(`localLlm.context` shows what a position gets; 0: none)", minimum=0, maximum=32768)
    # On: the repository-level benchmark measured more exact matches with it in Python, and typing
    # with it costs no keystroke latency (benchmarks/RESULTS.md, "Repository context while typing").
    cross_file_context: bool = setting(
        True, "put the workspace context of the cursor (definitions its code uses from other files, similar code "
        "from recent files and the workspace; up to `contextTokens`) into completion prompts of the languages in "
        "`crossFileContextLanguages`, in the model's repository-level form where it has one; a changed context is "
        "computed while the model is idle, the previous one answering meanwhile; it is held while the cursor stays in "
        "one function (false: no language gets it)")
    # The languages where the repository-level benchmark measured the context raising exact matches,
    # API hits or edit similarity on the holes that are their file's first use of an API
    # (benchmarks/RESULTS.md, issue 19): Python, C (and C++, whose includes work alike), JavaScript,
    # TypeScript (since the windows of the workspace; with definitions alone all three fell there).
    cross_file_context_languages: tuple[str, ...] = setting(
        ("python", "c", "cpp", "javascript", "typescript"),
        "the `languageId`s whose completions get the workspace context when `crossFileContext` is on "
        "(`[\"*\"]`: every language); by default those where it was measured to help the bundled model "
        "(Python, C, JavaScript, TypeScript, and C++ whose includes work as C's)")
    prompts_dir: str = setting(
        "", "a folder holding `prompts/fim/*.toml` and `prompts/chat/*.toml` (as the package does) whose files replace "
        "the shipped templates of the same name (and add FIM templates), before those in the user config "
        "folder (`~/.config/local-llm-lsp/prompts/`); a broken file gives a warning and the shipped one is used",
        machine=True)
    backend: str = setting(
        "embedded", "where the model runs: `embedded` (llama.cpp in the server's own worker process; no socket is "
        "opened), `llama-server` (llama.cpp's server at `backendUrl`) or `openai` (an OpenAI-compatible "
        "`/v1/completions` server at `backendUrl`: vLLM, llama-server's `/v1`, LM Studio, Ollama). With a remote "
        "backend, `modelPath` (if set) is a local copy of the served GGUF, used only for its vocabulary; see "
        "docs/team-server.md", choices=("embedded", "llama-server", "openai"))
    backend_url: str = setting("", "the remote engine's address, e.g. `http://gpu-box:8012` (no path)", machine=True)
    backend_model: str = setting(
        "", "the model name sent to an `openai` backend (empty: the first it serves)")
    backend_api_key_env: str = setting(
        "", "the name of an environment variable of the server's process holding the remote engine's API key "
        "(the key itself is never a setting)", machine=True)
    backend_api_key_file: str = setting(
        "", "a file whose first line is the remote engine's API key (used when `backendApiKeyEnv` is empty)",
        machine=True)
    backend_ca_bundle: str = setting(
        "", "a PEM file of CA certificates trusted for an `https` `backendUrl`, besides the system's", machine=True)
    backend_timeout_ms: int = setting(
        10000, "how long a remote engine may take to connect, or between two pieces of an answer, in milliseconds",
        minimum=100, maximum=600000)
    language: str = setting(
        "", "the language of explanations, fix descriptions, comment translations and the server's messages, as "
        "a locale tag (`ja`, `ja-JP`, `en`); empty: the editor's locale (`initialize`'s `locale`), else English. "
        "Messages are translated into English and Japanese; the model answers in any language it knows")


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

_PLURALS = {str: "strings", int: "integers", bool: "booleans"}


def _json_types(tp: Any) -> tuple[tuple[type, ...], type | None]:
    """A field's type -> the JSON value types accepted for it and, for a list, its items' type."""
    if typing.get_origin(tp) is tuple:
        return (list, tuple), typing.get_args(tp)[0]
    return (tp,), None


_STRICT_TYPES = {f.name: _json_types(f.type) for f in attrs.fields(attrs.resolve_types(Settings))}


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
        expected, item = _STRICT_TYPES[name]
        if not _is_a(value, expected):
            warnings.append(f"setting {key!r} has the wrong type ({type(value).__name__}); keeping {values[key]!r}")
            continue
        if item is not None and not all(_is_a(x, (item,)) for x in value):
            warnings.append(f"setting {key!r} must be a list of {_PLURALS[item]}; keeping {values[key]!r}")
            continue
        candidate = dict(values, **{key: value})
        try:
            converter.structure(candidate, Settings)
        except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
            warnings.append(f"setting {key!r} = {value!r} is out of range ({_reason(exc)}); keeping {values[key]!r}")
            continue
        values = candidate
    return converter.structure(values, Settings), warnings


def _is_a(value: Any, types: tuple[type, ...]) -> bool:
    """isinstance, except that JSON's true and false are not integers."""
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc.args[0]) if exc.args else str(exc)
