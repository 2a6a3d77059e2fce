/* Top-k kernels (cl/topk.cl) against the plain-C twin on random matrices: odd sizes, ties,
 * k larger than the row, NaN, the squared-distance form with norms, multi-chunk scans into
 * one candidate set and merge trees of several levels. The kernels and the twin compute the
 * same float expression, so values and indices must agree exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/ops_topk.h"
#include "support.h"

static cl_mem int_buffer(size_t n)
{
    cl_mem m;
    cr_assert_eq(sc_buffer_alloc(test_ctx(), &m, sizeof(int) * (n ? n : 1), "test ints"), SC_OK,
                 "%s", sc_last_error());
    return m;
}

static void read_ints(cl_mem m, size_t off, int *out, size_t n)
{
    sc_ctx *ctx = test_ctx();
    cr_assert_eq(clEnqueueReadBuffer(ctx->queue, m, CL_TRUE, off * sizeof(int), n * sizeof(int),
                                     out, 0, NULL, NULL),
                 CL_SUCCESS);
}

/* Same indices everywhere, same values where an index is present, +INF where not. */
static void expect_lists(const float *gv, const int *gi, const float *wv, const int *wi,
                         int rows, int k)
{
    size_t n = (size_t)rows * k, m = 0;
    float *a = malloc(sizeof *a * n), *b = malloc(sizeof *b * n);
    for (size_t j = 0; j < n; j++) {
        cr_assert_eq(gi[j], wi[j], "row %zu, rank %zu: index %d, want %d (value %g, want %g)",
                     j / k, j % k, gi[j], wi[j], gv[j], wv[j]);
        if (wi[j] < 0) {
            cr_assert(isinf(gv[j]) && gv[j] > 0, "row %zu, rank %zu: empty entry holds %g", j / k,
                      j % k, gv[j]);
        } else {
            a[m] = gv[j];
            b[m++] = wv[j];
        }
    }
    test_expect_close("exact", a, b, m);
    free(a), free(b);
}

static void check_rows_layout(const float *x, int rows, int cols, int k)
{
    sc_ctx *ctx = test_ctx();
    sc_tensor xt = test_tensor(2, (int[]){rows, cols}, x), vals, ws;
    cr_assert_eq(sc_tensor_alloc(ctx, &vals, 2, (int[]){rows, k}), SC_OK, "%s", sc_last_error());
    size_t wn = sc_topk_workspace(ctx, rows, cols, k);
    cr_assert_eq(sc_tensor_alloc(ctx, &ws, 1, (int[]){(int)wn}), SC_OK, "%s", sc_last_error());
    cl_mem idx = int_buffer((size_t)rows * k + 3);
    cr_assert_eq(sc_topk_rows(ctx, &xt, k, &vals, idx, 3, &ws), SC_OK, "%s", sc_last_error());
    float *gv = test_download(&vals);
    int *gi = malloc(sizeof *gi * (size_t)rows * k);
    read_ints(idx, 3, gi, (size_t)rows * k);
    float *wv = malloc(sizeof *wv * (size_t)rows * k);
    int *wi = malloc(sizeof *wi * (size_t)rows * k);
    sc_topk_host(x, rows, cols, k, wv, wi);
    expect_lists(gv, gi, wv, wi, rows, k);
    free(gv), free(gi), free(wv), free(wi);
    clReleaseMemObject(idx);
    sc_tensor_free(&xt), sc_tensor_free(&vals), sc_tensor_free(&ws);
}

/* Both column layouts of the scan (CPU and GPU style) on whatever device runs the tests. */
static void check_rows(const float *x, int rows, int cols, int k)
{
    sc_topk_force_layout(SC_TOPK_LAYOUT_INTERLEAVED);
    check_rows_layout(x, rows, cols, k);
    sc_topk_force_layout(SC_TOPK_LAYOUT_CONTIGUOUS);
    check_rows_layout(x, rows, cols, k);
    sc_topk_force_layout(SC_TOPK_LAYOUT_AUTO);
}

Test(topk, random_rows_odd_sizes)
{
    static const int shapes[][3] = {{1, 1, 1},   {1, 5, 3},     {3, 100, 1},  {7, 1000, 5},
                                    {2, 4099, 16}, {5, 3001, 17}, {4, 777, 30}, {1, 20000, 10},
                                    {33, 257, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int rows = shapes[s][0], cols = shapes[s][1], k = shapes[s][2];
        float *x = test_rand_alloc((size_t)rows * cols, 100 + (unsigned)s, -3.0f, 3.0f);
        check_rows(x, rows, cols, k);
        free(x);
    }
}

Test(topk, ties_go_to_the_lower_index)
{
    /* Four distinct values only: every list is decided by the tie rule. */
    int rows = 5, cols = 3000;
    float *x = test_rand_alloc((size_t)rows * cols, 7, 0.0f, 4.0f);
    for (size_t i = 0; i < (size_t)rows * cols; i++)
        x[i] = floorf(x[i]);
    for (int k = 1; k <= 16; k *= 4)
        check_rows(x, rows, cols, k);
    for (size_t i = 0; i < (size_t)rows * cols; i++) /* all equal */
        x[i] = 1.5f;
    check_rows(x, rows, cols, 9);
    free(x);
}

Test(topk, k_larger_than_the_row)
{
    float *x = test_rand_alloc(3 * 7, 11, -1.0f, 1.0f);
    check_rows(x, 3, 7, 30);
    check_rows(x, 3, 7, 7);
    check_rows(x, 1, 1, SC_TOPK_MAX_K);
    free(x);
}

Test(topk, nan_is_skipped)
{
    int rows = 2, cols = 200;
    float *x = test_rand_alloc((size_t)rows * cols, 12, -1.0f, 1.0f);
    for (int c = 0; c < cols; c += 3)
        x[c] = NAN;
    for (int c = 0; c < cols; c++) /* row 1: all NaN but two */
        x[cols + c] = c == 17 || c == 150 ? 0.25f : NAN;
    check_rows(x, rows, cols, 10);
    free(x);
}

/* The gallery's use: a [Q, N] block of -2 q.g in chunks of columns, each chunk scanned with
 * the squared-distance form into its own range of lists, one merge at the end. */
static void chunked_scan(void)
{
    sc_ctx *ctx = test_ctx();
    int rows = 3, cols = 5003, k = 4, chunk = 1700, stride = 300;
    float *x = test_rand_alloc((size_t)rows * cols, 21, -0.5f, 0.5f);
    float *rn = test_rand_alloc(rows, 22, 0.5f, 1.5f);
    float *cn = test_rand_alloc(cols, 23, 0.5f, 1.5f);
    for (int c = 100; c < 200; c++) /* duplicated gallery rows: exact ties across chunks */
        for (int r = 0; r < rows; r++) {
            x[(size_t)r * cols + c + 1700] = x[(size_t)r * cols + c];
            cn[c + 1700] = cn[c];
        }
    x[5] = -10.0f; /* clamps at 0 */
    for (int r = 0; r < rows; r++) /* zero distances in both chunks: decided by the index */
        for (int c = 100; c < 103; c++)
            x[(size_t)r * cols + c] = x[(size_t)r * cols + c + 1700] = -10.0f;
    int nchunks = (cols + chunk - 1) / chunk, slots = nchunks * stride;
    size_t nl = (size_t)rows * slots * k;
    sc_tensor rnt = test_tensor(1, (int[]){rows}, rn), cnt_ = test_tensor(1, (int[]){cols}, cn);
    sc_tensor lv, ws, out;
    cr_assert_eq(sc_tensor_alloc(ctx, &lv, 1, (int[]){(int)nl}), SC_OK);
    cl_mem li = int_buffer(nl);
    size_t wn = sc_topk_merge_workspace(rows, slots, k);
    cr_assert(wn > 0);
    cr_assert_eq(sc_tensor_alloc(ctx, &ws, 1, (int[]){(int)wn}), SC_OK);
    cr_assert_eq(sc_tensor_alloc(ctx, &out, 2, (int[]){rows, k}), SC_OK);
    cl_mem oi = int_buffer((size_t)rows * k);
    sc_topk_lists cand = {lv.buf, 0, li, 0, rows, slots, k};
    sc_tensor blocks[8];
    for (int b = 0; b < nchunks; b++) {
        int c0 = b * chunk, w = cols - c0 < chunk ? cols - c0 : chunk;
        float *blk = malloc(sizeof *blk * (size_t)rows * w);
        for (int r = 0; r < rows; r++)
            memcpy(blk + (size_t)r * w, x + (size_t)r * cols + c0, sizeof *blk * (size_t)w);
        blocks[b] = test_tensor(2, (int[]){rows, w}, blk);
        free(blk);
        sc_tensor cv = sc_tensor_view(cnt_.buf, (size_t)c0, 1, (int[]){w});
        cr_assert_eq(sc_topk_scan(ctx, &blocks[b], &rnt, &cv, stride, c0, &cand, b * stride),
                     SC_OK, "%s", sc_last_error());
    }
    sc_topk_lists fin = {out.buf, 0, oi, 0, rows, 1, k};
    cr_assert_eq(sc_topk_merge(ctx, &cand, &fin, &ws), SC_OK, "%s", sc_last_error());
    float *gv = test_download(&out);
    int gi[3 * 4];
    read_ints(oi, 0, gi, (size_t)rows * k);
    /* reference: the same float expression, then the plain-C selection */
    float *d = malloc(sizeof *d * (size_t)rows * cols);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float v = (rn[r] + cn[c]) + x[(size_t)r * cols + c];
            d[(size_t)r * cols + c] = v < 0.0f ? 0.0f : v;
        }
    float wv[3 * 4];
    int wi[3 * 4];
    sc_topk_host(d, rows, cols, k, wv, wi);
    expect_lists(gv, gi, wv, wi, rows, k);
    cr_assert(gi[0] == 5 && gi[1] == 100 && gi[3] == 102 && gi[4] == 100 && gi[7] == 1800,
              "the clamped entries (distance 0) rank by index: %d %d %d %d / %d ... %d", gi[0],
              gi[1], gi[2], gi[3], gi[4], gi[7]);
    for (int b = 0; b < nchunks; b++)
        sc_tensor_free(&blocks[b]);
    free(gv), free(d), free(x), free(rn), free(cn);
    clReleaseMemObject(li), clReleaseMemObject(oi);
    sc_tensor_free(&rnt), sc_tensor_free(&cnt_), sc_tensor_free(&lv), sc_tensor_free(&ws);
    sc_tensor_free(&out);
}

Test(topk, chunked_scan_with_norms_and_deep_merge)
{
    for (int layout = SC_TOPK_LAYOUT_INTERLEAVED; layout <= SC_TOPK_LAYOUT_CONTIGUOUS; layout++) {
        sc_topk_force_layout(layout);
        chunked_scan();
    }
    sc_topk_force_layout(SC_TOPK_LAYOUT_AUTO);
}

/* A single query without the GEMM: small integers keep every dot product exact in float
 * whatever the summation order, so values, ties and indices must match exactly. */
static void query_scan(int n, int dim, int k, int stride)
{
    sc_ctx *ctx = test_ctx();
    float *g = test_rand_alloc((size_t)n * dim, 31, -3.0f, 3.99f);
    float *q = test_rand_alloc((size_t)dim, 32, -3.0f, 3.99f);
    for (size_t i = 0; i < (size_t)n * dim; i++)
        g[i] = floorf(g[i]);
    for (int d = 0; d < dim; d++)
        q[d] = floorf(q[d]);
    int h = 5 < n ? 5 : n; /* rows 0..h-1 appear again as rows n..n+h-1 */
    float *gn = malloc(sizeof *gn * (size_t)n), qn = 0, *d2 = malloc(sizeof *d2 * (size_t)(n + h));
    for (int d = 0; d < dim; d++)
        qn += q[d] * q[d];
    for (int j = 0; j < n; j++) {
        float s = 0, dot = 0;
        for (int d = 0; d < dim; d++) {
            s += g[(size_t)j * dim + d] * g[(size_t)j * dim + d];
            dot += g[(size_t)j * dim + d] * q[d];
        }
        gn[j] = s;
        float v = (qn + s) + -2.0f * dot;
        d2[j] = v < 0.0f ? 0.0f : v;
    }
    for (int j = 0; j < h; j++)
        d2[n + j] = d2[j];
    sc_tensor gt = test_tensor(2, (int[]){n, dim}, g), gnt = test_tensor(1, (int[]){n}, gn);
    sc_tensor qt = test_tensor(1, (int[]){dim}, q), lv, out;
    int slots = stride + 3; /* lists before slot0 stay untouched */
    cr_assert_eq(sc_tensor_alloc(ctx, &lv, 1, (int[]){slots * k}), SC_OK);
    cl_mem li = int_buffer((size_t)slots * k), oi = int_buffer((size_t)k);
    cr_assert_eq(sc_tensor_alloc(ctx, &out, 1, (int[]){k}), SC_OK);
    sc_topk_lists cand = {lv.buf, 0, li, 0, 1, slots, k};
    cr_assert_eq(sc_topk_scan_query(ctx, &gt, &gnt, &qt, qn, stride, 0, &cand, 3), SC_OK, "%s",
                 sc_last_error());
    /* lists 0..2: the first rows again as a second gallery block numbered from n, so their
     * ties with the originals must go to the originals */
    sc_tensor head = sc_tensor_view(gt.buf, 0, 2, (int[]){h, dim});
    sc_tensor headn = sc_tensor_view(gnt.buf, 0, 1, (int[]){h});
    cr_assert_eq(sc_topk_scan_query(ctx, &head, &headn, &qt, qn, 3, n, &cand, 0), SC_OK, "%s",
                 sc_last_error());
    sc_tensor ws;
    size_t wn = sc_topk_merge_workspace(1, slots, k);
    cr_assert_eq(sc_tensor_alloc(ctx, &ws, 1, (int[]){(int)(wn ? wn : 1)}), SC_OK);
    sc_topk_lists fin = {out.buf, 0, oi, 0, 1, 1, k};
    cr_assert_eq(sc_topk_merge(ctx, &cand, &fin, &ws), SC_OK, "%s", sc_last_error());
    float *gv = test_download(&out), *wv = malloc(sizeof *wv * (size_t)k);
    int *gi = malloc(sizeof *gi * (size_t)k), *wi = malloc(sizeof *wi * (size_t)k);
    read_ints(oi, 0, gi, (size_t)k);
    sc_topk_host(d2, 1, n + h, k, wv, wi);
    expect_lists(gv, gi, wv, wi, 1, k);
    free(gv), free(wv), free(gi), free(wi), free(g), free(q), free(gn), free(d2);
    clReleaseMemObject(li), clReleaseMemObject(oi);
    sc_tensor_free(&gt), sc_tensor_free(&gnt), sc_tensor_free(&qt), sc_tensor_free(&lv);
    sc_tensor_free(&out), sc_tensor_free(&ws);
}

Test(topk, single_query_scan_without_gemm)
{
    static const int cases[][4] = {{1, 5, 1, 1}, {7, 3, 16, 2}, {1000, 128, 10, 13},
                                   {3001, 33, 5, 64}, {40, 12, 30, 100}};
    for (int layout = SC_TOPK_LAYOUT_INTERLEAVED; layout <= SC_TOPK_LAYOUT_CONTIGUOUS; layout++) {
        sc_topk_force_layout(layout);
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            query_scan(cases[c][0], cases[c][1], cases[c][2], cases[c][3]);
    }
    sc_topk_force_layout(SC_TOPK_LAYOUT_AUTO);
}

Test(topk, bad_arguments_are_refused)
{
    sc_ctx *ctx = test_ctx();
    float x[6] = {1, 2, 3, 4, 5, 6};
    sc_tensor xt = test_tensor(2, (int[]){2, 3}, x), vals, ws;
    cr_assert_eq(sc_tensor_alloc(ctx, &vals, 1, (int[]){2}), SC_OK);
    cr_assert_eq(sc_tensor_alloc(ctx, &ws, 1, (int[]){64}), SC_OK);
    cl_mem idx = int_buffer(64);
    cr_assert_eq(sc_topk_rows(ctx, &xt, 0, &vals, idx, 0, &ws), SC_ERR);
    cr_assert(strstr(sc_last_error(), "k = 0"), "%s", sc_last_error());
    cr_assert_eq(sc_topk_rows(ctx, &xt, SC_TOPK_MAX_K + 1, &vals, idx, 0, &ws), SC_ERR);
    cr_assert_eq(sc_topk_rows(ctx, &xt, 3, &vals, idx, 0, &ws), SC_ERR); /* vals too small */
    sc_topk_lists l = {ws.buf, 0, idx, 0, 2, 2, 1};
    cr_assert_eq(sc_topk_scan(ctx, &xt, NULL, NULL, 2, 0, &l, 1), SC_ERR); /* slots overflow */
    cr_assert(strstr(sc_last_error(), "stride"), "%s", sc_last_error());
    clReleaseMemObject(idx);
    sc_tensor_free(&xt), sc_tensor_free(&vals), sc_tensor_free(&ws);
}
