"""Reply quality of generators on held-out conversations: ``python -m workbench eval replies``.

Every model writes one reply for the same requests (the conversation so far and a slate of the
movies the human recommender named, :mod:`workbench.evaluate.reply_data`), run as the app runs
it (its own prompt builder, priming and sentence cap), and each reply goes through the app's
grounding (:class:`~workbench.dialogue.grounding.Grounder`). Per model:

* ``mentions_slate``: share of grounded replies that name at least one slate title (a reply replaced
  by the template reply does not count),
* ``grounding_fixes_per_reply``: spans grounding removed or corrected, per reply (raw reply),
* ``off_task``: share of raw replies that :class:`OffTaskDetector` flags; ``off_task_after``: the
  same detector on the replies as shown (after grounding; the issue's goal is on this one),
* ``distinct_2``: distinct word bigrams / all word bigrams over the grounded replies (Li et al. 2016),
* ``mean_words``: words per grounded reply,
* ``chrf`` / ``bleu``: corpus chrF and BLEU (``sacrebleu``) of the grounded replies against the
  human replies, titles in place of ``@id`` markers,
* ``seconds_per_reply``: wall time of ``generate`` per reply.

The grounded reply is what a user reads (:func:`ground_as_shown`: grounded as the engine grounds
it, the template reply where grounding left nothing on task), so similarity and diversity are
measured on it; echo and fixes are properties of what the model wrote, so they are measured before
grounding. ``grounding_fixes_by_kind`` sums the fixes of all replies by kind, and ``truth`` (with a
:class:`~workbench.evaluate.truth.TruthDetector`, as the command runs) gives the share of replies with
each kind of unsupported content before and after grounding, judged by a detector that shares no
code with the grounder.
Differences from the first model come with 95% paired bootstrap intervals (the same resampled
requests for every model; corpus chrF/BLEU recomputed from per-reply sufficient statistics;
distinct-2 over the distinct replies drawn, since a reply drawn twice would repeat its own bigrams).

It knows generators, grounding and metrics; it does not know files or gradio.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.dialogue.echo import ECHO_SHINGLE_WORDS, EchoDetector, sentence_key
from workbench.dialogue.explain import slate_summary
from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.grounding import GroundedText, Grounder
from workbench.dialogue.on_task import asks_fact
from workbench.dialogue.prompts import INSTRUCTIONS, PROMPT_EXAMPLES, build_messages
from workbench.dialogue.sentences import SentenceSplitter, title_heads
from workbench.errors import EvaluationError, GenerationError
from workbench.evaluate.reply_data import ReplyExample
from workbench.evaluate.truth import TRUTH_KINDS, TruthDetector, truth_block

#: The JSON's per-model metrics, in order (the issue's names).
METRICS = ("mentions_slate", "grounding_fixes_per_reply", "off_task", "distinct_2", "chrf", "bleu",
           "seconds_per_reply")
BOOTSTRAP_SAMPLES = 1000
_ROLE_LABEL_RE = re.compile(r"(?:^|[\s\"'(])(?:user|you|assistant|system|seeker|recommender)\s*:", re.IGNORECASE)
_WORD_RE = re.compile(r"[a-z0-9']+")
# "A Tale of Two Sisters (2003)": a title as the prompt and the replies write it
_TITLE_YEAR_RE = re.compile(r"(?:[A-Z0-9][\w'’:&.!-]*\s+(?:(?:of|the|and|a|an|in|on|to|for|with|vs\.?)\s+)*)*"
                            r"[A-Z0-9][\w'’:&.!-]*\s*\((?:19|20)\d\d\)")


def _masked(text: str, titles: Sequence[str]) -> str:
    """``text`` with each title as the word "title" (a title is no copy of the prompt)."""
    for t in sorted(set(titles), key=len, reverse=True):
        text = re.sub(re.escape(t), " title ", text, flags=re.IGNORECASE)
    return text


def _sentences(text: str, heads: Sequence[str] = ()) -> list[str]:
    splitter = SentenceSplitter(heads)
    pairs = splitter.feed(text) + splitter.finish()
    return [s.strip() for s, _ in pairs if s.strip()]


class OffTaskDetector:
    """Flags prose that is no reply to the user. The reasons, per raw reply:

    * ``echo``: a sentence the app's :class:`~workbench.dialogue.echo.EchoDetector` calls
      instruction echo: an instruction-style lead-in ("Your task:", "As an AI", "Instructions:",
      "You are a movie recommender", the prompt's labels "Candidates:", "Task:", "User:") or
      :data:`~workbench.dialogue.echo.ECHO_SHINGLE_WORDS` consecutive words of the instructions,
    * ``role_label``: a role label anywhere ("User:", "You:", "Assistant:", "Seeker:"): the
      model is writing the transcript instead of its turn,
    * ``prompt_copy``: a sentence that copies as many consecutive words of the prompt's
      conversation or its worked example (the candidates' facts are not counted: naming them
      is the task; nor are the titles of the slate and of the films the conversation names:
      "there's A Tale of Two Sisters (2003)" after the user named it copies a title, not the prompt),
    * ``repeat``: a sentence that repeats an earlier one (same folded words).
    """

    REASONS = ("echo", "role_label", "prompt_copy", "repeat")

    def __init__(self, instructions: Iterable[str] = INSTRUCTIONS):
        self._echo = EchoDetector(instructions)

    def reasons(self, reply: str, example: ReplyExample | None = None) -> list[str]:
        """The reasons ``reply`` is off task (empty: on task)."""
        found: list[str] = []
        heads = title_heads(r.item for r in example.request.recommendations) if example else ()
        sentences = _sentences(reply, heads)
        if any(self._echo.is_echo(s) for s in sentences):
            found.append("echo")
        if _ROLE_LABEL_RE.search(reply):
            found.append("role_label")
        if example is not None:
            titles = _TITLE_YEAR_RE.findall(" ".join([reply, *(t.text for t in example.request.turns)]))
            titles += [t for r in example.request.recommendations for t in (r.item.display_title, r.item.title)]
            copied = EchoDetector([*PROMPT_EXAMPLES, *(_masked(t.text, titles) for t in example.request.turns)],
                                  lead_ins=False)
            if any(copied.is_echo(_masked(s, titles)) and not self._echo.is_echo(s) for s in sentences
                   if len(_WORD_RE.findall(s.lower())) >= ECHO_SHINGLE_WORDS):
                found.append("prompt_copy")
        keys = [sentence_key(s) for s in sentences]
        keys = [k for k in keys if k]
        if len(keys) != len(set(keys)):
            found.append("repeat")
        return found


def _bigrams(text: str) -> list[tuple[str, str]]:
    words = _WORD_RE.findall(text.lower())
    return list(zip(words, words[1:], strict=False))


def distinct_n2(bigram_lists: Sequence[Sequence[tuple[str, str]]]) -> float:
    """Distinct-2: distinct bigrams over all bigrams of the replies (0 when there are none)."""
    total = sum(len(b) for b in bigram_lists)
    return len({g for b in bigram_lists for g in b}) / total if total else 0.0


@dataclass
class ModelReplies:
    """One model's replies to every example, and what each measured."""

    model: str
    raw: list[str]
    grounded: list[str]
    mentions: np.ndarray  # 1.0 where the grounded reply names a slate title
    fixes: np.ndarray
    off_task: np.ndarray
    off_task_reasons: list[list[str]]
    words: np.ndarray
    seconds: np.ndarray
    errors: int = 0
    #: per reply, the truth detector's kinds before grounding (as written) and after (as shown)
    truth_before: list[set[str]] = field(default_factory=list)
    truth_after: list[set[str]] = field(default_factory=list)
    #: per reply, whether the template reply was shown instead (grounding left nothing on task)
    replaced: list[bool] = field(default_factory=list)
    #: grounding fixes of all replies together, by kind
    fixes_by_kind: Counter[str] = field(default_factory=Counter)
    #: per reply, the off-task detector's reasons on the reply as shown (after grounding)
    off_task_after_reasons: list[list[str]] = field(default_factory=list)


def reply_key(model_key: str, example: ReplyExample) -> str:
    """The cache key of one model's reply to one example: the model and the exact prompt."""
    prompt = json.dumps(build_messages(example.request), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{model_key}\n{prompt}".encode()).hexdigest()


class ReplyCache:
    """Replies already written, in a JSON-lines file (``--replies FILE``): a killed or extended
    run generates only what is missing. Keyed by :func:`reply_key`; a line that does not parse
    (a run killed mid-write) is ignored."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path is not None else None
        self._rows: dict[str, dict[str, Any]] = {}
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self._rows[row["key"]] = row
                except (ValueError, KeyError, TypeError):
                    continue

    def get(self, key: str) -> dict[str, Any] | None:
        return self._rows.get(key)

    def put(self, key: str, text: str, seconds: float, error: bool) -> None:
        row = {"key": key, "text": text, "seconds": seconds, "error": error}
        self._rows[key] = row
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def replay_cache(report: Mapping[str, Any], examples: Sequence[ReplyExample], labels: Sequence[str]) -> ReplyCache:
    """The replies of an earlier report (its ``audit``: every reply as the model wrote it), as a cache
    keyed by model label: ``eval replies --replay`` grounds them again with the current grounder instead
    of generating them again. Each reply keeps its time when the report recorded it (``seconds``),
    else the model's mean ``seconds_per_reply``.

    Raises:
        EvaluationError: the report has no audit, lacks a model, or was run on other examples.
    """
    audit = report.get("audit") or []
    if len(audit) < len(examples):
        raise EvaluationError(f"--replay: the report holds {len(audit)} replies per model, {len(examples)} are needed "
                              "(same --data, --n and --seed as the run that wrote it)")
    means = {m["model"]: float(m.get("seconds_per_reply", 0.0)) for m in report.get("models", [])}
    cache = ReplyCache(None)
    for i, (e, a) in enumerate(zip(examples, audit, strict=False)):
        if e.request.turns and a.get("user") != e.request.turns[-1].text:
            raise EvaluationError(f"--replay: reply {i} answers another message ({a.get('user')!r}); "
                                  "use the --data, --n and --seed of the run that wrote the report")
        for label in labels:
            if label not in a:
                raise EvaluationError(f"--replay: the report has no replies of {label!r} (it has {sorted(means)})")
            row = a[label]
            cache.put(reply_key(label, e), row["raw"], float(row.get("seconds", means.get(label, 0.0))), False)
    return cache


_TEMPLATE = TemplateGenerator()


def shown_reply(grounded: GroundedText, request: GenerationRequest) -> tuple[str, bool]:
    """What the app shows for a grounded reply, as the engine composes it: the grounded text, with the
    slate summary when it names no slate film; the template reply when grounding left nothing on task
    (no sentence about films, or none that answers). Returns the text and whether it was replaced."""
    if not grounded.on_task or not grounded.text.strip():
        return _TEMPLATE.generate(request).strip(), True
    text = grounded.text.strip()
    if request.recommendations and not grounded.mentioned:
        text += slate_summary(request.recommendations)
    return text, False


def ground_as_shown(grounder: Grounder, text: str, request: GenerationRequest) -> tuple[GroundedText, str, bool]:
    """Ground ``text`` as the engine grounds a reply to ``request`` (the user's messages, the films they
    named, a fact question to answer) and compose what the app shows (:func:`shown_reply`)."""
    turns = request.turns
    allowed = grounder.mentions(" ".join(t.text for t in turns))
    last = turns[-1].text if turns else ""
    ask = [i.item_id for i in grounder.mentions(last)] if asks_fact(last) else []
    g = grounder.ground(text, request.recommendations, allowed=allowed, require_films=True, answer_for=ask,
                        user_text=" ".join(t.text for t in turns), message=last, complete=True)
    shown, replaced = shown_reply(g, request)
    return g, shown, replaced


def generate_replies(label: str, generator: Generator, examples: Sequence[ReplyExample], grounder: Grounder,
                     detector: OffTaskDetector, log: Callable[[str], None] = lambda line: None, *,
                     cache: ReplyCache | None = None, model_key: str | None = None,
                     truth: TruthDetector | None = None) -> ModelReplies:
    """Run ``generator`` on every example (or take its reply from ``cache``); ground and judge each.

    ``grounded`` holds what a user would see (:func:`ground_as_shown`); with ``truth``, each reply
    is also judged by the truth detector before and after grounding."""
    raw, grounded, reasons, reasons_after = [], [], [], []
    truth_before: list[set[str]] = []
    truth_after: list[set[str]] = []
    replaced_flags: list[bool] = []
    by_kind: Counter[str] = Counter()
    mentions, fixes, words, seconds = [], [], [], []
    errors = 0
    cache = cache or ReplyCache(None)
    for i, e in enumerate(examples):
        key = reply_key(model_key or label, e)
        hit = cache.get(key)
        if hit is not None:
            text, spent, failed = hit["text"], float(hit["seconds"]), bool(hit["error"])
        else:
            started = time.perf_counter()
            failed = False
            try:
                text = generator.generate(e.request)
            except GenerationError as exc:  # a failed reply counts (empty), it does not end the run
                log(f"{label}: reply {i}: {exc}")
                text, failed = "", True
            spent = time.perf_counter() - started
            cache.put(key, text, spent, failed)
        errors += failed
        seconds.append(spent)
        g, shown, replaced = ground_as_shown(grounder, text, e.request)
        raw.append(text)
        grounded.append(shown)
        replaced_flags.append(replaced)
        by_kind.update(g.fixes_by_kind)
        if truth is not None:
            user_text = " ".join(t.text for t in e.request.turns)  # the detector accepts names anyone said
            truth_before.append(truth.kinds(text, e.request.recommendations, user_text))
            truth_after.append(truth.kinds(shown, e.request.recommendations, user_text))
        mentions.append(1.0 if g.mentioned else 0.0)  # the model's own text, not a template replacement
        fixes.append(float(g.fixes))
        reasons.append(detector.reasons(text, e))
        reasons_after.append(detector.reasons(shown, e))
        words.append(float(len(shown.split())))
        if (i + 1) % 10 == 0 or i + 1 == len(examples):
            log(f"{label}: {i + 1}/{len(examples)} replies, {np.mean(seconds):.1f}s each")
    return ModelReplies(label, raw, grounded, np.array(mentions), np.array(fixes),
                        np.array([1.0 if r else 0.0 for r in reasons]), reasons, np.array(words),
                        np.array(seconds), errors, truth_before, truth_after, replaced_flags, by_kind,
                        reasons_after)


class _Scorer:
    """Every metric of one model's replies over any resample of the examples (index array)."""

    def __init__(self, replies: ModelReplies, references: Sequence[str]):
        from sacrebleu.metrics import BLEU, CHRF

        self.replies = replies
        self._bleu, self._chrf = BLEU(), CHRF()
        # sacrebleu's own sufficient statistics, one row per reply: a resample sums its rows
        refs = [list(references)]
        self._bleu_stats = np.array(self._bleu._extract_corpus_statistics(replies.grounded, refs), dtype=float)
        self._chrf_stats = np.array(self._chrf._extract_corpus_statistics(replies.grounded, refs), dtype=float)
        self._bigrams = [_bigrams(t) for t in replies.grounded]

    def score(self, idx: np.ndarray) -> dict[str, float]:
        r = self.replies
        return {
            "mentions_slate": float(r.mentions[idx].mean()),
            "grounding_fixes_per_reply": float(r.fixes[idx].mean()),
            "off_task": float(r.off_task[idx].mean()),
            # over the replies drawn, each once: a reply drawn twice would repeat its own bigrams
            "distinct_2": distinct_n2([self._bigrams[i] for i in np.unique(idx)]),
            "chrf": float(self._chrf._compute_score_from_stats(self._chrf_stats[idx].sum(axis=0).tolist()).score),
            "bleu": float(self._bleu._compute_score_from_stats(self._bleu_stats[idx].sum(axis=0).tolist()).score),
            "seconds_per_reply": float(r.seconds[idx].mean()),
            "mean_words": float(r.words[idx].mean()),
        }


def compare_replies(runs: Sequence[ModelReplies], references: Sequence[str], *,
                    samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> dict[str, Any]:
    """The report: per model the metrics, and for every model after the first the difference
    from the first with a 95% paired bootstrap interval (``vs_first``)."""
    if not runs:
        raise EvaluationError("eval replies: no models")
    n = len(references)
    if n == 0 or any(len(r.raw) != n for r in runs):
        raise EvaluationError("eval replies: every model needs one reply per example")
    scorers = [_Scorer(r, references) for r in runs]
    everything = np.arange(n)
    points = [s.score(everything) for s in scorers]
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, n, n) for _ in range(samples)]
    first = [scorers[0].score(idx) for idx in draws]
    models = []
    for k, (run, scorer, point) in enumerate(zip(runs, scorers, points, strict=True)):
        entry: dict[str, Any] = {"model": run.model, **{m: round(point[m], 4) for m in METRICS}}
        entry["mean_words"] = round(point["mean_words"], 2)
        entry["errors"] = run.errors
        entry["off_task_reasons"] = {reason: sum(reason in rs for rs in run.off_task_reasons)
                                     for reason in OffTaskDetector.REASONS}
        if run.off_task_after_reasons:
            entry["off_task_after"] = round(sum(bool(rs) for rs in run.off_task_after_reasons) / n, 4)
            entry["off_task_after_reasons"] = {reason: sum(reason in rs for rs in run.off_task_after_reasons)
                                               for reason in OffTaskDetector.REASONS}
        entry["grounding_fixes_by_kind"] = dict(sorted(run.fixes_by_kind.items()))
        if run.truth_before:
            entry["truth"] = truth_block(run.truth_before, run.truth_after, run.replaced)
        if k:
            boot = [scorer.score(idx) for idx in draws]
            entry["vs_first"] = {}
            for m in (*METRICS, "mean_words"):
                diffs = np.array([b[m] - f[m] for b, f in zip(boot, first, strict=True)])
                low, high = np.percentile(diffs, [2.5, 97.5])
                entry["vs_first"][m] = {"diff": round(point[m] - points[0][m], 4),
                                        "ci95": [round(float(low), 4), round(float(high), 4)]}
        models.append(entry)
    return {"n": n, "models": models, "bootstrap_samples": samples, "seed": seed}


def evaluate_replies(generators: Mapping[str, Generator], examples: Sequence[ReplyExample], grounder: Grounder,
                     *, seed: int = 0, log: Callable[[str], None] = lambda line: None,
                     cache: ReplyCache | None = None, model_keys: Mapping[str, str] | None = None,
                     truth: TruthDetector | None = None) -> dict[str, Any]:
    """Every generator (first = the baseline) on every example: :func:`compare_replies`'s report,
    plus the first replies of each model as samples to read.

    Args:
        cache: replies already written (see :class:`ReplyCache`); new ones are added to it.
        model_keys: what identifies each model in the cache (default: its label); a fine-tuned
            folder's key includes its weights, so a new fine-tune at the same path never reuses
            the old one's replies.
        truth: the truth detector (:mod:`workbench.evaluate.truth`): each model's entry gains a
            ``truth`` block (shares of replies with each kind of unsupported content, before and
            after grounding), and ``audit`` holds every reply as written and as shown.
    """
    if not examples:
        raise EvaluationError("eval replies: no examples (no recommender turn mentions a catalogue movie)")
    detector = OffTaskDetector()
    keys = model_keys or {}
    runs = [generate_replies(label, gen, examples, grounder, detector, log, cache=cache,
                             model_key=keys.get(label, label), truth=truth)
            for label, gen in generators.items()]
    report = compare_replies(runs, [e.target for e in examples], seed=seed)
    report["samples"] = [
        {"user": examples[i].request.turns[-1].text, "human": examples[i].target,
         **{run.model: run.raw[i] for run in runs}}
        for i in range(min(3, len(examples)))
    ]
    if truth is not None:  # every reply, to audit by hand (bench/truth_audit.py)
        report["audit"] = [
            {"user": examples[i].request.turns[-1].text if examples[i].request.turns else "",
             "slate": [r.item.display_title for r in examples[i].request.recommendations],
             **{run.model: {"raw": run.raw[i], "shown": run.grounded[i], "replaced": run.replaced[i],
                            "before": sorted(run.truth_before[i]), "after": sorted(run.truth_after[i]),
                            "seconds": round(float(run.seconds[i]), 3)}
                for run in runs}}
            for i in range(len(examples))
        ]
    return report


def format_table(report: Mapping[str, Any]) -> str:
    """The report as a text table; differences from the first model with their intervals."""
    header = ["model", "slate", "fixes/reply", "off-task", "distinct-2", "chrF", "BLEU", "words", "s/reply"]
    keys = ["mentions_slate", "grounding_fixes_per_reply", "off_task", "distinct_2", "chrf", "bleu", "mean_words",
            "seconds_per_reply"]
    lines = [f"n = {report['n']} held-out recommender turns", "  ".join(f"{h:>12}" for h in header)]
    for entry in report["models"]:
        lines.append("  ".join([f"{entry['model'][-12:]:>12}", *(f"{entry[k]:>12.3f}" for k in keys)]))
        for m, d in entry.get("vs_first", {}).items():
            if m in keys:
                lo, hi = d["ci95"]
                excl = "" if lo <= 0 <= hi else " *"
                lines.append(f"{'':>14}{m}: {d['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}]{excl}")
    truths = [(e["model"], e["truth"]) for e in report["models"] if e.get("truth", {}).get("before")]
    if truths:
        kinds = [*TRUTH_KINDS, "any"]
        lines += ["", "truth: share of replies with unsupported content, before -> after grounding",
                  "  ".join(f"{h:>14}" for h in ["model", *kinds, "replaced"])]
        for model, t in truths:
            cells = [f"{t['before'][k]:.3f}->{t['after'][k]:.3f}" for k in kinds]
            lines.append("  ".join(f"{c:>14}" for c in [model[-14:], *cells, f"{t['replaced_by_template']:.3f}"]))
    return "\n".join(lines)
