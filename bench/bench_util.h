/* Shared helpers for the benchmarks: device timing from OpenCL profiling events, medians of
 * repeats, and the device's measured peaks (FMA rate, memory bandwidth) so that every figure
 * can be printed as a fraction of them.
 * Header-only on purpose: CMake turns every bench/<name>.c into a program of its own. */
#ifndef SIAMCL_BENCH_UTIL_H
#define SIAMCL_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siamcl/tensor.h"

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static inline double bench_median(double *v, int n)
{
    if (n <= 0)
        return 0.0;
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Device time of a finished event in seconds (START to END), releasing it. */
static inline double bench_event_s(cl_event ev)
{
    cl_ulong t0 = 0, t1 = 0;
    clWaitForEvents(1, &ev);
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    clReleaseEvent(ev);
    return t1 > t0 ? 1e-9 * (double)(t1 - t0) : 0.0;
}

/* Total kernel time (seconds) recorded by the context's profiler since the last reset: the
 * sum of every label's events. Reads sc_profile_report's table (columns: label, calls,
 * total ms, mean us, ...), the only view of the profile the runtime gives; waits for the
 * queue. Labels must be single words (no spaces). */
static inline double bench_profile_total_s(sc_ctx *ctx, char *report, size_t size)
{
    report[0] = '\0';
    sc_profile_report(ctx, report, size);
    double total_us = 0.0;
    const char *line = strchr(report, '\n'); /* skip the header */
    while (line && *++line) {
        char label[64];
        long calls;
        double ms, mean_us;
        /* calls x mean (0.1 us resolution) rather than the total (10 us resolution) */
        if (sscanf(line, "%63s %ld %lf %lf", label, &calls, &ms, &mean_us) == 4)
            total_us += (double)calls * mean_us;
        line = strchr(line, '\n');
    }
    return 1e-6 * total_us;
}

/* An operation to time: enqueues one call on ctx (kernels recorded by the profiler). */
typedef int (*bench_op)(sc_ctx *ctx, void *user);

typedef struct bench_result {
    double kernel_s; /* median over repeats of the summed kernel times (profiling events) */
    double wall_s;   /* median host wall time of one call including the wait for it */
} bench_result;

/* Times `op`: one warm-up call (builds kernels), then `reps` calls, each waited for and
 * timed by the profiler (the context must have been created with SC_CTX_PROFILE).
 * `breakdown`, when not NULL, receives the last repeat's per-kernel-family table. */
static inline int bench_time(sc_ctx *ctx, bench_op op, void *user, int reps, bench_result *out,
                             char *breakdown, size_t bsize)
{
    char report[4096];
    double kern[64], wall[64];
    if (reps > 64)
        reps = 64;
    if (reps < 1)
        reps = 1;
    SC_TRY(op(ctx, user));
    SC_TRY(sc_ctx_finish(ctx));
    sc_profile_reset(ctx);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now_s();
        SC_TRY(op(ctx, user));
        SC_TRY(sc_ctx_finish(ctx));
        wall[r] = bench_now_s() - t0;
        kern[r] = bench_profile_total_s(ctx, report, sizeof report);
        if (breakdown && r == reps - 1)
            snprintf(breakdown, bsize, "%s", report);
        sc_profile_reset(ctx);
    }
    out->kernel_s = bench_median(kern, reps);
    out->wall_s = bench_median(wall, reps);
    return SC_OK;
}

/* ---- peaks -------------------------------------------------------------------------------
 * Kernels of cl/bench.cl. The FMA kernel runs independent fma chains per work-item in floatN
 * registers (several widths and chain counts tried; the best counts: the device's peak as
 * OpenCL reaches it); bandwidth is the best of a copy and a triad over buffers far larger than the
 * caches (STREAM convention: bytes named in the source, not write-allocate traffic). */
typedef struct bench_peaks {
    double gflops;    /* FP32 FMA rate, GFLOP/s (an FMA = 2 FLOPs) */
    double copy_gbs;  /* GB/s */
    double triad_gbs; /* GB/s */
    double gbs;       /* the better of the two */
    int fma_width;    /* N of the fastest floatN FMA kernel */
    int fma_chains;   /* and its number of independent chains */
    /* that kernel's launch, for bench_fma_now */
    cl_kernel fma_k;
    size_t fma_global, fma_local;
    double fma_per_iter;
    int fma_it;
} bench_peaks;

/* Median seconds of `reps` launches of kernel k (one profiling event each). */
static inline int bench_kernel_s(sc_ctx *ctx, cl_kernel k, size_t global, size_t local,
                                 int reps, double *secs)
{
    double t[64];
    if (reps > 64)
        reps = 64;
    for (int r = -1; r < reps; r++) {
        cl_event ev = NULL;
        SC_CL(clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &global, local ? &local : NULL, 0,
                                     NULL, &ev));
        double s = bench_event_s(ev);
        if (r >= 0)
            t[r] = s;
    }
    *secs = bench_median(t, reps);
    return SC_OK;
}

/* Measures the FMA rate and the memory bandwidth. `quick` shortens the runs (a few hundred
 * ms in all on a CPU). Needs a profiling context. */
static inline int bench_measure_peaks(sc_ctx *ctx, int quick, bench_peaks *pk)
{
    memset(pk, 0, sizeof *pk);
    /* Whatever the caller queued (buffer fills, uploads) must not share the device with the
     * measurement: bench_kernels measured half the FMA peak behind its own setup. */
    SC_TRY(sc_ctx_finish(ctx));
    int cpu = (ctx->dev.type & CL_DEVICE_TYPE_CPU) != 0;
    size_t cu = ctx->dev.compute_units ? ctx->dev.compute_units : 1;
    /* (width, chains) shapes; the register file decides which one reaches the peak. */
    static const int shapes[][2] = {{8, 8}, {8, 12}, {16, 4}, {16, 6}, {4, 12}};
    /* On a CPU a work-group is one thread's loop: 1 or 8 items per group, a few groups per
     * core. On a GPU, 256-item groups, many per compute unit. */
    const size_t locals_cpu[2] = {1, 8}, locals_gpu[1] = {256};
    const size_t *locals = cpu ? locals_cpu : locals_gpu;
    int nlocals = cpu ? 2 : 1;
    double target = (cpu ? 1e9 : 2e11) * (quick ? 0.5 : 2.0); /* FLOPs per launch */
    cl_mem out;
    size_t most = 256 * 64 * cu;
    SC_TRY(sc_buffer_alloc(ctx, &out, most * sizeof(float), "peak output"));
    /* A quick pass over the shapes picks the fastest; then that one is timed `reps` times
     * and its median is the peak. (The maximum over many short runs would report the
     * luckiest moment of a shared machine, not what the other figures of the run saw.) */
    cl_kernel best_k = NULL;
    size_t best_global = 0, best_local = 0;
    double best_rate = 0, best_per_iter = 0;
    int best_it = 0;
    /* Two passes over the shapes, the first a warm-up: right after the context is made
     * the first launches ran on one core of two (half the peak) in some runs. */
    for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < (int)(sizeof shapes / sizeof shapes[0]); i++) {
        char defs[64];
        snprintf(defs, sizeof defs, "#define PEAK_W %d\n#define PEAK_CHAINS %d\n", shapes[i][0],
                 shapes[i][1]);
        cl_kernel k = sc_kernel(ctx, "bench", defs, "peak_fma");
        if (!k) {
            clReleaseMemObject(out);
            return SC_ERR;
        }
        for (int l = 0; l < nlocals; l++) {
            size_t local = sc_kernel_wg(ctx, k, locals[l]);
            size_t global = (cpu ? 16 : 64) * cu * local;
            if (global > most)
                global = most / local * local;
            double per_iter = 2.0 * shapes[i][0] * shapes[i][1] * (double)global;
            int it = (int)(target / per_iter) + 1;
            float a = 0.999999f, b = 1e-6f;
            double secs = 0;
            if (sc_kernel_args(k, 4, SC_ARG(out), SC_ARG(a), SC_ARG(b), SC_ARG(it)) != SC_OK ||
                bench_kernel_s(ctx, k, global, local, 1, &secs) != SC_OK) {
                clReleaseMemObject(out);
                return SC_ERR;
            }
            double g = secs > 0 ? 1e-9 * per_iter * it / secs : 0.0;
            if (pass == 1 && g > best_rate) {
                best_rate = g;
                best_k = k;
                best_global = global;
                best_local = local;
                best_per_iter = per_iter;
                best_it = it;
                pk->fma_width = shapes[i][0];
                pk->fma_chains = shapes[i][1];
            }
        }
    }
    if (best_k) {
        float a = 0.999999f, b = 1e-6f;
        double secs = 0;
        if (sc_kernel_args(best_k, 4, SC_ARG(out), SC_ARG(a), SC_ARG(b), SC_ARG(best_it)) !=
                SC_OK ||
            bench_kernel_s(ctx, best_k, best_global, best_local, quick ? 5 : 9, &secs) != SC_OK) {
            clReleaseMemObject(out);
            return SC_ERR;
        }
        pk->gflops = secs > 0 ? 1e-9 * best_per_iter * best_it / secs : 0.0;
        pk->fma_k = best_k;
        pk->fma_global = best_global;
        pk->fma_local = best_local;
        pk->fma_per_iter = best_per_iter;
        pk->fma_it = best_it;
    }
    clReleaseMemObject(out);

    /* Bandwidth: 3 buffers of 64 MiB (CPU, > L3) or 256 MiB (GPU), float4 accesses. */
    size_t bytes = (size_t)(cpu ? 64 : 256) << 20;
    if (quick)
        bytes /= 2;
    if (bytes > ctx->dev.max_alloc)
        bytes = (size_t)ctx->dev.max_alloc / 4 * 4;
    size_t n4 = bytes / 16;
    cl_mem x, y, z;
    SC_TRY(sc_buffer_alloc(ctx, &x, bytes, "bandwidth buffer"));
    if (sc_buffer_alloc(ctx, &y, bytes, "bandwidth buffer") != SC_OK) {
        clReleaseMemObject(x);
        return SC_ERR;
    }
    if (sc_buffer_alloc(ctx, &z, bytes, "bandwidth buffer") != SC_OK) {
        clReleaseMemObject(x);
        clReleaseMemObject(y);
        return SC_ERR;
    }
    int rc = SC_OK;
    cl_kernel kc = sc_kernel(ctx, "bench", NULL, "bw_copy");
    cl_kernel kt = sc_kernel(ctx, "bench", NULL, "bw_triad");
    if (!kc || !kt)
        rc = SC_ERR;
    int n = (int)n4;
    float s3 = 3.0f;
    double tc = 0, tt = 0;
    if (rc == SC_OK)
        rc = sc_kernel_args(kc, 3, SC_ARG(x), SC_ARG(y), SC_ARG(n));
    if (rc == SC_OK)
        rc = sc_kernel_args(kt, 5, SC_ARG(x), SC_ARG(y), SC_ARG(z), SC_ARG(s3), SC_ARG(n));
    size_t local = cpu ? 64 : 256;
    if (rc == SC_OK)
        rc = bench_kernel_s(ctx, kc, sc_round_up(n4, local), sc_kernel_wg(ctx, kc, local),
                            quick ? 3 : 7, &tc);
    if (rc == SC_OK)
        rc = bench_kernel_s(ctx, kt, sc_round_up(n4, local), sc_kernel_wg(ctx, kt, local),
                            quick ? 3 : 7, &tt);
    clReleaseMemObject(x);
    clReleaseMemObject(y);
    clReleaseMemObject(z);
    SC_TRY(rc);
    pk->copy_gbs = tc > 0 ? 1e-9 * 2.0 * (double)bytes / tc : 0.0;
    pk->triad_gbs = tt > 0 ? 1e-9 * 3.0 * (double)bytes / tt : 0.0;
    pk->gbs = pk->copy_gbs > pk->triad_gbs ? pk->copy_gbs : pk->triad_gbs;
    return SC_OK;
}

/* The FMA rate again, now: the fastest kernel bench_measure_peaks found, half as
 * long, median of 5. On a shared machine the load moves within a run (the start and end
 * peaks of one bench_gemm run differed by up to 50%), so a figure is best set against the
 * peak measured around it (this, then bench_fma_after). */
static inline int bench_fma_now(sc_ctx *ctx, const bench_peaks *pk, double *gflops)
{
    *gflops = pk->gflops;
    if (!pk->fma_k)
        return SC_OK;
    SC_TRY(sc_ctx_finish(ctx));
    cl_mem out;
    SC_TRY(sc_buffer_alloc(ctx, &out, pk->fma_global * sizeof(float), "peak output"));
    int it = pk->fma_it / 2 + 1;
    float a = 0.999999f, b = 1e-6f;
    double secs = 0;
    int rc = sc_kernel_args(pk->fma_k, 4, SC_ARG(out), SC_ARG(a), SC_ARG(b), SC_ARG(it));
    if (rc == SC_OK)
        rc = bench_kernel_s(ctx, pk->fma_k, pk->fma_global, pk->fma_local, 5, &secs);
    clReleaseMemObject(out);
    if (rc == SC_OK && secs > 0)
        *gflops = 1e-9 * pk->fma_per_iter * it / secs;
    return rc;
}

/* The FMA peak again after a timed op: *peak becomes the higher of this reading and the one
 * before the op. A single reading can land in a moment another job took the cores (the
 * first of a run read 92-97 GFLOP/s where the rest read 170-190) and would set the op
 * against a peak it never saw; the higher of the two is the conservative figure. */
static inline int bench_fma_after(sc_ctx *ctx, const bench_peaks *pk, double *peak)
{
    double now;
    SC_TRY(bench_fma_now(ctx, pk, &now));
    if (now > *peak)
        *peak = now;
    return SC_OK;
}

static inline void bench_print_peaks(const sc_ctx *ctx, const bench_peaks *pk)
{
    printf("device: %s | %s | %s\n", ctx->dev.name, ctx->dev.version, ctx->dev.driver);
    printf("peak FP32 FMA: %.1f GFLOP/s (%d float%d chains); memory: copy %.1f GB/s, triad "
           "%.1f GB/s\n",
           pk->gflops, pk->fma_chains, pk->fma_width, pk->copy_gbs, pk->triad_gbs);
}

/* Measures the peaks again at the end of a run and says how far they moved: on a shared
 * machine the load changes during a run, and the % columns (against the first
 * measurement) are only as good as that drift. */
static inline void bench_print_drift(sc_ctx *ctx, const bench_peaks *start)
{
    bench_peaks end;
    if (bench_measure_peaks(ctx, 1, &end) != SC_OK)
        return;
    printf("peaks again at the end: FMA %.1f GFLOP/s (%+.0f%%), memory %.1f GB/s (%+.0f%%)%s\n",
           end.gflops, 100.0 * (end.gflops / start->gflops - 1.0), end.gbs,
           100.0 * (end.gbs / start->gbs - 1.0),
           end.gflops > 1.2 * start->gflops || end.gflops < 0.8 * start->gflops
               ? ": the machine's load changed during the run, rerun for steadier ratios"
               : "");
}

#endif
