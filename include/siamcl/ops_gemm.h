/* Matrix multiply on the device: the one place the library calls a BLAS, so the backend
 * (CLBlast today, a tuned kernel of our own later) can be swapped in one file. */
#ifndef SIAMCL_OPS_GEMM_H
#define SIAMCL_OPS_GEMM_H

#include "siamcl/runtime.h"

/* C = alpha * op(A) * op(B) + beta * C, all row-major, op(X) = X or X^T (trans_x != 0).
 * op(A) is m x k, op(B) is k x n, C is m x n. Offsets and leading dimensions are in floats
 * (lda is the row length of A as stored, i.e. k when not transposed, m when transposed).
 * `label` names the call in profiles ("conv.gemm", "linear.gemm"; NULL means "gemm").
 * m == 0 or n == 0 is a no-op; k must be positive. Leading dimensions are checked against
 * the matrix shapes here so a mistake is reported in our words, not CLBlast's.
 * Enqueues on ctx->queue and never waits. */
int sc_gemm(sc_ctx *ctx, int trans_a, int trans_b, int m, int n, int k, float alpha, cl_mem a,
            size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
            size_t c_off, int ldc, const char *label);

/* CLBlast status codes by name ("CLBlastInsufficientMemoryA"), "unknown" otherwise. */
const char *sc_clblast_status_name(int status);

#endif
