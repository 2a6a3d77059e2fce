/* The own backend of sc_gemm: one launch of cl/gemm.cl's gemm_strip with the device's tile
 * sizes and the transposes as #defines (four programs at most per parameter set), or on
 * CPUs, for A B^T with long K and few rows, the split-K path of gemm_dot.c. */
#include <limits.h>
#include <stdio.h>

#include "gemm_internal.h"
#include "siamcl/error.h"

/* Above this C is written past the caches: conv4's 4.7 MB data gradient, read by col2im
 * right after, stays below it. */
#define STREAM_C_BYTES (8.0 * 1024 * 1024)

static size_t pow2_floor(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

/* Work-group shape for a grid of g0 row groups x g1 column strips: (1, l1). On a CPU a
 * work-group's items run one after the other, so neighbouring strips of the same row group
 * follow each other and share the rows of A in cache. PoCL compiles a kernel once per
 * work-group shape (a cold-start cost), so l1 takes few values: wg, wg / 4, wg / 16, ...,
 * the largest that still gives every compute unit a few groups. Items past the grid
 * return at once. */
static void pick_local(sc_ctx *ctx, cl_kernel k, int wg_param, size_t g0, size_t g1,
                       size_t local[2], size_t global[2])
{
    size_t l1 = pow2_floor(sc_kernel_wg(ctx, k, (size_t)wg_param));
    size_t want = 4 * (ctx->dev.compute_units ? ctx->dev.compute_units : 1);
    while (l1 > 1 && g0 * ((g1 + l1 - 1) / l1) < want)
        l1 = l1 >= 4 ? l1 / 4 : 1;
    local[0] = 1;
    local[1] = l1;
    global[0] = g0;
    global[1] = sc_round_up(g1, l1);
}

/* C with fewer rows than a work-item owns (the early convs' 16-32, a batch of 32): the
 * unused register blocks' share of private memory goes to more strips of columns instead,
 * so each row of B is read in longer runs (conv1's forward reads 147 rows of B ~512 KB apart,
 * too many streams for the hardware prefetcher), and the K block shrinks so that the copy
 * of B keeps its size. conv1's forward measured 1.22x faster, conv2's 1.38x. */
static void fit_short_c(sc_gemm_params *p, int m)
{
    int used = (m + p->rm - 1) / p->rm;
    if (used >= p->nrb)
        return;
    int ns = p->ns;
    while (ns * 2 <= SC_GEMM_MAX_NS && ns * 2 * used <= p->ns * p->nrb)
        ns *= 2;
    int kb = p->kb * p->ns / ns;
    p->kb = kb < 8 ? 8 : kb;
    p->ns = ns;
    p->nrb = used;
}

int sc_gemm_own_run(sc_ctx *ctx, const sc_gemm_call *g)
{
    if (g->a_off > INT_MAX || g->b_off > INT_MAX || g->c_off > INT_MAX)
        return sc_fail("%s: GEMM offsets beyond 2^31 floats (%zu, %zu, %zu) are not supported "
                       "by the own kernel",
                       g->label, g->a_off, g->b_off, g->c_off);
    if (sc_gemm_dot_fits(ctx, g))
        return sc_gemm_dot_run(ctx, g);
    sc_gemm_params p;
    SC_TRY(sc_gemm_params_get(ctx, &p));
    if (g->tb) {
        p.ns = 1;
        p.kb = g->b_panel ? (int)sc_round_up((size_t)p.kbt, 16) : p.kbt; /* whole panels */
    }
    if (g->m >= SC_GEMM_TALL_M) {
        p.rm = p.rmt;
        p.nrb = p.nrbt;
    }
    if (!g->tb)
        fit_short_c(&p, g->m);
    char defines[176];
    snprintf(defines, sizeof defines,
             "#define VW %d\n#define RM %d\n#define NRB %d\n#define NS %d\n#define KB %d\n"
             "#define TA %d\n#define TB %d\n%s",
             p.vw, p.rm, p.nrb, p.ns, p.kb, g->ta, g->tb, g->b_panel ? "#define PANEL 1\n" : "");
    cl_kernel k = sc_kernel(ctx, "gemm", defines, "gemm_strip");
    if (!k)
        return sc_fail_context("%s: own GEMM kernel (SIAMCL_GEMM=clblast bypasses it)",
                               g->label);
    int a_off = (int)g->a_off, b_off = (int)g->b_off, c_off = (int)g->c_off;
    /* C larger than a CPU's caches goes out with non-temporal stores (CPU builds only). */
    int stream_c = (double)g->m * (double)g->n * sizeof(float) > STREAM_C_BYTES;
    SC_TRY(sc_kernel_args(k, 15, SC_ARG(g->m), SC_ARG(g->n), SC_ARG(g->k), SC_ARG(g->alpha),
                          SC_ARG(g->a), SC_ARG(a_off), SC_ARG(g->lda), SC_ARG(g->b),
                          SC_ARG(b_off), SC_ARG(g->ldb), SC_ARG(g->beta), SC_ARG(g->c),
                          SC_ARG(c_off), SC_ARG(g->ldc), SC_ARG(stream_c)));
    size_t rows = (size_t)p.rm * (size_t)p.nrb;
    size_t g0 = ((size_t)g->m + rows - 1) / rows;
    size_t cols = (size_t)p.vw * (size_t)p.ns;
    size_t g1 = ((size_t)g->n + cols - 1) / cols;
    size_t local[2], global[2];
    pick_local(ctx, k, p.wg, g0, g1, local, global);
    return sc_launch(ctx, k, 2, global, local, g->label);
}

/* B in panels (sc_gemm_panel): A B through cl/gemm_panel.cl; A B^T with C's rows in the
 * vector lanes (gemm_panel_nt, gemm_dot.c) where it fits, else through gemm_strip or the
 * split-K kernel as for row-major B (sc_gemm_own_run), both with the panel addressing. */
int sc_gemm_panel_run(sc_ctx *ctx, const sc_gemm_call *g)
{
    if (g->tb)
        return sc_gemm_panel_nt_fits(ctx, g) ? sc_gemm_panel_nt_run(ctx, g)
                                             : sc_gemm_own_run(ctx, g);
    sc_gemm_params p;
    SC_TRY(sc_gemm_params_get(ctx, &p));
    /* rows per register block: 4 divides the early convs' 16-32 rows with no waste; taller
       C takes 6 (conv3's 64 rows: 1.10x over 4) */
    int rm = g->m <= 32 && g->m % 4 == 0 ? 4 : 6;
    int mb = g->m <= 48 ? g->m : 48; /* rows per work-item: A's rows stay in L1 */
    char defines[32];
    snprintf(defines, sizeof defines, "#define RM %d\n", rm);
    cl_kernel k = sc_kernel(ctx, "gemm_panel", defines, "gemm_panel");
    if (!k)
        return sc_fail_context("%s: own GEMM kernel for B in panels", g->label);
    int a_off = (int)g->a_off, b_off = (int)g->b_off, c_off = (int)g->c_off;
    int stream_c = (double)g->m * (double)g->n * sizeof(float) > STREAM_C_BYTES;
    SC_TRY(sc_kernel_args(k, 15, SC_ARG(g->m), SC_ARG(g->n), SC_ARG(g->k), SC_ARG(g->alpha),
                          SC_ARG(g->a), SC_ARG(a_off), SC_ARG(g->lda), SC_ARG(g->b),
                          SC_ARG(b_off), SC_ARG(g->beta), SC_ARG(g->c), SC_ARG(c_off),
                          SC_ARG(g->ldc), SC_ARG(mb), SC_ARG(stream_c)));
    size_t local[2], global[2];
    pick_local(ctx, k, p.wg, ((size_t)g->m + mb - 1) / mb, (size_t)g->n / 16, local, global);
    return sc_launch(ctx, k, 2, global, local, g->label);
}
