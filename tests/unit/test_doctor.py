"""The doctor's sizing arithmetic: measured rates in, latencies and recommendations out."""

from __future__ import annotations

import pytest

from lsp_server.cli.doctor import (
    KNOWN,
    SCENARIOS,
    MachineRates,
    best_settings,
    hardware_needed,
    latency_ms,
    max_tokens_for,
    partial_after_advice,
    report,
    scale,
)

# The reference machine's figures from MODELS.md (idle, 2 cores).
R15 = MachineRates("1.5B", prompt_tps=100.0, gen_tps=28.0, file_bytes=KNOWN["1.5B"][1], params_b=1.54)
R05 = MachineRates("0.5B", prompt_tps=230.0, gen_tps=44.0, file_bytes=KNOWN["0.5B"][1], params_b=0.49)
FAST = MachineRates("fast", prompt_tps=2000.0, gen_tps=200.0)


@pytest.mark.parametrize(
    "rates, recomputed, generated, expected_ms",
    [
        (R15, 16, 8, 16 / 100 * 1000 + 8 / 28 * 1000 + 30),  # ~476 ms: a warm one-line keystroke
        (R15, 2000, 8, 2000 / 100 * 1000 + 8 / 28 * 1000 + 30),  # ~20.3 s: cold
        (R05, 16, 8, 16 / 230 * 1000 + 8 / 44 * 1000 + 30),  # ~282 ms
        (FAST, 0, 0, 30),  # overhead only
    ],
)
def test_latency(rates, recomputed, generated, expected_ms):
    assert latency_ms(rates, recomputed, generated) == pytest.approx(expected_ms)


@pytest.mark.parametrize(
    "rates, target_ms, expected",
    [
        (R15, 300, None),  # nothing cold fits 300 ms on 2 cores
        (R15, 1000, None),  # 128+32+8 tokens at 100/s = 1.68 s + generation > 1 s
        (R15, 3000, (128, 32, 16)),
        (R05, 3000, (256, 64, 32)),  # 328 tokens / 230 = 1.43 s + 0.18 s
        (FAST, 1000, (1024, 256, 128)),  # 1288 / 2000 = 0.64 s + 0.04 s
        (FAST, 300, (256, 64, 32)),
    ],
)
def test_best_settings(rates, target_ms, expected):
    assert best_settings(rates, target_ms) == expected


@pytest.mark.parametrize(
    "rates, target_ms, expected",
    [
        (R15, 300, 3),  # (300 - 30 - 160) ms * 28 tok/s
        (R15, 1000, 22),
        (R05, 300, 8),  # (300 - 30 - 70) ms * 44 tok/s
        (MachineRates("slow", 10.0, 5.0), 1000, 0),  # 16 tokens at 10/s already take 1.6 s
    ],
)
def test_max_tokens_for(rates, target_ms, expected):
    assert max_tokens_for(rates, target_ms) == expected


@pytest.mark.parametrize(
    "size, prompt_tps, gen_tps",
    [
        ("3B", 100.0 * 1.54 / 3.09, 28.0 * 1_117_320_768 / 1_930_000_000),
        ("7B", 100.0 * 1.54 / 7.62, 28.0 * 1_117_320_768 / 4_680_000_000),
    ],
)
def test_scale(size, prompt_tps, gen_tps):
    est = scale(R15, size)
    assert est.estimated
    assert est.prompt_tps == pytest.approx(prompt_tps)
    assert est.gen_tps == pytest.approx(gen_tps)


@pytest.mark.parametrize(
    "size, target_ms, cores, speedup_gt, speedup_lt, min_cores",
    [
        ("3B", 3000, 2, 0.0, 1.0, 2),  # a warm keystroke of the 3B fits 3 s today
        ("3B", 300, 2, 2.0, 6.0, 5),
        ("7B", 300, 2, 5.0, 15.0, 11),
        ("7B", 1000, 4, 1.0, 4.0, 5),
    ],
)
def test_hardware_needed(size, target_ms, cores, speedup_gt, speedup_lt, min_cores):
    need = hardware_needed(scale(R15, size), size, target_ms, cores, SCENARIOS[0])
    assert speedup_gt < need.speedup < speedup_lt
    assert need.cores >= min_cores
    assert need.memory_gb > KNOWN[size][1] / 1e9
    assert need.bandwidth_gbs > 0


@pytest.mark.parametrize(
    "rates, expected",
    [
        (R15, 500),  # a block: 0.16 + 1.71 s; a line is ready after ~476 ms
        (R05, 300),  # a block: ~1.2 s; a line after ~282 ms
        (FAST, None),  # a block in ~0.3 s: nothing to advise
        (MachineRates("slow", 50.0, 8.0), 1400),  # a line after 0.32 + 1.0 + 0.03 s
    ],
)
def test_partial_after_advice(rates, expected):
    assert partial_after_advice(rates) == expected


def test_report_names_models_targets_and_the_estimate():
    text = report(2, {"MemTotal": 8 << 30, "MemAvailable": 6 << 30}, [R15, R05], 0.5)
    for needle in ("1.5B", "0.5B", "3B", "7B", "target 300 ms", "target 3.0 s", "estimate", "GB/s", "partialAfterMs to 500"):
        assert needle in text


def test_report_without_models_says_how_to_install():
    assert "pip install" in report(2, {}, [], 0.0)
