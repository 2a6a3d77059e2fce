/* The CLBlast backend of sc_gemm: CLBlastSgemm with our arguments, its status codes by name,
 * and Xgemm parameters for devices CLBlast has no tuning for (found by bench_gemm
 * --tune-clblast, applied through CLBlastOverrideParameters). */
#include <clblast_c.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gemm_internal.h"
#include "siamcl/error.h"
#include "siamcl/tuning.h"

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

/* ---- tuned parameters for CLBlast's Xgemm kernel -------------------------------------
 * CLBlast 1.5's Xgemm takes these 16 parameters; CLBlastOverrideParameters wants all of
 * them. A saved set (key "clblast.xgemm") is applied once per device and process, before
 * the first CLBlast call. */
static const char *xgemm_names[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC",
                                    "MWG",   "NDIMB", "NDIMC", "NWG", "SA",   "SB",
                                    "STRM",  "STRN", "VWM",  "VWN"};
#define N_XGEMM ((int)(sizeof xgemm_names / sizeof xgemm_names[0]))

static int parse_xgemm(const char *text, size_t *vals)
{
    int seen[N_XGEMM] = {0};
    const char *s = text;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char name[16];
        unsigned long v;
        int used = 0;
        if (sscanf(s, "%15[A-Z]=%lu%n", name, &v, &used) != 2)
            return sc_fail("CLBlast Xgemm parameters '%s': expected NAME=number at '%s'", text,
                           s);
        int f = -1;
        for (int i = 0; i < N_XGEMM; i++)
            if (strcmp(name, xgemm_names[i]) == 0)
                f = i;
        if (f < 0)
            return sc_fail("CLBlast Xgemm parameters '%s': unknown name '%s'", text, name);
        vals[f] = (size_t)v;
        seen[f] = 1;
        s += used;
    }
    for (int i = 0; i < N_XGEMM; i++)
        if (!seen[i])
            return sc_fail("CLBlast Xgemm parameters '%s': %s missing", text, xgemm_names[i]);
    return SC_OK;
}

int sc_gemm_clblast_override(sc_ctx *ctx, const char *params, int save)
{
    size_t vals[N_XGEMM];
    SC_TRY(parse_xgemm(params, vals));
    CLBlastStatusCode st = CLBlastOverrideParameters(ctx->dev.device, "Xgemm",
                                                     CLBlastPrecisionSingle, N_XGEMM,
                                                     xgemm_names, vals);
    if (st != CLBlastSuccess)
        return sc_fail("CLBlastOverrideParameters(Xgemm, '%s') failed: %s (%d)", params,
                       sc_clblast_status_name(st), (int)st);
    return save ? sc_tuning_set(ctx, "clblast.xgemm", params) : SC_OK;
}

#define MAX_APPLIED 16
static cl_device_id applied[MAX_APPLIED];
static int napplied;
static pthread_mutex_t applied_lock = PTHREAD_MUTEX_INITIALIZER;

/* Applies the saved Xgemm parameters of ctx's device once per process. A saved set that
 * CLBlast rejects is ignored: CLBlast's defaults still work. */
static void apply_saved(sc_ctx *ctx)
{
    pthread_mutex_lock(&applied_lock);
    int done = 0;
    for (int i = 0; i < napplied; i++)
        done |= applied[i] == ctx->dev.device;
    if (!done && napplied < MAX_APPLIED) {
        applied[napplied++] = ctx->dev.device;
        char text[256];
        if (sc_tuning_get(ctx, "clblast.xgemm", text, sizeof text))
            sc_gemm_clblast_override(ctx, text, 0);
    }
    pthread_mutex_unlock(&applied_lock);
}

int sc_gemm_clblast_run(sc_ctx *ctx, const sc_gemm_call *g)
{
    apply_saved(ctx);
    /* Only ask for events when someone will record them: events cost on every call. CLBlast
     * may run pre-processing kernels (padding, transposes) before its GEMM and returns only
     * the last kernel's event, so a marker before the call starts the recorded span (the
     * last event alone timed lfw_best's larger GEMMs at 10-100x the FMA peak). */
    cl_event ev = NULL, ev0 = NULL;
    if (ctx->profile)
        SC_CL(clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &ev0));
    CLBlastStatusCode st = CLBlastSgemm(
        CLBlastLayoutRowMajor, g->ta ? CLBlastTransposeYes : CLBlastTransposeNo,
        g->tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
        (size_t)g->k, g->alpha, g->a, g->a_off, (size_t)g->lda, g->b, g->b_off, (size_t)g->ldb,
        g->beta, g->c, g->c_off, (size_t)g->ldc, &ctx->queue, ctx->profile ? &ev : NULL);
    if (st != CLBlastSuccess) {
        if (ev0)
            clReleaseEvent(ev0);
        return sc_fail("%s: CLBlastSgemm(m=%d n=%d k=%d, trans_a=%d trans_b=%d) failed: %s "
                       "(%d)%s",
                       g->label, g->m, g->n, g->k, g->ta, g->tb, sc_clblast_status_name(st),
                       (int)st, status_hint(st));
    }
    sc_profile_span(ctx, ev0, ev, g->label);
    return SC_OK;
}
