"""How much annotator feedback it takes to move the CF recommender (issue 14, part 3).

Annotator sessions are simulated with ReDial conversations: each conversation is one annotator
session whose judgements are the seeker's own answers in ``initiatorQuestions`` (liked -> like,
disliked -> dislike, not seen -> "haven't seen it"; films they said nothing about stay unjudged),
written as real feedback records (``make_record``) into a real ``JsonlFeedbackStore`` and read back
through ``feedback_interactions``: the same path ``refit recommender`` takes.

Two scenarios, both scored leave-one-out on held-out sessions (``evaluate.feedback.compare``:
HR@10, HR@50, NDCG@10, MRR, paired bootstrap 95% intervals over sessions):

* ``train-split`` (the issue's: ReDial *train* conversations as annotator sessions). The bundled
  interactions are built from those same 901 conversations, so the base model must not already
  contain them: seeded split into 150 held-out sessions, a feedback pool of 400 and a base of
  the other 351 conversations' bundled interactions. "before" = hybrid on the base; "after F" =
  refit on the base + the first F pool sessions. A reference row fits the base + the same 400
  conversations' *full* bundled interactions (suggested / seen / mentioned signals too).
* ``shipped-model``: the app's default model (all 901 train conversations) is "before"; ReDial
  *test* conversations are new annotators: 150 held out, F of the other 521 added as feedback.

Run (niced, in the background on a shared machine):
    nice -n 10 python bench/refit_feedback.py [--sizes 0,25,50,100,200,400] [--eval 150]
Writes bench/results/refit_feedback.json and prints the table.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, machine, table

from workbench.config import Settings
from workbench.errors import WorkbenchError
from workbench.evaluate.feedback import compare
from workbench.feedback import JsonlFeedbackStore, make_record
from workbench.feedback.signals import feedback_interactions, session_user
from workbench.interactions import Interactions
from workbench.limits import MAX_SLATE
from workbench.recommend.factory import build_recommender
from workbench.recommend.refit import combine
from workbench.services import load_core

REDIAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "redial"
ANNOTATOR = "redial-sim"


def conversations(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def judgements(conv: dict, catalog) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for movie_id, ans in (conv.get("initiatorQuestions") or {}).items():
        item = catalog.get(str(movie_id))
        if item is None:
            continue
        liked, seen = int(ans.get("liked", 2)), int(ans.get("seen", 2))
        label = {1: "like", 0: "dislike"}.get(liked) or ("not_seen" if seen == 0 else None)
        if label is not None and item.item_id not in out:
            out[item.item_id] = {"label": label, "rating": None}
    return out


def session_records(conv: dict, catalog) -> list:
    """One simulated annotator session: its judgements, MAX_SLATE cards per record (turn)."""
    judged = judgements(conv, catalog)
    ids = list(judged)
    recs = []
    for turn, start in enumerate(range(0, len(ids), MAX_SLATE)):
        chunk = ids[start:start + MAX_SLATE]
        slate = [{"item_id": i, "title": catalog[i].display_title, "rank": n + 1, "score": 0.0, "sources": {}}
                 for n, i in enumerate(chunk)]
        recs.append(make_record(
            annotator=ANNOTATOR, session_id=f"redial-{conv['conversationId']}", turn_index=turn, conversation=[],
            user_message=f"(simulated from ReDial conversation {conv['conversationId']})", reply="(simulated)",
            generator_backend="template", generator_model="", slate=slate,
            judgements={i: judged[i] for i in chunk}, catalog=catalog))
    return recs


def user_of(conv: dict) -> str:
    return session_user(ANNOTATOR, f"redial-{conv['conversationId']}")


def scenario(name, catalog, vectors, base, pool_convs, held_convs, sizes, store_dir, reference=None):
    store = JsonlFeedbackStore(store_dir, catalog=catalog)
    store.append_many([r for c in (*pool_convs, *held_convs) for r in session_records(c, catalog)])
    store.close()
    records = list(JsonlFeedbackStore(store_dir, catalog=catalog).read().records)
    held = feedback_interactions(records, catalog, sessions={user_of(c) for c in held_convs})
    t = time.perf_counter()
    before = build_recommender(catalog, base, vectors)
    fit_s = time.perf_counter() - t
    rows = []
    for f in sizes:
        if f > len(pool_convs):
            continue
        fb = feedback_interactions(records, catalog, sessions={user_of(c) for c in pool_convs[:f]})
        t = time.perf_counter()
        after = build_recommender(catalog, combine(base, fb), vectors) if f else before
        seconds = time.perf_counter() - t if f else fit_s
        res = compare(before, after, held, catalog, ks=(10, 50))
        rows.append(row(name, f"+{f} feedback sessions", f, len(fb), res, seconds))
        print(table([rows[-1]], list(rows[-1])), file=sys.stderr, flush=True)
    if reference is not None:
        label, inter = reference
        t = time.perf_counter()
        after = build_recommender(catalog, inter, vectors)
        rows.append(row(name, label, len(pool_convs), len(inter) - len(base),
                        compare(before, after, held, catalog, ks=(10, 50)), time.perf_counter() - t))
    return rows, held


def row(name, label, sessions, signals, res, seconds):
    d = res["difference"]
    return {
        "scenario": name, "model": label, "feedback_sessions": sessions, "feedback_signals": signals,
        "held_out_sessions": res["sessions"], "cases": res["cases"],
        "hr@10": res["after"]["hr@10"], "hr@50": res["after"]["hr@50"], "ndcg@10": res["after"]["ndcg@10"],
        "mrr": res["after"]["mrr"],
        "d_hr@10": d["hr@10"]["mean"], "d_hr@10_ci": [d["hr@10"]["low"], d["hr@10"]["high"]],
        "d_ndcg@10": d["ndcg@10"]["mean"], "d_ndcg@10_ci": [d["ndcg@10"]["low"], d["ndcg@10"]["high"]],
        "fit_s": round(seconds, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="0,25,50,100,200,400")
    ap.add_argument("--eval", type=int, default=150, help="held-out sessions per scenario")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenarios", default="train-split,shipped-model")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()
    settings = Settings.from_env()
    core = load_core(settings)
    catalog, vectors, shipped = core.catalog, core.retriever.index, core.interactions
    out_rows = []
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        if "train-split" in args.scenarios:
            train = [c for c in conversations(REDIAL / "train.jsonl") if judgements(c, catalog)]
            rng.shuffle(train)
            held, pool, rest = train[:args.eval], train[args.eval:args.eval + 400], train[args.eval + 400:]
            users = shipped.frame["user"].astype(str)
            keep = {f"redial:{c['conversationId']}" for c in rest}
            base = Interactions(shipped.frame[users.isin(keep)].reset_index(drop=True))
            full = {f"redial:{c['conversationId']}" for c in (*rest, *pool)}
            reference = (f"base + the same {len(pool)} conversations' full bundled interactions",
                         Interactions(shipped.frame[users.isin(full)].reset_index(drop=True)))
            print(f"train-split: base {len(rest)} conversations ({len(base)} rows), pool {len(pool)}, "
                  f"held out {len(held)}", file=sys.stderr, flush=True)
            rows, _ = scenario("train-split", catalog, vectors, base, pool, held, sizes, Path(tmp) / "a",
                               reference)
            out_rows += rows
        if "shipped-model" in args.scenarios:
            test = [c for c in conversations(REDIAL / "test.jsonl") if judgements(c, catalog)]
            rng.shuffle(test)
            held, pool = test[:args.eval], test[args.eval:]
            print(f"shipped-model: base = bundled interactions ({len(shipped)} rows), pool {len(pool)}, "
                  f"held out {len(held)}", file=sys.stderr, flush=True)
            rows, _ = scenario("shipped-model", catalog, vectors, shipped, pool, held,
                               sorted({*sizes, len(pool)}), Path(tmp) / "b")
            out_rows += rows
    cols = ["scenario", "model", "feedback_signals", "hr@10", "d_hr@10", "d_hr@10_ci", "ndcg@10", "d_ndcg@10",
            "d_ndcg@10_ci", "mrr", "fit_s"]
    print(table(out_rows, cols))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "refit_feedback.json"
    path.write_text(json.dumps({
        "benchmark": "refit_feedback", "command": "nice -n 10 python bench/refit_feedback.py " + " ".join(sys.argv[1:]),
        "seed": args.seed, "rows": out_rows, "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
