/* The whole network against the plain-C path: the baseline recipe's network forward, one
 * SGD step, and a few contrastive training steps on fixed synthetic data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_net.h"
#include "siamcl/nn.h"
#include "siamcl/ops.h"
#include "support.h"

/* The mission's baseline: 4 strided convs 16-32-64-128 (k 7,5,5,3), ReLU after each, max-pool
 * 2, linear 2048 -> 256, ReLU, linear 256 -> 32. */
static int baseline(sc_layer_desc *L)
{
    int n = 0;
    int outs[4] = {16, 32, 64, 128}, ks[4] = {7, 5, 5, 3}, pads[4] = {3, 2, 2, 1};
    for (int i = 0; i < 4; i++) {
        L[n] = sc_layer_default(SC_LAYER_CONV);
        L[n].out = outs[i], L[n].k = ks[i], L[n].stride = 2, L[n].pad = pads[i];
        n++;
        L[n++] = sc_layer_default(SC_LAYER_RELU);
    }
    L[n] = sc_layer_default(SC_LAYER_MAXPOOL);
    L[n].k = 2, L[n].stride = 2, L[n].pad = 0;
    n++;
    L[n] = sc_layer_default(SC_LAYER_LINEAR);
    L[n++].out = 256;
    L[n++] = sc_layer_default(SC_LAYER_RELU);
    L[n] = sc_layer_default(SC_LAYER_LINEAR);
    L[n++].out = 32;
    return n;
}

static sc_net *make_net(int size, int batch, unsigned seed)
{
    sc_layer_desc L[16];
    int n = baseline(L);
    sc_net *net;
    cr_assert_eq(sc_net_create(test_ctx(), L, n, 3, size, size, batch, &net), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_net_init(net, SC_INIT_TORCH, seed), SC_OK, "%s", sc_last_error());
    return net;
}

Test(net, baseline_shapes_and_parameter_count)
{
    sc_net *net = make_net(128, 2, 1);
    /* 3*16*49+16 + 16*32*25+32 + 32*64*25+64 + 64*128*9+128 + 2048*256+256 + 256*32+32 */
    cr_assert_eq(sc_net_param_count(net), 2368u + 12832u + 51264u + 73856u + 524544u + 8224u);
    cr_assert_eq(sc_net_out_dim(net), 32);
    cr_assert_eq(net->layers[8].out[0], 128);
    cr_assert_eq(net->layers[8].out[1], 4);
    sc_net_free(net);
}

Test(net, bad_layer_lists_name_the_layer)
{
    sc_layer_desc L[2] = {sc_layer_default(SC_LAYER_CONV), sc_layer_default(SC_LAYER_RELU)};
    L[0].out = 4, L[0].k = 9, L[0].stride = 1, L[0].pad = 0, L[0].line = 12;
    sc_net *net;
    cr_assert_eq(sc_net_create(test_ctx(), L, 2, 3, 5, 5, 2, &net), SC_ERR);
    cr_assert(strstr(sc_last_error(), "layer 1"), "%s", sc_last_error());
    cr_assert(strstr(sc_last_error(), "line 12"), "%s", sc_last_error());
}

Test(net, baseline_forward_matches_plain_c)
{
    int n = 3;
    sc_net *net = make_net(128, n, 7);
    size_t in = (size_t)n * 3 * 128 * 128;
    float *x = test_rand_alloc(in, 11, 0, 1);
    sc_tensor xt = test_tensor(4, (int[]){n, 3, 128, 128}, x), y;
    cr_assert_eq(sc_net_forward(net, &xt, 1, &y), SC_OK, "%s", sc_last_error());
    float *got = test_download(&y), *params = test_download(&net->params);
    ref_acts a;
    ref_net_forward(net, params, x, n, &a);
    test_expect_close("net.forward", got, a.out[net->nlayers - 1], (size_t)n * 32);
    ref_acts_free(net, &a);
    free(got), free(params), free(x);
    sc_tensor_free(&xt);
    sc_net_free(net);
}

/* One device training step (forward, contrastive loss, backward, SGD) and the plain-C one.
 * Returns the device loss; *ref_loss gets the plain-C loss computed from the same params. */
static float train_step(sc_net *net, const sc_tensor *x, const float *xh, const sc_tensor *y,
                        const float *yh, int pairs, const sc_sgd_opts *o, int step,
                        sc_tensor *mom, float *ref_params, float *ref_mom, double *ref_loss)
{
    sc_ctx *ctx = test_ctx();
    int b = pairs, d = 32;
    sc_tensor e, dist = test_tensor(1, (int[]){b}, NULL), loss = test_tensor(1, (int[]){1}, NULL);
    sc_tensor de = test_tensor(2, (int[]){2 * b, d}, NULL);
    sc_tensor ws = test_tensor(1, (int[]){(int)sc_contrastive_workspace(b) + 1}, NULL);
    cr_assert_eq(sc_net_forward(net, x, 1, &e), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_contrastive_siamese(ctx, &e, y, 1.0f, &dist, &loss, &de, &ws), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_net_backward(net, &de, NULL), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_sgd_step(ctx, o, step, &net->params, &net->grads, mom, &net->decay_mask),
                 SC_OK, "%s", sc_last_error());
    float lv;
    cr_assert_eq(sc_tensor_download(ctx, &loss, &lv), SC_OK);

    /* plain-C: same step from the same parameters */
    ref_acts a;
    ref_net_forward(net, ref_params, xh, 2 * b, &a);
    float *rde = malloc((size_t)2 * b * d * sizeof *rde);
    *ref_loss = ref_contrastive(a.out[net->nlayers - 1], yh, b, d, 1.0f, rde);
    float *g = calloc(net->nparams, sizeof *g);
    ref_net_backward(net, ref_params, xh, &a, rde, g);
    float *mask = test_download(&net->decay_mask);
    float *gm = malloc(net->nparams * sizeof *gm);
    for (size_t i = 0; i < net->nparams; i++)  /* decay only where the mask says */
        gm[i] = g[i] + o->weight_decay * mask[i] * ref_params[i];
    ref_sgd(ref_params, gm, ref_mom, net->nparams, o->lr, o->momentum, 0, step == 1);
    ref_acts_free(net, &a);
    free(rde), free(g), free(mask), free(gm);
    sc_tensor_free(&dist), sc_tensor_free(&loss), sc_tensor_free(&de), sc_tensor_free(&ws);
    return lv;
}

static void synthetic_pairs(int pairs, int size, float **xh, float **yh, unsigned seed)
{
    /* Same pairs are a noisy copy of one image, different pairs two random images: learnable. */
    size_t img = (size_t)3 * size * size;
    *xh = test_rand_alloc(img * 2 * pairs, seed, 0, 1);
    *yh = malloc((size_t)pairs * sizeof **yh);
    float *noise = test_rand_alloc(img, seed + 1, -0.05f, 0.05f);
    for (int i = 0; i < pairs; i++) {
        (*yh)[i] = (float)(i % 2);
        if (i % 2 == 0)
            for (size_t k = 0; k < img; k++)
                (*xh)[(size_t)(pairs + i) * img + k] = (*xh)[(size_t)i * img + k] + noise[k];
    }
    free(noise);
}

static void run_steps(int size, int pairs, int steps, const sc_sgd_opts *o, const char *family,
                      int expect_decrease)
{
    sc_net *net = make_net(size, 2 * pairs, 3);
    float *xh, *yh;
    synthetic_pairs(pairs, size, &xh, &yh, 5);
    sc_tensor x = test_tensor(4, (int[]){2 * pairs, 3, size, size}, xh);
    sc_tensor y = test_tensor(1, (int[]){pairs}, yh);
    sc_tensor mom = test_tensor(1, (int[]){(int)net->nparams}, NULL);
    float *rp = test_download(&net->params), *rm = calloc(net->nparams, sizeof *rm);
    float first = 0, last = 0;
    for (int s = 1; s <= steps; s++) {
        double rl;
        float l = train_step(net, &x, xh, &y, yh, pairs, o, s, &mom, rp, rm, &rl);
        float want = (float)rl;
        test_expect_close("net.loss", &l, &want, 1);
        if (s == 1)
            first = l;
        last = l;
    }
    float *p = test_download(&net->params);
    test_expect_close(family, p, rp, net->nparams);
    if (expect_decrease)
        cr_assert_lt(last, first, "loss did not go down: %g -> %g", first, last);
    free(p), free(rp), free(rm), free(xh), free(yh);
    sc_tensor_free(&x), sc_tensor_free(&y), sc_tensor_free(&mom);
    sc_net_free(net);
}

Test(net, one_sgd_step_matches_plain_c, .timeout = 120)
{
    sc_sgd_opts o = {.lr = 0.01f, .momentum = 0, .weight_decay = 0};
    run_steps(128, 2, 1, &o, "net.sgd_step", 0);
}

Test(net, contrastive_training_goes_down_like_plain_c, .timeout = 300)
{
    sc_sgd_opts o = {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 1e-4f};
    run_steps(32, 4, 6, &o, "net.train_steps", 1);
}

/* Batch norm + (leaky) ReLU fused in the forward pass gives bit-identical outputs, parameter
 * gradients, input gradients and running statistics to the layers run apart, in train and
 * eval mode; so does the conv backward reading the forward's kept im2col matrices. */
typedef struct fused_result {
    float *out, *grads, *dx, *state;
    size_t nparams, nstate;
} fused_result;

/* Conv + batch norm + (leaky) ReLU blocks, pools, a linear layer with batch norm: the
 * shapes lfw_best.ini uses, small. Fills L (12 entries), returns the count. */
static int bn_net_layers(sc_layer_desc *L)
{
    int n = 0;
    L[n] = sc_layer_default(SC_LAYER_CONV);
    L[n].out = 6, L[n].k = 3, L[n].stride = 1, L[n].pad = 1, L[n++].bias = 0;
    L[n++] = sc_layer_default(SC_LAYER_BATCHNORM);
    L[n++] = sc_layer_default(SC_LAYER_RELU);
    L[n] = sc_layer_default(SC_LAYER_MAXPOOL);
    L[n].k = 2, L[n].stride = 2, L[n++].pad = 0;
    L[n] = sc_layer_default(SC_LAYER_CONV);
    L[n].out = 5, L[n].k = 3, L[n].stride = 1, L[n++].pad = 1;
    L[n++] = sc_layer_default(SC_LAYER_BATCHNORM);
    L[n] = sc_layer_default(SC_LAYER_LEAKY_RELU);
    L[n++].slope = 0.1f;
    L[n] = sc_layer_default(SC_LAYER_AVGPOOL);
    L[n].k = 0, L[n].stride = 1, L[n++].pad = 0;
    L[n] = sc_layer_default(SC_LAYER_LINEAR);
    L[n++].out = 7;
    L[n++] = sc_layer_default(SC_LAYER_BATCHNORM); /* on features, followed by a ReLU */
    L[n++] = sc_layer_default(SC_LAYER_RELU);
    return n;
}

static fused_result fused_run(int fuse, int keep, int train)
{
    fused_result r;
    sc_layer_desc L[12];
    int n = bn_net_layers(L);
    sc_net *net;
    cr_assert_eq(sc_net_create(test_ctx(), L, n, 3, 12, 10, 5, &net), SC_OK, "%s",
                 sc_last_error());
    net->fuse = fuse;
    net->keep_cols = keep;
    cr_assert_eq(sc_net_init(net, SC_INIT_KAIMING, 3), SC_OK, "%s", sc_last_error());
    float *xh = test_rand_alloc(5 * 3 * 12 * 10, 11, -1.0f, 1.0f);
    float *dh = test_rand_alloc(5 * 7, 12, -1.0f, 1.0f);
    sc_tensor x = test_tensor(4, (int[]){5, 3, 12, 10}, xh);
    sc_tensor dout = test_tensor(2, (int[]){5, 7}, dh), dxt = test_tensor(4, x.shape, NULL);
    sc_tensor y;
    if (!train) /* eval mode after one train step, so the running statistics are not trivial */
        cr_assert_eq(sc_net_forward(net, &x, 1, &y), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_net_forward(net, &x, train, &y), SC_OK, "%s", sc_last_error());
    for (int i = 0; i < n; i++) /* only a training forward keeps im2col matrices */
        if (L[i].kind == SC_LAYER_CONV)
            cr_assert_eq(net->layers[i].col_ok, keep && train, "layer %d", i + 1);
    r.out = test_download(&y);
    cr_assert_eq(sc_net_backward(net, &dout, &dxt), SC_OK, "%s", sc_last_error());
    r.grads = test_download(&net->grads);
    r.dx = test_download(&dxt);
    r.state = test_download(&net->state);
    r.nparams = net->nparams;
    r.nstate = net->nstate;
    sc_tensor_free(&x);
    sc_tensor_free(&dout);
    sc_tensor_free(&dxt);
    free(xh);
    free(dh);
    sc_net_free(net);
    return r;
}

/* a against b, bit for bit; frees both. */
static void check_same(fused_result a, fused_result b)
{
    cr_assert_eq(a.nparams, b.nparams);
    cr_assert_eq(a.nstate, b.nstate);
    test_expect_close("exact", a.out, b.out, 5 * 7);
    test_expect_close("exact", a.grads, b.grads, a.nparams);
    test_expect_close("exact", a.dx, b.dx, 5 * 3 * 12 * 10);
    test_expect_close("exact", a.state, b.state, a.nstate);
    fused_result *rs[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        free(rs[i]->out);
        free(rs[i]->grads);
        free(rs[i]->dx);
        free(rs[i]->state);
    }
}

Test(net, fused_batchnorm_relu_is_bit_identical_train)
{
    check_same(fused_run(1, 0, 1), fused_run(0, 0, 1));
}
Test(net, fused_batchnorm_relu_is_bit_identical_eval)
{
    check_same(fused_run(1, 0, 0), fused_run(0, 0, 0));
}
/* The backward reading the forward's im2col matrix instead of rebuilding it. */
Test(net, kept_im2col_is_bit_identical_train)
{
    check_same(fused_run(1, 1, 1), fused_run(1, 0, 1));
}
Test(net, kept_im2col_is_unused_in_eval)
{
    check_same(fused_run(1, 1, 0), fused_run(1, 0, 0));
}

/* Re-running one layer from its stored input (bench_net's per-layer timing) gives the
 * stored output again, fused batch norm + ReLU included; each layer's backward runs on the
 * gradient buffers; bad calls are named. */
Test(net, single_layers_rerun_on_the_stored_activations)
{
    sc_layer_desc L[12];
    int n = bn_net_layers(L);
    sc_net *net;
    cr_assert_eq(sc_net_create(test_ctx(), L, n, 3, 12, 10, 5, &net), SC_OK, "%s",
                 sc_last_error());
    cr_assert_eq(sc_net_layer_forward(net, 0, NULL), SC_ERR);
    cr_assert(strstr(sc_last_error(), "before any forward"), "%s", sc_last_error());
    sc_clear_error();
    cr_assert_eq(sc_net_init(net, SC_INIT_KAIMING, 3), SC_OK, "%s", sc_last_error());
    float *xh = test_rand_alloc(5 * 3 * 12 * 10, 21, -1.0f, 1.0f);
    sc_tensor x = test_tensor(4, (int[]){5, 3, 12, 10}, xh), y;
    cr_assert_eq(sc_net_forward(net, &x, 1, &y), SC_OK, "%s", sc_last_error());
    for (int i = 0; i < n; i++) {
        int fused = i + 1 < n && L[i].kind == SC_LAYER_BATCHNORM &&
                    (L[i + 1].kind == SC_LAYER_RELU || L[i + 1].kind == SC_LAYER_LEAKY_RELU);
        int o = fused ? i + 1 : i, last = -1;
        if (i > 0 && L[i - 1].kind == SC_LAYER_BATCHNORM && o == i &&
            (L[i].kind == SC_LAYER_RELU || L[i].kind == SC_LAYER_LEAKY_RELU)) {
            cr_assert_eq(sc_net_layer_forward(net, i, NULL), SC_ERR, "layer %d", i + 1);
            cr_assert(strstr(sc_last_error(), "runs inside layer"), "%s", sc_last_error());
            sc_clear_error();
            cr_assert_eq(sc_net_layer_backward(net, i), SC_OK, "%s", sc_last_error());
            continue;
        }
        float *before = test_download(&net->layers[o].out_act);
        cr_assert_eq(sc_net_layer_forward(net, i, &last), SC_OK, "%s", sc_last_error());
        cr_assert_eq(last, o, "layer %d", i + 1);
        float *after = test_download(&net->layers[o].out_act);
        test_expect_close("exact", after, before, net->layers[o].out_act.n);
        free(before), free(after);
        cr_assert_eq(sc_net_layer_backward(net, i), SC_OK, "layer %d: %s", i + 1,
                     sc_last_error());
    }
    cr_assert_eq(sc_net_layer_backward(net, n), SC_ERR);
    cr_assert(strstr(sc_last_error(), "no such layer"), "%s", sc_last_error());
    sc_clear_error();
    sc_tensor_free(&x);
    free(xh);
    sc_net_free(net);
}
