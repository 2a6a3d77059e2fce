/* Device tensors and host copies. */
#include <stdio.h>
#include <string.h>

#include "siamcl/tensor.h"

size_t sc_shape_count(int ndim, const int *shape)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= (size_t)(shape[i] > 0 ? shape[i] : 0);
    return n;
}

static void set_shape(sc_tensor *t, int ndim, const int *shape)
{
    t->ndim = ndim;
    for (int i = 0; i < SC_MAX_DIMS; i++)
        t->shape[i] = i < ndim ? shape[i] : 1;
    t->n = sc_shape_count(ndim, shape);
}

static int check_shape(int ndim, const int *shape)
{
    if (ndim < 1 || ndim > SC_MAX_DIMS)
        return sc_fail("tensor rank %d not in 1..%d", ndim, SC_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] <= 0)
            return sc_fail("tensor dimension %d is %d (must be positive)", i, shape[i]);
    return SC_OK;
}

sc_tensor sc_tensor_view(cl_mem buf, size_t off, int ndim, const int *shape)
{
    sc_tensor t;
    memset(&t, 0, sizeof t);
    t.buf = buf;
    t.off = off;
    set_shape(&t, ndim, shape);
    return t;
}

int sc_tensor_reshape(const sc_tensor *t, sc_tensor *out, int ndim, const int *shape)
{
    SC_TRY(check_shape(ndim, shape));
    size_t n = sc_shape_count(ndim, shape);
    if (n != t->n)
        return sc_fail("cannot reshape %zu elements into %zu", t->n, n);
    *out = sc_tensor_view(t->buf, t->off, ndim, shape);
    return SC_OK;
}

int sc_buffer_alloc(sc_ctx *ctx, cl_mem *out, size_t bytes, const char *what)
{
    *out = NULL;
    if (bytes > ctx->dev.max_alloc)
        return sc_fail("%s needs %.1f MiB in one buffer but %s allows at most %.1f MiB: lower the "
                       "batch or image size", what, bytes / 1048576.0, ctx->dev.name,
                       ctx->dev.max_alloc / 1048576.0);
    cl_int err;
    *out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        return sc_fail("allocating %.1f MiB for %s on %s failed: %s (%d)%s", bytes / 1048576.0,
                       what, ctx->dev.name, sc_cl_error_name(err), (int)err,
                       err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
                               err == CL_OUT_OF_HOST_MEMORY
                           ? " (out of device memory: lower the batch or image size)"
                           : "");
    }
    return SC_OK;
}

int sc_tensor_alloc(sc_ctx *ctx, sc_tensor *t, int ndim, const int *shape)
{
    memset(t, 0, sizeof *t);
    SC_TRY(check_shape(ndim, shape));
    set_shape(t, ndim, shape);
    SC_TRY(sc_buffer_alloc(ctx, &t->buf, t->n * sizeof(float), "a tensor"));
    t->owner = 1;
    if (sc_tensor_fill(ctx, t, 0.0f) != SC_OK) {
        sc_tensor_free(t);
        return SC_ERR;
    }
    return SC_OK;
}

void sc_tensor_free(sc_tensor *t)
{
    if (t->owner && t->buf)
        clReleaseMemObject(t->buf);
    memset(t, 0, sizeof *t);
}

int sc_tensor_upload(sc_ctx *ctx, const sc_tensor *t, const float *host)
{
    if (t->n == 0)
        return SC_OK;
    SC_CL(clEnqueueWriteBuffer(ctx->queue, t->buf, CL_TRUE, t->off * sizeof(float),
                               t->n * sizeof(float), host, 0, NULL, NULL));
    return SC_OK;
}

int sc_tensor_download(sc_ctx *ctx, const sc_tensor *t, float *host)
{
    if (t->n == 0)
        return SC_OK;
    SC_CL(clEnqueueReadBuffer(ctx->queue, t->buf, CL_TRUE, t->off * sizeof(float),
                              t->n * sizeof(float), host, 0, NULL, NULL));
    return SC_OK;
}

int sc_tensor_fill(sc_ctx *ctx, const sc_tensor *t, float value)
{
    cl_kernel k = sc_kernel(ctx, "tensor", NULL, "fill");
    if (!k)
        return SC_ERR;
    int off = (int)t->off, n = (int)t->n;
    SC_TRY(sc_kernel_args(k, 4, SC_ARG(t->buf), SC_ARG(off), SC_ARG(n), SC_ARG(value)));
    size_t wg = sc_kernel_wg(ctx, k, 256);
    size_t global = sc_round_up(t->n, wg);
    return sc_launch(ctx, k, 1, &global, &wg, "tensor.fill");
}

int sc_tensor_copy(sc_ctx *ctx, const sc_tensor *src, const sc_tensor *dst)
{
    if (src->n != dst->n)
        return sc_fail("copy between tensors of %zu and %zu elements", src->n, dst->n);
    if (src->n == 0)
        return SC_OK;
    SC_CL(clEnqueueCopyBuffer(ctx->queue, src->buf, dst->buf, src->off * sizeof(float),
                              dst->off * sizeof(float), src->n * sizeof(float), 0, NULL, NULL));
    return SC_OK;
}
