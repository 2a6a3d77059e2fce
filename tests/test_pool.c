/* Max and average pooling (incl. global average) against the plain-C references in
 * tests/support/ref_conv.c, and the backward against finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_conv.h"
#include "siamcl/ops_conv.h"
#include "support.h"

/* A tensor placed `off` floats into its own buffer (outputs pre-filled with NaN so a kernel
 * that skips an element is caught). *store owns the buffer. */
static sc_tensor at_offset(sc_tensor *store, size_t off, int ndim, const int *shape,
                           const float *host)
{
    size_t n = sc_shape_count(ndim, shape);
    int total = (int)(n + off);
    float *buf = malloc((size_t)total * sizeof *buf);
    cr_assert(buf);
    for (int i = 0; i < total; i++)
        buf[i] = NAN;
    if (host)
        memcpy(buf + off, host, n * sizeof *buf);
    *store = test_tensor(1, &total, buf);
    free(buf);
    return sc_tensor_view(store->buf, off, ndim, shape);
}

/* Distinct values (a shuffled ramp with spacing 0.01) so max pooling has no ties and a
 * finite-difference step below 0.005 never changes the argmax. */
static float *distinct_alloc(size_t n, unsigned seed)
{
    float *x = malloc(n * sizeof *x), *u = test_rand_alloc(n, seed, 0.0f, 1.0f);
    cr_assert(x);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.01f * (float)i - 0.005f * (float)n;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates driven by the seeded stream */
        size_t j = (size_t)(u[i - 1] * (float)i);
        if (j >= i)
            j = i - 1;
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
    free(u);
    return x;
}

typedef struct pcfg {
    int k, stride, pad;
} pcfg;

static void shapes(int n, int c, int h, int w, pcfg p, int *xs, int *ys)
{
    int oh = ref_pool_out(h, p.k, p.stride, p.pad), ow = ref_pool_out(w, p.k, p.stride, p.pad);
    int a[4] = {n, c, h, w}, b[4] = {n, c, oh, ow};
    memcpy(xs, a, sizeof a);
    memcpy(ys, b, sizeof b);
}

static void check_max(int n, int c, int h, int w, pcfg p, int distinct, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    sc_pool2d_desc d = {p.k, p.stride, p.pad};
    int xs[4], ys[4];
    shapes(n, c, h, w, p, xs, ys);
    cr_assert_eq(sc_pool2d_out_size(&d, h), ys[2]);
    cr_assert_eq(sc_pool2d_out_size(&d, w), ys[3]);
    size_t nx = sc_shape_count(4, xs), ny = sc_shape_count(4, ys);
    float *hx = distinct ? distinct_alloc(nx, seed) : test_rand_alloc(nx, seed, -1.0f, 1.0f);
    if (!distinct) /* coarse values: plenty of ties, which must go to the first maximum */
        for (size_t i = 0; i < nx; i++)
            hx[i] = roundf(hx[i] * 2.0f);
    float *hdy = test_rand_alloc(ny, seed + 1, -1.0f, 1.0f);
    float *want = malloc(ny * sizeof *want), *wdx = malloc(nx * sizeof *wdx);
    int *widx = malloc(ny * sizeof *widx);
    cr_assert(want && wdx && widx);
    ref_maxpool_forward(hx, want, widx, n * c, h, w, p.k, p.stride, p.pad);
    ref_maxpool_backward(widx, hdy, wdx, n * c, h, w, p.k, p.stride, p.pad);

    sc_tensor sx, sy, sy2, si, sdy, sdx;
    sc_tensor x = at_offset(&sx, 3, 4, xs, hx), y = at_offset(&sy, 1, 4, ys, NULL);
    sc_tensor y2 = at_offset(&sy2, 0, 4, ys, NULL), idx = at_offset(&si, 5, 4, ys, NULL);
    sc_tensor dy = at_offset(&sdy, 2, 4, ys, hdy), dx = at_offset(&sdx, 4, 4, xs, NULL);
    cr_assert_eq(sc_maxpool_forward(ctx, &d, &x, &y, &idx), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_maxpool_forward(ctx, &d, &x, &y2, NULL), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_maxpool_backward(ctx, &d, &idx, &dy, &dx), SC_OK, "%s", sc_last_error());

    float *got = test_download(&y);
    test_expect_close("exact", got, want, ny);
    free(got);
    got = test_download(&y2);
    test_expect_close("exact", got, want, ny);
    free(got);
    int *gi = malloc(ny * sizeof *gi);
    cr_assert(gi);
    cr_assert_eq(sc_tensor_download(ctx, &idx, (float *)gi), SC_OK, "%s", sc_last_error());
    for (size_t i = 0; i < ny; i++)
        cr_assert_eq(gi[i], widx[i], "argmax %zu: got %d want %d", i, gi[i], widx[i]);
    free(gi);
    got = test_download(&dx);
    test_expect_close("pool.backward", got, wdx, nx);
    free(got);

    sc_tensor_free(&sx);
    sc_tensor_free(&sy);
    sc_tensor_free(&sy2);
    sc_tensor_free(&si);
    sc_tensor_free(&sdy);
    sc_tensor_free(&sdx);
    free(hx);
    free(hdy);
    free(want);
    free(wdx);
    free(widx);
}

static void check_avg(int n, int c, int h, int w, pcfg p, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    sc_pool2d_desc d = {p.k, p.stride, p.pad};
    int xs[4], ys[4];
    shapes(n, c, h, w, p, xs, ys);
    cr_assert_eq(sc_pool2d_out_size(&d, h), ys[2]);
    size_t nx = sc_shape_count(4, xs), ny = sc_shape_count(4, ys);
    float *hx = test_rand_alloc(nx, seed, -1.0f, 1.0f);
    float *hdy = test_rand_alloc(ny, seed + 1, -1.0f, 1.0f);
    float *want = malloc(ny * sizeof *want), *wdx = malloc(nx * sizeof *wdx);
    cr_assert(want && wdx);
    ref_avgpool_forward(hx, want, n * c, h, w, p.k, p.stride, p.pad);
    ref_avgpool_backward(hdy, wdx, n * c, h, w, p.k, p.stride, p.pad);

    sc_tensor sx, sy, sdy, sdx;
    sc_tensor x = at_offset(&sx, 3, 4, xs, hx), y = at_offset(&sy, 1, 4, ys, NULL);
    sc_tensor dy = at_offset(&sdy, 2, 4, ys, hdy), dx = at_offset(&sdx, 4, 4, xs, NULL);
    cr_assert_eq(sc_avgpool_forward(ctx, &d, &x, &y), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_avgpool_backward(ctx, &d, &dy, &dx), SC_OK, "%s", sc_last_error());
    float *got = test_download(&y);
    test_expect_close("pool.forward", got, want, ny);
    free(got);
    got = test_download(&dx);
    test_expect_close("pool.backward", got, wdx, nx);
    free(got);

    sc_tensor_free(&sx);
    sc_tensor_free(&sy);
    sc_tensor_free(&sdy);
    sc_tensor_free(&sdx);
    free(hx);
    free(hdy);
    free(want);
    free(wdx);
}

/* The baseline's max-pool (k2 s2) on odd sizes (the last row/column is dropped), plus
 * overlapping and padded windows. */
static const pcfg pools[] = {{2, 2, 0}, {3, 2, 1}, {3, 1, 1}, {2, 1, 0}, {3, 3, 0}, {5, 2, 2}};

Test(pool, max_forward_backward_distinct_values)
{
    for (int i = 0; i < 6; i++) {
        check_max(2, 3, 13, 11, pools[i], 1, 10u + i);
        check_max(1, 4, 17, 17, pools[i], 1, 20u + i);
    }
}

Test(pool, max_ties_go_to_the_first_maximum)
{
    for (int i = 0; i < 6; i++)
        check_max(2, 3, 9, 7, pools[i], 0, 30u + i);
}

Test(pool, max_baseline_sizes)
{
    /* After the baseline's convolutions: 64x64 then 8x8 planes. */
    check_max(2, 16, 64, 64, pools[0], 1, 40u);
    check_max(3, 128, 8, 8, pools[0], 1, 41u);
}

/* Tiled windows have a per-row kernel for CPUs and a per-element one for GPUs: both run
 * here whatever the device (odd sizes leave a row and a column outside every window). */
Test(pool, max_tiled_windows_in_both_kernel_layouts)
{
    const int tiled[2] = {0, 4}; /* 2x2 s2 and 3x3 s3 */
    for (int rows = 0; rows <= 1; rows++) {
        sc_conv2d_force_layout(rows);
        for (int i = 0; i < 2; i++) {
            check_max(2, 3, 13, 11, pools[tiled[i]], 1, 50u + i);
            check_max(2, 3, 9, 7, pools[tiled[i]], 0, 52u + i); /* ties */
            check_max(1, 2, 8, 8, pools[tiled[i]], 1, 54u + i);
        }
    }
    sc_conv2d_force_layout(-1);
}

/* NaN wins a window (the first NaN when there are several), in both layouts of the tiled
 * kernels, whose CPU form compares four windows at a time in vector registers. */
Test(pool, max_nan_wins_in_both_kernel_layouts)
{
    enum { C = 2, H = 9, W = 10, OH = 4, OW = 5 };
    float hx[C * H * W];
    for (int i = 0; i < C * H * W; i++)
        hx[i] = (float)((i * 37) % 101) * 0.01f;
    const int nan_at[] = {0, 3, 13, 22, 23, 45, 48, 91, 112, 113, 139, 170};
    for (size_t i = 0; i < sizeof nan_at / sizeof nan_at[0]; i++)
        hx[nan_at[i]] = NAN;
    int widx[C * OH * OW];
    for (int pl = 0; pl < C; pl++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                int bi = 2 * oy * W + 2 * ox;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        int at = (2 * oy + dy) * W + 2 * ox + dx;
                        float v = hx[pl * H * W + at], best = hx[pl * H * W + bi];
                        if (v > best || (isnan(v) && !isnan(best)))
                            bi = at;
                    }
                widx[(pl * OH + oy) * OW + ox] = bi;
            }
    sc_pool2d_desc d = {2, 2, 0};
    for (int rows = 0; rows <= 1; rows++) {
        sc_conv2d_force_layout(rows);
        sc_tensor x = test_tensor(4, (int[]){1, C, H, W}, hx);
        sc_tensor y = test_tensor(4, (int[]){1, C, OH, OW}, NULL);
        sc_tensor idx = test_tensor(4, (int[]){1, C, OH, OW}, NULL);
        cr_assert_eq(sc_maxpool_forward(test_ctx(), &d, &x, &y, &idx), SC_OK, "%s",
                     sc_last_error());
        float *gy = test_download(&y);
        int gi[C * OH * OW];
        cr_assert_eq(sc_tensor_download(test_ctx(), &idx, (float *)gi), SC_OK, "%s",
                     sc_last_error());
        for (int o = 0; o < C * OH * OW; o++) {
            int pl = o / (OH * OW);
            float want = hx[pl * H * W + widx[o]];
            cr_assert_eq(gi[o], widx[o], "layout %d, window %d: argmax %d, want %d", rows, o,
                         gi[o], widx[o]);
            cr_assert(isnan(want) ? isnan(gy[o]) : gy[o] == want, "layout %d, window %d: %g",
                      rows, o, gy[o]);
        }
        free(gy);
        sc_tensor_free(&x), sc_tensor_free(&y), sc_tensor_free(&idx);
    }
    sc_conv2d_force_layout(-1);
}

Test(pool, avg_forward_backward)
{
    for (int i = 0; i < 6; i++) {
        check_avg(2, 3, 13, 11, pools[i], 50u + i);
        check_avg(1, 4, 17, 17, pools[i], 60u + i);
    }
}

Test(pool, global_avg_forward_backward)
{
    pcfg g = {0, 0, 0};
    for (int rows = 0; rows <= 1; rows++) { /* the per-plane sums' GPU and CPU forms */
        sc_conv2d_force_layout(rows);
        check_avg(2, 3, 13, 11, g, 70u);
        check_avg(3, 128, 4, 4, g, 71u);
        check_avg(2, 5, 64, 64, g, 72u); /* long planes */
        check_avg(1, 1, 1, 1, g, 73u);
    }
    sc_conv2d_force_layout(-1);
}

/* ---- finite differences -------------------------------------------------------------- */

typedef struct fd_ctx {
    int nc, h, w;
    pcfg p;
    int max;
    const float *r;
    float *y;
    size_t ny;
} fd_ctx;

static double pool_loss(const float *x, void *user)
{
    fd_ctx *f = user;
    if (f->max)
        ref_maxpool_forward(x, f->y, NULL, f->nc, f->h, f->w, f->p.k, f->p.stride, f->p.pad);
    else
        ref_avgpool_forward(x, f->y, f->nc, f->h, f->w, f->p.k, f->p.stride, f->p.pad);
    return test_dot(f->y, f->r, f->ny);
}

static void check_fd(int max, int n, int c, int h, int w, pcfg p, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    sc_pool2d_desc d = {p.k, p.stride, p.pad};
    int xs[4], ys[4];
    shapes(n, c, h, w, p, xs, ys);
    size_t nx = sc_shape_count(4, xs), ny = sc_shape_count(4, ys);
    float *hx = distinct_alloc(nx, seed), *hr = test_rand_alloc(ny, seed + 1, -1.0f, 1.0f);
    float *hy = malloc(ny * sizeof *hy), *fdx = malloc(nx * sizeof *fdx);
    cr_assert(hy && fdx);
    sc_tensor x = test_tensor(4, xs, hx), y = test_tensor(4, ys, NULL);
    sc_tensor idx = test_tensor(4, ys, NULL), dy = test_tensor(4, ys, hr);
    sc_tensor dx = test_tensor(4, xs, NULL);
    if (max) {
        cr_assert_eq(sc_maxpool_forward(ctx, &d, &x, &y, &idx), SC_OK, "%s", sc_last_error());
        cr_assert_eq(sc_maxpool_backward(ctx, &d, &idx, &dy, &dx), SC_OK, "%s",
                     sc_last_error());
    } else {
        cr_assert_eq(sc_avgpool_backward(ctx, &d, &dy, &dx), SC_OK, "%s", sc_last_error());
    }
    float *gdx = test_download(&dx);
    fd_ctx f = {n * c, h, w, p, max, hr, hy, ny};
    for (size_t i = 0; i < nx; i++)
        fdx[i] = (float)test_fd(pool_loss, hx, i, 1e-3f, &f);
    test_expect_close("pool.fd", gdx, fdx, nx);

    sc_tensor_free(&x);
    sc_tensor_free(&y);
    sc_tensor_free(&idx);
    sc_tensor_free(&dy);
    sc_tensor_free(&dx);
    free(hx);
    free(hr);
    free(hy);
    free(fdx);
    free(gdx);
}

Test(pool, max_backward_fd)
{
    for (int i = 0; i < 6; i++)
        check_fd(1, 2, 2, 9, 7, pools[i], 80u + i);
}

Test(pool, avg_backward_fd)
{
    for (int i = 0; i < 6; i++)
        check_fd(0, 2, 2, 9, 7, pools[i], 90u + i);
    check_fd(0, 2, 3, 5, 6, (pcfg){0, 0, 0}, 96u);
}

Test(pool, bad_descriptors_and_shapes_are_reported)
{
    sc_ctx *ctx = test_ctx();
    int xs[4] = {1, 2, 6, 6}, ys[4] = {1, 2, 3, 3}, bad[4] = {1, 2, 4, 3};
    sc_tensor x = test_tensor(4, xs, NULL), y = test_tensor(4, ys, NULL);
    sc_tensor by = test_tensor(4, bad, NULL);
    sc_pool2d_desc d = {2, 2, 0};
    cr_assert_eq(sc_maxpool_forward(ctx, &d, &x, &by, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "y has shape"), "%s", sc_last_error());
    cr_assert_eq(sc_maxpool_forward(ctx, &(sc_pool2d_desc){2, 2, 2}, &x, &y, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "pad < k"), "%s", sc_last_error());
    cr_assert_eq(sc_maxpool_forward(ctx, &(sc_pool2d_desc){0, 1, 0}, &x, &y, NULL), SC_ERR);
    cr_assert_eq(sc_avgpool_forward(ctx, &(sc_pool2d_desc){7, 1, 0}, &x, &y), SC_ERR);
    cr_assert(strstr(sc_last_error(), "does not fit"), "%s", sc_last_error());
    cr_assert_eq(sc_maxpool_forward(ctx, &d, &x, &y, &x), SC_ERR); /* idx of the wrong size */
    cr_assert(strstr(sc_last_error(), "argmax"), "%s", sc_last_error());
    cr_assert_eq(sc_maxpool_backward(ctx, &d, &x, &y, &x), SC_ERR);
    cr_assert_eq(sc_pool2d_out_size(&(sc_pool2d_desc){0, 0, 0}, 17), 1);
    sc_tensor_free(&x);
    sc_tensor_free(&y);
    sc_tensor_free(&by);
}
