/* Top-k selection for 1:N search: the k smallest values of each row of a matrix, ascending,
 * ties to the lower column index. Two kernels:
 *
 * Both run as 1-D ranges over (row, work-item within the row) with a fixed work-group size,
 * so a runtime that compiles per launch geometry (PoCL) compiles each kernel once.
 *
 *   topk_scan:  work-item (w, r) walks the columns c = w, w + stride, w + 2 stride, ... of row
 *               r and keeps its k best in a private sorted list. Interleaved columns (not
 *               contiguous segments) so that neighbouring work-items read neighbouring
 *               addresses: coalesced on GPUs, one vector load across lanes on PoCL.
 *               With row norms rn and column norms cn the value is the squared distance
 *               max(rn[r] + cn[c] + x[r][c], 0) where x = -2 q.g comes from one GEMM.
 *   topk_merge: reduces `group` sorted lists of a row to one (a tree when there are many).
 *
 * A list is k (value, index) pairs; unused entries are (+INF, -1) and rank after everything.
 * NaN values are skipped (they have no place in an order). */

/* The host twin (src/ops/topk.c, tests) computes the same float expression: no contraction. */
#pragma OPENCL FP_CONTRACT OFF

/* Capacity of the private lists: the host rounds k up to a power of two so that a handful of
 * programs serve every k. */
#ifndef TOPK_KCAP
#define TOPK_KCAP 16
#endif

/* (v, i) ranks before (w, j). Empty entries (index < 0) rank last. */
inline int topk_before(float v, int i, float w, int j)
{
    if (j < 0)
        return i >= 0;
    if (i < 0)
        return 0;
    return v < w || (v == w && i < j);
}

/* Inserts (v, i) into the sorted list of *cnt <= k entries, dropping the last when full. */
inline void topk_insert(float *bv, int *bi, int k, int *cnt, float v, int i)
{
    int pos;
    if (*cnt < k) {
        pos = *cnt;
        *cnt += 1;
    } else {
        if (!topk_before(v, i, bv[k - 1], bi[k - 1]))
            return;
        pos = k - 1;
    }
    while (pos > 0 && topk_before(v, i, bv[pos - 1], bi[pos - 1])) {
        bv[pos] = bv[pos - 1];
        bi[pos] = bi[pos - 1];
        pos--;
    }
    bv[pos] = v;
    bi[pos] = i;
}

inline void topk_store(__global float *ov, size_t vat, __global int *oi, size_t iat, int k,
                       const float *bv, const int *bi, int cnt)
{
    for (int j = 0; j < k; j++) {
        ov[vat + j] = j < cnt ? bv[j] : INFINITY;
        oi[iat + j] = j < cnt ? bi[j] : -1;
    }
}

/* x [rows][cols] with leading dimension ldx. Output list (slot0 + w) of row r, lists of k
 * entries, `slots` lists per row, starting at elements cv_off of cv and ci_off of ci. Indices
 * are base + c (the column's position in the whole gallery when x is one block of it).
 *
 * Columns go in groups of four (one float4 load; the last cols % 4 columns one by one at the
 * end). Work-item w of a row takes the groups g = w, w + stride, ... (interleaved: neighbouring
 * work-items read neighbouring addresses, which GPUs coalesce) or, with TOPK_CONTIGUOUS (CPU
 * devices, where a work-item runs as a plain loop), one contiguous run of groups. Either way
 * columns reach a work-item in increasing order, so a later column never beats an equal
 * earlier one and a strict < implements the tie rule.
 *
 * The hot loop holds nothing but loads, adds and one comparison of the group's minimum with
 * the worst value kept: the insertion sits outside it (with it inside, PoCL's code ran 5x
 * slower even though insertions are rare). */
__kernel void topk_scan(__global const float *x, int x_off, int ldx, int rows, int cols,
                        __global const float *rn, int rn_off, __global const float *cn,
                        int cn_off, int has_norms, int k, int stride, int base,
                        __global float *cv, int cv_off, __global int *ci, int ci_off, int slots,
                        int slot0)
{
    int id = (int)get_global_id(0), r = id / stride, w = id - r * stride;
    if (r >= rows)
        return;
    float bv[TOPK_KCAP];
    int bi[TOPK_KCAP];
    int cnt = 0;
    float worst = INFINITY; /* value to beat: +INF until the list is full (NaN never beats it) */
    __global const float *row = x + x_off + (size_t)r * ldx;
    __global const float *cnp = cn + cn_off;
    float rnorm = has_norms ? rn[rn_off + r] : 0.0f;
    int groups = cols / 4;
#ifdef TOPK_CONTIGUOUS
    int span = (groups + stride - 1) / stride;
    int g = w * span, end = min(groups, g + span), step = 1;
#else
    int g = w, end = groups, step = stride;
#endif
    while (g < end) {
        float4 v;
        for (;;) {
            v = vload4(0, row + 4 * g);
            if (has_norms) {
                v = ((float4)(rnorm) + vload4(0, cnp + 4 * g)) + v;
                v = select(v, (float4)(0.0f), v < (float4)(0.0f)); /* NaN stays NaN */
            }
            if (fmin(fmin(v.x, v.y), fmin(v.z, v.w)) < worst)
                break;
            g += step;
            if (g >= end)
                break;
        }
        if (g >= end)
            break;
        int c = base + 4 * g;
        if (v.x < worst) {
            topk_insert(bv, bi, k, &cnt, v.x, c);
            worst = cnt == k ? bv[k - 1] : INFINITY;
        }
        if (v.y < worst) {
            topk_insert(bv, bi, k, &cnt, v.y, c + 1);
            worst = cnt == k ? bv[k - 1] : INFINITY;
        }
        if (v.z < worst) {
            topk_insert(bv, bi, k, &cnt, v.z, c + 2);
            worst = cnt == k ? bv[k - 1] : INFINITY;
        }
        if (v.w < worst) {
            topk_insert(bv, bi, k, &cnt, v.w, c + 3);
            worst = cnt == k ? bv[k - 1] : INFINITY;
        }
        g += step;
    }
    for (int c = 4 * groups + w; c < cols; c += stride) {
        float v = row[c];
        if (has_norms) {
            v = (rnorm + cnp[c]) + v;
            v = v < 0.0f ? 0.0f : v;
        }
        if (v < worst) {
            topk_insert(bv, bi, k, &cnt, v, base + c);
            worst = cnt == k ? bv[k - 1] : INFINITY;
        }
    }
    size_t at = ((size_t)r * slots + slot0 + w) * k;
    topk_store(cv, (size_t)cv_off + at, ci, (size_t)ci_off + at, k, bv, bi, cnt);
}

/* One query against gallery rows g [n][dim] without a GEMM: a single query makes the GEMM a
 * matrix-vector product that only streams the gallery, so the distances are computed where
 * they are consumed and the gallery is read once. Value of row j: the scan's squared distance
 * max(qn + gn[j] + (-2 q.g_j), 0). Work-item w takes rows as topk_scan takes column groups
 * (contiguous on CPUs, interleaved on GPUs) and writes list slot0 + w; indices base + j. */
__kernel void topk_scan_query(__global const float *g, int g_off, int n, int dim,
                              __global const float *gn, int gn_off, __global const float *q,
                              int q_off, float qn, int k, int stride, int base,
                              __global float *cv, int cv_off, __global int *ci, int ci_off,
                              int slot0)
{
    int w = (int)get_global_id(0);
    if (w >= stride)
        return;
    float bv[TOPK_KCAP];
    int bi[TOPK_KCAP];
    int cnt = 0;
    float worst = INFINITY;
    __global const float *qp = q + q_off;
    int d4 = dim / 4;
#ifdef TOPK_CONTIGUOUS
    int span = (n + stride - 1) / stride;
    int j = w * span, end = min(n, j + span), step = 1;
#else
    int j = w, end = n, step = stride;
#endif
    for (; j < end; j += step) {
        __global const float *row = g + g_off + (size_t)j * dim;
        float4 a0 = (float4)(0.0f), a1 = (float4)(0.0f); /* two chains: no add waits on the last */
        int d = 0;
        for (; d + 2 <= d4; d += 2) {
            a0 += vload4(d, row) * vload4(d, qp);
            a1 += vload4(d + 1, row) * vload4(d + 1, qp);
        }
        if (d < d4)
            a0 += vload4(d, row) * vload4(d, qp);
        a0 += a1;
        float dot = (a0.x + a0.y) + (a0.z + a0.w);
        for (int e = 4 * d4; e < dim; e++)
            dot += row[e] * qp[e];
        float v = (qn + gn[gn_off + j]) + -2.0f * dot;
        v = v < 0.0f ? 0.0f : v;
        if (v < worst) { /* rows arrive in increasing order: strict < keeps the tie rule */
            topk_insert(bv, bi, k, &cnt, v, base + j);
            worst = cnt == k ? bv[k - 1] : INFINITY;
        }
    }
    size_t at = ((size_t)slot0 + w) * k;
    topk_store(cv, (size_t)cv_off + at, ci, (size_t)ci_off + at, k, bv, bi, cnt);
}

/* in: `lists` sorted lists of k per row; out: ceil(lists / group) lists per row, list g of
 * row r merging input lists g*group .. g*group + group - 1. */
__kernel void topk_merge(__global const float *iv, int iv_off, __global const int *ii,
                         int ii_off, int rows, int lists, int k, int group, __global float *ov,
                         int ov_off, __global int *oi, int oi_off, int olists)
{
    int id = (int)get_global_id(0), r = id / olists, g = id - r * olists;
    if (r >= rows)
        return;
    float bv[TOPK_KCAP];
    int bi[TOPK_KCAP];
    int cnt = 0;
    int first = g * group, last = min(first + group, lists);
    for (int l = first; l < last; l++) {
        size_t at = ((size_t)r * lists + l) * k;
        for (int j = 0; j < k; j++) {
            float v = iv[(size_t)iv_off + at + j];
            int i = ii[(size_t)ii_off + at + j];
            if (i < 0)
                break; /* the rest of this list is empty */
            if (cnt == k && !topk_before(v, i, bv[k - 1], bi[k - 1]))
                break; /* sorted: nothing further in this list can enter */
            topk_insert(bv, bi, k, &cnt, v, i);
        }
    }
    size_t at = ((size_t)r * olists + g) * k;
    topk_store(ov, (size_t)ov_off + at, oi, (size_t)oi_off + at, k, bv, bi, cnt);
}
