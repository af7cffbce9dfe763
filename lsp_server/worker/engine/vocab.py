"""The loaded model's vocabulary and metadata: token ids, token texts, what the model is.

Owns tokenizing (the user's text never turns into special tokens), token texts, end-of-generation
and BOS ids, the FIM role token ids, and `ModelInfo` (name, architecture, context sizes, FIM
roles, metadata) read from the GGUF file. Reads llama-cpp-python only through public API: the
`Llama` object's methods and attributes, and the low-level `llama_vocab_*` / `llama_model_*`
functions on `Llama.model`. Must not touch the KV cache or generate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class ModelInfo:
    path: str
    name: str
    architecture: str
    n_ctx: int
    n_ctx_train: int
    n_vocab: int
    roles: dict[str, int]
    metadata: dict[str, str] = field(default_factory=dict)
    has_chat_template: bool = False


class Vocabulary:
    """The vocabulary of `llm` (a loaded `llama_cpp.Llama`)."""

    def __init__(self, llm) -> None:
        import llama_cpp  # deferred: a heavy import, needed only where a model is loaded

        self._lib = llama_cpp
        self.llm = llm
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self.n_vocab = llm.n_vocab()
        self.bos = llm.token_bos()
        self.roles = self._read_roles()

    def _read_roles(self) -> dict[str, int]:
        lib, roles = self._lib, {}
        for role, fn in (
            ("fim_pre", lib.llama_vocab_fim_pre), ("fim_suf", lib.llama_vocab_fim_suf),
            ("fim_mid", lib.llama_vocab_fim_mid), ("fim_pad", lib.llama_vocab_fim_pad),
            ("fim_rep", lib.llama_vocab_fim_rep), ("fim_sep", lib.llama_vocab_fim_sep),
        ):
            tok = fn(self._vocab)
            if tok is not None and tok >= 0:
                roles[role] = int(tok)
        return roles

    def info(self, path: str, n_ctx: int) -> ModelInfo:
        """What the model is, for the worker's `loaded` event (`n_ctx`: the context in use)."""
        meta = {k: str(v) for k, v in self.llm.metadata.items() if not k.startswith("tokenizer.ggml.") or k.endswith(".pre")}
        return ModelInfo(
            path=path,
            name=meta.get("general.name", os.path.basename(path)),
            architecture=meta.get("general.architecture", ""),
            n_ctx=n_ctx,
            n_ctx_train=self._lib.llama_model_n_ctx_train(self.llm.model),
            n_vocab=self.n_vocab,
            roles=self.roles,
            metadata={k: v for k, v in meta.items() if len(v) < 200},
            has_chat_template="tokenizer.chat_template" in self.llm.metadata,
        )

    def tokenize(self, text: str) -> list[int]:
        """The user's text as tokens; special-token texts in it stay plain text (no injection)."""
        if not text:
            return []
        return self.llm.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=False, special=False)

    def tokenize_special(self, text: str) -> list[int]:
        """A prompt template's text as tokens: special-token texts in it become those tokens."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def piece(self, token: int) -> bytes:
        return self.llm.detokenize([token], special=False)

    def is_eog(self, token: int) -> bool:
        return bool(self._lib.llama_vocab_is_eog(self._vocab, token))
