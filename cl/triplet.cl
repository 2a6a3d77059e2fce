/* Triplet loss max(d(a,p) - d(a,n) + margin, 0) with online mining on a distance matrix
 * dist [N, N] (row = anchor) and float identity labels [N].
 *
 * Every mining kernel writes one record of 3 floats per item (loss sum, active count, valid
 * count) and, where a backward needs them, the mined indices; triplet_finish reduces the
 * records to the loss and the counts in one work-group. The backward kernels are gathers:
 * one work-item per element of dL/ddist re-derives which terms touch it, so no atomics.
 * Ties in mining go to the lowest index (strict comparisons while scanning upwards). The
 * activity test `dap - dan + margin > 0` is written identically in forward and backward so
 * both see the same active set. */

#define AT(m, i, j) (m)[(size_t)(i) * n + (j)]

/* Batch-all, one work-item per (a, p): sums over every negative. 2-D: (p, a). */
__kernel void triplet_all_forward(__global const float *dist, int dist_off,
                                  __global const float *lab, int lab_off, __global float *rec,
                                  int rec_off, int n, float margin)
{
    int p = get_global_id(0), a = get_global_id(1);
    if (a >= n || p >= n)
        return;
    __global const float *D = dist + dist_off;
    __global const float *L = lab + lab_off;
    float la = L[a], s = 0.0f;
    int act = 0, val = 0;
    if (p != a && L[p] == la) {
        float dap = AT(D, a, p);
        for (int k = 0; k < n; k++) {
            if (L[k] == la)
                continue;
            val++;
            float l = dap - AT(D, a, k) + margin;
            if (l > 0.0f) {
                s += l;
                act++;
            }
        }
    }
    __global float *r = rec + rec_off + 3 * ((size_t)a * n + p);
    r[0] = s;
    r[1] = (float)act;
    r[2] = (float)val;
}

/* dL/ddist[a, j] = (#active (a, j, k)) / cnt for a positive j, -(#active (a, p, j)) / cnt for
 * a negative j, where cnt = number of active triplets (stats[2]). 2-D: (j, a). */
__kernel void triplet_all_backward(__global const float *dist, int dist_off,
                                   __global const float *lab, int lab_off,
                                   __global const float *stats, int stats_off,
                                   __global float *g, int g_off, int n, float margin)
{
    int j = get_global_id(0), a = get_global_id(1);
    if (a >= n || j >= n)
        return;
    __global const float *D = dist + dist_off;
    __global const float *L = lab + lab_off;
    float cnt = stats[stats_off + 2], la = L[a], out = 0.0f;
    if (cnt > 0.0f && j != a) {
        int c = 0;
        if (L[j] == la) {
            float dap = AT(D, a, j);
            for (int k = 0; k < n; k++)
                if (L[k] != la && dap - AT(D, a, k) + margin > 0.0f)
                    c++;
            out = (float)c / cnt;
        } else {
            float dan = AT(D, a, j);
            for (int k = 0; k < n; k++)
                if (k != a && L[k] == la && AT(D, a, k) - dan + margin > 0.0f)
                    c++;
            out = -(float)c / cnt;
        }
    }
    AT(g + g_off, a, j) = out;
}

/* Batch-hard, one work-item per anchor: farthest positive, closest negative. The indices go
 * to idx[2a], idx[2a + 1] (-1 when there is none). */
__kernel void triplet_hard_forward(__global const float *dist, int dist_off,
                                   __global const float *lab, int lab_off, __global float *rec,
                                   int rec_off, __global float *idx, int idx_off, int n,
                                   float margin)
{
    int a = get_global_id(0);
    if (a >= n)
        return;
    __global const float *D = dist + dist_off;
    __global const float *L = lab + lab_off;
    float la = L[a], dp = 0.0f, dn = 0.0f;
    int pi = -1, ni = -1;
    for (int k = 0; k < n; k++) {
        if (k == a)
            continue;
        float d = AT(D, a, k);
        if (L[k] == la) {
            if (pi < 0 || d > dp) {
                pi = k;
                dp = d;
            }
        } else if (ni < 0 || d < dn) {
            ni = k;
            dn = d;
        }
    }
    int valid = pi >= 0 && ni >= 0;
    float l = valid ? fmax(dp - dn + margin, 0.0f) : 0.0f;
    __global float *r = rec + rec_off + 3 * (size_t)a;
    r[0] = l;
    r[1] = l > 0.0f ? 1.0f : 0.0f;
    r[2] = valid ? 1.0f : 0.0f;
    idx[idx_off + 2 * a] = (float)pi;
    idx[idx_off + 2 * a + 1] = (float)ni;
}

/* +1/cnt at the mined positive, -1/cnt at the mined negative of an active anchor, where
 * cnt = number of valid anchors (stats[3]). 2-D: (j, a). */
__kernel void triplet_hard_backward(__global const float *rec, int rec_off,
                                    __global const float *idx, int idx_off,
                                    __global const float *stats, int stats_off,
                                    __global float *g, int g_off, int n)
{
    int j = get_global_id(0), a = get_global_id(1);
    if (a >= n || j >= n)
        return;
    float cnt = stats[stats_off + 3], out = 0.0f;
    if (cnt > 0.0f && rec[rec_off + 3 * (size_t)a + 1] > 0.0f) {
        if ((float)j == idx[idx_off + 2 * a])
            out += 1.0f / cnt;
        if ((float)j == idx[idx_off + 2 * a + 1])
            out -= 1.0f / cnt;
    }
    AT(g + g_off, a, j) = out;
}

/* Semi-hard (FaceNet), one work-item per (a, p): the negative with d(a,n) > d(a,p) closest to
 * d(a,p); when none is farther, the closest negative overall. idx[a*n + p] = the negative
 * (-1 when the pair is not a valid anchor-positive pair). 2-D: (p, a). */
__kernel void triplet_semi_forward(__global const float *dist, int dist_off,
                                   __global const float *lab, int lab_off, __global float *rec,
                                   int rec_off, __global float *idx, int idx_off, int n,
                                   float margin)
{
    int p = get_global_id(0), a = get_global_id(1);
    if (a >= n || p >= n)
        return;
    __global const float *D = dist + dist_off;
    __global const float *L = lab + lab_off;
    float la = L[a], l = 0.0f;
    int ni = -1;
    if (p != a && L[p] == la) {
        float dap = AT(D, a, p), dh = 0.0f, ds = 0.0f;
        int hi = -1, si = -1;
        for (int k = 0; k < n; k++) {
            if (L[k] == la)
                continue;
            float d = AT(D, a, k);
            if (hi < 0 || d < dh) {
                hi = k;
                dh = d;
            }
            if (d > dap && (si < 0 || d < ds)) {
                si = k;
                ds = d;
            }
        }
        ni = si >= 0 ? si : hi;
        if (ni >= 0)
            l = fmax(dap - AT(D, a, ni) + margin, 0.0f);
    }
    __global float *r = rec + rec_off + 3 * ((size_t)a * n + p);
    r[0] = l;
    r[1] = l > 0.0f ? 1.0f : 0.0f;
    r[2] = ni >= 0 ? 1.0f : 0.0f;
    idx[idx_off + (size_t)a * n + p] = (float)ni;
}

/* dL/ddist[a, j]: +1/cnt for an active positive j; -(#active p that mined j)/cnt for a
 * negative j; cnt = number of valid (a, p) pairs (stats[3]). 2-D: (j, a). */
__kernel void triplet_semi_backward(__global const float *lab, int lab_off,
                                    __global const float *rec, int rec_off,
                                    __global const float *idx, int idx_off,
                                    __global const float *stats, int stats_off,
                                    __global float *g, int g_off, int n)
{
    int j = get_global_id(0), a = get_global_id(1);
    if (a >= n || j >= n)
        return;
    __global const float *L = lab + lab_off;
    __global const float *R = rec + rec_off;
    __global const float *I = idx + idx_off + (size_t)a * n;
    float cnt = stats[stats_off + 3], out = 0.0f;
    if (cnt > 0.0f && j != a) {
        if (L[j] == L[a]) {
            if (R[3 * ((size_t)a * n + j) + 1] > 0.0f)
                out = 1.0f / cnt;
        } else {
            int c = 0;
            for (int p = 0; p < n; p++)
                if (I[p] == (float)j && R[3 * ((size_t)a * n + p) + 1] > 0.0f)
                    c++;
            out = -(float)c / cnt;
        }
    }
    AT(g + g_off, a, j) = out;
}

/* Sums the records in one work-group (power-of-two size) and writes
 * stats = {loss, active / valid, active, valid} and loss[0]. The loss is the mean over the
 * active terms (batch-all, mean_over_active = 1) or over the valid ones; 0 when there are
 * none, so an easy batch gives loss 0 and gradient 0 instead of 0/0. Counts are summed as
 * integers so they stay exact. */
__kernel void triplet_finish(__global const float *rec, int rec_off, __global float *stats,
                             int stats_off, __global float *loss, int loss_off, int items,
                             int mean_over_active, __local float *ls, __local uint *lact,
                             __local uint *lval)
{
    int lid = get_local_id(0), wg = get_local_size(0);
    float s = 0.0f;
    uint act = 0, val = 0;
    for (int i = lid; i < items; i += wg) {
        __global const float *r = rec + rec_off + 3 * (size_t)i;
        s += r[0];
        act += (uint)r[1];
        val += (uint)r[2];
    }
    ls[lid] = s;
    lact[lid] = act;
    lval[lid] = val;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int st = wg / 2; st > 0; st /= 2) {
        if (lid < st) {
            ls[lid] += ls[lid + st];
            lact[lid] += lact[lid + st];
            lval[lid] += lval[lid + st];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        uint denom = mean_over_active ? lact[0] : lval[0];
        float l = denom ? ls[0] / (float)denom : 0.0f;
        stats[stats_off + 0] = l;
        stats[stats_off + 1] = lval[0] ? (float)lact[0] / (float)lval[0] : 0.0f;
        stats[stats_off + 2] = (float)lact[0];
        stats[stats_off + 3] = (float)lval[0];
        loss[loss_off] = l;
    }
}
