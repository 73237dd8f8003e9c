"""Retrieval quality of an embedder, and the fine-tune-then-compare protocol for the retriever.

:func:`retrieval_metrics` encodes every candidate item text (the catalogue's, as the index
embeds them) and each sample's anchor, ranks the candidates by cosine (brute force, exact) and
reports Recall@k and MRR of the sample's positive. :func:`compare` runs several embedders on the
same samples side by side.

Samples come from feedback (:func:`feedback_rows`: the ``triplets`` export rules, split by
session) or from ReDial dialogues (:func:`redial_rows`: the seeker's request in context ->
the movie the recommender names next). :func:`split_holdout` keeps every conversation wholly
on one side. :func:`finetune_and_compare` fine-tunes on the training part and compares the
base and fine-tuned embedders on the held-out part (and on extra test samples).

It knows texts, catalogues, embedders and metrics; it does not know FAISS, files of the
feedback store or gradio.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.catalog import Catalog
from workbench.errors import EvaluationError

KS = (1, 10, 50)
#: Anchors encoded per call (bounds the score matrix held at once).
ANCHOR_CHUNK = 1024


@dataclass(frozen=True)
class PairRow:
    """One (anchor -> positive) pair, the conversation it came from, and texts never ranked for it."""

    group: str  # conversation / session id: never on both sides of a split
    anchor: str
    positive: str
    exclude: tuple[str, ...] = ()  # item texts already mentioned in the conversation
    negative: str | None = None

    def train_row(self) -> dict[str, str]:
        row = {"anchor": self.anchor, "positive": self.positive}
        if self.negative is not None:
            row["negative"] = self.negative
        return row


def retrieval_ranks(embedder: Any, rows: Sequence[PairRow], candidates: Sequence[str]) -> tuple[np.ndarray, int]:
    """Each row's 0-based rank of its positive among ``candidates`` (positives not among them
    join), and the number of candidates. Ties count against the positive."""
    if not rows:
        raise EvaluationError("retrieval metrics: no samples")
    texts = list(dict.fromkeys([*candidates, *(r.positive for r in rows)]))
    where = {t: i for i, t in enumerate(texts)}
    items = embedder.encode(texts)
    ranks = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), ANCHOR_CHUNK):
        chunk = rows[start : start + ANCHOR_CHUNK]
        scores = embedder.encode([r.anchor for r in chunk]) @ items.T
        for j, r in enumerate(chunk):
            s = scores[j]
            pos = where[r.positive]
            for t in r.exclude:
                i = where.get(t)
                if i is not None and i != pos:
                    s[i] = -np.inf
            ranks[start + j] = int(np.sum(s >= s[pos])) - 1
    return ranks, len(texts)


def metrics_of(ranks: np.ndarray, ks: Sequence[int] = KS) -> dict[str, float]:
    """Recall@k and MRR of 0-based ranks."""
    out = {f"recall@{k}": round(float(np.mean(ranks < k)), 4) for k in ks}
    out["mrr"] = round(float(np.mean(1.0 / (ranks + 1))), 4)
    return out


def retrieval_metrics(
    embedder: Any, rows: Sequence[PairRow], candidates: Sequence[str], ks: Sequence[int] = KS
) -> dict[str, float]:
    """Recall@k and MRR of each row's positive among ``candidates`` (positives not among them join).

    Ties count against the positive (a candidate scoring equal to it ranks above it).
    """
    ranks, n_candidates = retrieval_ranks(embedder, rows, candidates)
    return {**metrics_of(ranks, ks), "n": len(rows), "candidates": n_candidates}


#: Paired bootstrap resamples for the confidence interval of a difference.
BOOTSTRAP = 1000


def compare(embedders: Mapping[str, Any], rows: Sequence[PairRow], candidates: Sequence[str],
            ks: Sequence[int] = KS, *, seed: int = 0) -> dict[str, dict[str, Any]]:
    """:func:`retrieval_metrics` of each named embedder on the same rows and candidates.

    Every embedder after the first also gets ``delta``: its difference from the first per
    metric, with a 95% paired bootstrap interval (the same resampled rows for both).
    """
    ranks = {}
    out: dict[str, dict[str, Any]] = {}
    for name, e in embedders.items():
        ranks[name], n_candidates = retrieval_ranks(e, rows, candidates)
        out[name] = {**metrics_of(ranks[name], ks), "n": len(rows), "candidates": n_candidates}
    names = list(embedders)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(rows), size=(BOOTSTRAP, len(rows)))
    first = ranks[names[0]]
    for name in names[1:]:
        delta = {}
        for metric in [f"recall@{k}" for k in ks] + ["mrr"]:
            def per_row(r: np.ndarray, metric: str = metric) -> np.ndarray:
                return 1.0 / (r + 1) if metric == "mrr" else (r < int(metric.split("@")[1])).astype(float)

            diff = per_row(ranks[name]) - per_row(first)
            boot = diff[draws].mean(axis=1)
            lo, hi = np.percentile(boot, [2.5, 97.5])
            delta[metric] = [round(float(diff.mean()), 4), round(float(lo), 4), round(float(hi), 4)]
        out[name]["delta"] = {"vs": names[0], "ci": 0.95, **delta}
    return out


def split_holdout(rows: Sequence[PairRow], holdout: float, seed: int = 0) -> tuple[list[PairRow], list[PairRow]]:
    """``(train, holdout)``: a seeded ``holdout`` share of the groups (conversations), whole.

    Raises:
        EvaluationError: ``holdout`` outside (0, 1), or fewer than two groups.
    """
    if not 0.0 < holdout < 1.0:
        raise EvaluationError(f"--holdout must be between 0 and 1 (exclusive), got {holdout!r}")
    groups = sorted({r.group for r in rows})
    if len(groups) < 2:
        raise EvaluationError(f"holdout split: need rows from at least 2 conversations, got {len(groups)}")
    random.Random(seed).shuffle(groups)
    n = min(max(1, round(len(groups) * holdout)), len(groups) - 1)
    held = set(groups[:n])
    return [r for r in rows if r.group not in held], [r for r in rows if r.group in held]


def catalogue_texts(catalog: Catalog) -> list[str]:
    """Every item's text as the index embeds it."""
    from workbench.catalog import render_text

    return [render_text(item) for item in catalog]


def redial_rows(dialogues: Iterable[Mapping[str, Any]], catalog: Catalog) -> list[PairRow]:
    """ReDial as retrieval pairs: for each recommender message naming a new movie, the seeker's
    request in context (:func:`~workbench.feedback.export.anchor_text` over the earlier
    messages, titles in place of ``@id`` markers) -> that movie's catalogue text. Movies named
    earlier in the conversation are excluded from its ranking."""
    from workbench.catalog import render_text
    from workbench.evaluate.redial import mention_ids, samples
    from workbench.feedback.export import anchor_text

    dialogues = list(dialogues)
    out = []
    text_of: dict[str, str] = {}

    def text(item_id: str) -> str:
        if item_id not in text_of:
            text_of[item_id] = render_text(catalog[item_id])
        return text_of[item_id]

    gold = samples(dialogues, catalog, "gold")  # the same samples, with @ids to find earlier mentions
    for s, g in zip(samples(dialogues, catalog, "text"), gold, strict=True):
        users = [i for i, (role, t) in enumerate(s.prefix) if role == "user" and t.strip()]
        if not users:
            continue
        last = users[-1]
        anchor = anchor_text(s.prefix[:last], s.prefix[last][1])
        earlier = {c.item_id for _, t in g.prefix for m in mention_ids(t) if (c := catalog.get(m)) is not None}
        earlier.discard(s.target)
        out.append(PairRow(s.conversation, anchor, text(s.target), tuple(sorted(text(i) for i in earlier))))
    return out


def feedback_rows(records: Sequence[Any], catalog: Catalog) -> tuple[list[PairRow], int]:
    """Feedback records as triplets (the ``triplets`` export rules), grouped by session.

    Each session's records are consolidated on their own so that a split by session never
    puts one conversation's judgements on both sides. Returns the rows and the number of
    judged items missing from ``catalog``.
    """
    from workbench.feedback.export import triplet_rows

    by_session: dict[str, list[Any]] = {}
    for r in records:
        by_session.setdefault(r.session_id, []).append(r)
    out: list[PairRow] = []
    missing = 0
    for session, recs in by_session.items():
        rows, skipped = triplet_rows(recs, catalog)
        missing += skipped
        out += [PairRow(session, r["anchor"], r["positive"], negative=r["negative"]) for r in rows]
    return out, missing


def finetune_and_compare(
    base_model: str,
    rows: Sequence[PairRow],
    catalog: Catalog,
    out_dir: str | Path,
    *,
    holdout: float = 0.2,
    test_rows: Sequence[PairRow] = (),
    epochs: int = 1,
    max_steps: int | None = None,
    batch_size: int = 32,
    lr: float = 2e-5,
    seed: int = 0,
    device: str = "auto",
    max_seq_length: int | None = None,
    ks: Sequence[int] = KS,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Split ``rows`` by conversation, fine-tune ``base_model`` on the training part, and report
    base vs fine-tuned retrieval metrics on the holdout (and on ``test_rows``) side by side."""
    from workbench.finetune.retriever import finetune_embedder, read_manifest
    from workbench.retrieval.embed import SentenceTransformerEmbedder

    train, held = split_holdout(rows, holdout, seed)
    log(f"{len(train)} training rows from {len({r.group for r in train})} conversations, "
        f"{len(held)} holdout rows from {len({r.group for r in held})}")
    t0 = time.perf_counter()
    out = finetune_embedder(base_model, [r.train_row() for r in train], out_dir, epochs=epochs, batch_size=batch_size,
                            lr=lr, seed=seed, max_steps=max_steps, device=device, max_seq_length=max_seq_length)
    train_s = time.perf_counter() - t0
    meta = read_manifest(out)
    log(f"fine-tuned {meta['steps']} steps in {train_s:.0f}s (loss {meta['train_loss']:.3f}) -> {out}")
    base = SentenceTransformerEmbedder(base_model, device=device)
    tuned = SentenceTransformerEmbedder(str(out), device=device)
    if max_seq_length is not None:  # evaluate both at the length the model was trained at
        base.model.max_seq_length = int(max_seq_length)
    embedders = {"base": base, "fine-tuned": tuned}
    candidates = catalogue_texts(catalog)
    t0 = time.perf_counter()
    splits = {"holdout": compare(embedders, held, candidates, ks)}
    if test_rows:
        splits["test"] = compare(embedders, list(test_rows), candidates, ks)
    log(f"evaluated in {time.perf_counter() - t0:.0f}s")
    return {
        "base_model": base.model_id,
        "finetuned_model": str(out),
        "finetuned_model_id": tuned.model_id,
        "train_rows": len(train),
        "train_conversations": len({r.group for r in train}),
        "holdout_rows": len(held),
        "holdout_conversations": len({r.group for r in held}),
        "holdout": holdout,
        "catalogue_items": len(catalog),
        "train_seconds": round(train_s, 1),
        "manifest": {k: meta[k] for k in ("steps", "epochs", "max_steps", "batch_size", "lr", "seed",
                                          "max_seq_length", "train_loss", "data_hash", "device", "versions")},
        "results": splits,
    }


def format_table(report: Mapping[str, Any]) -> str:
    """Base vs fine-tuned, one line per split and model."""
    results = report["results"]
    first = next(iter(next(iter(results.values())).values()))
    ks = [k for k in first if k.startswith("recall@")]
    head = f"{'split':<8} {'model':<11} {'n':>6}  " + "  ".join(f"{k.replace('recall', 'R'):>6}" for k in ks) + "     MRR"
    lines = [head]
    for split, by_model in results.items():
        for name, m in by_model.items():
            lines.append(f"{split:<8} {name:<11} {m['n']:>6}  " + "  ".join(f"{m[k]:>6.3f}" for k in ks)
                         + f"  {m['mrr']:>6.3f}")
            if "delta" in m:
                cells = [m["delta"][k] for k in [*ks, "mrr"]]
                lines.append(f"{'':<8} {'difference':<11} {'95% CI':>6}  "
                             + "  ".join(f"{d:>+6.3f}" for d, _, _ in cells)
                             + "   (" + ", ".join(f"[{lo:+.3f}, {hi:+.3f}]" for _, lo, hi in cells) + ")")
    return "\n".join(lines)
