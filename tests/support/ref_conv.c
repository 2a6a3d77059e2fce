#include "ref_conv.h"

#include <stdlib.h>
#include <string.h>

ref_conv_shape ref_conv_shape_make(int n, int cin, int h, int w, int cout, int k, int stride,
                                   int pad)
{
    ref_conv_shape s = {n, cin, h, w, cout, k, stride, pad, 0, 0};
    s.oh = (h + 2 * pad - k) / stride + 1;
    s.ow = (w + 2 * pad - k) / stride + 1;
    return s;
}

/* The input pixel under kernel tap (ky, kx) of output (oy, ox), or -1 when in the padding. */
static long tap(const ref_conv_shape *s, int i, int ci, int oy, int ox, int ky, int kx)
{
    int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
    if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
        return -1;
    return (((long)i * s->cin + ci) * s->h + iy) * s->w + ix;
}

void ref_conv2d_forward(const ref_conv_shape *s, const float *x, const float *wt,
                        const float *b, float *y)
{
    for (int i = 0; i < s->n; i++)
        for (int co = 0; co < s->cout; co++)
            for (int oy = 0; oy < s->oh; oy++)
                for (int ox = 0; ox < s->ow; ox++) {
                    double acc = b ? b[co] : 0.0;
                    for (int ci = 0; ci < s->cin; ci++)
                        for (int ky = 0; ky < s->k; ky++)
                            for (int kx = 0; kx < s->k; kx++) {
                                long xi = tap(s, i, ci, oy, ox, ky, kx);
                                if (xi >= 0)
                                    acc += (double)x[xi] *
                                           wt[((co * s->cin + ci) * s->k + ky) * s->k + kx];
                            }
                    y[(((long)i * s->cout + co) * s->oh + oy) * s->ow + ox] = (float)acc;
                }
}

void ref_conv2d_backward(const ref_conv_shape *s, const float *x, const float *wt,
                         const float *dy, float *dx, float *dw, float *db)
{
    size_t nx = (size_t)s->n * s->cin * s->h * s->w;
    size_t nw = (size_t)s->cout * s->cin * s->k * s->k;
    double *ax = calloc(nx ? nx : 1, sizeof *ax), *aw = calloc(nw ? nw : 1, sizeof *aw);
    double *ab = calloc(s->cout > 0 ? (size_t)s->cout : 1, sizeof *ab);
    if (!ax || !aw || !ab)
        abort();
    for (int i = 0; i < s->n; i++)
        for (int co = 0; co < s->cout; co++)
            for (int oy = 0; oy < s->oh; oy++)
                for (int ox = 0; ox < s->ow; ox++) {
                    double g = dy[(((long)i * s->cout + co) * s->oh + oy) * s->ow + ox];
                    ab[co] += g;
                    for (int ci = 0; ci < s->cin; ci++)
                        for (int ky = 0; ky < s->k; ky++)
                            for (int kx = 0; kx < s->k; kx++) {
                                long xi = tap(s, i, ci, oy, ox, ky, kx);
                                long wi = ((co * s->cin + ci) * s->k + ky) * s->k + kx;
                                if (xi < 0)
                                    continue;
                                ax[xi] += g * wt[wi];
                                aw[wi] += g * x[xi];
                            }
                }
    for (size_t j = 0; dx && j < nx; j++)
        dx[j] = (float)ax[j];
    for (size_t j = 0; dw && j < nw; j++)
        dw[j] = (float)aw[j];
    for (int j = 0; db && j < s->cout; j++)
        db[j] = (float)ab[j];
    free(ax);
    free(aw);
    free(ab);
}

void ref_bias_forward(float *y, const float *b, int n, int c, int plane)
{
    for (long i = 0; i < (long)n * c * plane; i++)
        y[i] += b[(i / plane) % c];
}

void ref_bias_backward(const float *dy, float *db, int n, int c, int plane)
{
    for (int ch = 0; ch < c; ch++) {
        double acc = 0;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < plane; p++)
                acc += dy[((long)i * c + ch) * plane + p];
        db[ch] = (float)acc;
    }
}

void ref_leaky_relu_forward(const float *x, float *y, int n, float slope)
{
    for (int i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void ref_leaky_relu_backward(const float *ref, const float *dy, float *dx, int n, float slope)
{
    for (int i = 0; i < n; i++)
        dx[i] = ref[i] > 0.0f ? dy[i] : slope * dy[i];
}

int ref_pool_out(int in, int k, int stride, int pad)
{
    return k == 0 ? 1 : (in + 2 * pad - k) / stride + 1;
}

/* Window rows/cols [a0, a1) of output o, clipped to the image. */
static void window(int o, int k, int stride, int pad, int size, int *a0, int *a1)
{
    *a0 = o * stride - pad;
    *a1 = *a0 + k;
    if (*a0 < 0)
        *a0 = 0;
    if (*a1 > size)
        *a1 = size;
}

void ref_maxpool_forward(const float *x, float *y, int *idx, int nc, int h, int w, int k,
                         int stride, int pad)
{
    int oh = ref_pool_out(h, k, stride, pad), ow = ref_pool_out(w, k, stride, pad);
    for (int pl = 0; pl < nc; pl++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int y0, y1, x0, x1, bi = -1;
                float best = 0;
                window(oy, k, stride, pad, h, &y0, &y1);
                window(ox, k, stride, pad, w, &x0, &x1);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        float v = x[(long)pl * h * w + iy * w + ix];
                        if (bi < 0 || v > best) {
                            best = v;
                            bi = iy * w + ix;
                        }
                    }
                long o = ((long)pl * oh + oy) * ow + ox;
                y[o] = best;
                if (idx)
                    idx[o] = bi;
            }
}

void ref_maxpool_backward(const int *idx, const float *dy, float *dx, int nc, int h, int w,
                          int k, int stride, int pad)
{
    int oh = ref_pool_out(h, k, stride, pad), ow = ref_pool_out(w, k, stride, pad);
    memset(dx, 0, sizeof *dx * (size_t)nc * h * w);
    for (int pl = 0; pl < nc; pl++)
        for (int o = 0; o < oh * ow; o++)
            dx[(long)pl * h * w + idx[(long)pl * oh * ow + o]] += dy[(long)pl * oh * ow + o];
}

void ref_avgpool_forward(const float *x, float *y, int nc, int h, int w, int k, int stride,
                         int pad)
{
    if (k == 0) {
        for (int pl = 0; pl < nc; pl++) {
            double acc = 0;
            for (int p = 0; p < h * w; p++)
                acc += x[(long)pl * h * w + p];
            y[pl] = (float)(acc / (h * w));
        }
        return;
    }
    int oh = ref_pool_out(h, k, stride, pad), ow = ref_pool_out(w, k, stride, pad);
    for (int pl = 0; pl < nc; pl++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int y0, y1, x0, x1;
                double acc = 0;
                window(oy, k, stride, pad, h, &y0, &y1);
                window(ox, k, stride, pad, w, &x0, &x1);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        acc += x[(long)pl * h * w + iy * w + ix];
                y[((long)pl * oh + oy) * ow + ox] = (float)(acc / (k * k));
            }
}

void ref_avgpool_backward(const float *dy, float *dx, int nc, int h, int w, int k, int stride,
                          int pad)
{
    if (k == 0) {
        for (long i = 0; i < (long)nc * h * w; i++)
            dx[i] = (float)((double)dy[i / (h * w)] / (h * w));
        return;
    }
    int oh = ref_pool_out(h, k, stride, pad), ow = ref_pool_out(w, k, stride, pad);
    double *acc = calloc((size_t)nc * h * w + 1, sizeof *acc);
    if (!acc)
        abort();
    for (int pl = 0; pl < nc; pl++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int y0, y1, x0, x1;
                window(oy, k, stride, pad, h, &y0, &y1);
                window(ox, k, stride, pad, w, &x0, &x1);
                double g = dy[((long)pl * oh + oy) * ow + ox] / (double)(k * k);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        acc[(long)pl * h * w + iy * w + ix] += g;
            }
    for (long i = 0; i < (long)nc * h * w; i++)
        dx[i] = (float)acc[i];
    free(acc);
}
