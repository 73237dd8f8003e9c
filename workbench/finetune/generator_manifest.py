"""The manifest of a fine-tuned generator folder: what it records, and the check on every load.

:func:`workbench.finetune.generator.finetune_generator` writes a ``meta.json`` (base model,
method, rows, data hash, steps, seed, held-out conversations, the sha256 of every weight file,
package versions, and whether the app primes the model's replies) into the folder it saves, and a
``workbench_manifest`` marker into the model's ``config.json`` (transformers keeps unknown
config keys), so a fine-tune whose manifest was deleted is still recognised.
:func:`check_generator_dir` verifies it whenever the app (``WORKBENCH_GENERATOR_MODEL``),
``eval replies`` or another fine-tune loads such a folder: a missing, unreadable or edited
manifest, or weights that differ from what it records, fail with a message naming the file.
Any other model folder (a Hub download, the converted bundled SmolLM2) passes unchecked.

It knows files and hashes; it does not train, load models, or know prompts or gradio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import GenerationError
from workbench.finetune.model_manifest import MARKER_KEY, check_finetuned_dir

#: Bumped whenever the manifest's fields or the folder layout change meaning.
SCHEMA_VERSION = 1
KIND = "finetuned-generator"
#: The manifest kind of a LoRA adapter folder (``finetune generator --adapter``).
ADAPTER_KIND = "generator-adapter"
#: How to fix a broken fine-tuned folder.
REFINETUNE = "fine-tune again with: python -m workbench finetune generator ..."
#: :data:`~workbench.finetune.model_manifest.MARKER_KEY` goes into the model's ``config.json`` so that a
#: fine-tuned folder whose manifest was deleted is recognised (re-exported for the fine-tune).
__all__ = ["ADAPTER_KIND", "KIND", "MARKER_KEY", "REFINETUNE", "SCHEMA_VERSION", "base_weights",
           "check_adapter_dir", "check_generator_dir"]
#: The fields an adapter's manifest must have.
ADAPTER_FIELDS = ("kind", "schema_version", "base_model", "base_weights", "method", "rows", "data_hash", "steps",
                  "seed", "lora_r", "weights")


def check_generator_dir(directory: str | Path) -> dict[str, Any] | None:
    """Verify a fine-tuned generator folder's manifest and weights; ``None`` for any other model.

    Raises:
        GenerationError: the manifest is missing, unreadable, of another kind or schema, or its
            weight hashes do not match the files (naming the manifest and the file).
    """
    return check_finetuned_dir(
        directory, kind=KIND, schema_version=SCHEMA_VERSION, config_name="config.json",
        error=GenerationError, fix=REFINETUNE, what="fine-tuned generator",
        required=("kind", "schema_version", "base_model", "method", "rows", "data_hash", "weights"),
    )


def check_adapter_dir(directory: str | Path, *, base_model: str, base_source: str | Path) -> dict[str, Any]:
    """Verify a LoRA adapter folder against the base it is about to be merged into.

    ``base_model`` is the name the base was asked for and ``base_source`` where its weights were
    read from (:func:`base_weights` identifies them). A base read from a Hub id (no local files to
    hash, e.g. on a Space without the bundled GGUF) is checked by name only.

    Returns:
        The adapter's manifest.

    Raises:
        GenerationError: the manifest is missing, unreadable or of another kind or schema; an
            adapter file changed; or the base differs from the one the adapter was trained on
            (the message names every field that differs, with both values).
    """
    from workbench.finetune.model_manifest import read_finetuned_manifest, verify_weights
    from workbench.manifest import mismatches

    path = Path(directory)
    if not path.is_dir():
        raise GenerationError(f"{path}: generator adapter folder not found; "
                              "train one with: python -m workbench finetune generator --lora-r R --adapter ...")
    meta = read_finetuned_manifest(path, kind=ADAPTER_KIND, schema_version=SCHEMA_VERSION, error=GenerationError,
                                   fix=REFINETUNE, what="generator adapter", required=ADAPTER_FIELDS)
    verify_weights(path, meta["weights"], GenerationError)
    actual = base_weights(base_source)
    expect: dict[str, Any] = {"base_model": base_model}
    if "hub_id" not in actual:
        expect["base_weights"] = actual
    problems = mismatches(meta, expect, "the adapter")
    if problems:
        raise GenerationError(f"{path}: the adapter does not fit this base ({base_source}): " + "; ".join(problems)
                              + f". Serve the base it was trained on, or train the adapter again: {REFINETUNE}")
    return meta


def base_weights(source: str | Path) -> dict[str, str]:
    """What identifies the weights an adapter was trained on, from where they were loaded:
    ``{"gguf_sha256": ...}`` for the bundled GGUF (its converted cache records the GGUF's hash),
    ``{"<file>": sha256, ...}`` for another local folder, ``{"hub_id": ...}`` for a Hub id."""
    import json

    from workbench.finetune.model_manifest import weight_hashes
    from workbench.manifest import MANIFEST

    path = Path(source)
    if path.is_file():
        import hashlib

        with open(path, "rb") as f:
            return {"gguf_sha256": hashlib.file_digest(f, "sha256").hexdigest()}
    if path.is_dir():
        try:
            converted = json.loads((path / MANIFEST).read_text(encoding="utf-8")).get("gguf_sha256")
        except (OSError, ValueError, AttributeError):
            converted = None
        return {"gguf_sha256": converted} if converted else weight_hashes(path)
    return {"hub_id": str(source)}
