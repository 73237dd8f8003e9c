"""The GPU side of ItemIndex: serialised GPU calls, use_gpu=True failing loudly, and (only where
FAISS sees a GPU) GPU results equal to CPU results.

The first two tests run everywhere with a CPU index standing in for the GPU copy; the rest skip
unless ``faiss.get_num_gpus() > 0`` (bench/gpu/run_device.sh runs them on a lent H100).
"""

from __future__ import annotations

import logging
import threading
import time

import faiss
import numpy as np
import pytest

from workbench.errors import ItemIndexError
from workbench.retrieval import index as index_mod
from workbench.retrieval.index import GPU_MAX_K, BruteForceIndex, ItemIndex

N, D = 3000, 32

HAS_GPU = hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason="FAISS sees no GPU (faiss-gpu build and a CUDA device needed)")


def _data(seed: int = 0, n: int = N, d: int = D) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(30, d))
    v = centres[rng.integers(0, 30, n)] + 0.5 * rng.normal(size=(n, d))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    q = centres[rng.integers(0, 30, 16)] + 0.5 * rng.normal(size=(16, d))
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    return v, [f"item-{i}" for i in range(n)], q


class _OneCallerAtATime:
    """Stands in for a FAISS GPU index: answers through the CPU index, and records how many
    threads were inside ``search`` at once (FAISS GPU objects allow one)."""

    def __init__(self, cpu_index):
        self._cpu = cpu_index
        self._inside = 0
        self._count_lock = threading.Lock()
        self.max_inside = 0
        self.calls = 0

    def search(self, q, k):
        with self._count_lock:
            self._inside += 1
            self.calls += 1
            self.max_inside = max(self.max_inside, self._inside)
        try:
            time.sleep(0.002)  # long enough for other threads to arrive if nothing serialises them
            return self._cpu.search(q, k)
        finally:
            with self._count_lock:
                self._inside -= 1


def test_gpu_searches_are_serialised_across_threads(monkeypatch):
    """Guards: concurrent searches (the app's request threads) never enter the FAISS GPU index
    at the same time, unfiltered or through the widen-and-retry filter path, and every thread
    still gets the right top-k."""
    monkeypatch.setattr(index_mod, "EXACT_SUBSET_MAX", 0)
    v, ids, q = _data(1)
    ix = ItemIndex.build(v, ids, kind="flat", use_gpu=False)
    want = [r.ids for r in ix.search(q, 10)]
    allowed = set(ids[::5])
    want_filtered = [r.ids for r in BruteForceIndex(v, ids).search(q, 10, allowed=allowed)]
    fake = _OneCallerAtATime(ix._index)
    ix._gpu_index = fake
    errors: list[str] = []

    def worker(seed: int) -> None:
        for i in range(6):
            if (seed + i) % 2:
                got = [r.ids for r in ix.search(q, 10)]
                if got != want:
                    errors.append(f"thread {seed}: unfiltered results differ")
            else:
                got = [r.ids for r in ix.search(q, 10, allowed=allowed)]
                if got != want_filtered:
                    errors.append(f"thread {seed}: filtered results differ")

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fake.calls >= 48
    assert fake.max_inside == 1


def test_use_gpu_true_raises_when_the_gpu_copy_fails(monkeypatch, caplog):
    """Guards: use_gpu=True never silently searches on CPU: a failed copy to the GPU raises and
    says why; use_gpu="auto" falls back to CPU with a logged warning."""
    def refuse(res, device, index):
        raise RuntimeError("Error in cudaMalloc: out of memory\nstack trace ...")

    monkeypatch.setattr(index_mod, "_want_gpu", lambda use_gpu: use_gpu is not False)
    monkeypatch.setattr(index_mod, "_GPU_RESOURCES", object())
    monkeypatch.setattr(faiss, "index_cpu_to_gpu", refuse, raising=False)
    v, ids, q = _data(2, n=200)
    with pytest.raises(ItemIndexError, match=r"use_gpu=True but copying the flat index \(200 x 32\) "
                                             r"to the GPU failed: Error in cudaMalloc: out of memory$"):
        ItemIndex.build(v, ids, kind="flat", use_gpu=True)
    with caplog.at_level(logging.WARNING, logger="workbench.retrieval.index"):
        ix = ItemIndex.build(v, ids, kind="flat", use_gpu="auto")
    assert not ix.on_gpu
    assert "copying it to the GPU failed: Error in cudaMalloc: out of memory" in caplog.text
    assert [len(r) for r in ix.search(q, 5)] == [5] * len(q)


# ---------------------------------------------------------------------------
# on a real GPU


@needs_gpu
@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_gpu_results_equal_cpu_results(kind):
    """Guards: the GPU copy answers like the CPU index (IVF probing every cell is exact), also
    for k above the GPU's top-k limit (served by the CPU index)."""
    v, ids, q = _data(3)
    kw = {"nlist": 16, "nprobe": 16} if kind == "ivf" else {}
    gpu = ItemIndex.build(v, ids, kind=kind, use_gpu=True, **kw)
    cpu = ItemIndex.build(v, ids, kind=kind, use_gpu=False, **kw)
    assert gpu.on_gpu and not cpu.on_gpu
    for k in (10, GPU_MAX_K, GPU_MAX_K + 1):
        g, c = gpu.search(q, k), cpu.search(q, k)
        assert [len(r) for r in g] == [k] * len(q)
        for a, b in zip(g, c, strict=True):
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
            if k == 10:
                assert a.ids == b.ids


@needs_gpu
def test_gpu_filtered_search_returns_exact_k(monkeypatch):
    """Guards: the GPU widen-and-retry path gives exactly k allowed items equal to exact search,
    for common and rare filters (a rare one falls back to exact search over the subset)."""
    monkeypatch.setattr(index_mod, "EXACT_SUBSET_MAX", 0)
    v, ids, q = _data(4)
    gpu = ItemIndex.build(v, ids, kind="flat", use_gpu=True)
    brute = BruteForceIndex(v, ids)
    for step in (3, 50, 700):
        allowed = set(ids[::step])
        got = gpu.search(q, 10, allowed=allowed, exclude={ids[0]})
        want = brute.search(q, 10, allowed=allowed, exclude={ids[0]})
        assert [r.ids for r in got] == [r.ids for r in want]


@needs_gpu
def test_gpu_nprobe_and_reload(tmp_path):
    """Guards: set_search_params reaches the GPU copy of an IVF index, and a saved index loads
    back onto the GPU with the same results."""
    v, ids, q = _data(5)
    ix = ItemIndex.build(v, ids, kind="ivf", use_gpu=True, nlist=16, nprobe=4)
    ix.set_search_params(nprobe=16)
    assert ix._gpu_index.nprobe == 16
    ix.save(tmp_path / "ix")
    back = ItemIndex.load(tmp_path / "ix", use_gpu=True)
    assert back.on_gpu
    back.set_search_params(nprobe=16)
    assert [r.ids for r in back.search(q, 10)] == [r.ids for r in ix.search(q, 10)]


def test_gpu_flat_scores_a_small_allowed_set_exactly_without_asking_the_gpu():
    """Guards the small-filter route: with a GPU copy present, a flat index scores a small allowed
    set exactly (same results as brute force) instead of widening GPU searches; an unfiltered
    search still goes to the GPU."""
    v, ids, q = _data(3)
    ix = ItemIndex.build(v, ids, kind="flat", use_gpu=False)
    fake = _OneCallerAtATime(ix._index)
    ix._gpu_index = fake
    allowed = set(ids[::50])  # 60 of 3,000 items
    got = [r.ids for r in ix.search(q, 10, allowed=allowed)]
    assert got == [r.ids for r in BruteForceIndex(v, ids).search(q, 10, allowed=allowed)]
    assert fake.calls == 0
    ix.search(q, 10)
    assert fake.calls == 1
