"""Helpers shared by the test tiers (tiny model generation, LSP client plumbing)."""
