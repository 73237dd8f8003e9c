"""Reply examples: a generation request as the app builds it, and the reply a person wrote for it.

A :class:`ReplyExample` is what both the generator fine-tune (``finetune generator``) and the
reply evaluation (``eval replies``) work on, so that the model is trained and judged on the
same prompts it meets at run time:

* :func:`redial_examples`: every ReDial recommender turn (consecutive messages of one sender
  merged, as a chat shows them) that mentions movies, all of them in the catalogue. The request
  holds the conversation so far with titles in place of ``@id`` markers and a slate of exactly
  the movies the turn mentions (catalogue items, so the prompt builder lists their facts); the
  target is the recommender's text with display titles (``Heat (1995)``) in place of markers.
  The turn's intent is ``recommend`` and the slate carries no reasons: ReDial records neither.
* :func:`feedback_examples`: replies annotators liked (``sft``) or liked-vs-disliked pairs on
  one context (``dpo``), selected by the feedback export's own rules
  (:func:`workbench.feedback.export.sft_rows` / :func:`~workbench.feedback.export.dpo_rows`),
  with the slate the annotator saw rebuilt from the catalogue.
* :func:`split_examples`: a seeded held-out share of the conversations (sessions), whole.

It knows ReDial dialogues, feedback records, catalogues and generation requests; it does not
know tokenizers, trainers or gradio.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.types import Recommendation, Turn
from workbench.errors import EvaluationError

if TYPE_CHECKING:
    from workbench.catalog import Catalog, Item
    from workbench.dialogue.grounding import Grounder
    from workbench.feedback.record import FeedbackRecord

_ID_RE = re.compile(r"@(\d+)")
_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class ReplyExample:
    """One request and the reply a person wrote (``target``), or preferred over ``rejected``."""

    group: str  # conversation / feedback session: never on both sides of a split
    request: GenerationRequest
    target: str
    rejected: str = ""  # dpo: the reply annotators disliked on the same context


def _slate(items: Sequence[Item], reasons: Sequence[str] = ()) -> tuple[Recommendation, ...]:
    reasons = list(reasons) + [""] * (len(items) - len(reasons))
    return tuple(Recommendation(item=item, rank=i + 1, score=1.0, reason=reason)
                 for i, (item, reason) in enumerate(zip(items, reasons, strict=True)))


def _with_titles(text: str, conv: Mapping[str, Any], catalog: Catalog) -> str:
    """``text`` with each ``@id`` replaced by the catalogue's display title (else ReDial's name)."""

    def title(m: re.Match[str]) -> str:
        item = catalog.get(m.group(1))
        if item is not None:
            return item.display_title
        name = (conv.get("movieMentions") or {}).get(m.group(1)) or ""
        return _SPACES_RE.sub(" ", name).strip() or "that movie"

    return _SPACES_RE.sub(" ", _ID_RE.sub(title, text)).strip()


def _merged_turns(conv: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(role, raw text)`` per turn: consecutive messages of one sender joined by a space."""
    seeker = conv["initiatorWorkerId"]
    turns: list[tuple[str, str]] = []
    for msg in conv["messages"]:
        role = "user" if msg["senderWorkerId"] == seeker else "assistant"
        text = str(msg["text"]).strip()
        if not text:
            continue
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]} {text}")
        else:
            turns.append((role, text))
    return turns


def redial_examples(dialogues: Iterable[Mapping[str, Any]], catalog: Catalog, *,
                    grounder: Grounder | None = None) -> tuple[list[ReplyExample], dict[str, int]]:
    """Every ReDial recommender turn that mentions movies, as a request and its human reply.

    Args:
        dialogues: ReDial conversations (:func:`workbench.evaluate.redial.load_dialogues`).
        catalog: where the slate's items and their facts come from.
        grounder: when given, a turn whose human reply the grounder would change (a title typed
            without ``@``, a fact that contradicts the catalogue) is left out: training on it
            would teach the model to name films off its slate.

    Returns:
        The examples, and counts of the turns left out by reason (``not_in_catalogue``,
        ``no_user_turn``, ``ungrounded``).
    """
    out: list[ReplyExample] = []
    skipped = {"not_in_catalogue": 0, "no_user_turn": 0, "ungrounded": 0}
    for conv in dialogues:
        group = str(conv.get("conversationId", ""))
        history: list[Turn] = []
        earlier: list[Item] = []
        for role, raw in _merged_turns(conv):
            ids = list(dict.fromkeys(_ID_RE.findall(raw)))
            items = [catalog.get(i) for i in ids]
            text = _with_titles(raw, conv, catalog)
            if role == "assistant" and ids:
                if any(i is None for i in items):
                    skipped["not_in_catalogue"] += 1
                elif not history or history[-1].role != "user":
                    skipped["no_user_turn"] += 1
                else:
                    request = GenerationRequest(turns=tuple(history), recommendations=_slate(items))
                    if grounder is not None and grounder.ground(text, request.recommendations,
                                                                allowed=earlier).fixes:
                        skipped["ungrounded"] += 1
                    else:
                        out.append(ReplyExample(group, request, text))
            earlier += [i for i in items if i is not None]
            history.append(Turn(role, text))
    return out, skipped


def feedback_examples(records: Sequence[FeedbackRecord], catalog: Catalog, method: str = "sft"
                      ) -> tuple[list[ReplyExample], int]:
    """Liked replies (``sft``) or liked-vs-disliked replies on one context (``dpo``) as examples.

    The rows are the feedback export's (same consolidation and vote rules); each context's
    slate is the one the annotators saw, rebuilt from ``catalog`` with the reasons shown.

    Returns:
        The examples and the number of slate items skipped because they left the catalogue.
    """
    from workbench.feedback.export import consolidate, dpo_rows, sft_rows

    if method not in ("sft", "dpo"):
        raise EvaluationError(f"feedback examples: method must be 'sft' or 'dpo', got {method!r}")
    # by (context, reply): two replies to one context (an arena pair's first turn) came with two slates,
    # and an example's prompt carries the slate its target reply was written for
    contexts: dict[Any, tuple[str, tuple[Recommendation, ...]]] = {}
    missing = 0
    for turn in consolidate(records):
        if (turn.context, turn.reply) in contexts:
            continue
        items, reasons = [], []
        for j in turn.items.values():
            item = catalog.get(j.item_id)
            if item is None:
                missing += 1
                continue
            items.append(item)
            reasons.append(j.reason)
        contexts[(turn.context, turn.reply)] = (turn.session_id, _slate(items, reasons))

    def example(prompt: Sequence[Mapping[str, str]], target: str, rejected: str = "") -> ReplyExample:
        conversation = tuple((m["role"], m["content"]) for m in prompt[:-1])
        group, slate = contexts[((conversation, prompt[-1]["content"]), target)]
        turns = tuple(Turn(role, text) for role, text in conversation) + (Turn("user", prompt[-1]["content"]),)
        return ReplyExample(group, GenerationRequest(turns=turns, recommendations=slate), target, rejected)

    if method == "sft":
        out = [example(r["messages"][:-1], r["messages"][-1]["content"]) for r in sft_rows(records)]
    else:
        out = [example(r["prompt"], r["chosen"][0]["content"], r["rejected"][0]["content"])
               for r in dpo_rows(records, "replies")]
    return out, missing


def split_examples(examples: Sequence[ReplyExample], holdout: float, seed: int = 0
                   ) -> tuple[list[ReplyExample], list[ReplyExample]]:
    """``(train, held out)``: a seeded ``holdout`` share of the groups, each group wholly on one side.

    Raises:
        EvaluationError: ``holdout`` outside [0, 1), or a holdout asked of fewer than two groups.
    """
    if not 0.0 <= holdout < 1.0:
        raise EvaluationError(f"--holdout must be at least 0 and below 1, got {holdout!r}")
    if holdout == 0.0:
        return list(examples), []
    groups = sorted({e.group for e in examples})
    if len(groups) < 2:
        raise EvaluationError(f"holdout split: need examples from at least 2 conversations, got {len(groups)}")
    random.Random(seed).shuffle(groups)
    n = min(max(1, round(len(groups) * holdout)), len(groups) - 1)
    held = set(groups[:n])
    return [e for e in examples if e.group not in held], [e for e in examples if e.group in held]


def sample_examples(examples: Sequence[ReplyExample], n: int | None, seed: int = 0) -> list[ReplyExample]:
    """At most ``n`` examples, one per group where possible (replies of one conversation are not
    independent), chosen with a seeded shuffle; all of them when ``n`` is ``None``."""
    if n is None or n >= len(examples):
        return list(examples)
    rng = random.Random(seed)
    by_group: dict[str, list[ReplyExample]] = {}
    for e in examples:
        by_group.setdefault(e.group, []).append(e)
    groups = sorted(by_group)
    rng.shuffle(groups)
    picked: list[ReplyExample] = []
    while len(picked) < n:  # round robin: first one turn of every group, then a second...
        for g in groups:
            if by_group[g] and len(picked) < n:
                picked.append(by_group[g].pop(rng.randrange(len(by_group[g]))))
    return picked
