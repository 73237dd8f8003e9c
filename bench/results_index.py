"""The index of bench/results/: one row per result file (what produced it, when, the load), in bench/RESULTS.md.

    python bench/results_index.py            # rewrite the table in bench/RESULTS.md
    python bench/results_index.py --check    # exit 1 when a result file has no row or the table is stale

"When" and "load" come from the file itself (its ``machine`` block: ``when``, the 1-minute load
average) where the benchmark recorded them, else "when" is the date of the file's last commit and the
load is unknown ("-"). What produced a file is declared below, once: a new result file needs a line
in ``PRODUCERS`` (the check says which).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
INDEX = ROOT / "bench" / "RESULTS.md"
BEGIN = "<!-- BEGIN GENERATED: results (python bench/results_index.py) -->"
END = "<!-- END GENERATED: results -->"
REDIAL = "--train ../shared/data/redial/train.jsonl --data ../shared/data/redial/test.jsonl"

# file -> (the command that wrote it, where its numbers are discussed)
PRODUCERS: dict[str, tuple[str, str]] = {
    "annotator_quality.json": ("python bench/annotator_quality.py",
                               "../docs/annotation-quality.md#measured-a-simulated-team-of-four-one-answering-at-random"),
    "annotator_quality_400.json": ("python bench/annotator_quality.py --tasks 400 --gold 40 "
                                   "--out bench/results/annotator_quality_400.json",
                                   "../docs/annotation-quality.md#measured-a-simulated-team-of-four-one-answering-at-random"),
    "app_load.json": ("python bench/app_load.py --concurrency 8,32", "RESULTS.md#fast-turns-issue-17"),
    "app_load_api.json": ("python bench/app_load.py --concurrency 8 --out app_load_api.json",
                          "../docs/api.md#measured-20-users-x-5-turns"),
    "app_load_api_nohold.json": ("python bench/app_load.py --concurrency 8 --clients gradio_client,api "
                                 "(HoldQueueStream taken out for this run)", "../docs/api.md#measured-20-users-x-5-turns"),
    "app_load_api_hold.json": ("python bench/app_load.py --concurrency 8 --clients gradio_client,api",
                               "../docs/api.md#measured-20-users-x-5-turns"),
    "zerogpu_check.json": ("python bench/gpu/zerogpu_check.py (on a GPU machine)", "../docs/spaces.md#zerogpu"),
    "app_load_openvino_batched.json": ("PYTHONPATH=. <venv with openvino-genai>/bin/python bench/app_load.py --generator "
                                       "openvino --generator-batching --users 20 --turns 3 --concurrency 0 --clients http "
                                       "--out app_load_openvino_batched.json", "../docs/serving.md#through-the-app-20-users-x-3-turns"),
    "app_load_openvino.json": ("PYTHONPATH=. <venv with openvino-genai>/bin/python bench/app_load.py --generator openvino "
                               "--users 20 --turns 3 --concurrency 0 --clients http --out app_load_openvino.json",
                               "../docs/serving.md#through-the-app-20-users-x-3-turns"),
    "app_load_transformers_3turns.json": ("python bench/app_load.py --generator transformers --users 20 --turns 3 "
                                          "--concurrency 0 --clients http --out app_load_transformers_3turns.json",
                                          "../docs/serving.md#through-the-app-20-users-x-3-turns"),
    "app_load_auto.json": ("python bench/app_load.py --generator auto --concurrency 8 --clients http",
                           "RESULTS.md#fast-turns-issue-17"),
    "app_load_before_analytics.json": ("python bench/app_load.py --concurrency 8,32 (before quiet_queue_analytics)",
                                       "RESULTS.md#fast-turns-issue-17"),
    "app_load_load15.json": ("python bench/app_load.py (at load 15)", "RESULTS.md#fast-turns-issue-17"),
    "app_load_torch_2_threads.txt": ("python bench/app_load.py (torch on 2 threads, load 20)",
                                     "RESULTS.md#fast-turns-issue-17"),
    "app_memory.json": ("python bench/app_memory.py", "RESULTS.md#fast-turns-issue-17"),
    "app_memory_auto.json": ("python bench/app_memory.py --generator auto --turns 10,50",
                             "RESULTS.md#fast-turns-issue-17"),
    "app_startup.json": ("python bench/app_startup.py --warm-runs 2", "RESULTS.md#app-start-up"),
    "arena_turn.json": ("nice python bench/arena_turn.py", "../docs/arena.md"),
    "bench_fact_grounding.json": ("python bench/bench_fact_grounding.py", "-"),
    "bench_projects.json": ("python bench/bench_projects.py", "../docs/annotation-projects.md"),
    "dialogue_llm.json": ("python bench/dialogue_llm.py", "RESULTS.md#app-and-store"),
    "dialogue_turn.json": ("python bench/dialogue_turn.py", "RESULTS.md#app-and-store"),
    "embed_threads.json": ("python bench/embed_threads.py", "RESULTS.md#fast-turns-issue-17"),
    "eval_default.json": ("python -m workbench eval --json bench/results/eval_default.json",
                          "../docs/evaluation.md#movielens-100k-python--m-workbench-eval-movielens"),
    "eval_default.png": ("(the chart of eval_default.json)", "-"),
    "eval_movielens.json": ("python -m workbench eval movielens --json bench/results/eval_movielens.json",
                            "../docs/evaluation.md#movielens-100k-python--m-workbench-eval-movielens"),
    "eval_movielens.png": ("(the chart of eval_movielens.json)", "-"),
    "eval_redial_gold.json": (f"python -m workbench eval redial {REDIAL} --mentions gold",
                              "../docs/evaluation.md#redial-python--m-workbench-eval-redial"),
    "eval_redial_gold_notune.json": (f"python -m workbench eval redial {REDIAL} --mentions gold --no-tune",
                                     "../docs/using.md#live-card-feedback-what-you-mark-on-a-card-changes-the-next-turn"),
    "eval_redial_text.json": (f"python -m workbench eval redial {REDIAL} --mentions text",
                              "../docs/evaluation.md#redial-python--m-workbench-eval-redial"),
    "eval_replies_redial.json": ("python -m workbench eval replies --data ../shared/data/redial/test.jsonl "
                                 "--model smollm2-135m-instruct --model /tmp/ft-full --model template --n 150",
                                 "../docs/feedback-and-training.md#judging-replies-python--m-workbench-eval-replies"),
    "eval_replies_adapter.json": ("python -m workbench eval replies --data ../shared/data/redial/test.jsonl "
                                  "--model smollm2-135m-instruct --model default --n 300",
                                  "../docs/finetuning.md#measured-base-vs-the-shipped-adapter"),
    "eval_replies_redial_30steps.json": ("python -m workbench eval replies ... --n 40 (the 30-step fine-tune)",
                                         "../docs/feedback-and-training.md#judging-replies-python--m-workbench-eval-replies"),
    "eval_simulate60_before_understanding.json": (f"python -m workbench eval simulate {REDIAL} --limit 60 --no-control "
                                                  "--weights bench/results/eval_redial_gold.json (main at 44dd4a6)",
                                                  "../docs/understanding.md"),
    "eval_simulate60_after_understanding.json": (f"python -m workbench eval simulate {REDIAL} --limit 60 --no-control "
                                                 "--weights bench/results/eval_redial_gold.json (branch u-eval)",
                                                 "../docs/understanding.md"),
    "eval_redial_gold_notune_before_understanding.json": (f"python -m workbench eval redial {REDIAL} --mentions gold "
                                                          "--no-tune (main at 44dd4a6)", "../docs/understanding.md"),
    "eval_redial_gold_notune_after_understanding.json": ("workbench.evaluate.redial.evaluate(..., mentions='gold', "
                                                         "tune=False, systems=SYSTEMS[3:]) (branch u-eval)",
                                                         "../docs/understanding.md"),
    "eval_redial_gold_notune_after_intent_model.json": ("workbench.evaluate.redial.evaluate(..., mentions='gold', "
                                                        "tune=False, systems=SYSTEMS[3:]) after the intent model and "
                                                        "the second understanding pass", "../docs/understanding.md"),
    "eval_understanding_after.json": ("python -m workbench eval understanding --split heldout --json OUT",
                                      "../docs/understanding.md"),
    "eval_understanding_rules_only.json": ("WORKBENCH_INTENT_MODEL=off python -m workbench eval understanding "
                                           "--split heldout --json OUT", "../docs/understanding.md"),
    "eval_understanding_before.json": ("python -m workbench eval understanding --split heldout --json OUT "
                                       "(the understander of 44dd4a6)", "../docs/understanding.md"),
    "eval_simulate.json": (f"python -m workbench eval simulate {REDIAL} --limit 200 --no-control "
                           "--weights bench/results/eval_redial_gold.json", "../docs/evaluation.md"),
    "eval_simulate_control.json": (f"python -m workbench eval simulate {REDIAL} --limit 200", "../docs/evaluation.md"),
    "eval_simulate_full.json": (f"python -m workbench eval simulate {REDIAL} --no-control "
                                "--weights bench/results/eval_redial_gold.json", "../docs/evaluation.md"),
    "eval_simulate_nonames.json": (f"python -m workbench eval simulate {REDIAL} --limit 200 --ask genre,decade,tag",
                                   "../docs/evaluation.md"),
    "eval_simulate_transcripts.jsonl": ("eval simulate ... --transcripts (with eval_simulate.json)",
                                        "../docs/evaluation.md"),
    "feedback_append.json": ("python bench/feedback_append.py", "RESULTS.md#app-and-store"),
    "finetune_generator_redial.json": ("python -m workbench finetune generator --redial "
                                       "../shared/data/redial/train.jsonl --max-steps 500 --train-layers 8 --lr 1e-4",
                                       "../docs/feedback-and-training.md#judging-replies-python--m-workbench-eval-replies"),
    "finetune_generator_adapter.json": ("python -m workbench finetune generator --model smollm2-135m-instruct "
                                        "--redial ../shared/data/redial/train.jsonl --lora-r 16 --adapter "
                                        "--train-layers 8 --lr 1e-3 --max-steps 250 --max-minutes 22 (132 steps)",
                                        "../docs/finetuning.md#training-it-again"),
    "finetune_generator_adapter_19steps.json": ("the same with --lr 2e-3 --max-steps 40 --max-minutes 33 (19 steps; "
                                                "bf16 emulated)", "../docs/finetuning.md"),
    "eval_replies_adapter_19steps.json": ("eval replies ... --model smollm2-135m-instruct --model default --n 300 "
                                          "(the 19-step adapter)", "../docs/finetuning.md"),
    "finetune_generator_redial_30steps.json": ("python -m workbench finetune generator --redial ... --max-steps 30",
                                               "../docs/feedback-and-training.md"),
    "finetune_retriever.json": ("python -m workbench finetune retriever --redial ../shared/data/redial/train.jsonl "
                                "--test ../shared/data/redial/test.jsonl --epochs 2 --max-seq-length 128",
                                "../docs/feedback-and-training.md"),
    "first_token.json": ("python bench/first_token.py", "RESULTS.md#fast-turns-issue-17"),
    "first_token_2threads.json": ("python bench/first_token.py --threads 2 --out first_token_2threads",
                                  "RESULTS.md#fast-turns-issue-17"),
    "first_token_load20.json": ("python bench/first_token.py (at load 20)", "RESULTS.md#fast-turns-issue-17"),
    "grounding_redial.json": ("python bench/grounding_redial.py", "-"),
    "grounding_redial_train.json": ("python bench/grounding_redial.py (train split)", "-"),
    "index_build.json": ("python bench/index_build.py", "RESULTS.md#retrieval-and-the-index"),
    "index_gpu.json": ("python bench/index_gpu.py (one H100, bench/gpu/)", "RESULTS.md#retrieval-and-the-index"),
    "index_scale.json": ("python bench/index_scale.py", "RESULTS.md#retrieval-and-the-index"),
    "index_search.json": ("python bench/index_search.py", "RESULTS.md#retrieval-and-the-index"),
    "llm_backends.json": ("nice -n 5 python bench/llm_backends.py --prompts 20 --max-new-tokens 48 --batch 8 "
                          "--batch-reps 2 --export-python <venv with optimum-intel>/bin/python (in a venv with "
                          "openvino-genai, onnxruntime-genai)", "../docs/serving.md#choosing-the-runtime"),
    "llm_backends_paired.json": ("nice -n 5 python bench/llm_backends.py --paired --runtimes transformers-fp32,"
                                 "openvino-int8,ortgenai-int8 --prompts 20 --max-new-tokens 48 --export-python <venv with "
                                 "optimum-intel>/bin/python --out llm_backends_paired", "../docs/serving.md#choosing-the-runtime"),
    "eval_replies_openvino.json": ("WORKBENCH_OPENVINO_EXPORT_PYTHON=<venv with optimum-intel>/bin/python python -m workbench "
                                   "eval replies --data ../shared/data/redial/test.jsonl --model default --model "
                                   "openvino:default --n 30 --json bench/results/eval_replies_openvino.json",
                                   "../docs/serving.md#choosing-the-runtime"),
    "llm_backends_llamacpp.json": ("PYTHONPATH=<llama_cpp site> python bench/llm_backends.py --n 4 --max-new-tokens 64 "
                                   "(issue 17's version of the script: transformers vs llama.cpp)",
                                   "RESULTS.md#fast-turns-issue-17"),
    "llm_batching.json": ("nice -n 10 python bench/llm_batching.py --levels 1,8,20 --max-new-tokens 32 --timeout-s 600",
                          "../docs/serving.md"),
    "llm_batching_deadline30.json": ("nice -n 10 python bench/llm_batching.py --levels 1,8,20 --max-new-tokens 48",
                                     "../docs/serving.md"),
    "llm_batching_openvino.json": ("PYTHONPATH=. nice -n 10 <venv with openvino-genai>/bin/python bench/llm_batching.py "
                                   "--generator openvino --levels 1,8,20",
                                   "../docs/serving.md#on-a-quieter-machine-2026-12-08-load-average-13-45"),
    "llm_batching_openvino_chat.json": ("PYTHONPATH=. nice -n 10 <venv with openvino-genai>/bin/python "
                                        "bench/llm_batching.py --generator openvino --levels 1,8,20 --prompts chat "
                                        "--out llm_batching_openvino_chat",
                                        "../docs/serving.md#on-a-quieter-machine-2026-12-08-load-average-13-45"),
    "llm_batching_transformers_quiet.json": ("nice -n 10 python bench/llm_batching.py --generator transformers "
                                             "--levels 1,8,20 --out llm_batching_transformers_quiet",
                                             "../docs/serving.md#on-a-quieter-machine-2026-12-08-load-average-13-45"),
    "llm_backends_llamacpp_load13.json": ("python bench/llm_backends.py --n 4 --max-new-tokens 64 (at load 13; "
                                          "issue 17's version)",
                                 "RESULTS.md#fast-turns-issue-17"),
    "refit_feedback.json": ("nice -n 10 python bench/refit_feedback.py", "../docs/feedback-and-training.md"),
    "replicas.json": ("python bench/replicas.py", "../docs/operations.md#running-it-for-a-team"),
    "retrieval_quality.json": ("python bench/retrieval_quality.py", "RESULTS.md#retrieval-and-the-index"),
    "review_queue.json": ("nice -n 10 python bench/review_queue.py --tasks 1000", "../docs/review-and-arena.md#the-review-queue"),
    "simulate.json": ("python bench/simulate.py --dialogues 30 --samples 40", "RESULTS.md#app-and-store"),
    # issue 26: the truth report, the hand audit, false positives on human replies, the demo dialogues
    "eval_replies_truth_base.json": ("python -m workbench eval replies --data ../shared/data/redial/test.jsonl "
                                     "--model smollm2-135m-instruct --model template --n 150",
                                     "../docs/grounding.md#the-truth-report"),
    "truth_audit_smollm2-135m-instruct.md": ("python bench/truth_audit.py bench/results/eval_replies_truth_base.json",
                                             "../docs/grounding.md#hand-audit"),
    "truth_audit_template.md": ("python bench/truth_audit.py bench/results/eval_replies_truth_base.json",
                                "../docs/grounding.md#hand-audit"),
    "truth_audit_verdicts.json": ("(written by hand: a person's verdict per reply)", "../docs/grounding.md#hand-audit"),
    "truth_audit_default.md": ("python bench/truth_audit.py bench/results/eval_replies_adapter_regrounded.json "
                               "--model default", "../docs/grounding.md#hand-audit"),
    "truth_audit_default-before.md": ("python bench/truth_audit.py bench/results/eval_replies_adapter.json "
                                      "--model default --as default-before", "../docs/grounding.md#hand-audit"),
    "eval_replies_adapter_regrounded.json": ("python -m workbench eval replies --data ../shared/data/redial/test.jsonl "
                                             "--n 300 --replay bench/results/eval_replies_adapter.json",
                                             "../docs/grounding.md#the-truth-report"),
    "grounding_human_replies.json": ("python bench/grounding_human_replies.py",
                                     "../docs/grounding.md#false-positives-on-human-replies"),
    "demo_dialogues.md": ("python bench/demo_dialogues.py --timeout 120", "../docs/grounding.md#demo-dialogues"),
    "demo_dialogues.json": ("python bench/demo_dialogues.py --timeout 120", "../docs/grounding.md#demo-dialogues"),
    "demo_dialogues_final.md": ("python bench/demo_dialogues.py --timeout 120 --only 1,2,3 --part a.json (and 4,5,6), "
                                "then --merge (final code; the run stopped at the deadline)",
                                "../docs/grounding.md#demo-dialogues"),
    "demo_dialogues_final.json": ("(the JSON of demo_dialogues_final.md)", "../docs/grounding.md#demo-dialogues"),
}


def _machine(data: object) -> dict:
    if not isinstance(data, dict):
        return {}
    machine = data.get("machine") or data.get("machine_at_start") or {}
    merged = dict(machine) if isinstance(machine, dict) else {}
    for key in ("load_average", "load_average_before"):
        if key in data:
            merged.setdefault(key, data[key])
    return merged


def _load(machine: dict) -> str:
    for key in ("load_average_1m", "load_avg_1m_at_start", "load_average_before", "loadavg_before",
                "loadavg", "load_average", "load_avg_1m_at_end"):
        value = machine.get(key)
        if isinstance(value, list):
            value = value[0]
        if isinstance(value, (int, float)):
            end = machine.get("load_avg_1m_at_end") if key == "load_avg_1m_at_start" else None
            return f"{value:.1f}" + (f"-{end:.1f}" if isinstance(end, (int, float)) else "")
    return "-"


def _git_date(path: Path) -> str:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%as", "--", str(path)],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "-"
    return f"{out[0]} (last commit)" if out else "-"


def rows() -> list[str]:
    lines = ["| file | produced by | when (UTC) | load (1 min) | discussed in |", "|---|---|---|---|---|"]
    for path in sorted(RESULTS.iterdir()):
        if path.name.startswith("."):
            continue
        machine = {}
        if path.suffix == ".json":
            machine = _machine(json.loads(path.read_text(encoding="utf-8")))
        when = str(machine.get("when", "")).replace("T", " ").replace("Z", "")[:16] or _git_date(path)
        command, where = PRODUCERS.get(path.name, ("(unknown: add it to bench/results_index.py)", "-"))
        link = "-" if where == "-" else f"[{where.split('#')[0].split('/')[-1]}]({where.removeprefix('RESULTS.md')})"
        if where.startswith("RESULTS.md"):
            link = f"[below]({where.removeprefix('RESULTS.md')})"
        lines.append(f"| `{path.name}` | `{command}` | {when} | {_load(machine)} | {link} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the table is stale")
    args = parser.parse_args(argv)
    text = INDEX.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n" + "\n".join(rows()) + f"\n{END}{tail}"
    unknown = [p.name for p in RESULTS.iterdir() if p.name not in PRODUCERS and not p.name.startswith(".")]
    if args.check:
        if new != text or unknown:
            print(f"bench/RESULTS.md is stale (files without a producer: {unknown}); run: python bench/results_index.py")
            return 1
        return 0
    INDEX.write_text(new, encoding="utf-8")
    for name in unknown:
        print(f"no producer declared for bench/results/{name}: add it to PRODUCERS", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
