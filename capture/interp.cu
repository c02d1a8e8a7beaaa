/*
 * interp.cu - the runner's layer interpreter: the fusions decided once
 * (rk_plan_fusions), each layer's buffers, weights and descriptors
 * (rk_setup_layer), and one inference, layer after layer, on the runner's
 * stream (rk_enqueue_io): cuDNN convolutions (algorithm chosen per layer
 * and batch in the eager pass, conv_algo), GEMMs (gemm.cu), the encoder
 * layer (run_encoder, its attention in attention.cu) and the small kernels
 * (kernels.cu).
 */
#include "capture/runner_int.cuh"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocates and fills a weight tensor of n elements, U(-scale, scale). */
static int weight(cap_runner *r, __half **p, size_t n, float scale,
                  ut_err *err)
{
    if (rk_dalloc(p, n, err) < 0)
        return -1;
    rk_fill(r, *p, n, r->o.seed * 1000003ULL + ++r->fill_seq, scale);
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
void rk_plan_fusions(cap_runner *r)
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

int rk_setup_layer(cap_runner *r, size_t i, ut_err *err)
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
        rk_dalloc(&q->out, mb * (size_t)cap_layer_size(l), err) < 0)
        return -1;
    switch (l->op) {
    case CAP_CONV: {
        /* cuDNN's tensor-core kernels want channels in multiples of 8: a
         * 3-channel image goes through a slow generic kernel (0.7 ms for
         * ResNet-50's first layer at batch 1 on the H100), so the input is
         * copied into 8 channels, zeros in the extra ones */
        if (l->groups == 1 && c % 8) {
            q->cpad = (c + 7) / 8 * 8;
            if (rk_dalloc(&q->xpad, mb * (size_t)in_h(r, l) * in_w(r, l) *
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
            if (rk_conv_direct_init(r, l, q, in_c(r, l, 0), err) < 0)
                return -1;
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
        if (rk_dalloc(&q->out, mb * (size_t)cap_layer_size(l), err) < 0 ||
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
 * path: rk_gemm_nt then rk_epilogue() for each (4 more kernels a layer,
 * and each GEMM's output written and read again in FP16).
 */
static int run_encoder(cap_runner *r, const cap_layer *l, const lrun *q,
                       const __half *x, int nb, ut_err *err)
{
    int t = l->h, c = l->c, m = l->mlp;
    int rows = nb * t;
    size_t nx = (size_t)rows * c;
    __half *out = q->out;
    rk_layernorm(r, r->e_ln, x, rows, c, q->ln1g, q->ln1b);
    if (!r->attn_ref) {
        if (rk_gemm_lt(r, lt_at(r, q, LT_QKV, nb), rows, 3 * c, c, r->e_ln,
                       c, q->wqkv, q->bqkv, NULL, r->e_qkv, ACT_NONE,
                       err) < 0 ||
            rk_attention(r, l, q, nb, err) < 0 ||
            rk_gemm_lt(r, lt_at(r, q, LT_PROJ, nb), rows, c, c, r->e_att, c,
                       q->wo, q->bo, x, out, ACT_NONE, err) < 0)
            return -1;
        rk_layernorm(r, r->e_ln, out, rows, c, q->ln2g, q->ln2b);
        if (rk_gemm_lt(r, lt_at(r, q, LT_MLP1, nb), rows, m, c, r->e_ln, c,
                       q->w1, q->b1, NULL, r->e_mlp, ACT_GELU, err) < 0 ||
            rk_gemm_lt(r, lt_at(r, q, LT_MLP2, nb), rows, c, m, r->e_mlp, m,
                       q->w2, q->b2, out, out, ACT_NONE, err) < 0)
            return -1;
        return 0;
    }
    if (rk_gemm_nt(r, rows, 3 * c, c, r->e_ln, c, q->wqkv, r->e_qkv, 1.f,
                   err) < 0)
        return -1;
    rk_epilogue(r, r->e_qkv, r->e_qkv, q->bqkv, NULL, (size_t)rows * 3 * c,
                3 * c, ACT_NONE);
    if (rk_attention(r, l, q, nb, err) < 0)
        return -1;
    if (rk_gemm_nt(r, rows, c, c, r->e_att, c, q->wo, out, 1.f, err) < 0)
        return -1;
    rk_epilogue(r, out, out, q->bo, x, nx, c, ACT_NONE);
    rk_layernorm(r, r->e_ln, out, rows, c, q->ln2g, q->ln2b);
    if (rk_gemm_nt(r, rows, m, c, r->e_ln, c, q->w1, r->e_mlp, 1.f,
                   err) < 0)
        return -1;
    rk_epilogue(r, r->e_mlp, r->e_mlp, q->b1, NULL, (size_t)rows * m, m,
                ACT_GELU);
    if (rk_gemm_nt(r, rows, c, m, r->e_mlp, m, q->w2, r->e_att, 1.f,
                   err) < 0)
        return -1;
    rk_epilogue(r, out, r->e_att, q->b2, out, nx, c, ACT_NONE);
    return 0;
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

/* coarse_search: batch nb (not a power of two, not max_batch) takes the
 * choice made at the power of two below it, when that one was made and
 * cuDNN gives its workspace at nb within the runner's (r->xd, r->yd are
 * nb's). 1: *a, *ws set. */
static int borrow_algo(const cap_runner *r, const lrun *q, int nb,
                       cudnnConvolutionFwdAlgo_t *a, size_t *ws)
{
    if (!r->o.coarse_search || (nb & (nb - 1)) == 0 ||
        nb == r->o.max_batch)
        return 0;
    int p = 1;
    while (p * 2 < nb)
        p *= 2;
    if (!q->have_algo[p])
        return 0;
    *a = q->algo[p];
    *ws = 0;
    if (*a == ALGO_DIRECT)
        return 1;
    return cudnnGetConvolutionForwardWorkspaceSize(
               r->dnn, r->xd, q->fdesc, q->cdesc, r->yd, *a, ws) ==
               CUDNN_STATUS_SUCCESS && *ws <= r->ws_bytes;
}

/* Chooses layer i's algorithm at batch nb: the fastest of cuDNN's search
 * and, where the layer has its weights (q->wt), the direct kernel. x0: the
 * unpadded input (c0 channels); x: what cuDNN reads (padded if q->cpad).
 * The cache's choice when it has one, unless fresh: then a search of our
 * own, which replaces it. */
static int conv_algo(cap_runner *r, size_t i, int nb, const __half *x0,
                     int c0, const __half *x, __half *y, int fresh,
                     ut_err *err)
{
    lrun *q = &r->lr[i];
    if (q->have_algo[nb] && !fresh)
        return 0;
    char key[96];
    /* "/d": the direct kernel was a candidate */
    snprintf(key, sizeof key, "%s/%zu/%d/%d%s", r->g.name, i, nb, r->sms,
             q->wt ? "/d" : "");
    cudnnConvolutionFwdAlgo_t a;
    size_t ws;
    q->searched[nb] = fresh || !rk_algo_get(key, &a, &ws);
    if (q->searched[nb] && !fresh && borrow_algo(r, q, nb, &a, &ws))
        q->searched[nb] = 0;   /* not our search: refused, searched again */
    if (q->searched[nb]) {
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
                rk_conv_direct(r, l, q, x0, nb, h, w, c0);
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
        rk_algo_put(key, a, ws);
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
                if (rk_gemm_nt(r, nb * h * w, l->out, c, x, c, q->w,
                               q->out, 1.f, err) < 0)
                    return ut_errprefix(err, "layer %s", l->name);
                q->have_algo[nb] = 1;
                if (q->b || q->act)
                    rk_epilogue(r, q->out, q->out, q->b, NULL, n, l->c,
                                q->act);
                break;
            }
            /* the direct kernel reads the unpadded input; in the eager
             * pass (find) the choice is made below, after the padding
             * cuDNN's candidates need */
            if (!find && q->have_algo[nb] && q->algo[nb] == ALGO_DIRECT) {
                rk_conv_direct(r, l, q, x0, nb, h, w, c0);
                break;
            }
            if (q->cpad) {
                size_t px = (size_t)nb * h * w;
                rk_pad_channels(r, q->xpad, x, px, c, q->cpad);
                x = q->xpad;
                c = q->cpad;
            }
            CK_CUDNN(cudnnSetTensor4dDescriptor(r->xd, CUDNN_TENSOR_NHWC,
                                                CUDNN_DATA_HALF, nb, c, h,
                                                w));
            CK_CUDNN(cudnnSetTensor4dDescriptor(r->yd, CUDNN_TENSOR_NHWC,
                                                CUDNN_DATA_HALF, nb, l->c,
                                                l->h, l->w));
            if (find && conv_algo(r, i, nb, x0, c0, x, q->out, 0, err) < 0)
                return ut_errprefix(err, "layer %s", l->name);
            if (!q->have_algo[nb])
                return ut_errf(err, "layer %s: no algorithm for batch %d",
                               l->name, nb);
            if (q->algo[nb] == ALGO_DIRECT) {
                rk_conv_direct(r, l, q, x0, nb, h, w, c0);
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
            if (s != CUDNN_STATUS_SUCCESS && find && !q->searched[nb]) {
                /* the algorithm file's choice, refused here (an MPS client
                 * at 64 SMs refused two green-context choices of the H200
                 * file: CUDNN_STATUS_BAD_PARAM): this process searches */
                fprintf(stderr, "igniter-capture: %s layer %s batch %d: the "
                        "algorithm file's choice failed (%s), searching "
                        "again\n", r->g.name, l->name, nb,
                        cudnnGetErrorString(s));
                if (conv_algo(r, i, nb, x0, c0, x, q->out, 1, err) < 0)
                    return ut_errprefix(err, "layer %s", l->name);
                if (q->algo[nb] == ALGO_DIRECT) {
                    rk_conv_direct(r, l, q, x0, nb, h, w, c0);
                    s = CUDNN_STATUS_SUCCESS;
                } else {
                    s = cudnnConvolutionForward(
                        r->dnn, &one, r->xd, x, q->fdesc, q->w, q->cdesc,
                        q->algo[nb], r->ws, q->ws[nb], &zero, r->yd, q->out);
                }
            }
            if (s != CUDNN_STATUS_SUCCESS)
                return ut_errf(err, "cudnnConvolutionForward: %s (%d) "
                               "(layer %s, batch %d)", cudnnGetErrorString(s),
                               (int)s, l->name, nb);
            if (q->b || q->act)
                rk_epilogue(r, q->out, q->out, q->b, NULL, n, l->c, q->act);
            break;
        }
        case CAP_BN:
            rk_bn(r, q->out, x, q->w, q->b, n, c, q->act);
            break;
        case CAP_RELU:
            rk_epilogue(r, q->out, x, NULL, NULL, n, c, ACT_RELU);
            break;
        case CAP_MAXPOOL:
            rk_maxpool(r, q->out, x, n, nb, h, w, c, l->h, l->w, l->kernel,
                       l->stride, l->pad);
            break;
        case CAP_AVGPOOL:
            rk_avgpool(r, q->out, x, n, nb, h, w, c, l->h, l->w);
            break;
        case CAP_ADD:
            rk_add_act(r, q->out, x, in_buf(r, l->in[1]), n, q->act);
            break;
        case CAP_L2NORM:
            rk_rownorm(r, q->out, x, nb * h * w, c, q->w, NULL, 0);
            break;
        case CAP_LAYERNORM:
            rk_rownorm(r, q->out, x, nb * h * w, c, q->w, q->b, 1);
            break;
        case CAP_TOKENS:
            rk_tokens(r, q->out, x, q->w, q->b, n, nb, l->h, c,
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
                if (rk_gemm_lt(r, lt_at(r, q, LT_FC, nb), nb, l->out, k, xx,
                               ldx, q->w, q->b, NULL, q->out, q->act,
                               err) < 0)
                    return ut_errprefix(err, "layer %s", l->name);
                break;
            }
            if (rk_gemm_nt(r, nb, l->out, k, xx, ldx, q->w, q->out, 1.f,
                           err) < 0)
                return ut_errprefix(err, "layer %s", l->name);
            rk_epilogue(r, q->out, q->out, q->b, NULL, n, l->out, q->act);
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

int rk_enqueue_io(cap_runner *r, int nb, int find, ut_err *err)
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
