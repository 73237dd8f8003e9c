"""Retrieval quality on a labelled query set: fusion methods, and tags vs no tags.

    python bench/retrieval_quality.py

Reads bench/retrieval_queries.json (40 hand-written requests with the default
catalogue's ids of the films they mean). Recall@k = share of a query's expected
films in its top k, averaged over queries. Compares dense only, BM25 only, RRF
and weighted fusion at several dense weights, on the default catalogue with and
without its keyword tags (both in the embedded text and in BM25). Uses the
embedding cache, so reruns are quick. Writes bench/results/retrieval_quality.json.
"""

from __future__ import annotations

import dataclasses
import json

from _common import ROOT, table, write


def main() -> None:
    from workbench.catalog import Catalog, load_catalog
    from workbench.config import Settings
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import HybridRetriever, build_index

    settings = Settings.from_env()
    queries = json.loads((ROOT / "bench" / "retrieval_queries.json").read_text())["queries"]
    embedder = load_embedder(settings.embed_model, "cpu", settings.cache_dir)
    full = load_catalog(ROOT / "assets" / "catalog.jsonl.gz")
    bare = Catalog([dataclasses.replace(i, tags=()) for i in full], source=full.source)
    methods = [("dense", {"fusion": "dense"}), ("lexical", {"fusion": "lexical"}),
               ("rrf", {"fusion": "rrf"})]
    methods += [(f"weighted w={w}", {"fusion": "weighted", "dense_weight": w})
                for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)]
    rows = []
    for label, catalog in (("with tags", full), ("no tags", bare)):
        index = build_index(catalog, embedder, "flat", show_progress=False)
        for name, opts in methods:
            r = HybridRetriever(catalog, embedder, index, **opts)
            rec = {5: [], 10: []}
            plot = {5: [], 10: []}
            for q in queries:
                got = r.search(q["query"], k=10).ids
                for k in (5, 10):
                    hit = len(set(got[:k]) & set(q["expected"])) / min(len(q["expected"]), k)
                    rec[k].append(hit)
                    if q["type"] == "plot":
                        plot[k].append(hit)
            rows.append({
                "catalogue": label, "method": name,
                "recall@5": sum(rec[5]) / len(rec[5]), "recall@10": sum(rec[10]) / len(rec[10]),
                "plot recall@5": sum(plot[5]) / len(plot[5]),
                "plot recall@10": sum(plot[10]) / len(plot[10]),
            })
    cols = ["catalogue", "method", "recall@5", "recall@10", "plot recall@5", "plot recall@10"]
    print(f"{len(queries)} queries ({sum(q['type'] == 'plot' for q in queries)} plot-level)")
    print(table(rows, cols))
    path = write("retrieval_quality", {"queries": len(queries), "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
