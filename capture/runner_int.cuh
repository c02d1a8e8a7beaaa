/*
 * runner_int.cuh - private to the runner's files: the runner's state and
 * the functions one of its files calls in another. Nothing outside these
 * files includes it; the component's API is capture/capture.h.
 *
 * The runner (what it does: runner.cu's opening comment), file by file:
 *   runner.cu      the life cycle: cap_runner_new (runner_init), _prepare
 *                  (the eager pass, then graph capture), _enqueue, _wait,
 *                  _poll, _free, and the accessors
 *   interp.cu      the layer interpreter: fusions, each layer's setup, one
 *                  inference's layers (rk_enqueue_io), the encoder layer,
 *                  the choice of a convolution's algorithm
 *   kernels.cu     the small kernels (fill, epilogue, add, channel padding,
 *                  batch norm, pooling, the direct convolution, row norms,
 *                  tokens) and their launchers
 *   attention.cu   the encoders' attention: the flash kernel, softmax,
 *                  head copies, the batched GEMMs' pointer arrays
 *   gemm.cu        GEMMs: cuBLAS (rk_gemm_nt) and cuBLASLt plans with the
 *                  bias, activation and residual in the epilogue
 *                  (rk_gemm_lt)
 *   algo_cache.cu  the process-wide cache of cuDNN's algorithm choices
 *
 * A function defined in one file and called from another is declared here
 * with the prefix rk_; kernels stay static in their file, behind launchers
 * that take the runner (its stream) and launch exactly as the callers did.
 * The small static inline helpers here (grid_for, al16, block_sum) keep
 * their short names: each file gets its own copy.
 */
#ifndef CAP_RUNNER_INT_CUH
#define CAP_RUNNER_INT_CUH

#include "capture/capture.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdint.h>

#define MAX_BATCH_LIMIT CAP_MAX_BATCH
/* an algorithm number of our own in the cache: k_conv_direct */
#define ALGO_DIRECT ((cudnnConvolutionFwdAlgo_t)100)
#define DIRECT_SMEM_MAX (96 << 10)
/* The direct convolution's output channels per thread. */
#define DIRECT_OC 32
#define BLAS_WS_BYTES ((size_t)32 << 20)

/* ---- error reporting ---------------------------------------------------- */

/* One check for every library: a call returning a status of type T that
 * should equal ok; otherwise an error naming the call, name(status) and its
 * code. */
#define CK_STATUS(call, T, ok, name)                                        \
    do {                                                                    \
        T s_ = (call);                                                      \
        if (s_ != (ok))                                                     \
            return ut_errf(err, "%s: %s (%d)", #call, name(s_), (int)s_);   \
    } while (0)

#define CK_CUDA(call) CK_STATUS(call, cudaError_t, cudaSuccess, \
                                cudaGetErrorName)
#define CK_CUDNN(call) CK_STATUS(call, cudnnStatus_t, CUDNN_STATUS_SUCCESS, \
                                 cudnnGetErrorString)
#define CK_CUBLAS(call) CK_STATUS(call, cublasStatus_t, \
                                  CUBLAS_STATUS_SUCCESS, cublasGetStatusName)

/* Fused activations: the epilogues' and the kernels' act argument. */
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_GELU = 2 };

/* ---- the runner's state ------------------------------------------------- */

/* One cuBLASLt GEMM of one layer at one batch size (rk_gemm_lt): made the
 * first time that GEMM runs at that batch, outside graph capture, and kept
 * until the runner is freed. The descriptors hold the bias pointer and the
 * shapes; the algorithm is the first of cuBLASLt's heuristic candidates
 * that ran. */
typedef struct ltplan {
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t a, b, d;    /* W, X, and C = D (same layout) */
    cublasLtMatmulAlgo_t algo;
    int ok;                            /* algo chosen and known to run */
} ltplan;

/* The fused GEMMs of a layer: an encoder's four, a fully connected
 * layer's one. */
enum { LT_QKV = 0, LT_PROJ = 1, LT_MLP1 = 2, LT_MLP2 = 3, LT_ENCODER = 4,
       LT_FC = 0 };

typedef struct lrun {
    int alias;                 /* >= 0: shares that layer's buffer, runs
                                  nothing */
    int act;                   /* fused activation */
    __half *out;               /* [max_batch, size] */
    __half *w, *b;             /* conv/fc weights and bias; bn scale/shift;
                                  norms' gain/bias; tokens' cls/pos */
    /* encoder */
    __half *ln1g, *ln1b, *wqkv, *bqkv, *wo, *bo, *ln2g, *ln2b, *w1, *b1,
        *w2, *b2;
    void **attn_ptr;           /* device: the fast attention's pointer
                                  arrays (rk_attn_ptrs), 5 x max_batch heads */
    cudnnFilterDescriptor_t fdesc;
    cudnnConvolutionDescriptor_t cdesc;
    int cpad;                  /* conv: input channels padded to 8 (0: no) */
    __half *xpad;              /* [max_batch, h, w, cpad] */
    float *wt;                 /* conv: the direct kernel's weights, where
                                  it may run (fast path, few channels) */
    size_t wt_bytes;           /* its shared memory: one group's weights */
    cudnnTensorDescriptor_t bdesc;   /* conv: the bias, for the fused call */
    int fuse[MAX_BATCH_LIMIT + 1];   /* conv: bias and ReLU inside cuDNN's
                                        call: 1 yes, -1 refused, 0 not
                                        tried */
    cudnnConvolutionFwdAlgo_t algo[MAX_BATCH_LIMIT + 1];   /* ALGO_DIRECT:
                                                             ours */
    size_t ws[MAX_BATCH_LIMIT + 1];
    int have_algo[MAX_BATCH_LIMIT + 1];
    int searched[MAX_BATCH_LIMIT + 1];   /* the algorithm is this process's
                                            own search, not the cache's */
    ltplan *lt;                /* fast path: nlt x (max_batch + 1) plans,
                                  GEMM g at batch nb at g (max_batch + 1)
                                  + nb; NULL on the reference path */
    int nlt;
} lrun;

struct cap_runner {
    cap_graph g;               /* a copy: the runner owns its layers */
    cap_runner_opts o;
    lrun *lr;
    cudaStream_t stream;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    cublasLtHandle_t blt;      /* the fast path's fused GEMMs; the stream
                                  is given at each call */
    void *blas_ws;             /* BLAS_WS_BYTES, shared by cuBLAS and
                                  cuBLASLt: both run on r->stream, so their
                                  kernels never overlap */
    void *ws;
    size_t ws_bytes;
    cudnnTensorDescriptor_t xd, yd;
    cudnnActivationDescriptor_t relu;   /* the fused convolutions' */
    __half *in_d;              /* [max_batch, c, h, w] as NHWC */
    __half *in_h, *out_h;      /* pinned */
    size_t in_elems, out_elems;   /* per request */
    /* encoder scratch, sized for the largest encoder; e_q, e_k, e_v,
     * e_o only for the reference attention */
    __half *e_ln, *e_qkv, *e_q, *e_k, *e_v, *e_s, *e_o, *e_att, *e_mlp;
    int attn_ref;              /* 1: the reference (unfused) path */
    int no_direct, no_fuse;    /* fast path without the direct kernel, or
                                  without cuDNN's fused bias and ReLU
                                  (IGNITER_CONV_DIRECT=0, IGNITER_CONV_FUSE=0:
                                  to measure what each brings) */
    cudaGraphExec_t exec[MAX_BATCH_LIMIT + 1];
    cudaEvent_t ev0, ev1;
    unsigned long long fill_seq;
    int sms;                   /* SMs of the context it was made in */
};

/* ---- small helpers, one copy per file ----------------------------------- */

/* Blocks of 256 threads for n elements, the grid at most 65535 (the
 * kernels stride over the rest). */
static inline int grid_for(size_t n)
{
    size_t g = (n + 255) / 256;
    return (int)(g > 65535 ? 65535 : g ? g : 1);
}

/* An elementwise kernel's launch configuration for n elements on r's
 * stream. */
#define LAUNCH(n) grid_for(n), 256, 0, r->stream

static inline int al16(const void *p)
{
    return ((uintptr_t)p & 15) == 0;
}

/* Block-wide sum of one float per thread (blockDim.x a multiple of 32,
 * at most 1024). */
__device__ static inline float block_sum(float v, float *sh)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0)
        sh[wid] = v;
    __syncthreads();
    float t = 0.f;
    for (int i = 0; i < (int)(blockDim.x >> 5); i++)
        t += sh[i];
    return t;
}

/* ---- runner.cu ---------------------------------------------------------- */

/* A device buffer of elems halves (at least one); -1 with err. */
int rk_dalloc(__half **p, size_t elems, ut_err *err);

/* ---- interp.cu: the layer interpreter ----------------------------------- */

/* Decides the fusions (lrun.alias, lrun.act, a convolution's bias). */
void rk_plan_fusions(cap_runner *r);
/* Layer i's buffers, weights, descriptors and plans. */
int rk_setup_layer(cap_runner *r, size_t i, ut_err *err);
/* Enqueues one inference of nb requests: the input copied in, every layer,
 * the outputs copied out. find: choose convolution algorithms first
 * (never during graph capture). */
int rk_enqueue_io(cap_runner *r, int nb, int find, ut_err *err);

/* ---- kernels.cu: the small kernels' launchers (on r->stream) ------------ */

/* p[0..n) uniform in [-scale, scale) from (seed, index). */
void rk_fill(cap_runner *r, __half *p, size_t n, unsigned long long seed,
             float scale);
/* dst = act(src + bias[channel]) + res over n halves of c channels (bias,
 * res may be NULL; dst may be src or res), 8 halves a thread where n, c
 * and the pointers allow. */
void rk_epilogue(cap_runner *r, __half *dst, const __half *src,
                 const __half *bias, const __half *res, size_t n, int c,
                 int act);
/* dst = act(a + b) over n halves, 8 a thread where the pointers allow. */
void rk_add_act(cap_runner *r, __half *dst, const __half *a, const __half *b,
                size_t n, int act);
/* dst[p][0..cp) = src[p][0..c), zeros after, for px pixels. */
void rk_pad_channels(cap_runner *r, __half *dst, const __half *src, size_t px,
                     int c, int cp);
/* Batch norm at inference over n halves of c channels, then act. */
void rk_bn(cap_runner *r, __half *dst, const __half *src, const __half *scale,
           const __half *shift, size_t n, int c, int act);
/* NHWC max pooling of nb maps h x w x c into oh x ow (n = nb oh ow c): 8
 * channels a thread on the fast path where c and the pointers allow. */
void rk_maxpool(cap_runner *r, __half *dst, const __half *src, size_t n,
                int nb, int h, int w, int c, int oh, int ow, int k, int s,
                int p);
/* NHWC adaptive average pooling (n = nb oh ow c). */
void rk_avgpool(cap_runner *r, __half *dst, const __half *src, size_t n,
                int nb, int h, int w, int c, int oh, int ow);
/* A block per row of c (rows rows): ln 1, layer norm (gain g, bias bb;
 * 256 threads); ln 0, L2 normalisation with a scale per channel (g; bb
 * unused; 128 threads). */
void rk_rownorm(cap_runner *r, __half *dst, const __half *src, int rows,
                int c, const __half *g, const __half *bb, int ln);
/* An encoder's layer norm of rows of c: a warp per row on the fast path
 * where the row fits, else (and on the reference path) rk_rownorm's. */
void rk_layernorm(cap_runner *r, __half *dst, const __half *src, int rows,
                  int c, const __half *g, const __half *bb);
/* Patch features plus class token and position embedding (n = nb t c). */
void rk_tokens(cap_runner *r, __half *dst, const __half *src,
               const __half *cls, const __half *pos, size_t n, int nb, int t,
               int c, int has_cls);
/* The direct convolution's weights for layer l (c input channels, q->w's
 * q->cpad apart), as float, into q->wt; and the kernel's shared memory
 * raised where q->wt_bytes (set by the caller) needs more than 48 KiB. */
int rk_conv_direct_init(cap_runner *r, const cap_layer *l, lrun *q, int c,
                        ut_err *err);
/* The direct convolution of layer l on x (unpadded, c channels, h x w),
 * with the layer's bias and activation, into q->out. */
void rk_conv_direct(cap_runner *r, const cap_layer *l, const lrun *q,
                    const __half *x, int nb, int h, int w, int c);

/* ---- attention.cu ------------------------------------------------------- */

/* Row stride of the fast path's score matrices for t tokens. */
int rk_att_ld(int t);
/* The fast attention's pointer arrays of encoder layer l (q->attn_ptr). */
int rk_attn_ptrs(cap_runner *r, const cap_layer *l, lrun *q, ut_err *err);
/* Multi-head attention of nb requests, r->e_qkv to r->e_att. */
int rk_attention(cap_runner *r, const cap_layer *l, const lrun *q, int nb,
                 ut_err *err);

/* ---- gemm.cu ------------------------------------------------------------ */

/* Y[m, n] = alpha X[m, k] W[n, k]^T, row-major; ldx: X's row stride. */
int rk_gemm_nt(cap_runner *r, int m, int n, int k, const __half *x, int ldx,
               const __half *w, __half *y, float alpha, ut_err *err);
/* Y[m, n] = act(X[m, k] W[n, k]^T + bias[n]) (+ R[m, n]) in one cuBLASLt
 * matmul through plan p, made at its first call (gemm.cu says how). */
int rk_gemm_lt(cap_runner *r, ltplan *p, int m, int n, int k,
               const __half *x, int ldx, const __half *w, const __half *bias,
               const __half *res, __half *y, int act, ut_err *err);
void rk_lt_plan_free(ltplan *p);

/* ---- algo_cache.cu ------------------------------------------------------ */

/* 1 and the algorithm and workspace cached under key, or 0. */
int rk_algo_get(const char *key, cudnnConvolutionFwdAlgo_t *a, size_t *ws);
void rk_algo_put(const char *key, cudnnConvolutionFwdAlgo_t a, size_t ws);

#endif
