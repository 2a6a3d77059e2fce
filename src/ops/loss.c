/* Contrastive loss (cl/loss.cl; the mean through sc_reduce_sum) and the Siamese head that
 * chains distance, loss and the gradient back to the embeddings. */
#include <limits.h>

#include "siamcl/ops_dense.h"
#include "siamcl/ops_loss.h"

static int check_vec(const sc_tensor *t, const char *what, size_t n)
{
    if (!t || !t->buf)
        return sc_fail("contrastive: %s tensor is missing", what);
    if (t->n != n)
        return sc_fail("contrastive: %s has %zu elements, expected %zu", what, t->n, n);
    if (t->off + t->n > (size_t)INT_MAX)
        return sc_fail("contrastive: %s ends beyond the int range of the kernels", what);
    return SC_OK;
}

/* Shared by forward and backward: the same arguments, one work-item per pair. */
static int launch_pairs(sc_ctx *ctx, const char *name, const sc_tensor *d, const sc_tensor *y,
                        float margin, const sc_tensor *out, const char *what, const char *label)
{
    if (!d || d->n == 0 || d->n > (size_t)INT_MAX)
        return sc_fail("contrastive: the distance tensor is missing or empty");
    SC_TRY(check_vec(d, "d", d->n));
    SC_TRY(check_vec(y, "labels y", d->n));
    SC_TRY(check_vec(out, what, d->n));
    cl_kernel k = sc_kernel(ctx, "loss", NULL, name);
    if (!k)
        return SC_ERR;
    int n = (int)d->n, dof = (int)d->off, yo = (int)y->off, oo = (int)out->off;
    SC_TRY(sc_kernel_args(k, 8, SC_ARG(d->buf), SC_ARG(dof), SC_ARG(y->buf), SC_ARG(yo),
                          SC_ARG(out->buf), SC_ARG(oo), SC_ARG(n), SC_ARG(margin)));
    size_t wg = sc_kernel_wg(ctx, k, 64);
    size_t g = sc_round_up((size_t)n, wg);
    return sc_launch(ctx, k, 1, &g, &wg, label);
}

int sc_contrastive_forward(sc_ctx *ctx, const sc_tensor *d, const sc_tensor *y, float margin,
                           sc_tensor *pair, sc_tensor *loss, sc_tensor *ws)
{
    SC_TRY(launch_pairs(ctx, "contrastive_forward", d, y, margin, pair, "per-pair loss",
                        "loss.contrastive"));
    SC_TRY(check_vec(loss, "loss", 1));
    return sc_reduce_sum(ctx, pair, loss, ws, 1.0f / (float)d->n);
}

int sc_contrastive_backward(sc_ctx *ctx, const sc_tensor *d, const sc_tensor *y, float margin,
                            sc_tensor *dd)
{
    return launch_pairs(ctx, "contrastive_backward", d, y, margin, dd, "dL/dd",
                        "loss.contrastive_backward");
}

size_t sc_contrastive_workspace(int b) { return b > 0 ? 2 * (size_t)b + SC_REDUCE_WS : 0; }

int sc_contrastive_siamese(sc_ctx *ctx, const sc_tensor *e, const sc_tensor *y, float margin,
                           sc_tensor *d, sc_tensor *loss, sc_tensor *de, sc_tensor *ws)
{
    if (!d || !d->buf || d->n == 0 || d->n > (size_t)INT_MAX / 4)
        return sc_fail("contrastive head: the distance tensor is missing or empty");
    size_t b = d->n;
    if (!ws || !ws->buf || ws->n < sc_contrastive_workspace((int)b))
        return sc_fail("contrastive head: workspace of %zu floats is too small (need %zu)",
                       ws && ws->buf ? ws->n : 0, sc_contrastive_workspace((int)b));
    /* ws: dL/dd [B] | per-pair losses [B] | reduction scratch. */
    int shape[1] = {(int)b}, rshape[1] = {SC_REDUCE_WS};
    sc_tensor dd = sc_tensor_view(ws->buf, ws->off, 1, shape);
    sc_tensor pair = sc_tensor_view(ws->buf, ws->off + b, 1, shape);
    sc_tensor rws = sc_tensor_view(ws->buf, ws->off + 2 * b, 1, rshape);
    SC_TRY(sc_distance_siamese_forward(ctx, e, d, 0));
    SC_TRY(sc_contrastive_forward(ctx, d, y, margin, &pair, loss, &rws));
    if (!de)
        return SC_OK;
    SC_TRY(sc_contrastive_backward(ctx, d, y, margin, &dd));
    return sc_distance_siamese_backward(ctx, e, d, &dd, de, 0);
}
