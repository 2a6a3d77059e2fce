/* Batch normalisation over x viewed as [N, C, S] (S = H*W for images, 1 for features).
 * Per-channel statistics and gradient sums: one work-group per channel, a tree in local
 * memory (no atomics, so results do not depend on scheduling); the elementwise parts run
 * one item per element. saved[0, C) = mean, saved[C, 2C) = 1 / sqrt(var + eps). */

/* Element j of channel ch's N*S elements, j = n * S + s. */
#define BN_INDEX(j, ch, c, s) (((j) / (s) * (c) + (ch)) * (s) + (j) % (s))

/* Runs BODY with i = each index of channel ch that this work-item owns. Planes at least as
 * wide as the group are walked plane by plane (contiguous, no division per element: the
 * flat walk's divisions cost more than the loads on a CPU); narrower ones flat. */
#define FOR_CHANNEL(i, BODY)                                                                   \
    if (s >= nl) {                                                                             \
        for (int n_ = 0; n_ < n; n_++)                                                         \
            for (int s_ = lid; s_ < s; s_ += nl) {                                             \
                int i = (n_ * c + ch) * s + s_;                                                \
                BODY                                                                           \
            }                                                                                  \
    } else {                                                                                   \
        for (int j_ = lid; j_ < n * s; j_ += nl) {                                             \
            int i = BN_INDEX(j_, ch, c, s);                                                    \
            BODY                                                                               \
        }                                                                                      \
    }

static float group_sum(local float *scratch, float v)
{
    int lid = (int)get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = (int)get_local_size(0) / 2; k > 0; k >>= 1) {
        if (lid < k)
            scratch[lid] += scratch[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* the next call overwrites scratch */
    return r;
}

/* Batch mean and biased variance of each channel (two passes over the data: the textbook
 * E[x^2] - E[x]^2 loses everything when the mean is large). With update != 0 the running
 * statistics move towards the batch: running = (1 - momentum) running + momentum batch,
 * the variance unbiased (m / (m - 1)) as in PyTorch. */
kernel void bn_stats(global const float *x, int xoff, int n, int c, int s, global float *saved,
                     int soff, global float *rmean, int rmoff, global float *rvar, int rvoff,
                     float eps, float momentum, int update, local float *scratch)
{
    int ch = (int)get_group_id(0), lid = (int)get_local_id(0), nl = (int)get_local_size(0);
    int m = n * s;
    float acc = 0.0f;
    FOR_CHANNEL(i, acc += x[xoff + i];)
    float mean = group_sum(scratch, acc) / (float)m;
    acc = 0.0f;
    FOR_CHANNEL(i, float d = x[xoff + i] - mean; acc += d * d;)
    float var = group_sum(scratch, acc) / (float)m;
    if (lid == 0) {
        saved[soff + ch] = mean;
        saved[soff + c + ch] = 1.0f / sqrt(var + eps);
        if (update) {
            float unbiased = m > 1 ? var * (float)m / (float)(m - 1) : var;
            rmean[rmoff + ch] = (1.0f - momentum) * rmean[rmoff + ch] + momentum * mean;
            rvar[rvoff + ch] = (1.0f - momentum) * rvar[rvoff + ch] + momentum * unbiased;
        }
    }
}

/* Eval mode: the running statistics, in the saved layout, so apply and backward need not
 * know the mode. */
kernel void bn_eval_stats(global const float *rmean, int rmoff, global const float *rvar,
                          int rvoff, global float *saved, int soff, int c, float eps)
{
    int ch = (int)get_global_id(0);
    if (ch >= c)
        return;
    saved[soff + ch] = rmean[rmoff + ch];
    saved[soff + c + ch] = 1.0f / sqrt(rvar[rvoff + ch] + eps);
}

/* The elementwise kernels run on a 2-D range: columns = S, rows = N*C (so the channel
 * needs no division per element). */

/* y = (x - mean) * invstd * gamma + beta. */
kernel void bn_apply(global const float *x, int xoff, global float *y, int yoff,
                     global const float *saved, int soff, global const float *gamma, int goff,
                     global const float *beta, int boff, int c, int s, int rows, int act,
                     float slope)
{
    int col = (int)get_global_id(0), row = (int)get_global_id(1);
    if (col >= s || row >= rows)
        return;
    int ch = row % c, i = row * s + col;
    float xhat = (x[xoff + i] - saved[soff + ch]) * saved[soff + c + ch];
    float v = xhat * gamma[goff + ch] + beta[boff + ch];
    /* act: the (leaky) ReLU that follows, fused (the same expression as activation.cl). */
    y[yoff + i] = !act || v > 0.0f ? v : slope * v;
}

/* dbeta = sum dy, dgamma = sum dy * xhat per channel. */
kernel void bn_grad_sums(global const float *x, int xoff, global const float *dy, int dyoff,
                         global const float *saved, int soff, int n, int c, int s,
                         global float *dgamma, int dgoff, global float *dbeta, int dboff,
                         local float *scratch)
{
    int ch = (int)get_group_id(0), lid = (int)get_local_id(0), nl = (int)get_local_size(0);
    float mean = saved[soff + ch], invstd = saved[soff + c + ch];
    float sdy = 0.0f, sdyx = 0.0f;
    FOR_CHANNEL(i, float g = dy[dyoff + i]; sdy += g; sdyx += g * (x[xoff + i] - mean) * invstd;)
    sdy = group_sum(scratch, sdy);
    sdyx = group_sum(scratch, sdyx);
    if (lid == 0) {
        dbeta[dboff + ch] = sdy;
        dgamma[dgoff + ch] = sdyx;
    }
}

/* Train: dx = gamma * invstd * (dy - (dbeta + xhat * dgamma) / m), the batch statistics'
 * own dependence on x included. Eval: dx = gamma * invstd * dy. */
kernel void bn_grad_input(global const float *x, int xoff, global const float *dy, int dyoff,
                          global const float *saved, int soff, global const float *gamma,
                          int goff, global const float *dgamma, int dgoff,
                          global const float *dbeta, int dboff, global float *dx, int dxoff,
                          int c, int s, int rows, float inv_m, int train)
{
    int col = (int)get_global_id(0), row = (int)get_global_id(1);
    if (col >= s || row >= rows)
        return;
    int ch = row % c, i = row * s + col;
    float invstd = saved[soff + c + ch];
    float g = dy[dyoff + i];
    if (train) {
        float xhat = (x[xoff + i] - saved[soff + ch]) * invstd;
        g -= (dbeta[dboff + ch] + xhat * dgamma[dgoff + ch]) * inv_m;
    }
    dx[dxoff + i] = gamma[goff + ch] * invstd * g;
}

/* ---- CPU variants (same arguments; src/ops/batchnorm.c picks them by device type) -------
 * A CPU runs a work-group as a loop over its items, so the per-channel tree above is a
 * serial loop with barriers between its steps and the 2-D elementwise range pays a
 * modulo per element. Here one work-item owns a channel (reductions: it walks the channel's
 * N planes with eight running sums each, which the compiler keeps in one vector register)
 * or a row (n, c) of S elements (elementwise: contiguous, no index arithmetic). */

/* Sum over one plane p of s elements of v (sq = 0) or (v - mean)^2 (sq = 1). */
static float plane_sum(global const float *p, int s, float mean, int sq)
{
    float8 a = (float8)(0.0f);
    int e = 0;
    for (; e + 8 <= s; e += 8) {
        float8 v = vload8(0, p + e);
        a += sq ? (v - mean) * (v - mean) : v;
    }
    float t = (a.s0 + a.s1) + (a.s2 + a.s3) + (a.s4 + a.s5) + (a.s6 + a.s7);
    for (; e < s; e++)
        t += sq ? (p[e] - mean) * (p[e] - mean) : p[e];
    return t;
}

kernel void bn_stats_rows(global const float *x, int xoff, int n, int c, int s,
                          global float *saved, int soff, global float *rmean, int rmoff,
                          global float *rvar, int rvoff, float eps, float momentum, int update,
                          local float *scratch)
{
    int ch = (int)get_global_id(0);
    if (ch >= c)
        return;
    int m = n * s;
    float acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += plane_sum(x + xoff + (i * c + ch) * s, s, 0.0f, 0);
    float mean = acc / (float)m;
    acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += plane_sum(x + xoff + (i * c + ch) * s, s, mean, 1);
    float var = acc / (float)m;
    saved[soff + ch] = mean;
    saved[soff + c + ch] = 1.0f / sqrt(var + eps);
    if (update) {
        float unbiased = m > 1 ? var * (float)m / (float)(m - 1) : var;
        rmean[rmoff + ch] = (1.0f - momentum) * rmean[rmoff + ch] + momentum * mean;
        rvar[rvoff + ch] = (1.0f - momentum) * rvar[rvoff + ch] + momentum * unbiased;
    }
}

kernel void bn_apply_rows(global const float *x, int xoff, global float *y, int yoff,
                          global const float *saved, int soff, global const float *gamma,
                          int goff, global const float *beta, int boff, int c, int s, int rows,
                          int act, float slope)
{
    int row = (int)get_global_id(0);
    if (row >= rows)
        return;
    int ch = row % c;
    float mean = saved[soff + ch], invstd = saved[soff + c + ch];
    float g = gamma[goff + ch], b = beta[boff + ch];
    global const float *xr = x + xoff + row * s;
    global float *yr = y + yoff + row * s;
    for (int e = 0; e < s; e++) {
        float v = (xr[e] - mean) * invstd * g + b; /* bn_apply's expression, in its order */
        yr[e] = !act || v > 0.0f ? v : slope * v;
    }
}

kernel void bn_grad_sums_rows(global const float *x, int xoff, global const float *dy,
                              int dyoff, global const float *saved, int soff, int n, int c,
                              int s, global float *dgamma, int dgoff, global float *dbeta,
                              int dboff, local float *scratch)
{
    int ch = (int)get_global_id(0);
    if (ch >= c)
        return;
    float mean = saved[soff + ch], invstd = saved[soff + c + ch];
    float sdy = 0.0f, sdyx = 0.0f;
    for (int i = 0; i < n; i++) {
        int base = (i * c + ch) * s;
        global const float *xp = x + xoff + base, *gp = dy + dyoff + base;
        float8 a = (float8)(0.0f), b = (float8)(0.0f);
        int e = 0;
        for (; e + 8 <= s; e += 8) {
            float8 g = vload8(0, gp + e);
            a += g;
            b += g * (vload8(0, xp + e) - mean) * invstd;
        }
        float ta = (a.s0 + a.s1) + (a.s2 + a.s3) + (a.s4 + a.s5) + (a.s6 + a.s7);
        float tb = (b.s0 + b.s1) + (b.s2 + b.s3) + (b.s4 + b.s5) + (b.s6 + b.s7);
        for (; e < s; e++) {
            ta += gp[e];
            tb += gp[e] * (xp[e] - mean) * invstd;
        }
        sdy += ta;
        sdyx += tb;
    }
    dbeta[dboff + ch] = sdy;
    dgamma[dgoff + ch] = sdyx;
}

kernel void bn_grad_input_rows(global const float *x, int xoff, global const float *dy,
                               int dyoff, global const float *saved, int soff,
                               global const float *gamma, int goff, global const float *dgamma,
                               int dgoff, global const float *dbeta, int dboff,
                               global float *dx, int dxoff, int c, int s, int rows,
                               float inv_m, int train)
{
    int row = (int)get_global_id(0);
    if (row >= rows)
        return;
    int ch = row % c;
    float mean = saved[soff + ch], invstd = saved[soff + c + ch];
    float scale = gamma[goff + ch] * invstd;
    float db = train ? dbeta[dboff + ch] : 0.0f, dg = train ? dgamma[dgoff + ch] : 0.0f;
    global const float *xr = x + xoff + row * s, *gr = dy + dyoff + row * s;
    global float *dr = dx + dxoff + row * s;
    for (int e = 0; e < s; e++) {
        float g = gr[e];
        if (train)
            g -= (db + (xr[e] - mean) * invstd * dg) * inv_m;
        dr[e] = scale * g;
    }
}
