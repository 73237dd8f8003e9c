"""Fine-tuning the retriever's embedder on (anchor, positive[, negative]) rows, and its manifest.

:func:`finetune_embedder` trains a sentence-transformers model with the library's own
``SentenceTransformerTrainer`` and ``MultipleNegativesRankingLoss`` (in-batch negatives, plus
the row's ``negative`` when given) on rows with exactly the columns that
:func:`workbench.feedback.export.triplet_rows` writes, and saves a folder that
``SentenceTransformer(path)`` -- and therefore :func:`workbench.embed.load_embedder` and
``python -m workbench index build --model DIR`` -- loads.

The folder carries a ``meta.json`` manifest (base model, rows, data hash, epochs, seed, the
sha256 of every weight file, package versions). :func:`check_model_dir` verifies it whenever a
fine-tuned folder is loaded: a missing, unreadable or edited manifest, or weights that differ
from what it records, fail with a message naming the file. The folder is written under a
temporary name and renamed at the end, so a killed run never leaves a loadable half model.

It knows rows, sentence-transformers and files; it does not know catalogues, feedback stores
or gradio. torch, datasets and sentence-transformers are imported inside functions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench.errors import EmbeddingError

#: Bumped whenever the manifest's fields or the folder layout change meaning.
SCHEMA_VERSION = 1
MANIFEST = "meta.json"
KIND = "finetuned-embedder"
#: Key added to the model's ``config_sentence_transformers.json`` so that a fine-tuned folder
#: whose manifest was deleted is recognised (sentence-transformers ignores unknown keys).
MARKER_KEY = "workbench_manifest"
#: The columns a training row may have: the first two are required.
ROW_COLUMNS = ("anchor", "positive", "negative")
#: Weight files whose sha256 the manifest records.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")
#: Package versions recorded in the manifest.
PACKAGES = ("sentence-transformers", "transformers", "torch", "datasets")


def validate_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The columns of ``rows`` (``anchor``, ``positive`` and optionally ``negative``).

    Raises:
        EmbeddingError: no rows, a row with other columns than its first row, an unknown
            column, or a missing / non-string / blank value; the message names the row and field.
    """
    if not rows:
        raise EmbeddingError("fine-tune: no training rows (need anchor/positive pairs)")
    columns = tuple(rows[0].keys())
    unknown = [c for c in columns if c not in ROW_COLUMNS]
    if unknown:
        raise EmbeddingError(
            f"fine-tune: row 0: unknown column(s) {unknown}; rows have {', '.join(ROW_COLUMNS[:2])} "
            f"and optionally {ROW_COLUMNS[2]}"
        )
    for required in ROW_COLUMNS[:2]:
        if required not in columns:
            raise EmbeddingError(f"fine-tune: row 0: column {required!r} is missing")
    for i, row in enumerate(rows):
        if tuple(row.keys()) != columns:
            raise EmbeddingError(f"fine-tune: row {i}: columns {list(row)} differ from row 0's {list(columns)}")
        for c in columns:
            value = row[c]
            if not isinstance(value, str) or not value.strip():
                raise EmbeddingError(f"fine-tune: row {i}: field {c!r} must be a non-empty string, got {value!r}")
    # Canonical order, whatever order the caller's dicts have.
    return tuple(c for c in ROW_COLUMNS if c in columns)


def rows_hash(rows: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the rows as canonical JSON lines (what the manifest's ``data_hash`` is)."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps({k: row[k] for k in sorted(row)}, ensure_ascii=False, sort_keys=True).encode())
        h.update(b"\n")
    return h.hexdigest()


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


def _versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def finetune_embedder(
    base_model: str,
    train_rows: Sequence[Mapping[str, Any]],
    out_dir: str | Path,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    lr: float = 2e-5,
    seed: int = 0,
    max_steps: int | None = None,
    device: str = "auto",
    max_seq_length: int | None = None,
) -> Path:
    """Fine-tune ``base_model`` on ``train_rows`` and save it with its manifest to ``out_dir``.

    Args:
        base_model: a model name, Hub id or local folder (as :func:`workbench.embed.resolve_model`
            takes; a fine-tuned folder's manifest is checked first).
        train_rows: dicts with ``anchor``, ``positive`` and optionally ``negative`` (the
            ``triplets`` export's columns).
        out_dir: a new or empty folder.
        epochs: passes over the rows (ignored when ``max_steps`` is given).
        batch_size: rows per step; every other row's positive is a negative for an anchor.
        lr: peak learning rate (linear decay, 10% warm-up).
        seed: seeds shuffling and initialisation.
        max_steps: stop after this many optimiser steps.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        max_seq_length: cap on tokens per text (shorter is faster; ``None`` keeps the model's).

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        EmbeddingError: bad rows or settings, an occupied ``out_dir``, or a model that cannot load.
    """
    columns = validate_rows(train_rows)
    for name, value, low in (("epochs", epochs, 1), ("batch_size", batch_size, 2)):
        if not isinstance(value, int) or value < low:
            raise EmbeddingError(f"fine-tune: {name} must be an integer >= {low}, got {value!r}")
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise EmbeddingError(f"fine-tune: max_steps must be an integer >= 1, got {max_steps!r}")
    if not lr > 0:
        raise EmbeddingError(f"fine-tune: lr must be > 0, got {lr!r}")
    out = Path(out_dir).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EmbeddingError(f"{out}: exists and is not an empty folder; choose a new --out")

    import datasets
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from workbench.embed import resolve_device, resolve_model

    model_id, load_from = resolve_model(base_model)
    check_model_dir(load_from)
    dev = resolve_device(device)
    try:
        model = SentenceTransformer(load_from, device=dev)
    except Exception as exc:  # OSError, ValueError, HF errors: all mean "cannot load"
        raise EmbeddingError(f"fine-tune: base model {load_from!r}: cannot load ({type(exc).__name__}: {exc})") from None
    if max_seq_length is not None:
        model.max_seq_length = int(max_seq_length)
    datasets.disable_progress_bars()
    data = datasets.Dataset.from_list([{c: row[c] for c in columns} for row in train_rows])
    started = time.time()
    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    work = out.with_name(f".{out.name}.trainer")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work),
        num_train_epochs=epochs,
        max_steps=max_steps if max_steps is not None else -1,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        warmup_steps=0.1,
        seed=seed,
        data_seed=seed,
        # An anchor's other in-batch positives are its negatives: the same text twice in a
        # batch would be a false negative.
        batch_sampler="no_duplicates",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        use_cpu=dev == "cpu",
        disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=data, loss=MultipleNegativesRankingLoss(model)
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints the final metrics dict to stdout
    try:
        result = trainer.train()
        model.save_pretrained(str(tmp))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    config_path = tmp / "config_sentence_transformers.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
    config[MARKER_KEY] = MANIFEST
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    meta = {
        "kind": KIND,
        "schema_version": SCHEMA_VERSION,
        "base_model": model_id,
        "rows": len(train_rows),
        "columns": list(columns),
        "data_hash": rows_hash(train_rows),
        "epochs": epochs,
        "max_steps": max_steps,
        "steps": int(result.global_step),
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "max_seq_length": int(model.max_seq_length) if model.max_seq_length else None,
        "loss": "MultipleNegativesRankingLoss",
        "train_loss": float(result.training_loss),
        "train_seconds": round(time.time() - started, 1),
        "device": dev,
        "weights": weight_hashes(tmp),
        "versions": _versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    # The manifest last: a folder without it never passes check_model_dir.
    (tmp / MANIFEST).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    if out.exists():
        out.rmdir()  # empty, checked above
    tmp.replace(out)
    return out


def is_finetuned(directory: str | Path) -> bool:
    """Whether ``directory`` was written by :func:`finetune_embedder` (has the manifest or the marker)."""
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
    fix = "fine-tune again with: python -m workbench finetune retriever ..."
    if not path.exists():
        raise EmbeddingError(f"{path}: manifest missing from this fine-tuned model; {fix}")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbeddingError(f"{path}: unreadable manifest ({exc}); {fix}") from None
    if not isinstance(meta, dict):
        raise EmbeddingError(f"{path}: manifest must be a JSON object; {fix}")
    for key in ("kind", "schema_version", "base_model", "rows", "data_hash", "weights"):
        if key not in meta:
            raise EmbeddingError(f"{path}: manifest field {key!r} is missing; {fix}")
    if meta["kind"] != KIND:
        raise EmbeddingError(f"{path}: kind is {meta['kind']!r}, expected {KIND!r}")
    if meta["schema_version"] != SCHEMA_VERSION:
        raise EmbeddingError(
            f"{path}: schema_version {meta['schema_version']!r}, this code reads {SCHEMA_VERSION}; {fix}"
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
    recorded = meta["weights"]
    actual = weight_hashes(path)
    if not isinstance(recorded, dict) or not recorded:
        raise EmbeddingError(f"{path / MANIFEST}: field 'weights' must list the weight files' sha256")
    for name in sorted(set(recorded) | set(actual)):
        if recorded.get(name) != actual.get(name):
            what = "missing" if name not in actual else "not in the manifest" if name not in recorded else "changed"
            raise EmbeddingError(
                f"{path / MANIFEST}: weight file {path / name} is {what} since fine-tuning "
                f"(sha256 recorded {str(recorded.get(name))[:12]}, found {str(actual.get(name))[:12]}); "
                "fine-tune again or restore the folder"
            )
    return meta


def model_revision(directory: str | Path) -> str | None:
    """A short id of a fine-tuned folder's weights (from its manifest), or ``None``.

    Cheap (reads only ``meta.json``): the embedder appends it to its ``model_id`` so that the
    embedding cache and index manifests tell two fine-tunes written to one path apart.
    """
    path = Path(directory) / MANIFEST
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("kind") != KIND:
            return None
        weights = meta["weights"]
        digest = hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return digest[:12]
