/*
 * kernels.cu - the runner's small kernels of its own, FP16 in and out,
 * FP32 inside: weight fill, the epilogue (bias, activation, residual) and
 * the residual add, channel padding, batch norm, max and average pooling,
 * the direct convolution of a first layer, row norms (layer norm, L2),
 * and the tokens of a vision transformer; each behind a launcher
 * (runner_int.cuh) that picks the variant and the launch configuration.
 *
 * Where a kernel exists for one half a thread and for 8 (16 bytes, a
 * uint4), it is one template on the element V: the 8-wide variant needs
 * the channel count a multiple of 8 and 16-byte aligned pointers, which
 * the launcher checks; both compute the same FP32 values and round them
 * the same way (to nearest), so they give the same halves.
 */
#include "capture/runner_int.cuh"

#include <math.h>

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

/* ---- elements: one half or 8 -------------------------------------------- */

/* The halves of v as floats (exact). */
__device__ static inline void vunpack(__half v, float *f)
{
    f[0] = __half2float(v);
}

__device__ static inline void vunpack(uint4 v, float *f)
{
    const __half2 *h = (const __half2 *)&v;
    for (int k = 0; k < 4; k++) {
        float2 g = __half22float2(h[k]);
        f[2 * k] = g.x;
        f[2 * k + 1] = g.y;
    }
}

/* Floats back to halves, rounded to nearest. */
template <typename V> __device__ static inline V vpack(const float *f);
template <> __device__ inline __half vpack<__half>(const float *f)
{
    return __float2half(f[0]);
}
template <> __device__ inline uint4 vpack<uint4>(const float *f)
{
    uint4 u;
    __half2 *h = (__half2 *)&u;
    for (int k = 0; k < 4; k++)
        h[k] = __floats2half2_rn(f[2 * k], f[2 * k + 1]);
    return u;
}

/* ---- kernels ------------------------------------------------------------ */

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

/* dst = act(src + bias[i % c]) + res (res, bias may be NULL; dst may be
 * src or res). V: one half a thread, or 8 (uint4: n counts groups of 8, c
 * a multiple of 8, every pointer 16-byte aligned). */
template <typename V>
__global__ static void k_epilogue(V *dst, const V *src, const __half *bias,
                                  const V *res, size_t n, int c, int act)
{
    const int L = sizeof(V) / sizeof(__half);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float f[L], g[L];
        vunpack(src[i], f);
        if (bias) {
            /* the channel of the first element: with 8, a multiple of 8,
             * and the 8 biases one aligned load */
            vunpack(*(const V *)(bias + (i * L) % (size_t)c), g);
            for (int k = 0; k < L; k++)
                f[k] += g[k];
        }
        for (int k = 0; k < L; k++)
            f[k] = act_f(f[k], act);
        if (res) {
            vunpack(res[i], g);
            for (int k = 0; k < L; k++)
                f[k] += g[k];
        }
        dst[i] = vpack<V>(f);
    }
}

/* dst = act(a + b); V as for k_epilogue. */
template <typename V>
__global__ static void k_add(V *dst, const V *a, const V *b, size_t n,
                             int act)
{
    const int L = sizeof(V) / sizeof(__half);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float f[L], g[L];
        vunpack(a[i], f);
        vunpack(b[i], g);
        for (int k = 0; k < L; k++)
            f[k] = act_f(f[k] + g[k], act);
        dst[i] = vpack<V>(f);
    }
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

/* ---- launchers ---------------------------------------------------------- */

void rk_fill(cap_runner *r, __half *p, size_t n, unsigned long long seed,
             float scale)
{
    k_fill<<<grid_for(n), 256, 0, r->stream>>>(p, n, seed, scale);
}

void rk_epilogue(cap_runner *r, __half *dst, const __half *src,
                 const __half *bias, const __half *res, size_t n, int c,
                 int act)
{
    if (n % 8 == 0 && c % 8 == 0 && al16(dst) && al16(src) &&
        (!bias || al16(bias)) && (!res || al16(res)))
        k_epilogue<uint4><<<LAUNCH(n / 8)>>>((uint4 *)dst, (const uint4 *)src,
                                             bias, (const uint4 *)res, n / 8,
                                             c, act);
    else
        k_epilogue<__half><<<LAUNCH(n)>>>(dst, src, bias, res, n, c, act);
}

void rk_add_act(cap_runner *r, __half *dst, const __half *a, const __half *b,
                size_t n, int act)
{
    if (n % 8 == 0 && al16(dst) && al16(a) && al16(b))
        k_add<uint4><<<LAUNCH(n / 8)>>>((uint4 *)dst, (const uint4 *)a,
                                        (const uint4 *)b, n / 8, act);
    else
        k_add<__half><<<LAUNCH(n)>>>(dst, a, b, n, act);
}

void rk_pad_channels(cap_runner *r, __half *dst, const __half *src, size_t px,
                     int c, int cp)
{
    k_pad_channels<<<LAUNCH(px * cp)>>>(dst, src, px, c, cp);
}

void rk_bn(cap_runner *r, __half *dst, const __half *src, const __half *scale,
           const __half *shift, size_t n, int c, int act)
{
    k_bn<<<LAUNCH(n)>>>(dst, src, scale, shift, n, c, act);
}

void rk_maxpool(cap_runner *r, __half *dst, const __half *src, size_t n,
                int nb, int h, int w, int c, int oh, int ow, int k, int s,
                int p)
{
    if (!r->attn_ref && c % 8 == 0 && al16(src) && al16(dst))
        k_maxpool<<<LAUNCH(n / 8)>>>((uint4 *)dst, (const uint4 *)src, nb, h,
                                     w, c / 8, oh, ow, k, s, p);
    else
        k_maxpool<<<LAUNCH(n)>>>(dst, src, nb, h, w, c, oh, ow, k, s, p);
}

void rk_avgpool(cap_runner *r, __half *dst, const __half *src, size_t n,
                int nb, int h, int w, int c, int oh, int ow)
{
    k_avgpool<<<LAUNCH(n)>>>(dst, src, nb, h, w, c, oh, ow);
}

void rk_rownorm(cap_runner *r, __half *dst, const __half *src, int rows,
                int c, const __half *g, const __half *bb, int ln)
{
    k_rownorm<<<rows, ln ? 256 : 128, 0, r->stream>>>(dst, src, c, g, bb, ln);
}

void rk_layernorm(cap_runner *r, __half *dst, const __half *src, int rows,
                  int c, const __half *g, const __half *bb)
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

void rk_tokens(cap_runner *r, __half *dst, const __half *src,
               const __half *cls, const __half *pos, size_t n, int nb, int t,
               int c, int has_cls)
{
    k_tokens<<<LAUNCH(n)>>>(dst, src, cls, pos, nb, t, c, has_cls);
}

int rk_conv_direct_init(cap_runner *r, const cap_layer *l, lrun *q, int c,
                        ut_err *err)
{
    size_t kk = (size_t)l->kernel * l->kernel;
    size_t nwt = kk * c * l->out;
    CK_CUDA(cudaMalloc((void **)&q->wt, nwt * sizeof(float)));
    k_conv_wt<<<grid_for(nwt), 256, 0, r->stream>>>(q->wt, q->w, l->out,
                                                    (int)kk, c, q->cpad);
    CK_CUDA(cudaGetLastError());
    if (q->wt_bytes > (48 << 10))
        CK_CUDA(cudaFuncSetAttribute(
            k_conv_direct, cudaFuncAttributeMaxDynamicSharedMemorySize,
            DIRECT_SMEM_MAX));
    return 0;
}

void rk_conv_direct(cap_runner *r, const cap_layer *l, const lrun *q,
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
