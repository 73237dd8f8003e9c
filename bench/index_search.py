"""Search latency on the default catalogue: index search alone, query encoding apart.

    python bench/index_search.py

Loads the committed index (indexes/default, flat inner product over 6,827 x 384)
and times, one query at a time as the app does:
* opening: ItemIndex.load and the whole open_retriever (index + BM25 + checks);
* query encoding with the bundled MiniLM (200 realistic queries);
* ItemIndex.search(q, k=10) alone (target p50 < 1 ms on CPU), also with a genre filter;
* the full HybridRetriever.search (encode + dense + BM25 + fusion), for reference.
Writes bench/results/index_search.json.
"""

from __future__ import annotations

import json
import time

import numpy as np
from _common import ROOT, percentiles_ms, table, write


def main() -> None:
    from workbench.catalog import load_catalog
    from workbench.filters import ItemFilter
    from workbench.retrieval.embed import SentenceTransformerEmbedder
    from workbench.retrieval.hybrid import open_retriever
    from workbench.retrieval.index import ItemIndex

    index_dir = ROOT / "indexes" / "default"
    catalog = load_catalog(ROOT / "assets" / "catalog.jsonl.gz")
    t = time.perf_counter()
    index = ItemIndex.load(index_dir)
    load_s = time.perf_counter() - t
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")
    t = time.perf_counter()
    retriever = open_retriever(catalog, embedder, index_dir)
    open_s = time.perf_counter() - t

    labelled = [q["query"] for q in json.loads((ROOT / "bench" / "retrieval_queries.json").read_text())["queries"]]
    titles = [f"something like {item.title}" for item in list(catalog)[:160]]
    queries = (labelled + titles)[:200]
    embedder.encode(queries[:8])  # load + warm up
    enc, vecs = [], []
    for q in queries:
        t = time.perf_counter()
        vecs.append(embedder.encode([q]))
        enc.append(time.perf_counter() - t)
    qv = np.concatenate(vecs)
    k = 10
    for v in qv[:20]:
        index.search(v[None, :], k)  # warm-up
    plain, filtered = [], []
    allowed = ItemFilter.make(genres=["comedy"]).allowed_ids(catalog)
    for _ in range(5):
        for v in qv:
            t = time.perf_counter()
            index.search(v[None, :], k)
            plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            index.search(v[None, :], k, allowed=allowed)
            filtered.append(time.perf_counter() - t)
    full = []
    for q in queries:
        t = time.perf_counter()
        retriever.search(q, k=k)
        full.append(time.perf_counter() - t)
    rows = [
        {"step": "ItemIndex.search k=10", **percentiles_ms(plain), "n": len(plain)},
        {"step": f"ItemIndex.search k=10, comedy filter ({len(allowed)} allowed)", **percentiles_ms(filtered),
         "n": len(filtered)},
        {"step": "query encoding (MiniLM, 1 query)", **percentiles_ms(enc), "n": len(enc)},
        {"step": "HybridRetriever.search k=10 (all)", **percentiles_ms(full), "n": len(full)},
    ]
    print(f"index: {len(index)} x {index.dimension} {index.meta['kind']}; ItemIndex.load {load_s * 1000:.1f} ms; "
          f"open_retriever {open_s * 1000:.0f} ms")
    print(table(rows, ["step", "p50_ms", "p99_ms", "mean_ms", "n"]))
    print(f"target: ItemIndex.search p50 < 1 ms -> {'met' if rows[0]['p50_ms'] < 1 else 'NOT met'}")
    path = write("index_search", {"items": len(index), "kind": index.meta["kind"], "load_ms": load_s * 1000,
                                  "open_retriever_ms": open_s * 1000, "rows": rows, "target_p50_ms": 1.0})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
