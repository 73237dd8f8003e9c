"""``python -m workbench eval simulate``: interactive evaluation on ReDial with a simulated user."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.errors import EvaluationError
from workbench.limits import MAX_SLATE_ITEMS


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k must be comma-separated integers, got {text!r}") from None
    if not ks or any(not 1 <= k <= MAX_SLATE_ITEMS for k in ks):
        raise argparse.ArgumentTypeError(f"--k values must be 1-{MAX_SLATE_ITEMS}, got {text!r}")
    return ks


def register(eval_subparsers: argparse._SubParsersAction, eval_parser: argparse.ArgumentParser) -> None:
    p = eval_subparsers.add_parser(
        "simulate",
        help="Recall@k per round of the engine talking with a simulated user who has a ReDial target in mind",
        description="iEvaLM-style interactive evaluation: round 0 is the static ReDial protocol; in each further "
        "round a simulated user answers the engine's question from the target's catalogue facts (never its title) "
        "and the engine replies through its ordinary turn. Everything the engine learns comes from --train.",
    )
    p.add_argument("--train", type=Path, required=True, help="ReDial JSONL the engine learns from")
    p.add_argument("--data", type=Path, required=True, help="ReDial JSONL to evaluate on (e.g. test.jsonl)")
    p.add_argument("--rounds", type=int, default=5, help="simulated rounds after round 0 (default 5)")
    p.add_argument("--mode", choices=("attribute", "llm"), default="attribute",
                   help="attribute: answers from catalogue facts (offline, deterministic); llm: the settings' "
                   "generator backend plays the user")
    p.add_argument("--k", type=_ks, default=(1, 10, 50), dest="ks", help="slate sizes, one run each (default 1,10,50)")
    p.add_argument("--mentions", choices=("gold", "text"), default="gold",
                   help="gold: @movieId markers as linked items; text: titles the engine must link")
    p.add_argument("--limit", type=int, default=None, help="only the first N samples")
    p.add_argument("--json", type=Path, default=None, dest="json_out", help="write the report here")
    p.add_argument("--transcripts", type=Path, default=None,
                   help="write the asking engine's conversations here (JSONL, one line per sample)")
    p.add_argument("--transcript-k", type=int, default=10, help="the k whose conversations --transcripts writes")
    p.add_argument("--weights", type=Path, default=None,
                   help="engine weights from an `eval redial --json` report (its last system) instead of tuning")
    p.add_argument("--folds", type=int, default=5, help="validation folds carved from --train for tuning")
    p.add_argument("--no-control", action="store_true", help="skip the never-asking control system")
    p.add_argument("--ask", default=None,
                   help="attributes the engine may ask about, comma-separated (default: all of "
                   "genre,decade,director,actor,tag); e.g. genre,decade,tag for a user who knows no names")
    p.add_argument("--index-dir", default=None, help="item index directory (default: the settings' index_dir)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from workbench.catalog import load_catalog
    from workbench.config import Settings
    from workbench.dialogue.titles import TitleIndex
    from workbench.evaluate import redial
    from workbench.evaluate.simulation import protocol
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import open_retriever
    from workbench.services import require_saved_index

    if args.limit is not None and args.limit < 1:
        raise EvaluationError(f"--limit must be >= 1, got {args.limit}")
    if args.transcripts and args.transcript_k not in args.ks:
        raise EvaluationError(f"--transcript-k {args.transcript_k} is not one of --k {list(args.ks)}")
    settings = Settings.from_env()
    index_dir = args.index_dir or settings.index_dir
    require_saved_index(settings, index_dir)
    train = redial.load_dialogues(args.train)
    data = redial.load_dialogues(args.data)
    catalog = load_catalog(settings.catalog, settings.catalog_columns or None)
    embedder = load_embedder(settings.embed_model, settings.device, settings.cache_dir)
    retriever = open_retriever(catalog, embedder, index_dir, settings.index_kind)
    titles = TitleIndex(catalog)
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if args.mode == "llm":
        from workbench.evaluate.simulation.llm import llm_simulator

        simulator = llm_simulator(catalog, settings)
    else:
        simulator = protocol.attribute_simulator(catalog)
    weights = (protocol.weights_from(args.weights) if args.weights else
               protocol.tuned_weights(catalog, retriever, retriever.index, train, args.mentions, args.folds, titles,
                                      log=log))
    ranker = protocol.build_ranker(catalog, retriever, retriever.index, train, titles)
    policy = None
    if args.ask:
        from workbench.dialogue.question import QuestionPolicy

        policy = QuestionPolicy(catalog, attributes=[a.strip() for a in args.ask.split(",") if a.strip()])
    systems = protocol.engines(ranker, weights, titles, policy)
    if args.no_control:
        systems.pop(protocol.CONTROL)
    sample_list = redial.samples(data, catalog, args.mentions)
    if args.limit:
        sample_list = sample_list[: args.limit]
    report, runs = protocol.simulate(systems, simulator, sample_list, rounds=args.rounds, ks=args.ks,
                                     train_counts=redial.train_popularity(train, catalog), log=log)
    report["mentions"] = args.mentions
    report["weights"] = weights.to_dict()
    report["ask_attributes"] = list(systems[protocol.ASKING].questions.attributes)
    print(protocol.format_table(report))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json_out}")
    if args.transcripts:
        protocol.write_transcripts(args.transcripts, runs[protocol.ASKING][args.transcript_k])
        print(f"wrote {args.transcripts}")
    return 0
