/* Max and average pooling, forward and backward (cl/pool.cl); global average pooling
 * (k == 0) uses the per-plane reduction from bias.c. */
#include "siamcl/ops_conv.h"

#include "conv_common.h"

int sc_pool2d_out_size(const sc_pool2d_desc *d, int in)
{
    if (!d || in <= 0)
        return 0;
    if (d->k == 0)
        return 1;
    if (d->k < 0 || d->stride <= 0 || d->pad < 0 || d->pad >= d->k || in + 2 * d->pad < d->k)
        return 0;
    return (in + 2 * d->pad - d->k) / d->stride + 1;
}

/* x (or dx) [N, C, H, W] and y (or dy) [N, C, OH, OW]: validates both against d. */
static int check_pool(const sc_pool2d_desc *d, const sc_tensor *big, const sc_tensor *small,
                      const char *op, const char *big_name, const char *small_name,
                      int allow_global)
{
    if (!d || d->k < 0 || (d->k == 0 && !allow_global) ||
        (d->k > 0 && (d->stride <= 0 || d->pad < 0 || d->pad >= d->k)))
        return sc_fail("%s: bad descriptor k=%d stride=%d pad=%d (need k > 0, stride > 0, "
                       "0 <= pad < k%s)",
                       op, d ? d->k : 0, d ? d->stride : 0, d ? d->pad : 0,
                       allow_global ? "; k = 0 for global pooling" : "");
    if (!big || !big->buf || big->ndim != 4)
        return sc_fail("%s: %s must be a 4-D NCHW tensor", op, big_name);
    int oh = sc_pool2d_out_size(d, big->shape[2]), ow = sc_pool2d_out_size(d, big->shape[3]);
    if (oh <= 0 || ow <= 0)
        return sc_fail("%s: a %dx%d window with pad %d does not fit a %dx%d input", op, d->k,
                       d->k, d->pad, big->shape[2], big->shape[3]);
    SC_TRY(sc_fits_int(big, op, big_name));
    return sc_expect_4d(small, op, small_name, big->shape[0], big->shape[1], oh, ow);
}

/* Windows that tile the image (the usual 2x2 / stride 2) have faster kernels; the general
 * ones stay for overlapping or padded windows. The tests cover both through their shapes. */
static int tiled_windows(const sc_pool2d_desc *d)
{
    return d->stride == d->k && d->pad == 0;
}

int sc_maxpool_forward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *x,
                       sc_tensor *y, sc_tensor *idx)
{
    const char *op = "max-pool forward";
    SC_TRY(check_pool(d, x, y, op, "x", "y", 0));
    if (idx)
        SC_TRY(sc_expect_count(idx, op, "argmax buffer", y->n));
    int nc = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
    int oh = y->shape[2], ow = y->shape[3];
    int x_off = (int)x->off, y_off = (int)y->off;
    int has_idx = idx != NULL, i_off = idx ? (int)idx->off : 0;
    cl_mem ibuf = idx ? idx->buf : y->buf; /* any valid buffer when unused */
    int rows = tiled_windows(d) && sc_rows_layout(ctx);
    cl_kernel k = sc_kernel(ctx, "pool", NULL,
                            rows               ? "maxpool_forward_tiled_rows"
                            : tiled_windows(d) ? "maxpool_forward_tiled"
                                               : "maxpool_forward");
    if (!k)
        return SC_ERR;
    SC_TRY(sc_kernel_args(k, 15, SC_ARG(x->buf), SC_ARG(x_off), SC_ARG(y->buf), SC_ARG(y_off),
                          SC_ARG(ibuf), SC_ARG(i_off), SC_ARG(has_idx), SC_ARG(nc), SC_ARG(h),
                          SC_ARG(w), SC_ARG(d->k), SC_ARG(d->stride), SC_ARG(d->pad),
                          SC_ARG(oh), SC_ARG(ow)));
    return sc_launch_1d(ctx, k, rows ? (size_t)nc * oh : y->n, "pool.max");
}

int sc_maxpool_backward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *idx,
                        const sc_tensor *dy, sc_tensor *dx)
{
    const char *op = "max-pool backward";
    SC_TRY(check_pool(d, dx, dy, op, "dx", "dy", 0));
    SC_TRY(sc_expect_count(idx, op, "argmax buffer", dy->n));
    int nc = dx->shape[0] * dx->shape[1], h = dx->shape[2], w = dx->shape[3];
    int oh = dy->shape[2], ow = dy->shape[3];
    int i_off = (int)idx->off, dy_off = (int)dy->off, dx_off = (int)dx->off;
    int rows = tiled_windows(d) && sc_rows_layout(ctx);
    cl_kernel k = sc_kernel(ctx, "pool", NULL,
                            rows               ? "maxpool_backward_tiled_rows"
                            : tiled_windows(d) ? "maxpool_backward_tiled"
                                               : "maxpool_backward");
    if (!k)
        return SC_ERR;
    SC_TRY(sc_kernel_args(k, 14, SC_ARG(idx->buf), SC_ARG(i_off), SC_ARG(dy->buf),
                          SC_ARG(dy_off), SC_ARG(dx->buf), SC_ARG(dx_off), SC_ARG(nc), SC_ARG(h),
                          SC_ARG(w), SC_ARG(d->k), SC_ARG(d->stride), SC_ARG(d->pad),
                          SC_ARG(oh), SC_ARG(ow)));
    return sc_launch_1d(ctx, k, rows ? (size_t)nc * h : dx->n, "pool.max_grad");
}

int sc_avgpool_forward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *x,
                       sc_tensor *y)
{
    const char *op = "average-pool forward";
    SC_TRY(check_pool(d, x, y, op, "x", "y", 1));
    int nc = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
    if (d->k == 0)
        return sc_plane_sum(ctx, x->buf, (int)x->off, y->buf, (int)y->off, nc, 1, 0, h * w,
                            1.0f / (float)(h * w), "pool.avg");
    cl_kernel k = sc_kernel(ctx, "pool", NULL, "avgpool_forward");
    if (!k)
        return SC_ERR;
    int oh = y->shape[2], ow = y->shape[3];
    int x_off = (int)x->off, y_off = (int)y->off;
    SC_TRY(sc_kernel_args(k, 12, SC_ARG(x->buf), SC_ARG(x_off), SC_ARG(y->buf), SC_ARG(y_off),
                          SC_ARG(nc), SC_ARG(h), SC_ARG(w), SC_ARG(d->k), SC_ARG(d->stride),
                          SC_ARG(d->pad), SC_ARG(oh), SC_ARG(ow)));
    return sc_launch_1d(ctx, k, y->n, "pool.avg");
}

int sc_avgpool_backward(sc_ctx *ctx, const sc_pool2d_desc *d, const sc_tensor *dy,
                        sc_tensor *dx)
{
    const char *op = "average-pool backward";
    SC_TRY(check_pool(d, dx, dy, op, "dx", "dy", 1));
    int nc = dx->shape[0] * dx->shape[1], h = dx->shape[2], w = dx->shape[3];
    int dy_off = (int)dy->off, dx_off = (int)dx->off;
    cl_kernel k;
    if (d->k == 0) {
        k = sc_kernel(ctx, "pool", NULL, "global_avgpool_backward");
        if (!k)
            return SC_ERR;
        int total = (int)dx->n, plane = h * w;
        SC_TRY(sc_kernel_args(k, 6, SC_ARG(dy->buf), SC_ARG(dy_off), SC_ARG(dx->buf),
                              SC_ARG(dx_off), SC_ARG(total), SC_ARG(plane)));
        return sc_launch_1d(ctx, k, dx->n, "pool.avg_grad");
    }
    k = sc_kernel(ctx, "pool", NULL, "avgpool_backward");
    if (!k)
        return SC_ERR;
    int oh = dy->shape[2], ow = dy->shape[3];
    SC_TRY(sc_kernel_args(k, 12, SC_ARG(dy->buf), SC_ARG(dy_off), SC_ARG(dx->buf),
                          SC_ARG(dx_off), SC_ARG(nc), SC_ARG(h), SC_ARG(w), SC_ARG(d->k),
                          SC_ARG(d->stride), SC_ARG(d->pad), SC_ARG(oh), SC_ARG(ow)));
    return sc_launch_1d(ctx, k, dx->n, "pool.avg_grad");
}
