/*
 * attention.cu - the encoders' multi-head attention (rk_attention): on
 * the fast path, one fused (flash) kernel for head size 64, else batched
 * GEMMs on the qkv layout through pointer arrays (rk_attn_ptrs) with a
 * warp softmax between them; on the reference path, the heads copied out
 * and back, strided batched GEMMs and a block softmax.
 */
#include "capture/runner_int.cuh"

#include <math.h>
#include <stdlib.h>

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

/* Row stride of the fast path's score matrices: t rounded up to 8 halves,
 * so that every row and every (batch, head) matrix starts 16-byte aligned
 * (cuBLAS's tensor-core kernels and k_softmax_warp's pair loads want it;
 * the reference path's ld t = 197 is odd). Columns t..ld are padding,
 * never read. */
int rk_att_ld(int t)
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
 * with head size 64 rk_attention() uses k_flash_attn and not these.
 */
int rk_attn_ptrs(cap_runner *r, const cap_layer *l, lrun *q, ut_err *err)
{
    int t = l->h, c = l->c, h = l->heads, d = c / h, ls = rk_att_ld(t);
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
 * cublasGemmBatchedEx each over nb h (request, head) pairs (rk_attn_ptrs),
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
int rk_attention(cap_runner *r, const cap_layer *l, const lrun *q, int nb,
                 ut_err *err)
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
        int ls = rk_att_ld(t), nbh = nb * h;
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
