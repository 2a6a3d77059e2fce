/* The CLBlast backend of sc_gemm: CLBlastSgemm with our arguments, its status codes by name.
 * Parameters set through CLBlastOverrideParameters (the tuner) apply here automatically. */
#include <clblast_c.h>

#include "gemm_internal.h"
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

int sc_gemm_clblast_run(sc_ctx *ctx, const sc_gemm_call *g)
{
    /* Only ask for an event when someone will record it: events cost on every call. */
    cl_event ev = NULL;
    CLBlastStatusCode st = CLBlastSgemm(
        CLBlastLayoutRowMajor, g->ta ? CLBlastTransposeYes : CLBlastTransposeNo,
        g->tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
        (size_t)g->k, g->alpha, g->a, g->a_off, (size_t)g->lda, g->b, g->b_off, (size_t)g->ldb,
        g->beta, g->c, g->c_off, (size_t)g->ldc, &ctx->queue, ctx->profile ? &ev : NULL);
    if (st != CLBlastSuccess)
        return sc_fail("%s: CLBlastSgemm(m=%d n=%d k=%d, trans_a=%d trans_b=%d) failed: %s "
                       "(%d)%s",
                       g->label, g->m, g->n, g->k, g->ta, g->tb, sc_clblast_status_name(st),
                       (int)st, status_hint(st));
    if (ev)
        sc_profile_event(ctx, ev, g->label);
    return SC_OK;
}
