/* Device peaks: FP32 FMA rate and memory bandwidth, the yardsticks every other benchmark
 * prints its figures against (bench/bench_util.h).
 *   bench_peak [device] [--quick]
 */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"

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
    sc_ctx_destroy(ctx);
    return 0;
}
