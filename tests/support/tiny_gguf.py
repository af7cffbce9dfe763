"""Writes tiny random-weight GGUF models of a real architecture (qwen2) for fast tests.

The file is a real GGUF that llama.cpp loads through the same path as a real model: a byte-level
BPE vocabulary with Qwen2.5-Coder's special tokens (FIM and chat), FIM token ids in the metadata,
and random weights. The text it writes is noise, but it is shaped to be harmless noise: one
residual dimension is held constant and the output head uses it to favour identifier characters
and never end-of-text, so greedy decoding yields one long identifier (valid as an expression in
every tested language) until the token limit. `with_fim=False` writes a model without FIM tokens;
`layers`/`width` make a slower model for cancellation tests; `arch` writes the same tensors under
another architecture name (llama.cpp's `llama` reads them too; an unknown name does not load);
`chat_template` replaces the model's chat template (for template-injection tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
]

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _byte_chars() -> list[str]:
    """GPT-2's byte -> printable unicode map, in byte order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def write_tiny_qwen2(
    path: Path, *, with_fim: bool = True, layers: int = 2, width: int = 64, seed: int = 0, name: str = "tiny-qwen2-test",
    arch: str = "qwen2", chat_template: str = CHAT_TEMPLATE,
) -> Path:
    import gguf  # test dependency only

    rng = np.random.default_rng(seed)
    byte_tokens = _byte_chars()
    merges = ["Ġ Ġ", "ĠĠ ĠĠ", "r e", "re t", "ret u", "retu r", "retur n"]
    merged = ["ĠĠ", "ĠĠĠĠ", "re", "ret", "retu", "retur", "return"]
    specials = SPECIAL_TOKENS if with_fim else [t for t in SPECIAL_TOKENS if "fim" not in t and t not in ("<|repo_name|>", "<|file_sep|>")]
    tokens = byte_tokens + merged + specials
    types = [gguf.TokenType.NORMAL] * (len(byte_tokens) + len(merged)) + [gguf.TokenType.CONTROL] * len(specials)
    n_vocab = len(tokens)
    tid = {t: i for i, t in enumerate(tokens)}

    heads, ff = 4, width * 2
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(name)
    w.add_context_length(4096)
    w.add_embedding_length(width)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(heads)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_eos_token_id(tid["<|endoftext|>"])
    w.add_bos_token_id(tid["<|endoftext|>"])
    w.add_pad_token_id(tid["<|endoftext|>"])
    w.add_add_bos_token(False)
    w.add_chat_template(chat_template)
    if with_fim:
        w.add_uint32(gguf.Keys.Tokenizer.FIM_PRE_ID, tid["<|fim_prefix|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_SUF_ID, tid["<|fim_suffix|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_MID_ID, tid["<|fim_middle|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_PAD_ID, tid["<|fim_pad|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_REP_ID, tid["<|repo_name|>"])
        w.add_uint32(gguf.Keys.Tokenizer.FIM_SEP_ID, tid["<|file_sep|>"])

    def rand(*shape: int, scale: float | None = None) -> np.ndarray:
        scale = 1.0 / np.sqrt(shape[-1]) if scale is None else scale  # fan-in scaling keeps activations O(1)
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    # Residual dimension 0 is a constant carrier: embeddings set it, no block writes to it.
    emb = rand(n_vocab, width, scale=1.0)
    emb[:, 0] = 4.0 * np.sqrt(width)  # dominates the RMS norm at every layer
    w.add_tensor("token_embd.weight", emb)
    for i in range(layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(width, dtype=np.float32))
        for name_ in ("q", "k", "v"):
            w.add_tensor(f"blk.{i}.attn_{name_}.weight", rand(width, width))
            w.add_tensor(f"blk.{i}.attn_{name_}.bias", rand(width, scale=0.01))
        out = rand(width, width)
        out[0, :] = 0.0
        w.add_tensor(f"blk.{i}.attn_output.weight", out)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(width, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", rand(ff, width))
        w.add_tensor(f"blk.{i}.ffn_up.weight", rand(ff, width))
        down = rand(width, ff)
        down[0, :] = 0.0
        w.add_tensor(f"blk.{i}.ffn_down.weight", down)
    w.add_tensor("output_norm.weight", np.ones(width, dtype=np.float32))
    head = rand(n_vocab, width, scale=2.0 / np.sqrt(width))
    ident = set("abcdefghijklmnopqrstuvwxyz")
    for t, i in tid.items():
        head[i, 0] = 1.0 if t in ident else -3.0
    w.add_tensor("output.weight", head)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
