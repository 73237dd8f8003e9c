"""``python -m workbench eval replies``: generators side by side on held-out ReDial recommender turns."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(eval_subparsers: argparse._SubParsersAction, eval_parser: argparse.ArgumentParser) -> None:
    p = eval_subparsers.add_parser(
        "replies",
        help="reply quality of generators (slate mentions, grounding fixes, off-task, distinct-2, chrF/BLEU, "
        "truth before/after grounding)",
        description=(
            "For recommender turns of --data that mention movies, every --model writes a reply for the same "
            "conversation and slate (the movies the person named), run as the app runs it, and grounded as "
            "the app grounds it. Differences from the first model come with 95%% bootstrap intervals. "
            "Use conversations no model was trained on (test.jsonl, or a fine-tune's held-out ones)."
        ),
    )
    p.add_argument("--data", type=Path, required=True, help="ReDial JSONL (e.g. test.jsonl)")
    p.add_argument("--model", action="append", default=None, dest="models", metavar="NAME_OR_PATH",
                   help="a generator: default (what WORKBENCH_GENERATOR=auto serves: the bundled base with the "
                   "shipped ReDial adapter merged in), smollm2-135m-instruct (the plain bundled base), a Hub id, a folder, 'template', or openai:MODEL "
                   "(MODEL on the server at WORKBENCH_OPENAI_BASE_URL, e.g. vLLM); "
                   "give it once per model, the first is the baseline")
    p.add_argument("--n", type=int, default=100, help="recommender turns, one per conversation first (default 100)")
    p.add_argument("--catalog", default=None, help="catalogue (default: the catalog setting)")
    p.add_argument("--seed", type=int, default=0, help="seeds the sample and the bootstrap")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument("--replies", type=Path, default=None, metavar="FILE",
                   help="JSON-lines cache of the replies: a killed or extended run only generates what is missing")
    p.add_argument("--replay", type=Path, default=None, metavar="REPORT",
                   help="ground the replies of an earlier --json report again with the current grounder instead of "
                   "generating them (same --data, --n and --seed; --model defaults to the report's models); "
                   "times are the report's")
    p.add_argument("--json", type=Path, default=None, dest="json_out", help="write the report here")
    p.set_defaults(func=_run)


def load_eval_generator(name: str, device: str):
    """The generator ``--model NAME`` names, configured as the app configures it (no fallback:
    a failed reply counts as an empty one). ``openai:MODEL`` is MODEL on the server at
    ``WORKBENCH_OPENAI_BASE_URL``; ``template`` the template generator; anything else a transformers model."""
    from workbench.config import Settings
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.dialogue.generators.transformers import TransformersGenerator

    if name == "template":
        return TemplateGenerator()
    settings = Settings.from_env()
    if name.startswith("openai:"):  # a model on an OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp)
        from workbench.dialogue.generators.openai_compat import OpenAIGenerator

        return OpenAIGenerator(settings.openai_base_url, name.removeprefix("openai:"), settings.openai_api_key,
                               timeout_s=max(settings.generator_timeout_s, 120.0), retries=settings.openai_retries,
                               max_new_tokens=settings.max_new_tokens)
    return TransformersGenerator(name, device=device, max_new_tokens=settings.max_new_tokens,
                                 cache_dir=settings.cache_dir, dtype=settings.generator_dtype,
                                 timeout_s=max(settings.generator_timeout_s, 120.0))


def _run(args: argparse.Namespace) -> int:
    from workbench.catalog import load_catalog
    from workbench.config import Settings
    from workbench.dialogue.grounding import Grounder
    from workbench.dialogue.prompts import INSTRUCTIONS
    from workbench.errors import EvaluationError
    from workbench.evaluate import replies, reply_data
    from workbench.evaluate.redial import load_dialogues
    from workbench.evaluate.truth import TruthDetector

    if args.n < 1:
        raise EvaluationError(f"--n must be >= 1, got {args.n!r}")
    replayed = json.loads(args.replay.read_text(encoding="utf-8")) if args.replay else None
    if args.models is None:
        if replayed is None:
            raise EvaluationError("eval replies: give --model (once per model), or --replay REPORT")
        args.models = [m["model"] for m in replayed["models"]]
    if len(set(args.models)) != len(args.models):
        raise EvaluationError(f"--model: each model once, got {args.models}")
    settings = Settings.from_env()
    catalog = load_catalog(args.catalog or settings.catalog, settings.catalog_columns or None)
    examples, _ = reply_data.redial_examples(load_dialogues(args.data), catalog)
    examples = reply_data.sample_examples(examples, args.n, seed=args.seed)
    if replayed is not None:
        return _replay(args, replayed, catalog, examples)
    generators = {name: load_eval_generator(name, args.device) for name in args.models}
    for gen in generators.values():  # load (and check manifests) before minutes of generating
        if hasattr(gen, "load"):
            gen.load()
    keys = {}
    for name, gen in generators.items():  # a fine-tune is identified by its weights, not its path
        manifest = getattr(gen, "manifest", None)
        keys[name] = f"{name}#{manifest['data_hash']}:{json.dumps(manifest['weights'], sort_keys=True)}" \
            if manifest else name
        if getattr(gen, "dtype", None):  # bfloat16 and float32 replies differ: never mix them
            keys[name] += f"@{gen.dtype}"
    grounder = Grounder(catalog, instructions=INSTRUCTIONS)
    report = replies.evaluate_replies(generators, examples, grounder, seed=args.seed,
                                      log=lambda line: print(line, file=sys.stderr),
                                      cache=replies.ReplyCache(args.replies), model_keys=keys,
                                      truth=TruthDetector(catalog))
    report = {**report, "data": str(args.data), "served": _served(generators)}
    _finish(args, report)
    return 0


class _Replayed:
    """Stands for a model under ``--replay``: every reply comes from the report, none is generated."""

    def __init__(self, name: str):
        self.name = name

    def generate(self, request):  # noqa: ANN001, ANN201 - only reached when the cache lacks a reply
        from workbench.errors import EvaluationError

        raise EvaluationError(f"--replay: no stored reply of {self.name!r} for this request")


def _replay(args: argparse.Namespace, replayed: dict, catalog, examples) -> int:  # noqa: ANN001
    """``--replay``: the stored replies grounded again (and judged again) by the current code."""
    from workbench.dialogue.grounding import Grounder
    from workbench.dialogue.prompts import INSTRUCTIONS
    from workbench.evaluate import replies
    from workbench.evaluate.truth import TruthDetector

    cache = replies.replay_cache(replayed, examples, args.models)
    report = replies.evaluate_replies({name: _Replayed(name) for name in args.models}, examples,
                                      Grounder(catalog, instructions=INSTRUCTIONS), seed=args.seed,
                                      log=lambda line: print(line, file=sys.stderr), cache=cache,
                                      truth=TruthDetector(catalog))
    served = replayed.get("served", {})
    report = {**report, "data": str(args.data), "served": {m: served.get(m, {"generator": m}) for m in args.models},
              "replayed_from": str(args.replay),
              "replayed_load_average": replayed.get("load_average")}
    _finish(args, report)
    return 0


def _finish(args: argparse.Namespace, report: dict) -> None:
    """Print the table and write the JSON."""
    from workbench.evaluate import replies

    try:
        import os

        report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    print(replies.format_table(report))
    for label, entry in report["served"].items():
        if entry["generator"] != f"transformers:{label}":
            print(f"{label} = {entry['generator']}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.json_out}")


def _served(generators: dict) -> dict[str, dict]:
    """Per ``--model``: the generator's own name (``transformers:BASE+ADAPTER`` for ``default``) and,
    for a fine-tune or an adapter, what its manifest says it was trained on."""
    out = {}
    for label, gen in generators.items():
        manifest = getattr(gen, "manifest", None) or {}
        entry = {"generator": str(getattr(gen, "name", label))}
        if getattr(gen, "adapter", None) is not None:
            entry["adapter"] = str(gen.adapter)
        entry.update({k: manifest[k] for k in ("kind", "base_model", "base_weights", "data_hash", "steps", "lora_r")
                      if k in manifest})
        out[label] = entry
    return out
