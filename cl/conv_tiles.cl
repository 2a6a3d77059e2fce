/* Direct convolution for CPUs (src/ops/conv_tiles.c launches these): no im2col matrix.
 *
 * Why: on a CPU runtime the im2col matrix of an early layer (77 MB for the baseline's
 * first conv at batch 32) costs more to write and to read back than the GEMM's arithmetic
 * on it; a conv with few output channels does too little work per byte of the matrix.
 * Here the input is first copied once into a padded, phase-split copy xp:
 *   xp[n, c, iy, ph, q] = x[n, c, iy - pad, q * s + ph - pad]  (0 outside x),
 * iy < hp = h + 2 pad, ph < s (the stride), q < wq. Then the input pixels that VW
 * neighbouring outputs of one row read for one tap (ky, kx) are VW consecutive floats:
 *   xp[n, c, oy * s + ky, kx % s, kx / s + ox .. + VW].
 * A work-item keeps CB output channels x VW outputs in registers (CB floatVW
 * accumulators, like the GEMM's register block) and walks the taps: one vector load of
 * the input and CB broadcast weights per CB * VW FMAs. wq leaves room for the last chunk's
 * loads (the host sizes it), so no load needs a bounds check.
 * VW (8 or 16), CB, KS (k) and ST (s) come as #defines from the host: with k and s known
 * the compiler unrolls the taps and turns kx % s and kx / s into constants. */

#ifndef VW
#define VW 16
#endif
#ifndef CB
#define CB 4
#endif
#ifndef KS
#define KS 3 /* kernel size k */
#endif
#ifndef ST
#define ST 1 /* stride s */
#endif
#define KK (KS * KS)

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VT CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)

/* One work-item per padded input row (n, c, iy): writes its s phase rows of wq floats. */
kernel void phase_split(global const float *x, int x_off, global float *xp, int xp_off,
                        int rows, int h, int w, int pad, int hp, int wq)
{
    int r = (int)get_global_id(0);
    if (r >= rows)
        return;
    int plane = r / hp, iy = r - plane * hp - pad;
    global float *dst = xp + xp_off + (size_t)r * (size_t)(ST * wq);
    if (iy < 0 || iy >= h) {
        for (int i = 0; i < ST * wq; i++)
            dst[i] = 0.0f;
        return;
    }
    const global float *src = x + x_off + ((size_t)plane * (size_t)h + (size_t)iy) * (size_t)w;
    /* q in [qa, qb): all ST inputs inside x. Strides 1 and 2 copy that span 8 outputs per
       phase at a time (one contiguous load, split into phases), the rest element-wise. */
    int qa = (pad + ST - 1) / ST, qb = min(wq, (w + pad) / ST), qv = qa;
#if ST == 1 || ST == 2
    for (; qv + 8 <= qb; qv += 8) {
#if ST == 1
        vstore8(vload8(0, src + qv - pad), 0, dst + qv);
#else
        float16 v = vload16(0, src + 2 * qv - pad);
        vstore8(v.even, 0, dst + qv);
        vstore8(v.odd, 0, dst + wq + qv);
#endif
    }
#endif
    for (int ph = 0; ph < ST; ph++)
        for (int q = 0, ix = ph - pad; q < wq; q++, ix += ST) {
            if (q == qa && qv > qa) { /* the span copied above */
                q = qv - 1;
                ix = ph - pad + ST * (qv - 1);
                continue;
            }
            dst[ph * wq + q] = ix >= 0 && ix < w ? src[ix] : 0.0f;
        }
}

/* y[n, co, oy, :] for CB channels co0.. (co0 = g * CB) of image n, all chunks of the row.
 * Channels past cout compute on the last channel's weights and are not stored. */
kernel void tiles_forward(global const float *xp, int xp_off, global const float *wt,
                          int w_off, global const float *b, int b_off, int has_bias,
                          global float *y, int y_off, int cin, int cout, int hp, int wq, int oh,
                          int ow)
{
    int oy = (int)get_global_id(0), g = (int)get_global_id(1), n = (int)get_global_id(2);
    if (oy >= oh || g * CB >= cout)
        return;
    int co0 = g * CB;
    const global float *wr[CB];
#pragma unroll
    for (int r = 0; r < CB; r++)
        wr[r] = wt + w_off + (size_t)min(co0 + r, cout - 1) * (size_t)(cin * KK);
    size_t row = (size_t)(ST * wq), plane = (size_t)hp * row;
    const global float *xn = xp + xp_off + (size_t)n * (size_t)cin * plane + (size_t)(oy * ST) * row;
    for (int ox0 = 0; ox0 < ow; ox0 += VW) {
        VT acc[CB];
#pragma unroll
        for (int r = 0; r < CB; r++)
            acc[r] = (VT)(0.0f);
        for (int c = 0; c < cin; c++) {
            const global float *xc = xn + (size_t)c * plane + ox0;
            int wc = c * KK;
            for (int ky = 0; ky < KS; ky++) {
                const global float *xr = xc + (size_t)ky * row;
                int wk = wc + ky * KS;
#pragma unroll
                for (int kx = 0; kx < KS; kx++) {
                    VT xv = VLOAD(0, xr + (kx % ST) * wq + kx / ST);
#pragma unroll
                    for (int r = 0; r < CB; r++)
                        acc[r] = fma((VT)(wr[r][wk + kx]), xv, acc[r]);
                }
            }
        }
        int nv = min(VW, ow - ox0);
#pragma unroll
        for (int r = 0; r < CB; r++) {
            int co = co0 + r;
            if (co >= cout)
                break;
            VT out = acc[r] + (VT)(has_bias ? b[b_off + co] : 0.0f);
            global float *dst =
                y + y_off + (((size_t)n * (size_t)cout + (size_t)co) * (size_t)oh + oy) * ow + ox0;
            if (nv == VW) {
                VSTORE(out, 0, dst);
            } else {
                float t[VW];
                VSTORE(out, 0, t);
                for (int v = 0; v < nv; v++)
                    dst[v] = t[v];
            }
        }
    }
}

/* The first nv < 8 floats at p, then zeros. */
static float8 load8_part(const global float *p, int nv)
{
    float t[8];
    for (int v = 0; v < 8; v++)
        t[v] = v < nv ? p[v] : 0.0f;
    return vload8(0, t);
}

/* Partial weight gradients: part[grp, co, c, t] (t = ky * k + kx, a tap) = sum over the
 * images of group grp (images grp * gi ..) of sum over oy, ox of dy[n, co, oy, ox] *
 * xp[n, c, oy s + ky, kx % s, kx / s + ox], for DCB channels co0.. and one input channel c;
 * the host adds the groups up. Register block: DCB channels x DT taps of float8 sums, so
 * each loaded vector of dy serves DT taps and each of x serves DCB channels (4 x 3: 7
 * loads per 12 FMAs, 12 independent chains). An item walks its images in blocks of rb
 * output rows (those rows of dy and of the copy of x stay in L1 across the taps; whole
 * planes did not) and parks each tap group's sums in private memory between blocks; the
 * lanes are added once at the end. KK = k * k sizes the parked sums; a tap count off a
 * multiple of DT repeats the last tap in the last group (not stored). DCB, DT and OW (the
 * row length as a constant, so that the loops over a row unroll) come from the host. */
#ifndef DCB
#define DCB 4
#endif
#ifndef DT
#define DT 3
#endif
#ifdef OW
#define DW_OW OW
#else
#define DW_OW ow
#endif
#define NGRP ((KK + DT - 1) / DT)
kernel void tiles_dw(global const float *xp, int xp_off, global const float *dy, int dy_off,
                     global float *part, int part_off, int nimg, int gi, int cin, int cout,
                     int hp, int wq, int oh, int ow, int rb)
{
    int c = (int)get_global_id(0), g = (int)get_global_id(1), grp = (int)get_global_id(2);
    if (c >= cin || g * DCB >= cout || grp * gi >= nimg)
        return;
    int co0 = g * DCB;
    size_t row = (size_t)(ST * wq), plane = (size_t)hp * row, oplane = (size_t)oh * (size_t)DW_OW;
    int toff[DT * NGRP]; /* each tap's offset in the copy: ky rows, phase, q */
    for (int t = 0; t < DT * NGRP; t++) {
        int tt = min(t, KK - 1), ky = tt / KS, kx = tt - ky * KS;
        toff[t] = ky * (int)row + (kx % ST) * wq + kx / ST;
    }
    float8 park[NGRP * DT * DCB];
    for (int i = 0; i < NGRP * DT * DCB; i++)
        park[i] = (float8)(0.0f);
    for (int n = grp * gi; n < min(nimg, grp * gi + gi); n++)
        for (int oy0 = 0; oy0 < oh; oy0 += rb) {
            int oy1 = min(oh, oy0 + rb);
            const global float *dr[DCB];
#pragma unroll
            for (int r = 0; r < DCB; r++)
                dr[r] = dy + dy_off +
                        ((size_t)n * (size_t)cout + (size_t)min(co0 + r, cout - 1)) * oplane;
            const global float *xn = xp + xp_off + ((size_t)n * (size_t)cin + c) * plane;
            for (int pr = 0; pr < NGRP; pr++) {
                float8 a[DT * DCB];
                const global float *xt[DT];
#pragma unroll
                for (int i = 0; i < DT * DCB; i++)
                    a[i] = park[pr * DT * DCB + i];
#pragma unroll
                for (int t = 0; t < DT; t++)
                    xt[t] = xn + toff[DT * pr + t];
                for (int oy = oy0; oy < oy1; oy++) {
                    size_t xo = (size_t)(oy * ST) * row, dof = (size_t)oy * (size_t)DW_OW;
                    int ox0 = 0;
                    for (; ox0 + 8 <= DW_OW; ox0 += 8) {
                        float8 u[DT];
#pragma unroll
                        for (int t = 0; t < DT; t++)
                            u[t] = vload8(0, xt[t] + xo + ox0);
#pragma unroll
                        for (int r = 0; r < DCB; r++) {
                            float8 d = vload8(0, dr[r] + dof + ox0);
#pragma unroll
                            for (int t = 0; t < DT; t++)
                                a[DT * r + t] = fma(d, u[t], a[DT * r + t]);
                        }
                    }
                    if (ox0 < DW_OW) { /* the row's last, partial chunk: zeros past the row */
                        int nv = DW_OW - ox0;
                        float8 u[DT];
#pragma unroll
                        for (int t = 0; t < DT; t++)
                            u[t] = load8_part(xt[t] + xo + ox0, nv);
#pragma unroll
                        for (int r = 0; r < DCB; r++) {
                            float8 d = load8_part(dr[r] + dof + ox0, nv);
#pragma unroll
                            for (int t = 0; t < DT; t++)
                                a[DT * r + t] = fma(d, u[t], a[DT * r + t]);
                        }
                    }
                }
#pragma unroll
                for (int i = 0; i < DT * DCB; i++)
                    park[pr * DT * DCB + i] = a[i];
            }
        }
    global float *out = part + part_off + (size_t)grp * (size_t)cout * (size_t)(cin * KK);
    for (int r = 0; r < DCB; r++) {
        int co = co0 + r;
        if (co >= cout)
            break;
        for (int t = 0; t < KK; t++) {
            float8 v = park[(t / DT) * DT * DCB + DT * r + t % DT];
            float4 h = v.lo + v.hi;
            out[((size_t)co * (size_t)cin + c) * KK + t] = (h.x + h.y) + (h.z + h.w);
        }
    }
}

/* dy padded for the data gradient: dyp[n, co, oy + mt, ox + ml] = dy[n, co, oy, ox], 0 in
 * the margins (mt = ml = (k - 1) / s), rows of wd floats, ohp rows. One item per padded row. */
kernel void pad_dy(global const float *dy, int dy_off, global float *dyp, int dyp_off,
                   int rows, int oh, int ow, int ohp, int wd)
{
    int r = (int)get_global_id(0);
    if (r >= rows)
        return;
    int plane = r / ohp, oy = r - plane * ohp - (KS - 1) / ST;
    global float *dst = dyp + dyp_off + (size_t)r * (size_t)wd;
    const global float *src = dy + dy_off + ((size_t)plane * (size_t)oh + (size_t)oy) * ow;
    int inside = oy >= 0 && oy < oh, ml = (KS - 1) / ST, iv = ml;
    /* the row itself 8 floats at a time, then the margins and the rest element-wise */
    if (inside)
        for (; iv + 8 <= ml + ow && iv + 8 <= wd; iv += 8)
            vstore8(vload8(0, src + iv - ml), 0, dst + iv);
    for (int i = 0, ox = -ml; i < wd; i++, ox++) {
        if (i == ml && iv > ml) { /* copied above */
            i = iv - 1;
            ox = iv - 1 - ml;
            continue;
        }
        dst[i] = inside && ox >= 0 && ox < ow ? src[ox] : 0.0f;
    }
}

/* wt[g, tap, co, i] = w[co, g CB + i, tap] (channels past cin repeat the last): one item per
 * (group of CB input channels, tap) writes cout x CB floats. */
kernel void transpose_w(global const float *w, int w_off, global float *wt, int wt_off,
                        int cin, int cout)
{
    int r = (int)get_global_id(0); /* g * KK + tap */
    int g = r / KK, tap = r - g * KK;
    if (g * CB >= cin)
        return;
    global float *dst = wt + wt_off + (size_t)r * (size_t)cout * CB;
    for (int co = 0; co < cout; co++)
        for (int i = 0; i < CB; i++)
            dst[co * CB + i] =
                w[w_off + ((size_t)co * (size_t)cin + (size_t)min(g * CB + i, cin - 1)) * KK + tap];
}

/* wf[c, co, t] = w[co, c, KK - 1 - t]: the taps reversed, cin and cout swapped. With
 * stride 1, dx is the forward convolution of dy (padded by k - 1 - pad) with these
 * weights, and tiles_forward computes it (conv_tiles.c). One item per float. */
kernel void flip_w(global const float *w, int w_off, global float *wf, int wf_off, int cin,
                   int cout)
{
    int i = (int)get_global_id(0);
    if (i >= cin * cout * KK)
        return;
    int t = i % KK, r = i / KK; /* r = c * cout + co */
    int co = r % cout, c = r / cout;
    wf[wf_off + i] = w[w_off + (co * cin + c) * KK + (KK - 1 - t)];
}

/* dx[n, c, iy, ix] = sum over co and the taps (ky, kx) with iy + pad - ky and ix + pad - kx
 * multiples of s of w[co, c, ky, kx] * dy[n, co, (iy + pad - ky) / s, (ix + pad - kx) / s].
 * Write ix + pad = s j + r (r: the column's phase). For one phase the taps are kx = r, r + s,
 * ... and output j reads dy column j - m (kx = r + s m): VW neighbouring outputs of one
 * phase read VW consecutive floats of a dyp row. One item per (iy, CB input channels,
 * image) walks the phases and chunks of VW outputs; CB floatVW sums in registers, one
 * vector load of dy and CB broadcast weights per CB * VW FMAs, then strided stores. The
 * weights come from transpose_w's copy, where the CB floats of one (tap, co) are adjacent:
 * one pointer walks them (CB pointers, one per channel, measured 1.25-1.3x slower at the
 * baseline's conv2-3). The margins of dyp cover every load (the host sizes it), so no
 * load needs a bounds check. */
kernel void tiles_dx(global const float *dyp, int dyp_off, global const float *wt, int w_off,
                     global float *dx, int dx_off, int cin, int cout, int h, int w, int pad,
                     int ohp, int wd)
{
    int iy = (int)get_global_id(0), g = (int)get_global_id(1), n = (int)get_global_id(2);
    if (iy >= h || g * CB >= cin)
        return;
    int c0 = g * CB, m0 = (KS - 1) / ST;
    /* this group's weights in transpose_w's copy: the inner loop over co reads one run */
    const global float *wg = wt + w_off + (size_t)g * KK * (size_t)cout * CB;
    int ky0 = (iy + pad) % ST, oyt = (iy + pad - ky0) / ST + m0; /* dyp row of tap ky0 */
    size_t cplane = (size_t)ohp * (size_t)wd; /* between output channels in dyp */
    const global float *dyn = dyp + dyp_off + (size_t)n * (size_t)cout * cplane + m0;
#pragma unroll
    for (int ph = 0; ph < ST; ph++) {
        int jlo = pad - ph > 0 ? (pad - ph + ST - 1) / ST : 0;
        int jhi = (w - 1 + pad - ph) / ST; /* outputs j in [jlo, jhi] lie inside the row */
        for (int j0 = jlo; j0 <= jhi; j0 += VW) {
            VT acc[CB];
#pragma unroll
            for (int r = 0; r < CB; r++)
                acc[r] = (VT)(0.0f);
            /* taps outside, output channels inside: a long uniform inner loop */
            for (int ky = ky0, oy = oyt; ky < KS; ky += ST, oy--) {
#pragma unroll
                for (int kx = ph, m = 0; kx < KS; kx += ST, m++) {
                    const global float *dr = dyn + (size_t)oy * wd + j0 - m;
                    const global float *wp = wg + (size_t)(ky * KS + kx) * (size_t)cout * CB;
                    for (int co = 0; co < cout; co++, wp += CB) {
                        VT dv = VLOAD(0, dr + (size_t)co * cplane);
#pragma unroll
                        for (int r = 0; r < CB; r++)
                            acc[r] = fma((VT)(wp[r]), dv, acc[r]);
                    }
                }
            }
            int nv = min(VW, jhi - j0 + 1);
#pragma unroll
            for (int r = 0; r < CB; r++) {
                if (c0 + r >= cin)
                    break;
                float t[VW];
                VSTORE(acc[r], 0, t);
                global float *dst = dx + dx_off + (((size_t)n * cin + c0 + r) * h + iy) * w +
                                    (ST * j0 + ph - pad);
                for (int v = 0; v < nv; v++)
                    dst[v * ST] = t[v];
            }
        }
    }
}
