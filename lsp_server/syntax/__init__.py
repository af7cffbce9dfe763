"""Syntax: the language registry (grammar wheels), gating and truncation built on tree-sitter."""
