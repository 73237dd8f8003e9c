"""The manifest of a fine-tuned generator folder: what it records, and the check on every load.

:func:`workbench.finetune_generator.finetune_generator` writes a ``meta.json`` (base model,
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
from workbench.model_manifest import MARKER_KEY, check_finetuned_dir

#: Bumped whenever the manifest's fields or the folder layout change meaning.
SCHEMA_VERSION = 1
KIND = "finetuned-generator"
#: How to fix a broken fine-tuned folder.
REFINETUNE = "fine-tune again with: python -m workbench finetune generator ..."
#: :data:`~workbench.model_manifest.MARKER_KEY` goes into the model's ``config.json`` so that a
#: fine-tuned folder whose manifest was deleted is recognised (re-exported for the fine-tune).
__all__ = ["KIND", "MARKER_KEY", "REFINETUNE", "SCHEMA_VERSION", "check_generator_dir"]


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
