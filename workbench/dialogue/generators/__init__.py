"""Dialogue generators: template (default fallback), transformers (local causal LMs), OpenAI-compatible HTTP."""
