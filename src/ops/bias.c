/* Per-channel bias add and its gradient (a deterministic per-channel reduction). */
#include "siamcl/ops_conv.h"

#include "conv_common.h"

/* [N, C, rest...] -> n, c, plane. */
static int split_nc(const sc_tensor *t, const char *op, const char *name, int *n, int *c,
                    int *plane)
{
    if (!t || !t->buf || t->ndim < 2)
        return sc_fail("%s: %s must be [N, C, ...] (2-D or more)", op, name);
    *n = t->shape[0];
    *c = t->shape[1];
    *plane = 1;
    for (int i = 2; i < t->ndim; i++)
        *plane *= t->shape[i];
    return sc_fits_int(t, op, name);
}

int sc_bias_forward(sc_ctx *ctx, sc_tensor *y, const sc_tensor *b)
{
    const char *op = "bias forward";
    int n = 0, c = 0, plane = 1;
    SC_TRY(split_nc(y, op, "y", &n, &c, &plane));
    SC_TRY(sc_expect_count(b, op, "bias", (size_t)c));
    if (y->n == 0)
        return SC_OK;
    cl_kernel k = sc_kernel(ctx, "bias", NULL, "bias_add");
    if (!k)
        return SC_ERR;
    int y_off = (int)y->off, b_off = (int)b->off, total = (int)y->n;
    SC_TRY(sc_kernel_args(k, 7, SC_ARG(y->buf), SC_ARG(y_off), SC_ARG(b->buf), SC_ARG(b_off),
                          SC_ARG(total), SC_ARG(c), SC_ARG(plane)));
    return sc_launch_1d(ctx, k, y->n, "bias.add");
}

int sc_plane_sum(sc_ctx *ctx, cl_mem in, int in_off, cl_mem out, int out_off, int rows,
                 int outer, int outer_stride, int inner, float scale, const char *label)
{
    if (sc_rows_layout(ctx)) { /* CPU form: one work-item per output, no local memory */
        cl_kernel k = sc_kernel(ctx, "bias", NULL, "plane_sum_rows");
        if (!k)
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 10, SC_ARG(in), SC_ARG(in_off), SC_ARG(out), SC_ARG(out_off),
                              SC_ARG(rows), SC_ARG(outer), SC_ARG(outer_stride), SC_ARG(inner),
                              SC_ARG(scale), SC_LOCAL(sizeof(float))));
        return sc_launch_1d(ctx, k, (size_t)rows, label);
    }
    cl_kernel k = sc_kernel(ctx, "bias", NULL, "plane_sum");
    if (!k)
        return SC_ERR;
    /* A power of two (the tree needs it), no wider than the work per row. */
    size_t wg = sc_kernel_wg(ctx, k, 256);
    while (wg > 1 && wg / 2 >= (size_t)outer * inner)
        wg /= 2;
    SC_TRY(sc_kernel_args(k, 9, SC_ARG(in), SC_ARG(in_off), SC_ARG(out), SC_ARG(out_off),
                          SC_ARG(outer), SC_ARG(outer_stride), SC_ARG(inner), SC_ARG(scale),
                          SC_LOCAL(wg * sizeof(float))));
    size_t global = (size_t)rows * wg;
    return sc_launch(ctx, k, 1, &global, &wg, label);
}

int sc_bias_backward(sc_ctx *ctx, const sc_tensor *dy, sc_tensor *db)
{
    const char *op = "bias backward";
    int n = 0, c = 0, plane = 1;
    SC_TRY(split_nc(dy, op, "dy", &n, &c, &plane));
    SC_TRY(sc_expect_count(db, op, "db", (size_t)c));
    if (c == 0)
        return SC_OK;
    if (n == 0 || plane == 0)
        return sc_tensor_fill(ctx, db, 0.0f);
    return sc_plane_sum(ctx, dy->buf, (int)dy->off, db->buf, (int)db->off, c, n, c * plane,
                        plane, 1.0f, "bias.grad");
}
