"""Fine-tuning: the retriever's embedder and the reply generator, and the manifests of their folders.

``retriever`` (sentence-transformers on (anchor, positive[, negative]) rows), ``generator`` (TRL SFT
or DPO, optionally LoRA), ``model_manifest`` (a fine-tuned model folder's ``meta.json`` and the
check on every load) and ``generator_manifest`` (the same for a generator or adapter folder).
Importing this package imports nothing else; torch, datasets, trl and peft load inside functions.
"""
