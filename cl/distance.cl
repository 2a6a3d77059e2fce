/* Pairwise distances: row-paired (Siamese pairs) and the full matrix (triplet mining),
 * forward and backward. Every tensor comes as (buffer, element offset); `squared` selects
 * the squared Euclidean distance. Where the Euclidean distance is 0 its gradient is taken
 * as 0 (minimum-norm subgradient) so identical embeddings never give NaN. */

/* d[i] = ||a[i] - b[i]||: one work-item per pair; D is an embedding size (tens to a few
 * hundred), so a loop beats a work-group reduction here. */
__kernel void dist_rows_forward(__global const float *a, int a_off, __global const float *b,
                                int b_off, __global float *d, int d_off, int rows, int dim,
                                int squared)
{
    int i = get_global_id(0);
    if (i >= rows)
        return;
    __global const float *x = a + a_off + (size_t)i * dim;
    __global const float *y = b + b_off + (size_t)i * dim;
    float s = 0.0f;
    for (int k = 0; k < dim; k++) {
        float t = x[k] - y[k];
        s += t * t;
    }
    d[d_off + i] = squared ? s : sqrt(s);
}

/* da[i,k] = c_i (a - b), db = -da, with c_i = 2 g_i (squared) or g_i / d_i (Euclidean). */
__kernel void dist_rows_backward(__global const float *a, int a_off, __global const float *b,
                                 int b_off, __global const float *d, int d_off,
                                 __global const float *g, int g_off, __global float *da,
                                 int da_off, __global float *db, int db_off, int rows, int dim,
                                 int squared, int want_da, int want_db)
{
    int t = get_global_id(0);
    if (t >= rows * dim)
        return;
    int i = t / dim;
    float gi = g[g_off + i], di = d[d_off + i];
    float c = squared ? 2.0f * gi : (di > 0.0f ? gi / di : 0.0f);
    float v = c * (a[a_off + t] - b[b_off + t]);
    if (want_da)
        da[da_off + t] = v;
    if (want_db)
        db[db_off + t] = -v;
}

/* out[i] = ||x[i]||^2 for the GEMM form of the distance matrix. */
__kernel void dist_sq_norms(__global const float *x, int x_off, __global float *out,
                            int out_off, int rows, int dim)
{
    int i = get_global_id(0);
    if (i >= rows)
        return;
    __global const float *r = x + x_off + (size_t)i * dim;
    float s = 0.0f;
    for (int k = 0; k < dim; k++)
        s += r[k] * r[k];
    out[out_off + i] = s;
}

/* dist holds -2 a b^T from the GEMM; add the norms, clamp the cancellation error at 0, and
 * zero the diagonal exactly when a and b are the same rows. 2-D: (j, i). */
__kernel void dist_matrix_finish(__global float *dist, int dist_off, __global const float *na,
                                 int na_off, __global const float *nb, int nb_off, int m, int n,
                                 int squared, int self)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (i >= m || j >= n)
        return;
    size_t at = (size_t)dist_off + (size_t)i * n + j;
    float s = fmax(dist[at] + na[na_off + i] + nb[nb_off + j], 0.0f);
    if (self && i == j)
        s = 0.0f;
    dist[at] = squared ? s : sqrt(s);
}

/* Reference: the direct sum of squared differences, one work-item per (i, j). */
__kernel void dist_matrix_direct(__global const float *a, int a_off, __global const float *b,
                                 int b_off, __global float *dist, int dist_off, int m, int n,
                                 int dim, int squared)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (i >= m || j >= n)
        return;
    __global const float *x = a + a_off + (size_t)i * dim;
    __global const float *y = b + b_off + (size_t)j * dim;
    float s = 0.0f;
    for (int k = 0; k < dim; k++) {
        float t = x[k] - y[k];
        s += t * t;
    }
    dist[dist_off + (size_t)i * n + j] = squared ? s : sqrt(s);
}

/* W = dL/d(squared distance): g when squared, g / (2 d) otherwise; 0 where d == 0 (the
 * clamp or the diagonal: no gradient flows through either). 2-D: (j, i). */
__kernel void dist_matrix_weights(__global const float *dist, int dist_off,
                                  __global const float *g, int g_off, __global float *w,
                                  int w_off, int m, int n, int squared)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (i >= m || j >= n)
        return;
    size_t at = (size_t)i * n + j;
    float d = dist[dist_off + at], gv = g[g_off + at];
    w[w_off + at] = d > 0.0f ? (squared ? gv : 0.5f * gv / d) : 0.0f;
}

/* Row sums (items 0..m-1) and column sums (items m..m+n-1) of W in one launch: each sum
 * is gathered by one work-item, so there are no atomics and the order is fixed. */
__kernel void dist_matrix_wsums(__global const float *w, int w_off, __global float *rs,
                                int rs_off, __global float *cs, int cs_off, int m, int n)
{
    int t = get_global_id(0);
    if (t >= m + n)
        return;
    float s = 0.0f;
    if (t < m) {
        __global const float *r = w + w_off + (size_t)t * n;
        for (int j = 0; j < n; j++)
            s += r[j];
        rs[rs_off + t] = s;
    } else {
        int j = t - m;
        for (int i = 0; i < m; i++)
            s += w[w_off + (size_t)i * n + j];
        cs[cs_off + j] = s;
    }
}

/* out[i,k] = 2 (s1[i] + s2[i]) x[i,k] (s2 only when use_s2): the diagonal part of the
 * matrix-form backward, written before the GEMM adds -2 W b on top (beta = 1). */
__kernel void dist_matrix_diag_term(__global const float *x, int x_off, __global const float *s1,
                                    int s1_off, __global const float *s2, int s2_off,
                                    __global float *out, int out_off, int rows, int dim,
                                    int use_s2)
{
    int t = get_global_id(0);
    if (t >= rows * dim)
        return;
    int i = t / dim;
    float s = s1[s1_off + i];
    if (use_s2)
        s += s2[s2_off + i];
    out[out_off + t] = 2.0f * s * x[x_off + t];
}
