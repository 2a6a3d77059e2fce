/* ReLU and leaky ReLU against the plain-C reference (bit-exact: one compare and one
 * multiply per element) and their backward against finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_conv.h"
#include "siamcl/ops_conv.h"
#include "support.h"

/* The backward from either the forward's input or its output, out of place and in place. */
static void check(int n, float slope, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    float *hx = test_rand_alloc((size_t)n, seed, -1.0f, 1.0f);
    float *hdy = test_rand_alloc((size_t)n, seed + 1, -1.0f, 1.0f);
    hx[0] = 0.0f; /* the kink: gradient slope, output 0 */
    float *want = malloc((size_t)n * sizeof *want), *wdx = malloc((size_t)n * sizeof *wdx);
    cr_assert(want && wdx);
    ref_leaky_relu_forward(hx, want, n, slope);
    ref_leaky_relu_backward(hx, hdy, wdx, n, slope);

    /* x, y, dy, dx side by side in one buffer at odd offsets. */
    int total = 4 * n + 3;
    sc_tensor all = test_tensor(1, &total, NULL);
    sc_tensor x = sc_tensor_view(all.buf, 1, 1, &n), y = sc_tensor_view(all.buf, 1 + n, 1, &n);
    sc_tensor dy = sc_tensor_view(all.buf, 2 + 2 * n, 1, &n);
    sc_tensor dx = sc_tensor_view(all.buf, 3 + 3 * n, 1, &n);
    cr_assert_eq(sc_tensor_upload(ctx, &x, hx), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_tensor_upload(ctx, &dy, hdy), SC_OK, "%s", sc_last_error());

    cr_assert_eq(sc_leaky_relu_forward(ctx, &x, &y, slope), SC_OK, "%s", sc_last_error());
    float *got = test_download(&y);
    test_expect_close("exact", got, want, (size_t)n);
    free(got);
    cr_assert_eq(sc_leaky_relu_backward(ctx, &x, &dy, &dx, slope), SC_OK, "%s",
                 sc_last_error());
    got = test_download(&dx);
    test_expect_close("exact", got, wdx, (size_t)n);
    free(got);
    cr_assert_eq(sc_leaky_relu_backward(ctx, &y, &dy, &dx, slope), SC_OK, "%s",
                 sc_last_error());
    got = test_download(&dx);
    test_expect_close("exact", got, wdx, (size_t)n);
    free(got);
    /* In place: dx written over dy, and the forward written over x. */
    cr_assert_eq(sc_leaky_relu_backward(ctx, &y, &dy, &dy, slope), SC_OK, "%s",
                 sc_last_error());
    got = test_download(&dy);
    test_expect_close("exact", got, wdx, (size_t)n);
    free(got);
    cr_assert_eq(sc_leaky_relu_forward(ctx, &x, &x, slope), SC_OK, "%s", sc_last_error());
    got = test_download(&x);
    test_expect_close("exact", got, want, (size_t)n);
    free(got);

    sc_tensor_free(&all);
    free(hx);
    free(hdy);
    free(want);
    free(wdx);
}

Test(activation, relu) { check(4099, 0.0f, 1u); }
Test(activation, leaky_relu) { check(4099, 0.1f, 2u); }
Test(activation, leaky_relu_odd_small_sizes)
{
    check(1, 0.2f, 3u);
    check(7, 0.01f, 4u);
    check(257, 0.3f, 5u);
}
/* The sixteen-wide CPU kernels and the one-element GPU kernels, whatever the device. */
Test(activation, both_kernel_layouts)
{
    for (int rows = 0; rows <= 1; rows++) {
        sc_conv2d_force_layout(rows);
        check(4099, 0.1f, 6u + rows);
        check(7, 0.0f, 8u + rows);
        check(32, 0.2f, 10u + rows);
    }
    sc_conv2d_force_layout(-1);
}

Test(activation, relu_wrappers_match_slope_zero)
{
    sc_ctx *ctx = test_ctx();
    int n = 33;
    float *hx = test_rand_alloc((size_t)n, 6u, -1.0f, 1.0f), *want = malloc(sizeof(float) * 33);
    cr_assert(want);
    ref_leaky_relu_forward(hx, want, n, 0.0f);
    sc_tensor x = test_tensor(1, &n, hx), y = test_tensor(1, &n, NULL);
    cr_assert_eq(sc_relu_forward(ctx, &x, &y), SC_OK, "%s", sc_last_error());
    float *got = test_download(&y);
    test_expect_close("exact", got, want, (size_t)n);
    free(got);
    ref_leaky_relu_backward(hx, hx, want, n, 0.0f); /* dy = x */
    cr_assert_eq(sc_relu_backward(ctx, &y, &x, &y), SC_OK, "%s", sc_last_error());
    got = test_download(&y);
    test_expect_close("exact", got, want, (size_t)n);
    free(got);
    sc_tensor_free(&x);
    sc_tensor_free(&y);
    free(hx);
    free(want);
}

typedef struct fd_ctx {
    int n;
    float slope;
    const float *r;
    float *y;
} fd_ctx;

static double relu_loss(const float *x, void *user)
{
    fd_ctx *f = user;
    ref_leaky_relu_forward(x, f->y, f->n, f->slope);
    return test_dot(f->y, f->r, (size_t)f->n);
}

Test(activation, backward_fd)
{
    sc_ctx *ctx = test_ctx();
    const int n = 301;
    const float slopes[2] = {0.0f, 0.2f};
    for (int s = 0; s < 2; s++) {
        float *hx = test_rand_alloc(n, 7u + s, -1.0f, 1.0f);
        for (int i = 0; i < n; i++) /* keep clear of the kink: the step must not cross it */
            hx[i] += hx[i] >= 0 ? 0.05f : -0.05f;
        float *hr = test_rand_alloc(n, 9u + s, -1.0f, 1.0f);
        float *hy = malloc(n * sizeof *hy), *fdx = malloc(n * sizeof *fdx);
        cr_assert(hy && fdx);
        sc_tensor x = test_tensor(1, &n, hx), dy = test_tensor(1, &n, hr);
        sc_tensor dx = test_tensor(1, &n, NULL);
        cr_assert_eq(sc_leaky_relu_backward(ctx, &x, &dy, &dx, slopes[s]), SC_OK, "%s",
                     sc_last_error());
        float *gdx = test_download(&dx);
        fd_ctx f = {n, slopes[s], hr, hy};
        for (int i = 0; i < n; i++)
            fdx[i] = (float)test_fd(relu_loss, hx, (size_t)i, 1e-3f, &f);
        test_expect_close("fd", gdx, fdx, (size_t)n);
        sc_tensor_free(&x);
        sc_tensor_free(&dy);
        sc_tensor_free(&dx);
        free(hx);
        free(hr);
        free(hy);
        free(fdx);
        free(gdx);
    }
}

Test(activation, errors_are_reported)
{
    sc_ctx *ctx = test_ctx();
    int n = 5, m = 6;
    sc_tensor a = test_tensor(1, &n, NULL), b = test_tensor(1, &m, NULL);
    cr_assert_eq(sc_leaky_relu_forward(ctx, &a, &b, 0.1f), SC_ERR);
    cr_assert(strstr(sc_last_error(), "elements"), "%s", sc_last_error());
    cr_assert_eq(sc_leaky_relu_forward(ctx, &a, &a, -0.1f), SC_ERR);
    cr_assert(strstr(sc_last_error(), "slope"), "%s", sc_last_error());
    cr_assert_eq(sc_leaky_relu_backward(ctx, &a, &a, &b, 0.1f), SC_ERR);
    sc_tensor_free(&a);
    sc_tensor_free(&b);
}
