/* Device peaks: FP32 FMA rate and memory bandwidth, the yardsticks every other benchmark
 * prints its figures against (bench/bench_util.h); then memory in the access patterns the
 * GEMMs' layouts force on the early convs (row runs), and what that leaves of the FMA peak.
 *   bench_peak [device] [--quick]
 */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "siamcl/ops_conv.h"

/* Median ms of reading or writing (write: 1 plain stores, 2 non-temporal) ROWS x COLS
 * floats, rows as far apart as conv.c puts them, in runs of `run` float4s per row and
 * work-item (cl/bench.cl bw_rows_*). */
#define ROWS 147     /* conv1: cin k^2 = 3 x 7 x 7 */
#define COLS 131072  /* 32 images x 64 x 64 outputs */
static int rows_ms(sc_ctx *ctx, cl_mem x, cl_mem out, int write, int run, int reps, double *ms)
{
    static const char *names[3] = {"bw_rows_read", "bw_rows_write", "bw_rows_stream"};
    cl_kernel k = sc_kernel(ctx, "bench", NULL, names[write]);
    if (!k)
        return SC_ERR;
    int rows = ROWS, cols4 = COLS / 4, ld4 = (int)sc_conv2d_ld(COLS) / 4;
    SC_TRY(write ? sc_kernel_args(k, 5, SC_ARG(x), SC_ARG(rows), SC_ARG(cols4), SC_ARG(ld4),
                                  SC_ARG(run))
                 : sc_kernel_args(k, 6, SC_ARG(x), SC_ARG(rows), SC_ARG(cols4), SC_ARG(ld4),
                                  SC_ARG(run), SC_ARG(out)));
    size_t items = (size_t)(cols4 / run), local = items < 16 ? 1 : 16;
    double s;
    SC_TRY(bench_kernel_s(ctx, k, sc_round_up(items, local), local, reps, &s));
    *ms = 1e3 * s;
    return SC_OK;
}

/* conv1's im2col matrix (77 MB): the forward's B, the data gradient's C. The time to move
 * it in the runs a work-item owns, next to the time the whole GEMM (2 x 16 x 147 x 131072
 * FLOPs) may take at half the FMA peak: what is left for the arithmetic if the two do not
 * overlap. */
static int print_row_runs(sc_ctx *ctx, const bench_peaks *pk, int quick)
{
    size_t bytes = (size_t)ROWS * COLS * sizeof(float);
    size_t span = (size_t)ROWS * sc_conv2d_ld(COLS) * sizeof(float);
    cl_mem x, out;
    SC_TRY(sc_buffer_alloc(ctx, &x, span, "row-run buffer"));
    if (sc_buffer_alloc(ctx, &out, (size_t)COLS * sizeof(float), "row-run sums") != SC_OK) {
        clReleaseMemObject(x);
        return SC_ERR;
    }
    float one = 1.0f;
    int rc = clEnqueueFillBuffer(ctx->queue, x, &one, sizeof one, 0, span, 0, NULL, NULL) ==
                     CL_SUCCESS
                 ? SC_OK
                 : sc_fail("filling the row-run buffer failed");
    double half_ms = 1e3 * 2.0 * 16 * ROWS * (double)COLS / (0.5 * pk->gflops * 1e9);
    int reps = quick ? 3 : 5;
    printf("\n%d rows x %d floats (%.0f MB, conv1's im2col matrix, rows %zu floats apart), "
           "each work-item a run of every row (median of %d; 'streamed': non-temporal "
           "stores, CPU devices only):\n",
           ROWS, COLS, bytes / 1e6, sc_conv2d_ld(COLS), reps);
    printf("%10s | %9s %7s | %9s %7s | %9s %7s\n", "run", "read ms", "GB/s", "write ms", "GB/s",
           "streamed", "GB/s");
    static const int runs[] = {16, 64, 256, 1024}; /* float4s: 256 B .. 16 KB */
    double best_r = 0, best_w = 0;
    for (int i = 0; rc == SC_OK && i < 4; i++) {
        double t[3] = {0, 0, 0};
        for (int m = 0; rc == SC_OK && m < 3; m++)
            rc = rows_ms(ctx, x, out, m, runs[i], reps, &t[m]);
        if (rc != SC_OK)
            break;
        printf("%8d B | %9.2f %7.1f | %9.2f %7.1f | %9.2f %7.1f\n", runs[i] * 16, t[0],
               bytes / t[0] * 1e-6, t[1], bytes / t[1] * 1e-6, t[2], bytes / t[2] * 1e-6);
        double w = t[1] < t[2] ? t[1] : t[2];
        best_r = i == 0 || t[0] < best_r ? t[0] : best_r;
        best_w = i == 0 || w < best_w ? w : best_w;
    }
    if (rc == SC_OK)
        printf("contiguous at the copy bandwidth: %.2f ms; best of the runs above: read %.2f ms, "
               "write %.2f ms; conv1's GEMMs at 50%% of the FMA peak: %.2f ms each, data "
               "movement included\n",
               bytes / pk->gbs * 1e-6, best_r, best_w, half_ms);
    clReleaseMemObject(x);
    clReleaseMemObject(out);
    return rc;
}

int main(int argc, char **argv)
{
    const char *device = NULL;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: bench_peak [device] [--quick]\n");
            return 0;
        } else
            device = argv[i];
    }
    sc_ctx *ctx;
    if (sc_ctx_create(&ctx, device, SC_CTX_PROFILE) != SC_OK) {
        fprintf(stderr, "bench_peak: %s\n", sc_last_error());
        return 1;
    }
    if (ctx->warning[0])
        fprintf(stderr, "bench_peak: %s\n", ctx->warning);
    bench_peaks pk;
    if (bench_measure_peaks(ctx, quick, &pk) != SC_OK) {
        fprintf(stderr, "bench_peak: %s\n", sc_last_error());
        sc_ctx_destroy(ctx);
        return 1;
    }
    bench_print_peaks(ctx, &pk);
    printf("compute units: %u, so %.1f GFLOP/s per unit; balance %.1f FLOP/byte\n",
           ctx->dev.compute_units, pk.gflops / (ctx->dev.compute_units ? ctx->dev.compute_units : 1),
           pk.gbs > 0 ? pk.gflops / pk.gbs : 0.0);
    int rc = print_row_runs(ctx, &pk, quick);
    if (rc != SC_OK)
        fprintf(stderr, "bench_peak: %s\n", sc_last_error());
    sc_ctx_destroy(ctx);
    return rc == SC_OK ? 0 : 1;
}
