"""A chat rendered for the embedded engine: messages -> prompt text, with the model's own template.

Owns rendering messages ({"role", "content"} dicts) with the chat template in the GGUF (in
jinja2's sandbox, as llama-cpp-python does), ChatML when the model has none, and the error a
template that does not render gives. Must not tokenize or generate (the façade does).
"""

from __future__ import annotations


class ChatTemplateError(Exception):
    """The model's own chat template does not render (a syntax error, or refused by the sandbox)."""


def format_chat(llm, bos: int, messages: list[dict]) -> str:
    """Render messages with the model's own chat template (from the GGUF of `llm`, a loaded
    `llama_cpp.Llama`), ChatML if it has none."""
    template = llm.metadata.get("tokenizer.chat_template")
    if template:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # deferred: llama_cpp is a heavy import

        eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace")
        bos_text = llm.detokenize([bos], special=True).decode("utf-8", "replace") if bos >= 0 else ""
        import jinja2  # deferred, as above

        try:  # llama-cpp-python renders it in jinja2's ImmutableSandboxedEnvironment
            formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos_text, add_generation_prompt=True)
            return formatter(messages=messages).prompt
        except jinja2.TemplateError as exc:
            raise ChatTemplateError(f"the model's chat template cannot be used ({type(exc).__name__}: {exc}); "
                                    "a template from a model file runs in a sandbox, which refused it") from None
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"
