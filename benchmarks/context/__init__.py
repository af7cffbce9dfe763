"""Benchmarks of the workspace index and context selection (no model)."""
