"""Fine-tuning the retriever's embedder on (anchor, positive[, negative]) rows.

:func:`finetune_embedder` trains a sentence-transformers model with the library's own
``SentenceTransformerTrainer`` and ``MultipleNegativesRankingLoss`` (in-batch negatives, plus
the row's ``negative`` when given) on rows with exactly the columns that
:func:`workbench.feedback.export.triplet_rows` writes, and saves a folder that
``SentenceTransformer(path)`` -- and therefore :func:`workbench.retrieval.embed.load_embedder` and
``python -m workbench index build --model DIR`` -- loads.

The folder carries a ``meta.json`` manifest (base model, rows, data hash, epochs, seed, the
sha256 of every weight file, package versions); :mod:`workbench.finetune.model_manifest` declares and
checks it on every load. The folder is written under a temporary name and renamed at the end,
so a killed run never leaves a loadable half model.

It knows rows, sentence-transformers and files; it does not know catalogues, feedback stores
or gradio. torch, datasets and sentence-transformers are imported inside functions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.device import resolve_device
from workbench.errors import EmbeddingError
from workbench.finetune.model_manifest import (
    KIND,
    MARKER_KEY,
    SCHEMA_VERSION,
    check_model_dir,
    read_manifest,
    weight_hashes,
)
from workbench.manifest import MANIFEST, package_versions, publish_dir, staging_dirs
from workbench.retrieval.embed import resolve_model

# Re-exported: callers read the folder's manifest through the module that writes it.
__all__ = ["MANIFEST", "check_model_dir", "finetune_embedder", "read_manifest", "rows_hash", "validate_rows"]

#: The columns a training row may have: the first two are required.
ROW_COLUMNS = ("anchor", "positive", "negative")
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
        base_model: a model name, Hub id or local folder (as :func:`workbench.retrieval.embed.resolve_model`
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
    tmp, work = staging_dirs(out)
    if tmp.exists():
        shutil.rmtree(tmp)
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
        "versions": package_versions(PACKAGES),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    publish_dir(tmp, out, meta)
    return out


