"""Benchmark: grounding on human-written ReDial messages (false positives, mention recall, speed).

Every ReDial message of ``test.jsonl`` whose ``@movieId`` mentions are all in
the catalogue is rendered as a user would read it (``@id`` -> display title)
and grounded with its own mentions as the slate. A perfect grounder changes
nothing except titles people typed by hand without ``@`` (those are not on
the "slate", so removing them is the policy working). The report lists the
most frequent fixes so false positives are visible, plus:

* ``fixes_by_reason``: fixes per reason. "not on the slate" removals are
  catalogue titles typed by hand (the policy working); "not in the catalogue"
  removals match no catalogue title, so they are the upper bound on real text
  removed (false positives), alongside misspelt or missing titles,
* ``removed_not_in_catalogue_per_100``: those removals per 100 messages,
* ``unmarked_word_removals``: every removal by the lone-capitalised-word rule,
  listed in full so each can be judged by eye,
* ``mention_recall``: share of the ``@`` mentions that ``Grounder.mentions`` finds,
* ``ms_per_message``: grounding time per message.

    python bench/grounding_redial.py [other.jsonl]

Writes ``bench/results/grounding_redial.json`` (for another file, such as
``train.jsonl``: ``grounding_redial_<stem>.json``).
"""

from __future__ import annotations

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

REDIAL_TEST = ROOT.parent / "shared" / "data" / "redial" / "test.jsonl"
RESULTS = ROOT / "bench" / "results" / "grounding_redial.json"


def main() -> None:
    catalog = load_catalog(Settings().catalog)
    grounder = Grounder(catalog)
    events: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    unmarked_word: list[str] = []
    messages = changed = fixes = found = total = 0
    elapsed = 0.0
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else REDIAL_TEST
    results = RESULTS if source == REDIAL_TEST else RESULTS.with_name(f"grounding_redial_{source.stem}.json")
    with open(source, encoding="utf-8") as f:
        for line in f:
            for m in json.loads(line)["messages"]:
                ids = re.findall(r"@(\d+)", m["text"])
                slate = [catalog.get(i) for i in ids]
                if any(item is None for item in slate):
                    continue
                text = re.sub(r"@(\d+)", lambda mm: catalog[mm.group(1)].display_title, m["text"])
                start = time.perf_counter()
                out = grounder.ground(text, slate)
                elapsed += time.perf_counter() - start
                messages += 1
                fixes += out.fixes
                changed += out.fixes > 0
                for e in out.events:
                    events[f"{e.kind} {e.span!r} ({e.reason})"] += 1
                    reasons[f"{e.kind}: {e.reason}"] += 1
                    if e.reason.endswith("(unmarked word)"):
                        unmarked_word.append(text)
                if slate:
                    want = {i.item_id for i in slate}
                    total += len(want)
                    found += len(want & {i.item_id for i in grounder.mentions(text)})
    result = {
        "benchmark": "grounding_redial",
        "source": source.name,
        "catalog_items": len(catalog),
        "messages": messages,
        "messages_changed": changed,
        "fixes": fixes,
        "fixes_per_100_messages": 100 * fixes / max(messages, 1),
        "fixes_by_reason": dict(reasons.most_common()),
        "removed_not_in_catalogue_per_100": 100 * sum(
            n for r, n in reasons.items() if r.startswith("removed: not in the catalogue")
        ) / max(messages, 1),
        "unmarked_word_removals": unmarked_word,
        "mention_recall": found / max(total, 1),
        "ms_per_message": 1000 * elapsed / max(messages, 1),
        "top_fixes": events.most_common(30),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2))
    print(f"{'messages':<28}{messages:>10}")
    print(f"{'messages changed':<28}{changed:>10}")
    print(f"{'fixes per 100 messages':<28}{result['fixes_per_100_messages']:>10.2f}")
    print(f"{'not-in-catalogue removals':<28}{result['removed_not_in_catalogue_per_100']:>10.2f}"
          "  per 100 messages (upper bound on real text removed)")
    print(f"{'@-mention recall':<28}{result['mention_recall']:>10.4f}")
    print(f"{'ms per message':<28}{result['ms_per_message']:>10.3f}")
    print("most frequent fixes (typed-by-hand titles are expected; everyday words are false positives):")
    for text, n in events.most_common(12):
        print(f"  {n:4d}  {text}")
    print("fixes by reason:")
    for reason, n in reasons.most_common():
        print(f"  {n:4d}  {reason}")
    print(f"messages with a lone capitalised word removed ({len(unmarked_word)}):")
    for text in unmarked_word:
        print(f"        {text[:110]!r}")
    print(f"wrote {results}")


if __name__ == "__main__":
    main()
