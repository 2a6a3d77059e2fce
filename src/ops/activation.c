/* ReLU and leaky ReLU (slope 0 is ReLU): elementwise kernels in cl/activation.cl. */
#include "siamcl/ops_conv.h"

#include "conv_common.h"

static int same_count(const sc_tensor *a, const sc_tensor *b, const char *op, const char *an,
                      const char *bn)
{
    if (!a || !a->buf || !b || !b->buf)
        return sc_fail("%s: %s or %s is missing", op, an, bn);
    if (a->n != b->n)
        return sc_fail("%s: %s has %zu elements but %s has %zu", op, an, a->n, bn, b->n);
    SC_TRY(sc_fits_int(a, op, an));
    return sc_fits_int(b, op, bn);
}

static int check_slope(float slope, const char *op)
{
    /* A negative slope flips the sign of y, and the backward could no longer use it. */
    if (!(slope >= 0.0f))
        return sc_fail("%s: slope must be >= 0, got %g", op, (double)slope);
    return SC_OK;
}

int sc_leaky_relu_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y, float slope)
{
    const char *op = "leaky ReLU forward";
    SC_TRY(check_slope(slope, op));
    SC_TRY(same_count(x, y, op, "x", "y"));
    int x16 = sc_rows_layout(ctx);
    cl_kernel k = sc_kernel(ctx, "activation", NULL,
                            x16 ? "leaky_relu_forward_x16" : "leaky_relu_forward");
    if (!k)
        return SC_ERR;
    int x_off = (int)x->off, y_off = (int)y->off, n = (int)x->n;
    SC_TRY(sc_kernel_args(k, 6, SC_ARG(x->buf), SC_ARG(x_off), SC_ARG(y->buf), SC_ARG(y_off),
                          SC_ARG(n), SC_ARG(slope)));
    return sc_launch_1d(ctx, k, x16 ? (x->n + 15) / 16 : x->n, "activation.relu");
}

int sc_leaky_relu_backward(sc_ctx *ctx, const sc_tensor *ref, const sc_tensor *dy,
                           sc_tensor *dx, float slope)
{
    const char *op = "leaky ReLU backward";
    SC_TRY(check_slope(slope, op));
    SC_TRY(same_count(ref, dy, op, "ref", "dy"));
    SC_TRY(same_count(dy, dx, op, "dy", "dx"));
    int x16 = sc_rows_layout(ctx);
    cl_kernel k = sc_kernel(ctx, "activation", NULL,
                            x16 ? "leaky_relu_backward_x16" : "leaky_relu_backward");
    if (!k)
        return SC_ERR;
    int r_off = (int)ref->off, dy_off = (int)dy->off, dx_off = (int)dx->off, n = (int)dy->n;
    SC_TRY(sc_kernel_args(k, 8, SC_ARG(ref->buf), SC_ARG(r_off), SC_ARG(dy->buf),
                          SC_ARG(dy_off), SC_ARG(dx->buf), SC_ARG(dx_off), SC_ARG(n),
                          SC_ARG(slope)));
    return sc_launch_1d(ctx, k, x16 ? (dy->n + 15) / 16 : dy->n, "activation.relu_grad");
}

int sc_relu_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y)
{
    return sc_leaky_relu_forward(ctx, x, y, 0.0f);
}

int sc_relu_backward(sc_ctx *ctx, const sc_tensor *ref, const sc_tensor *dy, sc_tensor *dx)
{
    return sc_leaky_relu_backward(ctx, ref, dy, dx, 0.0f);
}
