/* Top-k selection on the device (cl/topk.cl): the k smallest values of every row of a matrix,
 * in ascending order, ties broken towards the lower column index. This is the second half of
 * 1:N search: one GEMM gives -2 q.g for a block of queries against a block of the gallery,
 * the scan adds the squared norms and keeps the best candidates, the merge reduces them.
 *
 * Candidate lists: per row `slots` lists of k (value, index) pairs, each sorted; an unused
 * entry is (+INF, -1) and ranks after every real one (so k larger than the number of columns
 * gives rows that end in -1 indices). Values live in a float buffer and indices in an int32
 * buffer; both may be the same cl_mem at different element offsets.
 * Enqueue only, never waits (conventions of ops.h). */
#ifndef SIAMCL_OPS_TOPK_H
#define SIAMCL_OPS_TOPK_H

#include <stddef.h>

#include "siamcl/tensor.h"

/* Largest k the kernels take (private lists of up to this many entries per work-item). */
#define SC_TOPK_MAX_K 1024
/* Lists merged by one work-item per merge level. */
#define SC_TOPK_GROUP 16

typedef struct sc_topk_lists {
    cl_mem val;
    size_t val_off; /* elements */
    cl_mem idx;     /* int32 */
    size_t idx_off; /* elements */
    int rows, slots, k;
} sc_topk_lists;

/* Scan: x [rows, cols] (2-D tensor; a view into a larger block is fine). Work-item w of row r
 * visits columns c = w, w + stride, ... and writes its k best to list slot0 + w of row r with
 * index base + c. Values are x[r][c], or, when rn [rows] and cn [cols] are both given, the
 * squared distances max(rn[r] + cn[c] + x[r][c], 0) (x = -2 q.g from the GEMM). NaN values
 * are skipped. stride >= 1 (work-items beyond cols write empty lists);
 * slot0 + stride <= out->slots. */
int sc_topk_scan(sc_ctx *ctx, const sc_tensor *x, const sc_tensor *rn, const sc_tensor *cn,
                 int stride, int base, const sc_topk_lists *out, int slot0);

/* The same for one query without a GEMM (which would only stream the gallery through a
 * matrix-vector product): values max(qn + gn[j] - 2 q.g_j, 0) for the rows of g [n, dim]
 * (dot products summed in float4 lanes), gn [n] their squared norms, q [dim]. out has one
 * row; work-item w writes list slot0 + w, indices base + j. */
int sc_topk_scan_query(sc_ctx *ctx, const sc_tensor *g, const sc_tensor *gn, const sc_tensor *q,
                       float qn, int stride, int base, const sc_topk_lists *out, int slot0);

/* A reasonable stride for a block of rows x cols: enough work-items to fill the device,
 * enough columns per work-item that the lists are mostly skipped, not inserted into. */
int sc_topk_stride(const sc_ctx *ctx, int rows, int cols, int k);

/* Merges every row's in->slots lists into out (out->slots == 1, same rows and k), in a tree
 * of SC_TOPK_GROUP-way merges. ws: at least sc_topk_merge_workspace(rows, slots, k) floats
 * (0 when slots <= SC_TOPK_GROUP: then ws may be NULL). */
size_t sc_topk_merge_workspace(int rows, int slots, int k);
int sc_topk_merge(sc_ctx *ctx, const sc_topk_lists *in, const sc_topk_lists *out,
                  const sc_tensor *ws);

/* The whole selection for one matrix: vals [rows, k] and idx (int32, rows * k at idx_off)
 * from x [rows, cols]. ws: at least sc_topk_workspace(ctx, rows, cols, k) floats. */
size_t sc_topk_workspace(const sc_ctx *ctx, int rows, int cols, int k);
int sc_topk_rows(sc_ctx *ctx, const sc_tensor *x, int k, const sc_tensor *vals, cl_mem idx,
                 size_t idx_off, const sc_tensor *ws);

/* Column layout of the scan's work-items: by default contiguous runs on CPU devices and
 * interleaved columns on GPUs. Tests force each to check both on one device (not thread-safe;
 * not for production use). */
enum { SC_TOPK_LAYOUT_AUTO = 0, SC_TOPK_LAYOUT_INTERLEAVED = 1, SC_TOPK_LAYOUT_CONTIGUOUS = 2 };
void sc_topk_force_layout(int layout);

/* Plain-C twin (tests, host tools): the same order and tie rule, NaN skipped. */
void sc_topk_host(const float *x, int rows, int cols, int k, float *vals, int *idx);

#endif
