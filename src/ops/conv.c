/* conv2d: im2col + SGEMM forward and backward, and a direct reference kernel.
 * A batch is processed in chunks of nb images: one im2col and one GEMM per chunk, nb as
 * large as the caller's workspace allows (the whole batch when sized with
 * sc_conv2d_workspace). With nb == 1 the GEMM writes NCHW directly; with nb > 1 its output
 * [cout, nb*P] goes through the workspace and a permute kernel that also adds the bias.
 * Training may keep the forward's im2col matrix for the backward (the _keep/_kept pair),
 * which then skips building it again: one pass over the largest matrix a layer writes.
 * On CPUs, layers with output rows of 16 or more take the direct path of conv_tiles.c
 * instead (no im2col matrix at all; the kept tensor then holds a padded copy of x). */
#include "siamcl/ops_conv.h"

#include <stdlib.h>
#include <string.h>

#include "conv_common.h"
#include "conv_tiles.h"
#include "siamcl/ops_gemm.h"

int sc_conv2d_out_size(int in, int k, int stride, int pad)
{
    if (in <= 0 || k <= 0 || stride <= 0 || pad < 0 || in + 2 * pad < k)
        return 0;
    return (in + 2 * pad - k) / stride + 1;
}

/* 1x1, stride 1, no padding: the im2col matrix of one image is the image itself. */
static int is_pointwise(const sc_conv2d_desc *d)
{
    return d->k == 1 && d->stride == 1 && d->pad == 0;
}

size_t sc_conv2d_ld(size_t cols)
{
    return cols % 256 == 0 ? cols + 32 : cols;
}

static size_t out_pixels(const sc_conv2d_desc *d, int h, int w)
{
    return (size_t)sc_conv2d_out_size(h, d->k, d->stride, d->pad) *
           (size_t)sc_conv2d_out_size(w, d->k, d->stride, d->pad);
}

/* Workspace floats for a chunk of cnt images: the im2col matrix and, for cnt > 1, the GEMM
 * output (or the permuted dy), both [rows, cnt * P] with rows sc_conv2d_ld apart. */
static size_t chunk_floats(const sc_conv2d_desc *d, int cnt, size_t p)
{
    size_t kdim = (size_t)d->cin * d->k * d->k, ld = sc_conv2d_ld((size_t)cnt * p);
    if (cnt <= 1)
        return is_pointwise(d) ? 0 : kdim * ld;
    return (kdim + (size_t)d->cout) * ld;
}

size_t sc_conv2d_workspace(const sc_conv2d_desc *d, int n, int h, int w)
{
    return chunk_floats(d, n, out_pixels(d, h, w));
}

/* Validates everything shared by forward and backward; fills oh, ow. */
static int check_desc(const sc_conv2d_desc *d, const sc_tensor *x, const char *op, int *oh,
                      int *ow)
{
    if (!d || d->cin <= 0 || d->cout <= 0 || d->k <= 0 || d->stride <= 0 || d->pad < 0)
        return sc_fail("%s: bad descriptor (cin=%d cout=%d k=%d stride=%d pad=%d)", op,
                       d ? d->cin : 0, d ? d->cout : 0, d ? d->k : 0, d ? d->stride : 0,
                       d ? d->pad : 0);
    if (!x || !x->buf || x->ndim != 4)
        return sc_fail("%s: input must be a 4-D NCHW tensor", op);
    if (x->shape[1] != d->cin)
        return sc_fail("%s: input has %d channels, the layer expects %d", op, x->shape[1],
                       d->cin);
    *oh = sc_conv2d_out_size(x->shape[2], d->k, d->stride, d->pad);
    *ow = sc_conv2d_out_size(x->shape[3], d->k, d->stride, d->pad);
    if (*oh <= 0 || *ow <= 0)
        return sc_fail("%s: a %dx%d kernel with pad %d does not fit a %dx%d input", op, d->k,
                       d->k, d->pad, x->shape[2], x->shape[3]);
    /* The largest index a kernel forms is inside the workspace, the im2col matrix or a
     * tensor. */
    size_t p = out_pixels(d, x->shape[2], x->shape[3]);
    if (chunk_floats(d, x->shape[0], p) > (size_t)INT_MAX ||
        (size_t)x->shape[0] * d->cout * p > (size_t)INT_MAX)
        return sc_fail("%s: layer too large for 32-bit kernel indexing", op);
    return sc_fits_int(x, op, "x");
}

/* The most images (up to n, at least 1) whose chunk of rows x sc_conv2d_ld(cnt * p) floats
 * fits in cap. */
static int most_images(size_t rows, int n, size_t p, size_t cap)
{
    size_t fit = cap / (rows * p);
    int nb = fit < (size_t)n ? (int)fit : n;
    while (nb > 1 && rows * sc_conv2d_ld((size_t)nb * p) > cap)
        nb--; /* the padding of the rows */
    return nb < 1 ? 1 : nb;
}

/* How many images one GEMM takes, given the workspace. */
static int chunk_images(const sc_conv2d_desc *d, const sc_tensor *x, const sc_tensor *ws,
                        const char *op, int *nb)
{
    int n = x->shape[0], h = x->shape[2], w = x->shape[3];
    size_t cap = ws && ws->buf ? ws->n : 0;
    size_t need = sc_conv2d_workspace(d, 1, h, w);
    if (cap < need)
        return sc_fail("%s: workspace holds %zu floats, needs at least %zu "
                       "(sc_conv2d_workspace(d, 1, %d, %d); %zu for the whole batch of %d)",
                       op, cap, need, h, w, sc_conv2d_workspace(d, n, h, w), n);
    if (ws && ws->buf)
        SC_TRY(sc_fits_int(ws, op, "workspace"));
    size_t rows = (size_t)d->cin * d->k * d->k + (size_t)d->cout;
    *nb = most_images(rows, n, out_pixels(d, h, w), cap);
    return SC_OK;
}

/* Which im2col/col2im kernels run: -1 by device type, 0 the GPU layout, 1 the CPU rows. */
static int forced_rows = -1;

void sc_conv2d_force_layout(int rows) { forced_rows = rows; }

int sc_rows_layout(const sc_ctx *ctx)
{
    return forced_rows >= 0 ? forced_rows : (ctx->dev.type & CL_DEVICE_TYPE_CPU) != 0;
}

/* Whether the im2col matrix goes in panels of 16 columns (cl/conv.cl, im2col_panel) for
 * sc_gemm_panel: on CPUs when the own GEMM runs, for output planes of a multiple of 16
 * pixels (every image, so every chunk, starts a panel). The forward GEMM then reads one
 * sequential stream instead of gathering 64-byte pieces of K rows. Measured against
 * row-major (a scratch A/B harness, 15 alternating rounds, medians of the ratios; bench_gemm
 * times both each run): forward GEMMs 1.3-1.6x at the baseline's conv1-4; weight gradients
 * 0.9-1.08x (conv1-2: the split-K kernel; conv3-4: gemm_strip). $SIAMCL_CONV_PANEL=0 turns
 * it off (A/B). A forward with keep and its backward must decide alike: the GEMM backend is
 * fixed per device and process unless sc_gemm_backend_set changes it in between. */
static int forced_panel = -1;

void sc_conv2d_force_panel(int on) { forced_panel = on; }

static int panel_layout(sc_ctx *ctx, const sc_conv2d_desc *d, size_t p)
{
    if (is_pointwise(d) || p % 16)
        return 0;
    if (forced_panel >= 0)
        return forced_panel;
    static int env = -1;
    if (env < 0) {
        const char *e = getenv("SIAMCL_CONV_PANEL");
        env = !(e && strcmp(e, "0") == 0);
    }
    return env && sc_rows_layout(ctx) && sc_gemm_backend_for(ctx) == SC_GEMM_OWN;
}

static int launch_im2col(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x, int n0,
                         int cnt, cl_mem col, int col_off, int ld, int oh, int ow)
{
    /* CPUs run work-items as loop iterations: there a long contiguous inner loop wins. */
    int rows = sc_rows_layout(ctx);
    int panel = panel_layout(ctx, d, (size_t)oh * ow);
    const char *name = panel ? "im2col_panel" : rows ? "im2col_rows" : "im2col";
    cl_kernel k = sc_kernel(ctx, "conv", NULL, name);
    if (!k)
        return SC_ERR;
    int h = x->shape[2], w = x->shape[3];
    int x_off = (int)x->off + n0 * d->cin * h * w;
    SC_TRY(sc_kernel_args(k, 14, SC_ARG(x->buf), SC_ARG(x_off), SC_ARG(col), SC_ARG(col_off),
                          SC_ARG(cnt), SC_ARG(d->cin), SC_ARG(h), SC_ARG(w), SC_ARG(d->k),
                          SC_ARG(d->stride), SC_ARG(d->pad), SC_ARG(oh), SC_ARG(ow),
                          SC_ARG(ld)));
    if (panel) {
        /* one item per panel, in groups of 8: a few groups per core at conv4's 128 */
        size_t local = sc_kernel_wg(ctx, k, 8);
        size_t global = sc_round_up((size_t)cnt * oh * ow / 16, local);
        return sc_launch(ctx, k, 1, &global, &local, "conv.im2col");
    }
    if (rows) {
        size_t global[2] = {(size_t)cnt, (size_t)d->cin * d->k * d->k};
        return sc_launch(ctx, k, 2, global, NULL, "conv.im2col");
    }
    size_t wg = sc_kernel_wg(ctx, k, 64);
    size_t local[2] = {wg, 1};
    size_t global[2] = {sc_round_up((size_t)cnt * oh * ow, wg), (size_t)d->cin};
    return sc_launch(ctx, k, 2, global, local, "conv.im2col");
}

static int launch_col2im(sc_ctx *ctx, const sc_conv2d_desc *d, cl_mem col, int col_off, int ld,
                         const sc_tensor *dx, int n0, int cnt, int oh, int ow)
{
    int rows = sc_rows_layout(ctx); /* see launch_im2col */
    cl_kernel k = sc_kernel(ctx, "conv", NULL, rows ? "col2im_rows" : "col2im");
    if (!k)
        return SC_ERR;
    int h = dx->shape[2], w = dx->shape[3];
    int dx_off = (int)dx->off + n0 * d->cin * h * w;
    SC_TRY(sc_kernel_args(k, 14, SC_ARG(col), SC_ARG(col_off), SC_ARG(dx->buf), SC_ARG(dx_off),
                          SC_ARG(cnt), SC_ARG(d->cin), SC_ARG(h), SC_ARG(w), SC_ARG(d->k),
                          SC_ARG(d->stride), SC_ARG(d->pad), SC_ARG(oh), SC_ARG(ow),
                          SC_ARG(ld)));
    /* rows: one item per input plane; the GPU kernel: one per dx element */
    size_t items = (size_t)cnt * d->cin * (rows ? 1 : (size_t)h * w);
    return sc_launch_1d(ctx, k, items, "conv.col2im");
}

/* t[c * ld + i*P + p] <-> y[i, c, p] for a chunk; to_nchw also adds the bias when b is
 * given. */
static int launch_permute(sc_ctx *ctx, int to_nchw, cl_mem t, int t_off, int ld, cl_mem y,
                          int y_off, const sc_tensor *b, int cnt, int c, int p)
{
    int rows = sc_rows_layout(ctx); /* see launch_im2col */
    cl_kernel k = sc_kernel(ctx, "conv", NULL,
                            to_nchw ? (rows ? "cnp_to_ncp_rows" : "cnp_to_ncp")
                                    : (rows ? "ncp_to_cnp_rows" : "ncp_to_cnp"));
    if (!k)
        return SC_ERR;
    if (to_nchw) {
        int has_bias = b != NULL;
        cl_mem bbuf = b ? b->buf : t; /* any valid buffer when unused */
        int b_off = b ? (int)b->off : 0;
        SC_TRY(sc_kernel_args(k, 11, SC_ARG(t), SC_ARG(t_off), SC_ARG(y), SC_ARG(y_off),
                              SC_ARG(bbuf), SC_ARG(b_off), SC_ARG(has_bias), SC_ARG(cnt),
                              SC_ARG(c), SC_ARG(p), SC_ARG(ld)));
    } else {
        SC_TRY(sc_kernel_args(k, 8, SC_ARG(y), SC_ARG(y_off), SC_ARG(t), SC_ARG(t_off),
                              SC_ARG(cnt), SC_ARG(c), SC_ARG(p), SC_ARG(ld)));
    }
    return sc_launch_1d(ctx, k, (size_t)cnt * c * (rows ? 1 : (size_t)p), "conv.permute");
}

size_t sc_conv2d_col_floats(const sc_conv2d_desc *d, int n, int h, int w)
{
    return (size_t)d->cin * d->k * d->k * sc_conv2d_ld((size_t)n * out_pixels(d, h, w));
}

size_t sc_conv2d_keep_floats(const sc_ctx *ctx, const sc_conv2d_desc *d, int n, int h, int w)
{
    return sc_tiles_on(ctx, d, w) ? sc_tiles_floats(d, n, h, w) : sc_conv2d_col_floats(d, n, h, w);
}

/* The kept tensor must hold the whole batch's im2col matrix or, on the direct path, the
 * padded copy of x. */
static int check_kept(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                      const sc_tensor *col, const char *op)
{
    size_t need = sc_conv2d_keep_floats(ctx, d, x->shape[0], x->shape[2], x->shape[3]);
    if (!col->buf || col->n < need)
        return sc_fail("%s: the kept tensor holds %zu floats, the batch needs %zu", op,
                       col->buf ? col->n : 0, need);
    return sc_fits_int(col, op, "kept tensor");
}

/* Where the direct path puts the padded copy of x: the kept tensor when there is one (it
 * was sized for it), else the workspace if it holds the whole batch's copy; NULL: take the
 * im2col path. The forward and the backward of the same call pattern agree. */
static const sc_tensor *tiles_buffer(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                                     const sc_tensor *ws, const sc_tensor *kept)
{
    if (!sc_tiles_on(ctx, d, x->shape[3]))
        return NULL;
    if (kept)
        return kept;
    size_t need = sc_tiles_floats(d, x->shape[0], x->shape[2], x->shape[3]);
    return ws && ws->buf && ws->n >= need ? ws : NULL;
}

/* out[m, n] = W[m, kdim] col[kdim, n], col in the layout launch_im2col wrote (ld: its row
 * length when not in panels). */
static int col_gemm(sc_ctx *ctx, int panel, int m, int n, int kdim, const sc_tensor *w,
                    cl_mem col, size_t col_off, int ld, cl_mem out, size_t out_off, int ldo)
{
    if (panel)
        return sc_gemm_panel(ctx, 0, m, n, kdim, 1.0f, w->buf, w->off, kdim, col, col_off,
                             0.0f, out, out_off, ldo, "conv.gemm");
    return sc_gemm(ctx, 0, 0, m, n, kdim, 1.0f, w->buf, w->off, kdim, col, col_off, ld, 0.0f,
                   out, out_off, ldo, "conv.gemm");
}

/* Forward; with keep, the whole batch's im2col goes there (once) and the chunks' GEMMs read
 * their columns of it, so the workspace only holds the GEMM outputs. */
static int forward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                   const sc_tensor *w, const sc_tensor *b, sc_tensor *y, sc_tensor *ws,
                   const sc_tensor *keep)
{
    const char *op = "conv2d forward";
    int oh = 0, ow = 0, nb = 1;
    SC_TRY(check_desc(d, x, op, &oh, &ow));
    int n = x->shape[0], kdim = d->cin * d->k * d->k, p = oh * ow;
    SC_TRY(sc_expect_count(w, op, "weights", (size_t)d->cout * kdim));
    if (b)
        SC_TRY(sc_expect_count(b, op, "bias", (size_t)d->cout));
    SC_TRY(sc_expect_4d(y, op, "output", n, d->cout, oh, ow));
    if (keep)
        SC_TRY(check_kept(ctx, d, x, keep, op));
    const sc_tensor *xp = tiles_buffer(ctx, d, x, ws, keep);
    if (xp) {
        SC_TRY(sc_fits_int(xp, op, "workspace"));
        SC_TRY(sc_tiles_split(ctx, d, x, xp->buf, xp->off));
        return sc_tiles_forward(ctx, d, x, xp->buf, xp->off, w, b, y);
    }
    SC_TRY(chunk_images(d, x, ws, op, &nb));
    int ws_off = ws && ws->buf ? (int)ws->off : 0;
    cl_mem wsb = ws && ws->buf ? ws->buf : NULL;
    int panel = panel_layout(ctx, d, (size_t)p);
    if (keep) {
        /* The matrix is already out of the workspace, which now holds only GEMM outputs;
         * one image at a time needs none (its GEMM writes y directly). */
        nb = wsb ? most_images((size_t)d->cout, n, (size_t)p, ws->n) : 1;
        SC_TRY(launch_im2col(ctx, d, x, 0, n, keep->buf, (int)keep->off,
                             (int)sc_conv2d_ld((size_t)n * p), oh, ow));
    }

    for (int n0 = 0; n0 < n; n0 += nb) {
        int cnt = n - n0 < nb ? n - n0 : nb, cols = cnt * p;
        int y_off = (int)y->off + n0 * d->cout * p;
        /* src: this chunk's im2col columns (ld: its row length); t_off: the GEMM output,
         * [cout, cols] with rows ldt apart */
        cl_mem src = wsb;
        size_t src_off = (size_t)ws_off;
        int ld = (int)sc_conv2d_ld((size_t)cols), ldt = ld, t_off = ws_off + kdim * ld;
        if (keep) {
            src = keep->buf;
            src_off = keep->off + (size_t)n0 * p;
            ld = (int)sc_conv2d_ld((size_t)n * p);
            t_off = ws_off;
        } else if (cnt == 1 && is_pointwise(d)) {
            src = x->buf;
            src_off = x->off + (size_t)n0 * d->cin * p;
            ld = p;
        } else {
            SC_TRY(launch_im2col(ctx, d, x, n0, cnt, wsb, ws_off, ld, oh, ow));
        }
        if (panel && keep)
            src_off = keep->off + (size_t)n0 * p * kdim; /* the chunk's first panel */
        if (cnt == 1) {
            /* out[cout, P] = W[cout, K] col[K, P], written straight into y[n0]. */
            SC_TRY(col_gemm(ctx, panel, d->cout, p, kdim, w, src, src_off, ld, y->buf,
                            (size_t)y_off, p));
            if (b) {
                sc_tensor yi = sc_tensor_view(y->buf, (size_t)y_off, 4,
                                              (const int[]){1, d->cout, oh, ow});
                SC_TRY(sc_bias_forward(ctx, &yi, b));
            }
            continue;
        }
        SC_TRY(col_gemm(ctx, panel, d->cout, cols, kdim, w, src, src_off, ld, wsb,
                        (size_t)t_off, ldt));
        SC_TRY(launch_permute(ctx, 1, wsb, t_off, ldt, y->buf, y_off, b, cnt, d->cout, p));
    }
    return SC_OK;
}

int sc_conv2d_forward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                      const sc_tensor *w, const sc_tensor *b, sc_tensor *y, sc_tensor *ws)
{
    return forward(ctx, d, x, w, b, y, ws, NULL);
}

int sc_conv2d_forward_keep(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                           const sc_tensor *w, const sc_tensor *b, sc_tensor *y,
                           sc_tensor *ws, const sc_tensor *col)
{
    if (!col)
        return sc_fail("conv2d forward: no tensor to keep the im2col matrix in");
    return forward(ctx, d, x, w, b, y, ws, col);
}

/* Backward; with kept, the weight gradient reads the forward's im2col matrix (the chunk's
 * columns of it) instead of building it again. */
static int backward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                    const sc_tensor *w, const sc_tensor *dy, sc_tensor *dx, sc_tensor *dw,
                    sc_tensor *db, sc_tensor *ws, const sc_tensor *kept)
{
    const char *op = "conv2d backward";
    int oh = 0, ow = 0, nb = 1;
    SC_TRY(check_desc(d, x, op, &oh, &ow));
    int n = x->shape[0], h = x->shape[2], wd = x->shape[3];
    int kdim = d->cin * d->k * d->k, p = oh * ow;
    SC_TRY(sc_expect_4d(dy, op, "dy", n, d->cout, oh, ow));
    if (dx) {
        SC_TRY(sc_expect_count(w, op, "weights", (size_t)d->cout * kdim));
        SC_TRY(sc_expect_4d(dx, op, "dx", n, d->cin, h, wd));
    }
    if (dw)
        SC_TRY(sc_expect_count(dw, op, "dw", (size_t)d->cout * kdim));
    if (db)
        SC_TRY(sc_bias_backward(ctx, dy, db));
    if (kept)
        SC_TRY(check_kept(ctx, d, x, kept, op));
    /* The direct path's weight gradient first (its copy of x may sit in the workspace,
     * which dx's GEMMs then reuse: the queue is in order). */
    const sc_tensor *xp = dw ? tiles_buffer(ctx, d, x, ws, kept) : NULL;
    /* its partial sums go into the workspace, after the copy when that is there too */
    size_t part_at = xp == ws ? sc_tiles_floats(d, n, h, wd) : 0;
    size_t part = sc_tiles_dw_floats(d, n);
    if (xp && part && !(ws && ws->buf && ws->n >= part_at + part))
        xp = NULL;
    if (xp) {
        SC_TRY(sc_fits_int(xp, op, "workspace"));
        if (part)
            SC_TRY(sc_fits_int(ws, op, "workspace"));
        if (!kept)
            SC_TRY(sc_tiles_split(ctx, d, x, xp->buf, xp->off));
        cl_mem pbuf = part ? ws->buf : NULL;
        SC_TRY(sc_tiles_dw(ctx, d, x, xp->buf, xp->off, dy, dw, pbuf,
                           part ? ws->off + part_at : 0));
        dw = NULL;
    }
    if (kept && sc_tiles_on(ctx, d, wd))
        kept = NULL; /* it holds the copy of x, not an im2col matrix */
    /* The direct data gradient reads a padded dy in the workspace (after dw is done). */
    if (dx && sc_tiles_on(ctx, d, wd) && ws && ws->buf &&
        ws->n >= sc_tiles_dx_floats(d, n, h, wd)) {
        SC_TRY(sc_fits_int(ws, op, "workspace"));
        SC_TRY(sc_tiles_dx(ctx, d, dy, w, dx, ws->buf, ws->off));
        dx = NULL;
    }
    if (!dx && !dw)
        return SC_OK;
    SC_TRY(chunk_images(d, x, ws, op, &nb));
    int ws_off = ws && ws->buf ? (int)ws->off : 0;
    cl_mem wsb = ws && ws->buf ? ws->buf : NULL;
    int panel = panel_layout(ctx, d, (size_t)p); /* once, as the forward decides it */

    for (int n0 = 0; n0 < n; n0 += nb) {
        int cnt = n - n0 < nb ? n - n0 : nb;
        /* dw accumulates over chunks: overwrite on the first, add afterwards. */
        float beta = n0 == 0 ? 0.0f : 1.0f;
        int cols = cnt * p, ld = (int)sc_conv2d_ld((size_t)cols);
        int x_off = (int)x->off + n0 * d->cin * h * wd;
        int dx_off = dx ? (int)dx->off + n0 * d->cin * h * wd : 0;
        /* g: the chunk's dy as [cout, cols], rows ldg apart; for one image that is dy[n0]
         * itself. */
        cl_mem g = dy->buf;
        size_t g_off = dy->off + (size_t)n0 * d->cout * p;
        int ldg = p;
        if (cnt > 1) {
            int t_off = ws_off + kdim * ld;
            SC_TRY(launch_permute(ctx, 0, wsb, t_off, ld, dy->buf, (int)g_off, NULL, cnt,
                                  d->cout, p));
            g = wsb;
            g_off = (size_t)t_off;
            ldg = ld;
        }
        int direct = cnt == 1 && is_pointwise(d); /* col(x_n) is x_n, col2im is identity */
        if (dw) {
            cl_mem col = direct ? x->buf : wsb;
            size_t col_off = direct ? (size_t)x_off : (size_t)ws_off;
            int ldcol = direct ? p : ld;
            if (kept) {
                col = kept->buf;
                col_off = kept->off + (size_t)n0 * p * (panel ? kdim : 1);
                ldcol = (int)sc_conv2d_ld((size_t)n * p);
            } else if (!direct) {
                SC_TRY(launch_im2col(ctx, d, x, n0, cnt, wsb, ws_off, ld, oh, ow));
            }
            /* dW[cout, K] (+)= g[cout, cols] col[K, cols]^T */
            if (panel)
                SC_TRY(sc_gemm_panel(ctx, 1, d->cout, kdim, cols, 1.0f, g, g_off, ldg, col,
                                     col_off, beta, dw->buf, dw->off, kdim, "conv.gemm"));
            else
                SC_TRY(sc_gemm(ctx, 0, 1, d->cout, kdim, cols, 1.0f, g, g_off, ldg, col,
                               col_off, ldcol, beta, dw->buf, dw->off, kdim, "conv.gemm"));
        }
        if (dx) {
            /* dcol[K, cols] = W[cout, K]^T g[cout, cols]; the in-order queue lets it reuse
             * the col region the dW GEMM has read. */
            cl_mem dcol = direct ? dx->buf : wsb;
            size_t dcol_off = direct ? (size_t)dx_off : (size_t)ws_off;
            SC_TRY(sc_gemm(ctx, 1, 0, kdim, cols, d->cout, 1.0f, w->buf, w->off, kdim, g,
                           g_off, ldg, 0.0f, dcol, dcol_off, direct ? p : ld, "conv.gemm"));
            if (!direct)
                SC_TRY(launch_col2im(ctx, d, wsb, ws_off, ld, dx, n0, cnt, oh, ow));
        }
    }
    return SC_OK;
}

int sc_conv2d_backward(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                       const sc_tensor *w, const sc_tensor *dy, sc_tensor *dx, sc_tensor *dw,
                       sc_tensor *db, sc_tensor *ws)
{
    return backward(ctx, d, x, w, dy, dx, dw, db, ws, NULL);
}

int sc_conv2d_backward_kept(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                            const sc_tensor *w, const sc_tensor *dy, sc_tensor *dx,
                            sc_tensor *dw, sc_tensor *db, sc_tensor *ws, const sc_tensor *col)
{
    if (!col)
        return sc_fail("conv2d backward: no kept im2col matrix");
    return backward(ctx, d, x, w, dy, dx, dw, db, ws, col);
}

int sc_conv2d_forward_direct(sc_ctx *ctx, const sc_conv2d_desc *d, const sc_tensor *x,
                             const sc_tensor *w, const sc_tensor *b, sc_tensor *y)
{
    const char *op = "conv2d forward (direct)";
    int oh = 0, ow = 0;
    SC_TRY(check_desc(d, x, op, &oh, &ow));
    int n = x->shape[0], h = x->shape[2], wd = x->shape[3];
    SC_TRY(sc_expect_count(w, op, "weights", (size_t)d->cout * d->cin * d->k * d->k));
    if (b)
        SC_TRY(sc_expect_count(b, op, "bias", (size_t)d->cout));
    SC_TRY(sc_expect_4d(y, op, "output", n, d->cout, oh, ow));
    cl_kernel k = sc_kernel(ctx, "conv", NULL, "conv2d_direct");
    if (!k)
        return SC_ERR;
    int x_off = (int)x->off, w_off = (int)w->off, y_off = (int)y->off;
    int has_bias = b != NULL, b_off = b ? (int)b->off : 0;
    cl_mem bbuf = b ? b->buf : w->buf;
    SC_TRY(sc_kernel_args(k, 19, SC_ARG(x->buf), SC_ARG(x_off), SC_ARG(w->buf), SC_ARG(w_off),
                          SC_ARG(bbuf), SC_ARG(b_off), SC_ARG(has_bias), SC_ARG(y->buf),
                          SC_ARG(y_off), SC_ARG(n), SC_ARG(d->cin), SC_ARG(h), SC_ARG(wd),
                          SC_ARG(d->cout), SC_ARG(d->k), SC_ARG(d->stride), SC_ARG(d->pad),
                          SC_ARG(oh), SC_ARG(ow)));
    return sc_launch_1d(ctx, k, y->n, "conv.direct");
}
