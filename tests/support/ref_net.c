#include "ref_net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_conv.h"

static size_t sample_size(const int s[3]) { return (size_t)s[0] * s[1] * s[2]; }

static void ref_linear_forward(const float *x, const float *w, const float *b, float *y, int n,
                               int in, int out)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < in; k++)
                s += (double)x[(size_t)i * in + k] * w[(size_t)o * in + k];
            y[(size_t)i * out + o] = (float)s;
        }
}

static void ref_linear_backward(const float *x, const float *w, const float *dy, float *dx,
                                float *dw, float *db, int n, int in, int out)
{
    if (dx)
        for (int i = 0; i < n; i++)
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int o = 0; o < out; o++)
                    s += (double)dy[(size_t)i * out + o] * w[(size_t)o * in + k];
                dx[(size_t)i * in + k] = (float)s;
            }
    for (int o = 0; o < out; o++) {
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += (double)dy[(size_t)i * out + o] * x[(size_t)i * in + k];
            dw[(size_t)o * in + k] = (float)s;
        }
        if (db) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += dy[(size_t)i * out + o];
            db[o] = (float)s;
        }
    }
}

void ref_net_forward(const sc_net *net, const float *params, const float *x, int n, ref_acts *a)
{
    a->n = n;
    a->out = calloc((size_t)net->nlayers, sizeof *a->out);
    a->idx = calloc((size_t)net->nlayers, sizeof *a->idx);
    const float *in = x;
    for (int i = 0; i < net->nlayers; i++) {
        const sc_layer *L = &net->layers[i];
        size_t osz = sample_size(L->out) * n, isz = sample_size(L->in);
        float *y = calloc(osz, sizeof *y);
        const float *w = params + L->w_off, *b = L->b_n ? params + L->b_off : NULL;
        switch (L->d.kind) {
        case SC_LAYER_CONV: {
            ref_conv_shape s = ref_conv_shape_make(n, L->in[0], L->in[1], L->in[2], L->d.out,
                                                   L->d.k, L->d.stride, L->d.pad);
            ref_conv2d_forward(&s, in, w, b, y);
            break;
        }
        case SC_LAYER_RELU:
        case SC_LAYER_LEAKY_RELU:
            ref_leaky_relu_forward(in, y, (int)osz, L->d.kind == SC_LAYER_RELU ? 0 : L->d.slope);
            break;
        case SC_LAYER_MAXPOOL:
            a->idx[i] = calloc(osz, sizeof(int));
            ref_maxpool_forward(in, y, a->idx[i], n * L->in[0], L->in[1], L->in[2], L->d.k,
                                L->d.stride, L->d.pad);
            break;
        case SC_LAYER_AVGPOOL:
            ref_avgpool_forward(in, y, n * L->in[0], L->in[1], L->in[2], L->d.k, L->d.stride,
                                L->d.pad);
            break;
        case SC_LAYER_LINEAR:
            ref_linear_forward(in, w, b, y, n, (int)isz, L->d.out);
            break;
        default:
            abort(); /* not part of the reference path */
        }
        a->out[i] = y;
        in = y;
    }
}

void ref_net_backward(const sc_net *net, const float *params, const float *x, const ref_acts *a,
                      const float *dout, float *grads)
{
    int n = a->n;
    memset(grads, 0, net->nparams * sizeof *grads);
    size_t last = sample_size(net->layers[net->nlayers - 1].out) * n;
    float *dy = malloc(last * sizeof *dy);
    memcpy(dy, dout, last * sizeof *dy);
    for (int i = net->nlayers - 1; i >= 0; i--) {
        const sc_layer *L = &net->layers[i];
        const float *in = i ? a->out[i - 1] : x;
        size_t isz = sample_size(L->in) * n, osz = sample_size(L->out) * n;
        float *dx = calloc(isz, sizeof *dx);
        const float *w = params + L->w_off;
        float *dw = grads + L->w_off, *db = L->b_n ? grads + L->b_off : NULL;
        switch (L->d.kind) {
        case SC_LAYER_CONV: {
            ref_conv_shape s = ref_conv_shape_make(n, L->in[0], L->in[1], L->in[2], L->d.out,
                                                   L->d.k, L->d.stride, L->d.pad);
            ref_conv2d_backward(&s, in, w, dy, dx, dw, db);
            break;
        }
        case SC_LAYER_RELU:
        case SC_LAYER_LEAKY_RELU:
            ref_leaky_relu_backward(a->out[i], dy, dx, (int)osz,
                                    L->d.kind == SC_LAYER_RELU ? 0 : L->d.slope);
            break;
        case SC_LAYER_MAXPOOL:
            ref_maxpool_backward(a->idx[i], dy, dx, n * L->in[0], L->in[1], L->in[2], L->d.k,
                                 L->d.stride, L->d.pad);
            break;
        case SC_LAYER_AVGPOOL:
            ref_avgpool_backward(dy, dx, n * L->in[0], L->in[1], L->in[2], L->d.k, L->d.stride,
                                 L->d.pad);
            break;
        case SC_LAYER_LINEAR:
            ref_linear_backward(in, w, dy, dx, dw, db, n, (int)sample_size(L->in), L->d.out);
            break;
        default:
            abort();
        }
        free(dy);
        dy = dx;
    }
    free(dy);
}

void ref_acts_free(const sc_net *net, ref_acts *a)
{
    for (int i = 0; i < net->nlayers; i++) {
        free(a->out[i]);
        free(a->idx[i]);
    }
    free(a->out);
    free(a->idx);
}

double ref_contrastive(const float *e, const float *y, int b, int d, float margin, float *de)
{
    double total = 0;
    for (int i = 0; i < b; i++) {
        const float *p = e + (size_t)i * d, *q = e + (size_t)(b + i) * d;
        double s = 0;
        for (int k = 0; k < d; k++)
            s += ((double)p[k] - q[k]) * ((double)p[k] - q[k]);
        double dist = sqrt(s), hinge = margin - dist > 0 ? margin - dist : 0;
        total += (1 - y[i]) * 0.5 * s + y[i] * 0.5 * hinge * hinge;
        if (!de)
            continue;
        /* dL/dD = ((1-y) D - y max(0, m-D)) / B, then dD/dp = (p - q) / D. */
        double g = ((1 - y[i]) * dist - y[i] * hinge) / b;
        for (int k = 0; k < d; k++) {
            double v = dist > 0 ? g * ((double)p[k] - q[k]) / dist : 0;
            de[(size_t)i * d + k] = (float)v;
            de[(size_t)(b + i) * d + k] = (float)-v;
        }
    }
    return total / b;
}

void ref_sgd(float *p, const float *g, float *v, size_t n, float lr, float mu, float wd, int first)
{
    for (size_t i = 0; i < n; i++) {
        double gi = (double)g[i] + (double)wd * p[i];
        double vi = (mu != 0 && !first) ? (double)mu * v[i] + gi : gi;
        v[i] = (float)vi;
        p[i] = (float)((double)p[i] - (double)lr * (mu != 0 ? vi : gi));
    }
}
