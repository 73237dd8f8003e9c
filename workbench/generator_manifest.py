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

import json
from pathlib import Path
from typing import Any

from workbench.errors import GenerationError
from workbench.manifest import MANIFEST
from workbench.manifest import read_manifest as _read_json_manifest
from workbench.model_manifest import verify_weights

#: Bumped whenever the manifest's fields or the folder layout change meaning.
SCHEMA_VERSION = 1
KIND = "finetuned-generator"
#: Key added to the model's ``config.json`` so that a fine-tuned folder whose manifest was
#: deleted is recognised.
MARKER_KEY = "workbench_manifest"
#: How to fix a broken fine-tuned folder.
REFINETUNE = "fine-tune again with: python -m workbench finetune generator ..."


def is_finetuned_generator(directory: str | Path) -> bool:
    """Whether ``directory`` was written by the generator fine-tune (has its manifest or marker)."""
    path = Path(directory)
    if not path.is_dir():
        return False
    for name, ours in ((MANIFEST, lambda d: d.get("kind") == KIND),
                       ("config.json", lambda d: MARKER_KEY in d)):
        try:
            data = json.loads((path / name).read_text(encoding="utf-8"))
        except OSError:
            continue
        except ValueError:  # a broken manifest is still ours when the config carries the marker
            continue
        if isinstance(data, dict) and ours(data):
            return True
    return False


def check_generator_dir(directory: str | Path) -> dict[str, Any] | None:
    """Verify a fine-tuned generator folder's manifest and weights; ``None`` for any other model.

    Raises:
        GenerationError: the manifest is missing, unreadable, of another kind or schema, or its
            weight hashes do not match the files (naming the manifest and the file).
    """
    path = Path(directory)
    if not is_finetuned_generator(path):
        return None
    meta = _read_json_manifest(
        path, error=GenerationError, fix=REFINETUNE, what="fine-tuned generator",
        required=("kind", "schema_version", "base_model", "method", "rows", "data_hash", "weights"),
    )
    if meta["kind"] != KIND:
        raise GenerationError(f"{path / MANIFEST}: kind is {meta['kind']!r}, expected {KIND!r}")
    if meta["schema_version"] != SCHEMA_VERSION:
        raise GenerationError(
            f"{path / MANIFEST}: schema_version {meta['schema_version']!r}, this code reads {SCHEMA_VERSION}; "
            f"{REFINETUNE}"
        )
    verify_weights(path, meta["weights"], GenerationError)
    return meta
