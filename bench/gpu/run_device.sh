#!/usr/bin/env bash
# On the lent GPU machine, from the repo root, after bench/gpu/prepare.sh made .gpu/ here:
#     run(command="bash bench/gpu/run_device.sh", carry=[".gpu"], timeout_s=420)
# Unpacks FAISS-GPU, points the cuBLAS 12 shim at the machine's libcublas.so.13, checks a GPU
# search, runs the index tests, then bench/index_gpu.py. Logs and the JSON land in $OUT.
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
OUT=${OUT:-/tmp/index_gpu_out}
mkdir -p "$OUT" /tmp/site
tar -xJf .gpu/faiss_gpu_sm90.tar.xz -C /tmp/site || exit 2
export PYTHONPATH=/tmp/site
CUBLAS13_LIB=$(python3 - <<'PY'
import glob, site, sys
dirs = [*site.getsitepackages(), *sys.path]
hits = [h for d in dirs for h in glob.glob(f"{d}/nvidia/*/lib/libcublas.so.13")]
print(hits[0] if hits else "")
PY
)
[ -n "$CUBLAS13_LIB" ] || CUBLAS13_LIB=$(find / -xdev -name 'libcublas.so.13*' -type f 2>/dev/null | head -1)
[ -n "$CUBLAS13_LIB" ] || { echo "no libcublas.so.13 on this machine"; exit 3; }
export CUBLAS13_LIB LD_LIBRARY_PATH=$(dirname "$CUBLAS13_LIB")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "cuBLAS 13: $CUBLAS13_LIB"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 --version

echo "== smoke: GPU flat search equals CPU"
CUBLAS12_SHIM_VERBOSE=1 timeout 120 python3 - <<'PY' 2>&1 | tee "$OUT/smoke.log"
import time, faiss, numpy as np
t = time.perf_counter()
print("faiss", faiss.__version__, "GPUs:", faiss.get_num_gpus())
rng = np.random.default_rng(0)
xb = rng.normal(size=(100_000, 384)).astype("float32"); xq = xb[:64] + 0.01
cpu = faiss.IndexFlatIP(384); cpu.add(xb)
gpu = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, cpu)
dc, ic = cpu.search(xq, 10); dg, ig = gpu.search(xq, 10)
print("ids equal:", bool((ic == ig).all()), "max score diff:", float(abs(dc - dg).max()),
      f"({time.perf_counter() - t:.1f}s incl. CUDA start)")
PY

echo "== index tests"
timeout 150 python3 -m pytest -q -p no:cacheprovider tests/retrieval/test_index_contract.py tests/retrieval/test_index_gpu.py \
    tests/cli/test_cli_index.py 2>&1 | tee "$OUT/pytest.log" | tail -15

echo "== bench/index_gpu.py"
timeout 330 python3 bench/index_gpu.py "$@" 2>&1 | tee "$OUT/bench.log"
rc=${PIPESTATUS[0]}
cp bench/results/index_gpu.json "$OUT/" 2>/dev/null
exit "$rc"
