/* Row-wise L2 normalisation: forward against double precision, backward against finite
 * differences, including rows at zero and below the eps clamp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_dense.h"
#include "support.h"

typedef struct l2 {
    int n, d;
    float eps;
    float *x, *r; /* r = dL/dy for L = sum y * r */
} l2;

/* y (double) of row i, element j. */
static double ref_norm(const l2 *p, int i)
{
    double ss = 0;
    for (int j = 0; j < p->d; j++)
        ss += (double)p->x[(size_t)i * p->d + j] * p->x[(size_t)i * p->d + j];
    return fmax(sqrt(ss), (double)p->eps);
}

static double loss(const float *unused, void *user)
{
    (void)unused;
    const l2 *p = user;
    double s = 0;
    for (int i = 0; i < p->n; i++) {
        double nrm = ref_norm(p, i);
        for (int j = 0; j < p->d; j++)
            s += p->x[(size_t)i * p->d + j] / nrm * p->r[(size_t)i * p->d + j];
    }
    return s;
}

static l2 make(int n, int d, float eps, unsigned seed)
{
    l2 p = {n, d, eps, test_rand_alloc((size_t)n * d, seed, -1.0f, 1.0f),
            test_rand_alloc((size_t)n * d, seed + 1, -1.0f, 1.0f)};
    return p;
}

static void check_forward(l2 *p, int ndim, const int *shape)
{
    size_t n = (size_t)p->n * p->d;
    sc_tensor x = test_tensor(ndim, shape, p->x), y = test_tensor(ndim, shape, NULL);
    cr_assert_eq(sc_l2norm_forward(test_ctx(), &x, &y, p->eps), SC_OK, "%s", sc_last_error());
    float *got = test_download(&y), *want = malloc(n * sizeof *want);
    for (int i = 0; i < p->n; i++) {
        double nrm = ref_norm(p, i);
        for (int j = 0; j < p->d; j++)
            want[(size_t)i * p->d + j] = (float)(p->x[(size_t)i * p->d + j] / nrm);
    }
    test_expect_close("l2norm.forward", got, want, n);
    /* In place gives the same. */
    cr_assert_eq(sc_l2norm_forward(test_ctx(), &x, &x, p->eps), SC_OK);
    float *inplace = test_download(&x);
    test_expect_close("exact", inplace, got, n);
    free(inplace);
    free(got);
    free(want);
    sc_tensor_free(&x);
    sc_tensor_free(&y);
}

Test(l2norm, forward_13x5)
{
    l2 p = make(13, 5, 1e-12f, 1);
    check_forward(&p, 2, (int[]){13, 5});
    free(p.x);
    free(p.r);
}

Test(l2norm, forward_7x256_and_long_rows)
{
    l2 p = make(7, 256, 1e-12f, 2);
    check_forward(&p, 2, (int[]){7, 256});
    free(p.x);
    free(p.r);
    l2 q = make(3, 2049, 1e-12f, 3);
    check_forward(&q, 2, (int[]){3, 2049});
    free(q.x);
    free(q.r);
}

Test(l2norm, forward_4d_rows_zero_row_and_clamped_row)
{
    l2 p = make(4, 2 * 3 * 5, 1e-3f, 4);
    memset(p.x + 30, 0, 30 * sizeof(float)); /* row 1: zero stays zero */
    for (int j = 0; j < 30; j++)
        p.x[60 + j] *= 1e-5f; /* row 2: norm below eps, divided by eps */
    check_forward(&p, 4, (int[]){4, 2, 3, 5});
    free(p.x);
    free(p.r);
}

static float *device_backward(l2 *p)
{
    int shape[2] = {p->n, p->d};
    sc_tensor x = test_tensor(2, shape, p->x), dy = test_tensor(2, shape, p->r);
    sc_tensor dx = test_tensor(2, shape, NULL);
    cr_assert_eq(sc_l2norm_backward(test_ctx(), &x, &dy, &dx, p->eps), SC_OK, "%s",
                 sc_last_error());
    float *got = test_download(&dx);
    sc_tensor_free(&x);
    sc_tensor_free(&dy);
    sc_tensor_free(&dx);
    return got;
}

static void check_backward_fd(l2 *p, float h)
{
    size_t n = (size_t)p->n * p->d;
    float *got = device_backward(p), *fd = malloc(n * sizeof *fd);
    for (size_t i = 0; i < n; i++)
        fd[i] = (float)test_fd(loss, p->x, i, h, p);
    test_expect_close("fd", got, fd, n);
    free(fd);
    free(got);
}

Test(l2norm, backward_fd_5x7)
{
    l2 p = make(5, 7, 1e-12f, 5);
    check_backward_fd(&p, 1e-3f);
    free(p.x);
    free(p.r);
}

Test(l2norm, backward_fd_3x33)
{
    l2 p = make(3, 33, 1e-12f, 6);
    check_backward_fd(&p, 1e-3f);
    free(p.x);
    free(p.r);
}

Test(l2norm, backward_fd_below_clamp)
{
    /* Every row's norm is below eps = 1e-3, even after the finite-difference step. */
    l2 p = make(3, 7, 1e-3f, 7);
    for (int i = 0; i < 21; i++)
        p.x[i] *= 1e-4f;
    check_backward_fd(&p, 1e-6f);
    free(p.x);
    free(p.r);
}

/* A larger shape against the closed form (dy - y (y . dy)) / ||x||, in double. */
Test(l2norm, backward_7x256_closed_form)
{
    l2 p = make(7, 256, 1e-12f, 8);
    float *got = device_backward(&p), *want = malloc(7 * 256 * sizeof *want);
    for (int i = 0; i < p.n; i++) {
        const float *x = p.x + i * p.d, *g = p.r + i * p.d;
        double nrm = ref_norm(&p, i), dot = 0;
        for (int j = 0; j < p.d; j++)
            dot += x[j] / nrm * g[j];
        for (int j = 0; j < p.d; j++)
            want[i * p.d + j] = (float)((g[j] - x[j] / nrm * dot) / nrm);
    }
    test_expect_close("l2norm.grad", got, want, 7 * 256);
    free(want);
    free(got);
    free(p.x);
    free(p.r);
}

Test(l2norm, bad_eps_and_sizes_are_errors)
{
    int shape[2] = {2, 3};
    sc_tensor x = test_tensor(2, shape, NULL), y = test_tensor(1, (int[]){5}, NULL);
    cr_assert_eq(sc_l2norm_forward(test_ctx(), &x, &x, 0.0f), SC_ERR);
    cr_assert(strstr(sc_last_error(), "eps"), "message: %s", sc_last_error());
    cr_assert_eq(sc_l2norm_forward(test_ctx(), &x, &y, 1e-12f), SC_ERR);
    cr_assert(strstr(sc_last_error(), "y has 5"), "message: %s", sc_last_error());
    sc_tensor_free(&x);
    sc_tensor_free(&y);
}
