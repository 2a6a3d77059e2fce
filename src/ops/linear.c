/* Fully connected layer: y = x W^T + b through sc_gemm, PyTorch's weight layout [out, in]. */
#include <limits.h>

#include "siamcl/ops_dense.h"
#include "siamcl/ops_gemm.h"

typedef struct dims {
    int n, in, out;
} dims;

/* x [N, ...] viewed as [N, in]; W [out, in]. */
static int linear_dims(const char *op, const sc_tensor *x, const sc_tensor *w, dims *d)
{
    if (!x || !x->buf || !w || !w->buf)
        return sc_fail("%s: x and w are required", op);
    if (x->ndim < 2 || w->ndim != 2)
        return sc_fail("%s: want x [N, in] (or [N, C, H, W]) and w [out, in], got %d-D x and "
                       "%d-D w",
                       op, x->ndim, w->ndim);
    size_t in = sc_shape_count(x->ndim - 1, x->shape + 1);
    if (x->shape[0] <= 0 || in == 0 || in != (size_t)w->shape[1] || w->shape[0] <= 0)
        return sc_fail("%s: x is [%d, %zu] (flattened) but w is [%d, %d]: need N > 0 and "
                       "x's row length equal to w's second dimension",
                       op, x->shape[0], in, w->shape[0], w->shape[1]);
    d->n = x->shape[0];
    d->in = w->shape[1];
    d->out = w->shape[0];
    return SC_OK;
}

static int expect_count(const char *op, const char *what, const sc_tensor *t, size_t want,
                        const char *shape)
{
    if (!t->buf || t->n != want)
        return sc_fail("%s: %s has %zu elements, want %zu (%s)", op, what, t->n, want, shape);
    return SC_OK;
}

/* y = b broadcast over the rows: the GEMM then accumulates onto it. */
static int bias_rows(sc_ctx *ctx, const sc_tensor *y, const sc_tensor *b, int rows, int cols)
{
    if (y->off + y->n > (size_t)INT_MAX || b->off + b->n > (size_t)INT_MAX)
        return sc_fail("sc_linear_forward: y or b too large for int indexing");
    cl_kernel k = sc_kernel(ctx, "linear", NULL, "linear_bias_rows");
    if (!k)
        return SC_ERR;
    int yoff = (int)y->off, boff = (int)b->off;
    SC_TRY(sc_kernel_args(k, 6, SC_ARG(y->buf), SC_ARG(yoff), SC_ARG(b->buf), SC_ARG(boff),
                          SC_ARG(rows), SC_ARG(cols)));
    size_t wg = sc_kernel_wg(ctx, k, 256);
    size_t global = sc_round_up((size_t)rows * cols, wg);
    return sc_launch(ctx, k, 1, &global, &wg, "linear.bias");
}

int sc_linear_forward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *w, const sc_tensor *b,
                      sc_tensor *y)
{
    const char *op = "sc_linear_forward";
    dims d;
    SC_TRY(linear_dims(op, x, w, &d));
    if (!y)
        return sc_fail("%s: y is required", op);
    SC_TRY(expect_count(op, "y", y, (size_t)d.n * d.out, "[N, out]"));
    float beta = 0.0f;
    if (b) {
        SC_TRY(expect_count(op, "b", b, (size_t)d.out, "[out]"));
        SC_TRY(bias_rows(ctx, y, b, d.n, d.out));
        beta = 1.0f;
    }
    /* y[N, out] = x[N, in] * W[out, in]^T (+ y). With beta = 0 CLBlast does not read y, so
     * an uninitialised (arena) y is fine. */
    return sc_gemm(ctx, 0, 1, d.n, d.out, d.in, 1.0f, x->buf, x->off, d.in, w->buf, w->off,
                   d.in, beta, y->buf, y->off, d.out, "linear.gemm");
}

int sc_linear_backward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *w, const sc_tensor *dy,
                       sc_tensor *dx, sc_tensor *dw, sc_tensor *db)
{
    const char *op = "sc_linear_backward";
    dims d;
    SC_TRY(linear_dims(op, x, w, &d));
    if (!dy)
        return sc_fail("%s: dy is required", op);
    SC_TRY(expect_count(op, "dy", dy, (size_t)d.n * d.out, "[N, out]"));
    if (dx) {
        /* dx[N, in] = dy[N, out] * W[out, in] */
        SC_TRY(expect_count(op, "dx", dx, x->n, "shaped like x"));
        SC_TRY(sc_gemm(ctx, 0, 0, d.n, d.in, d.out, 1.0f, dy->buf, dy->off, d.out, w->buf,
                       w->off, d.in, 0.0f, dx->buf, dx->off, d.in, "linear.gemm_dx"));
    }
    if (dw) {
        /* dW[out, in] = dy[N, out]^T * x[N, in] */
        SC_TRY(expect_count(op, "dw", dw, w->n, "[out, in]"));
        SC_TRY(sc_gemm(ctx, 1, 0, d.out, d.in, d.n, 1.0f, dy->buf, dy->off, d.out, x->buf,
                       x->off, d.in, 0.0f, dw->buf, dw->off, d.in, "linear.gemm_dw"));
    }
    if (db) {
        SC_TRY(expect_count(op, "db", db, (size_t)d.out, "[out]"));
        sc_tensor dy2 = sc_tensor_view(dy->buf, dy->off, 2, (int[]){d.n, d.out});
        SC_TRY(sc_colsum(ctx, &dy2, db, 1.0f, 0));
    }
    return SC_OK;
}
