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
 *         (rk_attention()); the encoders' four GEMMs and the fully
 *         connected layers through cuBLASLt with bias, activation (ReLU,
 *         GELU) and residual in the GEMM's epilogue (rk_gemm_lt());
 *         convolutions with bias and ReLU in cuDNN's fused call where it
 *         takes them; a first layer of few channels (3 colours) by a
 *         direct kernel of ours where it beats cuDNN's search (interp.cu's
 *         conv_algo() times both); max pooling 8 channels a thread;
 *   reference: the unfused path: head copies, block softmax, separate
 *         bias/activation kernels (rk_gemm_nt() then rk_epilogue()), cuDNN
 *         for every convolution.
 * `igniter-capture check` compares the two.
 *
 * Errors name the call and its code: `cudnnConvolutionForward: 
 * CUDNN_STATUS_BAD_PARAM (3) (layer conv2, batch 8)`.
 *
 * The runner's files (runner_int.cuh, private to them, says which holds
 * what): this one, the life cycle; interp.cu, the layer interpreter;
 * kernels.cu, attention.cu and gemm.cu, what it runs; algo_cache.cu, the
 * cache of cuDNN's choices.
 */
#include "capture/runner_int.cuh"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int rk_dalloc(__half **p, size_t elems, ut_err *err)
{
    CK_CUDA(cudaMalloc((void **)p, (elems ? elems : 1) * sizeof(__half)));
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
    if (rk_dalloc(&r->in_d, mb * r->in_elems, err) < 0)
        return -1;
    CK_CUDA(cudaMallocHost((void **)&r->in_h,
                           mb * r->in_elems * sizeof(__half)));
    CK_CUDA(cudaMallocHost((void **)&r->out_h,
                           mb * r->out_elems * sizeof(__half)));
    for (size_t i = 0; i < mb * r->in_elems; i++)
        r->in_h[i] = __float2half((float)((i * 2654435761u) % 1000) /
                                  1000.f - 0.5f);
    rk_plan_fusions(r);
    size_t enc = 0, encm = 0, enct = 0, ench = 0;
    for (size_t i = 0; i < r->g.n; i++) {
        if (rk_setup_layer(r, i, err) < 0)
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
        /* e_s: the fast path's rows are rk_att_ld(t) apart, the reference
         * path's t */
        size_t rows = mb * enct;
        if (rk_dalloc(&r->e_ln, rows * enc, err) < 0 ||
            rk_dalloc(&r->e_qkv, rows * 3 * enc, err) < 0 ||
            rk_dalloc(&r->e_s, mb * ench * enct * rk_att_ld((int)enct),
                      err) < 0 ||
            rk_dalloc(&r->e_att, rows * enc, err) < 0 ||
            rk_dalloc(&r->e_mlp, rows * encm, err) < 0)
            return -1;
        if (r->attn_ref &&
            (rk_dalloc(&r->e_q, rows * enc, err) < 0 ||
             rk_dalloc(&r->e_k, rows * enc, err) < 0 ||
             rk_dalloc(&r->e_v, rows * enc, err) < 0 ||
             rk_dalloc(&r->e_o, rows * enc, err) < 0))
            return -1;
        for (size_t i = 0; !r->attn_ref && i < r->g.n; i++)
            if (r->g.l[i].op == CAP_ENCODER && r->lr[i].alias < 0 &&
                rk_attn_ptrs(r, &r->g.l[i], &r->lr[i], err) < 0)
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
    if (rk_enqueue_io(r, nb, 1, err) < 0)
        return ut_errprefix(err, "%s", r->g.name);
    CK_CUDA(cudaStreamSynchronize(r->stream));
    if (!r->o.graphs)
        return 0;
    cudaGraph_t graph;
    CK_CUDA(cudaStreamBeginCapture(r->stream,
                                   cudaStreamCaptureModeThreadLocal));
    int rc = rk_enqueue_io(r, nb, 0, err);
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
    } else if (rk_enqueue_io(r, nb, 0, err) < 0) {
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
            rk_lt_plan_free(&q->lt[k]);
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
