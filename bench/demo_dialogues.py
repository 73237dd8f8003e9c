"""Demo: ten fixed multi-turn conversations through the default generator and the template generator.

Issue 26.4. Each conversation (exclusions, refinements, questions about the films shown, thanks,
small talk, a bait for "where can I watch it") runs from a fresh state through the engine the
terminal chat builds (:func:`workbench.services.build_engine`: the configured catalogue, index,
recommender and the ``generator`` setting, ``auto`` by default: the bundled LLM, or the adapter
when one is configured), and again with the template generator on the same engine. The
transcripts, with each turn's slate, grounding fixes by kind and notes (a reply replaced by the
template says so), go to ``bench/results/demo_dialogues.md`` for a person to read; a JSON copy
with the load average goes beside it.

    python bench/demo_dialogues.py [--only 3] [--timeout 120]

``--timeout`` raises the generator's deadline (default: the ``generator_timeout_s`` setting) so a
slow shared CPU shows what the model writes rather than the fallback; the header records it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.config import Settings  # noqa: E402
from workbench.dialogue.generators.template import TemplateGenerator  # noqa: E402
from workbench.dialogue.types import TurnResult  # noqa: E402
from workbench.services import build_engine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "demo_dialogues.md"

#: (title, user messages): the fixed demo conversations.
CONVERSATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("crime, a question about the slate, thanks",
     ("I loved Heat, any other tense crime thrillers?", "Who directed the first one?", "Thanks!")),
    ("family animation, refined by year, a question",
     ("Something animated for my 8-year-old daughter", "Only films from after 2010 please",
      "Is the second one scary?", "great, thank you")),
    ("more like a film, already seen, compare",
     ("I really liked Inception", "I've already seen Interstellar", "Which of these is the oldest?")),
    ("romantic comedy with an exclusion",
     ("Can you suggest a romantic comedy?", "Nothing with Hugh Grant please", "What is the third one about?")),
    ("horror without gore, tell me more",
     ("I want a scary movie but not too gory", "Tell me more about the first one", "ok bye")),
    ("small talk first, then a western, a decade",
     ("hi there! how are you?", "I'm in the mood for a western", "any from the 90s?")),
    ("a sad day, something uplifting",
     ("I'm sad today, my dog died. Something uplifting?", "thank you, that's kind")),
    ("an actor, a cast question",
     ("Sci-fi with Harrison Ford?", "Who stars in the second one?", "great, thanks")),
    ("party comedies, an exclusion, a shop bait",
     ("Comedies for a party with friends", "No Adam Sandler", "Where can I watch them?", "ok thanks")),
    ("musicals, a dislike, why",
     ("Do you have any good musicals?", "I didn't like La La Land", "Why did you pick the first one?", "cool")),
)


def run_conversation(engine, messages: tuple[str, ...], generator=None) -> list[dict]:
    """Every turn of one conversation from a fresh state: message, reply, slate, fixes, notes."""
    state = engine.new_state("demo")
    turns = []
    for message in messages:
        started = time.perf_counter()
        result: TurnResult | None = None
        for piece in engine.stream(state, message, generator=generator):
            if isinstance(piece, TurnResult):
                result = piece
        assert result is not None
        turns.append({
            "user": message, "reply": result.reply, "seconds": round(time.perf_counter() - started, 1),
            "generator": result.generator, "fell_back": result.fell_back, "fallback_reason": result.fallback_reason,
            "slate": [r.item.display_title for r in result.recommendations],
            "grounding_fixes_by_kind": dict(result.grounding_fixes_by_kind), "notes": list(result.notes),
        })
    return turns


def markdown(report: dict) -> str:
    lines = ["# Demo dialogues", "",
             f"`python bench/demo_dialogues.py` on {report['date']}; default generator: "
             f"`{report['default_generator']}` (generator timeout {report['timeout_s']:g} s); "
             f"load average {report['load_average']}.", "",
             "Each conversation runs twice from a fresh state: the default generator, then the template "
             "generator. Under each reply: the slate, the grounding fixes by kind, and the engine's notes.", ""]
    for i, conv in enumerate(report["conversations"], 1):
        lines += [f"## {i}. {conv['title']}", ""]
        for label in ("default", "template"):
            lines += [f"### {label}", ""]
            for t in conv[label]:
                lines.append(f"**user:** {t['user']}  ")
                lines.append(f"**bot** ({t['generator']}{', fell back: ' + t['fallback_reason'] if t['fell_back'] else ''}"
                             f", {t['seconds']} s): {t['reply']}".replace("\n", " "))
                extra = []
                if t["slate"]:
                    extra.append("slate: " + "; ".join(t["slate"]))
                if t["grounding_fixes_by_kind"]:
                    extra.append("fixes: " + ", ".join(f"{k} {n}" for k, n in t["grounding_fixes_by_kind"].items()))
                if t["notes"]:
                    extra.append("notes: " + " ".join(t["notes"]))
                if extra:
                    lines.append("")
                    lines.append("> " + "  \n> ".join(extra))
                lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=int, default=0, help="run only conversation N (1-10)")
    parser.add_argument("--timeout", type=float, default=0.0, help="generator deadline in seconds (0: the setting)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    overrides = {"generator_timeout_s": args.timeout} if args.timeout else {}
    settings = Settings.from_env(**overrides)
    engine = build_engine(settings)
    template = TemplateGenerator()
    chosen = [CONVERSATIONS[args.only - 1]] if args.only else list(CONVERSATIONS)
    conversations = []
    for title, messages in chosen:
        print(f"== {title}", file=sys.stderr, flush=True)
        conversations.append({"title": title, "default": run_conversation(engine, messages),
                              "template": run_conversation(engine, messages, template)})
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "default_generator": engine.generator.name,
              "timeout_s": settings.generator_timeout_s, "settings_generator": settings.generator,
              "generator_model": settings.generator_model,
              "load_average": [round(x, 2) for x in os.getloadavg()], "conversations": conversations}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(report), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for conv in conversations:
        for t in conv["default"]:
            print(f"user: {t['user']}\n bot: {t['reply']}\n      {t['grounding_fixes_by_kind']} {t['notes']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
