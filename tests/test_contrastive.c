/* Contrastive loss L = mean (1-y) 1/2 d^2 + y 1/2 max(0, m-d)^2: forward against double C,
 * dL/dd against the formula and finite differences, the Siamese head (distance + loss +
 * gradient) against finite differences of the whole thing in double, and the edge cases:
 * d = 0 (both labels) and d beyond the margin. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_dense.h"
#include "siamcl/ops_loss.h"
#include "support.h"

static double ref_pair(double d, double y, double m)
{
    double h = m - d > 0 ? m - d : 0;
    return (1 - y) * 0.5 * d * d + y * 0.5 * h * h;
}

static double ref_loss(const float *d, const float *y, int b, double m)
{
    double s = 0;
    for (int i = 0; i < b; i++)
        s += ref_pair(d[i], y[i], m);
    return s / b;
}

typedef struct {
    int b, dim;
    const float *y;
    double m;
} head_fd;

/* The whole Siamese head in double: e [2B, D] -> mean contrastive loss. */
static double head_objective(const float *e, void *user)
{
    const head_fd *h = user;
    double s = 0;
    for (int i = 0; i < h->b; i++) {
        double d2 = 0;
        for (int k = 0; k < h->dim; k++) {
            double t = (double)e[i * h->dim + k] - e[(h->b + i) * h->dim + k];
            d2 += t * t;
        }
        s += ref_pair(sqrt(d2), h->y[i], h->m);
    }
    return s / h->b;
}

static double loss_of_d(const float *d, void *user)
{
    const head_fd *h = user;
    return ref_loss(d, h->y, h->b, h->m);
}

/* Labels: alternating same/different with a seed-dependent start. */
static float *labels(int b, unsigned seed)
{
    float *y = malloc(b * sizeof *y);
    for (int i = 0; i < b; i++)
        y[i] = (float)((i + (int)seed) % 2);
    return y;
}

/* The margin is put at the mean distance of the different pairs (plus `shift`), so both
 * sides of the hinge are exercised whatever the random data. */
static void check_head(int b, int dim, float shift, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    size_t n = (size_t)2 * b * dim;
    float *he = test_rand_alloc(n, seed, -0.3f, 0.3f), *hy = labels(b, seed);
    double sum_diff = 0;
    int n_diff = 0;
    for (int i = 0; i < b; i++) {
        double d2 = 0;
        for (int k = 0; k < dim; k++) {
            double t = (double)he[i * dim + k] - he[(b + i) * dim + k];
            d2 += t * t;
        }
        if (hy[i] == 1.0f) {
            sum_diff += sqrt(d2);
            n_diff++;
        }
    }
    float margin = (float)(sum_diff / n_diff) + shift;
    int eshape[2] = {2 * b, dim}, one = 1, wsn = (int)sc_contrastive_workspace(b);
    sc_tensor e = test_tensor(2, eshape, he), de = test_tensor(2, eshape, NULL);
    sc_tensor y = test_tensor(1, &b, hy), d = test_tensor(1, &b, NULL);
    sc_tensor loss = test_tensor(1, &one, NULL), ws = test_tensor(1, &wsn, NULL);
    cr_assert_eq(sc_contrastive_siamese(ctx, &e, &y, margin, &d, &loss, &de, &ws), SC_OK, "%s",
                 sc_last_error());
    float *hd = test_download(&d), *hl = test_download(&loss), *hde = test_download(&de);

    /* Distances and loss against double C. */
    float *want_d = malloc(b * sizeof *want_d);
    head_fd h = {b, dim, hy, margin};
    int inside = 0, beyond = 0;
    for (int i = 0; i < b; i++) {
        double d2 = 0;
        for (int k = 0; k < dim; k++) {
            double t = (double)he[i * dim + k] - he[(b + i) * dim + k];
            d2 += t * t;
        }
        want_d[i] = (float)sqrt(d2);
        if (hy[i] == 1.0f)
            *(want_d[i] < margin ? &inside : &beyond) += 1;
    }
    test_expect_close("distance.forward", hd, want_d, b);
    float want_l = (float)head_objective(he, &h);
    test_expect_close("loss.forward", hl, &want_l, 1);
    /* The data must exercise both sides of the margin, or the test proves less. */
    cr_assert(inside > 0 && beyond > 0, "test data: %d pairs inside, %d beyond the margin",
              inside, beyond);

    /* Gradient of the whole head against finite differences. */
    float *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++)
        want[i] = (float)test_fd(head_objective, he, i, 1e-3f, &h);
    test_expect_close("loss.fd", hde, want, n);

    free(hd);
    free(hl);
    free(hde);
    free(want_d);
    free(want);
    free(he);
    free(hy);
    sc_tensor *all[] = {&e, &de, &y, &d, &loss, &ws};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

Test(contrastive, head_7x33) { check_head(7, 33, 0.013f, 1); }
Test(contrastive, head_16x32) { check_head(16, 32, -0.007f, 2); }

/* Forward and backward on given distances, including the edge cases: d = 0 with y = 0
 * (loss 0, grad 0) and y = 1 (loss m^2/2, grad -m/B), d exactly m, d beyond m (y = 1: 0). */
Test(contrastive, edge_distances_forward_backward)
{
    sc_ctx *ctx = test_ctx();
    const float m = 1.25f;
    float hd[9] = {0.0f, 0.0f, 1.25f, 1.25f, 3.0f, 3.0f, 0.4f, 0.9f, 2.5f};
    float hy[9] = {0, 1, 0, 1, 0, 1, 1, 0, 1};
    int b = 9, one = 1;
    sc_tensor d = test_tensor(1, &b, hd), y = test_tensor(1, &b, hy);
    sc_tensor pair = test_tensor(1, &b, NULL), loss = test_tensor(1, &one, NULL);
    sc_tensor dd = test_tensor(1, &b, NULL);
    cr_assert_eq(sc_contrastive_forward(ctx, &d, &y, m, &pair, &loss, NULL), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_contrastive_backward(ctx, &d, &y, m, &dd), SC_OK, "%s", sc_last_error());
    float *gp = test_download(&pair), *gl = test_download(&loss), *gd = test_download(&dd);
    float wp[9], wd[9];
    for (int i = 0; i < b; i++) {
        wp[i] = (float)ref_pair(hd[i], hy[i], m);
        double h = m - hd[i] > 0 ? m - hd[i] : 0;
        wd[i] = (float)(((1 - hy[i]) * hd[i] - hy[i] * h) / b);
    }
    float wl = (float)ref_loss(hd, hy, b, m);
    test_expect_close("loss.forward", gp, wp, b);
    test_expect_close("loss.forward", gl, &wl, 1);
    test_expect_close("loss.grad", gd, wd, b);
    /* The cases spelled out. */
    cr_assert_eq(gp[0], 0.0f);
    cr_assert_eq(gd[0], 0.0f);
    cr_assert_float_eq(gp[1], 0.5f * m * m, 1e-6f);
    cr_assert_float_eq(gd[1], -m / b, 1e-7f);
    cr_assert_eq(gp[3], 0.0f, "d == m, different: loss %g", gp[3]);
    cr_assert_eq(gd[3], 0.0f);
    cr_assert_eq(gp[5], 0.0f, "d > m, different: loss %g", gp[5]);
    cr_assert_eq(gd[5], 0.0f);
    cr_assert_eq(gp[8], 0.0f);
    cr_assert_eq(gd[8], 0.0f);
    free(gp);
    free(gl);
    free(gd);
    sc_tensor *all[] = {&d, &y, &pair, &loss, &dd};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

/* dL/dd against finite differences of the double reference, away from the kinks. */
Test(contrastive, backward_fd_on_distances)
{
    sc_ctx *ctx = test_ctx();
    int b = 13;
    const float m = 1.0f;
    float *hd = test_rand_alloc(b, 7, 0.05f, 2.0f), *hy = labels(b, 7);
    for (int i = 0; i < b; i++)
        if (fabsf(hd[i] - m) < 0.01f) /* keep clear of the hinge */
            hd[i] += 0.05f;
    sc_tensor d = test_tensor(1, &b, hd), y = test_tensor(1, &b, hy), dd = test_tensor(1, &b, NULL);
    cr_assert_eq(sc_contrastive_backward(ctx, &d, &y, m, &dd), SC_OK, "%s", sc_last_error());
    float *got = test_download(&dd), want[13];
    head_fd h = {b, 0, hy, m};
    for (int i = 0; i < b; i++)
        want[i] = (float)test_fd(loss_of_d, hd, i, 1e-3f, &h);
    test_expect_close("loss.fd", got, want, b);
    free(got);
    free(hd);
    free(hy);
    sc_tensor_free(&d);
    sc_tensor_free(&y);
    sc_tensor_free(&dd);
}

/* Identical embeddings in a pair: d = 0 exactly; y = 0 contributes nothing, y = 1 gives
 * m^2/2 to the loss but no gradient (the zero-distance rule of the distance backward). */
Test(contrastive, head_zero_distance_pairs)
{
    sc_ctx *ctx = test_ctx();
    int b = 4, dim = 5, eshape[2] = {2 * b, dim}, one = 1, wsn = (int)sc_contrastive_workspace(b);
    const float m = 2.0f;
    float he[40];
    test_rand(he, 40, 9, -1, 1);
    memcpy(he + (b + 0) * dim, he + 0 * dim, dim * sizeof(float)); /* pair 0: same, y = 0 */
    memcpy(he + (b + 1) * dim, he + 1 * dim, dim * sizeof(float)); /* pair 1: same, y = 1 */
    float hy[4] = {0, 1, 0, 1};
    sc_tensor e = test_tensor(2, eshape, he), de = test_tensor(2, eshape, NULL);
    sc_tensor y = test_tensor(1, &b, hy), d = test_tensor(1, &b, NULL);
    sc_tensor loss = test_tensor(1, &one, NULL), ws = test_tensor(1, &wsn, NULL);
    cr_assert_eq(sc_contrastive_siamese(ctx, &e, &y, m, &d, &loss, &de, &ws), SC_OK, "%s",
                 sc_last_error());
    float *hd = test_download(&d), *hl = test_download(&loss), *hde = test_download(&de);
    cr_assert_eq(hd[0], 0.0f);
    cr_assert_eq(hd[1], 0.0f);
    float want_l = (float)ref_loss(hd, hy, b, m);
    test_expect_close("loss.forward", hl, &want_l, 1);
    for (int i = 0; i < 2 * b * dim; i++)
        cr_assert(isfinite(hde[i]), "de[%d] = %g", i, hde[i]);
    for (int k = 0; k < dim; k++)
        for (int r = 0; r < 2; r++) {
            cr_assert_eq(hde[r * dim + k], 0.0f);
            cr_assert_eq(hde[(b + r) * dim + k], 0.0f);
        }
    free(hd);
    free(hl);
    free(hde);
    sc_tensor *all[] = {&e, &de, &y, &d, &loss, &ws};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

/* Every pair different and beyond the margin: loss 0 and de exactly 0. */
Test(contrastive, all_beyond_margin_gives_zero)
{
    sc_ctx *ctx = test_ctx();
    int b = 5, dim = 3, eshape[2] = {2 * b, dim}, one = 1, wsn = (int)sc_contrastive_workspace(b);
    float he[30], hy[5] = {1, 1, 1, 1, 1};
    for (int i = 0; i < 2 * b * dim; i++)
        he[i] = (i / dim < b ? 0.0f : 10.0f) + (float)(i % 3);
    sc_tensor e = test_tensor(2, eshape, he), de = test_tensor(2, eshape, NULL);
    sc_tensor y = test_tensor(1, &b, hy), d = test_tensor(1, &b, NULL);
    sc_tensor loss = test_tensor(1, &one, NULL), ws = test_tensor(1, &wsn, NULL);
    cr_assert_eq(sc_contrastive_siamese(ctx, &e, &y, 1.0f, &d, &loss, &de, &ws), SC_OK, "%s",
                 sc_last_error());
    float *hl = test_download(&loss), *hde = test_download(&de);
    cr_assert_eq(hl[0], 0.0f);
    for (int i = 0; i < 2 * b * dim; i++)
        cr_assert_eq(hde[i], 0.0f);
    free(hl);
    free(hde);
    sc_tensor *all[] = {&e, &de, &y, &d, &loss, &ws};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

/* A batch too big for one reduction pass takes sc_reduce_sum's two-stage path via ws. */
Test(contrastive, long_batch_mean)
{
    sc_ctx *ctx = test_ctx();
    int b = 5001, one = 1, wsn = SC_REDUCE_WS;
    float *hd = test_rand_alloc(b, 17, 0, 2), *hy = labels(b, 3);
    sc_tensor d = test_tensor(1, &b, hd), y = test_tensor(1, &b, hy);
    sc_tensor pair = test_tensor(1, &b, NULL), loss = test_tensor(1, &one, NULL);
    sc_tensor ws = test_tensor(1, &wsn, NULL);
    cr_assert_eq(sc_contrastive_forward(ctx, &d, &y, 1.0f, &pair, &loss, &ws), SC_OK, "%s",
                 sc_last_error());
    float *gl = test_download(&loss), wl = (float)ref_loss(hd, hy, b, 1.0);
    test_expect_close("loss.forward", gl, &wl, 1);
    free(gl);
    free(hd);
    free(hy);
    sc_tensor *all[] = {&d, &y, &pair, &loss, &ws};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}

Test(contrastive, mismatched_labels_are_an_error)
{
    sc_ctx *ctx = test_ctx();
    int b = 4, b2 = 3, one = 1;
    sc_tensor d = test_tensor(1, &b, NULL), y = test_tensor(1, &b2, NULL);
    sc_tensor pair = test_tensor(1, &b, NULL), loss = test_tensor(1, &one, NULL);
    cr_assert_eq(sc_contrastive_forward(ctx, &d, &y, 1.0f, &pair, &loss, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "labels"), "%s", sc_last_error());
    sc_tensor *all[] = {&d, &y, &pair, &loss};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(all[i]);
}
