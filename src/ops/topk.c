/* Top-k selection (cl/topk.cl): interleaved scan into candidate lists, then a tree of merges.
 * The private lists are sized at compile time, so k is rounded up to a power of two and one
 * program is built per capacity (16, 32, ... 1024), not per k. */
#include "siamcl/ops_topk.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

static int kcap_for(int k)
{
    int c = 16;
    while (c < k)
        c *= 2;
    return c;
}

/* CPU devices run a work-item as a loop: contiguous columns per work-item suit them; GPUs
 * want neighbouring work-items on neighbouring columns. Tests force either. */
static int layout_forced; /* SC_TOPK_LAYOUT_* */

void sc_topk_force_layout(int layout) { layout_forced = layout; }

static int contiguous(const sc_ctx *ctx)
{
    if (layout_forced)
        return layout_forced == SC_TOPK_LAYOUT_CONTIGUOUS;
    return !(ctx->dev.type & CL_DEVICE_TYPE_GPU);
}

static cl_kernel topk_kernel(sc_ctx *ctx, int k, const char *name)
{
    char defines[96];
    snprintf(defines, sizeof defines, "#define TOPK_KCAP %d\n%s", kcap_for(k),
             contiguous(ctx) ? "#define TOPK_CONTIGUOUS 1\n" : "");
    return sc_kernel(ctx, "topk", defines, name);
}

static int check_k(int k)
{
    if (k < 1 || k > SC_TOPK_MAX_K)
        return sc_fail("top-k: k = %d outside 1..%d", k, SC_TOPK_MAX_K);
    return SC_OK;
}

/* Kernel offsets and indices are int: everything addressed must stay below 2^31 elements. */
static int fits_int(size_t off, size_t n, const char *what)
{
    if (off + n > (size_t)INT_MAX)
        return sc_fail("top-k: %s ends at element %zu, beyond the int range of the kernels", what,
                       off + n);
    return SC_OK;
}

static int check_lists(const sc_topk_lists *l, const char *what)
{
    if (!l || !l->val || !l->idx)
        return sc_fail("top-k: %s lists have no buffers", what);
    if (l->rows < 1 || l->slots < 1)
        return sc_fail("top-k: %s lists are empty (%d rows, %d lists per row)", what, l->rows,
                       l->slots);
    SC_TRY(check_k(l->k));
    size_t n = (size_t)l->rows * l->slots * l->k;
    SC_TRY(fits_int(l->val_off, n, what));
    return fits_int(l->idx_off, n, what);
}

/* 1-D over rows x per_row work-items, neighbours within a row adjacent; one fixed
 * work-group size per device so that PoCL compiles each kernel once, not per shape. */
static int launch_rows(sc_ctx *ctx, cl_kernel k, int per_row, int rows, const char *label)
{
    size_t n = (size_t)per_row * rows;
    if (n > (size_t)INT_MAX)
        return sc_fail("top-k: %d rows x %d work-items exceed the int range", rows, per_row);
    size_t wg = sc_kernel_wg(ctx, k, (ctx->dev.type & CL_DEVICE_TYPE_GPU) ? 64 : 8);
    size_t global = sc_round_up(n, wg);
    return sc_launch(ctx, k, 1, &global, &wg, label);
}

int sc_topk_stride(const sc_ctx *ctx, int rows, int cols, int k)
{
    if (rows < 1 || cols < 1 || k < 1)
        return 1;
    /* A GPU wants tens of thousands of work-items; a CPU device a few hundred per core. */
    size_t target = (ctx->dev.type & CL_DEVICE_TYPE_GPU) ? 65536
                                                          : (size_t)ctx->dev.compute_units * 128;
    size_t s = target / (size_t)rows;
    /* At least 16 k columns per work-item: the merge then costs a sixteenth of the scan. */
    size_t most = (size_t)cols / (16 * (size_t)k);
    if (s > most)
        s = most;
    if (s > 65536)
        s = 65536;
    return s < 1 ? 1 : (int)s;
}

int sc_topk_scan(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *rn, const sc_tensor *cn,
                 int stride, int base, const sc_topk_lists *out, int slot0)
{
    if (!x || !x->buf || x->ndim != 2)
        return sc_fail("top-k scan: x must be a 2-D tensor");
    int rows = x->shape[0], cols = x->shape[1];
    SC_TRY(check_lists(out, "output"));
    SC_TRY(fits_int(x->off, x->n, "x"));
    if (rows < 1 || cols < 1)
        return sc_fail("top-k scan: x is %d x %d (empty)", rows, cols);
    if (out->rows != rows)
        return sc_fail("top-k scan: x has %d rows, the lists %d", rows, out->rows);
    /* stride may exceed cols (a short last block): the spare work-items write empty lists. */
    if (stride < 1 || slot0 < 0 || slot0 + stride > out->slots)
        return sc_fail("top-k scan: stride %d from list %d does not fit %d lists per row", stride,
                       slot0, out->slots);
    if (base < 0 || (long long)base + cols > INT_MAX)
        return sc_fail("top-k scan: column indices %d .. %lld beyond the int range", base,
                       (long long)base + cols);
    int has_norms = rn && cn;
    if ((rn && !cn) || (cn && !rn))
        return sc_fail("top-k scan: row and column norms go together (one is missing)");
    if (has_norms) {
        if (rn->n != (size_t)rows || cn->n != (size_t)cols)
            return sc_fail("top-k scan: norms have %zu and %zu elements for a %d x %d block",
                           rn->n, cn->n, rows, cols);
        SC_TRY(fits_int(rn->off, rn->n, "row norms"));
        SC_TRY(fits_int(cn->off, cn->n, "column norms"));
    }
    cl_kernel k = topk_kernel(ctx, out->k, "topk_scan");
    if (!k)
        return SC_ERR;
    /* Unused norm arguments still need a valid buffer. */
    cl_mem rb = has_norms ? rn->buf : x->buf, cb = has_norms ? cn->buf : x->buf;
    int xo = (int)x->off, ldx = cols, ro = has_norms ? (int)rn->off : 0,
        co = has_norms ? (int)cn->off : 0, kk = out->k, vo = (int)out->val_off,
        io = (int)out->idx_off;
    SC_TRY(sc_kernel_args(k, 19, SC_ARG(x->buf), SC_ARG(xo), SC_ARG(ldx), SC_ARG(rows),
                          SC_ARG(cols), SC_ARG(rb), SC_ARG(ro), SC_ARG(cb), SC_ARG(co),
                          SC_ARG(has_norms), SC_ARG(kk), SC_ARG(stride), SC_ARG(base),
                          SC_ARG(out->val), SC_ARG(vo), SC_ARG(out->idx), SC_ARG(io),
                          SC_ARG(out->slots), SC_ARG(slot0)));
    return launch_rows(ctx, k, stride, rows, "topk.scan");
}

int sc_topk_scan_query(sc_ctx *ctx, const sc_tensor *g, const sc_tensor *gn, const sc_tensor *q,
                       float qn, int stride, int base, const sc_topk_lists *out, int slot0)
{
    if (!g || !g->buf || g->ndim != 2 || !gn || !gn->buf || !q || !q->buf)
        return sc_fail("top-k query scan: g must be a 2-D tensor, gn and q given");
    int n = g->shape[0], dim = g->shape[1];
    SC_TRY(check_lists(out, "output"));
    if (n < 1 || dim < 1 || gn->n != (size_t)n || q->n != (size_t)dim)
        return sc_fail("top-k query scan: gallery %d x %d, %zu norms, query of %zu", n, dim,
                       gn->n, q->n);
    if (out->rows != 1 || stride < 1 || slot0 < 0 || slot0 + stride > out->slots)
        return sc_fail("top-k query scan: one row of lists with room for %d from list %d "
                       "(got %d rows of %d)", stride, slot0, out->rows, out->slots);
    if (base < 0 || (long long)base + n > INT_MAX)
        return sc_fail("top-k query scan: row indices beyond the int range");
    SC_TRY(fits_int(g->off, g->n, "gallery"));
    SC_TRY(fits_int(gn->off, gn->n, "gallery norms"));
    SC_TRY(fits_int(q->off, q->n, "query"));
    cl_kernel k = topk_kernel(ctx, out->k, "topk_scan_query");
    if (!k)
        return SC_ERR;
    int go = (int)g->off, no = (int)gn->off, qo = (int)q->off, kk = out->k,
        vo = (int)out->val_off, io = (int)out->idx_off;
    SC_TRY(sc_kernel_args(k, 17, SC_ARG(g->buf), SC_ARG(go), SC_ARG(n), SC_ARG(dim),
                          SC_ARG(gn->buf), SC_ARG(no), SC_ARG(q->buf), SC_ARG(qo), SC_ARG(qn),
                          SC_ARG(kk), SC_ARG(stride), SC_ARG(base), SC_ARG(out->val), SC_ARG(vo),
                          SC_ARG(out->idx), SC_ARG(io), SC_ARG(slot0)));
    return launch_rows(ctx, k, stride, 1, "topk.scan_query");
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

size_t sc_topk_merge_workspace(int rows, int slots, int k)
{
    if (rows < 1 || k < 1 || slots <= SC_TOPK_GROUP)
        return 0;
    /* Two ping-pong regions: the first level's output and the second's (later levels are
     * smaller and reuse them); values and indices each. */
    size_t m1 = ceil_div((size_t)slots, SC_TOPK_GROUP);
    size_t m2 = m1 > SC_TOPK_GROUP ? ceil_div(m1, SC_TOPK_GROUP) : 0;
    return 2 * (size_t)rows * (size_t)k * (m1 + m2);
}

static int merge_level(sc_ctx *ctx, const sc_topk_lists *in, const sc_topk_lists *out)
{
    cl_kernel k = topk_kernel(ctx, in->k, "topk_merge");
    if (!k)
        return SC_ERR;
    int ivo = (int)in->val_off, iio = (int)in->idx_off, ovo = (int)out->val_off,
        oio = (int)out->idx_off, group = SC_TOPK_GROUP;
    SC_TRY(sc_kernel_args(k, 13, SC_ARG(in->val), SC_ARG(ivo), SC_ARG(in->idx), SC_ARG(iio),
                          SC_ARG(in->rows), SC_ARG(in->slots), SC_ARG(in->k), SC_ARG(group),
                          SC_ARG(out->val), SC_ARG(ovo), SC_ARG(out->idx), SC_ARG(oio),
                          SC_ARG(out->slots)));
    return launch_rows(ctx, k, out->slots, in->rows, "topk.merge");
}

int sc_topk_merge(sc_ctx *ctx, const sc_topk_lists *in, const sc_topk_lists *out,
                  const sc_tensor *ws)
{
    SC_TRY(check_lists(in, "input"));
    SC_TRY(check_lists(out, "output"));
    if (out->slots != 1 || out->rows != in->rows || out->k != in->k)
        return sc_fail("top-k merge: output must be one list of k = %d per row for %d rows "
                       "(got %d lists of %d for %d rows)", in->k, in->rows, out->slots, out->k,
                       out->rows);
    size_t need = sc_topk_merge_workspace(in->rows, in->slots, in->k);
    if (need && (!ws || !ws->buf || ws->n < need))
        return sc_fail("top-k merge: workspace of %zu floats, need %zu", ws && ws->buf ? ws->n : 0,
                       need);
    if (need)
        SC_TRY(fits_int(ws->off, need, "workspace"));
    size_t m1 = ceil_div((size_t)in->slots, SC_TOPK_GROUP);
    size_t region[2] = {0, 2 * (size_t)in->rows * in->k * m1};
    sc_topk_lists cur = *in;
    for (int level = 0; cur.slots > 1; level++) {
        int next = (int)ceil_div((size_t)cur.slots, SC_TOPK_GROUP);
        sc_topk_lists dst = *out;
        if (next > 1) {
            size_t base = ws->off + region[level & 1], n = (size_t)in->rows * in->k * next;
            dst = (sc_topk_lists){.val = ws->buf, .val_off = base, .idx = ws->buf,
                                  .idx_off = base + n, .rows = in->rows, .slots = next,
                                  .k = in->k};
        }
        SC_TRY(merge_level(ctx, &cur, &dst));
        cur = dst;
    }
    if (in->slots == 1) /* nothing to merge: copy the one list per row */
        return merge_level(ctx, in, out);
    return SC_OK;
}

size_t sc_topk_workspace(const sc_ctx *ctx, int rows, int cols, int k)
{
    int s = sc_topk_stride(ctx, rows, cols, k);
    return 2 * (size_t)rows * s * k + sc_topk_merge_workspace(rows, s, k);
}

int sc_topk_rows(sc_ctx *ctx, const sc_tensor *x, int k, const sc_tensor *vals, cl_mem idx,
                 size_t idx_off, const sc_tensor *ws)
{
    SC_TRY(check_k(k));
    if (!x || x->ndim != 2)
        return sc_fail("top-k: x must be a 2-D tensor");
    int rows = x->shape[0], cols = x->shape[1];
    if (!vals || vals->n != (size_t)rows * k)
        return sc_fail("top-k: vals must hold %d x %d values", rows, k);
    size_t need = sc_topk_workspace(ctx, rows, cols, k);
    if (!ws || !ws->buf || ws->n < need)
        return sc_fail("top-k: workspace of %zu floats, need %zu", ws && ws->buf ? ws->n : 0,
                       need);
    int s = sc_topk_stride(ctx, rows, cols, k);
    size_t n = (size_t)rows * s * k;
    sc_topk_lists cand = {.val = ws->buf, .val_off = ws->off, .idx = ws->buf,
                          .idx_off = ws->off + n, .rows = rows, .slots = s, .k = k};
    sc_topk_lists out = {.val = vals->buf, .val_off = vals->off, .idx = idx, .idx_off = idx_off,
                         .rows = rows, .slots = 1, .k = k};
    SC_TRY(sc_topk_scan(ctx, x, NULL, NULL, s, 0, &cand, 0));
    /* The merge's scratch follows the candidates (its size fits an int: checked above). */
    sc_tensor mws = sc_tensor_view(ws->buf, ws->off + 2 * n, 1, (int[]){1});
    mws.n = ws->n - 2 * n;
    return sc_topk_merge(ctx, &cand, &out, &mws);
}

/* ---- plain-C twin ------------------------------------------------------------------------ */

static int before(float v, int i, float w, int j)
{
    if (j < 0)
        return i >= 0;
    if (i < 0)
        return 0;
    return v < w || (v == w && i < j);
}

void sc_topk_host(const float *x, int rows, int cols, int k, float *vals, int *idx)
{
    for (int r = 0; r < rows; r++) {
        float *bv = vals + (size_t)r * k;
        int *bi = idx + (size_t)r * k, cnt = 0;
        for (int c = 0; c < cols; c++) {
            float v = x[(size_t)r * cols + c];
            if (isnan(v))
                continue;
            int pos;
            if (cnt < k)
                pos = cnt++;
            else if (before(v, c, bv[k - 1], bi[k - 1]))
                pos = k - 1;
            else
                continue;
            while (pos > 0 && before(v, c, bv[pos - 1], bi[pos - 1])) {
                bv[pos] = bv[pos - 1];
                bi[pos] = bi[pos - 1];
                pos--;
            }
            bv[pos] = v;
            bi[pos] = c;
        }
        for (int j = cnt; j < k; j++) {
            bv[j] = INFINITY;
            bi[j] = -1;
        }
    }
}
