"""Turn feedback records into datasets: raw (hf, parquet, jsonl) and training sets (sft, dpo, triplets).

Raw formats hold one row per record with :data:`~workbench.feedback.record.FEEDBACK_FEATURES`.
Training sets are derived from *consolidated* judgements:

1. Per annotator and turn (``annotator, session_id, turn_index, reply``) the records
   are merged in time order, the latest non-empty value of each label winning, so
   an annotator who re-saves or judges items one click at a time counts once.
2. Across annotators, votes on the same context (conversation + user message) are
   summed: like = +1, dislike = -1 (for items a rating of 4-5 counts as a like,
   1-2 as a dislike, 3 as neither).

* ``sft``: ``messages`` (TRL conversational language modelling) for each reply whose
  net vote is positive: the conversation, the user message and the reply.
* ``dpo``: ``prompt`` / ``chosen`` / ``rejected`` (TRL conversational preference format):
  a reply with a positive net vote against one with a negative net vote on the same
  context; and, within one annotator's slate, a higher-rated (or liked) item against a
  lower-rated (or disliked) one, the completion being the item's title as shown; and every
  decisive arena vote (:func:`arena_preferences`): the winning side's reply against the losing
  side's. Pairs contradicted by other annotators cancel out.
* ``triplets``: ``anchor`` / ``positive`` / ``negative`` (sentence-transformers): the
  user's request in context, the catalogue text of an item with a positive net vote,
  and of one with a negative net vote -- or, when no shown item was disliked, of a
  shown item nobody judged.

It knows records, catalogues and ``datasets``; it does not know files of the store or gradio.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import FeedbackError
from workbench.feedback.record import FeedbackRecord, ItemJudgement

if TYPE_CHECKING:
    import datasets

    from workbench.catalog import Catalog

EXPORT_FORMATS = ("hf", "parquet", "jsonl", "sft", "dpo", "triplets")
RAW_FORMATS = ("hf", "parquet", "jsonl")
DPO_PAIRS = ("both", "replies", "items")
#: How many earlier user turns join the current message in a triplet's anchor.
ANCHOR_CONTEXT_TURNS = 2

SFT_COLUMNS = ("messages",)
DPO_COLUMNS = ("prompt", "chosen", "rejected")
TRIPLET_COLUMNS = ("anchor", "positive", "negative")


# ---------------------------------------------------------------------------
# consolidation


@dataclass
class JudgedTurn:
    """One annotator's final say on one turn (all their records for it merged)."""

    annotator: str
    session_id: str
    turn_index: int
    conversation: tuple[tuple[str, str], ...]
    user_message: str
    reply: str
    reply_label: str | None = None
    items: dict[str, ItemJudgement] = field(default_factory=dict)  # in slate order

    @property
    def context(self) -> tuple[tuple[tuple[str, str], ...], str]:
        return self.conversation, self.user_message


def consolidate(records: Iterable[FeedbackRecord]) -> list[JudgedTurn]:
    """Merge each annotator's records for one turn, latest non-empty value winning."""
    turns: dict[tuple[str, str, int, str], JudgedTurn] = {}
    for r in sorted(records, key=lambda r: (r.created, r.record_id)):
        key = (r.annotator, r.session_id, r.turn_index, r.reply)
        turn = turns.get(key)
        if turn is None:
            turn = turns[key] = JudgedTurn(
                r.annotator, r.session_id, r.turn_index,
                tuple((t["role"], t["text"]) for t in r.conversation), r.user_message, r.reply,
            )
        if r.reply_label is not None:
            turn.reply_label = r.reply_label
        for j in r.slate:
            old = turn.items.get(j.item_id)
            if old is None:
                turn.items[j.item_id] = j
            else:
                turn.items[j.item_id] = ItemJudgement(
                    j.item_id, j.title, j.rank, j.score, j.sources,
                    j.label if j.label is not None else old.label,
                    j.rating if j.rating is not None else old.rating,
                    j.reason,
                )
    return list(turns.values())


def item_vote(j: ItemJudgement) -> int:
    """+1 (rating 4-5, or liked), -1 (rating 1-2, or disliked), else 0. A rating outranks a label."""
    if j.rating is not None:
        return 1 if j.rating >= 4 else -1 if j.rating <= 2 else 0
    return {"like": 1, "dislike": -1}.get(j.label or "", 0)


def _messages(conversation: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"role": role, "content": text} for role, text in conversation]


# ---------------------------------------------------------------------------
# training sets


def sft_rows(records: Iterable[FeedbackRecord]) -> list[dict[str, Any]]:
    """``{"messages": [...]}`` for every reply with a positive net vote, once each."""
    votes: dict[tuple[Any, str], int] = defaultdict(int)
    for turn in consolidate(records):
        if turn.reply_label:
            votes[(turn.context, turn.reply)] += 1 if turn.reply_label == "like" else -1
    rows = []
    for ((conversation, message), reply), vote in votes.items():
        if vote > 0:
            rows.append(
                {
                    "messages": _messages(conversation)
                    + [{"role": "user", "content": message}, {"role": "assistant", "content": reply}]
                }
            )
    return rows


def dpo_rows(records: Iterable[FeedbackRecord], pairs: str = "both") -> list[dict[str, Any]]:
    """Conversational preference rows ``{"prompt", "chosen", "rejected"}``.

    Args:
        pairs: ``"replies"`` (liked vs disliked reply on the same context), ``"items"``
            (higher vs lower judged item of one slate) or ``"both"``.
    """
    if pairs not in DPO_PAIRS:
        raise FeedbackError(f"dpo pairs: must be one of {', '.join(DPO_PAIRS)}, got {pairs!r}")
    records = list(records)
    turns = consolidate(records)
    # (context, preferred completion, other completion) -> net count
    prefs: dict[tuple[Any, str, str], int] = defaultdict(int)

    def prefer(context: Any, better: str, worse: str) -> None:
        if better == worse:
            return
        if (context, worse, better) in prefs:
            prefs[(context, worse, better)] -= 1
        else:
            prefs[(context, better, worse)] += 1

    if pairs in ("both", "replies"):
        reply_votes: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for turn in turns:
            if turn.reply_label:
                reply_votes[turn.context][turn.reply] += 1 if turn.reply_label == "like" else -1
        for context, votes in reply_votes.items():
            good = [reply for reply, v in votes.items() if v > 0]
            bad = [reply for reply, v in votes.items() if v < 0]
            for g in good:
                for b in bad:
                    prefer(context, g, b)
    if pairs in ("both", "replies"):
        for conversation, message, better, worse in arena_preferences(records):
            prefer((conversation, message), better, worse)
    if pairs in ("both", "items"):
        for turn in turns:
            judged = [j for j in turn.items.values() if item_vote(j) or j.rating is not None]
            for a in judged:
                for b in judged:
                    if _item_preferred(a, b):
                        prefer(turn.context, a.title, b.title)
    rows = []
    for ((conversation, message), better, worse), net in prefs.items():
        if net == 0:
            continue
        if net < 0:
            better, worse = worse, better
        rows.append(
            {
                "prompt": _messages(conversation) + [{"role": "user", "content": message}],
                "chosen": [{"role": "assistant", "content": better}],
                "rejected": [{"role": "assistant", "content": worse}],
            }
        )
    return rows


def arena_preferences(records: Iterable[FeedbackRecord]) -> list[tuple[tuple[tuple[str, str], ...], str, str, str]]:
    """``(conversation, user message, chosen reply, rejected reply)`` of every decisive arena vote.

    A vote is two records (sides ``a`` and ``b``) sharing ``arena_pair`` and annotator. The prompt
    is the winner's conversation: both sides got every user message, and after the first turn each
    answered on its own earlier replies (as in LMSYS), so the winner's history is the one the chosen
    reply was written for. Ties and "both bad" order nothing.
    """
    sides: dict[tuple[str, str], dict[str, FeedbackRecord]] = defaultdict(dict)
    for r in records:
        if r.arena_pair and r.arena_vote in ("a", "b"):
            sides[(r.arena_pair, r.annotator)].setdefault(r.arena_side, r)
    out = []
    for by_side in sides.values():
        if set(by_side) == {"a", "b"}:
            win = by_side[by_side["a"].arena_vote]
            lose = by_side["b" if win.arena_side == "a" else "a"]
            out.append((tuple((t["role"], t["text"]) for t in win.conversation), win.user_message,
                        win.reply, lose.reply))
    return out


def _item_preferred(a: ItemJudgement, b: ItemJudgement) -> bool:
    """Whether one annotator's judgements say ``a`` is better than ``b``."""
    if a.rating is not None and b.rating is not None:
        return a.rating > b.rating
    return item_vote(a) > 0 > item_vote(b)


def anchor_text(conversation: Sequence[tuple[str, str]], user_message: str) -> str:
    """The user's request in context: up to :data:`ANCHOR_CONTEXT_TURNS` earlier user turns, then the message."""
    earlier = [text for role, text in conversation if role == "user" and text.strip()]
    return "\n".join([*earlier[-ANCHOR_CONTEXT_TURNS:], user_message]) if ANCHOR_CONTEXT_TURNS else user_message


def triplet_rows(records: Iterable[FeedbackRecord], catalog: Catalog) -> tuple[list[dict[str, str]], int]:
    """``{"anchor", "positive", "negative"}`` rows and the number of judged items skipped
    because they are no longer in ``catalog``."""
    from workbench.catalog import render_text

    votes: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    shown: dict[Any, dict[str, None]] = defaultdict(dict)  # ordered sets
    for turn in consolidate(records):
        for item_id, j in turn.items.items():
            shown[turn.context][item_id] = None
            if j.label is not None or j.rating is not None:
                votes[turn.context][item_id] += item_vote(j)
    texts: dict[str, str | None] = {}
    missing: set[str] = set()

    def text(item_id: str) -> str | None:
        if item_id not in texts:
            item = catalog.get(item_id)
            texts[item_id] = render_text(item) if item is not None else None
            if item is None:
                missing.add(item_id)
        return texts[item_id]

    rows = []
    seen: set[tuple[str, str, str]] = set()
    for context, items in shown.items():
        ctx_votes = votes.get(context, {})
        positives = [i for i in items if ctx_votes.get(i, 0) > 0]
        negatives = [i for i in items if ctx_votes.get(i, 0) < 0]
        if not negatives:  # weak negatives: shown, judged by nobody
            negatives = [i for i in items if i not in ctx_votes]
        anchor = anchor_text(*context)
        for p in positives:
            for n in negatives:
                pt, nt = text(p), text(n)
                if pt is None or nt is None or pt == nt:
                    continue
                row = (anchor, pt, nt)
                if row not in seen:
                    seen.add(row)
                    rows.append({"anchor": anchor, "positive": pt, "negative": nt})
    return rows, len(missing)


# ---------------------------------------------------------------------------
# datasets


def training_features(fmt: str) -> datasets.Features:
    """The declared features of a training export (``sft``, ``dpo`` or ``triplets``)."""
    from datasets import Features, List, Value

    message = {"role": Value("string"), "content": Value("string")}
    if fmt == "sft":
        return Features({"messages": List(message)})
    if fmt == "dpo":
        return Features({"prompt": List(message), "chosen": List(message), "rejected": List(message)})
    if fmt == "triplets":
        return Features({c: Value("string") for c in TRIPLET_COLUMNS})
    raise FeedbackError(f"export format: no training features for {fmt!r}")


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` wrote."""

    format: str
    rows: int
    path: Path | None
    records: int  # records read from the store
    skipped_items: int = 0  # triplets: judged items missing from the catalogue
    pushed_to: str | None = None
    warnings: tuple[str, ...] = ()


def build_rows(
    records: Sequence[FeedbackRecord], fmt: str, *, catalog: Catalog | None = None, dpo_pairs: str = "both"
) -> tuple[list[dict[str, Any]], int]:
    """The rows of export ``fmt`` and, for triplets, the number of judged items not in the catalogue."""
    if fmt in RAW_FORMATS:
        return [r.to_dict() for r in records], 0
    if fmt == "sft":
        return sft_rows(records), 0
    if fmt == "dpo":
        return dpo_rows(records, dpo_pairs), 0
    if fmt == "triplets":
        if catalog is None:
            raise FeedbackError("export format 'triplets': needs the catalogue for item texts")
        return triplet_rows(records, catalog)
    raise FeedbackError(f"export format: must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")


def export(
    records: Sequence[FeedbackRecord],
    fmt: str,
    out: str | Path | None,
    *,
    catalog: Catalog | None = None,
    push_to_hub: str | None = None,
    token: str | None = None,
    dpo_pairs: str = "both",
) -> ExportResult:
    """Write ``records`` as export ``fmt`` to ``out`` and/or push it to a Hub dataset repo.

    Where it goes: ``hf`` -> a ``save_to_disk`` folder; ``parquet`` -> one Parquet file;
    ``jsonl`` -> one JSON-lines file; ``sft``/``dpo``/``triplets`` -> by the suffix of ``out``
    (``.parquet``, ``.jsonl``/``.json``, else a ``save_to_disk`` folder). Every output
    loads back with ``datasets`` with the declared features.

    Raises:
        FeedbackError: unknown format, no records, or no rows to write.
    """
    if fmt not in EXPORT_FORMATS:
        raise FeedbackError(f"export format: must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    if out is None and not push_to_hub:
        raise FeedbackError("export: give an output path (--out) or a Hub repo (--push-to-hub)")
    if not records:
        raise FeedbackError("export: the feedback store holds no records")
    rows, skipped = build_rows(records, fmt, catalog=catalog, dpo_pairs=dpo_pairs)
    if not rows:
        why = {
            "sft": "no reply has more likes than dislikes",
            "dpo": "no context has both a preferred and a rejected reply or item",
            "triplets": "no shown item has both a liked and a disliked or unjudged neighbour",
        }[fmt]
        raise FeedbackError(f"export format {fmt!r}: {len(records)} records give no rows ({why})")
    import datasets

    from workbench.feedback.record import FEEDBACK_FEATURES

    features = FEEDBACK_FEATURES if fmt in RAW_FORMATS else training_features(fmt)
    ds = datasets.Dataset.from_list(rows, features=features)
    path = Path(out) if out is not None else None
    if path is not None:
        kind = {"hf": "dir", "parquet": "parquet", "jsonl": "jsonl"}.get(fmt) or _kind_from_suffix(path)
        _write(ds, rows, path, kind)
    if push_to_hub:
        try:
            ds.push_to_hub(push_to_hub, token=token or None, private=True)
        except Exception as exc:  # network / auth errors from huggingface_hub
            raise FeedbackError(
                f"--push-to-hub {push_to_hub!r}: upload failed ({type(exc).__name__}: {exc})"
            ) from exc
    warnings = ()
    if skipped:
        warnings = (f"{skipped} judged item(s) are not in the catalogue {catalog.source} and were skipped",)
    return ExportResult(fmt, len(rows), path, len(records), skipped, push_to_hub or None, warnings)


def _kind_from_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    return "dir"


def _write(ds: datasets.Dataset, rows: list[dict[str, Any]], path: Path, kind: str) -> None:
    try:
        if kind == "dir":
            if path.exists() and (not path.is_dir() or any(path.iterdir())):
                raise FeedbackError(f"{path}: exists and is not an empty folder; choose a new --out")
            ds.save_to_disk(str(path))
            return
        if path.is_dir():
            raise FeedbackError(f"{path}: is a folder; give a file name for {kind} output")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        if kind == "parquet":
            ds.to_parquet(str(tmp))
        else:
            # Written by hand: pandas' JSON writer rounds floats to 10 digits.
            with open(tmp, "w", encoding="utf-8") as f:
                for row in rows:
                    f.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        tmp.replace(path)
    except OSError as exc:
        raise FeedbackError(f"{path}: cannot write export ({exc.strerror or exc})") from exc
