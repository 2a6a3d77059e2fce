/* The direct ("tiles") convolution of cl/conv_tiles.cl: a padded, phase-split copy of x,
 * then the forward and the weight gradient straight from it. CPUs take it by default
 * (src/ops/conv.c decides); see the kernel file for the layout and why. */
#include <stdlib.h>
#include <string.h>

#include "conv_tiles.h"

/* Output channels per work-item: CB floatVW accumulators, eight (AVX2) registers' worth,
 * enough independent FMA chains to hide the FMA latency. */
static int cb_of(int vw) { return 64 / vw; }

static int forced = -1;

void sc_conv2d_force_tiles(int on) { forced = on; }

int sc_tiles_on(const sc_ctx *ctx, const sc_conv2d_desc *d, int w)
{
    if (d->k == 1 && d->stride == 1 && d->pad == 0)
        return 0; /* pointwise: x is the GEMM operand already, nothing to copy */
    if (forced >= 0)
        return forced;
    static int env = -1; /* SIAMCL_CONV_TILES=0 turns the path off (A/B against im2col) */
    if (env < 0) {
        const char *e = getenv("SIAMCL_CONV_TILES");
        env = !(e && strcmp(e, "0") == 0);
    }
    /* Rows narrower than 16 outputs leave half a vector idle and the GEMM on the kept
     * im2col matrix wins (the baseline's 8x8 conv4: 4.7 vs 6.6 ms forward). */
    return env && sc_rows_layout(ctx) && sc_conv2d_out_size(w, d->k, d->stride, d->pad) >= 16;
}

/* hp padded rows, s phases of wq floats each; vw outputs per vector. */
static void geom(const sc_conv2d_desc *d, int h, int w, int *hp, int *wq, int *vw)
{
    int ow = sc_conv2d_out_size(w, d->k, d->stride, d->pad);
    *vw = ow >= 16 ? 16 : 8;
    *hp = h + 2 * d->pad;
    /* the last chunk's vector loads end inside the phase row */
    *wq = (int)sc_round_up((size_t)ow, (size_t)*vw) + (d->k - 1) / d->stride;
}

size_t sc_tiles_floats(const sc_conv2d_desc *d, int n, int h, int w)
{
    int hp, wq, vw;
    geom(d, h, w, &hp, &wq, &vw);
    return (size_t)n * d->cin * hp * d->stride * wq;
}

/* One program per vector width, kernel size and stride (a network has a few); `more`:
 * further #defines (the weight gradient's, which make one program per layer). */
static cl_kernel tiles_kernel(sc_ctx *ctx, const sc_conv2d_desc *d, int vw, const char *name,
                              const char *more)
{
    char defines[160];
    snprintf(defines, sizeof defines,
             "#define VW %d\n#define CB %d\n#define KS %d\n#define ST %d\n%s", vw, cb_of(vw),
             d->k, d->stride, more);
    return sc_kernel(ctx, "conv_tiles", defines, name);
}

/* The weight gradient's register block (conv_tiles.cl, tiles_dw): dcb output channels x dt
 * taps. Against the earlier 4 x 2 (a scratch A/B harness on sc_conv2d_backward, 7-11
 * alternating rounds, medians of the ratios, the rows' length as a constant in both new
 * columns): baseline conv2 / conv3 (k5) 4 x 3: 1.21x / 1.21-1.29x; lfw_best's three k3
 * layers at 64, 32, 16 wide: 1.46x, 1.30x, 1.32-1.36x. The baseline's conv1 (k7, 3 input
 * channels) is faster with 8 x 1: 1.50-1.52x (4 x 3: 1.09-1.13x); with so few input
 * channels an item's copy of x is large next to its rows of dy, and 8 channels read it
 * half as often. 6 x 2, 3 x 4, 12 x 1 and 8 x 2 were slower on all five but one. */
static void dw_block(const sc_conv2d_desc *d, int *dcb, int *dt)
{
    *dcb = d->k >= 7 ? 8 : 4;
    *dt = d->k >= 7 ? 1 : 3;
}

/* The weight gradient splits the batch into groups of images when there are too few
 * (input channel, channel block) pairs to keep every core busy; each group writes a
 * partial gradient that a reduction adds up. */
static int dw_groups(const sc_conv2d_desc *d, int n, int *per_group)
{
    int dcb, dt;
    dw_block(d, &dcb, &dt);
    int items = d->cin * ((d->cout + dcb - 1) / dcb), want = 64;
    int groups = items >= want ? 1 : (want + items - 1) / items;
    if (groups > n)
        groups = n;
    *per_group = (n + groups - 1) / groups;
    return (n + *per_group - 1) / *per_group;
}

size_t sc_tiles_dw_floats(const sc_conv2d_desc *d, int n)
{
    int gi, groups = dw_groups(d, n, &gi);
    return groups > 1 ? (size_t)groups * d->cout * d->cin * d->k * d->k : 0;
}

int sc_tiles_split(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x, cl_mem xp,
                   size_t xp_off)
{
    int n = x->shape[0], h = x->shape[2], w = x->shape[3], hp, wq, vw;
    geom(d, h, w, &hp, &wq, &vw);
    if (xp_off + sc_tiles_floats(d, n, h, w) > (size_t)INT_MAX)
        return sc_fail("conv2d: padded input copy too large for 32-bit kernel indexing");
    cl_kernel k = tiles_kernel(ctx, d, vw, "phase_split", "");
    if (!k)
        return SC_ERR;
    int x_off = (int)x->off, off = (int)xp_off, rows = n * d->cin * hp;
    SC_TRY(sc_kernel_args(k, 10, SC_ARG(x->buf), SC_ARG(x_off), SC_ARG(xp), SC_ARG(off),
                          SC_ARG(rows), SC_ARG(h), SC_ARG(w), SC_ARG(d->pad), SC_ARG(hp),
                          SC_ARG(wq)));
    return sc_launch_1d(ctx, k, (size_t)rows, "conv.split");
}

int sc_tiles_forward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x, cl_mem xp,
                     size_t xp_off, const sc_tensor *wt, const sc_tensor *b, sc_tensor *y)
{
    int n = x->shape[0], h = x->shape[2], w = x->shape[3], hp, wq, vw;
    int oh = y->shape[2], ow = y->shape[3];
    geom(d, h, w, &hp, &wq, &vw);
    cl_kernel k = tiles_kernel(ctx, d, vw, "tiles_forward", "");
    if (!k)
        return SC_ERR;
    int off = (int)xp_off, w_off = (int)wt->off, y_off = (int)y->off;
    int has_bias = b != NULL, b_off = b ? (int)b->off : 0;
    cl_mem bbuf = b ? b->buf : wt->buf;
    SC_TRY(sc_kernel_args(k, 15, SC_ARG(xp), SC_ARG(off), SC_ARG(wt->buf), SC_ARG(w_off),
                          SC_ARG(bbuf), SC_ARG(b_off), SC_ARG(has_bias), SC_ARG(y->buf),
                          SC_ARG(y_off), SC_ARG(d->cin), SC_ARG(d->cout), SC_ARG(hp),
                          SC_ARG(wq), SC_ARG(oh), SC_ARG(ow)));
    size_t global[3] = {(size_t)oh, ((size_t)d->cout + cb_of(vw) - 1) / cb_of(vw), (size_t)n};
    return sc_launch(ctx, k, 3, global, NULL, "conv.tiles");
}

int sc_tiles_dw(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x, cl_mem xp,
                size_t xp_off, const sc_tensor *dy, sc_tensor *dw, cl_mem part, size_t part_off)
{
    int n = x->shape[0], h = x->shape[2], w = x->shape[3], hp, wq, vw, gi;
    int oh = dy->shape[2], ow = dy->shape[3], kk = d->k * d->k;
    geom(d, h, w, &hp, &wq, &vw);
    int groups = dw_groups(d, n, &gi), dcb, dt;
    dw_block(d, &dcb, &dt);
    char more[64];
    snprintf(more, sizeof more, "#define DCB %d\n#define DT %d\n#define OW %d\n", dcb, dt, ow);
    cl_kernel k = tiles_kernel(ctx, d, vw, "tiles_dw", more);
    if (!k)
        return SC_ERR;
    cl_mem out = groups > 1 ? part : dw->buf;
    int off = (int)xp_off, dy_off = (int)dy->off;
    int out_off = groups > 1 ? (int)part_off : (int)dw->off;
    /* rows per block: about 512 outputs, whose dy rows (8-16 KB for the item's 4-8
     * channels) and input rows stay in L1 across the taps */
    int rb = ow >= 512 ? 1 : 512 / ow;
    SC_TRY(sc_kernel_args(k, 15, SC_ARG(xp), SC_ARG(off), SC_ARG(dy->buf), SC_ARG(dy_off),
                          SC_ARG(out), SC_ARG(out_off), SC_ARG(n), SC_ARG(gi), SC_ARG(d->cin),
                          SC_ARG(d->cout), SC_ARG(hp), SC_ARG(wq), SC_ARG(oh), SC_ARG(ow),
                          SC_ARG(rb)));
    size_t global[3] = {(size_t)d->cin, ((size_t)d->cout + dcb - 1) / dcb, (size_t)groups};
    SC_TRY(sc_launch(ctx, k, 3, global, NULL, "conv.tiles_dw"));
    if (groups == 1)
        return SC_OK;
    int rows = d->cout * d->cin * kk;
    return sc_plane_sum(ctx, part, (int)part_off, dw->buf, (int)dw->off, rows, groups, rows, 1,
                        1.0f, "conv.tiles_dw");
}

/* dyp: ohp rows of wd floats per (image, output channel), margins covering every load of
 * tiles_dx (conv_tiles.cl). */
static void dx_geom(const sc_conv2d_desc *d, int h, int w, int vw, int *ohp, int *wd)
{
    int m0 = (d->k - 1) / d->stride;
    int oh = sc_conv2d_out_size(h, d->k, d->stride, d->pad);
    int ow = sc_conv2d_out_size(w, d->k, d->stride, d->pad);
    int rows = (h - 1 + d->pad) / d->stride + 1, cols = (w - 1 + d->pad) / d->stride + 1;
    *ohp = m0 + (rows > oh ? rows : oh);
    *wd = m0 + (cols > ow ? cols : ow) + vw;
}

/* Stride 1: dx is the forward convolution of dy with the taps reversed and cin, cout
 * swapped, padded by k - 1 - pad (its output is h x w again), so the forward kernel, the
 * fastest of the three, does it. (tiles_dx, written for strided convs, lost to GEMM +
 * col2im there: 97 vs 70 ms of lfw_best's step.) */
static int dx_as_forward(const sc_conv2d_desc *d, sc_conv2d_desc *f)
{
    if (d->stride != 1 || d->pad > d->k - 1)
        return 0;
    sc_conv2d_desc t = {d->cout, d->cin, d->k, 1, d->k - 1 - d->pad};
    *f = t;
    return 1;
}

size_t sc_tiles_dx_floats(const sc_conv2d_desc *d, int n, int h, int w)
{
    int hp, wq, vw, ohp, wd;
    sc_conv2d_desc f;
    if (dx_as_forward(d, &f)) /* padded dy, then the flipped weights */
        return sc_tiles_floats(&f, n, sc_conv2d_out_size(h, d->k, 1, d->pad),
                               sc_conv2d_out_size(w, d->k, 1, d->pad)) +
               (size_t)d->cout * d->cin * d->k * d->k;
    geom(d, h, w, &hp, &wq, &vw);
    dx_geom(d, h, w, vw, &ohp, &wd);
    /* then the transposed weights, input channels rounded up to the kernel's block */
    size_t cin = sc_round_up((size_t)d->cin, (size_t)cb_of(vw));
    return (size_t)n * d->cout * ohp * wd + (size_t)d->cout * cin * d->k * d->k;
}

static int dx_forward(sc_ctx *ctx, const sc_conv2d_desc *f, const sc_tensor *dy,
                      const sc_tensor *wt, sc_tensor *dx, cl_mem tmp, size_t tmp_off)
{
    size_t copy = sc_tiles_floats(f, dy->shape[0], dy->shape[2], dy->shape[3]);
    int taps = f->cin * f->cout * f->k * f->k;
    if (tmp_off + copy + (size_t)taps > (size_t)INT_MAX)
        return sc_fail("conv2d backward: padded dy too large for 32-bit kernel indexing");
    int hp, wq, vw;
    geom(f, dy->shape[2], dy->shape[3], &hp, &wq, &vw);
    cl_kernel k = tiles_kernel(ctx, f, vw, "flip_w", "");
    if (!k)
        return SC_ERR;
    int w_off = (int)wt->off, wf_off = (int)(tmp_off + copy);
    SC_TRY(sc_kernel_args(k, 6, SC_ARG(wt->buf), SC_ARG(w_off), SC_ARG(tmp), SC_ARG(wf_off),
                          SC_ARG(f->cout), SC_ARG(f->cin)));
    SC_TRY(sc_launch_1d(ctx, k, (size_t)taps, "conv.split"));
    SC_TRY(sc_tiles_split(ctx, f, dy, tmp, tmp_off));
    sc_tensor wf = sc_tensor_view(tmp, (size_t)wf_off, 1, (int[]){taps});
    return sc_tiles_forward(ctx, f, dy, tmp, tmp_off, &wf, NULL, dx);
}

int sc_tiles_dx(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *dy, const sc_tensor *wt,
                sc_tensor *dx, cl_mem tmp, size_t tmp_off)
{
    sc_conv2d_desc f;
    if (dx_as_forward(d, &f))
        return dx_forward(ctx, &f, dy, wt, dx, tmp, tmp_off);
    int n = dx->shape[0], h = dx->shape[2], w = dx->shape[3], hp, wq, vw, ohp, wd;
    int oh = dy->shape[2], ow = dy->shape[3];
    geom(d, h, w, &hp, &wq, &vw);
    dx_geom(d, h, w, vw, &ohp, &wd);
    if (tmp_off + sc_tiles_dx_floats(d, n, h, w) > (size_t)INT_MAX)
        return sc_fail("conv2d backward: padded dy too large for 32-bit kernel indexing");
    cl_kernel kp = tiles_kernel(ctx, d, vw, "pad_dy", "");
    cl_kernel kt = kp ? tiles_kernel(ctx, d, vw, "transpose_w", "") : NULL;
    cl_kernel k = kt ? tiles_kernel(ctx, d, vw, "tiles_dx", "") : NULL;
    if (!k)
        return SC_ERR;
    int dy_off = (int)dy->off, off = (int)tmp_off, rows = n * d->cout * ohp;
    SC_TRY(sc_kernel_args(kp, 9, SC_ARG(dy->buf), SC_ARG(dy_off), SC_ARG(tmp), SC_ARG(off),
                          SC_ARG(rows), SC_ARG(oh), SC_ARG(ow), SC_ARG(ohp), SC_ARG(wd)));
    SC_TRY(sc_launch_1d(ctx, kp, (size_t)rows, "conv.split"));
    int w_off = (int)wt->off, wt_off = off + rows * wd;
    SC_TRY(sc_kernel_args(kt, 6, SC_ARG(wt->buf), SC_ARG(w_off), SC_ARG(tmp), SC_ARG(wt_off),
                          SC_ARG(d->cin), SC_ARG(d->cout)));
    size_t rows_w = (size_t)(d->cin + cb_of(vw) - 1) / cb_of(vw) * d->k * d->k;
    SC_TRY(sc_launch_1d(ctx, kt, rows_w, "conv.split"));
    int dx_off = (int)dx->off;
    SC_TRY(sc_kernel_args(k, 13, SC_ARG(tmp), SC_ARG(off), SC_ARG(tmp), SC_ARG(wt_off),
                          SC_ARG(dx->buf), SC_ARG(dx_off), SC_ARG(d->cin), SC_ARG(d->cout),
                          SC_ARG(h), SC_ARG(w), SC_ARG(d->pad), SC_ARG(ohp), SC_ARG(wd)));
    size_t global[3] = {(size_t)h, ((size_t)d->cin + cb_of(vw) - 1) / cb_of(vw), (size_t)n};
    return sc_launch(ctx, k, 3, global, NULL, "conv.tiles_dx");
}
