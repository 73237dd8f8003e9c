#!/usr/bin/env bash
# Packs FAISS-GPU for a lent H100/H200 (CUDA 13 only, no network) into .gpu/faiss_gpu_sm90.tar.xz,
# which bench/gpu/run_device.sh unpacks there. Run here, from anywhere, with pip and gcc:
#
#     bash bench/gpu/prepare.sh            # then: run(command="bash bench/gpu/run_device.sh", carry=[".gpu"])
#
# What goes in (about 21 MB; the whole tree that travels must stay under 64 MiB):
# * faiss-gpu 1.15.1 from PyPI (CUDA 12 build; cubins for sm_70..sm_90 plus sm_90 PTX). Every
#   fatbin entry except the sm_90 cubin is zeroed in place (offsets and sizes unchanged, so the
#   library still loads; the driver picks the sm_90 cubin on Hopper), which lets xz pack the
#   200 MB library into ~13 MB. Other GPUs would need their own arch kept (KEEP_SM=...).
# * libcudart.so.12 from nvidia-cuda-runtime-cu12 (runs on the CUDA 13 driver).
# * libcublas.so.12 = bench/gpu/cublas12_shim.c, forwarding FAISS's 8 cuBLAS calls to the
#   machine's libcublas.so.13 (nvidia-cublas-cu12 is ~580 MB, too big to carry); empty
#   libcublasLt.so.12 and libcurand.so.10 satisfy the loader (FAISS calls nothing in them).
# The wheel's own loader finds them as nvidia/{cuda_runtime,cublas,curand}/lib (CUDA 12 layout).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wheels=${WHEELS:-/tmp/faiss_gpu_wheels}
keep_sm=${KEEP_SM:-90}
mkdir -p "$wheels"
fetch() {  # name==version: a manylinux x86-64 wheel for CPython 3.12 (the device's Python)
    ls "$wheels"/"$(echo "${1%%==*}" | tr - _)"-"${1##*==}"-*.whl >/dev/null 2>&1 && return
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d "$wheels" "$1"
}
fetch faiss-gpu==1.15.1
fetch nvidia-cuda-runtime-cu12==12.9.79

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
site=$stage/site
mkdir -p "$site"
unzip -q "$wheels"/faiss_gpu-1.15.1-*.whl -d "$site"
unzip -q "$wheels"/nvidia_cuda_runtime_cu12-12.9.79-*.whl 'nvidia/cuda_runtime/lib/libcudart.so.12' -d "$site"

python3 - "$site/faiss/libfaiss.so" "$keep_sm" <<'PY'
import struct, sys
path, keep = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
magic = struct.pack("<I", 0xBA55ED50)  # fatbin header: magic, u16 version, u16 header size, u64 size
pos = kept = zeroed = fatbins = 0
while (i := data.find(magic, pos)) >= 0:
    _, hsize, size = struct.unpack_from("<HHQ", data, i + 4)
    if hsize != 16:
        pos = i + 4
        continue
    fatbins += 1
    j, end = i + 16, i + 16 + size
    while j < end:  # entry: u16 kind (1 PTX, 2 cubin), u16, u32 header size, u64 payload size, ..., u32 arch @28
        kind, _, ehsize, esize = struct.unpack_from("<HHIQ", data, j)
        arch = struct.unpack_from("<I", data, j + 28)[0]
        if kind == 2 and arch == keep:
            kept += 1
        else:
            data[j + ehsize:j + ehsize + esize] = bytes(esize)
            zeroed += 1
        j += ehsize + esize
    assert j == end, "unexpected fatbin layout"
    pos = end
assert fatbins and kept == fatbins, f"{fatbins} fatbins but {kept} sm_{keep} cubins"
open(path, "wb").write(data)
print(f"libfaiss.so: kept the sm_{keep} cubin of {fatbins} fatbins, zeroed {zeroed} other entries")
PY

lib=$site/nvidia/cublas/lib
mkdir -p "$lib" "$site/nvidia/curand/lib"
gcc -O2 -Wall -shared -fPIC -Wl,-soname,libcublas.so.12 -Wl,--version-script="$here/cublas12.map" \
    -o "$lib/libcublas.so.12" "$here/cublas12_shim.c" -ldl -lpthread
echo 'int cublasLt12_placeholder;' | gcc -shared -fPIC -x c - -Wl,-soname,libcublasLt.so.12 -o "$lib/libcublasLt.so.12"
echo 'int curand10_placeholder;' | gcc -shared -fPIC -x c - -Wl,-soname,libcurand.so.10 -o "$site/nvidia/curand/lib/libcurand.so.10"
printf 'from pkgutil import extend_path\n__path__ = extend_path(__path__, __name__)\n' > "$site/nvidia/__init__.py"
touch "$site/nvidia/cublas/__init__.py" "$site/nvidia/curand/__init__.py" "$site/nvidia/cuda_runtime/__init__.py"

# self-test 1: the shim forwards every argument (a fake libcublas.so.13 echoes them back)
cat > "$stage/fake13.c" <<'C'
#include <stdio.h>
int cublasSetMathMode(void *h, int m) { printf("%p %d\n", h, m); return 0; }
int cublasGemmStridedBatchedEx(void *h, int ta, int tb, int m, int n, int k, const void *al, const void *A,
    int At, int lda, long long sA, const void *B, int Bt, int ldb, long long sB, const void *be, void *C,
    int Ct, int ldc, long long sC, int bc, int ct, int algo) {
    printf("%p %d %d %d %d %d %g %p %d %d %lld %p %d %d %lld %g %p %d %d %lld %d %d %d\n", h, ta, tb, m, n, k,
           *(const float *)al, A, At, lda, sA, B, Bt, ldb, sB, *(const float *)be, C, Ct, ldc, sC, bc, ct, algo);
    return 7;
}
C
cat > "$stage/call.c" <<'C'
#include <stdio.h>
int cublasSetMathMode(void *, int);
int cublasGemmStridedBatchedEx(void *, int, int, int, int, int, const void *, const void *, int, int, long long,
    const void *, int, int, long long, const void *, void *, int, int, long long, int, int, int);
int main(void) {
    float a = 1.5f, b = 0.25f;
    cublasSetMathMode((void *)0x10, 16);
    int r = cublasGemmStridedBatchedEx((void *)0x10, 0, 1, 4, 5, 6, &a, (void *)0xa, 2, 7, 8000000000LL,
        (void *)0xb, 14, 9, 9000000000LL, &b, (void *)0xc, 0, 10, -3LL, 11, 68, -1);
    printf("ret %d\n", r);
    return 0;
}
C
gcc -shared -fPIC -Wl,-soname,libcublas.so.13 -o "$stage/libcublas.so.13" "$stage/fake13.c"
gcc -o "$stage/call" "$stage/call.c" -L"$lib" -l:libcublas.so.12
got=$(CUBLAS13_LIB="$stage/libcublas.so.13" LD_LIBRARY_PATH="$lib" "$stage/call")
want=$'0x10 16\n0x10 0 1 4 5 6 1.5 0xa 2 7 8000000000 0xb 14 9 9000000000 0.25 0xc 0 10 -3 11 68 -1\nret 7'
[ "$got" = "$want" ] || { echo "shim self-test FAILED:"; echo "$got"; exit 1; }
nm -D --undefined-only "$site/faiss/libfaiss.so" | grep -o 'cublas[A-Za-z0-9_]*@libcublas.so.12' | sed 's/@.*//' | sort > "$stage/need"
nm -D --defined-only "$lib/libcublas.so.12" | grep -o 'cublas[A-Za-z0-9_]*@@libcublas.so.12' | sed 's/@.*//' | sort > "$stage/have"
comm -23 "$stage/need" "$stage/have" | grep . && { echo "shim lacks the functions above"; exit 1; }
echo "shim: forwards all $(wc -l < "$stage/need") cuBLAS functions libfaiss uses"

# self-test 2: this faiss imports (no GPU here: it sees 0)
PYTHONPATH=$site python3 -c "import faiss; print('faiss', faiss.__version__, 'imports; GPUs seen here:', faiss.get_num_gpus())"

mkdir -p "$root/.gpu"
grep -qxF '/.gpu/' "$root/.git/info/exclude" 2>/dev/null || { mkdir -p "$root/.git/info"; echo '/.gpu/' >> "$root/.git/info/exclude"; }
tar -C "$site" -cf - . | xz -T0 -6 > "$root/.gpu/faiss_gpu_sm90.tar.xz"
ls -l "$root/.gpu/faiss_gpu_sm90.tar.xz"
