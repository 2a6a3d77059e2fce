/* The own backend's split-K paths for C = A B^T with long K: the weight gradients, whose K
 * is images x pixels and whose C is small. One launch over (blocks of C) x (groups of K)
 * of cl/gemm_dot.cl's gemm_dot (B row-major or in panels), or of cl/gemm.cl's gemm_panel_nt
 * (B in panels, C of 16 or 32 rows), then cl/gemm_sum.cl adds the groups into C. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_internal.h"
#include "siamcl/error.h"
#include "siamcl/tensor.h"

#define DOT_MR 4  /* rows of A per tile */
#define DOT_NR 3  /* rows of B per tile: 12 accumulators of float8 */
#define DOT_SUMS 16384 /* floats of private sums per work-item: mm x nb */
#define DOT_KC 1024 /* K chunk: 1.1x faster than 512 at the baseline's conv1-2 */
/* K chunk when B is in panels (sc_gemm_panel): 16 panels, so that a tile's rows are a line
 * of each of 16 panels and the chunk stays in L2 for the next tiles. Chosen when the
 * baseline's conv1-2 weight gradients came here (they now take gemm_panel_nt): against
 * row-major B with chunks of 1024, 1.08x and 0.99x; chunks of 512 0.73-0.84x, of 128
 * 0.88-0.91x. The shapes left here (B short next to A: lfw_best's first layer, 32 x 27)
 * measured the same with chunks of 256 to 2048, at 0.77-0.80x of row-major B. */
#define DOT_KC_PANEL 256

/* Where it beats gemm_strip (SIAMCL_GEMM_SPLITK=0 / 1 bench_gemm, 5 alternating rounds,
 * medians of the ratios): the baseline's conv1 weight gradient (16 x 147 x 131072) 1.41x,
 * conv2's (32 x 400 x 32768) 1.15x, lfw_best's first (32 x 27 x 262144) 1.21x. Forced onto
 * taller C in a scratch build it lost: 0.9-1.0x at 64 rows and K = 8192 (conv3), 0.8x at
 * 128 rows (conv4). The private copies are sized for CPUs: other devices never take it. */
int sc_gemm_dot_fits(const sc_ctx *ctx, const sc_gemm_call *g)
{
    static int env = -1; /* SIAMCL_GEMM_SPLITK=0 turns the path off (A/B against gemm_strip) */
    if (env < 0) {
        const char *e = getenv("SIAMCL_GEMM_SPLITK");
        env = !(e && strcmp(e, "0") == 0);
    }
    return env && (ctx->dev.type & CL_DEVICE_TYPE_CPU) && !g->ta && g->tb && g->m <= 32 &&
           g->k >= 8192 && g->k >= 16 * g->n;
}

/* The partial sums' buffer, grown (never shrunk) to at least `bytes`. The queue is in
 * order, so one buffer serves every call; a replaced one is released by OpenCL only after
 * the commands that use it. */
static int part_buffer(sc_ctx *ctx, size_t bytes, const char *label)
{
    if (ctx->gemm_part && ctx->gemm_part_bytes >= bytes)
        return SC_OK;
    if (ctx->gemm_part)
        clReleaseMemObject(ctx->gemm_part);
    ctx->gemm_part = NULL;
    ctx->gemm_part_bytes = 0;
    if (sc_buffer_alloc(ctx, &ctx->gemm_part, bytes, "split-K GEMM partial sums") != SC_OK)
        return sc_fail_context("%s", label);
    ctx->gemm_part_bytes = bytes;
    return SC_OK;
}

/* The split-K launch: kernel k (its first 10 arguments set here: M, N, K, A, a_off, lda, B,
 * b_off, ldb, kg; then part) over `blocks` x (groups of K in chunks of kc), then gemm_sum. */
static int split_k(sc_ctx *ctx, const sc_gemm_call *g, cl_kernel k, size_t blocks, int kc)
{
    size_t chunks = ((size_t)g->k + kc - 1) / kc;
    /* groups of K: enough work-items for a few per compute unit */
    size_t want = 8 * (ctx->dev.compute_units ? ctx->dev.compute_units : 1);
    size_t groups = (want + blocks - 1) / blocks;
    groups = groups < 1 ? 1 : groups > chunks ? chunks : groups;
    size_t per = (chunks + groups - 1) / groups;
    groups = (chunks + per - 1) / per;
    if (per * kc > INT_MAX || groups > INT_MAX)
        return sc_fail("%s: K = %d too long for the split-K GEMM", g->label, g->k);
    int kg = (int)(per * kc), ngroups = (int)groups;
    SC_TRY(part_buffer(ctx, groups * (size_t)g->m * (size_t)g->n * sizeof(float), g->label));
    cl_kernel sum = sc_kernel(ctx, "gemm_sum", "", "gemm_sum");
    if (!sum)
        return sc_fail_context("%s: split-K GEMM sum kernel", g->label);
    int a_off = (int)g->a_off, b_off = (int)g->b_off, c_off = (int)g->c_off;
    SC_TRY(sc_kernel_args(k, 11, SC_ARG(g->m), SC_ARG(g->n), SC_ARG(g->k), SC_ARG(g->a),
                          SC_ARG(a_off), SC_ARG(g->lda), SC_ARG(g->b), SC_ARG(b_off),
                          SC_ARG(g->ldb), SC_ARG(kg), SC_ARG(ctx->gemm_part)));
    size_t local[2] = {1, 1}, global[2] = {blocks, groups};
    SC_TRY(sc_launch(ctx, k, 2, global, local, g->label));
    SC_TRY(sc_kernel_args(sum, 9, SC_ARG(g->m), SC_ARG(g->n), SC_ARG(ngroups),
                          SC_ARG(ctx->gemm_part), SC_ARG(g->alpha), SC_ARG(g->beta),
                          SC_ARG(g->c), SC_ARG(c_off), SC_ARG(g->ldc)));
    size_t sglobal[2] = {sc_round_up((size_t)g->n, 16), (size_t)g->m};
    size_t slocal[2] = {16, 1};
    return sc_launch(ctx, sum, 2, sglobal, slocal, g->label);
}

int sc_gemm_dot_run(sc_ctx *ctx, const sc_gemm_call *g)
{
    int mm = (int)sc_round_up((size_t)g->m, DOT_MR);
    /* A's chunk in private memory: mm x kc floats, at most 128 KB (mm <= 32) */
    int kc = g->b_panel ? DOT_KC_PANEL : DOT_KC;
    /* rows of B per work-item: all of them when the sums fit, so that A is read once */
    int nb = (int)sc_round_up((size_t)g->n, DOT_NR);
    if (nb > DOT_SUMS / mm)
        nb = DOT_SUMS / mm / DOT_NR * DOT_NR;
    size_t blocks = ((size_t)g->n + nb - 1) / nb;
    char defines[160];
    snprintf(defines, sizeof defines,
             "#define MM %d\n#define KC %d\n#define NB %d\n#define MR %d\n#define NR %d\n%s",
             mm, kc, nb, DOT_MR, DOT_NR, g->b_panel ? "#define PANEL 1\n" : "");
    cl_kernel k = sc_kernel(ctx, "gemm_dot", defines, "gemm_dot");
    if (!k)
        return sc_fail_context("%s: split-K GEMM kernel", g->label);
    return split_k(ctx, g, k, blocks, kc);
}

/* gemm_panel_nt (cl/gemm.cl): C's rows in the vector lanes, for B in panels. Against
 * gemm_dot on the same panels (a scratch A/B harness, 11-15 alternating rounds, medians of
 * the ratios): the baseline's conv1 weight gradient 1.37x, conv2's 1.26x. Chunks of 64:
 * 1.0-1.1x over 32 and 128, 0.8x at 16 or 256-512. On taller C (conv3-4's 64-128 rows, two
 * or four blocks of 32, each reading all of B) it measured 1.0-1.05x: those keep
 * gemm_strip. Where A is as large as B (lfw_best's first layer, 32 x 27 x 262144) its
 * transposed copy of A costs more than the FMAs it feeds: 0.79x, so B must have 4x the
 * rows of A. */
#define PNT_KC 64
#define PNT_SUMS 16384 /* floats of private sums per work-item */

int sc_gemm_panel_nt_fits(const sc_ctx *ctx, const sc_gemm_call *g)
{
    static int env = -1; /* SIAMCL_GEMM_PANEL_NT=0 turns it off (A/B against gemm_dot) */
    if (env < 0) {
        const char *e = getenv("SIAMCL_GEMM_PANEL_NT");
        env = !(e && strcmp(e, "0") == 0);
    }
    return env && g->b_panel && (ctx->dev.type & CL_DEVICE_TYPE_CPU) && !g->ta && g->tb &&
           (g->m == 16 || g->m == 32) && g->n >= 4 * g->m && g->k >= 4096 &&
           sc_round_up((size_t)g->n, 6) * 16 * 2 <= PNT_SUMS;
}

int sc_gemm_panel_nt_run(sc_ctx *ctx, const sc_gemm_call *g)
{
    int mv = g->m / 16, nr = 6 / mv; /* 12 ymm accumulators either way */
    char defines[96];
    snprintf(defines, sizeof defines,
             "#define MV %d\n#define NR %d\n#define KC %d\n#define CS %d\n", mv, nr, PNT_KC,
             PNT_SUMS / 16);
    cl_kernel k = sc_kernel(ctx, "gemm", defines, "gemm_panel_nt");
    if (!k)
        return sc_fail_context("%s: split-K GEMM kernel for B in panels", g->label);
    return split_k(ctx, g, k, 1, PNT_KC);
}
