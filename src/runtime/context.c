/* One context and one in-order queue on the chosen device. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int sc_ctx_create(sc_ctx **out, const char *selector, unsigned flags)
{
    *out = NULL;
    if (!selector || !*selector)
        selector = getenv("SIAMCL_DEVICE");
    sc_device_info *list;
    int n, chosen;
    SC_TRY(sc_device_list(&list, &n));
    sc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        free(list);
        return sc_fail("out of host memory");
    }
    if (sc_device_choose(list, n, selector, &chosen, ctx->warning, sizeof ctx->warning) != SC_OK) {
        free(list);
        free(ctx);
        return SC_ERR;
    }
    ctx->dev = list[chosen];
    free(list);

    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->dev.platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->dev.device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        free(ctx);
        return sc_cl_fail(err, "clCreateContext", __FILE__, __LINE__);
    }
    cl_command_queue_properties qp = (flags & SC_CTX_PROFILE) ? CL_QUEUE_PROFILING_ENABLE : 0;
    /* clCreateCommandQueue is deprecated in 2.0 but is the only call a 1.2 driver has. */
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->dev.device, qp, &err);
    if (err != CL_SUCCESS) {
        clReleaseContext(ctx->context);
        free(ctx);
        return sc_cl_fail(err, "clCreateCommandQueue", __FILE__, __LINE__);
    }
    if ((flags & SC_CTX_PROFILE) && sc_profile_new(&ctx->profile) != SC_OK) {
        sc_ctx_destroy(ctx);
        return SC_ERR;
    }
    *out = ctx;
    return SC_OK;
}

void sc_ctx_destroy(sc_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->queue) {
        clFinish(ctx->queue);
        clReleaseCommandQueue(ctx->queue);
    }
    sc_program_cache_free(ctx->programs);
    sc_profile_free(ctx->profile);
    if (ctx->gemm_part)
        clReleaseMemObject(ctx->gemm_part);
    if (ctx->context)
        clReleaseContext(ctx->context);
    free(ctx);
}

int sc_ctx_finish(sc_ctx *ctx)
{
    SC_CL(clFinish(ctx->queue));
    return SC_OK;
}
