"""Benchmark: fact grounding (false claims about films), instruction echo and repeats (issue 16.3, 16.5).

Replies are written by the template generator for slates of real catalogue items (the most
mentioned films with a director, cast, year and genres), each followed by synthetic claim
sentences about its films: half true, half corrupted by swapping in another film's director,
cast member, year, decade or genre (always one that is wrong for this film). A share of replies
also gets an instruction echo ("Your task: ...", a copy of a prompt task line) or a repeated
sentence. Everything is grounded with one :class:`~workbench.dialogue.grounding.Grounder`.

Reported:

* ``contradicted_before`` / ``contradicted_after``: share of sentences that hold a false claim,
  in the replies as written and as grounded (a corrected sentence no longer holds one);
* per kind: false claims caught (corrected or dropped) and true claims touched;
* ``false_positive_rate``: share of true sentences (template prose and true claims) changed or dropped;
* echo and repeats: how many injected ones were dropped, and how often they fire on clean replies;
* ``fixes_by_kind`` over all replies, and grounding time per reply.

    python bench/bench_fact_grounding.py [n_replies]

Writes ``bench/results/bench_fact_grounding.json``.
"""

from __future__ import annotations

import collections
import json
import random
import sys
import time

from _common import RESULTS, machine, table

import workbench.dialogue.generators  # noqa: F401  (imported before prompts: prompts-first is an import cycle)
from workbench.catalog import Item, load_catalog
from workbench.config import Settings
from workbench.dialogue import prompts
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.sentences import SentenceSplitter
from workbench.dialogue.titles import TitleIndex
from workbench.dialogue.types import Recommendation, Turn
from workbench.filters import item_genre_keys

SEED = 16
SLATE_SIZE = 3
POOL = 400  # most-mentioned complete items drawn from
GENRE_NOUNS = {"comedy": "comedy", "horror": "horror film", "western": "western", "musical": "musical",
               "animation": "animated film", "science fiction": "science fiction film", "romance": "romance",
               "documentary": "documentary", "war": "war film", "superhero": "superhero film"}
ECHOES = ("Your task: Choose a different option based on the provided choices.",
          "This is the original request:", "Instructions: reply in 2 to 4 short sentences.",
          prompts._TASKS["recommend"], prompts.SYSTEM_PROMPT.split(". ")[2] + ".")


def _claims(item: Item, other: Item, rng: random.Random) -> list[tuple[str, str, bool]]:
    """(sentence, kind, true) claims about ``item``; the false ones take a value from ``other``."""
    out: list[tuple[str, str, bool]] = []
    t = item.display_title
    if other.directors[0] not in item.directors:
        d = rng.choice([item.directors[0], other.directors[0]])
        out.append((f"I picked {t} because of the director, {d}.", "person", d in item.directors))
    wrong_cast = [c for c in other.cast[:3] if c not in item.cast and c not in item.directors]
    if wrong_cast:
        c = rng.choice([item.cast[0], wrong_cast[0]])
        out.append((f"{item.title} is a treat, starring {c}.", "person", c in item.cast))
    if other.year != item.year:
        y = rng.choice([item.year, other.year])
        out.append((f"{item.title}, which was released in {y}, holds up well.", "year", y == item.year))
    if other.year // 10 != item.year // 10:
        dec = rng.choice([item.year, other.year]) // 10 * 10
        out.append((f"{item.title} is a {dec}s classic.", "year", dec == item.year // 10 * 10))
    mine = item_genre_keys(item)
    wrong_genres = [g for g in GENRE_NOUNS if g not in mine and g in item_genre_keys(other)]
    right_genres = [g for g in GENRE_NOUNS if g in mine]
    if wrong_genres and right_genres:
        g = rng.choice([right_genres[0], wrong_genres[0]])
        out.append((f"{item.title} is a fine {GENRE_NOUNS[g]}.", "genre", g in mine))
    return out


def _sentences(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return [s for s, _ in (*splitter.feed(text), *splitter.finish())]


def main() -> None:
    n_replies = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rng = random.Random(SEED)
    catalog = load_catalog(Settings().catalog)
    pool = sorted((i for i in catalog if i.directors and len(i.cast) >= 2 and i.year and i.genres),
                  key=lambda i: -i.mentions)[:POOL]
    titles = TitleIndex(catalog)
    grounder = Grounder(catalog, titles, instructions=[prompts.SYSTEM_PROMPT, *prompts._TASKS.values()])
    gen = TemplateGenerator()
    counts: collections.Counter[str] = collections.Counter()
    by_kind: collections.Counter[str] = collections.Counter()
    fixes: collections.Counter[str] = collections.Counter()
    elapsed = 0.0
    for _ in range(n_replies):
        slate = rng.sample(pool, SLATE_SIZE)
        recs = tuple(Recommendation(item, r, 1.0 / r, reason=f"a {item.genres[0].lower()} film")
                     for r, item in enumerate(slate, 1))
        request = GenerationRequest(turns=(Turn("user", "Recommend me something good."),), recommendations=recs)
        base = gen.generate(request)
        labelled: list[tuple[str, str, bool]] = [(s, "prose", True) for s in _sentences(base)]
        for item in slate:
            labelled += _claims(item, rng.choice([o for o in pool if o is not item]), rng)
        injected = ""
        if rng.random() < 0.2:
            injected = "echo"
            labelled.insert(rng.randrange(len(labelled) + 1), (rng.choice(ECHOES), "echo", False))
        elif rng.random() < 0.25:
            injected = "repeat"
            labelled.append((labelled[0][0], "repeat", False))
        counts[f"replies_with_{injected or 'no_injection'}"] += 1
        text = "\n".join(s for s, _, _ in labelled)
        t0 = time.perf_counter()
        out = grounder.ground(text, slate)
        elapsed += time.perf_counter() - t0
        fixes.update(out.fixes_by_kind)
        shown = set(_sentences(out.text))
        seen_repeat = False
        for sentence, kind, true in labelled:
            kept = sentence in shown
            if kind == "repeat":
                by_kind["repeat_injected"] += 1
                by_kind["repeat_dropped"] += out.fixes_by_kind.get("repeat", 0) > 0
                seen_repeat = True
                continue
            if kind == "echo":
                by_kind["echo_injected"] += 1
                by_kind["echo_dropped"] += not kept
                continue
            counts["sentences"] += 1
            if not true:
                counts["contradicted_before"] += 1
                by_kind[f"{kind}_false"] += 1
                by_kind[f"{kind}_false_caught"] += not kept
                counts["contradicted_after"] += kept
            else:
                counts["true"] += 1
                by_kind[f"{kind}_true"] += 1
                by_kind[f"{kind}_true_touched"] += not kept
                counts["true_touched"] += not kept
        if not injected and not seen_repeat:
            counts["clean_replies"] += 1
            counts["clean_replies_with_echo_or_repeat_fix"] += bool(
                out.fixes_by_kind.get("echo") or out.fixes_by_kind.get("repeat"))
    n = counts["sentences"]
    rows = []
    for kind in ("person", "year", "genre"):
        f, t = by_kind[f"{kind}_false"], by_kind[f"{kind}_true"]
        rows.append({"claim": kind, "false": f, "caught": by_kind[f"{kind}_false_caught"],
                     "caught_rate": round(by_kind[f"{kind}_false_caught"] / max(f, 1), 3), "true": t,
                     "true_touched": by_kind[f"{kind}_true_touched"]})
    rows.append({"claim": "prose", "false": 0, "caught": 0, "caught_rate": 0.0, "true": by_kind["prose_true"],
                 "true_touched": by_kind["prose_true_touched"]})
    report = {
        "replies": n_replies, "sentences": n, "seed": SEED,
        "contradicted_before": round(counts["contradicted_before"] / n, 4),
        "contradicted_after": round(counts["contradicted_after"] / n, 4),
        "false_positive_rate": round(counts["true_touched"] / max(counts["true"], 1), 4),
        "by_claim": rows,
        "echo": {"injected": by_kind["echo_injected"], "dropped": by_kind["echo_dropped"]},
        "repeat": {"injected": by_kind["repeat_injected"], "dropped": by_kind["repeat_dropped"]},
        "clean_replies": counts["clean_replies"],
        "clean_replies_with_echo_or_repeat_fix": counts["clean_replies_with_echo_or_repeat_fix"],
        "fixes_by_kind": dict(fixes),
        "ms_per_reply": round(1000 * elapsed / n_replies, 3),
        "machine": machine(),
    }
    print(table(rows, ["claim", "false", "caught", "caught_rate", "true", "true_touched"]))
    for key in ("sentences", "contradicted_before", "contradicted_after", "false_positive_rate", "echo", "repeat",
                "clean_replies", "clean_replies_with_echo_or_repeat_fix", "fixes_by_kind", "ms_per_reply"):
        print(f"{key}: {report[key]}")
    print(f"load average (1 min): {report['machine']['load_average_1m']:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_fact_grounding.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
