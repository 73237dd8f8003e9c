"""Interactive evaluation on ReDial: the engine talks with a simulated user for a few rounds (iEvaLM).

The samples are the static protocol's (:func:`workbench.evaluate.redial.samples`: each recommender
message that names a new movie; the target is that movie, the context the earlier messages). The
engine under test is a :class:`~workbench.dialogue.engine.ChatEngine` over the ReDial evaluation's
ranker (:func:`~workbench.evaluate.redial.build_eval_ranker`, everything learned from ``--train``,
weights tuned on folds of it as ``eval redial`` tunes its last system), with the template generator.

Round 0 is the static protocol itself: the context is replayed into a conversation state exactly as
``eval redial`` replays it and the ranker's top ``k`` is the slate (so round 0 equals the static
Recall@k on the same samples); the engine's question policy may ask a question after it. Rounds
1..R: the simulated user answers the reply it read ("Not those. I'd like a comedy movie.") and the
engine takes that text through :meth:`ChatEngine.respond`, the app's turn (understanding, ranking,
explaining, the template reply, grounding), giving a reply and a slate of ``k``. Success at round r
for k: the target is in round r's slate of ``k``; every k is its own run (a slate of one item for
R@1, of 50 for R@50), as in iEvaLM. Nothing else passes between the two: the engine never sees the
target, the simulator only the reply text and the slate's item ids.

Two systems are run on the same samples: the engine as the app runs it (it asks), and the same
engine that never asks (a control: its gains come only from not showing a film twice, since asked
nothing the simulator tells nothing).

It knows samples, the engine's turn API and the simulator; it does not know gradio.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from workbench.catalog import Catalog
from workbench.dialogue.engine import ChatEngine
from workbench.dialogue.explain import Explainer
from workbench.dialogue.generators.fallback import FallbackGenerator
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.prompts import INSTRUCTIONS
from workbench.dialogue.question import QuestionPolicy
from workbench.dialogue.ranker import EngineWeights, Ranker
from workbench.dialogue.state import ConversationState, TurnLog
from workbench.dialogue.titles import TitleIndex
from workbench.dialogue.understand import Understanding
from workbench.errors import EvaluationError
from workbench.evaluate import redial
from workbench.evaluate.simulation.attribute import AttributeSimulator
from workbench.limits import MAX_SLATE_ITEMS
from workbench.scored import ScoredItems

#: iEvaLM's published interactive results on ReDial (Wang et al., EMNLP 2023), R@1 / R@10 / R@50.
PUBLISHED: tuple[tuple[str, float, float, float | None], ...] = (
    ("KBRD, attribute mode (iEvaLM, published)", 0.039, 0.196, 0.436),
    ("ChatGPT, attribute mode (iEvaLM, published)", 0.191, 0.536, None),
    ("UniCRS, free chit-chat (iEvaLM, published)", 0.107, 0.317, 0.602),
)
MODES = ("attribute", "llm")
DEFAULT_KS = (1, 10, 50)
ASKING, CONTROL = "engine (asks)", "engine, never asks (control)"
#: Samples between progress lines.
PROGRESS_EVERY = 250
#: Most rounds a run may ask for.
MAX_ROUNDS = 20


class Simulator(Protocol):
    """A simulated user: what it says after the recommender's reply and slate."""

    mode: str

    def reply(self, target_id: str, assistant_text: str, slate: Sequence[str], turn: int = 0) -> str: ...

    def counts(self) -> dict[str, int]:
        """What the simulator had to correct so far (an LLM's redacted messages, its fallbacks)."""
        ...


@dataclass
class Episode:
    """One sample's simulated conversation for one system and one k."""

    sample_id: str
    target_id: str
    success_round: int | None = None
    questions: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the attribute of each question, in order

    def to_dict(self) -> dict[str, Any]:
        return {"sample_id": self.sample_id, "target_id": self.target_id, "success_round": self.success_round,
                "messages": self.messages}


def sample_id(s: redial.Sample) -> str:
    return f"{s.conversation}:{s.position}:{s.target}"


def contexts(ranker: Ranker, sample_list: Sequence[redial.Sample]
             ) -> list[tuple[ConversationState, Understanding | None]]:
    """Each sample's conversation state after its context and the last user message's understanding,
    by :func:`~workbench.evaluate.redial.replay`, as the static protocol replays them (each conversation once, in
    order; each sample gets its own copy)."""
    return [(state.copy(), last_user) for _, state, last_user in redial.replay(ranker, sample_list)]


def opening(engine: ChatEngine, state: ConversationState, ranked: ScoredItems, k: int, ask: bool
            ) -> tuple[str, list[str], dict[str, Any]]:
    """Round 0's reply: the static slate of ``k`` (titles listed), then the engine's question if it asks.

    Recorded into ``state`` as the app records a turn (the slate as shown, the question in the log),
    so later rounds neither show these films again nor ask the same thing twice.
    """
    slate = list(ranked.ids[:k])
    question = engine.question_for(state, ranked, len(slate)) if ask else None
    titles = [engine.catalog[i].display_title for i in slate]
    text = ("You might like " + ", ".join(titles) + ".") if titles else "I have nothing to suggest yet."
    if question is not None:
        text += " " + question.text
    state.add_turn("assistant", text)
    state.record_slate(slate)
    record = question.to_dict() if question is not None else {}
    state.log.append(TurnLog(message="", intent="recommend", slate=slate, question=record))
    return text, slate, record


def run_episode(engine: ChatEngine, simulator: Simulator, state: ConversationState, ranked: ScoredItems,
                s: redial.Sample, k: int, rounds: int, *, ask: bool) -> Episode:
    """Round 0 (the static slate) then up to ``rounds`` simulated exchanges, stopping at success."""
    ep = Episode(sample_id(s), s.target)
    text, slate, question = opening(engine, state, ranked, k, ask)
    ep.questions += bool(question)
    ep.asked += [question["attribute"]] if question else []
    ep.messages.append({"role": "assistant", "text": text, "items": slate})
    if s.target in slate:
        ep.success_round = 0
        return ep
    for r in range(1, rounds + 1):
        said = simulator.reply(s.target, text, slate, turn=r)
        ep.messages.append({"role": "user", "text": said})
        result = engine.respond(state, said, k=k)
        text = result.reply
        slate = [rec.item.item_id for rec in result.recommendations][:k]
        ep.questions += result.question is not None
        ep.asked += [result.question.attribute] if result.question is not None else []
        ep.messages.append({"role": "assistant", "text": text, "items": slate})
        if s.target in slate:
            ep.success_round = r
            break
    return ep


def recall_by_round(episodes: Sequence[Episode], rounds: int) -> list[float]:
    """Share of episodes that succeeded at or before each round 0..rounds."""
    n = max(len(episodes), 1)
    return [sum(e.success_round is not None and e.success_round <= r for e in episodes) / n
            for r in range(rounds + 1)]


def summarize(runs: Mapping[str, Mapping[int, Sequence[Episode]]], rounds: int, ks: Sequence[int],
              sample_list: Sequence[redial.Sample], train_counts: Mapping[str, float]) -> dict[str, Any]:
    """The report's metrics from every system's episodes per k."""
    results, mean_rounds, questions, asked, by_train = [], {}, {}, {}, {}
    for system, per_k in runs.items():
        curves = {k: recall_by_round(per_k[k], rounds) for k in ks}
        for r in range(rounds + 1):
            results.append({"system": system, "round": r, **{f"recall@{k}": round(curves[k][r], 4) for k in ks}})
        mean_rounds[system], questions[system], asked[system] = {}, {}, {}
        for k in ks:
            wins = [e.success_round for e in per_k[k] if e.success_round is not None]
            mean_rounds[system][f"recall@{k}"] = round(sum(wins) / len(wins), 3) if wins else None
            questions[system][f"recall@{k}"] = round(sum(e.questions for e in per_k[k]) / max(len(per_k[k]), 1), 3)
            asked[system][f"recall@{k}"] = dict(Counter(a for e in per_k[k] for a in e.asked).most_common())
        by_train[system] = _buckets(per_k, rounds, ks, sample_list, train_counts)
    return {"results": results, "mean_rounds_to_success": mean_rounds, "questions_per_sample": questions,
            "questions_by_attribute": asked, "by_train_mentions": by_train}


def _buckets(per_k: Mapping[int, Sequence[Episode]], rounds: int, ks: Sequence[int],
             sample_list: Sequence[redial.Sample], train_counts: Mapping[str, float]) -> dict[str, Any]:
    """Recall@k at round 0 and at the last round per bucket of how often ``--train`` mentions the target."""
    members: dict[str, list[int]] = {name: [] for name, _ in redial.TRAIN_BUCKETS}
    for j, s in enumerate(sample_list):
        count = train_counts.get(s.target, 0.0)
        members[next(name for name, bound in redial.TRAIN_BUCKETS if count <= bound)].append(j)
    n = max(len(sample_list), 1)
    out: dict[str, Any] = {}
    for name, js in members.items():
        row: dict[str, Any] = {"n": len(js), "share": round(len(js) / n, 4)}
        for k in ks:
            for r in (0, rounds):
                hits = sum(per_k[k][j].success_round is not None and per_k[k][j].success_round <= r for j in js)
                row[f"round{r}_recall@{k}"] = round(hits / len(js), 4) if js else 0.0
        out[name] = row
    return out


def tuned_weights(catalog: Catalog, retriever: Any, item_vectors: Any, train: Sequence[Mapping[str, Any]],
                  mentions: str, folds: int, titles: TitleIndex, log: Callable[[str], None] = print
                  ) -> EngineWeights:
    """The weights ``eval redial`` tunes for its last (fullest) system, on ``folds`` folds of ``train``."""
    spec = redial.SYSTEMS[-1]
    base = replace(EngineWeights(), **spec.base)
    val_cands, val_samples, ranker = [], [], None
    for fit_part, val_part in redial.validation_folds(train, folds):
        ranker = build_ranker(catalog, retriever, item_vectors, fit_part, titles)
        part = redial.samples(val_part, catalog, mentions)
        val_samples += part
        val_cands += redial.gather_all(ranker, part)
    assert ranker is not None
    weights, recall = redial.tune_weights(ranker, val_cands, val_samples, spec.grid, base, method=spec.method)
    log(f"tuned on {len(val_samples)} validation samples -> R@1/10/50 "
        f"{recall[1]:.3f}/{recall[10]:.3f}/{recall[50]:.3f}")
    return weights


def weights_from(path: str | Path) -> EngineWeights:
    """Weights from an ``eval redial --json`` report (its last system's) or a plain weights object."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EvaluationError(f"{path}: cannot read weights ({exc})") from None
    if isinstance(data, dict) and "results" in data:
        rows = [r for r in data["results"] if isinstance(r, dict) and r.get("weights")]
        if not rows:
            raise EvaluationError(f"{path}: the report's results hold no weights")
        data = rows[-1]["weights"]
    if not isinstance(data, dict):
        raise EvaluationError(f"{path}: expected a weights object or an eval redial report")
    unknown = sorted(set(data) - set(EngineWeights.__dataclass_fields__))
    if unknown:
        raise EvaluationError(f"{path}: unknown weight {unknown[0]!r}")
    return replace(EngineWeights(), **data)


def build_ranker(catalog: Catalog, retriever: Any, item_vectors: Any, train: Sequence[Mapping[str, Any]],
                 titles: TitleIndex) -> Ranker:
    """The ranker of ``eval redial``'s last system (hybrid recommender, search on), fitted on ``train``."""
    return redial.build_eval_ranker(catalog, retriever, item_vectors, train, redial.SYSTEMS[-1].recommender,
                                    search=True, titles=titles)


def engines(ranker: Ranker, weights: EngineWeights, titles: TitleIndex, questions: QuestionPolicy | None = None
            ) -> dict[str, ChatEngine]:
    """The asking engine (with ``questions``, default: the app's policy) and its never-asking control over
    one weighted ranker (everything else shared)."""
    tuned = ranker.with_weights(weights)
    template = TemplateGenerator()  # the simulated user reads template replies (no model, no deadline)
    asking = ChatEngine(understander=ranker.understander, ranker=tuned, explainer=Explainer(ranker.catalog),
                        grounder=Grounder(ranker.catalog, titles, instructions=INSTRUCTIONS),
                        generator=FallbackGenerator(template, template),
                        questions=questions or QuestionPolicy(ranker.catalog))
    control = asking.with_parts(questions=None)
    return {ASKING: asking, CONTROL: control}


def simulate(engines_by_system: Mapping[str, ChatEngine], simulator: Simulator, sample_list: Sequence[redial.Sample],
             *, rounds: int = 5, ks: Sequence[int] = DEFAULT_KS, train_counts: Mapping[str, float] | None = None,
             log: Callable[[str], None] = print) -> tuple[dict[str, Any], dict[str, dict[int, list[Episode]]]]:
    """Run every system over ``sample_list``; returns the report and the episodes (system -> k -> list).

    All engines must share one ranker (round 0 is ranked once, by the first).
    """
    if not 0 <= rounds <= MAX_ROUNDS:
        raise EvaluationError(f"rounds must be 0-{MAX_ROUNDS}, got {rounds}")
    if not ks or any(not 1 <= k <= MAX_SLATE_ITEMS for k in ks):
        raise EvaluationError(f"every k must be 1-{MAX_SLATE_ITEMS} (the engine's slate limit), got {list(ks)}")
    if not sample_list:
        raise EvaluationError("no samples to simulate")
    first = next(iter(engines_by_system.values()))
    t0 = time.perf_counter()
    base = contexts(first.ranker, sample_list)
    pool = max(max(ks), first.questions.pool if first.questions else 0)
    ranked = [first.ranker.combine(first.ranker.gather(state, u), pool) for state, u in base]
    runs: dict[str, dict[int, list[Episode]]] = {}
    turns = 0
    for system, engine in engines_by_system.items():
        runs[system] = {}
        for k in ks:
            eps = []
            for j, ((state, _), r0, s) in enumerate(zip(base, ranked, sample_list, strict=True)):
                ep = run_episode(engine, simulator, state.copy(), r0, s, k, rounds,
                                 ask=engine.questions is not None)
                turns += sum(m["role"] == "user" for m in ep.messages)
                eps.append(ep)
                if (j + 1) % PROGRESS_EVERY == 0:
                    log(f"{system}, k={k}: {j + 1}/{len(sample_list)} samples ({time.perf_counter() - t0:.0f} s)")
            runs[system][k] = eps
            curve = recall_by_round(eps, rounds)
            log(f"{system}, k={k}: recall round 0 {curve[0]:.3f} -> round {rounds} {curve[-1]:.3f}")
    elapsed = time.perf_counter() - t0
    report = {"dataset": "redial", "mode": simulator.mode, "rounds": rounds, "n": len(sample_list)}
    report.update(summarize(runs, rounds, ks, sample_list, train_counts or {}))
    report["published"] = [{"system": name, "round": 5, "recall@1": r1, "recall@10": r10, "recall@50": r50,
                            "published": True} for name, r1, r10, r50 in PUBLISHED]
    report["simulator"] = simulator.counts()
    report["seconds"] = round(elapsed, 1)
    report["samples_per_s"] = round(len(sample_list) * len(engines_by_system) * len(ks) / elapsed, 2)
    report["simulated_turns"] = turns
    return report, runs


def format_table(report: Mapping[str, Any]) -> str:
    """Recall@k per round for every system, the published iEvaLM rows last and labelled."""
    keys = [key for key in report["results"][0] if key.startswith("recall@")]
    width = max(len(r["system"]) for r in [*report["results"], *report.get("published", [])])
    lines = [f"ReDial, simulated user ({report['mode']} mode), {report['rounds']} rounds, n={report['n']} samples",
             f"{'system':<{width}}  round  " + "  ".join(f"{k.replace('recall', 'R'):<6}" for k in keys)]
    for r in [*report["results"], *report.get("published", [])]:
        vals = "  ".join(f"{r[k]:.3f} " if r.get(k) is not None else "  -    " for k in keys)
        lines.append(f"{r['system']:<{width}}  {r['round']:<5}  {vals}")
    for system, q in report.get("questions_per_sample", {}).items():
        mr = report["mean_rounds_to_success"][system]
        lines.append(f"{system}: questions per sample " + ", ".join(f"{k} {v}" for k, v in q.items())
                     + "; mean rounds to success " + ", ".join(f"{k} {v}" for k, v in mr.items()))
    return "\n".join(lines)


def write_transcripts(path: str | Path, episodes: Sequence[Episode]) -> None:
    """One JSON line per sample: ``{"sample_id", "target_id", "success_round", "messages"}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for ep in episodes:
            f.write(json.dumps(ep.to_dict(), ensure_ascii=False) + "\n")


def attribute_simulator(catalog: Catalog) -> AttributeSimulator:
    return AttributeSimulator(catalog)


__all__ = [
    "ASKING", "CONTROL", "DEFAULT_KS", "MODES", "PUBLISHED", "Episode", "Simulator", "build_ranker", "contexts",
    "engines", "format_table", "opening", "recall_by_round", "run_episode", "sample_id", "simulate", "summarize",
    "tuned_weights", "weights_from", "write_transcripts",
]
