"""`local-llm-lsp doctor --backend llama-server|openai --url URL`: check a remote engine.

Owns the checks, in order, each printed as it is made: reachability (and the API key), the model
it serves, its FIM tokens (those the chosen FIM template needs), how tokenization is done and
what a round trip costs, and the latency of a short FIM completion (the median of a few; the
first is cold, the rest on the engine's warm prompt cache). Uses the worker's own `RemoteEngine`,
so the doctor sees what the worker would. Must not start the language server or the worker.
"""

from __future__ import annotations

import statistics
import time

from lsp_server.context.templates import choose_template
from lsp_server.worker.engine.stats import EvalStats
from lsp_server.worker.remote import RemoteError, open_remote

PREFIX = "def fibonacci(n):\n    if n < 2:\n        return n\n    return "
SUFFIX = "\n\n\nprint(fibonacci(10))\n"
RUNS = 4  # the first is cold
GEN_TOKENS = 16


def fim_tokens(engine, template) -> list[int]:
    """A plain PSM prompt of PREFIX and SUFFIX in the model's role tokens."""
    roles = engine.info.roles
    return ([roles["fim_pre"]] + engine.tokenize(PREFIX) + [roles["fim_suf"]] + engine.tokenize(SUFFIX)
            + [roles["fim_mid"]])


def run(args) -> int:
    def say(text: str) -> None:
        print(text, flush=True)

    say(f"backend {args.backend} at {args.url}")
    t0 = time.perf_counter()
    try:
        engine = open_remote(args.backend, args.url, model=args.remote_model or "", api_key_env=args.api_key_env or "",
                             api_key_file=args.api_key_file or "", ca_bundle=args.ca_bundle or "",
                             timeout_ms=args.timeout_ms, vocab_path=args.vocab or "")
    except RemoteError as exc:
        say(f"  FAIL  reachable: {exc}")
        return 1
    try:
        say(f"  ok    reachable{', the API key accepted' if args.api_key_env or args.api_key_file else ''} ({(time.perf_counter() - t0) * 1000:.0f} ms to connect and describe)")
        info = engine.info
        say(f"  ok    model: {info.name} (context {info.n_ctx} tokens per slot)")
        template = choose_template(info.metadata, args.template or "")
        missing = template.roles_needed(False) - set(info.roles)
        if missing:
            say(f"  FAIL  FIM: the model lacks {', '.join(sorted(missing))} (template {template.name}); it cannot "
                "complete code: serve a FIM code model such as Qwen2.5-Coder")
            return 1
        say(f"  ok    FIM tokens: {', '.join(f'{r}={t}' for r, t in sorted(info.roles.items()))} (template {template.name})")
        t1 = time.perf_counter()
        engine.tokenize(PREFIX + "#" + str(t1))  # a text not cached
        how = f"local vocabulary of {args.vocab}" if args.vocab else "the engine's /tokenize"
        say(f"  ok    tokenizer: {how}, {(time.perf_counter() - t1) * 1000:.1f} ms per text")
        prompt = fim_tokens(engine, template)
        times, firsts, text = [], [], ""
        for _ in range(RUNS):
            stats, first = EvalStats(), None
            start = time.perf_counter()
            pieces = []
            for piece in engine.generate(prompt, max_tokens=GEN_TOKENS, cancelled=lambda: False, stats=stats):
                first = first or time.perf_counter()
                pieces.append(piece)
            times.append((time.perf_counter() - start) * 1000)
            firsts.append(((first or time.perf_counter()) - start) * 1000)
            text = "".join(pieces)
        say(f"  ok    a {GEN_TOKENS}-token completion: cold {times[0]:.0f} ms; warm median {statistics.median(times[1:]):.0f} ms "
            f"(first piece after {statistics.median(firsts[1:]):.0f} ms); it wrote {text!r}")
    except RemoteError as exc:
        say(f"  FAIL  {exc}")
        return 1
    finally:
        engine.close()
    return 0
