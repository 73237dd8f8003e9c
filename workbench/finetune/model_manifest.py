"""The manifest of a fine-tuned embedder folder: what it records, and the check on every load.

:func:`workbench.finetune.retriever.finetune_embedder` writes a ``meta.json`` (base model, rows, data
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


def is_finetuned_dir(directory: str | Path, kind: str, config_name: str) -> bool:
    """Whether ``directory`` was written by one of our fine-tunes of ``kind``: its manifest says so,
    or the model's own ``config_name`` carries :data:`MARKER_KEY` (the manifest was deleted). A
    manifest that does not parse counts as ours, so the check refuses it instead of loading the
    folder as a plain model."""
    path = Path(directory)
    if not path.is_dir():
        return False
    for name, ours in ((MANIFEST, lambda d: d.get("kind") == kind), (config_name, lambda d: MARKER_KEY in d)):
        try:
            data = json.loads((path / name).read_text(encoding="utf-8"))
        except OSError:
            continue
        except ValueError:  # a broken manifest of ours is still ours (check_finetuned_dir says so)
            if name == MANIFEST:
                return True
            continue
        if isinstance(data, dict) and ours(data):
            return True
    return False


def check_finetuned_dir(directory: str | Path, *, kind: str, schema_version: int, config_name: str,
                        error: type[Exception], fix: str, what: str,
                        required: tuple[str, ...]) -> dict[str, Any] | None:
    """Verify a fine-tuned folder of ``kind`` (manifest fields, kind, schema, weight hashes);
    ``None`` for a folder that is no fine-tune of ours (any other model).

    Raises:
        error: the manifest is missing, unreadable, of another kind or schema, or its weight hashes
            do not match the files (naming the manifest and the file), each with ``fix``.
    """
    path = Path(directory)
    if not is_finetuned_dir(path, kind, config_name):
        return None
    meta = read_finetuned_manifest(path, kind=kind, schema_version=schema_version, error=error, fix=fix,
                                   what=what, required=required)
    verify_weights(path, meta["weights"], error)
    return meta


def read_finetuned_manifest(directory: str | Path, *, kind: str, schema_version: int, error: type[Exception],
                            fix: str, what: str, required: tuple[str, ...]) -> dict[str, Any]:
    """The manifest of a fine-tuned folder of ``kind``, its fields, kind and schema checked (not its
    weights: :func:`check_finetuned_dir` adds that)."""
    path = Path(directory)
    meta = _read_json_manifest(path, error=error, fix=fix, what=what, required=required)
    if meta["kind"] != kind:
        raise error(f"{path / MANIFEST}: kind is {meta['kind']!r}, expected {kind!r}")
    if meta["schema_version"] != schema_version:
        raise error(f"{path / MANIFEST}: schema_version {meta['schema_version']!r}, this code reads "
                    f"{schema_version}; {fix}")
    return meta


def check_model_dir(directory: str | Path) -> dict[str, Any] | None:
    """Verify a fine-tuned embedder folder's manifest and weights; ``None`` for any other model.

    Raises:
        EmbeddingError: the manifest is missing, unreadable, of another schema, or its weight
            hashes do not match the files (naming the manifest and the file).
    """
    return check_finetuned_dir(directory, config_name="config_sentence_transformers.json", **_EMBEDDER)


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a fine-tuned embedder folder, checked; see :func:`check_model_dir`."""
    return read_finetuned_manifest(directory, **_EMBEDDER)


_EMBEDDER: dict[str, Any] = dict(
    kind=KIND, schema_version=SCHEMA_VERSION, error=EmbeddingError, fix=REFINETUNE, what="fine-tuned model",
    required=("kind", "schema_version", "base_model", "rows", "data_hash", "weights"),
)


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
