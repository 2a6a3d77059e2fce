/* Batch normalisation, train and eval (cl/batchnorm.cl). Per-channel reductions use one
 * work-group per channel: C groups are enough to fill a CPU device; a GPU with few channels
 * and large N*H*W would want a split reduction (two stages, Chan's merge) — later, measured. */
#include <limits.h>

#include "siamcl/ops_dense.h"

#include "conv_common.h"

typedef struct bn_dims {
    int n, c, s; /* x viewed as [N, C, S] */
} bn_dims;

static int bn_check_dims(const char *op, const sc_tensor *x, bn_dims *d)
{
    if (!x || !x->buf)
        return sc_fail("%s: x is required", op);
    if (x->ndim < 2 || x->shape[0] <= 0 || x->shape[1] <= 0)
        return sc_fail("%s: x must be [N, C] or [N, C, H, W] with N, C > 0 (got %d-D)", op,
                       x->ndim);
    size_t s = sc_shape_count(x->ndim - 2, x->shape + 2);
    if (s == 0)
        return sc_fail("%s: x has an empty spatial dimension", op);
    if (x->off + x->n > (size_t)INT_MAX)
        return sc_fail("%s: x too large for int indexing (%zu elements)", op, x->n);
    d->n = x->shape[0];
    d->c = x->shape[1];
    d->s = (int)s;
    return SC_OK;
}

/* t must exist and hold `want` elements (at least, when at_least). */
static int bn_check(const char *op, const char *what, const sc_tensor *t, size_t want,
                    int at_least)
{
    if (!t || !t->buf)
        return sc_fail("%s: %s is required", op, what);
    if (at_least ? t->n < want : t->n != want)
        return sc_fail("%s: %s has %zu elements, want %s%zu", op, what, t->n,
                       at_least ? "at least " : "", want);
    if (t->off + t->n > (size_t)INT_MAX)
        return sc_fail("%s: %s too large for int indexing", op, what);
    return SC_OK;
}

/* Power-of-two group for a per-channel reduction over m elements. */
static size_t channel_group(sc_ctx *ctx, cl_kernel k, int m)
{
    size_t max = sc_kernel_wg(ctx, k, 256), wg = 1;
    while (wg * 2 <= max && wg < (size_t)m)
        wg *= 2;
    return wg;
}


int sc_batchnorm_forward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *gamma,
                         const sc_tensor *beta, sc_tensor *running_mean, sc_tensor *running_var,
                         float eps, float momentum, int train, sc_tensor *saved, sc_tensor *y)
{
    return sc_batchnorm_act_forward(ctx, x, gamma, beta, running_mean, running_var, eps,
                                    momentum, train, saved, 0, 0.0f, y);
}

int sc_batchnorm_act_forward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *gamma,
                             const sc_tensor *beta, sc_tensor *running_mean,
                             sc_tensor *running_var, float eps, float momentum, int train,
                             sc_tensor *saved, int act, float slope, sc_tensor *y)
{
    const char *op = "sc_batchnorm_forward";
    bn_dims d;
    SC_TRY(bn_check_dims(op, x, &d));
    size_t c = (size_t)d.c;
    SC_TRY(bn_check(op, "gamma", gamma, c, 0));
    SC_TRY(bn_check(op, "beta", beta, c, 0));
    SC_TRY(bn_check(op, "saved", saved, 2 * c, 1));
    SC_TRY(bn_check(op, "y", y, x->n, 0));
    if (!(eps > 0.0f))
        return sc_fail("%s: eps = %g must be positive", op, (double)eps);
    /* Running statistics: read in eval mode, updated in train mode when given. */
    int update = running_mean || running_var;
    if (!train || update) {
        SC_TRY(bn_check(op, "running_mean", running_mean, c, 0));
        SC_TRY(bn_check(op, "running_var", running_var, c, 0));
    }
    int soff = (int)saved->off, xoff = (int)x->off, yoff = (int)y->off;
    int rows_cpu = sc_rows_layout(ctx); /* CPU kernels: one item per channel or row */
    int rmoff = update || !train ? (int)running_mean->off : 0;
    int rvoff = update || !train ? (int)running_var->off : 0;

    if (train) {
        if ((long)d.n * d.s < 2)
            return sc_fail("%s: train mode needs more than one value per channel (x is [%d, "
                           "%d, ...] with %d per sample)",
                           op, d.n, d.c, d.s);
        if (update && !(momentum >= 0.0f && momentum <= 1.0f))
            return sc_fail("%s: momentum = %g is not in [0, 1]", op, (double)momentum);
        cl_kernel k = sc_kernel(ctx, "batchnorm", NULL, rows_cpu ? "bn_stats_rows" : "bn_stats");
        if (!k)
            return SC_ERR;
        size_t wg = rows_cpu ? 1 : channel_group(ctx, k, d.n * d.s), global = wg * c;
        /* Without running statistics the kernel never touches them: pass saved as a
         * harmless stand-in buffer. */
        cl_mem rm = update ? running_mean->buf : saved->buf;
        cl_mem rv = update ? running_var->buf : saved->buf;
        SC_TRY(sc_kernel_args(k, 15, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(d.n), SC_ARG(d.c),
                              SC_ARG(d.s), SC_ARG(saved->buf), SC_ARG(soff), SC_ARG(rm),
                              SC_ARG(rmoff), SC_ARG(rv), SC_ARG(rvoff), SC_ARG(eps),
                              SC_ARG(momentum), SC_ARG(update), SC_LOCAL(wg * sizeof(float))));
        SC_TRY(sc_launch(ctx, k, 1, &global, &wg, "batchnorm.stats"));
    } else {
        cl_kernel k = sc_kernel(ctx, "batchnorm", NULL, "bn_eval_stats");
        if (!k)
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 8, SC_ARG(running_mean->buf), SC_ARG(rmoff),
                              SC_ARG(running_var->buf), SC_ARG(rvoff), SC_ARG(saved->buf),
                              SC_ARG(soff), SC_ARG(d.c), SC_ARG(eps)));
        SC_TRY(sc_launch_1d(ctx, k, c, "batchnorm.stats"));
    }

    cl_kernel k = sc_kernel(ctx, "batchnorm", NULL, rows_cpu ? "bn_apply_rows" : "bn_apply");
    if (!k)
        return SC_ERR;
    int goff = (int)gamma->off, boff = (int)beta->off, rows = d.n * d.c;
    SC_TRY(sc_kernel_args(k, 15, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(y->buf), SC_ARG(yoff),
                          SC_ARG(saved->buf), SC_ARG(soff), SC_ARG(gamma->buf), SC_ARG(goff),
                          SC_ARG(beta->buf), SC_ARG(boff), SC_ARG(d.c), SC_ARG(d.s),
                          SC_ARG(rows), SC_ARG(act), SC_ARG(slope)));
    if (rows_cpu)
        return sc_launch_1d(ctx, k, (size_t)rows, "batchnorm.apply");
    return sc_launch_2d(ctx, k, d.s, rows, "batchnorm.apply");
}

int sc_batchnorm_backward(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *gamma,
                          const sc_tensor *saved, const sc_tensor *dy, int train, sc_tensor *dx,
                          sc_tensor *dgamma, sc_tensor *dbeta)
{
    const char *op = "sc_batchnorm_backward";
    bn_dims d;
    SC_TRY(bn_check_dims(op, x, &d));
    size_t c = (size_t)d.c;
    SC_TRY(bn_check(op, "saved", saved, 2 * c, 1));
    SC_TRY(bn_check(op, "dy", dy, x->n, 0));
    if (!dgamma && !dbeta && !dx)
        return SC_OK;
    /* dx is built from the per-channel sums, which live in dgamma and dbeta. */
    if (!dgamma || !dbeta)
        return sc_fail("%s: dgamma and dbeta are required (dx is computed from them)", op);
    SC_TRY(bn_check(op, "dgamma", dgamma, c, 0));
    SC_TRY(bn_check(op, "dbeta", dbeta, c, 0));
    int xoff = (int)x->off, dyoff = (int)dy->off, soff = (int)saved->off;
    int dgoff = (int)dgamma->off, dboff = (int)dbeta->off;

    int rows_cpu = sc_rows_layout(ctx);
    cl_kernel k = sc_kernel(ctx, "batchnorm", NULL,
                            rows_cpu ? "bn_grad_sums_rows" : "bn_grad_sums");
    if (!k)
        return SC_ERR;
    size_t wg = rows_cpu ? 1 : channel_group(ctx, k, d.n * d.s), global = wg * c;
    SC_TRY(sc_kernel_args(k, 14, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(dy->buf), SC_ARG(dyoff),
                          SC_ARG(saved->buf), SC_ARG(soff), SC_ARG(d.n), SC_ARG(d.c),
                          SC_ARG(d.s), SC_ARG(dgamma->buf), SC_ARG(dgoff), SC_ARG(dbeta->buf),
                          SC_ARG(dboff), SC_LOCAL(wg * sizeof(float))));
    SC_TRY(sc_launch(ctx, k, 1, &global, &wg, "batchnorm.grad_sums"));
    if (!dx)
        return SC_OK;

    SC_TRY(bn_check(op, "gamma", gamma, c, 0));
    SC_TRY(bn_check(op, "dx", dx, x->n, 0));
    k = sc_kernel(ctx, "batchnorm", NULL, rows_cpu ? "bn_grad_input_rows" : "bn_grad_input");
    if (!k)
        return SC_ERR;
    int goff = (int)gamma->off, dxoff = (int)dx->off, rows = d.n * d.c;
    float inv_m = 1.0f / (float)((long)d.n * d.s);
    SC_TRY(sc_kernel_args(k, 19, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(dy->buf), SC_ARG(dyoff),
                          SC_ARG(saved->buf), SC_ARG(soff), SC_ARG(gamma->buf), SC_ARG(goff),
                          SC_ARG(dgamma->buf), SC_ARG(dgoff), SC_ARG(dbeta->buf), SC_ARG(dboff),
                          SC_ARG(dx->buf), SC_ARG(dxoff), SC_ARG(d.c), SC_ARG(d.s),
                          SC_ARG(rows), SC_ARG(inv_m), SC_ARG(train)));
    if (rows_cpu)
        return sc_launch_1d(ctx, k, (size_t)rows, "batchnorm.grad_input");
    return sc_launch_2d(ctx, k, d.s, rows, "batchnorm.grad_input");
}
