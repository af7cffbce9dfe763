"""Robustness benchmarks: hostile traffic and faults against the real server, with recorded figures."""
