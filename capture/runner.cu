/*
 * runner.cu - the inference runner: a cap_graph executed with cuDNN, cuBLAS
 * and a few kernels of our own, in FP16 with NHWC activations.
 *
 * Layout: a feature map is [batch, h, w, c] (channels last, which is what
 * cuDNN's tensor-core convolutions want); a token sequence is [batch, t, c].
 * Weights are random (a hash of the seed and the element index), so no
 * file is read: inference time does not depend on their values.
 *
 * Fusions, decided once when the runner is made: a batch norm whose only
 * input is a convolution used by nothing else is folded into that
 * convolution's bias; a ReLU whose input is used by nothing else runs in
 * the epilogue of the layer before (convolution, fully connected, add).
 * The layers so absorbed run nothing and share their producer's buffer.
 *
 * Two paths, chosen per runner (cap_runner_opts.attn_ref, env
 * IGNITER_ATTN_REF=1 for the reference):
 *   fast: encoders' attention in one fused (flash) kernel on the qkv
 *         layout for head size 64, else batched GEMMs with a warp softmax
 *         (attention()); the encoders' four GEMMs and the fully connected
 *         layers through cuBLASLt with bias, activation (ReLU, GELU) and
 *         residual in the GEMM's epilogue (gemm_lt()); convolutions
 *         with bias and ReLU in cuDNN's fused call where it takes them;
 *         a first layer of few channels (3 colours) by a direct kernel of
 *         ours where it beats cuDNN's search (conv_algo() times both);
 *         max pooling 8 channels a thread;
 *   reference: the unfused path: head copies, block softmax, separate
 *         bias/activation kernels (gemm_nt() then epilogue()), cuDNN for
 *         every convolution.
 * `igniter-capture check` compares the two.
 *
 * Errors name the call and its code: `cudnnConvolutionForward: 
 * CUDNN_STATUS_BAD_PARAM (3) (layer conv2, batch 8)`.
 */
#include "capture/capture.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH_LIMIT 64
/* an algorithm number of our own in the cache: k_conv_direct */
#define ALGO_DIRECT ((cudnnConvolutionFwdAlgo_t)100)
#define DIRECT_SMEM_MAX (96 << 10)
#define BLAS_WS_BYTES ((size_t)32 << 20)

/* ---- error reporting ------------------------------------------------------ */

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

/* ---- kernels ------------------------------------------------------------ */

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_GELU = 2 };

__device__ static inline float act_f(float x, int act)
{
    if (act == ACT_RELU)
        return x > 0.f ? x : 0.f;
    /* GELU's tanh approximation, which is what cuBLASLt's GELU epilogue
     * computes: the reference path must agree with the fused one (the
     * exact erf form differs from it by up to about 5e-4) */
    if (act == ACT_GELU)
        return 0.5f * x *
               (1.f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));
    return x;
}

/* Uniform in [-scale, scale) from (seed, i): splitmix64. */
__global__ static void k_fill(__half *p, size_t n, unsigned long long seed,
                              float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        unsigned long long z = seed + 0x9E3779B97F4A7C15ULL * (i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        float u = (float)(z >> 40) * (1.0f / 16777216.0f);
        p[i] = __float2half((2.f * u - 1.f) * scale);
    }
}

/* dst = act(src + bias[i % c]) + res (res, bias may be NULL). */
__global__ static void k_epilogue(__half *dst, const __half *src,
                                  const __half *bias, const __half *res,
                                  size_t n, int c, int act)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float v = __half2float(src[i]);
        if (bias)
            v += __half2float(bias[i % c]);
        v = act_f(v, act);
        if (res)
            v += __half2float(res[i]);
        dst[i] = __float2half(v);
    }
}

/* The same, 8 halves (16 bytes) a thread: n and c multiples of 8, every
 * pointer 16-byte aligned (launch through epilogue()). */
__global__ static void k_epilogue8(uint4 *dst, const uint4 *src,
                                   const __half *bias, const uint4 *res,
                                   size_t n8, int c, int act)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n8;
         i += (size_t)gridDim.x * blockDim.x) {
        uint4 v = src[i], rv, bv;
        if (res)
            rv = res[i];
        /* ch is a multiple of 8: the 8 biases are one aligned load */
        int ch = (int)((i * 8) % (size_t)c);
        if (bias)
            bv = *(const uint4 *)(bias + ch);
        __half2 *h = (__half2 *)&v, *rh = (__half2 *)&rv;
        const __half2 *bh = (const __half2 *)&bv;
        for (int k = 0; k < 4; k++) {
            float2 f = __half22float2(h[k]);
            if (bias) {
                float2 g = __half22float2(bh[k]);
                f.x += g.x;
                f.y += g.y;
            }
            f.x = act_f(f.x, act);
            f.y = act_f(f.y, act);
            if (res) {
                float2 g = __half22float2(rh[k]);
                f.x += g.x;
                f.y += g.y;
            }
            h[k] = __floats2half2_rn(f.x, f.y);
        }
        dst[i] = v;
    }
}

__global__ static void k_add8(uint4 *dst, const uint4 *a, const uint4 *b,
                              size_t n8, int act)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n8;
         i += (size_t)gridDim.x * blockDim.x) {
        uint4 x = a[i], y = b[i];
        __half2 *hx = (__half2 *)&x, *hy = (__half2 *)&y;
        for (int k = 0; k < 4; k++) {
            float2 f = __half22float2(hx[k]), g = __half22float2(hy[k]);
            hx[k] = __floats2half2_rn(act_f(f.x + g.x, act),
                                      act_f(f.y + g.y, act));
        }
        dst[i] = x;
    }
}

__global__ static void k_add(__half *dst, const __half *a, const __half *b,
                             size_t n, int act)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __float2half(act_f(__half2float(a[i]) + __half2float(b[i]),
                                    act));
}

/* dst[p][0..cp) = src[p][0..c), zeros after. */
__global__ static void k_pad_channels(__half *dst, const __half *src,
                                      size_t px, int c, int cp)
{
    size_t n = px * cp;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int ch = (int)(i % cp);
        dst[i] = ch < c ? src[i / cp * c + ch] : __float2half(0.f);
    }
}

/* Batch norm at inference: dst = src * scale[c] + shift[c]. */
__global__ static void k_bn(__half *dst, const __half *src,
                            const __half *scale, const __half *shift,
                            size_t n, int c, int act)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int ch = (int)(i % c);
        float v = __half2float(src[i]) * __half2float(scale[ch]) +
                  __half2float(shift[ch]);
        dst[i] = __float2half(act_f(v, act));
    }
}

/* Pixel r of an NHWC map of oh x ow pixels a request: its request, *y
 * and *x. */
__device__ static inline int pixel_of(size_t r, int oh, int ow, int *y,
                                      int *x)
{
    *x = (int)(r % ow);
    r /= ow;
    *y = (int)(r % oh);
    return (int)(r / oh);
}

/* Max of a and b for one half, or for 8 halves at once (a uint4). */
__device__ static inline __half vmax(__half a, __half b)
{
    return __hgt(b, a) ? b : a;
}

__device__ static inline uint4 vmax(uint4 a, uint4 b)
{
    __half2 *x = (__half2 *)&a;
    const __half2 *y = (const __half2 *)&b;
    for (int j = 0; j < 4; j++)
        x[j] = __hmax2(x[j], y[j]);
    return a;
}

/* The lowest finite half, in every lane. */
template <typename V> __device__ static inline V vlowest();
template <> __device__ inline __half vlowest<__half>()
{
    return __float2half(-65504.f);
}
template <> __device__ inline uint4 vlowest<uint4>()
{
    __half2 h = __float2half2_rn(-65504.f);
    uint4 u;
    __half2 *x = (__half2 *)&u;
    for (int j = 0; j < 4; j++)
        x[j] = h;
    return u;
}

/* NHWC max pooling; padded cells never win. V: one channel a thread
 * (__half), or 8 (uint4: c counts groups of 8, both pointers 16-byte
 * aligned). */
template <typename V>
__global__ static void k_maxpool(V *dst, const V *src, int nb, int h, int w,
                                 int c, int oh, int ow, int k, int s, int p)
{
    size_t n = (size_t)nb * oh * ow * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int ch = (int)(i % c), y, x;
        int b = pixel_of(i / c, oh, ow, &y, &x);
        V m = vlowest<V>();
        for (int dy = 0; dy < k; dy++) {
            int iy = y * s - p + dy;
            if (iy < 0 || iy >= h)
                continue;
            for (int dx = 0; dx < k; dx++) {
                int ix = x * s - p + dx;
                if (ix < 0 || ix >= w)
                    continue;
                m = vmax(m, src[(((size_t)b * h + iy) * w + ix) * c + ch]);
            }
        }
        dst[i] = m;
    }
}

/* The direct convolution's output channels per thread. */
#define DIRECT_OC 32

/* wt[g][(ky k + kx) c + ci][j] = w[g DIRECT_OC + j][ky][kx][ci] (w's
 * channels cp apart, cp >= c), as float: the direct convolution's weights,
 * DIRECT_OC output channels a group. */
__global__ static void k_conv_wt(float *wt, const __half *w, int out, int kk,
                                 int c, int cp)
{
    size_t n = (size_t)kk * c * out;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int j = (int)(i % DIRECT_OC);
        size_t t = i / DIRECT_OC;
        int g = (int)(t / ((size_t)kk * c));
        t %= (size_t)kk * c;
        int ci = (int)(t % c), kx = (int)(t / c);
        int o = g * DIRECT_OC + j;
        wt[i] = __half2float(w[((size_t)o * kk + kx) * cp + ci]);
    }
}

/* Direct convolution for a few input channels (a network's first layer,
 * on 3 colours), bias and activation included. cuDNN's tensor-core kernels
 * need channels in multiples of 8 and run such a layer padded, or in a
 * generic kernel (VGG-19's first layer: 32 us at batch 1 on the H100).
 * A thread computes DIRECT_OC output channels (group blockIdx.y) of one
 * output pixel; the group's weights sit in shared memory, loaded once per
 * block (the grid strides over pixels), and every thread of a warp reads
 * the same weight at once (a broadcast). */
__global__ static void k_conv_direct(__half *dst, const __half *src,
                                     const float *wt, const __half *bias,
                                     int nb, int h, int w, int c, int oh,
                                     int ow, int out, int k, int s, int p,
                                     int act)
{
    extern __shared__ float4 sw4[];
    float *sw = (float *)sw4;
    int g = blockIdx.y;
    int nw = k * k * c * DIRECT_OC;
    const float *wg = wt + (size_t)g * nw;
    for (int i = threadIdx.x; i < nw; i += blockDim.x)
        sw[i] = wg[i];
    __syncthreads();
    size_t n = (size_t)nb * oh * ow;
    for (size_t px = blockIdx.x * (size_t)blockDim.x + threadIdx.x; px < n;
         px += (size_t)gridDim.x * blockDim.x) {
        int y, x;
        int b = pixel_of(px, oh, ow, &y, &x);
        float a[DIRECT_OC];
#pragma unroll
        for (int j = 0; j < DIRECT_OC; j++)
            a[j] = bias ? __half2float(bias[g * DIRECT_OC + j]) : 0.f;
        for (int dy = 0; dy < k; dy++) {
            int iy = y * s - p + dy;
            if (iy < 0 || iy >= h)
                continue;
            for (int dx = 0; dx < k; dx++) {
                int ix = x * s - p + dx;
                if (ix < 0 || ix >= w)
                    continue;
                const __half *in = src + (((size_t)b * h + iy) * w + ix) * c;
                const float4 *wr =
                    sw4 + (size_t)(dy * k + dx) * c * (DIRECT_OC / 4);
                for (int ci = 0; ci < c; ci++, wr += DIRECT_OC / 4) {
                    float v = __half2float(in[ci]);
#pragma unroll
                    for (int j = 0; j < DIRECT_OC / 4; j++) {
                        float4 q = wr[j];
                        a[4 * j] += v * q.x;
                        a[4 * j + 1] += v * q.y;
                        a[4 * j + 2] += v * q.z;
                        a[4 * j + 3] += v * q.w;
                    }
                }
            }
        }
        uint4 *o = (uint4 *)(dst + px * out + g * DIRECT_OC);
#pragma unroll
        for (int j = 0; j < DIRECT_OC / 8; j++) {
            uint4 u;
            __half2 *hu = (__half2 *)&u;
#pragma unroll
            for (int e = 0; e < 4; e++)
                hu[e] = __floats2half2_rn(act_f(a[8 * j + 2 * e], act),
                                          act_f(a[8 * j + 2 * e + 1], act));
            o[j] = u;
        }
    }
}

/* NHWC adaptive average pooling (PyTorch's bins). */
__global__ static void k_avgpool(__half *dst, const __half *src, int nb,
                                 int h, int w, int c, int oh, int ow)
{
    size_t n = (size_t)nb * oh * ow * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int ch = (int)(i % c), y, x;
        int b = pixel_of(i / c, oh, ow, &y, &x);
        int y0 = y * h / oh, y1 = ((y + 1) * h + oh - 1) / oh;
        int x0 = x * w / ow, x1 = ((x + 1) * w + ow - 1) / ow;
        float sum = 0.f;
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++)
                sum += __half2float(
                    src[(((size_t)b * h + iy) * w + ix) * c + ch]);
        dst[i] = __float2half(sum / (float)((y1 - y0) * (x1 - x0)));
    }
}

/* Block-wide sum of one float per thread (blockDim.x a multiple of 32,
 * at most 1024). */
__device__ static float block_sum(float v, float *sh)
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

/* One block per row of c: layer norm (gain, bias) or, with ln == 0, L2
 * normalisation with a scale per channel (SSD's conv4_3 norm). */
__global__ static void k_rownorm(__half *dst, const __half *src, int c,
                                 const __half *g, const __half *bb, int ln)
{
    __shared__ float sh[32];
    const __half *x = src + (size_t)blockIdx.x * c;
    __half *y = dst + (size_t)blockIdx.x * c;
    float s = 0.f, s2 = 0.f;
    for (int i = threadIdx.x; i < c; i += blockDim.x) {
        float v = __half2float(x[i]);
        s += v;
        s2 += v * v;
    }
    s = block_sum(s, sh);
    s2 = block_sum(s2, sh);
    if (ln) {
        float mean = s / c, var = s2 / c - mean * mean;
        float inv = rsqrtf(var + 1e-6f);
        for (int i = threadIdx.x; i < c; i += blockDim.x)
            y[i] = __float2half((__half2float(x[i]) - mean) * inv *
                                    __half2float(g[i]) +
                                __half2float(bb[i]));
    } else {
        float inv = rsqrtf(s2 + 1e-10f);
        for (int i = threadIdx.x; i < c; i += blockDim.x)
            y[i] = __float2half(__half2float(x[i]) * inv * __half2float(g[i]));
    }
}

/* Layer norm of rows of c halves (c % 8 == 0, c <= 256 V, 16-byte
 * aligned): a warp per row, the row in registers (V uint4 a lane), mean
 * and variance by shuffles, two passes over the registers. The fast path's
 * encoder norm; k_rownorm (a block per row) is the reference's. */
template <int V>
__global__ static void k_layernorm_warp(__half *dst, const __half *src,
                                        int rows, int c, const __half *g,
                                        const __half *bb)
{
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31, nv = c / 8;
    if (row >= rows)
        return;
    const uint4 *x = (const uint4 *)(src + (size_t)row * c);
    uint4 *y = (uint4 *)(dst + (size_t)row * c);
    float v[V][8];
    float s = 0.f;
#pragma unroll
    for (int k = 0; k < V; k++) {
        int i = lane + 32 * k;
        uint4 u = i < nv ? x[i] : make_uint4(0, 0, 0, 0);
        const __half2 *h2 = (const __half2 *)&u;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            float2 f = __half22float2(h2[j]);
            v[k][2 * j] = f.x;
            v[k][2 * j + 1] = f.y;
            s += f.x + f.y;
        }
    }
    for (int o = 16; o > 0; o >>= 1)
        s += __shfl_xor_sync(0xffffffffu, s, o);
    float mean = s / c, s2 = 0.f;
#pragma unroll
    for (int k = 0; k < V; k++)
        if (lane + 32 * k < nv)
#pragma unroll
            for (int j = 0; j < 8; j++)
                s2 += (v[k][j] - mean) * (v[k][j] - mean);
    for (int o = 16; o > 0; o >>= 1)
        s2 += __shfl_xor_sync(0xffffffffu, s2, o);
    float inv = rsqrtf(s2 / c + 1e-6f);
#pragma unroll
    for (int k = 0; k < V; k++) {
        int i = lane + 32 * k;
        if (i >= nv)
            continue;
        uint4 gu = ((const uint4 *)g)[i], bu = ((const uint4 *)bb)[i], o;
        const __half2 *g2 = (const __half2 *)&gu, *b2 = (const __half2 *)&bu;
        __half2 *o2 = (__half2 *)&o;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            float2 gf = __half22float2(g2[j]), bf = __half22float2(b2[j]);
            o2[j] = __floats2half2_rn(
                (v[k][2 * j] - mean) * inv * gf.x + bf.x,
                (v[k][2 * j + 1] - mean) * inv * gf.y + bf.y);
        }
        y[i] = o;
    }
}

/* One block per row of n (rows ld apart): softmax in place. The
 * reference path's kernel, and the fast path's for rows too long for
 * k_softmax_warp. */
__global__ static void k_softmax(__half *p, int n, int ld)
{
    __shared__ float sh[32];
    __half *x = p + (size_t)blockIdx.x * ld;
    float m = -65504.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        m = fmaxf(m, __half2float(x[i]));
    for (int o = 16; o > 0; o >>= 1)
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    __shared__ float shm[32];
    if ((threadIdx.x & 31) == 0)
        shm[threadIdx.x >> 5] = m;
    __syncthreads();
    for (int i = 0; i < (int)(blockDim.x >> 5); i++)
        m = fmaxf(m, shm[i]);
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        s += __expf(__half2float(x[i]) - m);
    s = block_sum(s, sh);
    float inv = 1.f / s;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        x[i] = __float2half(__expf(__half2float(x[i]) - m) * inv);
}

/* Softmax in place of `rows` rows of n halves, ld apart: one warp per
 * row, the row read once into registers (P2 pairs of halves a lane, so
 * n <= 64 P2), max and sum by shuffles, written once. The block-per-row
 * kernel read each row three times and synchronised its block twice for
 * 197 values; here a block of 4 warps does 4 rows. Needs ld even and p
 * 4-byte aligned (pairs are loaded as __half2); for odd n the pair that
 * holds column n - 1 also holds column n, padding (ld > n), written 0. */
template <int P2>
__global__ static void k_softmax_warp(__half *p, int rows, int n, int ld)
{
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (row >= rows)        /* the whole warp leaves: shuffles stay full */
        return;
    __half2 *x = (__half2 *)(p + (size_t)row * ld);
    float2 v[P2];
    float m = -INFINITY;
#pragma unroll
    for (int k = 0; k < P2; k++) {
        int j = lane + 32 * k;              /* pair: columns 2j, 2j + 1 */
        v[k] = make_float2(-INFINITY, -INFINITY);
        if (2 * j < n) {
            float2 f = __half22float2(x[j]);
            v[k].x = f.x;
            if (2 * j + 1 < n)
                v[k].y = f.y;
        }
        m = fmaxf(m, fmaxf(v[k].x, v[k].y));
    }
    for (int o = 16; o > 0; o >>= 1)
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    float s = 0.f;
#pragma unroll
    for (int k = 0; k < P2; k++) {
        v[k].x = __expf(v[k].x - m);        /* -inf (outside): 0 */
        v[k].y = __expf(v[k].y - m);
        s += v[k].x + v[k].y;
    }
    for (int o = 16; o > 0; o >>= 1)
        s += __shfl_xor_sync(0xffffffffu, s, o);
    float inv = 1.f / s;
#pragma unroll
    for (int k = 0; k < P2; k++) {
        int j = lane + 32 * k;
        if (2 * j < n)
            x[j] = __floats2half2_rn(v[k].x * inv, v[k].y * inv);
    }
}

/* Patch features [b, t-1, c] (or [b, t, c] without a class token) plus
 * the class token and the position embedding -> [b, t, c]. */
__global__ static void k_tokens(__half *dst, const __half *src,
                                const __half *cls, const __half *pos, int nb,
                                int t, int c, int has_cls)
{
    size_t n = (size_t)nb * t * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int ch = (int)(i % c);
        size_t r = i / c;
        int tok = (int)(r % t);
        int b = (int)(r / t);
        float v;
        if (has_cls && tok == 0)
            v = __half2float(cls[ch]);
        else
            v = __half2float(
                src[((size_t)b * (t - has_cls) + tok - has_cls) * c + ch]);
        dst[i] = __float2half(v + __half2float(pos[(size_t)tok * c + ch]));
    }
}

/* qkv [b, t, 3, h, d] -> q, k, v each [b, h, t, d]. */
__global__ static void k_split_heads(__half *q, __half *k, __half *v,
                                     const __half *qkv, int nb, int t,
                                     int h, int d)
{
    size_t n = (size_t)nb * t * 3 * h * d;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int e = (int)(i % d);
        size_t r = i / d;
        int hh = (int)(r % h);
        r /= h;
        int which = (int)(r % 3);
        r /= 3;
        int tok = (int)(r % t);
        int b = (int)(r / t);
        __half *o = which == 0 ? q : which == 1 ? k : v;
        o[(((size_t)b * h + hh) * t + tok) * d + e] = qkv[i];
    }
}

/* o [b, h, t, d] -> [b, t, h * d]. */
__global__ static void k_merge_heads(__half *dst, const __half *o, int nb,
                                     int t, int h, int d)
{
    size_t n = (size_t)nb * t * h * d;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        int e = (int)(i % d);
        size_t r = i / d;
        int hh = (int)(r % h);
        r /= h;
        int tok = (int)(r % t);
        int b = (int)(r / t);
        dst[i] = o[(((size_t)b * h + hh) * t + tok) * d + e];
    }
}

/* ---- the process-wide algorithm cache ---------------------------------- */

typedef struct algo_entry {
    char key[96];
    cudnnConvolutionFwdAlgo_t algo;
    size_t ws;
} algo_entry;

static pthread_mutex_t algo_lock = PTHREAD_MUTEX_INITIALIZER;
static algo_entry *algo_tab;
static size_t algo_n, algo_cap;

static int algo_get(const char *key, cudnnConvolutionFwdAlgo_t *a, size_t *ws)
{
    int found = 0;
    pthread_mutex_lock(&algo_lock);
    for (size_t i = 0; i < algo_n; i++)
        if (!strcmp(algo_tab[i].key, key)) {
            *a = algo_tab[i].algo;
            *ws = algo_tab[i].ws;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&algo_lock);
    return found;
}

static void algo_put(const char *key, cudnnConvolutionFwdAlgo_t a, size_t ws)
{
    pthread_mutex_lock(&algo_lock);
    if (algo_n == algo_cap) {
        algo_cap = algo_cap ? 2 * algo_cap : 256;
        algo_tab = (algo_entry *)ut_xrealloc(algo_tab,
                                             algo_cap * sizeof *algo_tab);
    }
    snprintf(algo_tab[algo_n].key, sizeof algo_tab[algo_n].key, "%s", key);
    algo_tab[algo_n].algo = a;
    algo_tab[algo_n].ws = ws;
    algo_n++;
    pthread_mutex_unlock(&algo_lock);
}

/* The cache on disk: a first line naming the cuDNN version, then one line
 * per entry, "KEY ALGO WORKSPACE" (ALGO 100: the runner's direct kernel).
 * A file of another cuDNN is ignored. */
extern "C" int cap_algo_cache_load(const char *path, ut_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    int n = 0;
    if (!fgets(line, sizeof line, f) ||
        strtoul(line + strcspn(line, "0123456789"), NULL, 10) !=
            (unsigned long)cudnnGetVersion()) {
        fclose(f);
        return 0;
    }
    for (int ln = 2; fgets(line, sizeof line, f); ln++) {
        char key[96];
        int a;
        unsigned long long ws;
        if (sscanf(line, "%95s %d %llu", key, &a, &ws) != 3 || a < 0 ||
            (a >= CUDNN_CONVOLUTION_FWD_ALGO_COUNT && a != ALGO_DIRECT)) {
            fclose(f);
            return ut_errf(err, "%s:%d: expected KEY ALGO WORKSPACE, got "
                           "'%.60s'", path, ln, line);
        }
        cudnnConvolutionFwdAlgo_t have;
        size_t hws;
        if (!algo_get(key, &have, &hws))
            algo_put(key, (cudnnConvolutionFwdAlgo_t)a, (size_t)ws);
        n++;
    }
    fclose(f);
    return n;
}

extern "C" int cap_algo_cache_save(const char *path, ut_err *err)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "igniter cudnn algorithms, cudnn %zu\n",
                  (size_t)cudnnGetVersion());
    pthread_mutex_lock(&algo_lock);
    for (size_t i = 0; i < algo_n; i++)
        ut_buf_printf(&b, "%s %d %zu\n", algo_tab[i].key,
                      (int)algo_tab[i].algo, algo_tab[i].ws);
    pthread_mutex_unlock(&algo_lock);
    int rc = ut_write_atomic(path, b.s ? b.s : "", b.len, err);
    ut_buf_free(&b);
    return rc;
}

/* ---- the runner ----------------------------------------------------------- */

/* One cuBLASLt GEMM of one layer at one batch size (gemm_lt): made the
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
                                  arrays (attn_ptrs), 5 x max_batch heads */
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

extern "C" void cap_runner_defaults(cap_runner_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_batch = 32;
    o->seed = 1;
    o->graphs = 1;
    o->workspace_bytes = (size_t)256 << 20;
    o->attn_ref = -1;
}

extern "C" const char *cap_runner_precision(void) { return "fp16"; }

extern "C" void cap_runner_versions(char *out, size_t n)
{
    int rt = 0, drv = 0;
    cudaRuntimeGetVersion(&rt);
    cudaDriverGetVersion(&drv);
    int bl = 0;
    cublasHandle_t h;
    if (cublasCreate(&h) == CUBLAS_STATUS_SUCCESS) {
        cublasGetVersion(h, &bl);
        cublasDestroy(h);
    }
    snprintf(out, n,
             "\"cuda_runtime\":%d,\"cuda_driver\":%d,\"cudnn\":%zu,"
             "\"cudnn_compiled\":%d,\"cublas\":%d,\"precision\":\"fp16\"",
             rt, drv, cudnnGetVersion(), CUDNN_VERSION, bl);
}

static int grid_for(size_t n)
{
    size_t g = (n + 255) / 256;
    return (int)(g > 65535 ? 65535 : g ? g : 1);
}

static int dalloc(__half **p, size_t elems, ut_err *err)
{
    CK_CUDA(cudaMalloc((void **)p, (elems ? elems : 1) * sizeof(__half)));
    return 0;
}

/* Allocates and fills a weight tensor of n elements, U(-scale, scale). */
static int weight(cap_runner *r, __half **p, size_t n, float scale,
                  ut_err *err)
{
    if (dalloc(p, n, err) < 0)
        return -1;
    k_fill<<<grid_for(n), 256, 0, r->stream>>>(*p, n,
                                               r->o.seed * 1000003ULL +
                                                   ++r->fill_seq,
                                               scale);
    CK_CUDA(cudaGetLastError());
    return 0;
}

static const __half *in_buf(const cap_runner *r, int idx)
{
    if (idx < 0)
        return r->in_d;
    while (r->lr[idx].alias >= 0)
        idx = r->lr[idx].alias;
    return r->lr[idx].out;
}

static int in_c(const cap_runner *r, const cap_layer *l, int k)
{
    return l->in[k] < 0 ? r->g.in_c : r->g.l[l->in[k]].c;
}
static int in_h(const cap_runner *r, const cap_layer *l)
{
    return l->in[0] < 0 ? r->g.in_h : r->g.l[l->in[0]].h;
}
static int in_w(const cap_runner *r, const cap_layer *l)
{
    return l->in[0] < 0 ? r->g.in_w : r->g.l[l->in[0]].w;
}

static int is_token_fc(const cap_runner *r, const cap_layer *l)
{
    return l->token >= 0 && in_w(r, l) == 1;
}

/* Inputs of a fully connected layer per request (graph.c's rule). */
static int fc_in(const cap_runner *r, const cap_layer *l)
{
    int c = in_c(r, l, 0);
    return is_token_fc(r, l) ? c : c * in_h(r, l) * in_w(r, l);
}

/* Decides fusions: uses[i] counts consumers (outputs count once). */
static void plan_fusions(cap_runner *r)
{
    size_t n = r->g.n;
    int *uses = (int *)ut_xcalloc(n, sizeof *uses);
    int *next = (int *)ut_xcalloc(n, sizeof *next);
    for (size_t i = 0; i < n; i++) {
        r->lr[i].alias = -1;
        next[i] = -1;
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < r->g.l[i].nin; k++)
            if (r->g.l[i].in[k] >= 0) {
                uses[r->g.l[i].in[k]]++;
                next[r->g.l[i].in[k]] = (int)i;
            }
    for (size_t k = 0; k < r->g.nout; k++)
        uses[r->g.out[k]]++;
    for (size_t i = 0; i < n; i++) {
        cap_layer *l = &r->g.l[i];
        if (r->lr[i].alias >= 0)
            continue;
        int cur = (int)i;
        if (l->op == CAP_CONV && uses[cur] == 1 && next[cur] >= 0 &&
            r->g.l[next[cur]].op == CAP_BN) {
            r->lr[next[cur]].alias = cur;   /* folded into the bias */
            l->bias = 1;
            cur = next[cur];
        }
        if ((l->op == CAP_CONV || l->op == CAP_FC || l->op == CAP_ADD ||
             l->op == CAP_BN) &&
            uses[cur] == 1 && next[cur] >= 0 &&
            r->g.l[next[cur]].op == CAP_RELU) {
            r->lr[next[cur]].alias = cur;
            r->lr[i].act = ACT_RELU;
        }
    }
    free(uses);
    free(next);
}

static int setup_layer(cap_runner *r, size_t i, ut_err *err)
{
    cap_layer *l = &r->g.l[i];
    lrun *q = &r->lr[i];
    size_t mb = (size_t)r->o.max_batch;
    if (q->alias >= 0)
        return 0;
    int c = in_c(r, l, 0);
    if (!r->attn_ref && (l->op == CAP_ENCODER || l->op == CAP_FC)) {
        q->nlt = l->op == CAP_ENCODER ? LT_ENCODER : 1;
        q->lt = (ltplan *)ut_xcalloc((size_t)q->nlt * (mb + 1),
                                     sizeof *q->lt);
    }
    if (l->op != CAP_ENCODER &&
        dalloc(&q->out, mb * (size_t)cap_layer_size(l), err) < 0)
        return -1;
    switch (l->op) {
    case CAP_CONV: {
        /* cuDNN's tensor-core kernels want channels in multiples of 8: a
         * 3-channel image goes through a slow generic kernel (0.7 ms for
         * ResNet-50's first layer at batch 1 on the H100), so the input is
         * copied into 8 channels, zeros in the extra ones */
        if (l->groups == 1 && c % 8) {
            q->cpad = (c + 7) / 8 * 8;
            if (dalloc(&q->xpad, mb * (size_t)in_h(r, l) * in_w(r, l) *
                                     q->cpad, err) < 0)
                return -1;
            c = q->cpad;
        }
        int cg = c / l->groups;
        size_t nw = (size_t)l->out * cg * l->kernel * l->kernel;
        float sc = 1.f / sqrtf((float)(cg * l->kernel * l->kernel));
        if (weight(r, &q->w, nw, sc, err) < 0)
            return -1;
        if (l->bias && weight(r, &q->b, l->out, 0.1f, err) < 0)
            return -1;
        CK_CUDNN(cudnnCreateFilterDescriptor(&q->fdesc));
        CK_CUDNN(cudnnSetFilter4dDescriptor(q->fdesc, CUDNN_DATA_HALF,
                                            CUDNN_TENSOR_NHWC, l->out, cg,
                                            l->kernel, l->kernel));
        CK_CUDNN(cudnnCreateConvolutionDescriptor(&q->cdesc));
        CK_CUDNN(cudnnSetConvolution2dDescriptor(
            q->cdesc, l->pad, l->pad, l->stride, l->stride, l->dilation,
            l->dilation, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        CK_CUDNN(cudnnSetConvolutionGroupCount(q->cdesc, l->groups));
        CK_CUDNN(cudnnSetConvolutionMathType(q->cdesc,
                                             CUDNN_TENSOR_OP_MATH));
        if (q->b) {
            CK_CUDNN(cudnnCreateTensorDescriptor(&q->bdesc));
            CK_CUDNN(cudnnSetTensor4dDescriptor(q->bdesc, CUDNN_TENSOR_NHWC,
                                                CUDNN_DATA_HALF, 1, l->out,
                                                1, 1));
        }
        /* the direct kernel, a candidate beside cuDNN's algorithms */
        size_t kk = (size_t)l->kernel * l->kernel;
        q->wt_bytes = kk * in_c(r, l, 0) * DIRECT_OC * sizeof(float);
        if (!r->attn_ref && !r->no_direct && q->cpad &&
            l->out % DIRECT_OC == 0 && l->dilation == 1 &&
            q->wt_bytes <= DIRECT_SMEM_MAX) {
            size_t nwt = kk * in_c(r, l, 0) * l->out;
            CK_CUDA(cudaMalloc((void **)&q->wt, nwt * sizeof(float)));
            k_conv_wt<<<grid_for(nwt), 256, 0, r->stream>>>(
                q->wt, q->w, l->out, (int)kk, in_c(r, l, 0), q->cpad);
            CK_CUDA(cudaGetLastError());
            if (q->wt_bytes > (48 << 10))
                CK_CUDA(cudaFuncSetAttribute(
                    k_conv_direct, cudaFuncAttributeMaxDynamicSharedMemorySize,
                    DIRECT_SMEM_MAX));
        }
        break;
    }
    case CAP_BN:
        if (weight(r, &q->w, c, 1.f, err) < 0 ||
            weight(r, &q->b, c, 0.1f, err) < 0)
            return -1;
        break;
    case CAP_FC: {
        size_t k = (size_t)fc_in(r, l);
        if (weight(r, &q->w, (size_t)l->out * k, 1.f / sqrtf((float)k),
                   err) < 0 ||
            weight(r, &q->b, l->out, 0.1f, err) < 0)
            return -1;
        break;
    }
    case CAP_L2NORM:
        if (weight(r, &q->w, c, 1.f, err) < 0)
            return -1;
        break;
    case CAP_LAYERNORM:
        if (weight(r, &q->w, c, 1.f, err) < 0 ||
            weight(r, &q->b, c, 0.1f, err) < 0)
            return -1;
        break;
    case CAP_TOKENS:
        if (weight(r, &q->w, c, 0.1f, err) < 0 ||
            weight(r, &q->b, (size_t)l->h * c, 0.1f, err) < 0)
            return -1;
        break;
    case CAP_ENCODER: {
        size_t d = (size_t)c, m = (size_t)l->mlp;
        float sd = 1.f / sqrtf((float)d), sm = 1.f / sqrtf((float)m);
        if (dalloc(&q->out, mb * (size_t)cap_layer_size(l), err) < 0 ||
            weight(r, &q->ln1g, d, 1.f, err) < 0 ||
            weight(r, &q->ln1b, d, 0.1f, err) < 0 ||
            weight(r, &q->wqkv, 3 * d * d, sd, err) < 0 ||
            weight(r, &q->bqkv, 3 * d, 0.1f, err) < 0 ||
            weight(r, &q->wo, d * d, sd, err) < 0 ||
            weight(r, &q->bo, d, 0.1f, err) < 0 ||
            weight(r, &q->ln2g, d, 1.f, err) < 0 ||
            weight(r, &q->ln2b, d, 0.1f, err) < 0 ||
            weight(r, &q->w1, m * d, sd, err) < 0 ||
            weight(r, &q->b1, m, 0.1f, err) < 0 ||
            weight(r, &q->w2, d * m, sm, err) < 0 ||
            weight(r, &q->b2, d, 0.1f, err) < 0)
            return -1;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* Y[m, n] = alpha X[m, k] W[n, k]^T, row-major; ldx: X's row stride. */
static int gemm_nt(cap_runner *r, int m, int n, int k, const __half *x,
                   int ldx, const __half *w, __half *y, float alpha,
                   ut_err *err)
{
    float beta = 0.f;
    CK_CUBLAS(cublasGemmEx(r->blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k,
                           &alpha, w, CUDA_R_16F, k, x, CUDA_R_16F, ldx,
                           &beta, y, CUDA_R_16F, n, CUBLAS_COMPUTE_32F,
                           CUBLAS_GEMM_DEFAULT));
    return 0;
}

static void lt_plan_free(ltplan *p)
{
    if (p->op)
        cublasLtMatmulDescDestroy(p->op);
    if (p->a)
        cublasLtMatrixLayoutDestroy(p->a);
    if (p->b)
        cublasLtMatrixLayoutDestroy(p->b);
    if (p->d)
        cublasLtMatrixLayoutDestroy(p->d);
    memset(p, 0, sizeof *p);
}

/* The largest power of two (at most 256, cuBLASLt's default assumption)
 * that divides p's address: the heuristic must be told, or it may pick a
 * kernel that needs more than a token's vector offset gives. */
static uint32_t lt_align(const void *p)
{
    uintptr_t a = (uintptr_t)p | 256;
    return (uint32_t)(a & (~a + 1));
}

/*
 * Y[m, n] = act(X[m, k] W[n, k]^T + bias[n]) (+ R[m, n]), row-major, in
 * one cuBLASLt matmul: FP16 in and out, FP32 accumulation, bias FP16,
 * ldx X's row stride, Y's and R's n; bias, res may be NULL; res may be y.
 *
 * Column-major mapping (cuBLASLt's): a row-major [rows, cols] matrix with
 * row stride ld is, to cuBLASLt, its transpose [cols, rows] with the same
 * ld. So
 *   W [n, k], ld k    -> A = Wc [k, n], ld k, transa T: op(A) = W, [n, k]
 *   X [m, k], ld ldx  -> B = Xc [k, m], ld ldx, transb N
 *   Y [m, n], ld n    -> D = Yc [n, m], ld n = op(A) B = (X W^T)^T
 *   R [m, n], ld n    -> C = Rc [n, m], ld n, beta 1 (beta 0 and C = D
 *                        without a residual)
 * The epilogue's bias is a vector over D's rows, here Y's columns (the
 * output channels), added before the activation; D = act(alpha A B +
 * beta C + bias), so with a residual act must be ACT_NONE (it is: an
 * encoder's residual GEMMs have none, and fully connected layers have no
 * residual). This is gemm_nt's mapping plus the epilogue: the reference
 * path runs gemm_nt then epilogue(), rounding to FP16 in between.
 *
 * Plan p (this GEMM at this batch) is made at its first call: descriptors,
 * then cublasLtMatmulAlgoGetHeuristic's candidates (workspace at most
 * BLAS_WS_BYTES, alignments of these pointers) are run in order until one
 * is accepted; that run is this call's result. Every later call of the
 * same plan must pass the same pointers (the bias is in the descriptor,
 * the alignments in the choice): true here, the buffers live as long as
 * the runner. A plan is never made during graph capture (an error: the
 * eager inference of cap_runner_prepare makes them first), so nothing is
 * allocated or tried while a graph records.
 */
static int gemm_lt(cap_runner *r, ltplan *p, int m, int n, int k,
                   const __half *x, int ldx, const __half *w,
                   const __half *bias, const __half *res, __half *y,
                   int act, ut_err *err)
{
    float one = 1.f, beta = res ? 1.f : 0.f;
    const __half *cm = res ? res : y;
    if (p->ok) {
        CK_CUBLAS(cublasLtMatmul(r->blt, p->op, &one, w, p->a, x, p->b,
                                 &beta, cm, p->d, y, p->d, &p->algo,
                                 r->blas_ws, BLAS_WS_BYTES, r->stream));
        return 0;
    }
    cudaStreamCaptureStatus cs;
    CK_CUDA(cudaStreamIsCapturing(r->stream, &cs));
    if (cs != cudaStreamCaptureStatusNone)
        return ut_errf(err, "cublasLt: no plan for %dx%dx%d during graph "
                       "capture", m, n, k);
    lt_plan_free(p);
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cublasLtEpilogue_t ep =
        act == ACT_RELU ? (bias ? CUBLASLT_EPILOGUE_RELU_BIAS
                                : CUBLASLT_EPILOGUE_RELU)
        : act == ACT_GELU ? (bias ? CUBLASLT_EPILOGUE_GELU_BIAS
                                  : CUBLASLT_EPILOGUE_GELU)
        : bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    int32_t bt = CUDA_R_16F;
    CK_CUBLAS(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F,
                                       CUDA_R_32F));
    CK_CUBLAS(cublasLtMatmulDescSetAttribute(
        p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    CK_CUBLAS(cublasLtMatmulDescSetAttribute(
        p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    CK_CUBLAS(cublasLtMatmulDescSetAttribute(
        p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep));
    if (bias) {
        CK_CUBLAS(cublasLtMatmulDescSetAttribute(
            p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
        CK_CUBLAS(cublasLtMatmulDescSetAttribute(
            p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt));
    }
    CK_CUBLAS(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16F, k, n, k));
    CK_CUBLAS(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16F, k, m, ldx));
    CK_CUBLAS(cublasLtMatrixLayoutCreate(&p->d, CUDA_R_16F, n, m, n));

    cublasLtMatmulPreference_t pref;
    CK_CUBLAS(cublasLtMatmulPreferenceCreate(&pref));
    uint64_t wsb = BLAS_WS_BYTES;
    uint32_t al[4] = {lt_align(w), lt_align(x), lt_align(cm), lt_align(y)};
    cublasLtMatmulPreferenceAttributes_t pa[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb, sizeof wsb);
    for (int j = 0; j < 4 && s == CUBLAS_STATUS_SUCCESS; j++)
        s = cublasLtMatmulPreferenceSetAttribute(pref, pa[j], &al[j],
                                                 sizeof al[j]);
    cublasLtMatmulHeuristicResult_t cand[8];
    int got = 0;
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulAlgoGetHeuristic(r->blt, p->op, p->a, p->b, p->d,
                                           p->d, pref, 8, cand, &got);
    cublasLtMatmulPreferenceDestroy(pref);
    if (s != CUBLAS_STATUS_SUCCESS)
        return ut_errf(err, "cublasLtMatmulAlgoGetHeuristic: %s (%d) "
                       "(%dx%dx%d)", cublasGetStatusName(s), (int)s, m, n,
                       k);
    s = CUBLAS_STATUS_NOT_SUPPORTED;
    for (int j = 0; j < got; j++) {
        if (cand[j].state != CUBLAS_STATUS_SUCCESS)
            continue;
        s = cublasLtMatmul(r->blt, p->op, &one, w, p->a, x, p->b, &beta, cm,
                           p->d, y, p->d, &cand[j].algo, r->blas_ws,
                           BLAS_WS_BYTES, r->stream);
        if (s == CUBLAS_STATUS_SUCCESS) {
            p->algo = cand[j].algo;
            p->ok = 1;
            return 0;
        }
    }
    return ut_errf(err, "cublasLtMatmul: no algorithm ran for %dx%dx%d "
                   "(%d candidates, last %s)", m, n, k, got,
                   cublasGetStatusName(s));
}

#define LAUNCH(n) grid_for(n), 256, 0, r->stream

static inline int al16(const void *p)
{
    return ((uintptr_t)p & 15) == 0;
}

/* dst = act(src + bias[channel]) + res, vectorised where it can be. */
static void epilogue(cap_runner *r, __half *dst, const __half *src,
                     const __half *bias, const __half *res, size_t n, int c,
                     int act)
{
    if (n % 8 == 0 && c % 8 == 0 && al16(dst) && al16(src) &&
        (!bias || al16(bias)) && (!res || al16(res)))
        k_epilogue8<<<LAUNCH(n / 8)>>>((uint4 *)dst, (const uint4 *)src,
                                       bias, (const uint4 *)res, n / 8, c,
                                       act);
    else
        k_epilogue<<<LAUNCH(n)>>>(dst, src, bias, res, n, c, act);
}

static void add_act(cap_runner *r, __half *dst, const __half *a,
                    const __half *b, size_t n, int act)
{
    if (n % 8 == 0 && al16(dst) && al16(a) && al16(b))
        k_add8<<<LAUNCH(n / 8)>>>((uint4 *)dst, (const uint4 *)a,
                                  (const uint4 *)b, n / 8, act);
    else
        k_add<<<LAUNCH(n)>>>(dst, a, b, n, act);
}

/* Row stride of the fast path's score matrices: t rounded up to 8 halves,
 * so that every row and every (batch, head) matrix starts 16-byte aligned
 * (cuBLAS's tensor-core kernels and k_softmax_warp's pair loads want it;
 * the reference path's ld t = 197 is odd). Columns t..ld are padding,
 * never read. */
static int att_ld(int t)
{
    return (t + 7) / 8 * 8;
}

/*
 * The fast attention's pointer arrays for encoder layer l, one entry per
 * (request b, head hh) at b * heads + hh, for max_batch requests: batch nb
 * uses the first nb * heads of each, so one set serves every batch size.
 * Five arrays one after another: Q, K, V (into e_qkv), S (e_s), O (e_att).
 * Made once, at runner creation, before any graph is captured: a graph
 * replays the GEMMs with these pointers, which never change (the scratch
 * buffers live as long as the runner). Made for every encoder, though
 * with head size 64 attention() uses k_flash_attn and not these.
 */
static int attn_ptrs(cap_runner *r, const cap_layer *l, lrun *q, ut_err *err)
{
    int t = l->h, c = l->c, h = l->heads, d = c / h, ls = att_ld(t);
    size_t nbh = (size_t)r->o.max_batch * h;
    void **hp = (void **)ut_xmalloc(5 * nbh * sizeof *hp);
    for (size_t b = 0; b < (size_t)r->o.max_batch; b++)
        for (int hh = 0; hh < h; hh++) {
            size_t e = b * h + hh;
            __half *qp = r->e_qkv + b * t * 3 * c + (size_t)hh * d;
            hp[e] = qp;
            hp[nbh + e] = qp + c;
            hp[2 * nbh + e] = qp + 2 * c;
            hp[3 * nbh + e] = r->e_s + e * t * ls;
            hp[4 * nbh + e] = r->e_att + b * t * c + (size_t)hh * d;
        }
    cudaError_t e = cudaMalloc((void **)&q->attn_ptr, 5 * nbh * sizeof *hp);
    if (e == cudaSuccess)
        e = cudaMemcpy(q->attn_ptr, hp, 5 * nbh * sizeof *hp,
                       cudaMemcpyHostToDevice);
    free(hp);
    if (e != cudaSuccess)
        return ut_errf(err, "attention pointers: %s (%d)",
                       cudaGetErrorName(e), (int)e);
    return 0;
}

/* Softmax of rows of n, ld apart: a warp per row where the row fits in
 * registers (n <= 1024), else a block per row. */
static void softmax_rows(cap_runner *r, __half *p, int rows, int n, int ld)
{
    int nblk = (rows + 3) / 4;       /* 4 warps (rows) a block */
    if (ld % 2 || ((uintptr_t)p & 3) || n > 1024)
        k_softmax<<<rows, 128, 0, r->stream>>>(p, n, ld);
    else if (n <= 64)
        k_softmax_warp<1><<<nblk, 128, 0, r->stream>>>(p, rows, n, ld);
    else if (n <= 128)
        k_softmax_warp<2><<<nblk, 128, 0, r->stream>>>(p, rows, n, ld);
    else if (n <= 256)
        k_softmax_warp<4><<<nblk, 128, 0, r->stream>>>(p, rows, n, ld);
    else if (n <= 512)
        k_softmax_warp<8><<<nblk, 128, 0, r->stream>>>(p, rows, n, ld);
    else
        k_softmax_warp<16><<<nblk, 128, 0, r->stream>>>(p, rows, n, ld);
}

/*
 * Fused (flash) attention for head size 64: one CTA of 4 warps per (tile
 * of 64 query rows, head, request), grid ceil(t/64) x h x nb. Each warp
 * owns 16 query rows and keeps everything for them in registers: its Q
 * fragments (loaded once), the scores of the current 64-key tile, the
 * running row max m and (thread-partial) row sum l, and the FP32 output
 * accumulator, 16 x 64. Per key tile: S = Q K^T on the tensor cores
 * (mma.sync m16n8k16, FP16 in, FP32 out), keys >= t masked to -inf, the
 * online softmax (O and l rescaled by exp(m_old - m_new)), then O += P V
 * with P rounded to FP16. K and V tiles come in through cp.async, two
 * buffers, the next tile loading while this one is used. At the end
 * O / l goes through the warp's own Q rows in shared memory so that the
 * stores are 16 bytes a lane; rows >= t are not stored.
 *
 * Why mma.sync and not wmma: the softmax needs to know which row each
 * accumulator element is in, which PTX documents for mma.m16n8k16 (and
 * the score fragment is then exactly P's A fragment, no trip through
 * shared memory) but wmma leaves unspecified. Why not cuBLAS: the
 * pointer-array batched GEMMs pick sm75 kernels and write S to memory
 * and back (1.76 ms of ViT-B/16's 4.3 ms at batch 32 on the H100).
 *
 * Rows and keys past t are loaded as zeros (cp.async with source size 0):
 * a zero key's score is masked anyway, a zero value row is multiplied by
 * P = 0 (garbage could be NaN, and 0 NaN is NaN), and a zero query row
 * gives finite scores that are never stored. Every key tile holds at
 * least one key < t, so the row max is finite after the first tile and
 * exp2(-inf - m) = 0 rescales the empty accumulator. Scores are scaled by
 * scale log2(e) so that exp2 stands for exp.
 *
 * Needs d = 64 and qkv, o 16-byte aligned (rows of 3c and c halves with
 * c = 64 h are then 16-byte aligned too). Shared memory: Q and two K and
 * V buffers of 64 x 72 halves (rows padded by 8 halves: ldmatrix's 8 row
 * addresses fall in distinct banks), 45 KiB, static.
 */
#define FA_D 64     /* head size */
#define FA_BR 64    /* query rows a CTA (16 a warp) */
#define FA_BC 64    /* keys a tile */
#define FA_LD 72    /* shared-memory row stride, halves */

__device__ static inline unsigned smem_u32(const void *p)
{
    return (unsigned)__cvta_generic_to_shared(p);
}

/* 16 bytes global -> shared; bytes = 0 writes zeros and reads nothing */
__device__ static inline void cp_async16(void *dst, const void *src,
                                         int bytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                 :
                 : "r"(smem_u32(dst)), "l"(src), "r"(bytes)
                 : "memory");
}

__device__ static inline void cp_async_commit(void)
{
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}

template <int N> __device__ static inline void cp_async_wait(void)
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* four 8 x 8 matrices of halves; lanes 8m .. 8m + 7 give matrix m's rows */
__device__ static inline void ldsm_x4(unsigned r[4], const __half *p)
{
    asm volatile(
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
        : "r"(smem_u32(p))
        : "memory");
}

/* the same, each matrix transposed */
__device__ static inline void ldsm_x4_t(unsigned r[4], const __half *p)
{
    asm volatile(
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, "
        "[%4];\n"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
        : "r"(smem_u32(p))
        : "memory");
}

/* c += a b: a 16 x 16 (row), b 16 x 8 (col), FP16 in, FP32 accumulate */
__device__ static inline void mma16816(float c[4], const unsigned a[4],
                                       unsigned b0, unsigned b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ static inline unsigned pack_half2(float lo, float hi)
{
    __half2 v = __floats2half2_rn(lo, hi);
    return *(unsigned *)&v;
}

/* K and V rows j0 .. j0 + 63 of one (request, head), zeros past t */
__device__ static inline void fa_load_kv(__half *sk, __half *sv,
                                         const __half *base, int ld, int c,
                                         int j0, int t, int tid)
{
    for (int e = tid; e < FA_BC * (FA_D / 8); e += 128) {
        int row = e / (FA_D / 8), ch = e % (FA_D / 8) * 8, j = j0 + row;
        int n = j < t ? 16 : 0;
        const __half *src = base + (size_t)(j < t ? j : 0) * ld + ch;
        cp_async16(&sk[row * FA_LD + ch], src + c, n);
        cp_async16(&sv[row * FA_LD + ch], src + 2 * c, n);
    }
}

/* One key tile (keys j0 .. j0 + 63, K and V rows in kt, vt) for a warp's
 * 16 query rows: S = Q K^T, the online softmax, O += P V. A lane holds
 * rows g = lane / 4 and g + 8; element e of an accumulator fragment is
 * row g + 8 (e >> 1), column 8n + 2 (lane % 4) + (e & 1) of its 16 x 8
 * tile n. m (running max, already scaled) and l (running sum of this
 * lane's columns only) are per row. */
__device__ static __forceinline__ void
fa_tile(const unsigned qf[FA_D / 16][4], const __half *kt, const __half *vt,
        int j0, int t, float scale_log2, float m[2], float l[2],
        float acc[FA_D / 8][4], int lane)
{
    float s[FA_BC / 8][4];   /* s[n]: keys j0 + 8n .. j0 + 8n + 7 */
#pragma unroll
    for (int n = 0; n < FA_BC / 8; n++) {
        s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
        for (int kp = 0; kp < FA_D / 32; kp++) {
            unsigned kb[4];
            ldsm_x4(kb, &kt[(n * 8 + (lane & 7)) * FA_LD + kp * 32 +
                            (lane >> 3) * 8]);
            mma16816(s[n], qf[2 * kp], kb[0], kb[1]);
            mma16816(s[n], qf[2 * kp + 1], kb[2], kb[3]);
        }
    }

    float mx[2] = {m[0], m[1]};
    int j = j0 + 2 * (lane & 3);
#pragma unroll
    for (int n = 0; n < FA_BC / 8; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            float v = j + n * 8 + (e & 1) < t ? s[n][e] * scale_log2
                                              : -INFINITY;
            s[n][e] = v;
            mx[e >> 1] = fmaxf(mx[e >> 1], v);
        }
    float alpha[2], rs[2] = {0.f, 0.f};
#pragma unroll
    for (int r = 0; r < 2; r++) {   /* over the 4 lanes of a row */
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        alpha[r] = exp2f(m[r] - mx[r]);   /* first tile: exp2(-inf) = 0 */
        m[r] = mx[r];
    }
#pragma unroll
    for (int n = 0; n < FA_BC / 8; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            s[n][e] = exp2f(s[n][e] - m[e >> 1]);
            rs[e >> 1] += s[n][e];
        }
#pragma unroll
    for (int r = 0; r < 2; r++)
        l[r] = l[r] * alpha[r] + rs[r];
#pragma unroll
    for (int n = 0; n < FA_D / 8; n++)
#pragma unroll
        for (int e = 0; e < 4; e++)
            acc[n][e] *= alpha[e >> 1];

    /* P's A fragment for keys 16kk .. 16kk + 15 is s[2kk], s[2kk + 1] in
     * FP16; V's B fragments come by transposed ldmatrix */
#pragma unroll
    for (int kk = 0; kk < FA_BC / 16; kk++) {
        const float *s0 = s[2 * kk], *s1 = s[2 * kk + 1];
        unsigned pa[4] = {pack_half2(s0[0], s0[1]), pack_half2(s0[2], s0[3]),
                          pack_half2(s1[0], s1[1]), pack_half2(s1[2], s1[3])};
#pragma unroll
        for (int np = 0; np < FA_D / 16; np++) {
            unsigned vb[4];
            ldsm_x4_t(vb, &vt[(kk * 16 + (lane & 15)) * FA_LD + np * 16 +
                              (lane >> 4) * 8]);
            mma16816(acc[2 * np], pa, vb[0], vb[1]);
            mma16816(acc[2 * np + 1], pa, vb[2], vb[3]);
        }
    }
}

__global__ static void __launch_bounds__(128)
    k_flash_attn(__half *o, const __half *qkv, int t, int h,
                 float scale_log2)
{
    __shared__ __align__(16) __half sq[FA_BR * FA_LD];
    __shared__ __align__(16) __half sk[2][FA_BC * FA_LD];
    __shared__ __align__(16) __half sv[2][FA_BC * FA_LD];
    int c = h * FA_D, ld = 3 * c;
    int i0 = blockIdx.x * FA_BR, hh = blockIdx.y, b = blockIdx.z;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const __half *base = qkv + (size_t)b * t * ld + (size_t)hh * FA_D;

    for (int e = tid; e < FA_BR * (FA_D / 8); e += 128) {
        int row = e / (FA_D / 8), ch = e % (FA_D / 8) * 8, i = i0 + row;
        cp_async16(&sq[row * FA_LD + ch],
                   base + (size_t)(i < t ? i : 0) * ld + ch, i < t ? 16 : 0);
    }
    fa_load_kv(sk[0], sv[0], base, ld, c, 0, t, tid);
    cp_async_commit();

    unsigned qf[FA_D / 16][4];
    float acc[FA_D / 8][4];
#pragma unroll
    for (int n = 0; n < FA_D / 8; n++)
        acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
    int ntiles = (t + FA_BC - 1) / FA_BC;
    /* a warp whose 16 rows all lie past t (3 of the last tile's 4 at
     * t = 197) only helps load and keeps the barriers */
    bool rows_in = i0 + warp * 16 < t;
    for (int jt = 0; jt < ntiles; jt++) {
        int buf = jt & 1;
        if (jt + 1 < ntiles) {
            fa_load_kv(sk[buf ^ 1], sv[buf ^ 1], base, ld, c,
                       (jt + 1) * FA_BC, t, tid);
            cp_async_commit();
            cp_async_wait<1>();   /* all but the group just issued */
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if (rows_in && jt == 0) {
#pragma unroll
            for (int kk = 0; kk < FA_D / 16; kk++)
                ldsm_x4(qf[kk], &sq[(warp * 16 + (lane & 15)) * FA_LD +
                                    kk * 16 + (lane >> 4) * 8]);
        }
        if (rows_in)
            fa_tile(qf, sk[buf], sv[buf], jt * FA_BC, t, scale_log2, m, l,
                    acc, lane);
        __syncthreads();   /* buffer buf is loaded again next iteration */
    }
    if (!rows_in)
        return;

    /* O / l, staged in the warp's own 16 rows of sq (only it read them) */
    int g = lane >> 2, tq = lane & 3;
    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
        inv[r] = 1.f / l[r];
    }
    __half *so = &sq[warp * 16 * FA_LD];
#pragma unroll
    for (int n = 0; n < FA_D / 8; n++) {
        *(__half2 *)&so[g * FA_LD + n * 8 + 2 * tq] =
            __floats2half2_rn(acc[n][0] * inv[0], acc[n][1] * inv[0]);
        *(__half2 *)&so[(g + 8) * FA_LD + n * 8 + 2 * tq] =
            __floats2half2_rn(acc[n][2] * inv[1], acc[n][3] * inv[1]);
    }
    __syncwarp();
    for (int e = lane; e < 16 * (FA_D / 8); e += 32) {
        int row = e / (FA_D / 8), ch = e % (FA_D / 8) * 8;
        int i = i0 + warp * 16 + row;
        if (i < t)
            *(uint4 *)(o + ((size_t)b * t + i) * c + (size_t)hh * FA_D +
                       ch) = *(const uint4 *)&so[row * FA_LD + ch];
    }
}

/*
 * Multi-head attention of nb requests, from e_qkv ([nb, t, 3, h, d], bias
 * added) to e_att ([nb, t, c], head hh in columns hh d .. hh d + d).
 *
 * Fast path, d = 64 (ViT-B/16 and most encoders): one kernel,
 * k_flash_attn, reads the heads where they lie in e_qkv and writes O where
 * it belongs in e_att; S never goes to memory (e_s and the softmax are not
 * used). It replaced two cublasGemmBatchedEx calls and a warp softmax that
 * took 1.76 of ViT-B/16's 4.3 ms at batch 32 on the H100 (ncu: cuBLAS
 * picks sm75 kernels for pointer-array batches; strided batches over the
 * heads of each request or the requests of each head were slower still,
 * 5.77 against 4.30 ms).
 *
 * Fast path, other head sizes (or unaligned buffers): those two GEMMs,
 * which read the heads where they lie and write O where it belongs, one
 * cublasGemmBatchedEx each over nb h (request, head) pairs (attn_ptrs),
 * with softmax_rows between them on S in e_s. cuBLAS is column-major: a
 * row-major [rows, cols] matrix with row stride ld is, to cuBLAS, its
 * transpose, [cols, rows] with the same ld. For one pair:
 *   Q, K, V: row-major [t, d], row stride 3c  -> cuBLAS Qc, Kc, Vc [d, t],
 *            ld 3c (Kc(x, j) = K[j][x])
 *   S = scale Q K^T, row-major [t, t], ld ls -> cuBLAS Sc [t, t] with
 *            Sc(j, i) = S[i][j] = sum_x Kc(x, j) Qc(x, i), so
 *            Sc = Kc^T Qc: transa T (A = Kc, lda 3c), transb N (B = Qc,
 *            ldb 3c), m = n = t, k = d, ldc ls
 *   O = P V (P = softmax S), row-major [t, d], row stride c -> cuBLAS Oc
 *            [d, t] with Oc(x, i) = sum_j Vc(x, j) Pc(j, i), so Oc = Vc Pc:
 *            N, N (A = Vc, lda 3c; B = Pc, ldb ls), m = d, n = t, k = t,
 *            ldc c
 * The strided calls of the reference path are the same with lda = ldb = d
 * and ldc = t (S) or d (O) on copied-out heads.
 *
 * Reference path (r->attn_ref, IGNITER_ATTN_REF=1): the heads copied into
 * e_q, e_k, e_v ([nb, h, t, d]), strided batched GEMMs, k_softmax a block
 * per row, O copied back from e_o. Kept to check the fast path against
 * (`igniter-capture check`).
 */
static int attention(cap_runner *r, const cap_layer *l, const lrun *q,
                     int nb, ut_err *err)
{
    int t = l->h, c = l->c, h = l->heads, d = c / h;
    float one = 1.f, zero = 0.f, scale = 1.f / sqrtf((float)d);
    if (!r->attn_ref && d == FA_D && al16(r->e_qkv) && al16(r->e_att)) {
        dim3 grid((unsigned)((t + FA_BR - 1) / FA_BR), (unsigned)h,
                  (unsigned)nb);
        k_flash_attn<<<grid, 128, 0, r->stream>>>(
            r->e_att, r->e_qkv, t, h, scale * 1.4426950408889634f);
        return 0;
    }
    if (!r->attn_ref) {
        int ls = att_ld(t), nbh = nb * h;
        size_t mbh = (size_t)r->o.max_batch * h;
        void *const *p = q->attn_ptr;
        const void *const *pq = (const void *const *)p;
        const void *const *pk = (const void *const *)(p + mbh);
        const void *const *pv = (const void *const *)(p + 2 * mbh);
        void *const *ps = p + 3 * mbh, *const *po = p + 4 * mbh;
        CK_CUBLAS(cublasGemmBatchedEx(
            r->blas, CUBLAS_OP_T, CUBLAS_OP_N, t, t, d, &scale, pk,
            CUDA_R_16F, 3 * c, pq, CUDA_R_16F, 3 * c, &zero, ps, CUDA_R_16F,
            ls, nbh, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        softmax_rows(r, r->e_s, nbh * t, t, ls);
        CK_CUBLAS(cublasGemmBatchedEx(
            r->blas, CUBLAS_OP_N, CUBLAS_OP_N, d, t, t, &one, pv,
            CUDA_R_16F, 3 * c, (const void *const *)ps, CUDA_R_16F, ls,
            &zero, po, CUDA_R_16F, c, nbh, CUBLAS_COMPUTE_32F,
            CUBLAS_GEMM_DEFAULT));
        return 0;
    }
    size_t nx = (size_t)nb * t * c;
    k_split_heads<<<LAUNCH(3 * nx)>>>(r->e_q, r->e_k, r->e_v, r->e_qkv, nb,
                                      t, h, d);
    /* S[t, t] = scale Q K^T per (batch, head) */
    CK_CUBLAS(cublasGemmStridedBatchedEx(
        r->blas, CUBLAS_OP_T, CUBLAS_OP_N, t, t, d, &scale, r->e_k,
        CUDA_R_16F, d, (long long)t * d, r->e_q, CUDA_R_16F, d,
        (long long)t * d, &zero, r->e_s, CUDA_R_16F, t, (long long)t * t,
        nb * h, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    k_softmax<<<nb * h * t, 128, 0, r->stream>>>(r->e_s, t, t);
    /* O[t, d] = S V */
    CK_CUBLAS(cublasGemmStridedBatchedEx(
        r->blas, CUBLAS_OP_N, CUBLAS_OP_N, d, t, t, &one, r->e_v,
        CUDA_R_16F, d, (long long)t * d, r->e_s, CUDA_R_16F, t,
        (long long)t * t, &zero, r->e_o, CUDA_R_16F, d, (long long)t * d,
        nb * h, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    k_merge_heads<<<LAUNCH(nx)>>>(r->e_att, r->e_o, nb, t, h, d);
    return 0;
}

/* An encoder's layer norm of rows of c: the warp kernel on the fast path
 * when the row fits it, else (and on the reference path) k_rownorm. */
static void layernorm(cap_runner *r, __half *dst, const __half *src,
                      int rows, int c, const __half *g, const __half *bb)
{
    int nblk = (rows + 3) / 4, fits = c % 8 == 0 && c <= 1024 &&
                                      al16(dst) && al16(src) && al16(g) &&
                                      al16(bb);
    if (r->attn_ref || !fits)
        k_rownorm<<<rows, 256, 0, r->stream>>>(dst, src, c, g, bb, 1);
    else if (c <= 256)
        k_layernorm_warp<1><<<nblk, 128, 0, r->stream>>>(dst, src, rows, c,
                                                          g, bb);
    else if (c <= 512)
        k_layernorm_warp<2><<<nblk, 128, 0, r->stream>>>(dst, src, rows, c,
                                                          g, bb);
    else if (c <= 768)
        k_layernorm_warp<3><<<nblk, 128, 0, r->stream>>>(dst, src, rows, c,
                                                          g, bb);
    else
        k_layernorm_warp<4><<<nblk, 128, 0, r->stream>>>(dst, src, rows, c,
                                                          g, bb);
}

/* Layer q's fused GEMM g at batch nb. */
static ltplan *lt_at(const cap_runner *r, const lrun *q, int g, int nb)
{
    return &q->lt[(size_t)g * (r->o.max_batch + 1) + nb];
}

/*
 * A pre-norm transformer encoder layer on x ([nb, t, c]) into q->out:
 *   out = x + Wo attention(Wqkv ln1(x) + bqkv) + bo
 *   out = out + W2 GELU(W1 ln2(out) + b1) + b2
 * Fast path: each GEMM one cuBLASLt matmul with its bias, GELU or residual
 * in the epilogue (the residual as C with beta 1: C = x, D = out for the
 * projection; C = D = out for W2); 4 GEMMs, 2 layer norms and the
 * attention's kernel (3 for head sizes other than 64) a layer. Reference
 * path: gemm_nt then epilogue() for each (4 more kernels a layer, and each
 * GEMM's output written and read again in FP16).
 */
static int run_encoder(cap_runner *r, const cap_layer *l, const lrun *q,
                       const __half *x, int nb, ut_err *err)
{
    int t = l->h, c = l->c, m = l->mlp;
    int rows = nb * t;
    size_t nx = (size_t)rows * c;
    __half *out = q->out;
    layernorm(r, r->e_ln, x, rows, c, q->ln1g, q->ln1b);
    if (!r->attn_ref) {
        if (gemm_lt(r, lt_at(r, q, LT_QKV, nb), rows, 3 * c, c, r->e_ln, c,
                    q->wqkv, q->bqkv, NULL, r->e_qkv, ACT_NONE, err) < 0 ||
            attention(r, l, q, nb, err) < 0 ||
            gemm_lt(r, lt_at(r, q, LT_PROJ, nb), rows, c, c, r->e_att, c,
                    q->wo, q->bo, x, out, ACT_NONE, err) < 0)
            return -1;
        layernorm(r, r->e_ln, out, rows, c, q->ln2g, q->ln2b);
        if (gemm_lt(r, lt_at(r, q, LT_MLP1, nb), rows, m, c, r->e_ln, c,
                    q->w1, q->b1, NULL, r->e_mlp, ACT_GELU, err) < 0 ||
            gemm_lt(r, lt_at(r, q, LT_MLP2, nb), rows, c, m, r->e_mlp, m,
                    q->w2, q->b2, out, out, ACT_NONE, err) < 0)
            return -1;
        return 0;
    }
    if (gemm_nt(r, rows, 3 * c, c, r->e_ln, c, q->wqkv, r->e_qkv, 1.f,
                err) < 0)
        return -1;
    epilogue(r, r->e_qkv, r->e_qkv, q->bqkv, NULL, (size_t)rows * 3 * c,
             3 * c, ACT_NONE);
    if (attention(r, l, q, nb, err) < 0)
        return -1;
    if (gemm_nt(r, rows, c, c, r->e_att, c, q->wo, out, 1.f, err) < 0)
        return -1;
    epilogue(r, out, out, q->bo, x, nx, c, ACT_NONE);
    layernorm(r, r->e_ln, out, rows, c, q->ln2g, q->ln2b);
    if (gemm_nt(r, rows, m, c, r->e_ln, c, q->w1, r->e_mlp, 1.f, err) < 0)
        return -1;
    epilogue(r, r->e_mlp, r->e_mlp, q->b1, NULL, (size_t)rows * m, m,
             ACT_GELU);
    if (gemm_nt(r, rows, c, m, r->e_mlp, m, q->w2, r->e_att, 1.f, err) < 0)
        return -1;
    epilogue(r, out, r->e_att, q->b2, out, nx, c, ACT_NONE);
    return 0;
}

/* The direct kernel on x (unpadded, c channels), with the layer's bias
 * and activation. */
static void conv_direct(cap_runner *r, const cap_layer *l, const lrun *q,
                        const __half *x, int nb, int h, int w, int c)
{
    size_t n = (size_t)nb * l->h * l->w;
    int groups = l->out / DIRECT_OC;
    int gx = grid_for(n), most = 8 * (r->sms > 0 ? r->sms : 132) / groups;
    dim3 grid(gx < most ? gx : most > 0 ? most : 1, groups);
    k_conv_direct<<<grid, 256, q->wt_bytes, r->stream>>>(
        q->out, x, q->wt, q->b, nb, h, w, c, l->h, l->w, l->out, l->kernel,
        l->stride, l->pad, q->act);
}

/* Mean time of launch() on r->stream over 10 runs after 3 (events). */
template <typename F>
static int time_launches(cap_runner *r, F launch, float *ms)
{
    cudaEvent_t e[2] = {NULL, NULL};
    cudaError_t s = cudaEventCreate(&e[0]);
    if (s == cudaSuccess)
        s = cudaEventCreate(&e[1]);
    for (int k = 0; s == cudaSuccess && k < 13; k++) {
        if (k == 3)
            s = cudaEventRecord(e[0], r->stream);
        launch();
    }
    if (s == cudaSuccess)
        s = cudaGetLastError();
    if (s == cudaSuccess)
        s = cudaEventRecord(e[1], r->stream);
    if (s == cudaSuccess)
        s = cudaEventSynchronize(e[1]);
    if (s == cudaSuccess)
        s = cudaEventElapsedTime(ms, e[0], e[1]);
    for (int k = 0; k < 2; k++)
        if (e[k])
            cudaEventDestroy(e[k]);
    *ms /= 10;
    return (int)s;
}

/* Chooses layer i's algorithm at batch nb: the fastest of cuDNN's search
 * and, where the layer has its weights (q->wt), the direct kernel. x0: the
 * unpadded input (c0 channels); x: what cuDNN reads (padded if q->cpad). */
static int conv_algo(cap_runner *r, size_t i, int nb, const __half *x0,
                     int c0, const __half *x, __half *y, ut_err *err)
{
    lrun *q = &r->lr[i];
    if (q->have_algo[nb])
        return 0;
    char key[96];
    /* "/d": the direct kernel was a candidate */
    snprintf(key, sizeof key, "%s/%zu/%d/%d%s", r->g.name, i, nb, r->sms,
             q->wt ? "/d" : "");
    cudnnConvolutionFwdAlgo_t a;
    size_t ws;
    if (!algo_get(key, &a, &ws)) {
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        int got = 0;
        /* twice: the first search also loads each candidate's kernels
         * (CUDA loads modules lazily), which would make the algorithms
         * tried first look slow; the second one's timings are kept */
        for (int pass = 0; pass < 2; pass++)
            CK_CUDNN(cudnnFindConvolutionForwardAlgorithmEx(
                r->dnn, r->xd, x, q->fdesc, q->w, q->cdesc, r->yd, y,
                CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf, r->ws,
                r->ws_bytes));
        int k = 0;
        while (k < got && perf[k].status != CUDNN_STATUS_SUCCESS)
            k++;
        if (getenv("IGNITER_CAPTURE_FIND_LOG")) {
            const cap_layer *l = &r->g.l[i];
            fprintf(stderr, "find %s %s b%d sms%d k%d s%d: out %dx%dx%d:",
                    r->g.name, l->name, nb, r->sms, l->kernel, l->stride,
                    l->c, l->h, l->w);
            for (int j = 0; j < got; j++)
                fprintf(stderr, " [a%d st%d %.4fms m%d ws%zu]",
                        (int)perf[j].algo, (int)perf[j].status, perf[j].time,
                        (int)perf[j].mathType, perf[j].memory);
            fprintf(stderr, " -> a%d\n", k < got ? (int)perf[k].algo : -1);
        }
        if (k == got)
            return ut_errf(err, "cudnnFindConvolutionForwardAlgorithmEx: no "
                           "algorithm for layer %s at batch %d",
                           r->g.l[i].name, nb);
        a = perf[k].algo;
        ws = perf[k].memory;
        if (q->wt) {
            /* cuDNN's search times each algorithm apart, with costs of its
             * own (0.1 ms for a convolution that runs in 12 us in a graph):
             * both candidates are timed here the same way, back to back */
            const cap_layer *l = &r->g.l[i];
            float one = 1.f, zero = 0.f, td = 0, tc = 0;
            int h = in_h(r, l), w = in_w(r, l);
            int e1 = time_launches(r, [&] {
                conv_direct(r, l, q, x0, nb, h, w, c0);
            }, &td);
            int e2 = time_launches(r, [&] {
                cudnnConvolutionForward(r->dnn, &one, r->xd, x, q->fdesc,
                                        q->w, q->cdesc, a, r->ws, ws, &zero,
                                        r->yd, y);
            }, &tc);
            if (e1 || e2)
                return ut_errf(err, "timing the direct kernel against cuDNN "
                               "(layer %s, batch %d): %s (%d)", l->name, nb,
                               cudaGetErrorName((cudaError_t)(e1 ? e1 : e2)),
                               e1 ? e1 : e2);
            if (getenv("IGNITER_CAPTURE_FIND_LOG"))
                fprintf(stderr, "find %s %s b%d: direct %.4fms, cudnn a%d "
                        "%.4fms\n", r->g.name, l->name, nb, td, (int)a, tc);
            if (td < tc) {
                a = ALGO_DIRECT;
                ws = 0;
            }
        }
        algo_put(key, a, ws);
    }
    q->algo[nb] = a;
    q->ws[nb] = ws;
    q->have_algo[nb] = 1;
    return 0;
}

/* Enqueues every layer of one inference (no copies). find: look for
 * convolution algorithms first (never during graph capture). */
static int run_layers(cap_runner *r, int nb, int find, ut_err *err)
{
    for (size_t i = 0; i < r->g.n; i++) {
        const cap_layer *l = &r->g.l[i];
        lrun *q = &r->lr[i];
        if (q->alias >= 0)
            continue;
        const __half *x = in_buf(r, l->in[0]);
        size_t n = (size_t)nb * cap_layer_size(l);
        int c = in_c(r, l, 0), h = in_h(r, l), w = in_w(r, l);
        switch (l->op) {
        case CAP_CONV: {
            float one = 1.f, zero = 0.f;
            const __half *x0 = x;
            int c0 = c;
            if (l->kernel == 1 && l->stride == 1 && l->pad == 0 &&
                l->groups == 1 && !q->cpad) {
                /* a 1x1 convolution over NHWC is one GEMM, [nb h w, c] x
                 * [out, c]^T: cuBLAS runs it in a few microseconds where
                 * the kernels of cuDNN's legacy API took 30 to 120 (the
                 * H100, ResNet-50 at batch 1) */
                if (gemm_nt(r, nb * h * w, l->out, c, x, c, q->w, q->out,
                            1.f, err) < 0)
                    return ut_errprefix(err, "layer %s", l->name);
                q->have_algo[nb] = 1;
                if (q->b || q->act)
                    epilogue(r, q->out, q->out, q->b, NULL, n, l->c, q->act);
                break;
            }
            /* the direct kernel reads the unpadded input; in the eager
             * pass (find) the choice is made below, after the padding
             * cuDNN's candidates need */
            if (!find && q->have_algo[nb] && q->algo[nb] == ALGO_DIRECT) {
                conv_direct(r, l, q, x0, nb, h, w, c0);
                break;
            }
            if (q->cpad) {
                size_t px = (size_t)nb * h * w;
                k_pad_channels<<<LAUNCH(px * q->cpad)>>>(q->xpad, x, px, c,
                                                          q->cpad);
                x = q->xpad;
                c = q->cpad;
            }
            CK_CUDNN(cudnnSetTensor4dDescriptor(r->xd, CUDNN_TENSOR_NHWC,
                                                CUDNN_DATA_HALF, nb, c, h,
                                                w));
            CK_CUDNN(cudnnSetTensor4dDescriptor(r->yd, CUDNN_TENSOR_NHWC,
                                                CUDNN_DATA_HALF, nb, l->c,
                                                l->h, l->w));
            if (find && conv_algo(r, i, nb, x0, c0, x, q->out, err) < 0)
                return ut_errprefix(err, "layer %s", l->name);
            if (!q->have_algo[nb])
                return ut_errf(err, "layer %s: no algorithm for batch %d",
                               l->name, nb);
            if (q->algo[nb] == ALGO_DIRECT) {
                conv_direct(r, l, q, x0, nb, h, w, c0);
                break;
            }
            /* bias and ReLU inside cuDNN's call where it takes them (tried
             * once, in the eager pass), else in an epilogue of ours */
            if (q->bdesc && q->act == ACT_RELU && !r->attn_ref &&
                !r->no_fuse &&
                (q->fuse[nb] > 0 || (find && q->fuse[nb] == 0))) {
                cudnnStatus_t s = cudnnConvolutionBiasActivationForward(
                    r->dnn, &one, r->xd, x, q->fdesc, q->w, q->cdesc,
                    q->algo[nb], r->ws, r->ws_bytes, &zero, r->yd, q->out,
                    q->bdesc, q->b, r->relu, r->yd, q->out);
                if (s == CUDNN_STATUS_SUCCESS) {
                    q->fuse[nb] = 1;
                    break;
                }
                if (!find)
                    return ut_errf(err, "cudnnConvolutionBiasActivationForward"
                                   ": %s (%d) (layer %s, batch %d)",
                                   cudnnGetErrorString(s), (int)s, l->name,
                                   nb);
                if (getenv("IGNITER_CAPTURE_FIND_LOG"))
                    fprintf(stderr, "fuse %s %s b%d: %s\n", r->g.name,
                            l->name, nb, cudnnGetErrorString(s));
                q->fuse[nb] = -1;
            }
            cudnnStatus_t s = cudnnConvolutionForward(
                r->dnn, &one, r->xd, x, q->fdesc, q->w, q->cdesc,
                q->algo[nb], r->ws, q->ws[nb], &zero, r->yd, q->out);
            if (s != CUDNN_STATUS_SUCCESS)
                return ut_errf(err, "cudnnConvolutionForward: %s (%d) "
                               "(layer %s, batch %d)", cudnnGetErrorString(s),
                               (int)s, l->name, nb);
            if (q->b || q->act)
                epilogue(r, q->out, q->out, q->b, NULL, n,
                                          l->c, q->act);
            break;
        }
        case CAP_BN:
            k_bn<<<LAUNCH(n)>>>(q->out, x, q->w, q->b, n, c, q->act);
            break;
        case CAP_RELU:
            epilogue(r, q->out, x, NULL, NULL, n, c, ACT_RELU);
            break;
        case CAP_MAXPOOL:
            if (!r->attn_ref && c % 8 == 0 && al16(x) && al16(q->out))
                k_maxpool<<<LAUNCH(n / 8)>>>((uint4 *)q->out,
                                             (const uint4 *)x, nb, h, w,
                                             c / 8, l->h, l->w, l->kernel,
                                             l->stride, l->pad);
            else
                k_maxpool<<<LAUNCH(n)>>>(q->out, x, nb, h, w, c, l->h, l->w,
                                         l->kernel, l->stride, l->pad);
            break;
        case CAP_AVGPOOL:
            k_avgpool<<<LAUNCH(n)>>>(q->out, x, nb, h, w, c, l->h, l->w);
            break;
        case CAP_ADD:
            add_act(r, q->out, x, in_buf(r, l->in[1]), n, q->act);
            break;
        case CAP_L2NORM:
            k_rownorm<<<nb * h * w, 128, 0, r->stream>>>(q->out, x, c, q->w,
                                                         NULL, 0);
            break;
        case CAP_LAYERNORM:
            k_rownorm<<<nb * h * w, 256, 0, r->stream>>>(q->out, x, c, q->w,
                                                         q->b, 1);
            break;
        case CAP_TOKENS:
            k_tokens<<<LAUNCH(n)>>>(q->out, x, q->w, q->b, nb, l->h, c,
                                    l->cls ? 1 : 0);
            break;
        case CAP_FC: {
            /* token: that token's vector of each request (rows
             * h * c apart); otherwise the flattened input */
            int k = fc_in(r, l), ldx = c * h * w;
            const __half *xx = x;
            if (is_token_fc(r, l))
                xx = x + (size_t)l->token * c;
            if (!r->attn_ref) {
                if (gemm_lt(r, lt_at(r, q, LT_FC, nb), nb, l->out, k, xx,
                            ldx, q->w, q->b, NULL, q->out, q->act, err) < 0)
                    return ut_errprefix(err, "layer %s", l->name);
                break;
            }
            if (gemm_nt(r, nb, l->out, k, xx, ldx, q->w, q->out, 1.f,
                        err) < 0)
                return ut_errprefix(err, "layer %s", l->name);
            epilogue(r, q->out, q->out, q->b, NULL, n, l->out,
                                      q->act);
            break;
        }
        case CAP_ENCODER:
            if (run_encoder(r, l, q, x, nb, err) < 0)
                return ut_errprefix(err, "layer %s", l->name);
            break;
        default:
            return ut_errf(err, "layer %s: op %s not supported by the runner",
                           l->name, cap_op_name(l->op));
        }
        CK_CUDA(cudaGetLastError());
    }
    return 0;
}

static int enqueue_io(cap_runner *r, int nb, int find, ut_err *err)
{
    CK_CUDA(cudaMemcpyAsync(r->in_d, r->in_h,
                            (size_t)nb * r->in_elems * sizeof(__half),
                            cudaMemcpyHostToDevice, r->stream));
    if (run_layers(r, nb, find, err) < 0)
        return -1;
    size_t off = 0;
    for (size_t k = 0; k < r->g.nout; k++) {
        int o = r->g.out[k];
        size_t e = (size_t)nb * cap_layer_size(&r->g.l[o]);
        CK_CUDA(cudaMemcpyAsync(r->out_h + off, in_buf(r, o),
                                e * sizeof(__half), cudaMemcpyDeviceToHost,
                                r->stream));
        off += e;
    }
    return 0;
}

extern "C" size_t cap_runner_input_bytes(const cap_runner *r)
{
    return r->in_elems * sizeof(__half);
}
extern "C" size_t cap_runner_output_bytes(const cap_runner *r)
{
    return r->out_elems * sizeof(__half);
}
extern "C" void *cap_runner_input_host(cap_runner *r) { return r->in_h; }
extern "C" const void *cap_runner_output_host(const cap_runner *r)
{
    return r->out_h;
}
extern "C" void *cap_runner_stream(const cap_runner *r)
{
    return (void *)r->stream;
}

static int runner_init(cap_runner *r, ut_err *err)
{
    size_t mb = (size_t)r->o.max_batch;
    CK_CUDA(cudaFree(0));      /* the current context, made if need be */
    {
        /* cuDNN's choice of algorithm depends on the SMs it may use (some
         * fail outright on a small partition): the cache is per SM count */
        CUcontext ctx;
        CUdevResource res;
        if (cuCtxGetCurrent(&ctx) == CUDA_SUCCESS && ctx &&
            cuCtxGetDevResource(ctx, &res, CU_DEV_RESOURCE_TYPE_SM) ==
                CUDA_SUCCESS)
            r->sms = (int)res.sm.smCount;
    }
    CK_CUDA(cudaStreamCreateWithFlags(&r->stream, cudaStreamNonBlocking));
    CK_CUDNN(cudnnCreate(&r->dnn));
    CK_CUDNN(cudnnSetStream(r->dnn, r->stream));
    CK_CUBLAS(cublasCreate(&r->blas));
    CK_CUBLAS(cublasSetStream(r->blas, r->stream));
    /* a workspace of its own lets cuBLAS run inside graph capture */
    CK_CUDA(cudaMalloc(&r->blas_ws, BLAS_WS_BYTES));
    CK_CUBLAS(cublasSetWorkspace(r->blas, r->blas_ws, BLAS_WS_BYTES));
    if (!r->attn_ref)
        CK_CUBLAS(cublasLtCreate(&r->blt));
    CK_CUBLAS(cublasSetMathMode(r->blas, CUBLAS_DEFAULT_MATH));
    r->ws_bytes = r->o.workspace_bytes;
    CK_CUDA(cudaMalloc(&r->ws, r->ws_bytes));
    CK_CUDNN(cudnnCreateTensorDescriptor(&r->xd));
    CK_CUDNN(cudnnCreateTensorDescriptor(&r->yd));
    CK_CUDNN(cudnnCreateActivationDescriptor(&r->relu));
    CK_CUDNN(cudnnSetActivationDescriptor(r->relu, CUDNN_ACTIVATION_RELU,
                                          CUDNN_NOT_PROPAGATE_NAN, 0.0));
    CK_CUDA(cudaEventCreate(&r->ev0));
    CK_CUDA(cudaEventCreate(&r->ev1));
    r->in_elems = (size_t)r->g.in_c * r->g.in_h * r->g.in_w;
    r->out_elems = 0;
    for (size_t k = 0; k < r->g.nout; k++)
        r->out_elems += (size_t)cap_layer_size(&r->g.l[r->g.out[k]]);
    if (dalloc(&r->in_d, mb * r->in_elems, err) < 0)
        return -1;
    CK_CUDA(cudaMallocHost((void **)&r->in_h,
                           mb * r->in_elems * sizeof(__half)));
    CK_CUDA(cudaMallocHost((void **)&r->out_h,
                           mb * r->out_elems * sizeof(__half)));
    for (size_t i = 0; i < mb * r->in_elems; i++)
        r->in_h[i] = __float2half((float)((i * 2654435761u) % 1000) /
                                  1000.f - 0.5f);
    plan_fusions(r);
    size_t enc = 0, encm = 0, enct = 0, ench = 0;
    for (size_t i = 0; i < r->g.n; i++) {
        if (setup_layer(r, i, err) < 0)
            return ut_errprefix(err, "%s: layer %s", r->g.name,
                                r->g.l[i].name);
        const cap_layer *l = &r->g.l[i];
        if (l->op == CAP_ENCODER) {
            enc = enc > (size_t)l->c ? enc : (size_t)l->c;
            encm = encm > (size_t)l->mlp ? encm : (size_t)l->mlp;
            enct = enct > (size_t)l->h ? enct : (size_t)l->h;
            ench = ench > (size_t)l->heads ? ench : (size_t)l->heads;
        }
    }
    if (enc) {
        /* e_s: the fast path's rows are att_ld(t) apart, the reference
         * path's t */
        size_t rows = mb * enct;
        if (dalloc(&r->e_ln, rows * enc, err) < 0 ||
            dalloc(&r->e_qkv, rows * 3 * enc, err) < 0 ||
            dalloc(&r->e_s, mb * ench * enct * att_ld((int)enct), err) < 0 ||
            dalloc(&r->e_att, rows * enc, err) < 0 ||
            dalloc(&r->e_mlp, rows * encm, err) < 0)
            return -1;
        if (r->attn_ref &&
            (dalloc(&r->e_q, rows * enc, err) < 0 ||
             dalloc(&r->e_k, rows * enc, err) < 0 ||
             dalloc(&r->e_v, rows * enc, err) < 0 ||
             dalloc(&r->e_o, rows * enc, err) < 0))
            return -1;
        for (size_t i = 0; !r->attn_ref && i < r->g.n; i++)
            if (r->g.l[i].op == CAP_ENCODER && r->lr[i].alias < 0 &&
                attn_ptrs(r, &r->g.l[i], &r->lr[i], err) < 0)
                return ut_errprefix(err, "%s: layer %s", r->g.name,
                                    r->g.l[i].name);
    }
    CK_CUDA(cudaStreamSynchronize(r->stream));
    return 0;
}

extern "C" int cap_runner_new(const cap_graph *g, const cap_runner_opts *o,
                              cap_runner **out, ut_err *err)
{
    *out = NULL;
    if (o->max_batch < 1 || o->max_batch > MAX_BATCH_LIMIT)
        return ut_errf(err, "max_batch: expected 1..%d, got %d",
                       MAX_BATCH_LIMIT, o->max_batch);
    cap_runner *r = (cap_runner *)ut_xcalloc(1, sizeof *r);
    r->o = *o;
    if (!r->o.workspace_bytes)
        r->o.workspace_bytes = (size_t)256 << 20;
    if (r->o.attn_ref < 0) {
        const char *e = getenv("IGNITER_ATTN_REF");
        r->o.attn_ref = e && *e && strcmp(e, "0") != 0;
    }
    r->attn_ref = r->o.attn_ref != 0;
    const char *e = getenv("IGNITER_CONV_DIRECT");
    r->no_direct = e && !strcmp(e, "0");
    e = getenv("IGNITER_CONV_FUSE");
    r->no_fuse = e && !strcmp(e, "0");
    r->g = *g;
    r->g.l = (cap_layer *)ut_xmalloc(g->n * sizeof *g->l);
    memcpy(r->g.l, g->l, g->n * sizeof *g->l);
    r->lr = (lrun *)ut_xcalloc(g->n, sizeof *r->lr);
    if (runner_init(r, err) < 0) {
        ut_errprefix(err, "%s", g->name);
        cap_runner_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

extern "C" int cap_runner_prepare(cap_runner *r, int nb, ut_err *err)
{
    if (nb < 1 || nb > r->o.max_batch)
        return ut_errf(err, "%s: batch: expected 1..%d, got %d", r->g.name,
                       r->o.max_batch, nb);
    if (r->exec[nb] || (!r->o.graphs && r->lr[0].have_algo[nb]))
        return 0;
    /* one eager inference finds the algorithms (and warms up) */
    if (enqueue_io(r, nb, 1, err) < 0)
        return ut_errprefix(err, "%s", r->g.name);
    CK_CUDA(cudaStreamSynchronize(r->stream));
    if (!r->o.graphs)
        return 0;
    cudaGraph_t graph;
    CK_CUDA(cudaStreamBeginCapture(r->stream,
                                   cudaStreamCaptureModeThreadLocal));
    int rc = enqueue_io(r, nb, 0, err);
    cudaError_t e = cudaStreamEndCapture(r->stream, &graph);
    if (rc < 0)
        return ut_errprefix(err, "%s: graph capture", r->g.name);
    if (e != cudaSuccess)
        return ut_errf(err, "%s: cudaStreamEndCapture: %s (%d)", r->g.name,
                       cudaGetErrorName(e), (int)e);
    e = cudaGraphInstantiate(&r->exec[nb], graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess)
        return ut_errf(err, "%s: cudaGraphInstantiate: %s (%d)", r->g.name,
                       cudaGetErrorName(e), (int)e);
    CK_CUDA(cudaGraphUpload(r->exec[nb], r->stream));
    CK_CUDA(cudaStreamSynchronize(r->stream));
    return 0;
}

extern "C" int cap_runner_enqueue(cap_runner *r, int nb, ut_err *err)
{
    if (nb < 1 || nb > r->o.max_batch)
        return ut_errf(err, "%s: batch: expected 1..%d, got %d", r->g.name,
                       r->o.max_batch, nb);
    if (cap_runner_prepare(r, nb, err) < 0)
        return -1;
    CK_CUDA(cudaEventRecord(r->ev0, r->stream));
    if (r->o.graphs) {
        CK_CUDA(cudaGraphLaunch(r->exec[nb], r->stream));
    } else if (enqueue_io(r, nb, 0, err) < 0) {
        return ut_errprefix(err, "%s", r->g.name);
    }
    CK_CUDA(cudaEventRecord(r->ev1, r->stream));
    return 0;
}

extern "C" int cap_runner_wait(cap_runner *r, double *gpu_ms, ut_err *err)
{
    CK_CUDA(cudaEventSynchronize(r->ev1));
    if (gpu_ms) {
        float ms = 0.f;
        CK_CUDA(cudaEventElapsedTime(&ms, r->ev0, r->ev1));
        *gpu_ms = ms;
    }
    return 0;
}

extern "C" int cap_runner_poll(cap_runner *r, ut_err *err)
{
    cudaError_t e = cudaEventQuery(r->ev1);
    if (e == cudaSuccess)
        return 1;
    if (e == cudaErrorNotReady)
        return 0;
    return ut_errf(err, "%s: cudaEventQuery: %s (%d)", r->g.name,
                   cudaGetErrorString(e), (int)e);
}

extern "C" void cap_runner_free(cap_runner *r)
{
    if (!r)
        return;
    if (r->stream)
        cudaStreamSynchronize(r->stream);
    for (int b = 0; b <= MAX_BATCH_LIMIT; b++)
        if (r->exec[b])
            cudaGraphExecDestroy(r->exec[b]);
    for (size_t i = 0; r->lr && i < r->g.n; i++) {
        lrun *q = &r->lr[i];
        __half *ps[] = {q->out, q->w, q->b, q->xpad, q->ln1g, q->ln1b, q->wqkv,
                        q->bqkv, q->wo, q->bo, q->ln2g, q->ln2b, q->w1,
                        q->b1, q->w2, q->b2};
        if (q->alias >= 0)
            continue;
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
            if (ps[k])
                cudaFree(ps[k]);
        if (q->attn_ptr)
            cudaFree(q->attn_ptr);
        for (size_t k = 0;
             q->lt && k < (size_t)q->nlt * (r->o.max_batch + 1); k++)
            lt_plan_free(&q->lt[k]);
        free(q->lt);
        if (q->fdesc)
            cudnnDestroyFilterDescriptor(q->fdesc);
        if (q->cdesc)
            cudnnDestroyConvolutionDescriptor(q->cdesc);
        if (q->bdesc)
            cudnnDestroyTensorDescriptor(q->bdesc);
        if (q->wt)
            cudaFree(q->wt);
    }
    __half *es[] = {r->in_d, r->e_ln, r->e_qkv, r->e_q, r->e_k, r->e_v,
                    r->e_s, r->e_o, r->e_att, r->e_mlp};
    for (size_t k = 0; k < sizeof es / sizeof *es; k++)
        if (es[k])
            cudaFree(es[k]);
    if (r->in_h)
        cudaFreeHost(r->in_h);
    if (r->out_h)
        cudaFreeHost(r->out_h);
    if (r->ws)
        cudaFree(r->ws);
    if (r->blas_ws)
        cudaFree(r->blas_ws);
    if (r->xd)
        cudnnDestroyTensorDescriptor(r->xd);
    if (r->yd)
        cudnnDestroyTensorDescriptor(r->yd);
    if (r->relu)
        cudnnDestroyActivationDescriptor(r->relu);
    if (r->dnn)
        cudnnDestroy(r->dnn);
    if (r->blas)
        cublasDestroy(r->blas);
    if (r->blt)
        cublasLtDestroy(r->blt);
    if (r->ev0)
        cudaEventDestroy(r->ev0);
    if (r->ev1)
        cudaEventDestroy(r->ev1);
    if (r->stream)
        cudaStreamDestroy(r->stream);
    free(r->lr);
    free(r->g.l);
    free(r);
}
