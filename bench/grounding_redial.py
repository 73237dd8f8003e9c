"""Benchmark: grounding on human-written ReDial messages (false positives, mention recall, speed).

Every ReDial message of ``test.jsonl`` whose ``@movieId`` mentions are all in
the catalogue is rendered as a user would read it (``@id`` -> display title)
and grounded with its own mentions as the slate. A perfect grounder changes
nothing except titles people typed by hand without ``@`` (those are not on
the "slate", so removing them is the policy working). The report lists the
most frequent fixes so false positives are visible, plus:

* ``mention_recall``: share of the ``@`` mentions that ``Grounder.mentions`` finds,
* ``ms_per_message``: grounding time per message.

    python bench/grounding_redial.py

Writes ``bench/results/grounding_redial.json``.
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
    messages = changed = fixes = found = total = 0
    elapsed = 0.0
    with open(REDIAL_TEST, encoding="utf-8") as f:
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
                if slate:
                    want = {i.item_id for i in slate}
                    total += len(want)
                    found += len(want & {i.item_id for i in grounder.mentions(text)})
    result = {
        "benchmark": "grounding_redial",
        "catalog_items": len(catalog),
        "messages": messages,
        "messages_changed": changed,
        "fixes": fixes,
        "fixes_per_100_messages": 100 * fixes / max(messages, 1),
        "mention_recall": found / max(total, 1),
        "ms_per_message": 1000 * elapsed / max(messages, 1),
        "top_fixes": events.most_common(30),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"{'messages':<28}{messages:>10}")
    print(f"{'messages changed':<28}{changed:>10}")
    print(f"{'fixes per 100 messages':<28}{result['fixes_per_100_messages']:>10.2f}")
    print(f"{'@-mention recall':<28}{result['mention_recall']:>10.4f}")
    print(f"{'ms per message':<28}{result['ms_per_message']:>10.3f}")
    print("most frequent fixes (typed-by-hand titles are expected; everyday words are false positives):")
    for text, n in events.most_common(12):
        print(f"  {n:4d}  {text}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
