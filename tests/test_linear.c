/* Linear layer: forward against a plain-C reference, backward against finite differences
 * (small shapes) and against the closed-form gradients (the large shape). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_dense.h"
#include "support.h"

typedef struct lin {
    int n, in, out;
    float *x, *w, *b, *r; /* b may be NULL; r = dL/dy for the scalar loss L = sum y * r */
} lin;

static double ref_y(const lin *l, int i, int o)
{
    double acc = l->b ? l->b[o] : 0.0;
    for (int k = 0; k < l->in; k++)
        acc += (double)l->x[(size_t)i * l->in + k] * l->w[(size_t)o * l->in + k];
    return acc;
}

static double loss(const float *unused, void *user)
{
    (void)unused;
    const lin *l = user;
    double s = 0;
    for (int i = 0; i < l->n; i++)
        for (int o = 0; o < l->out; o++)
            s += ref_y(l, i, o) * l->r[(size_t)i * l->out + o];
    return s;
}

static lin make(int n, int in, int out, int bias, unsigned seed)
{
    lin l = {n, in, out, NULL, NULL, NULL, NULL};
    l.x = test_rand_alloc((size_t)n * in, seed, -1.0f, 1.0f);
    l.w = test_rand_alloc((size_t)out * in, seed + 1, -0.5f, 0.5f);
    l.b = bias ? test_rand_alloc((size_t)out, seed + 2, -1.0f, 1.0f) : NULL;
    l.r = test_rand_alloc((size_t)n * out, seed + 3, -1.0f, 1.0f);
    return l;
}

static void release(lin *l)
{
    free(l->x);
    free(l->w);
    free(l->b);
    free(l->r);
}

/* Runs the forward with x given as `xdim`-D shape xshape (its trailing dims multiply to in);
 * y starts as NaN so a GEMM that read it with beta = 0 would show. */
static void check_forward(lin *l, int xdim, const int *xshape)
{
    sc_ctx *ctx = test_ctx();
    sc_tensor x = test_tensor(xdim, xshape, l->x);
    sc_tensor w = test_tensor(2, (int[]){l->out, l->in}, l->w);
    sc_tensor b = l->b ? test_tensor(1, &l->out, l->b) : (sc_tensor){0};
    size_t ny = (size_t)l->n * l->out;
    float *nan_fill = malloc(ny * sizeof *nan_fill);
    for (size_t i = 0; i < ny; i++)
        nan_fill[i] = NAN;
    sc_tensor y = test_tensor(2, (int[]){l->n, l->out}, nan_fill);
    cr_assert_eq(sc_linear_forward(ctx, &x, &w, l->b ? &b : NULL, &y), SC_OK, "%s",
                 sc_last_error());
    float *got = test_download(&y);
    float *want = nan_fill;
    for (int i = 0; i < l->n; i++)
        for (int o = 0; o < l->out; o++)
            want[(size_t)i * l->out + o] = (float)ref_y(l, i, o);
    test_expect_close("linear.forward", got, want, ny);
    free(got);
    free(want);
    sc_tensor_free(&x);
    sc_tensor_free(&w);
    if (l->b)
        sc_tensor_free(&b);
    sc_tensor_free(&y);
}

Test(linear, forward_7x2048_to_256)
{
    lin l = make(7, 2048, 256, 1, 10);
    check_forward(&l, 2, (int[]){7, 2048});
    release(&l);
}

Test(linear, forward_13x5_to_11)
{
    lin l = make(13, 5, 11, 1, 20);
    check_forward(&l, 2, (int[]){13, 5});
    release(&l);
}

Test(linear, forward_without_bias_ignores_old_y)
{
    lin l = make(13, 5, 3, 0, 30);
    check_forward(&l, 2, (int[]){13, 5});
    release(&l);
}

Test(linear, forward_flattens_4d_input)
{
    lin l = make(3, 2 * 3 * 5, 4, 1, 40);
    check_forward(&l, 4, (int[]){3, 2, 3, 5});
    release(&l);
}

/* Device gradients for L = sum y * r; any of the outputs may be skipped. */
typedef struct grads {
    float *dx, *dw, *db;
} grads;

static grads device_backward(lin *l, int xdim, const int *xshape, int want_dx, int want_dw,
                             int want_db)
{
    sc_ctx *ctx = test_ctx();
    sc_tensor x = test_tensor(xdim, xshape, l->x);
    sc_tensor w = test_tensor(2, (int[]){l->out, l->in}, l->w);
    sc_tensor dy = test_tensor(2, (int[]){l->n, l->out}, l->r);
    sc_tensor dx = test_tensor(xdim, xshape, NULL);
    sc_tensor dw = test_tensor(2, (int[]){l->out, l->in}, NULL);
    sc_tensor db = test_tensor(1, &l->out, NULL);
    cr_assert_eq(sc_linear_backward(ctx, &x, &w, &dy, want_dx ? &dx : NULL,
                                    want_dw ? &dw : NULL, want_db ? &db : NULL),
                 SC_OK, "%s", sc_last_error());
    grads g = {want_dx ? test_download(&dx) : NULL, want_dw ? test_download(&dw) : NULL,
               want_db ? test_download(&db) : NULL};
    sc_tensor_free(&x);
    sc_tensor_free(&w);
    sc_tensor_free(&dy);
    sc_tensor_free(&dx);
    sc_tensor_free(&dw);
    sc_tensor_free(&db);
    return g;
}

static void fd_all(lin *l, float *v, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)test_fd(loss, v, i, 1e-2f, l);
}

static void check_backward_fd(int n, int in, int out, int xdim, const int *xshape, unsigned seed)
{
    lin l = make(n, in, out, 1, seed);
    grads g = device_backward(&l, xdim, xshape, 1, 1, 1);
    size_t nx = (size_t)n * in, nw = (size_t)out * in;
    float *fd = malloc((nx + nw + out) * sizeof *fd);
    fd_all(&l, l.x, nx, fd);
    fd_all(&l, l.w, nw, fd + nx);
    fd_all(&l, l.b, (size_t)out, fd + nx + nw);
    test_expect_close("fd", g.dx, fd, nx);
    test_expect_close("fd", g.dw, fd + nx, nw);
    test_expect_close("fd", g.db, fd + nx + nw, (size_t)out);
    free(fd);
    free(g.dx);
    free(g.dw);
    free(g.db);
    release(&l);
}

Test(linear, backward_fd_13x5_to_3) { check_backward_fd(13, 5, 3, 2, (int[]){13, 5}, 50); }
Test(linear, backward_fd_4d_input) { check_backward_fd(2, 12, 5, 4, (int[]){2, 3, 2, 2}, 60); }

/* The large shape: too many elements for finite differences, so the closed forms
 * dx = dy W, dW = dy^T x, db = sum_rows dy in double. */
Test(linear, backward_7x2048_to_256_closed_form)
{
    lin l = make(7, 2048, 256, 1, 70);
    grads g = device_backward(&l, 2, (int[]){7, 2048}, 1, 1, 1);
    size_t nx = (size_t)l.n * l.in, nw = (size_t)l.out * l.in;
    float *dx = malloc(nx * sizeof *dx), *dw = malloc(nw * sizeof *dw);
    float *db = malloc((size_t)l.out * sizeof *db);
    for (int i = 0; i < l.n; i++)
        for (int k = 0; k < l.in; k++) {
            double s = 0;
            for (int o = 0; o < l.out; o++)
                s += (double)l.r[i * l.out + o] * l.w[(size_t)o * l.in + k];
            dx[i * l.in + k] = (float)s;
        }
    for (int o = 0; o < l.out; o++) {
        double sb = 0;
        for (int i = 0; i < l.n; i++)
            sb += l.r[i * l.out + o];
        db[o] = (float)sb;
        for (int k = 0; k < l.in; k++) {
            double s = 0;
            for (int i = 0; i < l.n; i++)
                s += (double)l.r[i * l.out + o] * l.x[i * l.in + k];
            dw[(size_t)o * l.in + k] = (float)s;
        }
    }
    test_expect_close("linear.grad", g.dx, dx, nx);
    test_expect_close("linear.grad", g.dw, dw, nw);
    test_expect_close("linear.grad", g.db, db, (size_t)l.out);
    free(dx);
    free(dw);
    free(db);
    free(g.dx);
    free(g.dw);
    free(g.db);
    release(&l);
}

Test(linear, backward_outputs_are_optional)
{
    lin l = make(4, 6, 3, 1, 80);
    grads all = device_backward(&l, 2, (int[]){4, 6}, 1, 1, 1);
    grads only_dw = device_backward(&l, 2, (int[]){4, 6}, 0, 1, 0);
    cr_assert_null(only_dw.dx);
    test_expect_close("exact", only_dw.dw, all.dw, 18);
    free(all.dx);
    free(all.dw);
    free(all.db);
    free(only_dw.dw);
    release(&l);
}

Test(linear, shape_mismatch_is_an_error)
{
    sc_ctx *ctx = test_ctx();
    sc_tensor x = test_tensor(2, (int[]){4, 6}, NULL);
    sc_tensor w = test_tensor(2, (int[]){3, 5}, NULL);
    sc_tensor y = test_tensor(2, (int[]){4, 3}, NULL);
    cr_assert_eq(sc_linear_forward(ctx, &x, &w, NULL, &y), SC_ERR);
    cr_assert(strstr(sc_last_error(), "w is [3, 5]"), "message: %s", sc_last_error());
    sc_tensor_free(&x);
    sc_tensor_free(&w);
    sc_tensor_free(&y);
}
