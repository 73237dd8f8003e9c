"""Merging a LoRA adapter into a loaded base model: the check, then ``peft``'s merge.

A generator adapter is a folder written by ``python -m workbench finetune generator --lora-r R
--adapter`` (``adapter_config.json``, ``adapter_model.safetensors`` and a ``meta.json``
manifest naming the base model and the hash of its weights). :func:`merge_adapter` checks the
manifest against the base it is given (:func:`~workbench.finetune.generator_manifest.check_adapter_dir`),
loads the adapter with ``peft`` and merges it into the weights (``merge_and_unload``), so that
generating costs exactly what the plain base costs.

It knows peft and adapter folders; it does not know prompts, settings or gradio. peft is
imported inside the function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import GenerationError
from workbench.finetune.generator_manifest import check_adapter_dir


def merge_adapter(model: Any, adapter: str | Path, *, base_model: str,
                  base_source: str | Path) -> tuple[Any, dict[str, Any]]:
    """``(merged model, adapter manifest)``: ``adapter`` checked against the base, then merged.

    Args:
        model: the base, as loaded (a transformers causal LM).
        adapter: the adapter folder.
        base_model: the name the base was asked for (``smollm2-135m-instruct``, a Hub id, a folder).
        base_source: where the base's weights were read from (see :func:`~workbench.finetune.generator_manifest.base_weights`).

    Raises:
        GenerationError: the manifest does not fit the base or the adapter's files (naming what
            differs), or peft cannot load it.
    """
    meta = check_adapter_dir(adapter, base_model=base_model, base_source=base_source)
    try:
        from peft import PeftModel

        merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    except Exception as exc:  # peft raises ValueError/KeyError/RuntimeError on a mismatched adapter
        raise GenerationError(f"{adapter}: cannot apply the adapter to {base_model!r} "
                              f"({type(exc).__name__}: {exc})") from None
    return merged, meta
