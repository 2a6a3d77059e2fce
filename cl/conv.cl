/* conv2d kernels. Layout of the im2col matrix for a chunk of nb images:
 *   col[kk, j], kk = (ci * K + ky) * K + kx  (row: one weight position, K*K*cin rows)
 *               j  = i * P + oy * OW + ox    (column: image i of the chunk, output pixel)
 * with rows ld floats apart (ld >= nb * P: sc_conv2d_ld pads it), so the forward is
 * W[cout, kk] x col[kk, j] = out[cout, j] (one GEMM for the chunk), and out (rows ld apart
 * too) is permuted to NCHW. Every buffer comes with its element offset. On CPUs the matrix
 * may instead be stored in panels of 16 columns (im2col_panel, at the end). */

/* One work-item per (column j, input channel ci): it fills the k*k rows of that channel,
 * so the index arithmetic (divisions) is done once per item, not once per element. Dim 0
 * walks columns, so neighbouring items write neighbouring addresses (and PoCL vectorises
 * across them). */
__kernel void im2col(__global const float *x, int x_off, __global float *col, int col_off,
                     int nb, int cin, int h, int w, int k, int stride, int pad, int oh, int ow,
                     int ld)
{
    int j = get_global_id(0);
    int ci = get_global_id(1);
    int p_count = oh * ow;
    if (j >= nb * p_count || ci >= cin)
        return;
    int i = j / p_count, p = j - i * p_count;
    int oy = p / ow, ox = p - oy * ow;
    int iy0 = oy * stride - pad, ix0 = ox * stride - pad;
    __global const float *xp = x + x_off + (i * cin + ci) * h * w;
    __global float *cp = col + col_off + ci * k * k * ld + j;
    for (int ky = 0; ky < k; ky++) {
        int iy = iy0 + ky;
        int row_ok = iy >= 0 && iy < h;
        for (int kx = 0; kx < k; kx++) {
            int ix = ix0 + kx;
            *cp = row_ok && ix >= 0 && ix < w ? xp[iy * w + ix] : 0.0f;
            cp += ld;
        }
    }
}

/* The adjoint of im2col as a gather: each work-item owns one dx element and sums the col
 * entries that im2col copied it to, so no two items write the same address (no atomics). */
__kernel void col2im(__global const float *col, int col_off, __global float *dx, int dx_off,
                     int nb, int cin, int h, int w, int k, int stride, int pad, int oh, int ow,
                     int ld)
{
    int g = get_global_id(0);
    if (g >= nb * cin * h * w)
        return;
    int ix = g % w, t = g / w;
    int iy = t % h;
    t /= h;
    int ci = t % cin, i = t / cin;
    int p_count = oh * ow;
    int ty = iy + pad, tx = ix + pad;
    float s = 0.0f;
    /* ky with (ty - ky) divisible by stride and oy = (ty - ky) / stride in [0, oh). */
    for (int ky = ty % stride; ky < k && ky <= ty; ky += stride) {
        int oy = (ty - ky) / stride;
        if (oy >= oh)
            continue;
        for (int kx = tx % stride; kx < k && kx <= tx; kx += stride) {
            int ox = (tx - kx) / stride;
            if (ox >= ow)
                continue;
            int kk = (ci * k + ky) * k + kx;
            s += col[col_off + kk * ld + i * p_count + oy * ow + ox];
        }
    }
    dx[dx_off + g] = s;
}

/* y[i, c, p] = t[c * ld + i * P + p] (+ b[c]): GEMM output of a chunk to NCHW, bias fused. */
__kernel void cnp_to_ncp(__global const float *t, int t_off, __global float *y, int y_off,
                         __global const float *b, int b_off, int has_bias, int nb, int c,
                         int p_count, int ld)
{
    int g = get_global_id(0);
    if (g >= nb * c * p_count)
        return;
    int p = g % p_count, r = g / p_count;
    int ch = r % c, i = r / c;
    float v = t[t_off + ch * ld + i * p_count + p];
    if (has_bias)
        v += b[b_off + ch];
    y[y_off + g] = v;
}

/* t[c * ld + i * P + p] = y[i, c, p]: dy of a chunk to the GEMM layout (indexed by the
 * output so writes are contiguous). */
__kernel void ncp_to_cnp(__global const float *y, int y_off, __global float *t, int t_off,
                         int nb, int c, int p_count, int ld)
{
    int g = get_global_id(0);
    if (g >= nb * c * p_count)
        return;
    int p = g % p_count, r = g / p_count;
    int i = r % nb, ch = r / nb;
    t[t_off + ch * ld + i * p_count + p] = y[y_off + (i * c + ch) * p_count + p];
}

/* The two permutes for CPUs: one work-item per (image i, channel) row of P contiguous
 * floats, so each is a straight copy (the per-element kernels above pay four integer
 * divisions an element, more than the copy itself on a CPU). Same arguments. */
__kernel void cnp_to_ncp_rows(__global const float *t, int t_off, __global float *y,
                              int y_off, __global const float *b, int b_off, int has_bias,
                              int nb, int c, int p_count, int ld)
{
    int r = get_global_id(0); /* i * c + ch */
    if (r >= nb * c)
        return;
    int i = r / c, ch = r - i * c;
    __global const float *src = t + t_off + ch * ld + i * p_count;
    __global float *dst = y + y_off + r * p_count;
    float add = has_bias ? b[b_off + ch] : 0.0f;
    for (int p = 0; p < p_count; p++)
        dst[p] = src[p] + add;
}

__kernel void ncp_to_cnp_rows(__global const float *y, int y_off, __global float *t, int t_off,
                              int nb, int c, int p_count, int ld)
{
    int r = get_global_id(0); /* ch * nb + i */
    if (r >= nb * c)
        return;
    int ch = r / nb, i = r - ch * nb;
    __global const float *src = y + y_off + (i * c + ch) * p_count;
    __global float *dst = t + t_off + ch * ld + i * p_count;
    for (int p = 0; p < p_count; p++)
        dst[p] = src[p];
}

/* Reference convolution: one work-item per output element, straight from the definition. */
__kernel void conv2d_direct(__global const float *x, int x_off, __global const float *wt,
                            int w_off, __global const float *b, int b_off, int has_bias,
                            __global float *y, int y_off, int n, int cin, int h, int w,
                            int cout, int k, int stride, int pad, int oh, int ow)
{
    int g = get_global_id(0);
    if (g >= n * cout * oh * ow)
        return;
    int ox = g % ow, t = g / ow;
    int oy = t % oh;
    t /= oh;
    int co = t % cout, i = t / cout;
    float s = has_bias ? b[b_off + co] : 0.0f;
    for (int ci = 0; ci < cin; ci++) {
        for (int ky = 0; ky < k; ky++) {
            int iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h)
                continue;
            for (int kx = 0; kx < k; kx++) {
                int ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= w)
                    continue;
                s += x[x_off + ((i * cin + ci) * h + iy) * w + ix] *
                     wt[w_off + ((co * cin + ci) * k + ky) * k + kx];
            }
        }
    }
    y[y_off + g] = s;
}

/* im2col for CPUs: one work-item per (image i, row kk of the matrix) writes that image's
 * oh * ow contiguous columns of the row, output row by output row. On a CPU runtime each
 * work-item is a loop iteration, so a long inner loop of contiguous stores (and strided
 * loads) is what runs fast; the column-per-item kernel above suits GPUs, whose neighbouring
 * items coalesce. (An item per output row paid its index divisions for every 8 floats of
 * an 8-wide layer: 2.5 ms of conv4's 6.9 ms forward.) */
__kernel void im2col_rows(__global const float *x, int x_off, __global float *col, int col_off,
                          int nb, int cin, int h, int w, int k, int stride, int pad, int oh,
                          int ow, int ld)
{
    int i = get_global_id(0);
    int kk = get_global_id(1);
    if (i >= nb || kk >= cin * k * k)
        return;
    int kx = kk % k, t = kk / k;
    int ky = t % k, ci = t / k;
    __global float *cp = col + col_off + kk * ld + i * oh * ow;
    __global const float *xc = x + x_off + (i * cin + ci) * h * w;
    /* ox range whose ix = ox * stride - pad + kx falls inside [0, w) */
    int lo = min(pad - kx > 0 ? (pad - kx + stride - 1) / stride : 0, ow);
    int hi = min((w - 1 + pad - kx) / stride + 1, ow);
    for (int oy = 0; oy < oh; oy++, cp += ow) {
        int iy = oy * stride - pad + ky;
        if (iy < 0 || iy >= h) {
            for (int ox = 0; ox < ow; ox++)
                cp[ox] = 0.0f;
            continue;
        }
        int base = iy * w - pad + kx;
        int ox = 0;
        for (; ox < lo; ox++)
            cp[ox] = 0.0f;
        for (; ox < hi; ox++)
            cp[ox] = xc[base + ox * stride];
        for (; ox < ow; ox++)
            cp[ox] = 0.0f;
    }
}

/* col2im for CPUs: one work-item per input plane (image i, channel ci) adds up every matrix
 * entry that im2col_rows copied from it. The item owns its plane, so there are no atomics.
 * It walks each of the k*k matrix rows of its channel in order over the image's oh*ow
 * columns (one sequential stream at a time) and adds into the plane, which stays in cache
 * (16 KB for 64 x 64). Owning a row of dx instead read k*k short runs of the matrix from
 * rows a power-of-two stride apart, which missed the cache on every run: 3-5x slower. */
__kernel void col2im_rows(__global const float *col, int col_off, __global float *dx, int dx_off,
                          int nb, int cin, int h, int w, int k, int stride, int pad, int oh,
                          int ow, int ld)
{
    int r = get_global_id(0); /* i * cin + ci */
    if (r >= nb * cin)
        return;
    int ci = r % cin, i = r / cin;
    __global float *dp = dx + dx_off + r * h * w;
    for (int e = 0; e < h * w; e++)
        dp[e] = 0.0f;
    for (int ky = 0; ky < k; ky++) {
        /* oy whose iy = oy * stride - pad + ky falls inside [0, h) */
        int ylo = pad - ky > 0 ? (pad - ky + stride - 1) / stride : 0;
        int yhi = min((h - 1 + pad - ky) / stride + 1, oh);
        for (int kx = 0; kx < k; kx++) {
            int xlo = pad - kx > 0 ? (pad - kx + stride - 1) / stride : 0;
            int xhi = min((w - 1 + pad - kx) / stride + 1, ow);
            __global const float *cp =
                col + col_off + ((ci * k + ky) * k + kx) * ld + i * oh * ow;
            for (int oy = ylo; oy < yhi; oy++) {
                __global float *drow = dp + (oy * stride - pad + ky) * w - pad + kx;
                __global const float *crow = cp + oy * ow;
                for (int ox = xlo; ox < xhi; ox++)
                    drow[ox * stride] += crow[ox];
            }
        }
    }
}

/* im2col for CPUs in panels (src/ops/conv.c, when the own GEMM runs on a CPU): the same
 * matrix as im2col_rows, column j of row kk stored at (j / 16) * 16 K + kk * 16 + j % 16
 * (K = cin k k rows): each 16 columns of the matrix are one K x 16 block, which
 * sc_gemm_panel reads as one sequential stream. The host takes this layout only when
 * oh * ow is a multiple of 16, so every image starts a panel. One work-item per panel: it
 * writes its K x 16 floats in order. (An item per matrix row, as im2col_rows, wrote one
 * 64-byte line of each panel, K lines apart: 3x slower at conv1.) When ow is a multiple or
 * a divisor of 16, a panel's pixels are runs of min(ow, 16) in whole output rows, so each
 * run of a row kk is loads stride apart from one input row, with no bounds checks unless
 * the window crosses the border (lane by lane, as for other widths, was 1.9x slower at
 * conv4's 8 x 8). ld is unused. */
__kernel void im2col_panel(__global const float *x, int x_off, __global float *col,
                           int col_off, int nb, int cin, int h, int w, int k, int stride,
                           int pad, int oh, int ow, int ld)
{
    int q = get_global_id(0);
    int pc = oh * ow;
    if (q >= nb * (pc / 16))
        return;
    int j0 = q * 16, i = j0 / pc, p0 = j0 - i * pc;
    int oy0 = p0 / ow, ox0 = p0 - oy0 * ow;
    __global float *cp = col + col_off + (size_t)q * 16 * (size_t)(cin * k * k);
    __global const float *xi = x + x_off + i * cin * h * w;
    if (ow % 16 == 0) { /* one run of 16 (a constant trip count: 1.7x faster at conv1) */
        int iy0 = oy0 * stride - pad, ix0 = ox0 * stride - pad;
        for (int ci = 0; ci < cin; ci++, xi += h * w)
            for (int ky = 0; ky < k; ky++) {
                int iy = iy0 + ky;
                if (iy < 0 || iy >= h) {
                    for (int e = 0; e < 16 * k; e++)
                        cp[e] = 0.0f;
                    cp += 16 * k;
                    continue;
                }
                __global const float *xr = xi + iy * w;
                for (int kx = 0; kx < k; kx++, cp += 16) {
                    int ix = ix0 + kx;
                    if (ix >= 0 && ix + 15 * stride < w) {
                        for (int l = 0; l < 16; l++)
                            cp[l] = xr[ix + l * stride];
                    } else {
                        for (int l = 0; l < 16; l++) {
                            int c = ix + l * stride;
                            cp[l] = c >= 0 && c < w ? xr[c] : 0.0f;
                        }
                    }
                }
            }
        return;
    }
    if (16 % ow == 0) {
        int run = ow;
        for (int ci = 0; ci < cin; ci++, xi += h * w)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++, cp += 16) {
                    int ix = ox0 * stride - pad + kx;
                    int inside = ix >= 0 && ix + (run - 1) * stride < w;
                    for (int r = 0; r < 16; r += run) {
                        int iy = (oy0 + r / run) * stride - pad + ky;
                        __global float *o = cp + r;
                        if (iy < 0 || iy >= h) {
                            for (int l = 0; l < run; l++)
                                o[l] = 0.0f;
                            continue;
                        }
                        __global const float *xr = xi + iy * w;
                        if (inside) {
                            for (int l = 0; l < run; l++)
                                o[l] = xr[ix + l * stride];
                        } else {
                            for (int l = 0; l < run; l++) {
                                int c = ix + l * stride;
                                o[l] = c >= 0 && c < w ? xr[c] : 0.0f;
                            }
                        }
                    }
                }
        return;
    }
    /* other widths: the panel's pixels lane by lane */
    int iy0[16], ix0[16];
    for (int l = 0; l < 16; l++) {
        int oy = (p0 + l) / ow, ox = p0 + l - oy * ow;
        iy0[l] = oy * stride - pad;
        ix0[l] = ox * stride - pad;
    }
    for (int ci = 0; ci < cin; ci++, xi += h * w)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++, cp += 16)
                for (int l = 0; l < 16; l++) {
                    int iy = iy0[l] + ky, ix = ix0[l] + kx;
                    cp[l] = iy >= 0 && iy < h && ix >= 0 && ix < w ? xi[iy * w + ix] : 0.0f;
                }
}
