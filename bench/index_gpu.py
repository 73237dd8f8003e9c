"""GPU vs CPU: ItemIndex(use_gpu=True) against ItemIndex(use_gpu=False), side by side in one run.

    python bench/index_gpu.py [--n 1000000] [--kinds flat,ivf] [--queries 200] [--batch 1000]

Vectors: the structured synthetic catalogue of bench/index_scale.py (the default catalogue's
MiniLM vectors, interpolated between neighbouring films plus noise; 384 dims, unit length), so
IVF recall means something. Ground truth: exact inner product (FAISS flat on CPU).

For each kind (flat, IVF) and each side (CPU, GPU) it reports: ``on_gpu``, build time (the GPU
side builds on CPU, then copies), batch-1 search latency p50/p99 for k=10, one batch of
``--batch`` queries (ms and queries/s), recall@10 against exact search and top-10 agreement
between the two sides; IVF also at several nprobe (set_search_params must reach the GPU copy).
Then the filtered search paths (allowed sets of 20%, 1% and 0.1% of the items: GPU
widen-and-retry, CPU IDSelector, exact subset), checked for exactly k allowed items and
against exact filtered search; k at and above GPU_MAX_K (the GPU copy cannot return more,
the CPU index answers); concurrent searches from 8 threads through ItemIndex (serialised by
its GPU lock) against the same queries run alone, and, in a child process, the same on a plain
FAISS GPU index with no lock (on the H100 FAISS aborted the process: a failed assertion in its
scratch-memory stack); and a saved index loaded onto the GPU.

Without a GPU (no faiss-gpu build, or no device) it says so and runs the CPU side only.
Writes bench/results/index_gpu.json. bench/gpu/run_device.sh runs it on a lent GPU machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT, peak_rss_mb, percentiles_ms, table, write

K = 10
NPROBES = (8, 24, 48)
FILTER_SHARES = (0.2, 0.01, 0.001)
THREADS = 8


def gpu_info() -> dict[str, Any]:
    """What FAISS sees: version, GPU build or not, GPU count, and the card (nvidia-smi)."""
    import faiss

    info: dict[str, Any] = {"faiss": faiss.__version__, "faiss_file": faiss.__file__,
                            "gpu_build": hasattr(faiss, "StandardGpuResources"), "num_gpus": 0}
    if info["gpu_build"]:
        info["num_gpus"] = int(faiss.get_num_gpus())
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        info["nvidia_smi"] = out.stdout.strip() or out.stderr.strip()
    return info


def exact_truth(v: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    import faiss

    flat = faiss.IndexFlatIP(v.shape[1])
    flat.add(v)
    return flat.search(q, k)[1]


def recall(got: list[list[str]], truth: np.ndarray, k: int = K) -> float:
    return float(np.mean([len(set(g[:k]) & {str(t) for t in tr[:k]}) / k
                          for g, tr in zip(got, truth, strict=True)]))


def agreement(a: list[list[str]], b: list[list[str]]) -> float:
    return float(np.mean([len(set(x) & set(y)) / max(len(x), 1) for x, y in zip(a, b, strict=True)]))


def single_queries(index, q: np.ndarray, k: int = K, **kw) -> tuple[list[float], list[list[str]]]:
    for v in q[:10]:  # warm-up (first GPU calls allocate scratch memory)
        index.search(v[None, :], k, **kw)
    lat, got = [], []
    for v in q:
        t = time.perf_counter()
        r = index.search(v[None, :], k, **kw)[0]
        lat.append(time.perf_counter() - t)
        got.append(list(r.ids))
    return lat, got


def batch_ms(index, qb: np.ndarray, repeats: int = 3) -> float:
    index.search(qb[:64], K)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        index.search(qb, K)
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def concurrent_check(index, q: np.ndarray) -> dict[str, Any]:
    """THREADS threads search the same queries (batch-1 and batches) at once; every answer must
    equal the answer to the same search made alone."""
    alone_single = [list(index.search(v[None, :], K)[0].ids) for v in q]
    alone_batch = [list(r.ids) for r in index.search(q, K)]
    bad: list[str] = []
    errors: list[str] = []

    def worker(t: int) -> None:
        try:
            for rep in range(3):
                got = [list(r.ids) for r in index.search(q, K)]
                if got != alone_batch:
                    bad.append(f"thread {t} batch {rep}")
                for i in range(t, len(q), THREADS):
                    if list(index.search(q[i][None, :], K)[0].ids) != alone_single[i]:
                        bad.append(f"thread {t} query {i}")
        except Exception as exc:  # a crash in one thread is a finding, not a reason to stop
            errors.append(f"thread {t}: {type(exc).__name__}: {exc}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {"threads": THREADS, "queries": len(q), "mismatches": len(bad), "errors": errors,
            "first_mismatches": bad[:5], "wall_s": time.perf_counter() - t0}


def raw_concurrency_probe(n: int = 200_000, d: int = 384) -> dict[str, Any]:
    """Plain FAISS, no ItemIndex lock: THREADS threads search one GPU flat index at once (FAISS
    documents GPU indexes as not thread-safe). Runs in a child process (a crash stays there)."""
    import faiss

    rng = np.random.default_rng(0)
    v = rng.normal(size=(n, d)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    q = v[:64] + 0.1 * rng.normal(size=(64, d)).astype(np.float32)
    cpu = faiss.IndexFlatIP(d)
    cpu.add(v)
    gpu = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, cpu)
    alone = gpu.search(q, 100)[1]
    bad, errors = [], []

    def worker(t: int) -> None:
        try:
            for rep in range(20):
                if not np.array_equal(gpu.search(q, 100)[1], alone):
                    bad.append((t, rep))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {"threads": THREADS, "searches": THREADS * 20, "mismatched_searches": len(bad), "errors": errors[:3]}


def run_raw_probe() -> dict[str, Any]:
    import json

    try:
        out = subprocess.run([sys.executable, __file__, "--raw-concurrency-probe"], capture_output=True,
                             text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return {"outcome": "timed out after 120 s (hung)"}
    last = out.stdout.strip().splitlines()[-1:] or [""]
    try:
        return {"outcome": f"exit {out.returncode}", **json.loads(last[0])}
    except json.JSONDecodeError:
        return {"outcome": f"exit {out.returncode}, no result", "stderr_tail": out.stderr[-600:]}


def main() -> None:
    if "--raw-concurrency-probe" in sys.argv:
        import json

        print(json.dumps(raw_concurrency_probe()))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--kinds", default="flat,ivf")
    ap.add_argument("--queries", type=int, default=200, help="batch-1 queries timed per configuration")
    ap.add_argument("--batch", type=int, default=1000, help="queries in the one-batch search")
    ap.add_argument("--filtered-queries", type=int, default=30)
    args = ap.parse_args()

    from index_scale import neighbours, synth

    from workbench.retrieval.index import EXACT_SUBSET_MAX, GPU_MAX_K, BruteForceIndex, ItemIndex

    info = gpu_info()
    has_gpu = info["num_gpus"] > 0
    print(f"faiss {info['faiss']} ({'GPU build' if info['gpu_build'] else 'CPU build'}), "
          f"GPUs seen: {info['num_gpus']} {info.get('nvidia_smi', '')}", flush=True)
    if not has_gpu:
        print("no GPU: FAISS sees none (needs the faiss-gpu build and a CUDA device); "
              "measuring the CPU side only", flush=True)
    sides = [("cpu", False)] + ([("gpu", True)] if has_gpu else [])

    base = ItemIndex.load(ROOT / "indexes" / "default", use_gpu=False)
    base_v = base.vectors_for(base.ids)
    nn = neighbours(base_v)
    t = time.perf_counter()
    v = synth(base_v, nn, args.n, seed=1)
    ids = [str(i) for i in range(args.n)]
    q = synth(base_v, nn, args.queries, seed=99)
    qb = synth(base_v, nn, args.batch, seed=98)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    truth = exact_truth(v, q, K)
    print(f"{args.n:,} x {v.shape[1]} vectors in {gen_s:.1f}s; exact truth for {len(q)} queries "
          f"in {time.perf_counter() - t:.1f}s", flush=True)

    rows: list[dict[str, Any]] = []
    filtered: list[dict[str, Any]] = []
    big_k: list[dict[str, Any]] = []
    checks: dict[str, bool] = {}
    extra: dict[str, Any] = {}
    rng = np.random.default_rng(5)
    allowed_sets = {share: set(rng.choice(ids, max(K, int(args.n * share)), replace=False).tolist())
                    for share in FILTER_SHARES}
    fq = q[: args.filtered_queries]
    brute = BruteForceIndex(v, ids)
    filtered_truth = {share: [list(r.ids) for r in brute.search(fq, K, allowed=allowed)]
                      for share, allowed in allowed_sets.items()}
    big_ks = (GPU_MAX_K, GPU_MAX_K + 1, 5000)
    big_truth = {k: brute.search(q[:3], k) for k in big_ks}
    del brute

    def save(status: str) -> Path:
        return write("index_gpu", {"status": status, "gpu": info, "n": args.n, "dimension": int(v.shape[1]),
                                   "k": K, "queries": len(q), "batch": len(qb), "gpu_max_k": GPU_MAX_K,
                                   "exact_subset_max": EXACT_SUBSET_MAX, "rows": rows, "filtered": filtered,
                                   "k_above_gpu_max": big_k, "checks": checks, **extra,
                                   "peak_rss_mb": peak_rss_mb()})

    for kind in args.kinds.split(","):
        answers: dict[str, list[list[str]]] = {}
        for side, use_gpu in sides:
            t = time.perf_counter()
            index = ItemIndex.build(v, ids, kind=kind, use_gpu=use_gpu)
            build_s = time.perf_counter() - t
            checks[f"{kind}_{side}_on_gpu_is_{use_gpu}"] = index.on_gpu == use_gpu
            params = index.meta["params"]
            sweep = NPROBES if kind == "ivf" else (None,)
            for nprobe in sweep:
                if nprobe is not None:
                    index.set_search_params(nprobe=nprobe)
                    if index.on_gpu:
                        checks[f"ivf_gpu_nprobe_{nprobe}_reaches_gpu_copy"] = int(index._gpu_index.nprobe) == nprobe
                lat, got = single_queries(index, q)
                row = {"kind": kind, "side": side, "on_gpu": index.on_gpu,
                       "param": f"nprobe={nprobe}" if nprobe else "exact", "build_s": build_s,
                       "recall@10": recall(got, truth), **percentiles_ms(lat),
                       "batch_ms": batch_ms(index, qb)}
                row["batch_qps"] = len(qb) / (row["batch_ms"] / 1000)
                answers[f"{side}:{row['param']}"] = got
                rows.append(row)
                print(table([row], list(row)), flush=True)
            if kind == "ivf":
                index.set_search_params(nprobe=params["nprobe"])
            # filtered search: 20% (GPU widen-and-retry / CPU IDSelector), 1% and 0.1% (exact subset
            # for IVF; for flat on GPU: widen once, else exact fallback)
            for share, allowed in allowed_sets.items():
                lat, got = single_queries(index, fq, allowed=allowed)
                ok = all(len(g) == K and set(g) <= allowed for g in got)
                frow = {"kind": kind, "side": side, "allowed": len(allowed), "share": share,
                        "exactly_k_allowed": ok, "recall@10_vs_exact_filtered": recall(got, np.array(filtered_truth[share])),
                        **percentiles_ms(lat)}
                checks[f"{kind}_{side}_filter_{share}_exactly_k"] = ok
                filtered.append(frow)
                print(table([frow], list(frow)), flush=True)
            # k at and above the GPU's top-k limit
            for k in big_ks:
                t = time.perf_counter()
                res = index.search(q[:3], k)
                ms = (time.perf_counter() - t) * 1000
                want = big_truth[k]
                score_err = max(float(np.max(np.abs(np.asarray(r.scores) - np.asarray(w.scores)))) for r, w in zip(res, want, strict=True))
                overlap = float(np.mean([len(set(r.ids) & set(w.ids)) / k for r, w in zip(res, want, strict=True)]))
                brow = {"kind": kind, "side": side, "k": k, "lengths_ok": all(len(r) == k for r in res),
                        "overlap_vs_exact": overlap, "max_score_err": score_err, "ms_3_queries": ms}
                checks[f"{kind}_{side}_k{k}_length"] = brow["lengths_ok"]
                big_k.append(brow)
                print(table([brow], list(brow)), flush=True)
            if index.on_gpu and kind == "flat":
                extra["concurrency"] = conc = concurrent_check(index, q[:64])
                checks["flat_gpu_concurrent_equals_alone"] = conc["mismatches"] == 0 and not conc["errors"]
                print(f"concurrent search through ItemIndex: {conc}", flush=True)
                extra["raw_faiss_gpu_concurrency"] = raw = run_raw_probe()
                print(f"concurrent search on a plain FAISS GPU index (no lock): {raw}", flush=True)
                with tempfile.TemporaryDirectory() as tmp:  # a saved index loads back onto the GPU
                    small = ItemIndex.build(v[:20_000], ids[:20_000], kind="flat", use_gpu=False)
                    small.save(Path(tmp) / "ix")
                    back = ItemIndex.load(Path(tmp) / "ix", use_gpu=True)
                    same = [r.ids for r in back.search(q, K)] == [r.ids for r in small.search(q, K)]
                    checks["load_use_gpu_true_on_gpu_same_results"] = back.on_gpu and same
            del index
            save("partial")
        if has_gpu:
            for key in answers:
                if key.startswith("gpu:"):
                    agree = agreement(answers[key], answers["cpu:" + key[4:]])
                    for row in rows:
                        if row["kind"] == kind and row["side"] == "gpu" and row["param"] == key[4:]:
                            row["top10_agreement_with_cpu"] = agree

    cols = ["kind", "side", "on_gpu", "param", "build_s", "recall@10", "p50_ms", "p99_ms", "batch_ms",
            "batch_qps", "top10_agreement_with_cpu"]
    print(table(rows, cols))
    print(table(filtered, ["kind", "side", "allowed", "exactly_k_allowed", "recall@10_vs_exact_filtered",
                           "p50_ms", "p99_ms"]))
    print(table(big_k, ["kind", "side", "k", "lengths_ok", "overlap_vs_exact", "max_score_err", "ms_3_queries"]))
    failed = [name for name, ok in checks.items() if not ok]
    print("checks: " + (f"FAILED {failed}" if failed else f"all {len(checks)} passed"))
    print(f"wrote {save('complete' if has_gpu else 'complete (no GPU: CPU side only)')}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
