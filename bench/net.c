/* Per-layer microbenchmarks of any experiment's network at its training batch: every layer's
 * forward and backward (conv: forward, and backward-data + backward-weights together, as the
 * training step runs them), the loss head and the optimizer step, each the median over
 * repeats of its summed kernel time (OpenCL profiling events), as GFLOP/s against the FMA
 * peak or GB/s against the memory bandwidth, both measured in the same run. The layers run
 * exactly as in training (sc_net_layer_forward/backward: the same kernels, fusion, kept
 * im2col matrices), so the sum is one training step's kernel time.
 *   bench_net CONFIG [--reps N] [--set section.key=value ...] [device]
 * e.g. bench_net configs/lfw_contrastive.ini, bench_net configs/lfw_best.ini */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "siamcl/config.h"
#include "siamcl/nn.h"
#include "siamcl/ops_loss.h"
#include "siamcl/ops_optim.h"

typedef struct job {
    sc_net *net;
    const sc_config *cfg;
    int layer, backward;
    sc_tensor emb, labels, dist, loss, de, ws, mom, m, v; /* head and optimizer */
} job;

static int run_layer(sc_ctx *ctx, void *user)
{
    (void)ctx;
    job *j = user;
    return j->backward ? sc_net_layer_backward(j->net, j->layer)
                       : sc_net_layer_forward(j->net, j->layer, NULL);
}

static int run_head(sc_ctx *ctx, void *user)
{
    job *j = user;
    const sc_train_cfg *t = &j->cfg->train;
    if (t->loss == SC_LOSS_TRIPLET) {
        sc_triplet_opts o = {(sc_triplet_mining)t->mining, (float)t->margin, t->squared};
        return sc_triplet_head(ctx, &j->emb, &j->labels, &o, &j->dist, &j->loss, NULL, &j->de,
                               &j->ws);
    }
    return sc_contrastive_siamese(ctx, &j->emb, &j->labels, (float)t->margin, &j->dist,
                                  &j->loss, &j->de, &j->ws);
}

static int run_optim(sc_ctx *ctx, void *user)
{
    job *j = user;
    const sc_train_cfg *t = &j->cfg->train;
    if (t->optimizer == SC_OPT_ADAM) {
        sc_adam_opts o = sc_adam_defaults();
        o.weight_decay = (float)t->weight_decay;
        return sc_adam_step(ctx, &o, 2, &j->net->params, &j->net->grads, &j->m, &j->v,
                            &j->net->decay_mask);
    }
    sc_sgd_opts o = {(float)t->lr, (float)t->momentum, 0.0f, (float)t->weight_decay, 0};
    return sc_sgd_step(ctx, &o, 2, &j->net->params, &j->net->grads,
                       t->momentum > 0 ? &j->mom : NULL, &j->net->decay_mask);
}

/* FLOPs (conv, linear) or bytes moved (the rest) by layer i's forward or backward. */
static void layer_cost(const sc_net *net, int i, int backward, double *flops, double *bytes)
{
    const sc_layer *L = &net->layers[i];
    double n = net->batch;
    double in = (double)L->in[0] * L->in[1] * L->in[2], out = (double)L->out[0] * L->out[1] * L->out[2];
    *flops = *bytes = 0;
    if (L->d.kind == SC_LAYER_CONV || L->d.kind == SC_LAYER_LINEAR) {
        /* each output reads cin k^2 inputs (conv) or the whole flattened input (linear) */
        double reads = L->d.kind == SC_LAYER_CONV ? (double)L->in[0] * L->d.k * L->d.k : in;
        double fwd = 2.0 * n * out * reads;
        *flops = backward ? (i == 0 ? fwd : 2.0 * fwd) : fwd;
        return;
    }
    /* forward: read x, write y; backward: read y (or x) and dy, write dx */
    *bytes = 4.0 * n * (backward ? in + 2.0 * out : in + out);
}

/* FLOP rows against `peak`, the FMA peak measured around them (bench_fma_after). */
static void print_row(const char *name, double s, double flops, double bytes, double peak,
                      const bench_peaks *pk)
{
    printf("%-44s %10.1f ", name, 1e6 * s);
    if (flops > 0)
        printf("%9.1f %6.1f%% %6.1f %9s %7s\n", 1e-9 * flops / s,
               100 * 1e-9 * flops / s / peak, peak, "-", "-");
    else
        printf("%9s %7s %6s %9.2f %6.1f%%\n", "-", "-", "-", 1e-9 * bytes / s,
               100 * 1e-9 * bytes / s / pk->gbs);
    fflush(stdout);
}

static int fill_random(sc_ctx *ctx, sc_tensor *t, unsigned seed, float lo, float hi)
{
    float *h = malloc(t->n * sizeof *h);
    if (!h)
        return sc_fail("out of host memory");
    for (size_t i = 0; i < t->n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = lo + (hi - lo) * (float)(seed >> 8) / 16777216.0f;
    }
    int rc = sc_tensor_upload(ctx, t, h);
    free(h);
    return rc;
}

static int bench(sc_ctx *ctx, const sc_config *cfg, int reps)
{
    int pk_batch = cfg->data.sampler == SC_SAMPLER_PK;
    int n = pk_batch ? cfg->data.p * cfg->data.k : 2 * cfg->train.batch;
    int s = cfg->data.image_size;
    bench_peaks pk;
    SC_TRY(bench_measure_peaks(ctx, 1, &pk));
    bench_print_peaks(ctx, &pk);

    job j = {0};
    j.cfg = cfg;
    sc_tensor x = {0}, dout = {0};
    SC_TRY(sc_net_create(ctx, cfg->model.layer, cfg->model.n_layers, 3, s, s, n, &j.net));
    sc_net *net = j.net;
    int rc = sc_net_init(net, (sc_init)cfg->model.init, 1);
    int d = sc_net_out_dim(net);
    if (rc == SC_OK)
        rc = sc_tensor_alloc(ctx, &x, 4, (int[]){n, 3, s, s});
    if (rc == SC_OK)
        rc = fill_random(ctx, &x, 1, -1.0f, 1.0f);
    if (rc == SC_OK)
        rc = sc_tensor_alloc(ctx, &dout, 2, (int[]){n, d});
    if (rc == SC_OK)
        rc = fill_random(ctx, &dout, 2, -0.01f, 0.01f);
    sc_tensor y;
    if (rc == SC_OK)
        rc = sc_net_forward(net, &x, 1, &y);
    if (rc == SC_OK)
        rc = sc_net_backward(net, &dout, NULL);
    if (rc == SC_OK)
        rc = sc_ctx_finish(ctx);
    printf("%s: batch %d images of 3x%dx%d, %zu parameters; median of %d repeats, kernel "
           "time from profiling events; %%FMA against the FMA peak measured again around "
           "each row\n\n",
           cfg->path, n, s, s, net->nparams, reps);
    printf("%-44s %10s %9s %7s %6s %9s %7s\n", "op", "time us", "GFLOP/s", "%FMA", "peak",
           "GB/s", "%BW");
    double step = 0;
    for (int pass = 0; pass < 2 && rc == SC_OK; pass++) {
        for (int k = 0; k < net->nlayers && rc == SC_OK; k++) {
            int i = pass ? net->nlayers - 1 - k : k;
            const sc_layer *L = &net->layers[i];
            int last = i;
            if (!pass && i > 0 && L[-1].d.kind == SC_LAYER_BATCHNORM &&
                net->fuse && (L->d.kind == SC_LAYER_RELU || L->d.kind == SC_LAYER_LEAKY_RELU))
                continue; /* ran fused into the batch norm before it */
            j.layer = i, j.backward = pass;
            double flops, bytes, peak = pk.gflops;
            layer_cost(net, i, pass, &flops, &bytes);
            if (flops > 0)
                rc = bench_fma_now(ctx, &pk, &peak);
            bench_result r;
            if (rc == SC_OK)
                rc = bench_time(ctx, run_layer, &j, reps, &r, NULL, 0);
            if (rc == SC_OK && flops > 0)
                rc = bench_fma_after(ctx, &pk, &peak);
            if (rc != SC_OK)
                break;
            if (!pass)
                rc = sc_net_layer_forward(net, i, &last); /* which layers it covered */
            char name[96];
            snprintf(name, sizeof name, "%2d %s%s %dx%dx%d -> %dx%dx%d %s", i + 1,
                     sc_layer_kind_name(L->d.kind), last > i ? "+act" : "", L->in[0], L->in[1],
                     L->in[2], L->out[0], L->out[1], L->out[2], pass ? "bwd" : "fwd");
            print_row(name, r.kernel_s, flops, bytes, peak, &pk);
            step += r.kernel_s;
        }
        if (pass || rc != SC_OK)
            continue;
        /* the loss head between the passes, on embeddings of the network's width */
        int pairs = cfg->train.loss == SC_LOSS_CONTRASTIVE;
        int nl = pairs ? n / 2 : n;
        float *lab = malloc((size_t)nl * sizeof *lab);
        if (!lab)
            return sc_fail("out of host memory");
        for (int i = 0; i < nl; i++)
            lab[i] = pairs ? (float)(i % 2) : (float)(i / (pk_batch ? cfg->data.k : 2));
        size_t wsn = pairs ? sc_contrastive_workspace(nl) : sc_triplet_workspace(n);
        int ok = sc_tensor_alloc(ctx, &j.emb, 2, (int[]){n, d}) == SC_OK &&
                 fill_random(ctx, &j.emb, 3, -1.0f, 1.0f) == SC_OK &&
                 sc_tensor_alloc(ctx, &j.labels, 1, (int[]){nl}) == SC_OK &&
                 sc_tensor_upload(ctx, &j.labels, lab) == SC_OK &&
                 sc_tensor_alloc(ctx, &j.dist, pairs ? 1 : 2, pairs ? (int[]){nl} : (int[]){n, n}) == SC_OK &&
                 sc_tensor_alloc(ctx, &j.loss, 1, (int[]){1}) == SC_OK &&
                 sc_tensor_alloc(ctx, &j.de, 2, (int[]){n, d}) == SC_OK &&
                 sc_tensor_alloc(ctx, &j.ws, 1, (int[]){(int)wsn + 1}) == SC_OK;
        free(lab);
        bench_result r;
        rc = ok ? bench_time(ctx, run_head, &j, reps, &r, NULL, 0) : SC_ERR;
        if (rc == SC_OK) {
            char name[96];
            snprintf(name, sizeof name, "%s head, %d x %d embeddings",
                     sc_loss_name(cfg->train.loss), n, d);
            print_row(name, r.kernel_s, 0, 4.0 * n * d * 2 + 4.0 * n * n, pk.gflops, &pk);
            step += r.kernel_s;
        }
    }
    if (rc == SC_OK) {
        int np = (int)net->nparams;
        int adam = cfg->train.optimizer == SC_OPT_ADAM;
        rc = adam ? sc_tensor_alloc(ctx, &j.m, 1, &np) : sc_tensor_alloc(ctx, &j.mom, 1, &np);
        if (rc == SC_OK && adam)
            rc = sc_tensor_alloc(ctx, &j.v, 1, &np);
        sc_tensor *st[] = {&j.m, &j.v, &j.mom};
        for (int i = 0; rc == SC_OK && i < 3; i++)
            if (st[i]->buf)
                rc = sc_tensor_fill(ctx, st[i], 0.0f);
        bench_result r;
        if (rc == SC_OK)
            rc = bench_time(ctx, run_optim, &j, reps, &r, NULL, 0);
        if (rc == SC_OK) {
            char name[96];
            snprintf(name, sizeof name, "%s step, %d parameters", adam ? "Adam" : "SGD", np);
            /* param, grad, mask read; param written; moments read and written */
            double bytes = 4.0 * np * (adam ? 8 : cfg->train.momentum > 0 ? 6 : 4);
            print_row(name, r.kernel_s, 0, bytes, pk.gflops, &pk);
            step += r.kernel_s;
        }
    }
    if (rc == SC_OK) {
        printf("\none training step (the rows above, kernel time only): %.1f ms\n", 1e3 * step);
        bench_print_drift(ctx, &pk);
    }
    sc_tensor *all[] = {&x, &dout, &j.emb, &j.labels, &j.dist, &j.loss, &j.de, &j.ws,
                        &j.mom, &j.m, &j.v};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sc_tensor_free(all[i]);
    sc_net_free(net);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_net CONFIG [--reps N] [--set section.key=value ...] "
                        "[device]\n");
        return 2;
    }
    static sc_config cfg;
    sc_config_init(&cfg);
    const char *device = NULL;
    int reps = 5;
    if (sc_config_read(&cfg, argv[1]) != SC_OK) {
        fprintf(stderr, "bench_net: %s\n", sc_last_error());
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (sc_config_set(&cfg, argv[++i]) != SC_OK) {
                fprintf(stderr, "bench_net: %s\n", sc_last_error());
                return 1;
            }
        } else {
            device = argv[i];
        }
    }
    if (cfg.model.n_layers < 1) {
        fprintf(stderr, "bench_net: %s has no [model] layers\n", argv[1]);
        return 1;
    }
    sc_ctx *ctx;
    if (sc_ctx_create(&ctx, device, SC_CTX_PROFILE) != SC_OK) {
        fprintf(stderr, "bench_net: %s\n", sc_last_error());
        return 1;
    }
    if (ctx->warning[0])
        fprintf(stderr, "bench_net: %s\n", ctx->warning);
    int rc = bench(ctx, &cfg, reps < 1 ? 1 : reps);
    if (rc != SC_OK)
        fprintf(stderr, "bench_net: %s\n", sc_last_error());
    sc_ctx_destroy(ctx);
    return rc == SC_OK ? 0 : 1;
}
