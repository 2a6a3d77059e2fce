/* sc_gemm: row-major SGEMM through CLBlast. Kept in one function so the backend can be
 * replaced (issue 7: CLBlast's untuned defaults are slow on PoCL) without touching callers. */
#include "siamcl/ops_gemm.h"

#include <clblast_c.h>

#include "siamcl/error.h"

const char *sc_clblast_status_name(int status)
{
    switch (status) {
#define C(x) \
    case x:  \
        return #x;
        C(CLBlastSuccess)
        C(CLBlastOpenCLCompilerNotAvailable)
        C(CLBlastTempBufferAllocFailure)
        C(CLBlastOpenCLOutOfResources)
        C(CLBlastOpenCLOutOfHostMemory)
        C(CLBlastOpenCLBuildProgramFailure)
        C(CLBlastInvalidValue)
        C(CLBlastInvalidCommandQueue)
        C(CLBlastInvalidMemObject)
        C(CLBlastInvalidBinary)
        C(CLBlastInvalidBuildOptions)
        C(CLBlastInvalidProgram)
        C(CLBlastInvalidProgramExecutable)
        C(CLBlastInvalidKernelName)
        C(CLBlastInvalidKernelDefinition)
        C(CLBlastInvalidKernel)
        C(CLBlastInvalidArgIndex)
        C(CLBlastInvalidArgValue)
        C(CLBlastInvalidArgSize)
        C(CLBlastInvalidKernelArgs)
        C(CLBlastInvalidLocalNumDimensions)
        C(CLBlastInvalidLocalThreadsTotal)
        C(CLBlastInvalidLocalThreadsDim)
        C(CLBlastInvalidGlobalOffset)
        C(CLBlastInvalidEventWaitList)
        C(CLBlastInvalidEvent)
        C(CLBlastInvalidOperation)
        C(CLBlastInvalidBufferSize)
        C(CLBlastInvalidGlobalWorkSize)
        C(CLBlastNotImplemented)
        C(CLBlastInvalidMatrixA)
        C(CLBlastInvalidMatrixB)
        C(CLBlastInvalidMatrixC)
        C(CLBlastInvalidVectorX)
        C(CLBlastInvalidVectorY)
        C(CLBlastInvalidDimension)
        C(CLBlastInvalidLeadDimA)
        C(CLBlastInvalidLeadDimB)
        C(CLBlastInvalidLeadDimC)
        C(CLBlastInvalidIncrementX)
        C(CLBlastInvalidIncrementY)
        C(CLBlastInsufficientMemoryA)
        C(CLBlastInsufficientMemoryB)
        C(CLBlastInsufficientMemoryC)
        C(CLBlastInsufficientMemoryX)
        C(CLBlastInsufficientMemoryY)
        C(CLBlastInsufficientMemoryTemp)
        C(CLBlastInvalidBatchCount)
        C(CLBlastInvalidOverrideKernel)
        C(CLBlastMissingOverrideParameter)
        C(CLBlastInvalidLocalMemUsage)
        C(CLBlastNoHalfPrecision)
        C(CLBlastNoDoublePrecision)
        C(CLBlastInvalidVectorScalar)
        C(CLBlastInsufficientMemoryScalar)
        C(CLBlastDatabaseError)
        C(CLBlastUnknownError)
        C(CLBlastUnexpectedError)
#undef C
    default:
        return "unknown";
    }
}

/* Hints for the codes a caller can do something about. */
static const char *status_hint(int status)
{
    switch (status) {
    case CLBlastInsufficientMemoryA:
    case CLBlastInsufficientMemoryB:
    case CLBlastInsufficientMemoryC:
        return " (a buffer is smaller than offset + the matrix it should hold)";
    case CLBlastTempBufferAllocFailure:
    case CLBlastOpenCLOutOfResources:
        return " (device out of memory)";
    case CLBlastOpenCLBuildProgramFailure:
        return " (CLBlast could not compile its kernel for this device)";
    default:
        return "";
    }
}

int sc_gemm(sc_ctx *ctx, int trans_a, int trans_b, int m, int n, int k, float alpha, cl_mem a,
            size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
            size_t c_off, int ldc, const char *label)
{
    if (!label)
        label = "gemm";
    if (m < 0 || n < 0 || k <= 0)
        return sc_fail("%s: bad GEMM shape m=%d n=%d k=%d (m, n >= 0, k > 0)", label, m, n, k);
    if (m == 0 || n == 0)
        return SC_OK;
    /* Row-major: the stored row length of A is k (or m when transposed), and so on. */
    int a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
    if (lda < a_cols || ldb < b_cols || ldc < n)
        return sc_fail("%s: GEMM leading dimensions too small: lda=%d (need >= %d), "
                       "ldb=%d (need >= %d), ldc=%d (need >= %d)",
                       label, lda, a_cols, ldb, b_cols, ldc, n);
    /* Only ask for an event when someone will record it: events cost on every call. */
    cl_event ev = NULL;
    CLBlastStatusCode st = CLBlastSgemm(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m, (size_t)n, (size_t)k,
        alpha, a, a_off, (size_t)lda, b, b_off, (size_t)ldb, beta, c, c_off, (size_t)ldc,
        &ctx->queue, ctx->profile ? &ev : NULL);
    if (st != CLBlastSuccess)
        return sc_fail("%s: CLBlastSgemm(m=%d n=%d k=%d, trans_a=%d trans_b=%d) failed: %s "
                       "(%d)%s",
                       label, m, n, k, trans_a, trans_b, sc_clblast_status_name(st), (int)st,
                       status_hint(st));
    if (ev)
        sc_profile_event(ctx, ev, label);
    return SC_OK;
}
