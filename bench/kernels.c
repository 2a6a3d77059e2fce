/* Per-layer microbenchmarks of the baseline network (configs/lfw_contrastive.ini) at its
 * training batch: 16 pairs = 32 images of 3 x 128 x 128. For every layer and head op: the
 * median kernel time over repeats (sum of the OpenCL profiling events of one call), and
 * GFLOP/s against the FMA peak or GB/s against the memory bandwidth, both measured by the
 * same run (bench/bench_util.h). Tiny ops (pooling of 8 x 8 maps, the loss head, a 0.7 M
 * parameter optimizer step) are launch-bound on a CPU runtime: their microseconds matter
 * more than their rates.
 *   bench_kernels [--reps N] [--only TEXT] [--breakdown] [device]
 * --breakdown prints each op's kernels by family (im2col, gemm, permute, ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "siamcl/ops_conv.h"
#include "siamcl/ops_dense.h"
#include "siamcl/ops_gemm.h"
#include "siamcl/ops_loss.h"
#include "siamcl/ops_optim.h"

#define BATCH 32 /* images: 16 pairs */
#define NCONV 4

/* conv 3->16 k7 s2 p3 @128, 16->32 k5 s2 p2 @64, 32->64 k5 s2 p2 @32, 64->128 k3 s2 p1 @16,
 * each followed by ReLU; max-pool 2x2 on 128x8x8; fc 2048->256, ReLU, fc 256->32. */
static const sc_conv2d_desc convs[NCONV] = {
    {3, 16, 7, 2, 3}, {16, 32, 5, 2, 2}, {32, 64, 5, 2, 2}, {64, 128, 3, 2, 1}};
static const int conv_in[NCONV] = {128, 64, 32, 16};

typedef struct net_buffers {
    sc_tensor x[NCONV], y[NCONV], dx[NCONV], dy[NCONV], w[NCONV], b[NCONV], dw[NCONV],
        db[NCONV];
    sc_tensor ws;                       /* conv workspace: the largest layer, whole batch */
    sc_tensor pool_y, pool_idx, pool_dy, pool_dx;
    sc_tensor f1x, f1w, f1b, f1y, f1dx, f1dw, f1db;
    sc_tensor f2x, f2w, f2b, f2y, f2dx, f2dw, f2db;
    sc_tensor emb, emb_grad, labels, dist, loss, head_ws; /* contrastive head, B = 16 */
    sc_tensor temb, tlabels, tdist, tloss, tgrad, tws;    /* triplet head, P16 x K4 */
    sc_tensor param, grad, mom, adam_m, adam_v;           /* optimizer, all parameters */
} net_buffers;

static size_t nparams(void)
{
    size_t n = 0;
    for (int i = 0; i < NCONV; i++)
        n += (size_t)convs[i].cout * convs[i].cin * convs[i].k * convs[i].k + convs[i].cout;
    return n + 2048 * 256 + 256 + 256 * 32 + 32;
}

static int alloc(sc_ctx *ctx, sc_tensor *t, int ndim, const int *shape, float fill)
{
    SC_TRY(sc_tensor_alloc(ctx, t, ndim, shape));
    return fill != 0.0f ? sc_tensor_fill(ctx, t, fill) : SC_OK;
}

static int setup(sc_ctx *ctx, net_buffers *nb)
{
    memset(nb, 0, sizeof *nb);
    size_t ws = 0;
    for (int i = 0; i < NCONV; i++) {
        const sc_conv2d_desc *d = &convs[i];
        int h = conv_in[i], oh = sc_conv2d_out_size(h, d->k, d->stride, d->pad);
        SC_TRY(alloc(ctx, &nb->x[i], 4, (int[]){BATCH, d->cin, h, h}, 0.5f));
        SC_TRY(alloc(ctx, &nb->dx[i], 4, (int[]){BATCH, d->cin, h, h}, 0.0f));
        SC_TRY(alloc(ctx, &nb->y[i], 4, (int[]){BATCH, d->cout, oh, oh}, 0.0f));
        SC_TRY(alloc(ctx, &nb->dy[i], 4, (int[]){BATCH, d->cout, oh, oh}, 0.25f));
        SC_TRY(alloc(ctx, &nb->w[i], 4, (int[]){d->cout, d->cin, d->k, d->k}, 0.01f));
        SC_TRY(alloc(ctx, &nb->dw[i], 4, (int[]){d->cout, d->cin, d->k, d->k}, 0.0f));
        SC_TRY(alloc(ctx, &nb->b[i], 1, (int[]){d->cout}, 0.1f));
        SC_TRY(alloc(ctx, &nb->db[i], 1, (int[]){d->cout}, 0.0f));
        size_t need = sc_conv2d_workspace(d, BATCH, h, h);
        ws = need > ws ? need : ws;
    }
    SC_TRY(alloc(ctx, &nb->ws, 1, (int[]){(int)ws}, 0.0f));
    SC_TRY(alloc(ctx, &nb->pool_y, 4, (int[]){BATCH, 128, 4, 4}, 0.0f));
    SC_TRY(alloc(ctx, &nb->pool_idx, 4, (int[]){BATCH, 128, 4, 4}, 0.0f));
    SC_TRY(alloc(ctx, &nb->pool_dy, 4, (int[]){BATCH, 128, 4, 4}, 0.5f));
    SC_TRY(alloc(ctx, &nb->pool_dx, 4, (int[]){BATCH, 128, 8, 8}, 0.0f));
    SC_TRY(alloc(ctx, &nb->f1x, 2, (int[]){BATCH, 2048}, 0.5f));
    SC_TRY(alloc(ctx, &nb->f1w, 2, (int[]){256, 2048}, 0.01f));
    SC_TRY(alloc(ctx, &nb->f1b, 1, (int[]){256}, 0.1f));
    SC_TRY(alloc(ctx, &nb->f1y, 2, (int[]){BATCH, 256}, 0.25f));
    SC_TRY(alloc(ctx, &nb->f1dx, 2, (int[]){BATCH, 2048}, 0.0f));
    SC_TRY(alloc(ctx, &nb->f1dw, 2, (int[]){256, 2048}, 0.0f));
    SC_TRY(alloc(ctx, &nb->f1db, 1, (int[]){256}, 0.0f));
    SC_TRY(alloc(ctx, &nb->f2x, 2, (int[]){BATCH, 256}, 0.5f));
    SC_TRY(alloc(ctx, &nb->f2w, 2, (int[]){32, 256}, 0.01f));
    SC_TRY(alloc(ctx, &nb->f2b, 1, (int[]){32}, 0.1f));
    SC_TRY(alloc(ctx, &nb->f2y, 2, (int[]){BATCH, 32}, 0.25f));
    SC_TRY(alloc(ctx, &nb->f2dx, 2, (int[]){BATCH, 256}, 0.0f));
    SC_TRY(alloc(ctx, &nb->f2dw, 2, (int[]){32, 256}, 0.0f));
    SC_TRY(alloc(ctx, &nb->f2db, 1, (int[]){32}, 0.0f));
    /* Heads: embeddings that differ row to row (a constant fill gives zero distances). */
    float e[64 * 32], lab[64];
    for (int i = 0; i < 64 * 32; i++)
        e[i] = (float)((i * 37) % 101) * 0.01f - 0.5f;
    for (int i = 0; i < 64; i++)
        lab[i] = (float)(i / 4);
    SC_TRY(alloc(ctx, &nb->emb, 2, (int[]){BATCH, 32}, 0.0f));
    SC_TRY(sc_tensor_upload(ctx, &nb->emb, e));
    SC_TRY(alloc(ctx, &nb->emb_grad, 2, (int[]){BATCH, 32}, 0.0f));
    SC_TRY(alloc(ctx, &nb->labels, 1, (int[]){BATCH / 2}, 0.0f));
    SC_TRY(sc_tensor_upload(ctx, &nb->labels, (float[16]){0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0}));
    SC_TRY(alloc(ctx, &nb->dist, 1, (int[]){BATCH / 2}, 0.0f));
    SC_TRY(alloc(ctx, &nb->loss, 1, (int[]){1}, 0.0f));
    SC_TRY(alloc(ctx, &nb->head_ws, 1, (int[]){(int)sc_contrastive_workspace(BATCH / 2) + 1},
                 0.0f));
    SC_TRY(alloc(ctx, &nb->temb, 2, (int[]){64, 32}, 0.0f));
    SC_TRY(sc_tensor_upload(ctx, &nb->temb, e));
    SC_TRY(alloc(ctx, &nb->tlabels, 1, (int[]){64}, 0.0f));
    SC_TRY(sc_tensor_upload(ctx, &nb->tlabels, lab));
    SC_TRY(alloc(ctx, &nb->tdist, 2, (int[]){64, 64}, 0.0f));
    SC_TRY(alloc(ctx, &nb->tloss, 1, (int[]){1}, 0.0f));
    SC_TRY(alloc(ctx, &nb->tgrad, 2, (int[]){64, 32}, 0.0f));
    SC_TRY(alloc(ctx, &nb->tws, 1, (int[]){(int)sc_triplet_workspace(64) + 1}, 0.0f));
    int np = (int)nparams();
    SC_TRY(alloc(ctx, &nb->param, 1, &np, 0.01f));
    SC_TRY(alloc(ctx, &nb->grad, 1, &np, 0.001f));
    SC_TRY(alloc(ctx, &nb->mom, 1, &np, 0.0f));
    SC_TRY(alloc(ctx, &nb->adam_m, 1, &np, 0.0f));
    SC_TRY(alloc(ctx, &nb->adam_v, 1, &np, 0.0f));
    return sc_ctx_finish(ctx);
}

static void release(net_buffers *nb)
{
    sc_tensor *all = (sc_tensor *)nb;
    for (size_t i = 0; i < sizeof *nb / sizeof(sc_tensor); i++)
        sc_tensor_free(&all[i]);
}

typedef enum {
    CONV_FWD, CONV_BWD_DATA, CONV_BWD_WEIGHTS, RELU_FWD, RELU_BWD, POOL_FWD, POOL_BWD,
    FC_FWD, FC_BWD, CONTRASTIVE, TRIPLET, DIST_MATRIX, SGD, SGD_MOMENTUM, ADAM
} op_kind;

typedef struct bench_item {
    op_kind kind;
    int layer;
    net_buffers *nb;
} bench_item;

static int run_item(sc_ctx *ctx, void *user)
{
    const bench_item *it = user;
    net_buffers *nb = it->nb;
    int l = it->layer;
    const sc_conv2d_desc *d = &convs[l < NCONV ? l : 0];
    switch (it->kind) {
    case CONV_FWD:
        return sc_conv2d_forward(ctx, d, &nb->x[l], &nb->w[l], &nb->b[l], &nb->y[l], &nb->ws);
    case CONV_BWD_DATA:
        return sc_conv2d_backward(ctx, d, &nb->x[l], &nb->w[l], &nb->dy[l], &nb->dx[l], NULL,
                                  NULL, &nb->ws);
    case CONV_BWD_WEIGHTS:
        return sc_conv2d_backward(ctx, d, &nb->x[l], &nb->w[l], &nb->dy[l], NULL, &nb->dw[l],
                                  &nb->db[l], &nb->ws);
    case RELU_FWD:
        return sc_relu_forward(ctx, &nb->y[l], &nb->y[l]);
    case RELU_BWD:
        return sc_relu_backward(ctx, &nb->y[l], &nb->dy[l], &nb->dy[l]);
    case POOL_FWD: {
        sc_pool2d_desc p = {2, 2, 0};
        return sc_maxpool_forward(ctx, &p, &nb->y[NCONV - 1], &nb->pool_y, &nb->pool_idx);
    }
    case POOL_BWD: {
        sc_pool2d_desc p = {2, 2, 0};
        return sc_maxpool_backward(ctx, &p, &nb->pool_idx, &nb->pool_dy, &nb->pool_dx);
    }
    case FC_FWD:
        return l == 0 ? sc_linear_forward(ctx, &nb->f1x, &nb->f1w, &nb->f1b, &nb->f1y)
                      : sc_linear_forward(ctx, &nb->f2x, &nb->f2w, &nb->f2b, &nb->f2y);
    case FC_BWD:
        return l == 0 ? sc_linear_backward(ctx, &nb->f1x, &nb->f1w, &nb->f1y, &nb->f1dx,
                                           &nb->f1dw, &nb->f1db)
                      : sc_linear_backward(ctx, &nb->f2x, &nb->f2w, &nb->f2y, &nb->f2dx,
                                           &nb->f2dw, &nb->f2db);
    case CONTRASTIVE:
        return sc_contrastive_siamese(ctx, &nb->emb, &nb->labels, 1.0f, &nb->dist, &nb->loss,
                                      &nb->emb_grad, &nb->head_ws);
    case TRIPLET: {
        sc_triplet_opts o = {SC_TRIPLET_BATCH_HARD, 0.2f, 0};
        return sc_triplet_head(ctx, &nb->temb, &nb->tlabels, &o, &nb->tdist, &nb->tloss, NULL,
                               &nb->tgrad, &nb->tws);
    }
    case DIST_MATRIX:
        return sc_distance_matrix_forward(ctx, &nb->temb, &nb->temb, &nb->tdist, 0, &nb->tws);
    case SGD:
    case SGD_MOMENTUM: {
        sc_sgd_opts o = {1e-3f, it->kind == SGD ? 0.0f : 0.9f, 0.0f, 0.0f, 0};
        return sc_sgd_step(ctx, &o, 2, &nb->param, &nb->grad,
                           it->kind == SGD ? NULL : &nb->mom, NULL);
    }
    case ADAM: {
        sc_adam_opts o = sc_adam_defaults();
        return sc_adam_step(ctx, &o, 2, &nb->param, &nb->grad, &nb->adam_m, &nb->adam_v, NULL);
    }
    }
    return sc_fail("unknown benchmark item");
}

/* What one call does: FLOPs (GEMM-like ops) or bytes moved (memory-bound ops). */
static void item_cost(const bench_item *it, double *flops, double *bytes, char *name, size_t n)
{
    *flops = 0;
    *bytes = 0;
    int l = it->layer;
    const sc_conv2d_desc *d = &convs[l < NCONV ? l : 0];
    int h = conv_in[l < NCONV ? l : 0], oh = sc_conv2d_out_size(h, d->k, d->stride, d->pad);
    double conv_flops = 2.0 * BATCH * d->cout * oh * oh * d->cin * d->k * d->k;
    double act = (double)BATCH * d->cout * oh * oh;
    size_t np = nparams();
    char layer[40];
    snprintf(layer, sizeof layer, "conv%d %d->%d k%d @%d", l + 1, d->cin, d->cout, d->k, h);
    switch (it->kind) {
    case CONV_FWD:
        snprintf(name, n, "%s fwd", layer);
        *flops = conv_flops;
        break;
    case CONV_BWD_DATA:
        snprintf(name, n, "%s bwd-data", layer);
        *flops = conv_flops;
        break;
    case CONV_BWD_WEIGHTS:
        snprintf(name, n, "%s bwd-weights+bias", layer);
        *flops = conv_flops;
        break;
    case RELU_FWD:
        snprintf(name, n, "relu%d fwd (in place)", l + 1);
        *bytes = 8.0 * act;
        break;
    case RELU_BWD:
        snprintf(name, n, "relu%d bwd (in place)", l + 1);
        *bytes = 12.0 * act;
        break;
    case POOL_FWD:
        snprintf(name, n, "maxpool 2x2 128x8x8 fwd");
        *bytes = 4.0 * BATCH * 128 * 64 + 8.0 * BATCH * 128 * 16;
        break;
    case POOL_BWD:
        snprintf(name, n, "maxpool 2x2 128x8x8 bwd");
        *bytes = 4.0 * BATCH * 128 * 64 + 8.0 * BATCH * 128 * 16;
        break;
    case FC_FWD:
        snprintf(name, n, l == 0 ? "fc1 2048->256 fwd" : "fc2 256->32 fwd");
        *flops = l == 0 ? 2.0 * BATCH * 2048 * 256 : 2.0 * BATCH * 256 * 32;
        break;
    case FC_BWD:
        snprintf(name, n, l == 0 ? "fc1 2048->256 bwd" : "fc2 256->32 bwd");
        *flops = l == 0 ? 4.0 * BATCH * 2048 * 256 : 4.0 * BATCH * 256 * 32;
        break;
    case CONTRASTIVE:
        snprintf(name, n, "contrastive head B16 D32 fwd+bwd");
        *bytes = 4.0 * (BATCH * 32 * 2 + 3 * BATCH / 2);
        break;
    case TRIPLET:
        snprintf(name, n, "triplet head 16x4 D32 batch-hard");
        *bytes = 4.0 * (64 * 32 * 2 + 3 * 64 * 64);
        break;
    case DIST_MATRIX:
        snprintf(name, n, "distance matrix 64x64 D32");
        *flops = 2.0 * 64 * 64 * 32;
        break;
    case SGD:
        snprintf(name, n, "SGD step %.2fM params", np * 1e-6);
        *bytes = 12.0 * np;
        break;
    case SGD_MOMENTUM:
        snprintf(name, n, "SGD+momentum step %.2fM params", np * 1e-6);
        *bytes = 20.0 * np;
        break;
    case ADAM:
        snprintf(name, n, "Adam step %.2fM params", np * 1e-6);
        *bytes = 28.0 * np;
        break;
    }
}

int main(int argc, char **argv)
{
    int reps = 5, breakdown = 0;
    const char *device = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--breakdown") == 0)
            breakdown = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_kernels [--reps N] [--only TEXT] [--breakdown] "
                            "[device]\n");
            return 2;
        } else
            device = argv[i];
    }
    if (reps < 1)
        reps = 1;
    sc_ctx *ctx;
    if (sc_ctx_create(&ctx, device, SC_CTX_PROFILE) != SC_OK) {
        fprintf(stderr, "bench_kernels: %s\n", sc_last_error());
        return 1;
    }
    if (ctx->warning[0])
        fprintf(stderr, "bench_kernels: %s\n", ctx->warning);
    net_buffers nb;
    bench_peaks pk;
    int rc = setup(ctx, &nb);
    if (rc == SC_OK)
        rc = bench_measure_peaks(ctx, 1, &pk);
    if (rc == SC_OK) {
        bench_print_peaks(ctx, &pk);
        printf("batch %d images (16 pairs) of 3x128x128; GEMM backend %s; median of %d "
               "repeats, kernel time from profiling events; %%FMA against the FMA peak "
               "measured again around each row\n\n",
               BATCH, sc_gemm_backend_name(sc_gemm_backend_for(ctx)), reps);
        printf("%-38s %10s %9s %7s %6s %9s %7s\n", "op", "time us", "GFLOP/s", "%FMA", "peak",
               "GB/s", "%BW");
    }
    bench_item items[64];
    int n = 0;
    for (int l = 0; l < NCONV; l++) {
        items[n++] = (bench_item){CONV_FWD, l, &nb};
        items[n++] = (bench_item){RELU_FWD, l, &nb};
    }
    items[n++] = (bench_item){POOL_FWD, 0, &nb};
    items[n++] = (bench_item){FC_FWD, 0, &nb};
    items[n++] = (bench_item){FC_FWD, 1, &nb};
    items[n++] = (bench_item){CONTRASTIVE, 0, &nb};
    items[n++] = (bench_item){TRIPLET, 0, &nb};
    items[n++] = (bench_item){DIST_MATRIX, 0, &nb};
    items[n++] = (bench_item){FC_BWD, 1, &nb};
    items[n++] = (bench_item){FC_BWD, 0, &nb};
    items[n++] = (bench_item){POOL_BWD, 0, &nb};
    for (int l = NCONV - 1; l >= 0; l--) {
        items[n++] = (bench_item){RELU_BWD, l, &nb};
        items[n++] = (bench_item){CONV_BWD_WEIGHTS, l, &nb};
        items[n++] = (bench_item){CONV_BWD_DATA, l, &nb};
    }
    items[n++] = (bench_item){SGD, 0, &nb};
    items[n++] = (bench_item){SGD_MOMENTUM, 0, &nb};
    items[n++] = (bench_item){ADAM, 0, &nb};

    double step_s = 0;
    for (int i = 0; rc == SC_OK && i < n; i++) {
        char name[80], report[4096];
        double flops, bytes;
        item_cost(&items[i], &flops, &bytes, name, sizeof name);
        if (only && !strstr(name, only))
            continue;
        double peak = pk.gflops; /* FLOP rows: against the peak of this moment */
        if (flops > 0)
            rc = bench_fma_now(ctx, &pk, &peak);
        bench_result res;
        if (rc == SC_OK)
            rc = bench_time(ctx, run_item, &items[i], reps, &res, report, sizeof report);
        if (rc == SC_OK && flops > 0)
            rc = bench_fma_after(ctx, &pk, &peak);
        if (rc != SC_OK)
            break;
        double s = res.kernel_s;
        /* conv1's dx is never needed (the input has no gradient) and the triplet head and
         * Adam are not part of the baseline's step. */
        int in_step = !(items[i].kind == CONV_BWD_DATA && items[i].layer == 0) &&
                      items[i].kind != TRIPLET && items[i].kind != DIST_MATRIX &&
                      items[i].kind != SGD_MOMENTUM && items[i].kind != ADAM;
        if (in_step)
            step_s += s;
        printf("%-38s %10.1f ", name, 1e6 * s);
        if (flops > 0)
            printf("%9.1f %6.1f%% %6.1f %9s %7s\n", 1e-9 * flops / s,
                   100 * 1e-9 * flops / s / peak, peak, "-", "-");
        else
            printf("%9s %7s %6s %9.2f %6.1f%%\n", "-", "-", "-", 1e-9 * bytes / s,
                   100 * 1e-9 * bytes / s / pk.gbs);
        if (breakdown)
            printf("%s", report);
        fflush(stdout);
    }
    if (rc == SC_OK && !only)
        printf("\nbaseline training step (the ops above it uses, kernel time only): %.1f ms\n",
               1e3 * step_s);
    if (rc == SC_OK)
        bench_print_drift(ctx, &pk);
    release(&nb);
    if (rc != SC_OK)
        fprintf(stderr, "bench_kernels: %s\n", sc_last_error());
    sc_ctx_destroy(ctx);
    return rc == SC_OK ? 0 : 1;
}
