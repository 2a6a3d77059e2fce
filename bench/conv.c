/* Convolution benchmark: the baseline network's conv layers (3x128x128 input), forward on
 * the im2col + GEMM path and on the direct reference kernel, and the backward, timed on the
 * device with a per-kernel breakdown (im2col / gemm / permute / col2im / bias).
 *   bench_conv [batch=32] [reps=3] [device]   (32 images: the baseline's 16 pairs)
 * Prints GFLOP/s per layer and the GEMM path's speed-up over the direct kernel measured in
 * the same run (issue 7 tunes the GEMM against these figures). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "siamcl/ops_conv.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    sc_conv2d_desc d;
    int h; /* square input */
} layer;

/* conv 3->16 k7 s2 p3, 16->32 k5 s2 p2, 32->64 k5 s2 p2, 64->128 k3 s2 p1, back to back
 * (the one max-pool comes after the last): 128 -> 64 -> 32 -> 16 -> 8. */
static const layer layers[] = {
    {{3, 16, 7, 2, 3}, 128}, {{16, 32, 5, 2, 2}, 64}, {{32, 64, 5, 2, 2}, 32},
    {{64, 128, 3, 2, 1}, 16}};

static int fail(const char *what)
{
    fprintf(stderr, "bench_conv: %s: %s\n", what, sc_last_error());
    return 1;
}

/* Seconds per call of `which` (0 GEMM forward, 1 direct forward, 2 backward), after one
 * warm-up call that also builds the kernels. */
static int time_op(sc_ctx *ctx, int which, int reps, const sc_conv2d_desc *d, sc_tensor *x,
                   sc_tensor *w, sc_tensor *b, sc_tensor *y, sc_tensor *dx, sc_tensor *dw,
                   sc_tensor *db, sc_tensor *ws, double *secs)
{
    for (int r = -1; r < reps; r++) {
        if (r == 0) {
            SC_TRY(sc_ctx_finish(ctx));
            sc_profile_reset(ctx);
            *secs = now_s();
        }
        int rc = which == 0   ? sc_conv2d_forward(ctx, d, x, w, b, y, ws)
                 : which == 1 ? sc_conv2d_forward_direct(ctx, d, x, w, b, y)
                              : sc_conv2d_backward(ctx, d, x, w, y, dx, dw, db, ws);
        SC_TRY(rc);
    }
    SC_TRY(sc_ctx_finish(ctx));
    *secs = (now_s() - *secs) / reps;
    return SC_OK;
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 32, reps = argc > 2 ? atoi(argv[2]) : 3;
    if (batch <= 0 || reps <= 0) {
        fprintf(stderr, "usage: bench_conv [batch>0] [reps>0] [device]\n");
        return 2;
    }
    sc_ctx *ctx;
    if (sc_ctx_create(&ctx, argc > 3 ? argv[3] : NULL, SC_CTX_PROFILE) != SC_OK)
        return fail("opening the device");
    printf("device: %s (%s), batch %d, %d reps\n", ctx->dev.name, ctx->dev.version, batch,
           reps);
    printf("%-22s %9s %9s %9s %9s %9s %8s\n", "layer", "fwd ms", "GFLOP/s", "direct ms",
           "GFLOP/s", "bwd ms", "fwd/dir");
    char report[4096];
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const sc_conv2d_desc *d = &layers[i].d;
        int h = layers[i].h, oh = sc_conv2d_out_size(h, d->k, d->stride, d->pad);
        sc_tensor x, w, b, y, dx, dw, db, ws;
        int ok = sc_tensor_alloc(ctx, &x, 4, (int[]){batch, d->cin, h, h}) == SC_OK &&
                 sc_tensor_alloc(ctx, &w, 4, (int[]){d->cout, d->cin, d->k, d->k}) == SC_OK &&
                 sc_tensor_alloc(ctx, &b, 1, (int[]){d->cout}) == SC_OK &&
                 sc_tensor_alloc(ctx, &y, 4, (int[]){batch, d->cout, oh, oh}) == SC_OK &&
                 sc_tensor_alloc(ctx, &dx, 4, (int[]){batch, d->cin, h, h}) == SC_OK &&
                 sc_tensor_alloc(ctx, &dw, 4, (int[]){d->cout, d->cin, d->k, d->k}) == SC_OK &&
                 sc_tensor_alloc(ctx, &db, 1, (int[]){d->cout}) == SC_OK &&
                 sc_tensor_alloc(ctx, &ws, 1,
                                 (int[]){(int)sc_conv2d_workspace(d, batch, h, h) + 1}) ==
                     SC_OK;
        if (!ok)
            return fail("allocating");
        double t_gemm, t_direct, t_bwd;
        if (time_op(ctx, 0, reps, d, &x, &w, &b, &y, &dx, &dw, &db, &ws, &t_gemm) != SC_OK)
            return fail("GEMM forward");
        sc_profile_report(ctx, report, sizeof report);
        if (time_op(ctx, 1, reps, d, &x, &w, &b, &y, &dx, &dw, &db, &ws, &t_direct) != SC_OK)
            return fail("direct forward");
        if (time_op(ctx, 2, reps, d, &x, &w, &b, &y, &dx, &dw, &db, &ws, &t_bwd) != SC_OK)
            return fail("backward");
        char breport[4096];
        sc_profile_report(ctx, breport, sizeof breport);
        double flop = 2.0 * batch * d->cout * oh * oh * d->cin * d->k * d->k;
        char name[32];
        snprintf(name, sizeof name, "%d->%d k%d s%d @%d", d->cin, d->cout, d->k, d->stride, h);
        printf("%-22s %9.2f %9.2f %9.2f %9.2f %9.2f %8.2f\n", name, 1e3 * t_gemm,
               1e-9 * flop / t_gemm, 1e3 * t_direct, 1e-9 * flop / t_direct, 1e3 * t_bwd,
               t_direct / t_gemm);
        printf("  forward breakdown:\n%s  backward breakdown:\n%s", report, breport);
        sc_tensor *all[] = {&x, &w, &b, &y, &dx, &dw, &db, &ws};
        for (int j = 0; j < 8; j++)
            sc_tensor_free(all[j]);
    }
    printf("(backward = dx + dw + db: about 2x the forward's FLOPs)\n");
    sc_ctx_destroy(ctx);
    return 0;
}
