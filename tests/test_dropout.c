/* Dropout: the mask is a pure function of (seed, step, index), the keep rate is 1 - p,
 * eval is the identity and the backward applies the forward's mask. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_dense.h"
#include "support.h"

/* Forward of host data on the device; returns the downloaded output. */
static float *run_forward(const float *x, int n, float p, uint32_t seed, uint32_t step, int train)
{
    sc_tensor tx = test_tensor(1, &n, x), ty = test_tensor(1, &n, NULL);
    cr_assert_eq(sc_dropout_forward(test_ctx(), &tx, &ty, p, seed, step, train), SC_OK, "%s",
                 sc_last_error());
    float *y = test_download(&ty);
    sc_tensor_free(&tx);
    sc_tensor_free(&ty);
    return y;
}

static float *ones(int n)
{
    float *x = malloc((size_t)n * sizeof *x);
    for (int i = 0; i < n; i++)
        x[i] = 1.0f;
    return x;
}

Test(dropout, forward_matches_host_mask)
{
    const int n = 1000;
    const float p = 0.25f;
    float *x = test_rand_alloc(n, 1, -2.0f, 2.0f);
    float *y = run_forward(x, n, p, 42, 7, 1);
    float *want = malloc(n * sizeof *want);
    for (int i = 0; i < n; i++)
        want[i] = sc_dropout_keep(p, 42, 7, (uint32_t)i) ? x[i] * (1.0f / (1.0f - p)) : 0.0f;
    test_expect_close("elementwise.forward", y, want, n);
    free(want);
    free(y);
    free(x);
}

Test(dropout, same_seed_and_step_same_mask)
{
    const int n = 4097;
    float *x = test_rand_alloc(n, 2, -1.0f, 1.0f);
    float *a = run_forward(x, n, 0.5f, 3, 11, 1), *b = run_forward(x, n, 0.5f, 3, 11, 1);
    test_expect_close("exact", a, b, n);
    free(a);
    free(b);
    free(x);
}

/* Fraction of positions where the masks of two (seed, step) pairs differ: about 2p(1-p)
 * for independent masks. */
static double mask_difference(uint32_t seed_a, uint32_t step_a, uint32_t seed_b, uint32_t step_b)
{
    const int n = 1 << 20;
    float *x = ones(n);
    float *a = run_forward(x, n, 0.5f, seed_a, step_a, 1);
    float *b = run_forward(x, n, 0.5f, seed_b, step_b, 1);
    int differ = 0;
    for (int i = 0; i < n; i++)
        differ += (a[i] != 0) != (b[i] != 0);
    free(a);
    free(b);
    free(x);
    return (double)differ / n;
}

Test(dropout, masks_differ_across_steps_and_seeds)
{
    /* Independent masks at p = 0.5 differ in half the positions. */
    float want = 0.5f;
    float steps = (float)mask_difference(9, 1, 9, 2);
    float seeds = (float)mask_difference(9, 1, 10, 1);
    float far = (float)mask_difference(9, 0, 9, 1u << 20);
    test_expect_close("dropout.rate", &steps, &want, 1);
    test_expect_close("dropout.rate", &seeds, &want, 1);
    test_expect_close("dropout.rate", &far, &want, 1);
}

Test(dropout, keep_rate_is_one_minus_p)
{
    const int n = 1 << 20;
    float *x = ones(n);
    const float ps[] = {0.1f, 0.5f, 0.9f};
    for (int t = 0; t < 3; t++) {
        float *y = run_forward(x, n, ps[t], 123, (uint32_t)t, 1);
        size_t kept = 0;
        for (int i = 0; i < n; i++) {
            kept += y[i] != 0;
            cr_assert(y[i] == 0 || y[i] == 1.0f / (1.0f - ps[t]), "y[%d] = %g", i, y[i]);
        }
        float rate = (float)kept / n, want = 1.0f - ps[t];
        test_expect_close("dropout.rate", &rate, &want, 1);
        free(y);
    }
    free(x);
}

Test(dropout, eval_is_identity)
{
    const int n = 777;
    float *x = test_rand_alloc(n, 4, -3.0f, 3.0f);
    float *y = run_forward(x, n, 0.5f, 1, 1, 0);
    test_expect_close("exact", y, x, n);
    /* In place: nothing to do, nothing changes. */
    sc_tensor t = test_tensor(1, &n, x);
    cr_assert_eq(sc_dropout_forward(test_ctx(), &t, &t, 0.5f, 1, 1, 0), SC_OK);
    float *z = test_download(&t);
    test_expect_close("exact", z, x, n);
    sc_tensor_free(&t);
    free(z);
    free(y);
    free(x);
}

Test(dropout, p_zero_keeps_all_p_one_drops_all)
{
    const int n = 500;
    float *x = test_rand_alloc(n, 5, -1.0f, 1.0f);
    float *y0 = run_forward(x, n, 0.0f, 1, 1, 1);
    test_expect_close("exact", y0, x, n);
    float *y1 = run_forward(x, n, 1.0f, 1, 1, 1);
    float *zero = calloc(n, sizeof *zero);
    test_expect_close("exact", y1, zero, n);
    free(zero);
    free(y1);
    free(y0);
    free(x);
}

Test(dropout, in_place_forward_equals_out_of_place)
{
    const int n = 1001;
    float *x = test_rand_alloc(n, 6, -1.0f, 1.0f);
    float *want = run_forward(x, n, 0.3f, 5, 6, 1);
    sc_tensor t = test_tensor(1, &n, x);
    cr_assert_eq(sc_dropout_forward(test_ctx(), &t, &t, 0.3f, 5, 6, 1), SC_OK);
    float *got = test_download(&t);
    test_expect_close("exact", got, want, n);
    sc_tensor_free(&t);
    free(got);
    free(want);
    free(x);
}

Test(dropout, backward_applies_the_forward_mask)
{
    const int n = 3001;
    const float p = 0.4f;
    float *x = ones(n);
    float *y = run_forward(x, n, p, 77, 5, 1); /* y = mask * scale */
    float *dyh = test_rand_alloc(n, 7, -1.0f, 1.0f);
    sc_tensor dy = test_tensor(1, &n, dyh), dx = test_tensor(1, &n, NULL);
    cr_assert_eq(sc_dropout_backward(test_ctx(), &dy, &dx, p, 77, 5, 1), SC_OK, "%s",
                 sc_last_error());
    float *got = test_download(&dx);
    float *want = malloc(n * sizeof *want);
    for (int i = 0; i < n; i++)
        want[i] = y[i] != 0 ? dyh[i] * (1.0f / (1.0f - p)) : 0.0f;
    test_expect_close("elementwise.grad", got, want, n);
    /* Eval backward is the identity too. */
    cr_assert_eq(sc_dropout_backward(test_ctx(), &dy, &dx, p, 77, 5, 0), SC_OK);
    float *ident = test_download(&dx);
    test_expect_close("exact", ident, dyh, n);
    free(ident);
    free(want);
    free(got);
    sc_tensor_free(&dy);
    sc_tensor_free(&dx);
    free(dyh);
    free(y);
    free(x);
}

/* Finite differences of the device forward for L = sum y * r. */
typedef struct fd_ctx {
    int n;
    const float *r;
} fd_ctx;

static double device_loss(const float *x, void *user)
{
    const fd_ctx *c = user;
    float *y = run_forward(x, c->n, 0.5f, 8, 9, 1);
    double l = test_dot(y, c->r, (size_t)c->n);
    free(y);
    return l;
}

Test(dropout, backward_matches_finite_differences)
{
    const int n = 37;
    float *x = test_rand_alloc(n, 10, -1.0f, 1.0f), *r = test_rand_alloc(n, 11, -1.0f, 1.0f);
    fd_ctx c = {n, r};
    float *fd = malloc(n * sizeof *fd);
    for (int i = 0; i < n; i++)
        fd[i] = (float)test_fd(device_loss, x, (size_t)i, 1e-2f, &c);
    sc_tensor dy = test_tensor(1, &n, r), dx = test_tensor(1, &n, NULL);
    cr_assert_eq(sc_dropout_backward(test_ctx(), &dy, &dx, 0.5f, 8, 9, 1), SC_OK);
    float *got = test_download(&dx);
    test_expect_close("fd", got, fd, n);
    free(got);
    sc_tensor_free(&dy);
    sc_tensor_free(&dx);
    free(fd);
    free(r);
    free(x);
}

Test(dropout, bad_probability_is_an_error)
{
    int n = 4;
    sc_tensor t = test_tensor(1, &n, NULL);
    cr_assert_eq(sc_dropout_forward(test_ctx(), &t, &t, 1.5f, 0, 0, 1), SC_ERR);
    cr_assert(strstr(sc_last_error(), "probability"), "message: %s", sc_last_error());
    sc_tensor_free(&t);
}
