/* Max and average pooling over [NC, H, W] planes (N and C folded into one index).
 * Windows: rows oy * stride - pad .. + k - 1, clipped to the image; pad < k so every window
 * holds at least one pixel. Backward kernels gather over the windows that contain a pixel
 * (no atomics). */

/* First output index whose window [o * stride - pad, + k) contains pixel t, and the last. */
#define FIRST_OUT(t, k, stride, pad) ((t) + (pad) < (k) ? 0 : ((t) + (pad) - (k)) / (stride) + 1)
#define LAST_OUT(t, stride, pad) (((t) + (pad)) / (stride))

/* idx holds int32 argmax positions (iy * w + ix); has_idx = 0 for inference. */
__kernel void maxpool_forward(__global const float *x, int x_off, __global float *y, int y_off,
                              __global int *idx, int idx_off, int has_idx, int nc, int h,
                              int w, int k, int stride, int pad, int oh, int ow)
{
    int g = get_global_id(0);
    if (g >= nc * oh * ow)
        return;
    int ox = g % ow, t = g / ow;
    int oy = t % oh, plane = t / oh;
    int y0 = max(oy * stride - pad, 0), y1 = min(oy * stride - pad + k, h);
    int x0 = max(ox * stride - pad, 0), x1 = min(ox * stride - pad + k, w);
    __global const float *xp = x + x_off + plane * h * w;
    float best = 0.0f;
    int bi = -1;
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
            float v = xp[iy * w + ix];
            /* First maximum wins ties; a NaN wins so it propagates, as in PyTorch. */
            if (bi < 0 || v > best || (isnan(v) && !isnan(best))) {
                best = v;
                bi = iy * w + ix;
            }
        }
    y[y_off + g] = best;
    if (has_idx)
        idx[idx_off + g] = bi;
}

__kernel void maxpool_backward(__global const int *idx, int idx_off, __global const float *dy,
                               int dy_off, __global float *dx, int dx_off, int nc, int h,
                               int w, int k, int stride, int pad, int oh, int ow)
{
    int g = get_global_id(0);
    if (g >= nc * h * w)
        return;
    int ix = g % w, t = g / w;
    int iy = t % h, plane = t / h;
    int me = iy * w + ix;
    int oy0 = FIRST_OUT(iy, k, stride, pad), oy1 = min(LAST_OUT(iy, stride, pad), oh - 1);
    int ox0 = FIRST_OUT(ix, k, stride, pad), ox1 = min(LAST_OUT(ix, stride, pad), ow - 1);
    int base = plane * oh * ow;
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            int o = base + oy * ow + ox;
            if (idx[idx_off + o] == me)
                s += dy[dy_off + o];
        }
    dx[dx_off + g] = s;
}

/* Tiled windows (stride == k, pad == 0): every window lies inside the image and every pixel
 * is in at most one window, so the loops have one trip count for all work-items (PoCL
 * vectorises across them) and the backward pass is a lookup instead of a search. They take
 * the general kernels' arguments (stride = k and pad = 0 unused) so one launch serves both. */
/* The k x k window at xp[first] of rows w apart (inside the image): its first maximum in
 * row-major order, NaN winning, into *best; returns its position. */
static int window_max(__global const float *xp, int first, int k, int w, float *best)
{
    float b = xp[first];
    int bi = first;
    for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++) {
            int at = first + dy * w + dx;
            float v = xp[at];
            if (v > b || (isnan(v) && !isnan(b))) {
                b = v;
                bi = at;
            }
        }
    *best = b;
    return bi;
}

__kernel void maxpool_forward_tiled(__global const float *x, int x_off, __global float *y,
                                    int y_off, __global int *idx, int idx_off, int has_idx,
                                    int nc, int h, int w, int k, int stride, int pad, int oh,
                                    int ow)
{
    int g = get_global_id(0);
    if (g >= nc * oh * ow)
        return;
    int ox = g % ow, t = g / ow;
    int oy = t % oh, plane = t / oh;
    __global const float *xp = x + x_off + plane * h * w;
    int first = oy * k * w + ox * k;
    float best;
    int bi = window_max(xp, first, k, w, &best);
    y[y_off + g] = best;
    if (has_idx)
        idx[idx_off + g] = bi;
}

__kernel void maxpool_backward_tiled(__global const int *idx, int idx_off,
                                     __global const float *dy, int dy_off, __global float *dx,
                                     int dx_off, int nc, int h, int w, int k, int stride,
                                     int pad, int oh, int ow)
{
    int g = get_global_id(0);
    if (g >= nc * h * w)
        return;
    int ix = g % w, t = g / w;
    int iy = t % h, plane = t / h;
    int oy = iy / k, ox = ix / k;
    float s = 0.0f;
    if (oy < oh && ox < ow) {
        int o = plane * oh * ow + oy * ow + ox;
        if (idx[idx_off + o] == iy * w + ix)
            s = dy[dy_off + o];
    }
    dx[dx_off + g] = s;
}

/* The tiled kernels for CPUs: one work-item per output row (forward) or input row
 * (backward) walks it with no division per element; the per-element kernels above spend
 * six integer divisions on each (AVX2 has no vector division), which made them 5-10x
 * slower than memory on PoCL. */
__kernel void maxpool_forward_tiled_rows(__global const float *x, int x_off,
                                         __global float *y, int y_off, __global int *idx,
                                         int idx_off, int has_idx, int nc, int h, int w,
                                         int k, int stride, int pad, int oh, int ow)
{
    int r = get_global_id(0); /* plane * oh + oy */
    if (r >= nc * oh)
        return;
    int plane = r / oh, oy = r - plane * oh;
    __global const float *xp = x + x_off + plane * h * w;
    int ox = 0;
    if (k == 2) {
        /* 2x2: four windows per step from two eight-float loads, in vector registers; the
         * same order (first maximum, NaN wins) as the loop below */
        __global const float *r0 = xp + oy * 2 * w, *r1 = r0 + w;
        int4 lane = (int4)(0, 2, 4, 6);
        for (; ox + 4 <= ow; ox += 4) {
            float8 a = vload8(0, r0 + 2 * ox), b = vload8(0, r1 + 2 * ox);
            int4 at = oy * 2 * w + 2 * ox + lane;
            float4 best = a.even;
            int4 bi = at;
            float4 cand[3] = {a.odd, b.even, b.odd};
            int4 cat[3] = {at + 1, at + w, at + w + 1};
            for (int c = 0; c < 3; c++) {
                int4 take = isgreater(cand[c], best) | (isnan(cand[c]) & ~isnan(best));
                best = select(best, cand[c], take);
                bi = select(bi, cat[c], take);
            }
            vstore4(best, 0, y + y_off + r * ow + ox);
            if (has_idx)
                vstore4(bi, 0, idx + idx_off + r * ow + ox);
        }
    }
    for (; ox < ow; ox++) {
        int first = oy * k * w + ox * k;
        float best;
        int bi = window_max(xp, first, k, w, &best);
        y[y_off + r * ow + ox] = best;
        if (has_idx)
            idx[idx_off + r * ow + ox] = bi;
    }
}

__kernel void maxpool_backward_tiled_rows(__global const int *idx, int idx_off,
                                          __global const float *dy, int dy_off,
                                          __global float *dx, int dx_off, int nc, int h, int w,
                                          int k, int stride, int pad, int oh, int ow)
{
    int r = get_global_id(0); /* plane * h + iy */
    if (r >= nc * h)
        return;
    int plane = r / h, iy = r - plane * h, oy = iy / k;
    __global float *dr = dx + dx_off + r * w;
    int ix = 0;
    if (oy < oh) {
        int o = idx_off + (plane * oh + oy) * ow, d = dy_off + (plane * oh + oy) * ow;
        int ox = 0;
        if (k == 2) /* four windows (eight pixels) per step, in vector registers */
            for (; ox + 4 <= ow; ox += 4, ix += 8) {
                int4 id = vload4(0, idx + o + ox);
                float4 g = vload4(0, dy + d + ox);
                int8 here = iy * w + ix + (int8)(0, 1, 2, 3, 4, 5, 6, 7);
                int8 hit = id.s00112233 == here;
                vstore8(select((float8)(0.0f), g.s00112233, hit), 0, dr + ix);
            }
        for (; ox < ow; ox++)
            for (int j = 0; j < k; j++, ix++)
                dr[ix] = idx[o + ox] == iy * w + ix ? dy[d + ox] : 0.0f;
    }
    for (; ix < w; ix++) /* rows and columns past the last window get no gradient */
        dr[ix] = 0.0f;
}

/* Divides by k*k whatever the clipping (padding counts as zeros). */
__kernel void avgpool_forward(__global const float *x, int x_off, __global float *y, int y_off,
                              int nc, int h, int w, int k, int stride, int pad, int oh, int ow)
{
    int g = get_global_id(0);
    if (g >= nc * oh * ow)
        return;
    int ox = g % ow, t = g / ow;
    int oy = t % oh, plane = t / oh;
    int y0 = max(oy * stride - pad, 0), y1 = min(oy * stride - pad + k, h);
    int x0 = max(ox * stride - pad, 0), x1 = min(ox * stride - pad + k, w);
    __global const float *xp = x + x_off + plane * h * w;
    float s = 0.0f;
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
            s += xp[iy * w + ix];
    y[y_off + g] = s / (float)(k * k);
}

__kernel void avgpool_backward(__global const float *dy, int dy_off, __global float *dx,
                               int dx_off, int nc, int h, int w, int k, int stride, int pad,
                               int oh, int ow)
{
    int g = get_global_id(0);
    if (g >= nc * h * w)
        return;
    int ix = g % w, t = g / w;
    int iy = t % h, plane = t / h;
    int oy0 = FIRST_OUT(iy, k, stride, pad), oy1 = min(LAST_OUT(iy, stride, pad), oh - 1);
    int ox0 = FIRST_OUT(ix, k, stride, pad), ox1 = min(LAST_OUT(ix, stride, pad), ow - 1);
    int base = plane * oh * ow;
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++)
            s += dy[dy_off + base + oy * ow + ox];
    dx[dx_off + g] = s / (float)(k * k);
}

/* Global average pooling backward: every pixel of plane r gets dy[r] / plane. */
__kernel void global_avgpool_backward(__global const float *dy, int dy_off, __global float *dx,
                                      int dx_off, int total, int plane)
{
    int g = get_global_id(0);
    if (g >= total)
        return;
    dx[dx_off + g] = dy[dy_off + g / plane] / (float)plane;
}
