"""The tokenizer of a remote engine's model: the engine's own `/tokenize`, or the same GGUF's
vocabulary read locally.

Owns which tokenizer is used and why, caching tokenizations, and finding the FIM role token ids.
`LocalVocabulary` loads only the vocabulary of a GGUF file the user has (`modelPath` set beside a
remote backend; llama.cpp `vocab_only`, milliseconds, no weights): no round trip per tokenization,
and the roles, BOS and metadata come from the file exactly as the embedded engine reads them.
`ServerTokenizer` asks the engine (`/tokenize`, one round trip of about a millisecond on loopback,
more across a network, per text: the prompt builder tokenizes the prefix, suffix and each context
piece, so results are cached: the suffix and the context are mostly the same from one keystroke
to the next); the FIM role ids are then found by tokenizing the role texts llama.cpp itself
recognises (`ROLE_TEXTS`): a text that is one token with special parsing and several without is
that special token. Must not generate or know about prompts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

CACHE_ENTRIES = 1024  # tokenizations kept per tokenizer (texts of a few windows and context pieces)

# The special-token texts of each FIM role, as llama.cpp's vocabulary loader recognises them
# (llama-vocab.cpp); the first that is one special token of the model is its role id.
ROLE_TEXTS: dict[str, tuple[str, ...]] = {
    "fim_pre": ("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>"),
    "fim_suf": ("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>"),
    "fim_mid": ("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>"),
    "fim_pad": ("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"),
    "fim_rep": ("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"),
    "fim_sep": ("<|file_sep|>", "<fim-sep>", "<file_sep>", "<filename>"),
}


def find_roles(tokenize: Callable[[str, bool], list[int]]) -> dict[str, int]:
    """The FIM role ids of a model, from its tokenizer (`tokenize(text, special)`)."""
    roles: dict[str, int] = {}
    for role, texts in ROLE_TEXTS.items():
        for text in texts:
            ids = tokenize(text, True)
            if len(ids) == 1 and len(tokenize(text, False)) > 1:
                roles[role] = ids[0]
                break
    return roles


class ServerTokenizer:
    """Tokenizes on the engine (`post(path, body) -> dict`), with an LRU cache of the results.

    The body is understood by llama-server (`content`, `add_special`, `parse_special`) and by vLLM
    (`prompt`, `add_special_tokens`; vLLM always parses special-token texts, so a user's text that
    spells one becomes it there: give vLLM users `modelPath` for a local vocabulary)."""

    def __init__(self, post: Callable[[str, dict], dict], model: str = "") -> None:
        self._post, self._model = post, model
        self.round_trips = 0
        self._cached = functools.lru_cache(maxsize=CACHE_ENTRIES)(self._ask)

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return list(self._cached(text, special)) if text else []

    def _ask(self, text: str, special: bool) -> tuple[int, ...]:
        self.round_trips += 1
        body = {"content": text, "add_special": False, "parse_special": special,
                "prompt": text, "add_special_tokens": False}
        if self._model:
            body["model"] = self._model
        tokens = self._post("/tokenize", body).get("tokens")
        if not isinstance(tokens, list):
            raise ValueError("the engine's /tokenize answer has no token list")
        # llama-server answers ids, or {"id", "piece"} objects when asked `with_pieces`
        return tuple(t["id"] if isinstance(t, dict) else int(t) for t in tokens)


class LocalVocabulary:
    """The vocabulary of a local GGUF file (no weights): `vocab.Vocabulary` on a vocab-only load."""

    def __init__(self, path: str) -> None:
        import llama_cpp  # deferred: a heavy import, needed only when the user gives a local vocabulary

        from lsp_server.worker.engine.vocab import Vocabulary  # deferred with it: it imports llama_cpp too

        self.llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
        self.vocab = Vocabulary(self.llm)
        self._cached = functools.lru_cache(maxsize=CACHE_ENTRIES)(self._tokenize)

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return list(self._cached(text, special)) if text else []

    def _tokenize(self, text: str, special: bool) -> tuple[int, ...]:
        return tuple(self.vocab.tokenize_special(text) if special else self.vocab.tokenize(text))

    def close(self) -> None:
        self.llm.close()
