/* Row-wise L2 normalisation of embeddings (cl/l2norm.cl). */
#include <limits.h>

#include "siamcl/ops_dense.h"

typedef struct rows {
    int n, d;
} rows;

static int row_dims(const char *op, const sc_tensor *x, rows *r, float eps)
{
    if (!x || !x->buf)
        return sc_fail("%s: x is required", op);
    if (x->ndim < 1 || x->shape[0] < 0)
        return sc_fail("%s: x needs a leading (row) dimension", op);
    if (!(eps > 0.0f))
        return sc_fail("%s: eps = %g must be positive", op, (double)eps);
    size_t d = x->ndim > 1 ? sc_shape_count(x->ndim - 1, x->shape + 1) : 1;
    if (x->off + x->n > (size_t)INT_MAX)
        return sc_fail("%s: x too large for int indexing", op);
    r->n = x->shape[0];
    r->d = (int)d;
    return SC_OK;
}

static int same_size(const char *op, const char *what, const sc_tensor *t, const sc_tensor *x)
{
    if (!t || !t->buf)
        return sc_fail("%s: %s is required", op, what);
    if (t->n != x->n)
        return sc_fail("%s: %s has %zu elements, x has %zu", op, what, t->n, x->n);
    if (t->off + t->n > (size_t)INT_MAX)
        return sc_fail("%s: %s too large for int indexing", op, what);
    return SC_OK;
}

/* One group per row; as many items as the row has elements, rounded up to a power of two
 * (the tree needs one) and capped by the device. */
static size_t row_group(sc_ctx *ctx, cl_kernel k, int d)
{
    size_t max = sc_kernel_wg(ctx, k, 256), wg = 1;
    while (wg * 2 <= max && wg < (size_t)d)
        wg *= 2;
    return wg;
}

int sc_l2norm_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y, float eps)
{
    const char *op = "sc_l2norm_forward";
    rows r;
    SC_TRY(row_dims(op, x, &r, eps));
    SC_TRY(same_size(op, "y", y, x));
    if (r.n == 0 || r.d == 0)
        return SC_OK;
    cl_kernel k = sc_kernel(ctx, "l2norm", NULL, "l2norm_forward");
    if (!k)
        return SC_ERR;
    size_t wg = row_group(ctx, k, r.d), global = wg * (size_t)r.n;
    int xoff = (int)x->off, yoff = (int)y->off;
    SC_TRY(sc_kernel_args(k, 7, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(y->buf), SC_ARG(yoff),
                          SC_ARG(r.d), SC_ARG(eps), SC_LOCAL(wg * 2 * sizeof(float))));
    return sc_launch(ctx, k, 1, &global, &wg, "l2norm.forward");
}

int sc_l2norm_backward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *dy, sc_tensor *dx,
                       float eps)
{
    const char *op = "sc_l2norm_backward";
    rows r;
    SC_TRY(row_dims(op, x, &r, eps));
    SC_TRY(same_size(op, "dy", dy, x));
    SC_TRY(same_size(op, "dx", dx, x));
    if (r.n == 0 || r.d == 0)
        return SC_OK;
    cl_kernel k = sc_kernel(ctx, "l2norm", NULL, "l2norm_backward");
    if (!k)
        return SC_ERR;
    size_t wg = row_group(ctx, k, r.d), global = wg * (size_t)r.n;
    int xoff = (int)x->off, dyoff = (int)dy->off, dxoff = (int)dx->off;
    SC_TRY(sc_kernel_args(k, 9, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(dy->buf), SC_ARG(dyoff),
                          SC_ARG(dx->buf), SC_ARG(dxoff), SC_ARG(r.d), SC_ARG(eps),
                          SC_LOCAL(wg * 2 * sizeof(float))));
    return sc_launch(ctx, k, 1, &global, &wg, "l2norm.backward");
}
