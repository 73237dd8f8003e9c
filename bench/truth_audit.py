"""The hand audit of the truth report: 50 replies per model, as written and as shown, with verdicts.

Reads an ``eval replies --json`` report (its ``audit`` list: every reply as written, as shown, and
the truth detector's kinds before and after) and writes ``bench/results/truth_audit_<model>.md``
for the first ``--n`` replies of each model. The verdicts are a person's: they live in
``bench/results/truth_audit_verdicts.json`` (``{model: {"<index>": "verdict"}}``), written by hand
after reading each reply as shown ("ok", or what is wrong with it), and are merged into the tables
here, so rerunning the script never loses them. A verdict is either a string or
``{"shown": <the reply as shown when it was judged>, "verdict": ...}``: when the reply shown has since
changed (the grounder changed), the row says *stale, read again* instead of a verdict that no
longer fits. The verdict's first word is its kind ("ok", "ok-template", "plot", "genre",
"awkward", ...); the summary counts the replies by kind and those judged not ok after grounding.

``--model NAME`` writes only that model's table (``default`` is what ``WORKBENCH_GENERATOR=auto``
serves); ``--as LABEL`` files it as ``truth_audit_<LABEL>.md`` under verdicts of ``LABEL`` (e.g. the
same model before and after a grounding change).

    python bench/truth_audit.py REPORT.json [--n 50] [--model default [--as default-before]]
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


def verdict_for(entry: str | dict | None, shown: str) -> str:
    """The verdict text for a reply as shown now ("" unread, a stale note when the reply changed)."""
    if not entry:
        return ""
    if isinstance(entry, str):
        return entry
    if entry.get("shown", shown).strip() != shown.strip():
        return ""  # judged on another text: read it again
    return str(entry.get("verdict", ""))


def kind_of(verdict: str) -> str:
    """A verdict's kind: its first word ("ok", "ok-template", "plot", ...)."""
    m = re.match(r"[\w-]+", verdict.lower())
    return m.group() if m else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--model", action="append", default=None, help="only these models (default: all)")
    parser.add_argument("--as", dest="label", default=None, help="file name and verdict key (one --model)")
    args = parser.parse_args()
    report = json.loads(args.report.read_text(encoding="utf-8"))
    audit = report["audit"][: args.n]
    verdicts = json.loads(VERDICTS.read_text(encoding="utf-8")) if VERDICTS.exists() else {}
    entries = [e for e in report["models"] if args.model is None or e["model"] in args.model]
    if args.label and len(entries) != 1:
        parser.error("--as needs exactly one --model")
    for entry in entries:
        model = entry["model"]
        label = args.label or model
        mine = verdicts.get(label, {})
        rows, wrong, judged, stale = [], 0, 0, 0
        by_word: dict[str, int] = {}
        for i, a in enumerate(audit):
            r = a[model]
            verdict = verdict_for(mine.get(str(i)), r["shown"])
            stale += bool(mine.get(str(i))) and not verdict
            judged += bool(verdict)
            wrong += bool(verdict) and not kind_of(verdict).startswith("ok")
            if verdict:
                word = kind_of(verdict)
                by_word[word] = by_word.get(word, 0) + 1
            rows.append(f"| {i} | {_cell(a['user'])[:160]} | {_cell(r['raw'])} | {_cell(r['shown'])}"
                        f"{' *(template)*' if r['replaced'] else ''} | {', '.join(r['before']) or '-'} | "
                        f"{', '.join(r['after']) or '-'} | {_cell(verdict) or ('*stale, read again*' if mine.get(str(i)) else '(not read)')} |")
        out = RESULTS / f"truth_audit_{slug(label)}.md"
        out.write_text("\n".join([
            f"# Truth audit: {label}" + (f" (`{model}`)" if label != model else ""), "",
            f"The first {len(audit)} of {report['n']} held-out ReDial recommender turns of `{report.get('data', '')}` "
            f"(`python -m workbench eval replies`, load average {report.get('load_average')}"
            + (f"; the replies of `{report['replayed_from']}` grounded again with `--replay`" if report.get("replayed_from") else "")
            + "), read by hand. "
            "*before/after*: the truth detector's kinds on the reply as written / as shown; *verdict*: the "
            "reader's judgement of the reply as shown (from `truth_audit_verdicts.json`).", "",
            f"Read: {judged} of {len(audit)}{f' ({stale} stale)' if stale else ''}; not ok after grounding: {wrong}. "
            f"By kind: {', '.join(f'{w} {n}' for w, n in sorted(by_word.items(), key=lambda kv: -kv[1]))}.", "",
            *([f"Served as: `{report['served'][model]['generator']}`.", ""] if model in report.get("served", {}) else []),
            "| # | user | as written | as shown | before | after | verdict |",
            "|---|---|---|---|---|---|---|", *rows, ""]), encoding="utf-8")
        print(f"{label}: {judged} read ({stale} stale), {wrong} not ok after grounding {by_word} -> {out}")


if __name__ == "__main__":
    main()
