/*
 * cublas12_shim.c: a libcublas.so.12 that forwards to libcublas.so.13.
 *
 * Why: PyPI's faiss-gpu wheels link CUDA 12 (libcudart.so.12, libcublas.so.12),
 * while the lent GPU machine carries CUDA 13 only and nvidia-cublas-cu12 (~580 MB)
 * cannot travel. libcudart.so.12 (3.5 MB wheel) runs on the CUDA 13 driver; cuBLAS
 * is the one missing piece, and libfaiss uses just these 8 of its functions, each
 * imported with symbol version "libcublas.so.12". Their C signatures and the enum
 * values FAISS passes (cudaDataType CUDA_R_32F/16F/16BF, cublasComputeType_t
 * CUBLAS_COMPUTE_32F[_FAST_TF32], cublasMath_t, CUBLAS_GEMM_DEFAULT) are the same in
 * cuBLAS 12 and 13. Both runtimes use the device's primary context, so the streams
 * FAISS hands to cublasSetStream_v2 are valid for cuBLAS 13.
 *
 * Only for running the benchmark on that machine (bench/gpu/prepare.sh builds it,
 * bench/gpu/run_device.sh uses it); never shipped. CUBLAS13_LIB names the library
 * to forward to (default: "libcublas.so.13" on the loader path). If it cannot be
 * loaded, every call returns CUBLAS_STATUS_NOT_INITIALIZED and says why once on
 * stderr, so `import faiss` still works on a machine without CUDA.
 *
 * Build: gcc -O2 -shared -fPIC -Wl,-soname,libcublas.so.12
 *        -Wl,--version-script=cublas12.map -o libcublas.so.12 cublas12_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef int status_t;        /* cublasStatus_t */
typedef void *handle_t;      /* cublasHandle_t */
typedef void *stream_t;      /* cudaStream_t */
#define NOT_INITIALIZED 1    /* CUBLAS_STATUS_NOT_INITIALIZED */

static void *lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void open_lib(void) {
    const char *path = getenv("CUBLAS13_LIB");
    if (!path || !*path) path = "libcublas.so.13";
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) fprintf(stderr, "cublas12_shim: cannot load %s: %s\n", path, dlerror());
    else if (getenv("CUBLAS12_SHIM_VERBOSE")) fprintf(stderr, "cublas12_shim: forwarding to %s\n", path);
}

static void *real(const char *name) {
    pthread_once(&once, open_lib);
    if (!lib) return NULL;
    void *fn = dlsym(lib, name);
    if (!fn) fprintf(stderr, "cublas12_shim: %s not found in cuBLAS 13\n", name);
    return fn;
}

/* One forwarder per function: resolve once, then call with the same arguments. */
#define FORWARD(name, params, args)                                  \
    status_t name params {                                           \
        static status_t (*fn) params;                                \
        if (!fn) fn = (status_t (*) params)real(#name);              \
        return fn ? fn args : NOT_INITIALIZED;                       \
    }

FORWARD(cublasCreate_v2, (handle_t *handle), (handle))
FORWARD(cublasDestroy_v2, (handle_t handle), (handle))
FORWARD(cublasSetStream_v2, (handle_t handle, stream_t stream), (handle, stream))
FORWARD(cublasGetMathMode, (handle_t handle, int *mode), (handle, mode))
FORWARD(cublasSetMathMode, (handle_t handle, int mode), (handle, mode))

FORWARD(cublasSgemmEx,
        (handle_t h, int transa, int transb, int m, int n, int k, const float *alpha,
         const void *A, int Atype, int lda, const void *B, int Btype, int ldb,
         const float *beta, void *C, int Ctype, int ldc),
        (h, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc))

FORWARD(cublasGemmEx,
        (handle_t h, int transa, int transb, int m, int n, int k, const void *alpha,
         const void *A, int Atype, int lda, const void *B, int Btype, int ldb,
         const void *beta, void *C, int Ctype, int ldc, int computeType, int algo),
        (h, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc,
         computeType, algo))

FORWARD(cublasGemmStridedBatchedEx,
        (handle_t h, int transa, int transb, int m, int n, int k, const void *alpha,
         const void *A, int Atype, int lda, long long strideA,
         const void *B, int Btype, int ldb, long long strideB,
         const void *beta, void *C, int Ctype, int ldc, long long strideC,
         int batchCount, int computeType, int algo),
        (h, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB,
         beta, C, Ctype, ldc, strideC, batchCount, computeType, algo))
