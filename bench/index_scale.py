"""Scale: 1,000,000 x 384 vectors with realistic structure; build, memory, latency, recall@10.

    python bench/index_scale.py [--n 1000000] [--kind ivf] [--nprobe 8,16,24,32,48]
                                [--hnsw-n 0]

Synthetic catalogue built from the default catalogue's real MiniLM item vectors:
each vector starts at a random film, moves a random fraction (0-0.5) of the way
towards one of that film's 10 nearest films, and gets Gaussian noise
(per-dimension sigma 0.03), then is renormalised. So vectors fill the space
between related films (sequels, same genre, shared cast) instead of sitting in
tight clumps of copies: a query's 10 nearest neighbours come from several films
and several IVF cells. (Plain copies + small noise made every query's top 10
copies of one film: recall 1.0 at any nprobe, which measures nothing.)
Queries are 500 fresh vectors drawn the same way (not in the index).
Ground truth is exact inner-product search (FAISS flat). Reports build time,
peak memory, single-query p50/p99 and recall@10 for each nprobe (IVF) and
efSearch (HNSW, on --hnsw-n items when given). Target: recall@10 >= 0.95 with
p50 < 5 ms. Writes bench/results/index_scale.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import ROOT, peak_rss_mb, percentiles_ms, table, write

SIGMA = 0.03
NEIGHBOURS = 10
MAX_STEP = 0.5
N_QUERIES = 500


def neighbours(base: np.ndarray) -> np.ndarray:
    sims = base @ base.T
    np.fill_diagonal(sims, -np.inf)
    return np.argpartition(-sims, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]


def synth(base: np.ndarray, nn: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        m = stop - start
        src = rng.integers(0, len(base), m)
        dst = nn[src, rng.integers(0, NEIGHBOURS, m)]
        step = rng.uniform(0, MAX_STEP, (m, 1)).astype(np.float32)
        chunk = base[src] + step * (base[dst] - base[src])
        chunk += rng.normal(0, SIGMA, (m, base.shape[1])).astype(np.float32)
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        out[start:stop] = chunk
    return out


def exact_top(v: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    import faiss

    flat = faiss.IndexFlatIP(v.shape[1])
    flat.add(v)
    _, rows = flat.search(q, k)
    del flat
    return rows


def timed(index, q, k: int, allowed=None) -> tuple[list[float], list[list[str]]]:
    lat, got = [], []
    for v in q[:20]:
        index.search(v[None, :], k)
    for v in q:
        t = time.perf_counter()
        r = index.search(v[None, :], k, allowed=allowed)[0]
        lat.append(time.perf_counter() - t)
        got.append(list(r.ids))
    return lat, got


def recall(got: list[list[str]], truth: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(g[:k]) & {str(t) for t in tr[:k]}) / k for g, tr in zip(got, truth, strict=True)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--kind", default="auto")
    ap.add_argument("--nprobe", default="8,16,24,32,48")
    ap.add_argument("--efsearch", default="32,64,128")
    ap.add_argument("--hnsw-n", type=int, default=0, help="also build HNSW on this many items (0: skip)")
    args = ap.parse_args()

    from workbench.retrieval.index import ItemIndex, choose_kind

    base = ItemIndex.load(ROOT / "indexes" / "default")
    base_v = base.vectors_for(base.ids)
    k = 10
    rows, results = [], {}
    nn = neighbours(base_v)
    q = synth(base_v, nn, N_QUERIES, seed=99)

    def run(n: int, kind: str) -> None:
        t = time.perf_counter()
        v = synth(base_v, nn, n, seed=1)
        gen_s = time.perf_counter() - t
        ids = [str(i) for i in range(n)]
        t = time.perf_counter()
        truth = exact_top(v, q, k)
        truth_s = time.perf_counter() - t
        rss0 = peak_rss_mb()
        t = time.perf_counter()
        index = ItemIndex.build(v, ids, kind=kind, use_gpu=False)
        build_s = time.perf_counter() - t
        print(f"{n:,} x {v.shape[1]}: generated in {gen_s:.0f}s, exact truth {truth_s:.0f}s, "
              f"{index.meta['kind']} build {build_s:.0f}s {index.meta['params']}, peak RSS {peak_rss_mb():.0f} MiB",
              flush=True)
        concrete = index.meta["kind"]
        sweep = ([("nprobe", int(x)) for x in args.nprobe.split(",")] if concrete == "ivf"
                 else [("efSearch", int(x)) for x in args.efsearch.split(",")] if concrete == "hnsw"
                 else [("exact", 0)])
        for name, value in sweep:
            if name == "nprobe":
                index.set_search_params(nprobe=value)
            elif name == "efSearch":
                index.set_search_params(ef_search=value)
            lat, got = timed(index, q, k)
            row = {"n": n, "kind": concrete, "param": f"{name}={value}", "build_s": build_s,
                   "recall@10": recall(got, truth, k), **percentiles_ms(lat)}
            rows.append(row)
            print(table([row], list(row)), flush=True)
        # a filter passing 20% of the items: exactly k, and its latency
        rng = np.random.default_rng(5)
        allowed = set(rng.choice(ids, n // 5, replace=False).tolist())
        lat, got = timed(index, q[:100], k, allowed=allowed)
        exact_k = all(len(g) == k and set(g) <= allowed for g in got)
        mask_lat = []
        for _ in range(10):  # the share of it spent turning the id set into a row mask
            t = time.perf_counter()
            index._mask(allowed, ())
            mask_lat.append(time.perf_counter() - t)
        results[f"{concrete}_{n}"] = {"build_s": build_s, "params": index.meta["params"],
                                      "filtered_20pct": {**percentiles_ms(lat), "exactly_k": exact_k,
                                                         "mask_from_ids": percentiles_ms(mask_lat)},
                                      "peak_rss_mb_before_build": rss0, "peak_rss_mb": peak_rss_mb()}
        print(f"filtered search (20% allowed): exactly k={exact_k}, {percentiles_ms(lat)}; "
              f"of which id set -> mask {percentiles_ms(mask_lat)}", flush=True)
        del index, v

    run(args.n, args.kind if args.kind != "auto" else choose_kind(args.n))
    if args.hnsw_n:
        run(args.hnsw_n, "hnsw")
    cols = ["n", "kind", "param", "build_s", "recall@10", "p50_ms", "p99_ms"]
    print(table(rows, cols))
    ok = [r for r in rows if r["recall@10"] >= 0.95 and r["p50_ms"] < 5]
    print("target recall@10 >= 0.95 with p50 < 5 ms: " + (f"met by {[r['kind'] + ' ' + r['param'] for r in ok]}"
                                                         if ok else "NOT met"))
    path = write("index_scale", {"sigma": SIGMA, "neighbours": NEIGHBOURS, "max_step": MAX_STEP, "queries": N_QUERIES, "rows": rows, "runs": results,
                                 "peak_rss_mb": peak_rss_mb()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
