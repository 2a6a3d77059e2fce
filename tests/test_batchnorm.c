/* Batch norm, both layouts ([N, C, H, W] per channel, [N, F] per feature) and both modes:
 * forward, saved statistics and running-statistics update against a double-precision
 * reference; backward against finite differences and the closed form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_conv.h" /* sc_conv2d_force_layout */
#include "siamcl/ops_dense.h"
#include "support.h"

typedef struct bn {
    int ndim, shape[4];
    int n, c, s, train;
    float eps, momentum;
    float *x, *gamma, *beta, *rmean, *rvar, *r; /* r = dL/dy for L = sum y * r */
} bn;

static size_t count(const bn *b) { return (size_t)b->n * b->c * b->s; }
static size_t at(const bn *b, int i, int ch, int j)
{
    return ((size_t)i * b->c + ch) * b->s + j;
}

/* Mean and biased variance of channel ch, in double. */
static void channel_stats(const bn *b, int ch, double *mean, double *var)
{
    double m = (double)b->n * b->s, sum = 0, sq = 0;
    for (int i = 0; i < b->n; i++)
        for (int j = 0; j < b->s; j++)
            sum += b->x[at(b, i, ch, j)];
    *mean = sum / m;
    for (int i = 0; i < b->n; i++)
        for (int j = 0; j < b->s; j++) {
            double d = b->x[at(b, i, ch, j)] - *mean;
            sq += d * d;
        }
    *var = sq / m;
}

/* y in double (optional), saved statistics as the op defines them (optional). */
static void ref_forward(const bn *b, double *y, float *saved)
{
    for (int ch = 0; ch < b->c; ch++) {
        double mean, var;
        if (b->train) {
            channel_stats(b, ch, &mean, &var);
        } else {
            mean = b->rmean[ch];
            var = b->rvar[ch];
        }
        double invstd = 1.0 / sqrt(var + b->eps);
        if (saved) {
            saved[ch] = (float)mean;
            saved[b->c + ch] = (float)invstd;
        }
        if (y)
            for (int i = 0; i < b->n; i++)
                for (int j = 0; j < b->s; j++) {
                    size_t k = at(b, i, ch, j);
                    y[k] = (b->x[k] - mean) * invstd * b->gamma[ch] + b->beta[ch];
                }
    }
}

static double loss(const float *unused, void *user)
{
    (void)unused;
    const bn *b = user;
    size_t n = count(b);
    double *y = malloc(n * sizeof *y), s = 0;
    ref_forward(b, y, NULL);
    for (size_t i = 0; i < n; i++)
        s += y[i] * b->r[i];
    free(y);
    return s;
}

static bn make(int ndim, const int *shape, int train, unsigned seed)
{
    bn b = {.ndim = ndim, .train = train, .eps = 1e-5f, .momentum = 0.1f};
    memcpy(b.shape, shape, (size_t)ndim * sizeof *shape);
    b.n = shape[0];
    b.c = shape[1];
    b.s = 1;
    for (int d = 2; d < ndim; d++)
        b.s *= shape[d];
    /* Inputs away from zero mean: a one-pass variance would lose digits here. */
    b.x = test_rand_alloc(count(&b), seed, 2.0f, 5.0f);
    b.gamma = test_rand_alloc((size_t)b.c, seed + 1, 0.5f, 1.5f);
    b.beta = test_rand_alloc((size_t)b.c, seed + 2, -0.5f, 0.5f);
    b.rmean = test_rand_alloc((size_t)b.c, seed + 3, 2.0f, 5.0f);
    b.rvar = test_rand_alloc((size_t)b.c, seed + 4, 0.5f, 2.0f);
    b.r = test_rand_alloc(count(&b), seed + 5, -1.0f, 1.0f);
    return b;
}

static void release(bn *b)
{
    free(b->x);
    free(b->gamma);
    free(b->beta);
    free(b->rmean);
    free(b->rvar);
    free(b->r);
}

/* Device tensors for one bn problem. */
typedef struct dev {
    sc_tensor x, gamma, beta, rmean, rvar, saved, y;
} dev;

static dev upload(const bn *b)
{
    dev d;
    d.x = test_tensor(b->ndim, b->shape, b->x);
    d.gamma = test_tensor(1, &b->c, b->gamma);
    d.beta = test_tensor(1, &b->c, b->beta);
    d.rmean = test_tensor(1, &b->c, b->rmean);
    d.rvar = test_tensor(1, &b->c, b->rvar);
    d.saved = test_tensor(1, (int[]){2 * b->c}, NULL);
    d.y = test_tensor(b->ndim, b->shape, NULL);
    return d;
}

static void dev_free(dev *d)
{
    sc_tensor *all[] = {&d->x, &d->gamma, &d->beta, &d->rmean, &d->rvar, &d->saved, &d->y};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

static float *to_float(const double *v, size_t n)
{
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    return f;
}

static void check_forward(int ndim, const int *shape, int train, unsigned seed)
{
    bn b = make(ndim, shape, train, seed);
    dev d = upload(&b);
    cr_assert_eq(sc_batchnorm_forward(test_ctx(), &d.x, &d.gamma, &d.beta, &d.rmean, &d.rvar,
                                      b.eps, b.momentum, train, &d.saved, &d.y),
                 SC_OK, "%s", sc_last_error());
    size_t n = count(&b);
    double *yd = malloc(n * sizeof *yd);
    float *saved = malloc(2 * (size_t)b.c * sizeof *saved);
    ref_forward(&b, yd, saved);
    float *want = to_float(yd, n), *got = test_download(&d.y);
    test_expect_close("batchnorm.forward", got, want, n);
    float *got_saved = test_download(&d.saved);
    test_expect_close("batchnorm.forward", got_saved, saved, 2 * (size_t)b.c);

    /* Running statistics: updated with momentum (unbiased variance) in train mode,
     * untouched in eval mode. */
    float *rm = test_download(&d.rmean), *rv = test_download(&d.rvar);
    float *want_rm = malloc((size_t)b.c * sizeof *want_rm);
    float *want_rv = malloc((size_t)b.c * sizeof *want_rv);
    for (int ch = 0; ch < b.c; ch++) {
        double mean, var, m = (double)b.n * b.s;
        channel_stats(&b, ch, &mean, &var);
        want_rm[ch] = train ? (float)((1 - b.momentum) * b.rmean[ch] + b.momentum * mean)
                            : b.rmean[ch];
        want_rv[ch] = train ? (float)((1 - b.momentum) * b.rvar[ch] +
                                      b.momentum * var * m / (m - 1))
                            : b.rvar[ch];
    }
    test_expect_close(train ? "batchnorm.forward" : "exact", rm, want_rm, (size_t)b.c);
    test_expect_close(train ? "batchnorm.forward" : "exact", rv, want_rv, (size_t)b.c);

    free(want_rm);
    free(want_rv);
    free(rm);
    free(rv);
    free(got_saved);
    free(saved);
    free(got);
    free(want);
    free(yd);
    dev_free(&d);
    release(&b);
}

Test(batchnorm, train_forward_nchw_7x3x5x4) { check_forward(4, (int[]){7, 3, 5, 4}, 1, 1); }
Test(batchnorm, train_forward_features_13x5) { check_forward(2, (int[]){13, 5}, 1, 2); }
Test(batchnorm, eval_forward_nchw_7x3x5x4) { check_forward(4, (int[]){7, 3, 5, 4}, 0, 3); }
Test(batchnorm, eval_forward_features_13x5) { check_forward(2, (int[]){13, 5}, 0, 4); }
/* More elements per channel than one work-group has items. */
Test(batchnorm, train_forward_nchw_16x8x9x9) { check_forward(4, (int[]){16, 8, 9, 9}, 1, 5); }
Test(batchnorm, train_forward_features_600x3) { check_forward(2, (int[]){600, 3}, 1, 6); }
/* Planes wider than one work-group. */
Test(batchnorm, train_forward_nchw_3x5x23x21) { check_forward(4, (int[]){3, 5, 23, 21}, 1, 8); }

Test(batchnorm, running_stats_converge_over_steps)
{
    /* Repeated train steps on the same batch pull the running statistics towards the batch
     * mean and unbiased variance: after k steps, 1 - (1 - momentum)^k of the way. */
    bn b = make(2, (int[]){9, 4}, 1, 7);
    b.momentum = 0.5f;
    dev d = upload(&b);
    for (int step = 0; step < 3; step++)
        cr_assert_eq(sc_batchnorm_forward(test_ctx(), &d.x, &d.gamma, &d.beta, &d.rmean,
                                          &d.rvar, b.eps, b.momentum, 1, &d.saved, &d.y),
                     SC_OK, "%s", sc_last_error());
    float *rm = test_download(&d.rmean), *rv = test_download(&d.rvar);
    float want_rm[4], want_rv[4];
    for (int ch = 0; ch < 4; ch++) {
        double mean, var;
        channel_stats(&b, ch, &mean, &var);
        want_rm[ch] = (float)(0.125 * b.rmean[ch] + 0.875 * mean);
        want_rv[ch] = (float)(0.125 * b.rvar[ch] + 0.875 * var * 9.0 / 8.0);
    }
    test_expect_close("batchnorm.forward", rm, want_rm, 4);
    test_expect_close("batchnorm.forward", rv, want_rv, 4);
    free(rm);
    free(rv);
    dev_free(&d);
    release(&b);
}

Test(batchnorm, train_without_running_stats_and_in_place)
{
    bn b = make(4, (int[]){3, 2, 3, 3}, 1, 8);
    dev d = upload(&b);
    cr_assert_eq(sc_batchnorm_forward(test_ctx(), &d.x, &d.gamma, &d.beta, NULL, NULL, b.eps,
                                      b.momentum, 1, &d.saved, &d.x),
                 SC_OK, "%s", sc_last_error());
    size_t n = count(&b);
    double *yd = malloc(n * sizeof *yd);
    ref_forward(&b, yd, NULL);
    float *want = to_float(yd, n), *got = test_download(&d.x);
    test_expect_close("batchnorm.forward", got, want, n);
    free(got);
    free(want);
    free(yd);
    dev_free(&d);
    release(&b);
}

/* Device backward (after the forward that fills saved) for L = sum y * r. */
typedef struct grads {
    float *dx, *dgamma, *dbeta;
} grads;

static grads device_backward(const bn *b)
{
    dev d = upload(b);
    sc_ctx *ctx = test_ctx();
    cr_assert_eq(sc_batchnorm_forward(ctx, &d.x, &d.gamma, &d.beta, &d.rmean, &d.rvar, b->eps,
                                      b->momentum, b->train, &d.saved, &d.y),
                 SC_OK, "%s", sc_last_error());
    sc_tensor dy = test_tensor(b->ndim, b->shape, b->r);
    sc_tensor dx = test_tensor(b->ndim, b->shape, NULL);
    sc_tensor dg = test_tensor(1, &b->c, NULL), db = test_tensor(1, &b->c, NULL);
    cr_assert_eq(sc_batchnorm_backward(ctx, &d.x, &d.gamma, &d.saved, &dy, b->train, &dx, &dg,
                                       &db),
                 SC_OK, "%s", sc_last_error());
    grads g = {test_download(&dx), test_download(&dg), test_download(&db)};
    sc_tensor_free(&dy);
    sc_tensor_free(&dx);
    sc_tensor_free(&dg);
    sc_tensor_free(&db);
    dev_free(&d);
    return g;
}

static void check_backward_fd(int ndim, const int *shape, int train, unsigned seed)
{
    bn b = make(ndim, shape, train, seed);
    grads g = device_backward(&b);
    size_t n = count(&b), c = (size_t)b.c;
    float *fd = malloc((n + 2 * c) * sizeof *fd);
    for (size_t i = 0; i < n; i++)
        fd[i] = (float)test_fd(loss, b.x, i, 1e-3f, &b);
    for (size_t i = 0; i < c; i++) {
        fd[n + i] = (float)test_fd(loss, b.gamma, i, 1e-3f, &b);
        fd[n + c + i] = (float)test_fd(loss, b.beta, i, 1e-3f, &b);
    }
    test_expect_close("fd", g.dx, fd, n);
    test_expect_close("fd", g.dgamma, fd + n, c);
    test_expect_close("fd", g.dbeta, fd + n + c, c);
    free(fd);
    free(g.dx);
    free(g.dgamma);
    free(g.dbeta);
    release(&b);
}

Test(batchnorm, train_backward_fd_nchw) { check_backward_fd(4, (int[]){4, 3, 2, 3}, 1, 11); }
Test(batchnorm, train_backward_fd_features) { check_backward_fd(2, (int[]){7, 5}, 1, 12); }
Test(batchnorm, eval_backward_fd_nchw) { check_backward_fd(4, (int[]){4, 3, 2, 3}, 0, 13); }
Test(batchnorm, eval_backward_fd_features) { check_backward_fd(2, (int[]){7, 5}, 0, 14); }

/* Against the closed form in double: dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)). */
static void check_closed_form(const int *shape, unsigned seed)
{
    bn b = make(4, shape, 1, seed);
    grads g = device_backward(&b);
    size_t n = count(&b);
    float *dx = malloc(n * sizeof *dx), *dgamma = malloc(b.c * sizeof *dgamma);
    float *dbeta = malloc(b.c * sizeof *dbeta);
    cr_assert(dx && dgamma && dbeta);
    double m = (double)b.n * b.s;
    for (int ch = 0; ch < b.c; ch++) {
        double mean, var, sdy = 0, sdyx = 0;
        channel_stats(&b, ch, &mean, &var);
        double invstd = 1.0 / sqrt(var + b.eps);
        for (int i = 0; i < b.n; i++)
            for (int j = 0; j < b.s; j++) {
                size_t k = at(&b, i, ch, j);
                sdy += b.r[k];
                sdyx += b.r[k] * (b.x[k] - mean) * invstd;
            }
        dgamma[ch] = (float)sdyx;
        dbeta[ch] = (float)sdy;
        for (int i = 0; i < b.n; i++)
            for (int j = 0; j < b.s; j++) {
                size_t k = at(&b, i, ch, j);
                double xhat = (b.x[k] - mean) * invstd;
                dx[k] = (float)(b.gamma[ch] * invstd * (b.r[k] - sdy / m - xhat * sdyx / m));
            }
    }
    test_expect_close("batchnorm.grad", g.dx, dx, n);
    test_expect_close("batchnorm.grad", g.dgamma, dgamma, (size_t)b.c);
    test_expect_close("batchnorm.grad", g.dbeta, dbeta, (size_t)b.c);
    free(dx);
    free(dgamma);
    free(dbeta);
    free(g.dx);
    free(g.dgamma);
    free(g.dbeta);
    release(&b);
}

/* More elements per channel than a work-group has items, planes narrower than the group
 * (the kernels' flat walk). */
Test(batchnorm, train_backward_closed_form_16x8x9x9)
{
    check_closed_form((int[]){16, 8, 9, 9}, 15);
}

/* Planes wider than the group (the kernels' plane-by-plane walk). */
Test(batchnorm, train_backward_closed_form_3x5x23x21)
{
    check_closed_form((int[]){3, 5, 23, 21}, 16);
}

/* The per-channel/per-row CPU kernels and the work-group GPU kernels, whatever the device:
 * planes with and without a tail past the eight-wide sums, features (S = 1). */
Test(batchnorm, both_kernel_layouts_match_the_reference)
{
    for (int rows = 0; rows <= 1; rows++) {
        sc_conv2d_force_layout(rows);
        check_forward(4, (int[]){16, 8, 9, 9}, 1, 40u + rows);
        check_forward(4, (int[]){3, 5, 23, 21}, 1, 42u + rows);
        check_forward(4, (int[]){2, 3, 8, 8}, 0, 44u + rows);
        check_forward(2, (int[]){600, 3}, 1, 46u + rows);
        check_closed_form((int[]){16, 8, 9, 9}, 48u + rows);
        check_closed_form((int[]){3, 5, 23, 21}, 50u + rows);
        check_backward_fd(4, (int[]){4, 3, 2, 3}, 1, 52u + rows);
        check_backward_fd(2, (int[]){7, 5}, 0, 54u + rows);
    }
    sc_conv2d_force_layout(-1);
}

Test(batchnorm, errors_are_reported)
{
    sc_ctx *ctx = test_ctx();
    bn b = make(2, (int[]){1, 3}, 1, 16);
    dev d = upload(&b);
    /* One value per channel: no batch statistics. */
    cr_assert_eq(sc_batchnorm_forward(ctx, &d.x, &d.gamma, &d.beta, &d.rmean, &d.rvar, b.eps,
                                      b.momentum, 1, &d.saved, &d.y),
                 SC_ERR);
    cr_assert(strstr(sc_last_error(), "more than one value"), "message: %s", sc_last_error());
    /* Eval mode needs the running statistics. */
    cr_assert_eq(sc_batchnorm_forward(ctx, &d.x, &d.gamma, &d.beta, NULL, NULL, b.eps,
                                      b.momentum, 0, &d.saved, &d.y),
                 SC_ERR);
    cr_assert(strstr(sc_last_error(), "running_mean"), "message: %s", sc_last_error());
    /* saved too small. */
    sc_tensor small = sc_tensor_view(d.saved.buf, 0, 1, (int[]){5});
    cr_assert_eq(sc_batchnorm_forward(ctx, &d.x, &d.gamma, &d.beta, &d.rmean, &d.rvar, b.eps,
                                      b.momentum, 0, &small, &d.y),
                 SC_ERR);
    cr_assert(strstr(sc_last_error(), "saved"), "message: %s", sc_last_error());
    /* dx without dgamma/dbeta. */
    cr_assert_eq(sc_batchnorm_backward(ctx, &d.x, &d.gamma, &d.saved, &d.y, 1, &d.y, NULL,
                                       NULL),
                 SC_ERR);
    cr_assert(strstr(sc_last_error(), "dgamma"), "message: %s", sc_last_error());
    dev_free(&d);
    release(&b);
}
