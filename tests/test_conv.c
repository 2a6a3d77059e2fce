/* conv2d (GEMM and direct paths) and bias against the plain-C references in
 * tests/support/ref_conv.c, and the backward against finite differences. Covers every
 * kernel/stride/padding of the baseline net, 3x3 s1 p1, 1x1, odd sizes, tensors at nonzero
 * offsets, and every workspace regime (whole batch, chunks, one image at a time). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_conv.h"
#include "siamcl/ops_conv.h"
#include "support.h"

typedef struct cfg {
    int cin, cout, k, stride, pad;
} cfg;

/* The baseline network's convolutions. */
static const cfg baseline[] = {
    {3, 16, 7, 2, 3}, {16, 32, 5, 2, 2}, {32, 64, 5, 2, 2}, {64, 128, 3, 2, 1}};

enum ws_mode { WS_BATCH, WS_ONE, WS_TWO, WS_NONE };

/* A tensor placed `off` floats into its own buffer so kernels must honour offsets.
 * *store owns the buffer. */
static sc_tensor at_offset(sc_tensor *store, size_t off, int ndim, const int *shape,
                           const float *host)
{
    size_t n = sc_shape_count(ndim, shape);
    int total = (int)(n + off);
    float *buf = calloc((size_t)total, sizeof *buf);
    cr_assert(buf);
    if (host)
        memcpy(buf + off, host, n * sizeof *buf);
    else
        for (size_t i = 0; i < n; i++)
            buf[off + i] = NAN; /* outputs must be overwritten, not accumulated */
    *store = test_tensor(1, &total, buf);
    free(buf);
    return sc_tensor_view(store->buf, off, ndim, shape);
}

static size_t ws_floats(const sc_conv2d_desc *d, int n, int h, int w, enum ws_mode mode)
{
    switch (mode) {
    case WS_BATCH:
        return sc_conv2d_workspace(d, n, h, w);
    case WS_ONE:
        return sc_conv2d_workspace(d, 1, h, w);
    case WS_TWO:
        return sc_conv2d_workspace(d, 2, h, w);
    default:
        return 0;
    }
}

/* The workspace tensor for `mode` (NULL for WS_NONE); *store owns it. */
static sc_tensor *make_ws(sc_tensor *store, sc_tensor *view, size_t floats, enum ws_mode mode)
{
    if (mode == WS_NONE) {
        memset(store, 0, sizeof *store);
        return NULL;
    }
    int shape = (int)floats;
    *view = at_offset(store, 7, 1, &shape, NULL);
    return view;
}

static void check_forward(int n, cfg c, int h, int w, enum ws_mode mode, int bias,
                          unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    sc_conv2d_desc d = {c.cin, c.cout, c.k, c.stride, c.pad};
    ref_conv_shape s = ref_conv_shape_make(n, c.cin, h, w, c.cout, c.k, c.stride, c.pad);
    cr_assert_eq(sc_conv2d_out_size(h, c.k, c.stride, c.pad), s.oh);
    cr_assert_eq(sc_conv2d_out_size(w, c.k, c.stride, c.pad), s.ow);
    int xs[4] = {n, c.cin, h, w}, ws4[4] = {c.cout, c.cin, c.k, c.k};
    int ys[4] = {n, c.cout, s.oh, s.ow}, bs[1] = {c.cout};
    size_t nx = sc_shape_count(4, xs), nw = sc_shape_count(4, ws4), ny = sc_shape_count(4, ys);
    float *hx = test_rand_alloc(nx, seed, -1.0f, 1.0f);
    float *hw = test_rand_alloc(nw, seed + 1, -0.5f, 0.5f);
    float *hb = test_rand_alloc((size_t)c.cout, seed + 2, -1.0f, 1.0f);
    float *want = malloc(ny * sizeof *want);
    cr_assert(want);
    ref_conv2d_forward(&s, hx, hw, bias ? hb : NULL, want);

    sc_tensor sx, sw, sb, sy, sy2, sws, wsv;
    sc_tensor x = at_offset(&sx, 3, 4, xs, hx), wt = at_offset(&sw, 5, 4, ws4, hw);
    sc_tensor b = at_offset(&sb, 1, 1, bs, hb);
    sc_tensor y = at_offset(&sy, 2, 4, ys, NULL), y2 = at_offset(&sy2, 0, 4, ys, NULL);
    sc_tensor *ws = make_ws(&sws, &wsv, ws_floats(&d, n, h, w, mode), mode);

    cr_assert_eq(sc_conv2d_forward(ctx, &d, &x, &wt, bias ? &b : NULL, &y, ws), SC_OK, "%s",
                 sc_last_error());
    float *got = test_download(&y);
    test_expect_close("conv2d.forward", got, want, ny);
    free(got);

    cr_assert_eq(sc_conv2d_forward_direct(ctx, &d, &x, &wt, bias ? &b : NULL, &y2), SC_OK,
                 "%s", sc_last_error());
    got = test_download(&y2);
    test_expect_close("conv2d.forward", got, want, ny);
    free(got);

    sc_tensor_free(&sx);
    sc_tensor_free(&sw);
    sc_tensor_free(&sb);
    sc_tensor_free(&sy);
    sc_tensor_free(&sy2);
    if (ws)
        sc_tensor_free(&sws);
    free(hx);
    free(hw);
    free(hb);
    free(want);
}

/* Device dx, dw, db against the exact adjoint computed in double. */
static void check_backward(int n, cfg c, int h, int w, enum ws_mode mode, int want_dx,
                           unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    sc_conv2d_desc d = {c.cin, c.cout, c.k, c.stride, c.pad};
    ref_conv_shape s = ref_conv_shape_make(n, c.cin, h, w, c.cout, c.k, c.stride, c.pad);
    int xs[4] = {n, c.cin, h, w}, ws4[4] = {c.cout, c.cin, c.k, c.k};
    int ys[4] = {n, c.cout, s.oh, s.ow}, bs[1] = {c.cout};
    size_t nx = sc_shape_count(4, xs), nw = sc_shape_count(4, ws4), ny = sc_shape_count(4, ys);
    float *hx = test_rand_alloc(nx, seed, -1.0f, 1.0f);
    float *hw = test_rand_alloc(nw, seed + 1, -0.5f, 0.5f);
    float *hdy = test_rand_alloc(ny, seed + 2, -1.0f, 1.0f);
    float *wdx = malloc(nx * sizeof *wdx), *wdw = malloc(nw * sizeof *wdw);
    float *wdb = malloc((size_t)c.cout * sizeof *wdb);
    cr_assert(wdx && wdw && wdb);
    ref_conv2d_backward(&s, hx, hw, hdy, wdx, wdw, wdb);

    sc_tensor sx, sw, sdy, sdx, sdw, sdb, sws, wsv;
    sc_tensor x = at_offset(&sx, 3, 4, xs, hx), wt = at_offset(&sw, 5, 4, ws4, hw);
    sc_tensor dy = at_offset(&sdy, 1, 4, ys, hdy);
    sc_tensor dx = at_offset(&sdx, 2, 4, xs, NULL), dw = at_offset(&sdw, 4, 4, ws4, NULL);
    sc_tensor db = at_offset(&sdb, 6, 1, bs, NULL);
    sc_tensor *ws = make_ws(&sws, &wsv, ws_floats(&d, n, h, w, mode), mode);

    cr_assert_eq(sc_conv2d_backward(ctx, &d, &x, &wt, &dy, want_dx ? &dx : NULL, &dw, &db, ws),
                 SC_OK, "%s", sc_last_error());
    float *got;
    if (want_dx) {
        got = test_download(&dx);
        test_expect_close("conv2d.backward", got, wdx, nx);
        free(got);
    }
    got = test_download(&dw);
    test_expect_close("conv2d.backward", got, wdw, nw);
    free(got);
    got = test_download(&db);
    test_expect_close("conv2d.backward", got, wdb, (size_t)c.cout);
    free(got);

    sc_tensor_free(&sx);
    sc_tensor_free(&sw);
    sc_tensor_free(&sdy);
    sc_tensor_free(&sdx);
    sc_tensor_free(&sdw);
    sc_tensor_free(&sdb);
    if (ws)
        sc_tensor_free(&sws);
    free(hx);
    free(hw);
    free(hdy);
    free(wdx);
    free(wdw);
    free(wdb);
}

Test(conv, forward_baseline_13x11_whole_batch)
{
    for (int i = 0; i < 4; i++)
        check_forward(2, baseline[i], 13, 11, WS_BATCH, 1, 10u + i);
}

Test(conv, forward_baseline_17x17_one_image_per_gemm)
{
    for (int i = 0; i < 4; i++)
        check_forward(2, baseline[i], 17, 17, WS_ONE, i % 2, 20u + i);
}

Test(conv, forward_128x128_first_layer)
{
    check_forward(2, baseline[0], 128, 128, WS_BATCH, 1, 30u);
}

Test(conv, forward_k3_s1_p1_and_odd_shapes)
{
    check_forward(3, (cfg){5, 7, 3, 1, 1}, 9, 7, WS_BATCH, 1, 40u);
    check_forward(3, (cfg){5, 7, 3, 1, 1}, 9, 7, WS_ONE, 0, 41u);
    check_forward(1, (cfg){3, 5, 4, 3, 1}, 10, 13, WS_ONE, 1, 42u); /* even k, stride 3 */
    check_forward(2, (cfg){2, 3, 3, 1, 0}, 3, 3, WS_BATCH, 1, 43u); /* 1x1 output */
}

Test(conv, forward_1x1)
{
    /* Pointwise: with one image per GEMM no workspace at all, x is the GEMM operand. */
    check_forward(3, (cfg){6, 4, 1, 1, 0}, 5, 7, WS_NONE, 1, 50u);
    check_forward(3, (cfg){6, 4, 1, 1, 0}, 5, 7, WS_BATCH, 1, 51u);
    check_forward(2, (cfg){6, 4, 1, 2, 0}, 5, 7, WS_ONE, 0, 52u); /* strided 1x1 */
}

Test(conv, forward_chunks_of_two_with_a_remainder)
{
    /* 5 images in a workspace for 2: chunks 2, 2, 1 (both GEMM layouts in one call). */
    check_forward(5, baseline[1], 13, 11, WS_TWO, 1, 60u);
    check_forward(5, (cfg){6, 4, 1, 1, 0}, 5, 7, WS_TWO, 1, 61u);
}

Test(conv, backward_baseline_13x11)
{
    for (int i = 0; i < 4; i++)
        check_backward(2, baseline[i], 13, 11, WS_BATCH, i > 0, 70u + i);
}

Test(conv, backward_baseline_17x17_one_image_and_chunks)
{
    for (int i = 0; i < 4; i++)
        check_backward(3, baseline[i], 17, 17, i % 2 ? WS_ONE : WS_TWO, 1, 80u + i);
}

/* Both im2col/col2im layouts whatever device runs the tests, so a CPU-only CI still checks
 * the kernels a GPU would use (and the reverse on a GPU). */
Test(conv, both_kernel_layouts_match_the_reference)
{
    for (int rows = 0; rows <= 1; rows++) {
        sc_conv2d_force_layout(rows);
        for (int i = 0; i < 4; i++) {
            check_forward(2, baseline[i], 13, 11, WS_BATCH, 1, 100u + i);
            check_backward(2, baseline[i], 17, 17, WS_TWO, 1, 110u + i);
        }
        check_backward(2, (cfg){3, 5, 4, 3, 1}, 10, 13, WS_ONE, 1, 120u);
        check_forward(1, (cfg){3, 5, 4, 3, 1}, 10, 13, WS_BATCH, 1, 121u);
    }
    sc_conv2d_force_layout(-1);
}

/* The direct path and the im2col path whatever the device: rows of one partial vector
 * (ow 7), of whole 16-wide chunks (ow 32) and of chunks plus a tail (ow 37), channels
 * that are not a multiple of the kernels' channel blocks (the weight gradient's 4, and 8
 * at k 7; the strided data gradient's 8 at rows under 16 wide and 4 at 16 or more: cin 5
 * at 20 wide), a tap count off a multiple of the weight gradient's 3 (k 5), strides 1 to
 * 3. */
Test(conv, direct_tiles_and_im2col_paths_match_the_reference)
{
    for (int tiles = 0; tiles <= 1; tiles++) {
        sc_conv2d_force_tiles(tiles);
        check_forward(2, baseline[0], 64, 64, WS_BATCH, 1, 130u);
        check_backward(2, baseline[0], 64, 64, WS_BATCH, 0, 131u);
        check_forward(2, (cfg){3, 6, 5, 1, 2}, 9, 37, WS_BATCH, 1, 132u);
        check_backward(2, (cfg){3, 6, 5, 1, 2}, 9, 37, WS_BATCH, 1, 133u);
        check_forward(3, (cfg){5, 7, 3, 1, 1}, 9, 7, WS_BATCH, 0, 134u);
        check_backward(3, (cfg){5, 7, 3, 1, 1}, 9, 7, WS_BATCH, 1, 135u);
        check_backward(2, (cfg){3, 5, 4, 3, 1}, 10, 13, WS_BATCH, 1, 136u);
        check_backward(2, (cfg){2, 11, 7, 2, 3}, 20, 19, WS_BATCH, 1, 137u);
        check_backward(2, (cfg){5, 6, 5, 2, 2}, 40, 40, WS_BATCH, 1, 138u);
    }
    sc_conv2d_force_tiles(-1);
}

/* A wide layer on the direct path: 4096 weight-gradient items (each with a few KB of
 * private sums; PoCL picks their work-group shape), and a 128-channel stride-1 data
 * gradient through the forward kernel. */
Test(conv, direct_weight_gradient_of_a_wide_layer)
{
    sc_conv2d_force_tiles(1);
    check_backward(1, (cfg){128, 128, 5, 1, 2}, 16, 16, WS_BATCH, 1, 140u);
    sc_conv2d_force_tiles(-1);
}

Test(conv, backward_k3_s1_p1_and_1x1)
{
    check_backward(3, (cfg){5, 7, 3, 1, 1}, 9, 7, WS_BATCH, 1, 90u);
    check_backward(3, (cfg){5, 7, 3, 1, 1}, 9, 7, WS_ONE, 1, 91u);
    check_backward(3, (cfg){6, 4, 1, 1, 0}, 5, 7, WS_NONE, 1, 92u);
    check_backward(3, (cfg){6, 4, 1, 1, 0}, 5, 7, WS_TWO, 1, 93u);
    check_backward(2, (cfg){3, 5, 4, 3, 1}, 10, 13, WS_ONE, 1, 94u);
}

/* The training pair that keeps the forward's im2col matrix: y, then dx, dw, db from the
 * kept matrix, against the references (the matrix at an offset, every workspace regime). */
static void check_kept(int n, cfg c, int h, int w, enum ws_mode mode, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    sc_conv2d_desc d = {c.cin, c.cout, c.k, c.stride, c.pad};
    ref_conv_shape s = ref_conv_shape_make(n, c.cin, h, w, c.cout, c.k, c.stride, c.pad);
    int xs[4] = {n, c.cin, h, w}, ws4[4] = {c.cout, c.cin, c.k, c.k};
    int ys[4] = {n, c.cout, s.oh, s.ow}, bs[1] = {c.cout};
    int cs[1] = {(int)sc_conv2d_keep_floats(ctx, &d, n, h, w)};
    size_t cols = (size_t)n * s.oh * s.ow;
    cr_assert_eq(sc_conv2d_col_floats(&d, n, h, w), (size_t)c.cin * c.k * c.k * sc_conv2d_ld(cols));
    size_t nx = sc_shape_count(4, xs), nw = sc_shape_count(4, ws4), ny = sc_shape_count(4, ys);
    float *hx = test_rand_alloc(nx, seed, -1.0f, 1.0f);
    float *hw = test_rand_alloc(nw, seed + 1, -0.5f, 0.5f);
    float *hb = test_rand_alloc((size_t)c.cout, seed + 2, -1.0f, 1.0f);
    float *hdy = test_rand_alloc(ny, seed + 3, -1.0f, 1.0f);
    float *wy = malloc(ny * sizeof *wy), *wdx = malloc(nx * sizeof *wdx);
    float *wdw = malloc(nw * sizeof *wdw), *wdb = malloc((size_t)c.cout * sizeof *wdb);
    cr_assert(wy && wdx && wdw && wdb);
    ref_conv2d_forward(&s, hx, hw, hb, wy);
    ref_conv2d_backward(&s, hx, hw, hdy, wdx, wdw, wdb);

    sc_tensor sx, sw, sb, sy, sdy, sdx, sdw, sdb, scol, sws, wsv;
    sc_tensor x = at_offset(&sx, 3, 4, xs, hx), wt = at_offset(&sw, 5, 4, ws4, hw);
    sc_tensor b = at_offset(&sb, 1, 1, bs, hb), y = at_offset(&sy, 2, 4, ys, NULL);
    sc_tensor dy = at_offset(&sdy, 1, 4, ys, hdy), dx = at_offset(&sdx, 2, 4, xs, NULL);
    sc_tensor dw = at_offset(&sdw, 4, 4, ws4, NULL), db = at_offset(&sdb, 6, 1, bs, NULL);
    sc_tensor col = at_offset(&scol, 9, 1, cs, NULL);
    sc_tensor *ws = make_ws(&sws, &wsv, ws_floats(&d, n, h, w, mode), mode);

    cr_assert_eq(sc_conv2d_forward_keep(ctx, &d, &x, &wt, &b, &y, ws, &col), SC_OK, "%s",
                 sc_last_error());
    float *got = test_download(&y);
    test_expect_close("conv2d.forward", got, wy, ny);
    free(got);
    cr_assert_eq(sc_conv2d_backward_kept(ctx, &d, &x, &wt, &dy, &dx, &dw, &db, ws, &col),
                 SC_OK, "%s", sc_last_error());
    float *gdx = test_download(&dx), *gdw = test_download(&dw), *gdb = test_download(&db);
    test_expect_close("conv2d.backward", gdx, wdx, nx);
    test_expect_close("conv2d.backward", gdw, wdw, nw);
    test_expect_close("conv2d.backward", gdb, wdb, (size_t)c.cout);
    free(gdx);
    free(gdw);
    free(gdb);

    /* A matrix one float short is refused with both sizes, and y is left alone. */
    sc_tensor short_col = sc_tensor_view(col.buf, col.off, 1, (int[]){cs[0] - 1});
    cr_assert_eq(sc_conv2d_forward_keep(ctx, &d, &x, &wt, &b, &y, ws, &short_col), SC_ERR);
    char want[96];
    snprintf(want, sizeof want, "holds %d floats, the batch needs %d", cs[0] - 1, cs[0]);
    cr_assert(strstr(sc_last_error(), want), "%s", sc_last_error());
    sc_clear_error();

    sc_tensor *all[] = {&sx, &sw, &sb, &sy, &sdy, &sdx, &sdw, &sdb, &scol};
    for (int i = 0; i < 9; i++)
        sc_tensor_free(all[i]);
    if (ws)
        sc_tensor_free(&sws);
    float *hosts[] = {hx, hw, hb, hdy, wy, wdx, wdw, wdb};
    for (int i = 0; i < 8; i++)
        free(hosts[i]);
}

/* Kept im2col matrix (tiles off) and kept copy of x (the direct path). */
Test(conv, kept_im2col_matrix_in_every_workspace_regime)
{
    for (int tiles = 0; tiles <= 1; tiles++) {
        sc_conv2d_force_tiles(tiles);
        for (int i = 0; i < 4; i++)
            check_kept(3, baseline[i], 17, 13, i % 2 ? WS_ONE : WS_BATCH, 200u + i);
        check_kept(5, baseline[1], 13, 11, WS_TWO, 210u); /* chunks 2, 2, 1 */
        check_kept(3, (cfg){5, 7, 3, 1, 1}, 9, 7, WS_TWO, 211u);
        check_kept(2, (cfg){3, 5, 4, 3, 1}, 10, 13, WS_ONE, 212u);
    }
    sc_conv2d_force_tiles(-1);
}

/* Chunks whose column count is a multiple of 256 get rows sc_conv2d_ld apart (padded):
 * the whole batch (4 x 64 columns), chunks of 2 and 1 images of 256 columns each, and the
 * kept matrix, with both kernel layouts. Odd sizes elsewhere keep the rows unpadded. */
Test(conv, padded_rows_in_every_workspace_regime)
{
    cr_assert_eq(sc_conv2d_ld(8192), 8224);
    cr_assert_eq(sc_conv2d_ld(8191), 8191);
    cr_assert_eq(sc_conv2d_ld(200), 200);
    sc_conv2d_force_tiles(0);
    for (int rows = 0; rows <= 1; rows++) {
        sc_conv2d_force_layout(rows);
        check_forward(4, baseline[3], 16, 16, WS_BATCH, 1, 150u + rows);
        check_backward(4, baseline[3], 16, 16, WS_BATCH, 1, 152u + rows);
        check_forward(3, baseline[2], 32, 32, WS_TWO, 1, 154u + rows);
        check_backward(3, baseline[2], 32, 32, WS_TWO, 1, 156u + rows);
        check_kept(4, baseline[3], 16, 16, WS_ONE, 158u + rows);
        check_kept(4, baseline[3], 16, 16, WS_BATCH, 160u + rows);
    }
    sc_conv2d_force_layout(-1);
    sc_conv2d_force_tiles(-1);
}

/* The im2col matrix in panels (sc_gemm_panel) and row-major, whatever the device: output
 * planes of 256 and 64 pixels (every image starts a panel), the whole batch, one image per
 * GEMM and chunks of two with a remainder, and the kept matrix read chunk by chunk. */
Test(conv, panel_and_row_major_im2col_match_the_reference)
{
    sc_conv2d_force_tiles(0);
    for (int panel = 0; panel <= 1; panel++) {
        sc_conv2d_force_panel(panel);
        check_forward(2, baseline[0], 32, 32, WS_BATCH, 1, 170u + panel);
        check_backward(2, baseline[0], 32, 32, WS_BATCH, 0, 172u + panel);
        check_forward(5, baseline[1], 32, 32, WS_TWO, 1, 174u + panel);
        check_backward(5, baseline[1], 32, 32, WS_TWO, 1, 176u + panel);
        check_backward(2, baseline[3], 16, 16, WS_ONE, 1, 178u + panel);
        check_kept(5, baseline[1], 32, 32, WS_TWO, 180u + panel);
        check_kept(3, baseline[3], 16, 16, WS_BATCH, 182u + panel);
    }
    sc_conv2d_force_panel(-1);
    sc_conv2d_force_tiles(-1);
}

/* im2col_panel's three ways of filling a panel, forced on whatever the device: output rows
 * of a multiple of 16 (32 and 48: several panels a row; stride 3), of a divisor of 16 (a
 * panel spans 16 / ow rows: 8 with the window past the right border, 4, 2, 1) and of
 * other widths (12, 20, 24: lane by lane); forward, backward, and the kept matrix read
 * chunk by chunk by the forward too (a workspace for one image's GEMM output). */
Test(conv, panel_im2col_at_every_width)
{
    sc_conv2d_force_tiles(0);
    sc_conv2d_force_panel(1);
    check_forward(2, (cfg){3, 6, 3, 1, 1}, 3, 32, WS_BATCH, 1, 190u);
    check_forward(2, (cfg){3, 6, 5, 3, 2}, 4, 142, WS_TWO, 1, 191u);
    check_forward(3, (cfg){3, 5, 3, 1, 1}, 8, 8, WS_BATCH, 1, 192u);
    check_forward(3, (cfg){3, 5, 5, 2, 2}, 7, 7, WS_BATCH, 1, 193u);
    check_forward(2, (cfg){3, 5, 3, 1, 1}, 8, 2, WS_TWO, 1, 194u);
    check_forward(2, (cfg){3, 5, 3, 1, 1}, 16, 1, WS_TWO, 1, 195u);
    check_forward(3, (cfg){3, 5, 3, 1, 1}, 4, 12, WS_BATCH, 1, 196u);
    check_forward(3, (cfg){2, 4, 3, 1, 0}, 6, 22, WS_ONE, 1, 197u);
    check_backward(3, (cfg){3, 5, 3, 1, 1}, 2, 24, WS_TWO, 1, 198u);
    check_backward(3, (cfg){3, 5, 3, 1, 1}, 8, 8, WS_BATCH, 1, 199u);
    check_kept(5, (cfg){3, 10, 3, 1, 1}, 4, 12, WS_ONE, 200u);
    check_kept(5, (cfg){1, 4, 3, 1, 1}, 16, 16, WS_ONE, 201u);
    sc_conv2d_force_panel(-1);
    sc_conv2d_force_tiles(-1);
}

/* ---- finite differences -------------------------------------------------------------- */

typedef struct fd_ctx {
    ref_conv_shape s;
    const float *x, *w, *b, *r;
    int which; /* 0: vary x, 1: vary w, 2: vary b */
    float *y;
} fd_ctx;

static double conv_loss(const float *v, void *user)
{
    fd_ctx *f = user;
    ref_conv2d_forward(&f->s, f->which == 0 ? v : f->x, f->which == 1 ? v : f->w,
                       f->which == 2 ? v : f->b, f->y);
    return test_dot(f->y, f->r, (size_t)f->s.n * f->s.cout * f->s.oh * f->s.ow);
}

/* Gradients of L = sum(conv(x, w, b) * r) from the device backward (dy = r) against
 * central differences of the reference forward, for every element of x, w and b. */
static void check_fd(int n, cfg c, int h, int w, enum ws_mode mode, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    sc_conv2d_desc d = {c.cin, c.cout, c.k, c.stride, c.pad};
    ref_conv_shape s = ref_conv_shape_make(n, c.cin, h, w, c.cout, c.k, c.stride, c.pad);
    int xs[4] = {n, c.cin, h, w}, ws4[4] = {c.cout, c.cin, c.k, c.k};
    int ys[4] = {n, c.cout, s.oh, s.ow}, bs[1] = {c.cout};
    size_t nx = sc_shape_count(4, xs), nw = sc_shape_count(4, ws4), ny = sc_shape_count(4, ys);
    float *hx = test_rand_alloc(nx, seed, -1.0f, 1.0f);
    float *hw = test_rand_alloc(nw, seed + 1, -0.5f, 0.5f);
    float *hb = test_rand_alloc((size_t)c.cout, seed + 2, -0.5f, 0.5f);
    float *hr = test_rand_alloc(ny, seed + 3, -1.0f, 1.0f);
    float *hy = malloc(ny * sizeof *hy);
    cr_assert(hy);

    sc_tensor x = test_tensor(4, xs, hx), wt = test_tensor(4, ws4, hw);
    sc_tensor dy = test_tensor(4, ys, hr), dx = test_tensor(4, xs, NULL);
    sc_tensor dw = test_tensor(4, ws4, NULL), db = test_tensor(1, bs, NULL);
    sc_tensor sws, wsv;
    sc_tensor *ws = make_ws(&sws, &wsv, ws_floats(&d, n, h, w, mode), mode);
    cr_assert_eq(sc_conv2d_backward(ctx, &d, &x, &wt, &dy, &dx, &dw, &db, ws), SC_OK, "%s",
                 sc_last_error());
    float *gx = test_download(&dx), *gw = test_download(&dw), *gb = test_download(&db);

    fd_ctx f = {s, hx, hw, hb, hr, 0, hy};
    float *fx = malloc(nx * sizeof *fx), *fw = malloc(nw * sizeof *fw);
    float *fb = malloc((size_t)c.cout * sizeof *fb);
    cr_assert(fx && fw && fb);
    /* The loss is linear in each argument, so a large step costs no truncation error. */
    const float eps = 1e-2f;
    f.which = 0;
    for (size_t i = 0; i < nx; i++)
        fx[i] = (float)test_fd(conv_loss, hx, i, eps, &f);
    f.which = 1;
    for (size_t i = 0; i < nw; i++)
        fw[i] = (float)test_fd(conv_loss, hw, i, eps, &f);
    f.which = 2;
    for (int i = 0; i < c.cout; i++)
        fb[i] = (float)test_fd(conv_loss, hb, (size_t)i, eps, &f);
    test_expect_close("conv2d.fd", gx, fx, nx);
    test_expect_close("conv2d.fd", gw, fw, nw);
    test_expect_close("conv2d.fd", gb, fb, (size_t)c.cout);

    sc_tensor_free(&x);
    sc_tensor_free(&wt);
    sc_tensor_free(&dy);
    sc_tensor_free(&dx);
    sc_tensor_free(&dw);
    sc_tensor_free(&db);
    if (ws)
        sc_tensor_free(&sws);
    free(hx);
    free(hw);
    free(hb);
    free(hr);
    free(hy);
    free(gx);
    free(gw);
    free(gb);
    free(fx);
    free(fw);
    free(fb);
}

Test(conv, backward_fd_baseline_strides_and_pads)
{
    /* The baseline's k/stride/pad with few channels so every element can be checked; the
     * whole-batch workspace also takes the direct path where it is on. */
    for (int tiles = 0; tiles <= 1; tiles++) {
        sc_conv2d_force_tiles(tiles);
        for (int i = 0; i < 4; i++) {
            cfg c = baseline[i];
            c.cin = 2;
            c.cout = 3;
            check_fd(2, c, 9, 7, i % 2 ? WS_ONE : WS_BATCH, 100u + i);
        }
    }
    sc_conv2d_force_tiles(-1);
}

Test(conv, backward_fd_k3_s1_p1_and_1x1)
{
    check_fd(2, (cfg){3, 4, 3, 1, 1}, 6, 5, WS_BATCH, 110u);
    check_fd(3, (cfg){3, 2, 1, 1, 0}, 4, 5, WS_NONE, 111u);
    check_fd(3, (cfg){3, 2, 1, 1, 0}, 4, 5, WS_TWO, 112u);
}

/* ---- bias --------------------------------------------------------------------------- */

static void check_bias(int ndim, const int *shape, unsigned seed)
{
    sc_ctx *ctx = test_ctx();
    int n = shape[0], c = shape[1], plane = 1;
    for (int i = 2; i < ndim; i++)
        plane *= shape[i];
    size_t ny = sc_shape_count(ndim, shape);
    float *hy = test_rand_alloc(ny, seed, -1.0f, 1.0f);
    float *hb = test_rand_alloc((size_t)c, seed + 1, -1.0f, 1.0f);
    float *want = malloc(ny * sizeof *want), *wdb = malloc((size_t)c * sizeof *wdb);
    cr_assert(want && wdb);
    memcpy(want, hy, ny * sizeof *want);
    ref_bias_forward(want, hb, n, c, plane);
    ref_bias_backward(hy, wdb, n, c, plane);

    sc_tensor sy, sb, sdb;
    sc_tensor y = at_offset(&sy, 3, ndim, shape, hy), b = at_offset(&sb, 2, 1, &c, hb);
    sc_tensor db = at_offset(&sdb, 1, 1, &c, NULL);
    /* The gradient first (from the untouched y), then the in-place add. */
    cr_assert_eq(sc_bias_backward(ctx, &y, &db), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_bias_forward(ctx, &y, &b), SC_OK, "%s", sc_last_error());
    float *got = test_download(&y);
    test_expect_close("elementwise.forward", got, want, ny);
    free(got);
    got = test_download(&db);
    test_expect_close("reduce.forward", got, wdb, (size_t)c);
    free(got);
    sc_tensor_free(&sy);
    sc_tensor_free(&sb);
    sc_tensor_free(&sdb);
    free(hy);
    free(hb);
    free(want);
    free(wdb);
}

Test(conv, bias_forward_and_grad)
{
    /* both forms of the per-plane sums: the work-group tree (GPU), one item a row (CPU) */
    for (int rows = 0; rows <= 1; rows++) {
        sc_conv2d_force_layout(rows);
        check_bias(4, (int[]){3, 5, 7, 9}, 200u);
        check_bias(4, (int[]){2, 16, 64, 64}, 201u); /* long per-channel sums */
        check_bias(2, (int[]){7, 13}, 202u);         /* [N, C] for linear layers */
        check_bias(4, (int[]){1, 1, 1, 1}, 203u);
    }
    sc_conv2d_force_layout(-1);
}

/* ---- errors ------------------------------------------------------------------------- */

Test(conv, shape_and_workspace_errors_are_reported)
{
    sc_ctx *ctx = test_ctx();
    sc_conv2d_desc d = {3, 4, 3, 1, 1};
    int xs[4] = {2, 3, 8, 8}, ws4[4] = {4, 3, 3, 3}, ys[4] = {2, 4, 8, 8};
    int bad_ys[4] = {2, 4, 7, 8}, bad_xs[4] = {2, 2, 8, 8};
    sc_tensor x = test_tensor(4, xs, NULL), wt = test_tensor(4, ws4, NULL);
    sc_tensor y = test_tensor(4, ys, NULL), by = test_tensor(4, bad_ys, NULL);
    sc_tensor bx = test_tensor(4, bad_xs, NULL);
    /* smaller than one image's im2col matrix and than the direct path's copy of x */
    size_t one = sc_conv2d_workspace(&d, 1, 8, 8), copy = sc_conv2d_keep_floats(ctx, &d, 2, 8, 8);
    int small = (int)(one < copy ? one : copy) - 1;
    sc_tensor ws = test_tensor(1, &small, NULL);

    cr_assert_eq(sc_conv2d_forward(ctx, &d, &x, &wt, NULL, &by, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "output"), "%s", sc_last_error());
    cr_assert_eq(sc_conv2d_forward(ctx, &d, &bx, &wt, NULL, &y, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "channels"), "%s", sc_last_error());
    cr_assert_eq(sc_conv2d_forward(ctx, &d, &x, &wt, NULL, &y, &ws), SC_ERR);
    cr_assert(strstr(sc_last_error(), "workspace"), "%s", sc_last_error());
    cr_assert_eq(sc_conv2d_backward(ctx, &d, &x, &wt, &y, &x, &wt, NULL, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "workspace"), "%s", sc_last_error());
    sc_conv2d_desc big = {3, 4, 11, 1, 1};
    cr_assert_eq(sc_conv2d_forward_direct(ctx, &big, &x, &wt, NULL, &y), SC_ERR);
    cr_assert(strstr(sc_last_error(), "does not fit"), "%s", sc_last_error());
    cr_assert_eq(sc_conv2d_out_size(8, 11, 1, 1), 0);
    cr_assert_eq(sc_conv2d_workspace(&(sc_conv2d_desc){6, 4, 1, 1, 0}, 1, 5, 5), 0);

    sc_tensor_free(&x);
    sc_tensor_free(&wt);
    sc_tensor_free(&y);
    sc_tensor_free(&by);
    sc_tensor_free(&bx);
    sc_tensor_free(&ws);
}
