/*
 * gemm.cu - the runner's GEMMs, row-major FP16 with FP32 accumulation:
 * rk_gemm_nt through cuBLAS (the reference path's, and 1x1 convolutions'),
 * rk_gemm_lt through cuBLASLt with the bias, activation and residual in
 * the matmul's epilogue (the fast path's encoders and fully connected
 * layers), each GEMM a plan (ltplan) made once per layer and batch.
 */
#include "capture/runner_int.cuh"

#include <string.h>

/* Y[m, n] = alpha X[m, k] W[n, k]^T, row-major; ldx: X's row stride. */
int rk_gemm_nt(cap_runner *r, int m, int n, int k, const __half *x, int ldx,
               const __half *w, __half *y, float alpha, ut_err *err)
{
    float beta = 0.f;
    CK_CUBLAS(cublasGemmEx(r->blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k,
                           &alpha, w, CUDA_R_16F, k, x, CUDA_R_16F, ldx,
                           &beta, y, CUDA_R_16F, n, CUBLAS_COMPUTE_32F,
                           CUBLAS_GEMM_DEFAULT));
    return 0;
}

void rk_lt_plan_free(ltplan *p)
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
 * residual). This is rk_gemm_nt's mapping plus the epilogue: the
 * reference path runs rk_gemm_nt then rk_epilogue(), rounding to FP16 in
 * between.
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
int rk_gemm_lt(cap_runner *r, ltplan *p, int m, int n, int k,
               const __half *x, int ldx, const __half *w, const __half *bias,
               const __half *res, __half *y, int act, ut_err *err)
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
    rk_lt_plan_free(p);
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
