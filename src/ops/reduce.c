/* Vector sums and column sums on the device (cl/reduce.cl), for losses, bias gradients and
 * anything else that needs a total without a trip to the host. */
#include <limits.h>

#include "siamcl/ops_dense.h"

/* Work-group sizes for the tree reductions must be powers of two. */
static size_t pow2_floor(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

/* Kernels index with int: the tensor's last element must be addressable. */
static int check_int_range(const char *op, const char *what, const sc_tensor *t)
{
    if (!t || !t->buf)
        return sc_fail("%s: %s is missing (NULL tensor or buffer)", op, what);
    if (t->off + t->n > (size_t)INT_MAX)
        return sc_fail("%s: %s too large for int indexing (offset %zu + %zu elements)", op,
                       what, t->off, t->n);
    return SC_OK;
}

/* One launch of reduce_sum: `groups` work-groups over x[xoff, xoff + n) into
 * out[ooff, ooff + groups). */
static int launch_sum(sc_ctx *ctx, cl_kernel k, size_t wg, size_t groups, cl_mem x, int xoff,
                      int n, cl_mem out, int ooff, float scale)
{
    SC_TRY(sc_kernel_args(k, 7, SC_ARG(x), SC_ARG(xoff), SC_ARG(n), SC_ARG(out), SC_ARG(ooff),
                          SC_ARG(scale), SC_LOCAL(wg * sizeof(float))));
    size_t global = wg * groups;
    return sc_launch(ctx, k, 1, &global, &wg, "reduce.sum");
}

int sc_reduce_sum(sc_ctx *ctx, const sc_tensor *x, sc_tensor *out, sc_tensor *ws, float scale)
{
    SC_TRY(check_int_range("sc_reduce_sum", "x", x));
    SC_TRY(check_int_range("sc_reduce_sum", "out", out));
    if (out->n < 1)
        return sc_fail("sc_reduce_sum: out has no element to write the sum to");
    cl_kernel k = sc_kernel(ctx, "reduce", NULL, "reduce_sum");
    if (!k)
        return SC_ERR;
    size_t wg = pow2_floor(sc_kernel_wg(ctx, k, 256));
    int n = (int)x->n, xoff = (int)x->off, ooff = (int)out->off;

    /* About 8 elements per work-item before the tree; at most SC_REDUCE_WS partials. */
    size_t groups = 1;
    if (x->n > 4096) {
        groups = (x->n + wg * 8 - 1) / (wg * 8);
        if (groups > SC_REDUCE_WS)
            groups = SC_REDUCE_WS;
    }
    if (groups == 1)
        return launch_sum(ctx, k, wg, 1, x->buf, xoff, n, out->buf, ooff, scale);

    SC_TRY(check_int_range("sc_reduce_sum", "ws (workspace)", ws));
    if (ws->n < groups)
        return sc_fail("sc_reduce_sum: workspace holds %zu floats, %zu needed for %d elements "
                       "(allocate SC_REDUCE_WS = %d)",
                       ws->n, groups, n, SC_REDUCE_WS);
    int woff = (int)ws->off;
    SC_TRY(launch_sum(ctx, k, wg, groups, x->buf, xoff, n, ws->buf, woff, 1.0f));
    return launch_sum(ctx, k, wg, 1, ws->buf, woff, (int)groups, out->buf, ooff, scale);
}

int sc_colsum(sc_ctx *ctx, const sc_tensor *x, sc_tensor *out, float scale, int accumulate)
{
    SC_TRY(check_int_range("sc_colsum", "x", x));
    SC_TRY(check_int_range("sc_colsum", "out", out));
    if (x->ndim < 1)
        return sc_fail("sc_colsum: x has no dimensions");
    int rows = x->shape[0];
    size_t cols_z = sc_shape_count(x->ndim - 1, x->shape + 1);
    if (out->n != cols_z)
        return sc_fail("sc_colsum: x is [%d, %zu] but out has %zu elements (want %zu)", rows,
                       cols_z, out->n, cols_z);
    if (cols_z == 0)
        return SC_OK;
    cl_kernel k = sc_kernel(ctx, "reduce", NULL, "colsum");
    if (!k)
        return SC_ERR;
    size_t wg = pow2_floor(sc_kernel_wg(ctx, k, 256));
    /* Up to 16 columns per group; the rest of the group splits the rows. */
    size_t lx = 1;
    while (lx < 16 && lx < cols_z)
        lx *= 2;
    if (lx > wg)
        lx = wg;
    size_t local[2] = {lx, wg / lx};
    size_t global[2] = {sc_round_up(cols_z, lx), local[1]};
    int cols = (int)cols_z, xoff = (int)x->off, ooff = (int)out->off;
    SC_TRY(sc_kernel_args(k, 9, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(rows), SC_ARG(cols),
                          SC_ARG(out->buf), SC_ARG(ooff), SC_ARG(scale), SC_ARG(accumulate),
                          SC_LOCAL(wg * sizeof(float))));
    return sc_launch(ctx, k, 2, global, local, "reduce.colsum");
}
