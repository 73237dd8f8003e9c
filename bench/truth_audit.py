"""The hand audit of the truth report: 50 replies per model, as written and as shown, with verdicts.

Reads an ``eval replies --json`` report (its ``audit`` list: every reply as written, as shown, and
the truth detector's kinds before and after) and writes ``bench/results/truth_audit_<model>.md``
for the first ``--n`` replies of each model. The verdicts are a person's: they live in
``bench/results/truth_audit_verdicts.json`` (``{model: {"<index>": "verdict"}}``), written by hand
after reading each reply as shown ("ok", or what is wrong with it), and are merged into the tables
here, so rerunning the script never loses them. The summary counts the replies a reader judged
wrong after grounding, and where the detector and the reader disagree.

    python bench/truth_audit.py REPORT.json [--n 50]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VERDICTS = RESULTS / "truth_audit_verdicts.json"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def slug(model: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")[-40:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    report = json.loads(args.report.read_text(encoding="utf-8"))
    audit = report["audit"][: args.n]
    verdicts = json.loads(VERDICTS.read_text(encoding="utf-8")) if VERDICTS.exists() else {}
    for entry in report["models"]:
        model = entry["model"]
        mine = verdicts.get(model, {})
        rows, wrong, judged = [], 0, 0
        by_word: dict[str, int] = {}
        for i, a in enumerate(audit):
            r = a[model]
            verdict = mine.get(str(i), "")
            judged += bool(verdict)
            wrong += bool(verdict) and not verdict.lower().startswith("ok")
            if verdict:
                word = re.match(r"\w+", verdict.lower()).group()
                by_word[word] = by_word.get(word, 0) + 1
            rows.append(f"| {i} | {_cell(a['user'])[:160]} | {_cell(r['raw'])} | {_cell(r['shown'])}"
                        f"{' *(template)*' if r['replaced'] else ''} | {', '.join(r['before']) or '-'} | "
                        f"{', '.join(r['after']) or '-'} | {_cell(verdict) or '(not read)'} |")
        out = RESULTS / f"truth_audit_{slug(model)}.md"
        out.write_text("\n".join([
            f"# Truth audit: {model}", "",
            f"The first {len(audit)} of {report['n']} held-out ReDial recommender turns of `{report.get('data', '')}` "
            f"(`python -m workbench eval replies`, load average {report.get('load_average')}), read by hand. "
            "*before/after*: the truth detector's kinds on the reply as written / as shown; *verdict*: the "
            "reader's judgement of the reply as shown (from `truth_audit_verdicts.json`).", "",
            f"Read: {judged} of {len(audit)}; not ok after grounding: {wrong} "
            f"({', '.join(f'{w} {n}' for w, n in sorted(by_word.items()))}).", "",
            "| # | user | as written | as shown | before | after | verdict |",
            "|---|---|---|---|---|---|---|", *rows, ""]), encoding="utf-8")
        print(f"{model}: {judged} read, {wrong} not ok after grounding {by_word} -> {out}")


if __name__ == "__main__":
    main()
