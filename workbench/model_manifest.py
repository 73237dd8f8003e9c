"""The manifest of a fine-tuned embedder folder: what it records, and the check on every load.

:func:`workbench.finetune.finetune_embedder` writes a ``meta.json`` (base model, rows, data
hash, epochs, seed, the sha256 of every weight file, package versions) into the folder it
saves. :func:`check_model_dir` verifies it whenever such a folder is loaded: a missing,
unreadable or edited manifest, or weights that differ from what it records, fail with a
message naming the file. :func:`model_revision` gives the short weights id the embedder
appends to its ``model_id``.

It knows files and hashes; it does not train, load models, or know catalogues or gradio.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from workbench.errors import EmbeddingError
from workbench.manifest import MANIFEST, peek_manifest
from workbench.manifest import read_manifest as _read_json_manifest

#: Bumped whenever the manifest's fields or the folder layout change meaning.
SCHEMA_VERSION = 1
KIND = "finetuned-embedder"
#: Key added to the model's ``config_sentence_transformers.json`` so that a fine-tuned folder
#: whose manifest was deleted is recognised (sentence-transformers ignores unknown keys).
MARKER_KEY = "workbench_manifest"
#: Weight files whose sha256 the manifest records.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")
#: How to fix a broken fine-tuned folder.
REFINETUNE = "fine-tune again with: python -m workbench finetune retriever ..."


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def weight_hashes(directory: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every weight file under ``directory``."""
    return {
        str(p.relative_to(directory)): _file_sha256(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.suffix in WEIGHT_SUFFIXES
    }


def is_finetuned(directory: str | Path) -> bool:
    """Whether ``directory`` was written by :func:`workbench.finetune.finetune_embedder` (has the manifest or the marker)."""
    path = Path(directory)
    if not path.is_dir():
        return False
    for name, ours in ((MANIFEST, lambda d: d.get("kind") == KIND),
                       ("config_sentence_transformers.json", lambda d: MARKER_KEY in d)):
        try:
            data = json.loads((path / name).read_text(encoding="utf-8"))
        except OSError:
            continue
        except ValueError:  # a broken manifest of ours is still ours (check_model_dir says so)
            if name == MANIFEST:
                return True
            continue
        if isinstance(data, dict) and ours(data):
            return True
    return False


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a fine-tuned folder, checked; see :func:`check_model_dir`."""
    path = Path(directory) / MANIFEST
    meta = _read_json_manifest(
        directory, error=EmbeddingError, fix=REFINETUNE, what="fine-tuned model",
        required=("kind", "schema_version", "base_model", "rows", "data_hash", "weights"),
    )
    if meta["kind"] != KIND:
        raise EmbeddingError(f"{path}: kind is {meta['kind']!r}, expected {KIND!r}")
    if meta["schema_version"] != SCHEMA_VERSION:
        raise EmbeddingError(
            f"{path}: schema_version {meta['schema_version']!r}, this code reads {SCHEMA_VERSION}; {REFINETUNE}"
        )
    return meta


def check_model_dir(directory: str | Path) -> dict[str, Any] | None:
    """Verify a fine-tuned folder's manifest and weights; ``None`` for any other model.

    Raises:
        EmbeddingError: the manifest is missing, unreadable, of another schema, or its weight
            hashes do not match the files (naming the manifest and the file).
    """
    path = Path(directory)
    if not is_finetuned(path):
        return None
    meta = read_manifest(path)
    verify_weights(path, meta["weights"], EmbeddingError)
    return meta


def verify_weights(path: Path, recorded: Any, error: type[Exception]) -> None:
    """Raise ``error`` unless the weight files under ``path`` have exactly the ``recorded`` sha256s.

    Shared by every fine-tuned folder's check (embedder, generator): the message names the
    manifest, the file and what happened to it.
    """
    actual = weight_hashes(path)
    if not isinstance(recorded, dict) or not recorded:
        raise error(f"{path / MANIFEST}: field 'weights' must list the weight files' sha256")
    for name in sorted(set(recorded) | set(actual)):
        if recorded.get(name) != actual.get(name):
            what = "missing" if name not in actual else "not in the manifest" if name not in recorded else "changed"
            raise error(
                f"{path / MANIFEST}: weight file {path / name} is {what} since fine-tuning "
                f"(sha256 recorded {str(recorded.get(name))[:12]}, found {str(actual.get(name))[:12]}); "
                "fine-tune again or restore the folder"
            )


def model_revision(directory: str | Path) -> str | None:
    """A short id of a fine-tuned folder's weights (from its manifest), or ``None``.

    Cheap (reads only ``meta.json``): the embedder appends it to its ``model_id`` so that the
    embedding cache and index manifests tell two fine-tunes written to one path apart.
    """
    meta = peek_manifest(directory)
    if meta is None or meta.get("kind") != KIND:
        return None
    try:
        digest = hashlib.sha256(json.dumps(meta["weights"], sort_keys=True).encode()).hexdigest()
    except (KeyError, TypeError, ValueError):
        return None
    return digest[:12]
