"""Index build throughput on the default catalogue, next to raw SentenceTransformer.encode.

    python bench/index_build.py [--repeats 1]

Both runs embed the same texts (the default catalogue through the default
template) with the same model, batch size and device, in this one process, with
no embedding cache (a cold build). "build" is everything `index build` does:
load the catalogue, render texts, encode (with the progress bar), FAISS add, and
save. The ratio build/raw items-per-second must be >= 0.95. With --repeats N the
two are interleaved N times and the medians are reported (the CPU may be shared).
Writes bench/results/index_build.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from _common import ROOT, peak_rss_mb, table, write


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()

    from workbench.catalog import load_catalog
    from workbench.retrieval.embed import DEFAULT_BATCH_SIZE, SentenceTransformerEmbedder
    from workbench.retrieval.hybrid import build_index

    catalog_path = ROOT / "assets" / "catalog.jsonl.gz"
    catalog = load_catalog(catalog_path)
    texts = catalog.texts()
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")
    model = embedder.model
    model.encode(texts[:128], batch_size=DEFAULT_BATCH_SIZE)  # warm-up (allocations, kernels)
    raw_s, build_s = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        model.encode(texts, batch_size=DEFAULT_BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True)
        raw_s.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            cat = load_catalog(catalog_path)
            index = build_index(cat, embedder, "auto", show_progress=True)
            index.save(out)
            build_s.append(time.perf_counter() - t)
    n = len(texts)
    raw, build = statistics.median(raw_s), statistics.median(build_s)
    rows = [
        {"run": "raw SentenceTransformer.encode", "items": n, "wall_s": raw, "items_per_s": n / raw},
        {"run": "index build (whole)", "items": n, "wall_s": build, "items_per_s": n / build},
    ]
    ratio = (n / build) / (n / raw)
    print(table(rows, ["run", "items", "wall_s", "items_per_s"]))
    print(f"ratio build/raw items/s: {ratio:.3f} (target >= 0.95); index kind {index.meta['kind']}; "
          f"peak RSS {peak_rss_mb():.0f} MiB; repeats {args.repeats}")
    path = write("index_build", {
        "items": n, "model": embedder.model_id, "batch_size": DEFAULT_BATCH_SIZE, "device": "cpu",
        "raw_wall_s": raw_s, "build_wall_s": build_s, "rows": rows, "ratio": ratio,
        "target_ratio": 0.95, "peak_rss_mb": peak_rss_mb(), "kind": index.meta["kind"],
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
