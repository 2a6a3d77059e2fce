/* Pairwise distances: row-paired (general and Siamese layout) and the full matrix (GEMM path
 * and direct reference), forwards against double-precision C, backwards against central
 * finite differences of the C reference, and the zero-distance rule (gradient 0, no NaN). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_loss.h"
#include "support.h"

/* ---- plain-C references (double) ----------------------------------------------------- */

static double ref_dist(const float *x, const float *y, int dim, int squared)
{
    double s = 0;
    for (int k = 0; k < dim; k++) {
        double t = (double)x[k] - y[k];
        s += t * t;
    }
    return squared ? s : sqrt(s);
}

/* A device tensor that starts at a nonzero offset inside a bigger buffer, so every kernel's
 * offset arguments are exercised. */
typedef struct {
    sc_tensor owner, t;
} padded;

static padded pad_tensor(int ndim, const int *shape, const float *host, size_t pad)
{
    size_t n = sc_shape_count(ndim, shape);
    int whole = (int)(n + pad);
    float *tmp = calloc(n + pad, sizeof *tmp);
    cr_assert(tmp);
    for (size_t i = 0; i < pad; i++)
        tmp[i] = 1e30f; /* garbage a wrong offset would pick up */
    if (host)
        memcpy(tmp + pad, host, n * sizeof *tmp);
    padded p;
    p.owner = test_tensor(1, &whole, tmp);
    p.t = sc_tensor_view(p.owner.buf, pad, ndim, shape);
    free(tmp);
    return p;
}

/* ---- row-paired ------------------------------------------------------------------------ */

static void check_rows_forward(int b, int dim, int squared, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    float *ha = test_rand_alloc((size_t)b * dim, seed, -1, 1);
    float *hb = test_rand_alloc((size_t)b * dim, seed + 100, -1, 1);
    int shape[2] = {b, dim};
    padded a = pad_tensor(2, shape, ha, 3), bb = pad_tensor(2, shape, hb, 5);
    padded d = pad_tensor(1, &b, NULL, 7);
    cr_assert_eq(sc_distance_rows_forward(ctx, &a.t, &bb.t, &d.t, squared), SC_OK, "%s",
                 sc_last_error());
    float *got = test_download(&d.t), *want = malloc(b * sizeof *want);
    for (int i = 0; i < b; i++)
        want[i] = (float)ref_dist(ha + (size_t)i * dim, hb + (size_t)i * dim, dim, squared);
    test_expect_close("distance.forward", got, want, b);
    free(got);
    free(want);
    free(ha);
    free(hb);
    sc_tensor_free(&a.owner);
    sc_tensor_free(&bb.owner);
    sc_tensor_free(&d.owner);
}

Test(distance, rows_forward_7x33) { check_rows_forward(7, 33, 0, 1); }
Test(distance, rows_forward_16x32_squared) { check_rows_forward(16, 32, 1, 2); }
Test(distance, rows_forward_1x1) { check_rows_forward(1, 1, 0, 3); }

/* f(e) = sum_i r_i d_i(e) for the Siamese layout: its gradient is what the backward gives
 * for g = r. */
typedef struct {
    int b, dim, squared;
    const float *r;
} siamese_fd;

static double siamese_objective(const float *e, void *user)
{
    const siamese_fd *s = user;
    double f = 0;
    for (int i = 0; i < s->b; i++)
        f += s->r[i] * ref_dist(e + (size_t)i * s->dim, e + (size_t)(s->b + i) * s->dim, s->dim,
                                s->squared);
    return f;
}

static void check_siamese(int b, int dim, int squared, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    size_t n = (size_t)2 * b * dim;
    float *he = test_rand_alloc(n, seed, -1, 1), *r = test_rand_alloc(b, seed + 1, -1, 1);
    int eshape[2] = {2 * b, dim};
    padded e = pad_tensor(2, eshape, he, 2), de = pad_tensor(2, eshape, NULL, 9);
    padded d = pad_tensor(1, &b, NULL, 1), g = pad_tensor(1, &b, r, 4);
    cr_assert_eq(sc_distance_siamese_forward(ctx, &e.t, &d.t, squared), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_distance_siamese_backward(ctx, &e.t, &d.t, &g.t, &de.t, squared), SC_OK,
                 "%s", sc_last_error());
    float *got_d = test_download(&d.t), *got = test_download(&de.t);
    float *want_d = malloc(b * sizeof *want_d), *want = malloc(n * sizeof *want);
    for (int i = 0; i < b; i++)
        want_d[i] = (float)ref_dist(he + (size_t)i * dim, he + (size_t)(b + i) * dim, dim,
                                    squared);
    test_expect_close("distance.forward", got_d, want_d, b);
    siamese_fd s = {b, dim, squared, r};
    for (size_t i = 0; i < n; i++)
        want[i] = (float)test_fd(siamese_objective, he, i, 1e-3f, &s);
    test_expect_close("distance.fd", got, want, n);
    free(got_d);
    free(got);
    free(want_d);
    free(want);
    free(he);
    free(r);
    sc_tensor_free(&e.owner);
    sc_tensor_free(&de.owner);
    sc_tensor_free(&d.owner);
    sc_tensor_free(&g.owner);
}

Test(distance, siamese_7x33_forward_and_fd) { check_siamese(7, 33, 0, 11); }
Test(distance, siamese_16x32_squared_forward_and_fd) { check_siamese(16, 32, 1, 12); }

/* The general form's two gradients: da = -db, and only one of them when asked. */
Test(distance, rows_backward_general_and_single_sided)
{
    sc_ctx *ctx = test_ctx();
    int b = 5, dim = 9, shape[2] = {b, dim};
    size_t n = (size_t)b * dim;
    float *ha = test_rand_alloc(n, 21, -1, 1), *hb = test_rand_alloc(n, 22, -1, 1);
    float *r = test_rand_alloc(b, 23, -1, 1);
    sc_tensor a = test_tensor(2, shape, ha), bt = test_tensor(2, shape, hb);
    sc_tensor d = test_tensor(1, &b, NULL), g = test_tensor(1, &b, r);
    sc_tensor da = test_tensor(2, shape, NULL), db = test_tensor(2, shape, NULL);
    cr_assert_eq(sc_distance_rows_forward(ctx, &a, &bt, &d, 0), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_distance_rows_backward(ctx, &a, &bt, &d, &g, &da, &db, 0), SC_OK, "%s",
                 sc_last_error());
    float *ga = test_download(&da), *gb = test_download(&db);
    float *want = malloc(n * sizeof *want), *neg = malloc(n * sizeof *neg);
    for (int i = 0; i < b; i++) {
        double di = ref_dist(ha + i * dim, hb + i * dim, dim, 0);
        for (int k = 0; k < dim; k++) {
            want[i * dim + k] = (float)(r[i] * ((double)ha[i * dim + k] - hb[i * dim + k]) / di);
            neg[i * dim + k] = -want[i * dim + k];
        }
    }
    test_expect_close("distance.grad", ga, want, n);
    test_expect_close("distance.grad", gb, neg, n);
    /* db only: da untouched. */
    float *zero = calloc(n, sizeof *zero);
    sc_tensor da2 = test_tensor(2, shape, NULL);
    cr_assert_eq(sc_distance_rows_backward(ctx, &a, &bt, &d, &g, NULL, &da2, 0), SC_OK, "%s",
                 sc_last_error());
    free(gb);
    gb = test_download(&da2);
    test_expect_close("distance.grad", gb, neg, n);
    /* Shape mismatch is an error, not a crash. */
    sc_tensor short_d = sc_tensor_view(d.buf, 0, 1, (int[]){b - 1});
    cr_assert_eq(sc_distance_rows_forward(ctx, &a, &bt, &short_d, 0), SC_ERR);
    cr_assert(strstr(sc_last_error(), "distance"), "%s", sc_last_error());
    free(zero);
    free(ga);
    free(gb);
    free(want);
    free(neg);
    free(ha);
    free(hb);
    free(r);
    sc_tensor_free(&a);
    sc_tensor_free(&bt);
    sc_tensor_free(&d);
    sc_tensor_free(&g);
    sc_tensor_free(&da);
    sc_tensor_free(&db);
    sc_tensor_free(&da2);
}

/* Identical pair: distance exactly 0, gradient exactly 0 (the documented rule), no NaN. */
Test(distance, zero_distance_has_zero_gradient)
{
    sc_ctx *ctx = test_ctx();
    int b = 3, dim = 4, eshape[2] = {2 * b, dim};
    float he[24];
    test_rand(he, 24, 31, -1, 1);
    memcpy(he + (size_t)(b + 1) * dim, he + (size_t)1 * dim, dim * sizeof(float)); /* pair 1 */
    float r[3] = {0.5f, -2.0f, 1.0f};
    sc_tensor e = test_tensor(2, eshape, he), de = test_tensor(2, eshape, NULL);
    sc_tensor d = test_tensor(1, &b, NULL), g = test_tensor(1, &b, r);
    cr_assert_eq(sc_distance_siamese_forward(ctx, &e, &d, 0), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_distance_siamese_backward(ctx, &e, &d, &g, &de, 0), SC_OK, "%s",
                 sc_last_error());
    float *hd = test_download(&d), *hde = test_download(&de);
    cr_assert_eq(hd[1], 0.0f, "identical rows: distance %g", hd[1]);
    cr_assert(hd[0] > 0 && hd[2] > 0);
    for (int k = 0; k < dim; k++) {
        cr_assert_eq(hde[1 * dim + k], 0.0f, "gradient at d = 0 is %g", hde[1 * dim + k]);
        cr_assert_eq(hde[(b + 1) * dim + k], 0.0f);
    }
    for (int i = 0; i < 2 * b * dim; i++)
        cr_assert(isfinite(hde[i]));
    free(hd);
    free(hde);
    sc_tensor_free(&e);
    sc_tensor_free(&de);
    sc_tensor_free(&d);
    sc_tensor_free(&g);
}

/* ---- full matrix ------------------------------------------------------------------------ */

static void ref_matrix(const float *a, const float *b, int m, int n, int dim, int squared,
                       float *out)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            out[i * n + j] = (float)ref_dist(a + (size_t)i * dim, b + (size_t)j * dim, dim,
                                             squared);
}

static void check_matrix_forward(int m, int n, int dim, int squared, int self, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    float *ha = test_rand_alloc((size_t)m * dim, seed, -1, 1);
    float *hb = self ? ha : test_rand_alloc((size_t)n * dim, seed + 7, -1, 1);
    int ashape[2] = {m, dim}, bshape[2] = {n, dim}, dshape[2] = {m, n};
    padded a = pad_tensor(2, ashape, ha, 3), bb;
    if (!self)
        bb = pad_tensor(2, bshape, hb, 6);
    padded dist = pad_tensor(2, dshape, NULL, 2), direct = pad_tensor(2, dshape, NULL, 1);
    int wsn = (int)sc_distance_matrix_workspace(m, n);
    padded ws = pad_tensor(1, &wsn, NULL, 5);
    const sc_tensor *bt = self ? &a.t : &bb.t;
    cr_assert_eq(sc_distance_matrix_forward(ctx, &a.t, bt, &dist.t, squared, &ws.t), SC_OK,
                 "%s", sc_last_error());
    cr_assert_eq(sc_distance_matrix_forward_direct(ctx, &a.t, bt, &direct.t, squared), SC_OK,
                 "%s", sc_last_error());
    float *got = test_download(&dist.t), *got_direct = test_download(&direct.t);
    float *want = malloc((size_t)m * n * sizeof *want);
    ref_matrix(ha, hb, m, n, dim, squared, want);
    test_expect_close("distance.matrix", got, want, (size_t)m * n);
    test_expect_close("distance.forward", got_direct, want, (size_t)m * n);
    if (self)
        for (int i = 0; i < m; i++) {
            cr_assert_eq(got[i * n + i], 0.0f, "diagonal %d is %g", i, got[i * n + i]);
            cr_assert_eq(got_direct[i * n + i], 0.0f);
        }
    for (size_t i = 0; i < (size_t)m * n; i++)
        cr_assert(got[i] >= 0, "negative distance %g at %zu", got[i], i);
    free(got);
    free(got_direct);
    free(want);
    free(ha);
    if (!self) {
        free(hb);
        sc_tensor_free(&bb.owner);
    }
    sc_tensor_free(&a.owner);
    sc_tensor_free(&dist.owner);
    sc_tensor_free(&direct.owner);
    sc_tensor_free(&ws.owner);
}

Test(distance, matrix_7x5x33) { check_matrix_forward(7, 5, 33, 0, 0, 41); }
Test(distance, matrix_16x16x32_squared) { check_matrix_forward(16, 16, 32, 1, 0, 42); }
Test(distance, matrix_self_15x33_zero_diagonal) { check_matrix_forward(15, 15, 33, 0, 1, 43); }
Test(distance, matrix_self_16x32_squared) { check_matrix_forward(16, 16, 32, 1, 1, 44); }
Test(distance, matrix_1x1x1) { check_matrix_forward(1, 1, 1, 0, 0, 45); }

/* f(a, b) = sum_ij r_ij dist(a_i, b_j); x = [a; b] (or a alone for the self form). */
typedef struct {
    int m, n, dim, squared, self;
    const float *r;
} matrix_fd;

static double matrix_objective(const float *x, void *user)
{
    const matrix_fd *s = user;
    const float *a = x, *b = s->self ? x : x + (size_t)s->m * s->dim;
    double f = 0;
    for (int i = 0; i < s->m; i++)
        for (int j = 0; j < s->n; j++)
            if (!(s->self && i == j))
                f += s->r[i * s->n + j] *
                     ref_dist(a + (size_t)i * s->dim, b + (size_t)j * s->dim, s->dim, s->squared);
    return f;
}

static void check_matrix_backward(int m, int n, int dim, int squared, int self, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    size_t na = (size_t)m * dim, nb = (size_t)n * dim, nx = self ? na : na + nb;
    float *x = test_rand_alloc(nx, seed, -1, 1);
    float *r = test_rand_alloc((size_t)m * n, seed + 3, -1, 1);
    int ashape[2] = {m, dim}, bshape[2] = {n, dim}, dshape[2] = {m, n};
    padded a = pad_tensor(2, ashape, x, 1), b = pad_tensor(2, bshape, x + (self ? 0 : na), 2);
    padded da = pad_tensor(2, ashape, NULL, 3), db = pad_tensor(2, bshape, NULL, 4);
    padded dist = pad_tensor(2, dshape, NULL, 5), g = pad_tensor(2, dshape, r, 6);
    int wsn = (int)sc_distance_matrix_workspace(m, n);
    padded ws = pad_tensor(1, &wsn, NULL, 7);
    const sc_tensor *bt = self ? &a.t : &b.t;
    cr_assert_eq(sc_distance_matrix_forward(ctx, &a.t, bt, &dist.t, squared, &ws.t), SC_OK,
                 "%s", sc_last_error());
    cr_assert_eq(sc_distance_matrix_backward(ctx, &a.t, bt, &dist.t, &g.t, &da.t,
                                             self ? &da.t : &db.t, squared, &ws.t),
                 SC_OK, "%s", sc_last_error());
    float *got = malloc(nx * sizeof *got), *want = malloc(nx * sizeof *want);
    float *ga = test_download(&da.t);
    memcpy(got, ga, na * sizeof *got);
    free(ga);
    if (!self) {
        float *gb = test_download(&db.t);
        memcpy(got + na, gb, nb * sizeof *got);
        free(gb);
    }
    matrix_fd s = {m, n, dim, squared, self, r};
    for (size_t i = 0; i < nx; i++)
        want[i] = (float)test_fd(matrix_objective, x, i, 1e-3f, &s);
    test_expect_close("distance.fd", got, want, nx);
    free(got);
    free(want);
    free(x);
    free(r);
    padded all[] = {a, b, da, db, dist, g, ws};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_tensor_free(&all[i].owner);
}

Test(distance, matrix_backward_7x5x33_fd) { check_matrix_backward(7, 5, 33, 0, 0, 51); }
Test(distance, matrix_backward_6x9x8_squared_fd) { check_matrix_backward(6, 9, 8, 1, 0, 52); }
Test(distance, matrix_backward_self_9x7_fd) { check_matrix_backward(9, 9, 7, 0, 1, 53); }
Test(distance, matrix_backward_self_8x5_squared_fd) { check_matrix_backward(8, 8, 5, 1, 1, 54); }

/* Duplicate rows in the self form: cancellation in ||a||^2 + ||b||^2 - 2ab can leave a tiny
 * (or negative) value; the clamp keeps it >= 0 and the gradient stays finite. */
Test(distance, matrix_duplicate_rows_stay_finite)
{
    sc_ctx *ctx = test_ctx();
    int m = 6, dim = 16, eshape[2] = {m, dim}, dshape[2] = {m, m};
    float *he = test_rand_alloc((size_t)m * dim, 61, -3, 3);
    memcpy(he + 4 * dim, he + 1 * dim, dim * sizeof *he); /* rows 1 and 4 identical */
    float *r = test_rand_alloc((size_t)m * m, 62, -1, 1);
    sc_tensor e = test_tensor(2, eshape, he), de = test_tensor(2, eshape, NULL);
    sc_tensor dist = test_tensor(2, dshape, NULL), g = test_tensor(2, dshape, r);
    int wsn = (int)sc_distance_matrix_workspace(m, m);
    sc_tensor ws = test_tensor(1, &wsn, NULL);
    for (int squared = 0; squared < 2; squared++) {
        cr_assert_eq(sc_distance_matrix_forward(ctx, &e, &e, &dist, squared, &ws), SC_OK, "%s",
                     sc_last_error());
        cr_assert_eq(sc_distance_matrix_backward(ctx, &e, &e, &dist, &g, &de, &de, squared, &ws),
                     SC_OK, "%s", sc_last_error());
        float *hd = test_download(&dist), *hg = test_download(&de);
        cr_assert(hd[1 * m + 4] >= 0 && hd[1 * m + 4] < 1e-2f, "d(1,4) = %g", hd[1 * m + 4]);
        for (int i = 0; i < m * m; i++)
            cr_assert(isfinite(hd[i]) && hd[i] >= 0);
        for (int i = 0; i < m * dim; i++)
            cr_assert(isfinite(hg[i]), "gradient %d is %g", i, hg[i]);
        free(hd);
        free(hg);
    }
    free(he);
    free(r);
    sc_tensor_free(&e);
    sc_tensor_free(&de);
    sc_tensor_free(&dist);
    sc_tensor_free(&g);
    sc_tensor_free(&ws);
}

Test(distance, matrix_workspace_too_small_is_an_error)
{
    sc_ctx *ctx = test_ctx();
    int m = 4, dim = 3, eshape[2] = {m, dim}, dshape[2] = {m, m}, one = 1;
    sc_tensor e = test_tensor(2, eshape, NULL), dist = test_tensor(2, dshape, NULL);
    sc_tensor ws = test_tensor(1, &one, NULL);
    cr_assert_eq(sc_distance_matrix_forward(ctx, &e, &e, &dist, 0, &ws), SC_ERR);
    cr_assert(strstr(sc_last_error(), "workspace"), "%s", sc_last_error());
    sc_tensor_free(&e);
    sc_tensor_free(&dist);
    sc_tensor_free(&ws);
}
