/* Sequential network: shape inference, flat parameter layout, forward and backward by
 * dispatching to the ops. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/nn.h"
#include "siamcl/ops.h"

#define WS_CAP_FLOATS ((size_t)32 << 20) /* conv workspace cap: 128 MiB */
#define KEEP_CAP_FLOATS ((size_t)128 << 20) /* kept im2col matrices, all layers: 512 MiB */

static size_t align16(size_t n) { return (n + 15) / 16 * 16; }
static size_t per_sample(const int s[3]) { return (size_t)s[0] * s[1] * s[2]; }

static int layer_fail(const sc_layer_desc *d, int index, const char *fmt, const char *why)
{
    if (d->line > 0)
        return sc_fail(fmt, index + 1, sc_layer_kind_name(d->kind), d->line, why);
    return sc_fail(fmt, index + 1, sc_layer_kind_name(d->kind), 0, why);
}
#define BAD(d, i, why) layer_fail((d), (i), "layer %d (%s, config line %d): %s", (why))

/* Fills in/out shapes and parameter offsets; returns SC_ERR naming the layer. */
static int infer(sc_net *net)
{
    int c = net->in_c, h = net->in_h, w = net->in_w;
    size_t np = 0, ns = 0;
    for (int i = 0; i < net->nlayers; i++) {
        sc_layer *L = &net->layers[i];
        const sc_layer_desc *d = &L->d;
        L->in[0] = c, L->in[1] = h, L->in[2] = w;
        char why[160];
        switch (d->kind) {
        case SC_LAYER_CONV: {
            if (d->out <= 0 || d->k <= 0 || d->stride <= 0 || d->pad < 0)
                return BAD(d, i, "needs out > 0, k > 0, stride > 0, pad >= 0");
            int oh = sc_conv2d_out_size(h, d->k, d->stride, d->pad);
            int ow = sc_conv2d_out_size(w, d->k, d->stride, d->pad);
            if (oh <= 0 || ow <= 0) {
                snprintf(why, sizeof why, "kernel %d does not fit its %dx%d input", d->k, h, w);
                return BAD(d, i, why);
            }
            L->w_off = np, L->w_n = (size_t)d->out * c * d->k * d->k, np += align16(L->w_n);
            L->b_off = np, L->b_n = d->bias ? (size_t)d->out : 0, np += align16(L->b_n);
            c = d->out, h = oh, w = ow;
            break;
        }
        case SC_LAYER_MAXPOOL:
        case SC_LAYER_AVGPOOL: {
            sc_pool2d_desc pd = {d->k, d->stride, d->pad};
            if (d->kind == SC_LAYER_MAXPOOL && d->k <= 0)
                return BAD(d, i, "max pooling needs k > 0");
            if (d->k > 0 && (d->stride <= 0 || d->pad < 0 || d->pad >= d->k))
                return BAD(d, i, "needs stride > 0 and 0 <= pad < k");
            int oh = sc_pool2d_out_size(&pd, h), ow = sc_pool2d_out_size(&pd, w);
            if (oh <= 0 || ow <= 0) {
                snprintf(why, sizeof why, "window %d does not fit its %dx%d input", d->k, h, w);
                return BAD(d, i, why);
            }
            h = oh, w = ow;
            break;
        }
        case SC_LAYER_BATCHNORM:
            if (!(d->eps > 0) || d->momentum < 0 || d->momentum > 1)
                return BAD(d, i, "needs eps > 0 and 0 <= momentum <= 1");
            L->w_off = np, L->w_n = (size_t)c, np += align16(L->w_n);
            L->b_off = np, L->b_n = (size_t)c, np += align16(L->b_n);
            L->rm_off = ns, ns += align16((size_t)c);
            L->rv_off = ns, ns += align16((size_t)c);
            break;
        case SC_LAYER_LINEAR: {
            if (d->out <= 0)
                return BAD(d, i, "needs out > 0");
            size_t in = (size_t)c * h * w;
            L->w_off = np, L->w_n = (size_t)d->out * in, np += align16(L->w_n);
            L->b_off = np, L->b_n = d->bias ? (size_t)d->out : 0, np += align16(L->b_n);
            c = d->out, h = 1, w = 1;
            break;
        }
        case SC_LAYER_DROPOUT:
            if (d->p < 0 || d->p >= 1)
                return BAD(d, i, "needs 0 <= p < 1");
            break;
        case SC_LAYER_LEAKY_RELU:
            if (d->slope < 0)
                return BAD(d, i, "needs slope >= 0");
            break;
        case SC_LAYER_L2NORM:
            if (!(d->eps > 0))
                return BAD(d, i, "needs eps > 0");
            break;
        case SC_LAYER_RELU:
            break;
        default:
            return BAD(d, i, "unknown layer kind");
        }
        if (d->kind == SC_LAYER_CONV || d->kind == SC_LAYER_MAXPOOL || d->kind == SC_LAYER_AVGPOOL) {
            if (i > 0 && L->in[1] == 1 && L->in[2] == 1 && net->layers[i - 1].d.kind == SC_LAYER_LINEAR)
                return BAD(d, i, "spatial layer after a linear layer");
        }
        L->out[0] = c, L->out[1] = h, L->out[2] = w;
    }
    net->nparams = np;
    net->nstate = ns;
    return SC_OK;
}

/* Shape of an activation with per-sample size s for n samples: 2-D for feature vectors
 * (after a linear layer), 4-D NCHW otherwise. */
static sc_tensor act_view(cl_mem buf, size_t off, int n, const int s[3], int flat)
{
    if (flat)
        return sc_tensor_view(buf, off, 2, (int[]){n, s[0] * s[1] * s[2]});
    return sc_tensor_view(buf, off, 4, (int[]){n, s[0], s[1], s[2]});
}

/* A layer's output is a flat feature vector once any linear layer has run. */
static int out_flat(const sc_net *net, int i)
{
    for (int j = 0; j <= i; j++)
        if (net->layers[j].d.kind == SC_LAYER_LINEAR)
            return 1;
    return 0;
}
static int in_flat(const sc_net *net, int i) { return i > 0 && out_flat(net, i - 1); }

static size_t conv_ws(const sc_net *net, int batch)
{
    size_t ws = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const sc_layer *L = &net->layers[i];
        if (L->d.kind != SC_LAYER_CONV)
            continue;
        sc_conv2d_desc cd = {L->in[0], L->d.out, L->d.k, L->d.stride, L->d.pad};
        size_t one = sc_conv2d_workspace(&cd, 1, L->in[1], L->in[2]);
        size_t all = sc_conv2d_workspace(&cd, batch, L->in[1], L->in[2]);
        size_t want = all < WS_CAP_FLOATS ? all : (one > WS_CAP_FLOATS ? one : WS_CAP_FLOATS);
        if (want > ws)
            ws = want;
    }
    return ws;
}

static int allocate(sc_net *net)
{
    sc_ctx *ctx = net->ctx;
    int B = net->max_batch;
    size_t total = 0, biggest = (size_t)net->in_c * net->in_h * net->in_w;
    for (int i = 0; i < net->nlayers; i++) {
        const sc_layer *L = &net->layers[i];
        size_t o = per_sample(L->out);
        if (o > biggest)
            biggest = o;
        total += align16(o * B) + 16;
        if (L->d.kind == SC_LAYER_MAXPOOL)
            total += align16(o * B) + 16;
        if (L->d.kind == SC_LAYER_BATCHNORM)
            total += align16(2 * (size_t)L->out[0]) + 16;
    }
    size_t ws = conv_ws(net, B);
    total += 2 * (align16(biggest * B) + 16) + align16(ws) + 16;
    SC_TRY(sc_arena_init(ctx, &net->arena, total));
    for (int i = 0; i < net->nlayers; i++) {
        sc_layer *L = &net->layers[i];
        size_t o = per_sample(L->out);
        SC_TRY(sc_arena_alloc(&net->arena, &L->out_act, 1, (int[]){(int)(o * B)}));
        if (L->d.kind == SC_LAYER_MAXPOOL)
            SC_TRY(sc_arena_alloc(&net->arena, &L->aux, 1, (int[]){(int)(o * B)}));
        if (L->d.kind == SC_LAYER_BATCHNORM)
            SC_TRY(sc_arena_alloc(&net->arena, &L->aux, 1, (int[]){2 * L->out[0]}));
    }
    SC_TRY(sc_arena_alloc(&net->arena, &net->grad_a, 1, (int[]){(int)(biggest * B)}));
    SC_TRY(sc_arena_alloc(&net->arena, &net->grad_b, 1, (int[]){(int)(biggest * B)}));
    if (ws)
        SC_TRY(sc_arena_alloc(&net->arena, &net->ws, 1, (int[]){(int)ws}));
    size_t np = net->nparams ? net->nparams : 1, ns = net->nstate ? net->nstate : 1;
    SC_TRY(sc_tensor_alloc(ctx, &net->params, 1, (int[]){(int)np}));
    SC_TRY(sc_tensor_alloc(ctx, &net->grads, 1, (int[]){(int)np}));
    SC_TRY(sc_tensor_alloc(ctx, &net->state, 1, (int[]){(int)ns}));
    SC_TRY(sc_tensor_alloc(ctx, &net->decay_mask, 1, (int[]){(int)np}));
    /* Weight decay applies to conv and linear weights only (biases, batch-norm affine and
     * the alignment padding are left alone). */
    float *mask = calloc(np, sizeof *mask);
    if (!mask)
        return sc_fail("out of host memory");
    for (int i = 0; i < net->nlayers; i++) {
        const sc_layer *L = &net->layers[i];
        if (L->d.kind == SC_LAYER_CONV || L->d.kind == SC_LAYER_LINEAR)
            for (size_t j = 0; j < L->w_n; j++)
                mask[L->w_off + j] = 1.0f;
    }
    int rc = sc_tensor_upload(ctx, &net->decay_mask, mask);
    free(mask);
    if (rc != SC_OK)
        return SC_ERR;
    /* Running variance starts at 1 (PyTorch), running mean at 0. */
    for (int i = 0; i < net->nlayers; i++) {
        const sc_layer *L = &net->layers[i];
        if (L->d.kind != SC_LAYER_BATCHNORM)
            continue;
        sc_tensor rv = sc_tensor_view(net->state.buf, L->rv_off, 1, (int[]){L->out[0]});
        SC_TRY(sc_tensor_fill(ctx, &rv, 1.0f));
    }
    return SC_OK;
}

int sc_net_create(sc_ctx *ctx, const sc_layer_desc *layers, int nlayers, int in_c, int in_h,
                  int in_w, int max_batch, sc_net **out)
{
    *out = NULL;
    if (nlayers <= 0)
        return sc_fail("the network has no layers");
    if (in_c <= 0 || in_h <= 0 || in_w <= 0 || max_batch <= 0)
        return sc_fail("bad network input %dx%dx%d or batch %d", in_c, in_h, in_w, max_batch);
    sc_net *net = calloc(1, sizeof *net);
    if (!net)
        return sc_fail("out of host memory");
    net->layers = calloc((size_t)nlayers, sizeof *net->layers);
    if (!net->layers) {
        free(net);
        return sc_fail("out of host memory");
    }
    net->ctx = ctx;
    net->nlayers = nlayers;
    net->in_c = in_c, net->in_h = in_h, net->in_w = in_w;
    net->max_batch = max_batch;
    const char *nofuse = getenv("SIAMCL_NO_FUSE");
    net->fuse = !(nofuse && *nofuse && strcmp(nofuse, "0"));
    const char *nokeep = getenv("SIAMCL_NO_KEEP");
    net->keep_cols = !(nokeep && *nokeep && strcmp(nokeep, "0"));
    for (int i = 0; i < nlayers; i++)
        net->layers[i].d = layers[i];
    if (infer(net) != SC_OK || allocate(net) != SC_OK) {
        sc_net_free(net);
        return SC_ERR;
    }
    *out = net;
    return SC_OK;
}

void sc_net_free(sc_net *net)
{
    if (!net)
        return;
    sc_tensor_free(&net->params);
    sc_tensor_free(&net->grads);
    sc_tensor_free(&net->state);
    sc_tensor_free(&net->decay_mask);
    for (int i = 0; i < net->nlayers; i++)
        sc_tensor_free(&net->layers[i].col);
    sc_arena_free(&net->arena);
    free(net->layers);
    free(net);
}

int sc_net_out_dim(const sc_net *net)
{
    return (int)per_sample(net->layers[net->nlayers - 1].out);
}

static sc_tensor pview(const sc_tensor *buf, size_t off, size_t n)
{
    return sc_tensor_view(buf->buf, buf->off + off, 1, (int[]){(int)n});
}

/* The weights (or their gradient) of a layer, shaped as the ops expect them. */
static sc_tensor wview(const sc_layer *L, const sc_tensor *buf)
{
    const sc_layer_desc *d = &L->d;
    if (d->kind == SC_LAYER_CONV)
        return sc_tensor_view(buf->buf, buf->off + L->w_off, 4,
                              (int[]){d->out, L->in[0], d->k, d->k});
    if (d->kind == SC_LAYER_LINEAR)
        return sc_tensor_view(buf->buf, buf->off + L->w_off, 2,
                              (int[]){d->out, (int)(L->w_n / (size_t)d->out)});
    return pview(buf, L->w_off, L->w_n ? L->w_n : 1);
}

/* Layer i is a batch norm whose (leaky) ReLU, layer i + 1, runs inside its forward pass.
 * The norm's own output is then never written: only the activation reads it, and the
 * activation's backward reads nothing but its own output. */
static int fused_act(const sc_net *net, int i)
{
    if (!net->fuse || i < 0 || i + 1 >= net->nlayers ||
        net->layers[i].d.kind != SC_LAYER_BATCHNORM)
        return 0;
    sc_layer_kind next = net->layers[i + 1].d.kind;
    return next == SC_LAYER_RELU || next == SC_LAYER_LEAKY_RELU;
}

static float act_slope(const sc_layer *R)
{
    return R->d.kind == SC_LAYER_LEAKY_RELU ? R->d.slope : 0.0f;
}

/* The tensor a training forward keeps conv layer L's im2col matrix in (allocated on first
 * use, for the largest batch), or NULL: not training, a 1x1 conv (its matrix is x), keeping
 * switched off, or past KEEP_CAP_FLOATS for the network (then the backward rebuilds it). */
static const sc_tensor *kept_col(sc_net *net, sc_layer *L, const sc_conv2d_desc *cd)
{
    if (!net->train || !net->keep_cols || (cd->k == 1 && cd->stride == 1 && cd->pad == 0))
        return NULL;
    if (!L->col.buf) {
        size_t n = sc_conv2d_keep_floats(net->ctx, cd, net->max_batch, L->in[1], L->in[2]);
        if (n > (size_t)INT_MAX || net->kept_floats + n > KEEP_CAP_FLOATS)
            return NULL;
        if (sc_tensor_alloc(net->ctx, &L->col, 1, (int[]){(int)n}) != SC_OK) {
            sc_clear_error(); /* no room: rebuild the matrix in the backward instead */
            return NULL;
        }
        net->kept_floats += n;
    }
    return &L->col;
}

static int forward_layer(sc_net *net, int i, const sc_tensor *x, sc_tensor *y)
{
    sc_ctx *ctx = net->ctx;
    sc_layer *L = &net->layers[i];
    const sc_layer_desc *d = &L->d;
    sc_tensor w = wview(L, &net->params);
    sc_tensor b = pview(&net->params, L->b_off, L->b_n ? L->b_n : 1);
    sc_pool2d_desc pd = {d->k, d->stride, d->pad};
    switch (d->kind) {
    case SC_LAYER_CONV: {
        sc_conv2d_desc cd = {L->in[0], d->out, d->k, d->stride, d->pad};
        sc_tensor *ws = net->ws.buf ? &net->ws : NULL;
        const sc_tensor *col = kept_col(net, L, &cd);
        L->col_ok = col != NULL;
        if (col)
            return sc_conv2d_forward_keep(ctx, &cd, x, &w, L->b_n ? &b : NULL, y, ws, col);
        return sc_conv2d_forward(ctx, &cd, x, &w, L->b_n ? &b : NULL, y, ws);
    }
    case SC_LAYER_MAXPOOL: {
        sc_tensor idx = sc_tensor_view(L->aux.buf, L->aux.off, 1, (int[]){(int)y->n});
        return sc_maxpool_forward(ctx, &pd, x, y, &idx);
    }
    case SC_LAYER_AVGPOOL:
        return sc_avgpool_forward(ctx, &pd, x, y);
    case SC_LAYER_RELU:
        return sc_relu_forward(ctx, x, y);
    case SC_LAYER_LEAKY_RELU:
        return sc_leaky_relu_forward(ctx, x, y, d->slope);
    case SC_LAYER_BATCHNORM: {
        sc_tensor rm = pview(&net->state, L->rm_off, (size_t)L->out[0]);
        sc_tensor rv = pview(&net->state, L->rv_off, (size_t)L->out[0]);
        if (fused_act(net, i)) /* y is the activation's output here */
            return sc_batchnorm_act_forward(ctx, x, &w, &b, &rm, &rv, d->eps, d->momentum,
                                            net->train, &L->aux, 1, act_slope(L + 1), y);
        return sc_batchnorm_forward(ctx, x, &w, &b, &rm, &rv, d->eps, d->momentum, net->train,
                                    &L->aux, y);
    }
    case SC_LAYER_DROPOUT:
        return sc_dropout_forward(ctx, x, y, d->p, net->seed, net->step, net->train);
    case SC_LAYER_LINEAR:
        return sc_linear_forward(ctx, x, &w, L->b_n ? &b : NULL, y);
    case SC_LAYER_L2NORM:
        return sc_l2norm_forward(ctx, x, y, d->eps);
    default:
        return sc_fail("layer %d: unknown kind", i + 1);
    }
}

int sc_net_forward(sc_net *net, const sc_tensor *x, int train, sc_tensor *out)
{
    int n = x->shape[0];
    if (x->ndim != 4 || x->shape[1] != net->in_c || x->shape[2] != net->in_h ||
        x->shape[3] != net->in_w)
        return sc_fail("network input must be [N, %d, %d, %d]", net->in_c, net->in_h, net->in_w);
    if (n <= 0 || n > net->max_batch)
        return sc_fail("batch of %d images: the network was built for at most %d", n,
                       net->max_batch);
    net->input = x;
    net->batch = n;
    net->train = train;
    if (train)
        net->step++;
    sc_tensor prev = *x;
    for (int i = 0; i < net->nlayers; i++) {
        sc_layer *L = &net->layers[i];
        int o = fused_act(net, i) ? i + 1 : i; /* the layer whose output this writes */
        sc_layer *O = &net->layers[o];
        sc_tensor y = act_view(O->out_act.buf, O->out_act.off, n, O->out, out_flat(net, o));
        if (forward_layer(net, i, &prev, &y) != SC_OK)
            return sc_fail_context("forward of layer %d (%s)", i + 1, sc_layer_kind_name(L->d.kind));
        prev = y;
        i = o;
    }
    *out = sc_tensor_view(prev.buf, prev.off, 2, (int[]){n, sc_net_out_dim(net)});
    return SC_OK;
}

static int backward_layer(sc_net *net, int i, const sc_tensor *x, const sc_tensor *y,
                          const sc_tensor *dy, sc_tensor *dx)
{
    sc_ctx *ctx = net->ctx;
    sc_layer *L = &net->layers[i];
    const sc_layer_desc *d = &L->d;
    sc_tensor w = wview(L, &net->params);
    sc_tensor dw = wview(L, &net->grads);
    sc_tensor db = pview(&net->grads, L->b_off, L->b_n ? L->b_n : 1);
    sc_pool2d_desc pd = {d->k, d->stride, d->pad};
    switch (d->kind) {
    case SC_LAYER_CONV: {
        sc_conv2d_desc cd = {L->in[0], d->out, d->k, d->stride, d->pad};
        sc_tensor *ws = net->ws.buf ? &net->ws : NULL;
        if (L->col_ok)
            return sc_conv2d_backward_kept(ctx, &cd, x, &w, dy, dx, &dw, L->b_n ? &db : NULL,
                                           ws, &L->col);
        return sc_conv2d_backward(ctx, &cd, x, &w, dy, dx, &dw, L->b_n ? &db : NULL, ws);
    }
    case SC_LAYER_MAXPOOL: {
        sc_tensor idx = sc_tensor_view(L->aux.buf, L->aux.off, 1, (int[]){(int)y->n});
        return sc_maxpool_backward(ctx, &pd, &idx, dy, dx);
    }
    case SC_LAYER_AVGPOOL:
        return sc_avgpool_backward(ctx, &pd, dy, dx);
    case SC_LAYER_RELU:
        return sc_relu_backward(ctx, y, dy, dx);
    case SC_LAYER_LEAKY_RELU:
        return sc_leaky_relu_backward(ctx, y, dy, dx, d->slope);
    case SC_LAYER_BATCHNORM:
        return sc_batchnorm_backward(ctx, x, &w, &L->aux, dy, net->train, dx, &dw, &db);
    case SC_LAYER_DROPOUT:
        return sc_dropout_backward(ctx, dy, dx, d->p, net->seed, net->step, net->train);
    case SC_LAYER_LINEAR:
        return sc_linear_backward(ctx, x, &w, dy, dx, &dw, L->b_n ? &db : NULL);
    case SC_LAYER_L2NORM:
        return sc_l2norm_backward(ctx, x, dy, dx, d->eps);
    default:
        return sc_fail("layer %d: unknown kind", i + 1);
    }
}

int sc_net_backward(sc_net *net, const sc_tensor *dout, sc_tensor *dx_out)
{
    int n = net->batch;
    if (!net->input)
        return sc_fail("backward before any forward");
    if (dout->n != (size_t)n * sc_net_out_dim(net))
        return sc_fail("gradient of %zu floats for an output of %d x %d", dout->n, n,
                       sc_net_out_dim(net));
    sc_tensor dy = *dout;
    sc_tensor *bufs[2] = {&net->grad_a, &net->grad_b};
    for (int i = net->nlayers - 1; i >= 0; i--) {
        sc_layer *L = &net->layers[i];
        sc_tensor x = i > 0 ? act_view(net->layers[i - 1].out_act.buf, net->layers[i - 1].out_act.off,
                                       n, L->in, in_flat(net, i))
                            : *net->input;
        sc_tensor y = act_view(L->out_act.buf, L->out_act.off, n, L->out, out_flat(net, i));
        /* Alternate the two gradient buffers; dy must not be the buffer dx is written to. */
        sc_tensor *g = bufs[i % 2];
        if (dy.buf == g->buf && dy.off == g->off)
            g = bufs[(i + 1) % 2];
        sc_tensor dx = act_view(g->buf, g->off, n, L->in, in_flat(net, i));
        sc_tensor *dxp = &dx;
        if (i == 0) {
            int optional = L->d.kind == SC_LAYER_CONV || L->d.kind == SC_LAYER_LINEAR;
            dxp = dx_out ? dx_out : (optional ? NULL : &dx);
        }
        if (backward_layer(net, i, &x, &y, &dy, dxp) != SC_OK)
            return sc_fail_context("backward of layer %d (%s)", i + 1, sc_layer_kind_name(L->d.kind));
        if (dxp)
            dy = *dxp;
    }
    return SC_OK;
}

static sc_tensor layer_input(const sc_net *net, int i)
{
    if (i == 0)
        return *net->input;
    const sc_layer *P = &net->layers[i - 1];
    return act_view(P->out_act.buf, P->out_act.off, net->batch, net->layers[i].in,
                    in_flat(net, i));
}

int sc_net_layer_forward(sc_net *net, int i, int *last)
{
    if (!net->input || i < 0 || i >= net->nlayers)
        return sc_fail("layer forward: layer %d of %d, %s", i + 1, net->nlayers,
                       net->input ? "no such layer" : "before any forward");
    if (fused_act(net, i - 1))
        return sc_fail("layer forward: layer %d (%s) runs inside layer %d's batch norm", i + 1,
                       sc_layer_kind_name(net->layers[i].d.kind), i);
    int o = fused_act(net, i) ? i + 1 : i;
    sc_layer *O = &net->layers[o];
    sc_tensor x = layer_input(net, i);
    sc_tensor y = act_view(O->out_act.buf, O->out_act.off, net->batch, O->out, out_flat(net, o));
    if (last)
        *last = o;
    return forward_layer(net, i, &x, &y);
}

int sc_net_layer_backward(sc_net *net, int i)
{
    if (!net->input || i < 0 || i >= net->nlayers)
        return sc_fail("layer backward: layer %d of %d, %s", i + 1, net->nlayers,
                       net->input ? "no such layer" : "before any forward");
    sc_layer *L = &net->layers[i];
    int n = net->batch;
    sc_tensor x = layer_input(net, i);
    sc_tensor y = act_view(L->out_act.buf, L->out_act.off, n, L->out, out_flat(net, i));
    sc_tensor dy = act_view(net->grad_a.buf, net->grad_a.off, n, L->out, out_flat(net, i));
    sc_tensor dx = act_view(net->grad_b.buf, net->grad_b.off, n, L->in, in_flat(net, i));
    int optional = L->d.kind == SC_LAYER_CONV || L->d.kind == SC_LAYER_LINEAR;
    return backward_layer(net, i, &x, &y, &dy, i == 0 && optional ? NULL : &dx);
}

void sc_net_describe(const sc_net *net, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "input %dx%dx%d\n", net->in_c, net->in_h, net->in_w);
    for (int i = 0; i < net->nlayers && used < size; i++) {
        const sc_layer *L = &net->layers[i];
        used += (size_t)snprintf(buf + used, size - used, "%2d %-10s -> %4dx%dx%d  %zu params\n",
                                 i + 1, sc_layer_kind_name(L->d.kind), L->out[0], L->out[1],
                                 L->out[2], L->w_n + L->b_n);
    }
    if (used < size)
        snprintf(buf + used, size - used, "total %zu parameters (padded layout)\n", net->nparams);
}
