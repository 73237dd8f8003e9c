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
    # on a busy machine, in parallel parts, then one transcript:
    python bench/demo_dialogues.py --only 1,2,3 --part a.json & ...; python bench/demo_dialogues.py --merge a.json b.json

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
    for conv in report["conversations"]:
        lines += [f"## {conv['number']}. {conv['title']}", ""]
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
    parser.add_argument("--only", default="", help="run only these conversations, e.g. 3 or 1,2,3 (1-10)")
    parser.add_argument("--part", type=Path, default=None,
                        help="write this JSON after every conversation instead of the transcript (run parts in parallel)")
    parser.add_argument("--merge", type=Path, nargs="+", default=None,
                        help="write the transcript from these --part files (in conversation order)")
    parser.add_argument("--timeout", type=float, default=0.0, help="generator deadline in seconds (0: the setting)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.merge:
        parts = [json.loads(p.read_text(encoding="utf-8")) for p in args.merge]
        report = {**parts[0], "conversations": sorted((c for p in parts for c in p["conversations"]),
                                                      key=lambda c: c["number"]),
                  "load_average": [max(p["load_average"][i] for p in parts) for i in range(3)]}
        write(report, args.out)
        return
    overrides = {"generator_timeout_s": args.timeout} if args.timeout else {}
    settings = Settings.from_env(**overrides)
    engine = build_engine(settings)
    template = TemplateGenerator()
    numbers = [int(n) for n in args.only.split(",")] if args.only else list(range(1, len(CONVERSATIONS) + 1))
    conversations = []
    report = {}
    for number in numbers:
        title, messages = CONVERSATIONS[number - 1]
        print(f"== {title}", file=sys.stderr, flush=True)
        conversations.append({"number": number, "title": title, "default": run_conversation(engine, messages),
                              "template": run_conversation(engine, messages, template)})
        report = {"date": time.strftime("%Y-%m-%d %H:%M"), "default_generator": engine.generator.name,
                  "timeout_s": settings.generator_timeout_s, "settings_generator": settings.generator,
                  "generator_model": settings.generator_model,
                  "load_average": [round(x, 2) for x in os.getloadavg()], "conversations": conversations}
        if args.part:  # a part survives a run that is stopped
            args.part.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not args.part:
        write(report, args.out)


def write(report: dict, out: Path) -> None:
    """The transcript (Markdown) and its JSON copy."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(report), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
