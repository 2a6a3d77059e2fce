/* SGEMM at the baseline network's shapes (bench/gemm_shapes.h; lfw_best's with --best):
 * CLBlast as shipped against the own kernels (cl/gemm.cl), each as median kernel time
 * (OpenCL profiling events), GFLOP/s and % of the FMA peak measured in the same run.
 *   bench_gemm [--best] [--quick] [--own-only] [--reps N] [--only TEXT] [--tune]
 *              [--tune-clblast] [--save] [--cached] [--host-blas] [device]
 * On a CPU device with the own GEMM, the convolutions' forward and weight-gradient GEMMs
 * that src/ops/conv.c gives an im2col matrix in panels (sc_gemm_panel) are also timed
 * that way, right after their row-major run, and a second table
 * compares the two and totals the shapes as the layers issue them.
 * --tune searches the own kernel's tile sizes over these shapes (coordinate descent from the
 * current ones), compares the best with CLBlast and, with --save, stores both choices in the
 * tuning store (siamcl/tuning.h) for every later run on this device.
 * --tune-clblast tries a few parameter sets for CLBlast's Xgemm kernel (its tuned entries
 * for CPUs, and sets without local memory, which PoCL runs without spilling) on the
 * selected shapes (by default conv4 and fc1: CLBlast is slow) and, with --save, keeps the
 * best when it beats CLBlast's own choice.
 * --cached times each selected shape again next to a copy whose largest dimension is halved
 * until A, B and C together fit CACHED_BYTES (the last-level cache): the same register
 * kernel and blocking with operands that no longer come from memory. A shape as slow cut
 * as whole is bound by the kernel's arithmetic, not by memory.
 * --host-blas (built with libopenblas-dev) times OpenBLAS's cblas_sgemm on the host CPU at
 * each selected shape next to the own kernel: what a mature CPU SGEMM reaches there. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "gemm_shapes.h"
#include "siamcl/ops_gemm.h"
#include "siamcl/tuning.h"

/* The shapes of this run: the baseline's, or lfw_best's with --best. */
static const gemm_shape *shapes = baseline_gemms;
static int nshapes = N_BASELINE_GEMMS;

typedef struct gemm_run {
    const gemm_shape *s;
    sc_gemm_backend backend;
    cl_mem a, b, c;
    int panel; /* B in panels (sc_gemm_panel), as conv.c lays out im2col on CPUs */
} gemm_run;

static int run_gemm(sc_ctx *ctx, void *user)
{
    const gemm_run *r = user;
    const gemm_shape *s = r->s;
    int ld[3];
    gemm_shape_ld(s, ld);
    if (r->panel)
        return sc_gemm_panel(ctx, s->tb, s->m, s->n, s->k, 1.0f, r->a, 0, ld[0], r->b, 0, 0.0f,
                             r->c, 0, ld[2], "gemm");
    return sc_gemm_on(ctx, r->backend, s->ta, s->tb, s->m, s->n, s->k, 1.0f, r->a, 0, ld[0],
                      r->b, 0, ld[1], 0.0f, r->c, 0, ld[2], "gemm");
}

/* Whether src/ops/conv.c gives this GEMM its im2col matrix in panels on ctx's device: the
 * forward and the weight gradient of a conv whose pixel count is a multiple of 16, on CPUs
 * with the own GEMM (conv.c, panel_layout). */
static int conv_panel(sc_ctx *ctx, const gemm_shape *s)
{
    return s->im2col && !s->ta && (s->tb ? s->k : s->n) % 16 == 0 &&
           (ctx->dev.type & CL_DEVICE_TYPE_CPU) && sc_gemm_backend_for(ctx) == SC_GEMM_OWN;
}

static int time_run(sc_ctx *ctx, gemm_run *r, int reps, double *secs)
{
    bench_result res;
    SC_TRY(bench_time(ctx, run_gemm, r, reps, &res, NULL, 0));
    *secs = res.kernel_s;
    return SC_OK;
}

static int time_shape(sc_ctx *ctx, sc_gemm_backend backend, const gemm_shape *s, cl_mem *bufs,
                      int reps, double *secs)
{
    gemm_run r = {s, backend, bufs[0], bufs[1], bufs[2], 0};
    return time_run(ctx, &r, reps, secs);
}

static int time_panel(sc_ctx *ctx, const gemm_shape *s, cl_mem *bufs, int reps, double *secs)
{
    gemm_run r = {s, SC_GEMM_OWN, bufs[0], bufs[1], bufs[2], 1};
    return time_run(ctx, &r, reps, secs);
}

/* What --cached cuts each shape to: well inside a 32 MiB L3 shared by both cores. */
#define CACHED_BYTES (8.0 * 1024 * 1024)

static gemm_shape cut_to_cache(const gemm_shape *s)
{
    gemm_shape c = *s;
    while (4.0 * ((double)c.m * c.k + (double)c.k * c.n + (double)c.m * c.n) > CACHED_BYTES) {
        int *big = c.m >= c.n && c.m >= c.k ? &c.m : c.n >= c.k ? &c.n : &c.k;
        if (*big < 2)
            break;
        *big /= 2;
    }
    return c;
}

static int selected(const gemm_shape *s, const char *only)
{
    return !only || strstr(s->name, only) != NULL;
}

/* Sum over the selected shapes of the own kernels' median times; FLT_MAX when the
 * parameters fail (a device may reject a tile size: too many registers, ...). */
static double own_total(sc_ctx *ctx, const sc_gemm_params *p, cl_mem *bufs, int reps,
                        const char *only)
{
    if (sc_gemm_params_set(ctx, p, 0) != SC_OK)
        return FLT_MAX;
    double total = 0;
    for (int i = 0; i < nshapes; i++) {
        double s;
        if (!selected(&shapes[i], only))
            continue;
        if (time_shape(ctx, SC_GEMM_OWN, &shapes[i], bufs, reps, &s) != SC_OK)
            return FLT_MAX;
        total += s;
    }
    return total;
}

static void print_params(const char *what, const sc_gemm_params *p, double secs)
{
    char text[160];
    sc_gemm_params_format(p, text, sizeof text);
    printf("  %-10s %-52s %9.2f ms\n", what, text, 1e3 * secs);
    fflush(stdout);
}

/* Coordinate descent: each group of fields in turn, keeping the best. */
static int tune(sc_ctx *ctx, cl_mem *bufs, int reps, const char *only, int save,
                double clblast_total)
{
    sc_gemm_params best;
    SC_TRY(sc_gemm_params_get(ctx, &best));
    double best_t = own_total(ctx, &best, bufs, reps, only);
    printf("tuning the own kernels over %s shapes (sum of median times):\n",
           only ? "the selected" : shapes == best_gemms ? "all lfw_best" : "all baseline");
    print_params("start", &best, best_t);
    /* Register block (vw x rm: the accumulators must fit the vector registers), rows per
     * item, K block, work-group size, then rows per block and blocks for tall C. */
    static const int blocks[][2] = {{16, 6}, {16, 4}, {16, 5}, {16, 3}, {8, 8}, {8, 6},
                                    {8, 4}, {4, 8}};
    static const int nrbs[] = {4, 8, 16, 24, 32};
    static const int nss[] = {1, 2, 4, 8, 16};
    static const int kbs[] = {16, 32, 64, 128, 256};
    static const int wgs[] = {1, 4, 16, 64, 256};
    static const int rmts[] = {3, 4, 5, 6, 8}; /* rows per register block, tall C */
    for (int pass = 0; pass < 8; pass++) {
        int n = pass == 0 ? 8 : 5;
        for (int i = 0; i < n; i++) {
            sc_gemm_params p = best;
            if (pass == 0) {
                p.vw = blocks[i][0];
                p.rm = blocks[i][1];
            } else if (pass == 1) {
                p.nrb = nrbs[i];
            } else if (pass == 2) {
                p.ns = nss[i];
            } else if (pass == 3) {
                p.kb = kbs[i];
            } else if (pass == 4) {
                p.kbt = kbs[i];
            } else if (pass == 5) {
                p.wg = wgs[i];
            } else if (pass == 6) {
                p.rmt = rmts[i];
            } else {
                p.nrbt = nrbs[i];
            }
            if (memcmp(&p, &best, sizeof p) == 0)
                continue;
            double t = own_total(ctx, &p, bufs, reps, only);
            print_params(t < best_t ? "better" : "tried", &p, t);
            if (t < best_t) {
                best_t = t;
                best = p;
            }
        }
    }
    SC_TRY(sc_gemm_params_set(ctx, &best, save));
    print_params("best", &best, best_t);
    sc_gemm_backend choice = SC_GEMM_OWN;
    if (clblast_total > 0 && clblast_total < best_t)
        choice = SC_GEMM_CLBLAST;
    if (clblast_total > 0)
        printf("backend: %s (own %.2f ms, CLBlast %.2f ms)\n", sc_gemm_backend_name(choice),
               1e3 * best_t, 1e3 * clblast_total);
    if (save) {
        SC_TRY(sc_gemm_backend_set(ctx, choice, 1));
        char path[1024];
        if (sc_tuning_path(ctx, path, sizeof path) == SC_OK)
            printf("saved to %s\n", path);
    }
    return SC_OK;
}

/* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
static const char *clblast_sets[] = {
    /* CLBlast 1.5's entries for Intel CPUs (default, i7-4790K, i7-2670QM) */
    "GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=8 MDIMC=8 MWG=32 NDIMB=8 NDIMC=8 NWG=64 SA=0 SB=0 "
    "STRM=0 STRN=0 VWM=4 VWN=4",
    "GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=8 MDIMC=8 MWG=128 NDIMB=8 NDIMC=8 NWG=128 SA=1 SB=1 "
    "STRM=1 STRN=0 VWM=1 VWN=8",
    "GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=8 MDIMC=8 MWG=128 NDIMB=16 NDIMC=8 NWG=128 SA=0 SB=1 "
    "STRM=1 STRN=1 VWM=1 VWN=8",
    /* no local memory (no barriers), 8 x 8 floats per work-item in float8 */
    "GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=8 MDIMC=8 MWG=64 NDIMB=8 NDIMC=8 NWG=64 SA=0 SB=0 "
    "STRM=0 STRN=0 VWM=8 VWN=8",
    "GEMMK=0 KREG=1 KWG=16 KWI=1 MDIMA=4 MDIMC=4 MWG=32 NDIMB=4 NDIMC=4 NWG=32 SA=0 SB=0 "
    "STRM=0 STRN=0 VWM=8 VWN=8",
    "GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=4 MDIMC=4 MWG=32 NDIMB=8 NDIMC=8 NWG=64 SA=0 SB=0 "
    "STRM=0 STRN=0 VWM=8 VWN=8",
    "GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=64 NDIMB=16 NDIMC=16 NWG=64 SA=0 SB=0 "
    "STRM=0 STRN=0 VWM=4 VWN=4",
};

static double clblast_total(sc_ctx *ctx, cl_mem *bufs, int reps, const char *only)
{
    double total = 0;
    for (int i = 0; i < nshapes; i++) {
        double s;
        if (!selected(&shapes[i], only))
            continue;
        if (time_shape(ctx, SC_GEMM_CLBLAST, &shapes[i], bufs, reps, &s) != SC_OK)
            return FLT_MAX;
        total += s;
    }
    return total;
}

static int tune_clblast(sc_ctx *ctx, cl_mem *bufs, int reps, const char *only, int save)
{
    printf("\ntuning CLBlast's Xgemm over %s (sum of median times):\n",
           only ? only : "the conv4 and fc1 shapes");
    double base = clblast_total(ctx, bufs, reps, only);
    printf("  %-8s %-100s %9.2f ms\n", "shipped", "(CLBlast's choice for this device)",
           1e3 * base);
    double best = base;
    int best_i = -1;
    for (int i = 0; i < (int)(sizeof clblast_sets / sizeof clblast_sets[0]); i++) {
        double t = FLT_MAX;
        if (sc_gemm_clblast_override(ctx, clblast_sets[i], 0) == SC_OK)
            t = clblast_total(ctx, bufs, reps, only);
        if (t == FLT_MAX)
            printf("  %-8s %-100s failed: %s\n", "tried", clblast_sets[i], sc_last_error());
        else
            printf("  %-8s %-100s %9.2f ms\n", t < best ? "better" : "tried", clblast_sets[i],
                   1e3 * t);
        fflush(stdout);
        if (t < best) {
            best = t;
            best_i = i;
        }
    }
    if (best_i < 0) {
        printf("CLBlast's own choice stays (no set was faster)\n");
        return SC_OK;
    }
    printf("best: %s (%.2fx CLBlast's choice)\n", clblast_sets[best_i], base / best);
    /* Leave the best in force for the rest of the run, saved when asked. */
    return sc_gemm_clblast_override(ctx, clblast_sets[best_i], save);
}

/* Each selected shape whole and cut to fit the cache, alternating, with the local peak
 * around each pair; prints both %peaks and the ratio of their GFLOP/s. */
static int cached_table(sc_ctx *ctx, const bench_peaks *pk, cl_mem *bufs, int reps,
                        const char *only)
{
    printf("\nthe same shapes with the largest dimension halved until A + B + C fit %.0f MiB "
           "(own kernel):\n%-34s | %6s | %6s %7s | %5s %5s %6s %9s %7s | %s\n",
           CACHED_BYTES / (1024 * 1024), "GEMM", "peak", "ms", "%peak", "m", "n", "k",
           "cut ms", "%peak", "cut/whole GFLOP/s");
    for (int i = 0; i < nshapes; i++) {
        const gemm_shape *s = &shapes[i];
        if (!selected(s, only))
            continue;
        gemm_shape c = cut_to_cache(s);
        double peak = 0, t = 0, tc = 0;
        SC_TRY(bench_fma_now(ctx, pk, &peak));
        SC_TRY(time_shape(ctx, SC_GEMM_OWN, s, bufs, reps, &t));
        SC_TRY(time_shape(ctx, SC_GEMM_OWN, &c, bufs, reps, &tc));
        SC_TRY(bench_fma_after(ctx, pk, &peak));
        double g = 1e-9 * gemm_shape_flops(s) / t, gc = 1e-9 * gemm_shape_flops(&c) / tc;
        printf("%-34s | %6.1f | %6.3f %6.1f%% | %5d %5d %6d %9.3f %6.1f%% | %5.2fx\n", s->name,
               peak, 1e3 * t, 100 * g / peak, c.m, c.n, c.k, 1e3 * tc, 100 * gc / peak, gc / g);
        fflush(stdout);
    }
    return SC_OK;
}

/* Totals of two timed backends over the shapes: all FLOPs, each one's time, and the FLOPs
 * each could have done in that time at the peaks measured around the shapes (for %peak). */
typedef struct totals {
    double flops, t[2], cap[2];
} totals;

static void totals_add(totals *s, double flops, double peak, double t0, double t1)
{
    s->flops += flops;
    s->t[0] += t0;
    s->t[1] += t1;
    s->cap[0] += 1e9 * peak * t0;
    s->cap[1] += 1e9 * peak * t1;
}

/* The convolutions' GEMMs with B in panels, each timed right after its row-major run in
 * the main table, and the totals with them in place of the row-major ones. */
static void print_issued(const totals *t, double top, const double *t_row, const double *t_pan,
                         const double *peaks, const char *only)
{
    printf("\nthe convolutions' GEMMs as src/ops/conv.c issues them on this device: the "
           "im2col matrix in panels of 16 columns (sc_gemm_panel)\n%-34s | %6s | %9s %6s | "
           "%9s %6s | %s\n",
           "GEMM", "peak", "row ms", "%peak", "panels ms", "%peak", "row/panels time");
    for (int i = 0; i < nshapes && i < 64; i++) {
        const gemm_shape *s = &shapes[i];
        if (!selected(s, only) || t_pan[i] <= 0)
            continue;
        double f = gemm_shape_flops(s);
        printf("%-34s | %6.1f | %9.3f %5.1f%% | %9.3f %5.1f%% | %5.2fx\n", s->name, peaks[i],
               1e3 * t_row[i], 100 * 1e-9 * f / t_row[i] / peaks[i], 1e3 * t_pan[i],
               100 * 1e-9 * f / t_pan[i] / peaks[i], t_row[i] / t_pan[i]);
    }
    double g = 1e-9 * t->flops / t->t[1];
    printf("%-34s | %6s | %9.3f %5.1f%% | %9.3f %5.1f%% | %5.2fx\n",
           "all, as the layers issue them", "", 1e3 * t->t[0], 100 * t->flops / t->cap[0],
           1e3 * t->t[1], 100 * t->flops / t->cap[1], t->t[0] / t->t[1]);
    printf("%-34s | %6.1f | %9s %6s | %9s %5.1f%% |\n", "  vs the run's best FMA reading", top,
           "", "", "", 100 * g / top);
}

#ifdef SIAMCL_HAVE_OPENBLAS
#include <cblas.h>
#include <time.h>

/* Median wall time of cblas_sgemm on host memory at shape s, after one warm-up call. */
static double host_blas_time(const gemm_shape *s, const float *a, const float *b, float *c,
                             int reps)
{
    double t[64];
    reps = reps > 64 ? 64 : reps;
    int ld[3];
    gemm_shape_ld(s, ld);
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now_s();
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, a, ld[0], b,
                    ld[1], 0.0f, c, ld[2]);
        if (r >= 0)
            t[r] = bench_now_s() - t0;
    }
    return bench_median(t, reps);
}

/* OpenBLAS's threads spin for a while after a call before they sleep; the FMA peak and the
 * own kernel are timed only after that, so that the two never share the cores. */
static void blas_settle(void)
{
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Each selected shape on the own kernel and on OpenBLAS (host CPU), alternating, with the
 * local FMA peak around each pair. On a CPU device both run on the same cores. */
static int host_blas_table(sc_ctx *ctx, const bench_peaks *pk, cl_mem *bufs, int reps,
                           const char *only, const size_t sizes[3])
{
    float *h[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        h[i] = malloc(sizes[i] * sizeof(float));
        if (!h[i]) {
            for (int j = 0; j < i; j++)
                free(h[j]);
            return sc_fail("out of host memory for the OpenBLAS operands");
        }
        for (size_t j = 0; j < sizes[i]; j++)
            h[i][j] = (float)((j * 2654435761u) % 1000) * 1e-3f - 0.5f;
    }
    printf("\nhost CPU SGEMM: OpenBLAS (%s, %d threads) on host memory, each shape next to the "
           "own kernel (median of %d; OpenBLAS by wall time, the own kernel by profiling "
           "events):\n%-34s | %6s | %9s %6s | %9s %6s | %s\n",
           openblas_get_config(), openblas_get_num_threads(), reps, "GEMM", "peak", "own ms",
           "%peak", "BLAS ms", "%peak", "own/BLAS time");
    totals all = {0};
    int rc = SC_OK;
    for (int i = 0; rc == SC_OK && i < nshapes; i++) {
        const gemm_shape *s = &shapes[i];
        if (!selected(s, only))
            continue;
        double peak = 0, t = 0, tb = 0, f = gemm_shape_flops(s);
        rc = bench_fma_now(ctx, pk, &peak);
        if (rc == SC_OK)
            rc = time_shape(ctx, SC_GEMM_OWN, s, bufs, reps, &t);
        if (rc == SC_OK) {
            tb = host_blas_time(s, h[0], h[1], h[2], reps);
            blas_settle();
            rc = bench_fma_after(ctx, pk, &peak);
        }
        if (rc != SC_OK)
            break;
        totals_add(&all, f, peak, t, tb);
        printf("%-34s | %6.1f | %9.3f %5.1f%% | %9.3f %5.1f%% | %5.2fx\n", s->name, peak,
               1e3 * t, 100 * 1e-9 * f / t / peak, 1e3 * tb, 100 * 1e-9 * f / tb / peak,
               t / tb);
        fflush(stdout);
    }
    if (rc == SC_OK && all.t[0] > 0)
        printf("%-34s | %6s | %9.3f %5.1f%% | %9.3f %5.1f%% | %5.2fx\n", "all shapes above", "",
               1e3 * all.t[0], 100 * all.flops / all.cap[0], 1e3 * all.t[1],
               100 * all.flops / all.cap[1], all.t[0] / all.t[1]);
    for (int i = 0; i < 3; i++)
        free(h[i]);
    return rc;
}
#endif

static int usage(void)
{
    fprintf(stderr, "usage: bench_gemm [--best] [--quick] [--own-only] [--reps N] [--only TEXT] "
                    "[--tune] [--tune-clblast] [--save] [--cached] [--host-blas] [device]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int quick = 0, own_only = 0, reps = 5, do_tune = 0, tune_cl = 0, save = 0, cached = 0;
    int host_blas = 0;
    const char *device = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--own-only") == 0)
            own_only = 1;
        else if (strcmp(argv[i], "--tune") == 0)
            do_tune = 1;
        else if (strcmp(argv[i], "--tune-clblast") == 0)
            tune_cl = 1;
        else if (strcmp(argv[i], "--save") == 0)
            save = 1;
        else if (strcmp(argv[i], "--cached") == 0)
            cached = 1;
        else if (strcmp(argv[i], "--host-blas") == 0)
            host_blas = 1;
        else if (strcmp(argv[i], "--best") == 0) {
            shapes = best_gemms;
            nshapes = N_BEST_GEMMS;
        }
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] == '-')
            return usage();
        else
            device = argv[i];
    }
    if (reps < 1)
        return usage();
#ifndef SIAMCL_HAVE_OPENBLAS
    if (host_blas) {
        fprintf(stderr, "bench_gemm: built without OpenBLAS; --host-blas needs libopenblas-dev "
                        "(scripts/deps.sh --bench) and a rebuild\n");
        return 2;
    }
#endif
    if (quick)
        reps = 3;
    sc_ctx *ctx;
    if (sc_ctx_create(&ctx, device, SC_CTX_PROFILE) != SC_OK) {
        fprintf(stderr, "bench_gemm: %s\n", sc_last_error());
        return 1;
    }
    if (ctx->warning[0])
        fprintf(stderr, "bench_gemm: %s\n", ctx->warning);

    /* One set of buffers for the largest operands. */
    size_t na = 0, nb = 0, nc = 0;
    for (int i = 0; i < nshapes; i++) {
        const gemm_shape *s = &shapes[i];
        size_t f[3];
        gemm_shape_floats(s, f);
        na = f[0] > na ? f[0] : na;
        nb = f[1] > nb ? f[1] : nb;
        nc = f[2] > nc ? f[2] : nc;
    }
    size_t most = na > nb ? (na > nc ? na : nc) : (nb > nc ? nb : nc);
    float *host = malloc(most * sizeof *host);
    cl_mem bufs[3] = {NULL, NULL, NULL};
    size_t sizes[3] = {na, nb, nc};
    int rc = host ? SC_OK : sc_fail("out of host memory");
    for (size_t i = 0; rc == SC_OK && i < most; i++)
        host[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    for (int i = 0; rc == SC_OK && i < 3; i++) {
        rc = sc_buffer_alloc(ctx, &bufs[i], sizes[i] * sizeof(float), "GEMM operand");
        if (rc == SC_OK && clEnqueueWriteBuffer(ctx->queue, bufs[i], CL_TRUE, 0,
                                                sizes[i] * sizeof(float), host, 0, NULL,
                                                NULL) != CL_SUCCESS)
            rc = sc_fail("uploading GEMM operands failed");
    }
    free(host);

    bench_peaks pk;
    if (rc == SC_OK)
        rc = bench_measure_peaks(ctx, 1, &pk);
    if (rc == SC_OK) {
        bench_print_peaks(ctx, &pk);
        sc_gemm_params p;
        char text[160];
        sc_gemm_params_get(ctx, &p);
        sc_gemm_params_format(&p, text, sizeof text);
        printf("default backend: %s; own kernel parameters: %s\n",
               sc_gemm_backend_name(sc_gemm_backend_for(ctx)), text);
        printf("median of %d (CLBlast: %d) repeats, kernel time from profiling events; %%peak "
               "against the FMA peak measured again around each shape (the higher of the "
               "readings before and after it: its 'peak' column)\n\n",
               reps, reps < 3 ? reps : 3);
        printf("%-34s %5s %5s %6s %-3s | %6s | %9s %7s %6s | %9s %7s %6s | %7s\n", "GEMM", "m",
               "n", "k", "op", "peak", "own ms", "GFLOP/s", "%peak", "CLBlast", "GFLOP/s",
               "%peak", "speedup");
    }
    /* the totals' %peak: all FLOPs over what the local peaks allowed in the time taken */
    totals all = {0}; /* [0] own, [1] CLBlast */
    /* the own kernel on row-major operands [0] and as the layers issue it [1]: B in panels
       where conv.c lays out im2col that way on this device */
    totals issued = {0};
    double t_row[64] = {0}, t_pan[64] = {0}, peaks[64] = {0};
    double top = rc == SC_OK ? pk.gflops : 0; /* the highest FMA reading of the run */
    for (int i = 0; rc == SC_OK && i < nshapes; i++) {
        const gemm_shape *s = &shapes[i];
        if (!selected(s, only))
            continue;
        double flops = gemm_shape_flops(s), t_own = 0, t_clb = 0, peak = 0;
        rc = bench_fma_now(ctx, &pk, &peak);
        if (rc == SC_OK)
            rc = time_shape(ctx, SC_GEMM_OWN, s, bufs, reps, &t_own);
        double t_issued = t_own;
        if (rc == SC_OK && conv_panel(ctx, s))
            rc = time_panel(ctx, s, bufs, reps, &t_issued);
        /* CLBlast runs at a few GFLOP/s on PoCL: fewer repeats keep the run short. */
        if (rc == SC_OK && !own_only)
            rc = time_shape(ctx, SC_GEMM_CLBLAST, s, bufs, reps < 3 ? reps : 3, &t_clb);
        if (rc == SC_OK)
            rc = bench_fma_after(ctx, &pk, &peak);
        if (rc != SC_OK)
            break;
        totals_add(&all, flops, peak, t_own, t_clb);
        totals_add(&issued, flops, peak, t_own, t_issued);
        if (i < 64) {
            t_row[i] = t_own;
            t_pan[i] = conv_panel(ctx, s) ? t_issued : 0;
            peaks[i] = peak;
        }
        top = peak > top ? peak : top;
        double g_own = 1e-9 * flops / t_own, g_clb = t_clb > 0 ? 1e-9 * flops / t_clb : 0;
        printf("%-34s %5d %5d %6d %c%c  | %6.1f | %9.3f %7.1f %5.1f%% | ", s->name, s->m, s->n,
               s->k, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', peak, 1e3 * t_own, g_own,
               100 * g_own / peak);
        if (own_only)
            printf("%9s %7s %6s | %7s\n", "-", "-", "-", "-");
        else
            printf("%9.3f %7.1f %5.1f%% | %6.1fx\n", 1e3 * t_clb, g_clb, 100 * g_clb / peak,
                   t_clb / t_own);
        fflush(stdout);
    }
    if (rc == SC_OK && all.t[0] > 0) {
        double g_own = 1e-9 * all.flops / all.t[0];
        printf("%-34s %5s %5s %6s %-3s | %6s | %9.3f %7.1f %5.1f%% | ", "all shapes above",
               "", "", "", "", "", 1e3 * all.t[0], g_own, 100 * all.flops / all.cap[0]);
        if (own_only || all.t[1] <= 0)
            printf("%9s %7s %6s | %7s\n", "-", "-", "-", "-");
        else {
            double g_clb = 1e-9 * all.flops / all.t[1];
            printf("%9.3f %7.1f %5.1f%% | %6.1fx\n", 1e3 * all.t[1], g_clb,
                   100 * all.flops / all.cap[1], all.t[1] / all.t[0]);
        }
        /* The local peaks excuse a shape timed while another job held a core only as far
           as the readings around it caught that job; against the best the device showed
           in this run nothing is excused (the conservative figure). */
        printf("%-34s %5s %5s %6s %-3s | %6.1f | %9s %7.1f %5.1f%% | ",
               "all, vs the run's best FMA reading", "", "", "", "", top, "", g_own,
               100 * g_own / top);
        if (own_only || all.t[1] <= 0)
            printf("%9s %7s %6s | %7s\n", "-", "-", "-", "-");
        else {
            double g_clb = 1e-9 * all.flops / all.t[1];
            printf("%9s %7.1f %5.1f%% | %7s\n", "", g_clb, 100 * g_clb / top, "");
        }
    }
    int any_panel = 0;
    for (int i = 0; i < nshapes && i < 64; i++)
        any_panel |= t_pan[i] > 0;
    if (rc == SC_OK && any_panel)
        print_issued(&issued, top, t_row, t_pan, peaks, only);
    if (rc == SC_OK && cached)
        rc = cached_table(ctx, &pk, bufs, reps, only);
#ifdef SIAMCL_HAVE_OPENBLAS
    if (rc == SC_OK && host_blas)
        rc = host_blas_table(ctx, &pk, bufs, reps, only, sizes);
#endif
    if (rc == SC_OK)
        bench_print_drift(ctx, &pk);
    if (rc == SC_OK && tune_cl)
        rc = tune_clblast(ctx, bufs, reps < 3 ? reps : 3, only ? only : "conv4", save);
    if (rc == SC_OK && do_tune)
        rc = tune(ctx, bufs, reps, only, save, own_only ? 0.0 : all.t[1]);
    for (int i = 0; i < 3; i++)
        if (bufs[i])
            clReleaseMemObject(bufs[i]);
    if (rc != SC_OK)
        fprintf(stderr, "bench_gemm: %s\n", sc_last_error());
    sc_ctx_destroy(ctx);
    return rc == SC_OK ? 0 : 1;
}
