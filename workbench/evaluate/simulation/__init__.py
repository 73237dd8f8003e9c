"""Interactive evaluation with a simulated user (iEvaLM), on ReDial.

``protocol`` (the engine and a simulated user talk for a few rounds; Recall@k per round, asking
engine vs its never-asking control), ``attribute`` (the deterministic user who answers from the
target's catalogue facts) and ``llm`` (the user played by a language model, redacted so it never
names the target). Importing this package imports nothing else.
"""
