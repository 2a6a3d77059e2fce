/* Triplet loss with online mining (cl/triplet.cl) and the triplet head that chains the
 * distance matrix, the loss and the gradient back to the embeddings.
 *
 * Loss workspace layout (floats from ws->off):
 *   [0, 4)            stats: loss, active fraction, active count, valid count
 *   [4, 4 + 3 N^2)    one record (loss sum, active, valid) per item: (a, p) or anchor
 *   [.., + N^2)       mined indices (semi-hard: per (a, p); batch-hard: 2 per anchor)
 * The head appends dL/ddist [N, N] and the distance matrix's own workspace. */
#include <limits.h>
#include <string.h>

#include "siamcl/ops_loss.h"

static const char *const mining_names[] = {"batch_all", "batch_hard", "semi_hard"};

const char *sc_triplet_mining_name(sc_triplet_mining m)
{
    return (unsigned)m < 3 ? mining_names[m] : "unknown";
}

int sc_triplet_mining_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, mining_names[i]) == 0)
            return i;
    return -1;
}

size_t sc_triplet_loss_workspace(int n)
{
    return n > 0 ? 4 + 4 * (size_t)n * (size_t)n : 0;
}

size_t sc_triplet_workspace(int n)
{
    if (n <= 0)
        return 0;
    return sc_triplet_loss_workspace(n) + (size_t)n * n + sc_distance_matrix_workspace(n, n);
}

/* Validates the common arguments and returns N (the row count) in *n. */
static int check_args(const sc_tensor *dist, const sc_tensor *labels, const sc_triplet_opts *o,
                      const sc_tensor *ws, size_t need_per_n(int), int *n)
{
    if (!o || (unsigned)o->mining > SC_TRIPLET_SEMI_HARD)
        return sc_fail("triplet: unknown mining mode %d", o ? (int)o->mining : -1);
    if (!labels || !labels->buf || labels->n == 0)
        return sc_fail("triplet: the labels tensor is missing or empty");
    if (labels->n > 46340) /* N^2 must stay an int */
        return sc_fail("triplet: %zu rows is too many for one batch", labels->n);
    *n = (int)labels->n;
    if (!dist || !dist->buf || dist->n != (size_t)*n * (size_t)*n)
        return sc_fail("triplet: the distance matrix has %zu elements, need %d x %d (one row "
                       "and column per label)", dist ? dist->n : 0, *n, *n);
    size_t need = need_per_n(*n);
    if (!ws || !ws->buf || ws->n < need)
        return sc_fail("triplet: workspace of %zu floats is too small for %d rows (need %zu)",
                       ws && ws->buf ? ws->n : 0, *n, need);
    if (ws->off + ws->n > (size_t)INT_MAX || dist->off + dist->n > (size_t)INT_MAX ||
        labels->off + labels->n > (size_t)INT_MAX)
        return sc_fail("triplet: a tensor ends beyond the int range of the kernels");
    return SC_OK;
}


int sc_triplet_loss_forward(sc_ctx *ctx, const sc_tensor *dist, const sc_tensor *labels,
                            const sc_triplet_opts *o, sc_tensor *loss, sc_tensor *stats,
                            sc_tensor *ws)
{
    int n;
    SC_TRY(check_args(dist, labels, o, ws, sc_triplet_loss_workspace, &n));
    if (!loss || !loss->buf || loss->n != 1)
        return sc_fail("triplet: the loss tensor must hold exactly one float");
    if (stats && (!stats->buf || stats->n < 3))
        return sc_fail("triplet: the stats tensor needs 3 floats (fraction, active, valid)");
    int st = (int)ws->off, rec = st + 4, idx = rec + 3 * n * n;
    int dof = (int)dist->off, lo = (int)labels->off;
    float margin = o->margin;

    cl_kernel k;
    int items;
    if (o->mining == SC_TRIPLET_BATCH_HARD) {
        if (!(k = sc_kernel(ctx, "triplet", NULL, "triplet_hard_forward")))
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 10, SC_ARG(dist->buf), SC_ARG(dof), SC_ARG(labels->buf),
                              SC_ARG(lo), SC_ARG(ws->buf), SC_ARG(rec), SC_ARG(ws->buf),
                              SC_ARG(idx), SC_ARG(n), SC_ARG(margin)));
        size_t wg = sc_kernel_wg(ctx, k, 64), g = sc_round_up((size_t)n, wg);
        SC_TRY(sc_launch(ctx, k, 1, &g, &wg, "triplet.mine"));
        items = n;
    } else if (o->mining == SC_TRIPLET_SEMI_HARD) {
        if (!(k = sc_kernel(ctx, "triplet", NULL, "triplet_semi_forward")))
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 10, SC_ARG(dist->buf), SC_ARG(dof), SC_ARG(labels->buf),
                              SC_ARG(lo), SC_ARG(ws->buf), SC_ARG(rec), SC_ARG(ws->buf),
                              SC_ARG(idx), SC_ARG(n), SC_ARG(margin)));
        SC_TRY(sc_launch_2d(ctx, k, n, n, "triplet.mine"));
        items = n * n;
    } else {
        if (!(k = sc_kernel(ctx, "triplet", NULL, "triplet_all_forward")))
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 8, SC_ARG(dist->buf), SC_ARG(dof), SC_ARG(labels->buf),
                              SC_ARG(lo), SC_ARG(ws->buf), SC_ARG(rec), SC_ARG(n),
                              SC_ARG(margin)));
        SC_TRY(sc_launch_2d(ctx, k, n, n, "triplet.mine"));
        items = n * n;
    }

    cl_kernel kf = sc_kernel(ctx, "triplet", NULL, "triplet_finish");
    if (!kf)
        return SC_ERR;
    size_t wg = sc_kernel_wg(ctx, kf, 256); /* a power of two: the tree reduction needs it */
    int loff = (int)loss->off, over_active = o->mining == SC_TRIPLET_BATCH_ALL;
    SC_TRY(sc_kernel_args(kf, 11, SC_ARG(ws->buf), SC_ARG(rec), SC_ARG(ws->buf), SC_ARG(st),
                          SC_ARG(loss->buf), SC_ARG(loff), SC_ARG(items), SC_ARG(over_active),
                          SC_LOCAL(wg * sizeof(float)), SC_LOCAL(wg * sizeof(cl_uint)),
                          SC_LOCAL(wg * sizeof(cl_uint))));
    SC_TRY(sc_launch(ctx, kf, 1, &wg, &wg, "triplet.reduce"));
    if (stats) {
        int three[1] = {3};
        sc_tensor from = sc_tensor_view(ws->buf, ws->off + 1, 1, three);
        sc_tensor to = sc_tensor_view(stats->buf, stats->off, 1, three);
        SC_TRY(sc_tensor_copy(ctx, &from, &to));
    }
    return SC_OK;
}

int sc_triplet_loss_backward(sc_ctx *ctx, const sc_tensor *dist, const sc_tensor *labels,
                             const sc_triplet_opts *o, sc_tensor *ddist, sc_tensor *ws)
{
    int n;
    SC_TRY(check_args(dist, labels, o, ws, sc_triplet_loss_workspace, &n));
    if (!ddist || !ddist->buf || ddist->n != dist->n || ddist->off + ddist->n > (size_t)INT_MAX)
        return sc_fail("triplet backward: dL/ddist must match the distance matrix (%zu "
                       "elements)", dist->n);
    int st = (int)ws->off, rec = st + 4, idx = rec + 3 * n * n;
    int dof = (int)dist->off, lo = (int)labels->off, go = (int)ddist->off;
    float margin = o->margin;
    cl_kernel k;
    if (o->mining == SC_TRIPLET_BATCH_HARD) {
        if (!(k = sc_kernel(ctx, "triplet", NULL, "triplet_hard_backward")))
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 9, SC_ARG(ws->buf), SC_ARG(rec), SC_ARG(ws->buf), SC_ARG(idx),
                              SC_ARG(ws->buf), SC_ARG(st), SC_ARG(ddist->buf), SC_ARG(go),
                              SC_ARG(n)));
    } else if (o->mining == SC_TRIPLET_SEMI_HARD) {
        if (!(k = sc_kernel(ctx, "triplet", NULL, "triplet_semi_backward")))
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 11, SC_ARG(labels->buf), SC_ARG(lo), SC_ARG(ws->buf),
                              SC_ARG(rec), SC_ARG(ws->buf), SC_ARG(idx), SC_ARG(ws->buf),
                              SC_ARG(st), SC_ARG(ddist->buf), SC_ARG(go), SC_ARG(n)));
    } else {
        if (!(k = sc_kernel(ctx, "triplet", NULL, "triplet_all_backward")))
            return SC_ERR;
        SC_TRY(sc_kernel_args(k, 10, SC_ARG(dist->buf), SC_ARG(dof), SC_ARG(labels->buf),
                              SC_ARG(lo), SC_ARG(ws->buf), SC_ARG(st), SC_ARG(ddist->buf),
                              SC_ARG(go), SC_ARG(n), SC_ARG(margin)));
    }
    return sc_launch_2d(ctx, k, n, n, "triplet.backward");
}

int sc_triplet_head(sc_ctx *ctx, const sc_tensor *e, const sc_tensor *labels,
                    const sc_triplet_opts *o, sc_tensor *dist, sc_tensor *loss,
                    sc_tensor *stats, sc_tensor *de, sc_tensor *ws)
{
    if (!e || !e->buf || !labels || e->shape[0] != (int)labels->n)
        return sc_fail("triplet head: embeddings have %d rows but there are %zu labels",
                       e ? e->shape[0] : 0, labels ? labels->n : 0);
    int n = e->shape[0];
    if (!ws || !ws->buf || ws->n < sc_triplet_workspace(n))
        return sc_fail("triplet head: workspace of %zu floats is too small for %d rows (need "
                       "%zu)", ws && ws->buf ? ws->n : 0, n, sc_triplet_workspace(n));
    size_t lw = sc_triplet_loss_workspace(n), nn = (size_t)n * n;
    int one[1], sq[2] = {n, n};
    one[0] = (int)lw;
    sc_tensor lws = sc_tensor_view(ws->buf, ws->off, 1, one);
    sc_tensor ddist = sc_tensor_view(ws->buf, ws->off + lw, 2, sq);
    one[0] = (int)sc_distance_matrix_workspace(n, n);
    sc_tensor mws = sc_tensor_view(ws->buf, ws->off + lw + nn, 1, one);

    SC_TRY(sc_distance_matrix_forward(ctx, e, e, dist, o->squared, &mws));
    SC_TRY(sc_triplet_loss_forward(ctx, dist, labels, o, loss, stats, &lws));
    if (!de)
        return SC_OK;
    SC_TRY(sc_triplet_loss_backward(ctx, dist, labels, o, &ddist, &lws));
    return sc_distance_matrix_backward(ctx, e, e, dist, &ddist, de, de, o->squared, &mws);
}
