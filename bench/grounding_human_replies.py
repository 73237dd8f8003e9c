"""Benchmark: whole-sentence grounding on human recommender replies (the false-positive rate).

Issue 26.2: links, shops, instruction text, cut sentences, off-task claims and unsupported people
are removed from generated replies. People write clean replies, so every ReDial recommender
message (``test.jsonl``) whose ``@movieId`` mentions are all in the catalogue is grounded as the
engine grounds a generated reply: ``@id`` rendered as the display title, its own mentions as the
slate, the films mentioned earlier in the conversation as allowed, the conversation so far as the
user's text (as the engine passes it). Human messages often end without a full stop, so the check
that a language model's last sentence ends with one (``complete``) is off here: a person's
message is not cut by a token limit. The rules should leave nearly all of them alone; what they change is listed in
full (``changed``) so each change can be judged by eye: a human writing "it's on Netflix" is the
shop rule working (the catalogue cannot back it), an everyday sentence dropped is a false positive.

Reported: messages, messages changed by each kind of whole-sentence rule (``link``, ``shop``,
``instruction``, ``cut``, ``off_task``, ``unchecked``, ``person``, ``plot``, ``repeat``, ``echo``; title/year/genre fixes are
``bench/grounding_redial.py``'s subject), and how many a ``require_films`` stream would hold back
(no sentence about films: in the app the template reply would be shown).

    python bench/grounding_human_replies.py [--limit N]

Writes ``bench/results/grounding_human_replies.json``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.catalog import load_catalog  # noqa: E402
from workbench.config import Settings  # noqa: E402
from workbench.dialogue.grounding import Grounder  # noqa: E402
from workbench.dialogue.prompts import INSTRUCTIONS  # noqa: E402

REDIAL_TEST = ROOT.parent / "shared" / "data" / "redial" / "test.jsonl"
RESULTS = ROOT / "bench" / "results" / "grounding_human_replies.json"
SENTENCE_KINDS = ("link", "shop", "instruction", "cut", "off_task", "unchecked", "person", "plot", "repeat", "echo")


def recommender_turns(path: Path, catalog):
    """(rendered reply, slate, earlier film ids, conversation so far, the seeker's last message) per
    recommender message."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            conv = json.loads(line)
            seeker = conv["initiatorWorkerId"]  # the other worker recommends
            earlier: list[str] = []
            said: list[str] = []
            last = ""
            for m in conv["messages"]:
                ids = re.findall(r"@(\d+)", m["text"])
                known = all(i in catalog for i in ids)
                text = re.sub(r"@(\d+)", lambda mm: catalog[mm.group(1)].display_title if mm.group(1) in catalog
                              else mm.group(0), m["text"])
                if m["senderWorkerId"] != seeker and known and text.strip():
                    yield text, [catalog[i] for i in ids], list(earlier), " ".join(said), last
                said.append(text)
                if m["senderWorkerId"] == seeker:
                    last = text
                earlier += [i for i in ids if i in catalog]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REDIAL_TEST)
    parser.add_argument("--limit", type=int, default=0, help="stop after this many messages (0: all)")
    args = parser.parse_args()
    catalog = load_catalog(Settings().catalog)
    grounder = Grounder(catalog, instructions=INSTRUCTIONS)
    by_kind: collections.Counter[str] = collections.Counter()
    by_rule: collections.Counter[str] = collections.Counter()
    changed: list[dict] = []
    messages = held = 0
    elapsed = 0.0
    for text, slate, earlier, seeker, last in recommender_turns(args.data, catalog):
        allowed = [catalog[i] for i in earlier[-10:]]
        start = time.perf_counter()
        out = grounder.ground(text, slate, allowed=allowed, user_text=seeker, message=last)
        strict = grounder.ground(text, slate, allowed=allowed, user_text=seeker, message=last, require_films=True)
        elapsed += time.perf_counter() - start
        messages += 1
        held += not strict.on_task
        events = [e for e in out.events if e.category in SENTENCE_KINDS]
        kinds = {e.category for e in events}
        by_kind.update(kinds)
        by_rule.update(e.reason for e in events)
        if events:
            changed.append({"reply": text, "shown": out.text,
                            "fixes": [f"{e.category}: {e.span!r} ({e.reason})" for e in events]})
        if args.limit and messages >= args.limit:
            break
    n = max(messages, 1)
    result = {
        "benchmark": "grounding_human_replies",
        "source": args.data.name,
        "catalog_items": len(catalog),
        "messages": messages,
        "messages_changed": len(changed),
        "changed_share": round(len(changed) / n, 4),
        "messages_changed_by_kind": {k: by_kind[k] for k in SENTENCE_KINDS},
        "fixes_by_rule": dict(by_rule.most_common()),
        "held_back_with_require_films": held,
        "held_back_share": round(held / n, 4),
        "ms_per_message": round(1000 * elapsed / n, 3),
        "changed": changed,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{'human recommender messages':<34}{messages:>8}")
    print(f"{'changed by a whole-sentence rule':<34}{len(changed):>8}  ({100 * len(changed) / n:.2f}%)")
    for k in SENTENCE_KINDS:
        print(f"  {k:<32}{by_kind[k]:>8}")
    print(f"{'held back (no sentence about films)':<34}{held:>8}  ({100 * held / n:.2f}%)")
    print(f"{'ms per message (both groundings)':<34}{result['ms_per_message']:>8.2f}")
    for c in changed[:40]:
        print(f"  - {c['reply'][:100]!r}\n      {'; '.join(c['fixes'])[:160]}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
