/* sc_gemm: one front end for every SGEMM in the library. It checks the call (so mistakes
 * are reported in our words whatever the backend), then hands it to the backend chosen
 * for the device: our kernels (gemm_own.c) or CLBlast (gemm_clblast.c). The choice and the
 * own kernels' tile sizes are per device, resolved once per process: $SIAMCL_GEMM, then the
 * tuning store (what bench_gemm --tune measured), then defaults by device type. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_internal.h"
#include "siamcl/error.h"
#include "siamcl/tuning.h"

/* ---- per-device choices --------------------------------------------------------------- */

typedef struct dev_state {
    cl_device_id dev;
    sc_gemm_backend backend;
    int env_backend; /* $SIAMCL_GEMM decided it: sc_gemm_backend_set does not override */
    sc_gemm_params params;
} dev_state;

#define MAX_DEVICES 16
static dev_state states[MAX_DEVICES];
static int nstates;
static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;

static sc_gemm_params default_params(const sc_ctx *ctx)
{
    if (ctx->dev.type & CL_DEVICE_TYPE_CPU) {
        /* AVX2-class CPUs have 16 vector registers: 4 rows x float16 = 8 accumulators + 2
         * for the row of B + 1 broadcast. 64 rows per item: B is read once for the forward
         * conv GEMMs of the baseline. 4 strips per item read B's rows in runs of 256 bytes;
         * the private copy of B (8 KiB) and the parked accumulators (16 KiB) fit L1.
         * Measured on PoCL (AMD EPYC, AVX2) against the other shapes bench_gemm --tune
         * tries: 10-30% better than 6 rows and one strip at the conv1-2 shapes. With B
         * transposed (weight gradients) one strip and K blocks of 128 are 2-3x faster.
         * C of 64 rows or more: 6 rows x float16 = 12 accumulators, the 10 independent
         * FMA chains a 2-pipe, 5-cycle FMA needs, and 144 rows an item: 1.1-1.25x at
         * lfw_best's and the baseline's tall shapes (bench_gemm, same run). */
        sc_gemm_params p = {16, 4, 16, 4, 32, 128, 16, 6, 24};
        return p;
    }
    sc_gemm_params p = {4, 4, 4, 1, 32, 32, 64, 4, 4};
    return p;
}

static int parse_backend(const char *s, sc_gemm_backend *out)
{
    if (strcmp(s, "own") == 0)
        *out = SC_GEMM_OWN;
    else if (strcmp(s, "clblast") == 0)
        *out = SC_GEMM_CLBLAST;
    else if (strcmp(s, "auto") == 0 || !*s)
        *out = SC_GEMM_AUTO;
    else
        return SC_ERR;
    return SC_OK;
}

/* Fills a fresh state for ctx's device. Unusable saved values are ignored (the defaults
 * stay), so a stale tuning file can never stop the library from working. */
static void init_state(sc_ctx *ctx, dev_state *s)
{
    memset(s, 0, sizeof *s);
    s->dev = ctx->dev.device;
    s->params = default_params(ctx);
    char text[256];
    sc_gemm_params p;
    if (sc_tuning_get(ctx, "gemm.params", text, sizeof text) &&
        sc_gemm_params_parse(text, &p) == SC_OK)
        s->params = p;

    sc_gemm_backend b = SC_GEMM_AUTO;
    const char *env = getenv("SIAMCL_GEMM");
    if (env && parse_backend(env, &b) == SC_OK && b != SC_GEMM_AUTO)
        s->env_backend = 1;
    if (b == SC_GEMM_AUTO && sc_tuning_get(ctx, "gemm.backend", text, sizeof text) &&
        parse_backend(text, &b) != SC_OK)
        b = SC_GEMM_AUTO;
    if (b == SC_GEMM_AUTO)
        b = (ctx->dev.type & CL_DEVICE_TYPE_CPU) ? SC_GEMM_OWN : SC_GEMM_CLBLAST;
    s->backend = b;
}

/* The state of ctx's device, created on first use. Never NULL: with the table full (more
 * than MAX_DEVICES devices in one process) the last slot is re-initialised. */
static dev_state *lock_state(sc_ctx *ctx)
{
    pthread_mutex_lock(&states_lock);
    for (int i = 0; i < nstates; i++)
        if (states[i].dev == ctx->dev.device)
            return &states[i];
    dev_state *s = &states[nstates < MAX_DEVICES ? nstates++ : MAX_DEVICES - 1];
    init_state(ctx, s);
    return s;
}

static void unlock_state(void)
{
    pthread_mutex_unlock(&states_lock);
}

sc_gemm_backend sc_gemm_backend_for(sc_ctx *ctx)
{
    sc_gemm_backend b = lock_state(ctx)->backend;
    unlock_state();
    return b;
}

const char *sc_gemm_backend_name(sc_gemm_backend backend)
{
    switch (backend) {
    case SC_GEMM_OWN:
        return "own";
    case SC_GEMM_CLBLAST:
        return "clblast";
    default:
        return "auto";
    }
}

int sc_gemm_backend_set(sc_ctx *ctx, sc_gemm_backend backend, int save)
{
    if (backend != SC_GEMM_OWN && backend != SC_GEMM_CLBLAST)
        return sc_fail("sc_gemm_backend_set: backend must be own or clblast, not %s",
                       sc_gemm_backend_name(backend));
    dev_state *s = lock_state(ctx);
    if (!s->env_backend)
        s->backend = backend;
    unlock_state();
    return save ? sc_tuning_set(ctx, "gemm.backend", sc_gemm_backend_name(backend)) : SC_OK;
}

int sc_gemm_params_get(sc_ctx *ctx, sc_gemm_params *out)
{
    *out = lock_state(ctx)->params;
    unlock_state();
    return SC_OK;
}

static int pow2_in(int v, int lo, int hi)
{
    return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static int check_params(const sc_gemm_params *p)
{
    if ((p->vw != 4 && p->vw != 8 && p->vw != 16) || p->rm < 1 || p->rm > 8 || p->nrb < 1 ||
        p->nrb > 32 || p->ns < 1 || p->ns > SC_GEMM_MAX_NS || p->kb < 8 || p->kb > 512 ||
        p->kbt < 8 || p->kbt > 512 || !pow2_in(p->wg, 1, 1024) || p->rmt < 1 || p->rmt > 8 ||
        p->nrbt < 1 || p->nrbt > 32) {
        char text[160];
        sc_gemm_params_format(p, text, sizeof text);
        return sc_fail("bad GEMM parameters '%s' (vw in 4/8/16, rm and rmt 1..8, nrb and nrbt "
                       "1..32, ns 1..16, kb and kbt 8..512, wg a power of two <= 1024)",
                       text);
    }
    return SC_OK;
}

int sc_gemm_params_set(sc_ctx *ctx, const sc_gemm_params *p, int save)
{
    SC_TRY(check_params(p));
    lock_state(ctx)->params = *p;
    unlock_state();
    if (!save)
        return SC_OK;
    char text[160];
    sc_gemm_params_format(p, text, sizeof text);
    return sc_tuning_set(ctx, "gemm.params", text);
}

void sc_gemm_params_format(const sc_gemm_params *p, char *buf, size_t size)
{
    snprintf(buf, size, "vw=%d rm=%d nrb=%d ns=%d kb=%d kbt=%d wg=%d rmt=%d nrbt=%d", p->vw,
             p->rm, p->nrb, p->ns, p->kb, p->kbt, p->wg, p->rmt, p->nrbt);
}

int sc_gemm_params_parse(const char *text, sc_gemm_params *out)
{
    enum { NF = 9 };
    static const char *names[NF] = {"vw", "rm", "nrb", "ns", "kb", "kbt", "wg", "rmt", "nrbt"};
    int vals[NF], seen[NF] = {0};
    const char *s = text;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        char name[16];
        int n = 0, consumed = 0;
        if (sscanf(s, "%15[a-z_]=%d%n", name, &n, &consumed) != 2)
            return sc_fail("GEMM parameters '%s': expected name=integer at '%s'", text, s);
        int f = -1;
        for (int i = 0; i < NF; i++)
            if (strcmp(name, names[i]) == 0)
                f = i;
        if (f < 0)
            return sc_fail("GEMM parameters '%s': unknown field '%s'", text, name);
        vals[f] = n;
        seen[f] = 1;
        s += consumed;
    }
    for (int i = 0; i < NF; i++)
        if (!seen[i])
            return sc_fail("GEMM parameters '%s': field '%s' missing", text, names[i]);
    sc_gemm_params p = {vals[0], vals[1], vals[2], vals[3],
                        vals[4], vals[5], vals[6], vals[7], vals[8]};
    SC_TRY(check_params(&p));
    *out = p;
    return SC_OK;
}

/* ---- the call -------------------------------------------------------------------------- */

/* The matrix rows x cols with leading dimension ld at off must lie inside buf. */
static int check_extent(const char *label, const char *which, cl_mem buf, size_t off, int rows,
                        int cols, int ld)
{
    if (!buf)
        return sc_fail("%s: GEMM matrix %s has no buffer", label, which);
    size_t bytes = 0;
    SC_CL(clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof bytes, &bytes, NULL));
    size_t need = off + (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
    if (need > bytes / sizeof(float))
        return sc_fail("%s: GEMM matrix %s (%d x %d, leading dimension %d, offset %zu) needs "
                       "%zu floats, its buffer holds %zu",
                       label, which, rows, cols, ld, off, need, bytes / sizeof(float));
    return SC_OK;
}

/* What every entry checks first: the shape, and *label ("gemm" when NULL). *empty: m or n
 * is 0, a no-op. */
static int check_shape(const char **label, int m, int n, int k, int *empty)
{
    if (!*label)
        *label = "gemm";
    *empty = m == 0 || n == 0;
    if (m < 0 || n < 0 || k <= 0)
        return sc_fail("%s: bad GEMM shape m=%d n=%d k=%d (m, n >= 0, k > 0)", *label, m, n,
                       k);
    return SC_OK;
}

int sc_gemm_on(sc_ctx *ctx, sc_gemm_backend backend, int trans_a, int trans_b, int m, int n,
               int k, float alpha, cl_mem a, size_t a_off, int lda, cl_mem b, size_t b_off,
               int ldb, float beta, cl_mem c, size_t c_off, int ldc, const char *label)
{
    int empty;
    SC_TRY(check_shape(&label, m, n, k, &empty));
    if (empty)
        return SC_OK;
    /* Row-major: the stored row length of A is k (or m when transposed), and so on. */
    int a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    int b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    if (lda < a_cols || ldb < b_cols || ldc < n)
        return sc_fail("%s: GEMM leading dimensions too small: lda=%d (need >= %d), "
                       "ldb=%d (need >= %d), ldc=%d (need >= %d)",
                       label, lda, a_cols, ldb, b_cols, ldc, n);
    SC_TRY(check_extent(label, "A", a, a_off, a_rows, a_cols, lda));
    SC_TRY(check_extent(label, "B", b, b_off, b_rows, b_cols, ldb));
    SC_TRY(check_extent(label, "C", c, c_off, m, n, ldc));
    sc_gemm_call g = {trans_a != 0, trans_b != 0, m, n, k, alpha, beta, a, b, c,
                      a_off, b_off, c_off, lda, ldb, ldc, label, 0};
    if (backend == SC_GEMM_AUTO)
        backend = sc_gemm_backend_for(ctx);
    return backend == SC_GEMM_CLBLAST ? sc_gemm_clblast_run(ctx, &g) : sc_gemm_own_run(ctx, &g);
}

int sc_gemm(sc_ctx *ctx, int trans_a, int trans_b, int m, int n, int k, float alpha, cl_mem a,
            size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
            size_t c_off, int ldc, const char *label)
{
    return sc_gemm_on(ctx, SC_GEMM_AUTO, trans_a, trans_b, m, n, k, alpha, a, a_off, lda, b,
                      b_off, ldb, beta, c, c_off, ldc, label);
}

int sc_gemm_panel(sc_ctx *ctx, int trans_b, int m, int n, int k, float alpha, cl_mem a,
                  size_t a_off, int lda, cl_mem b, size_t b_off, float beta, cl_mem c,
                  size_t c_off, int ldc, const char *label)
{
    int empty;
    SC_TRY(check_shape(&label, m, n, k, &empty));
    if (empty)
        return SC_OK;
    /* B as stored: rows x cols, the cols in panels of 16 */
    int b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    if (b_cols % 16)
        return sc_fail("%s: B in panels needs %s a multiple of 16, got %d", label,
                       trans_b ? "k" : "n", b_cols);
    if ((size_t)b_rows * 16 > INT_MAX)
        return sc_fail("%s: B in panels of %d rows is too large", label, b_rows);
    if (lda < k || ldc < n)
        return sc_fail("%s: GEMM leading dimensions too small: lda=%d (need >= %d), ldc=%d "
                       "(need >= %d)",
                       label, lda, k, ldc, n);
    SC_TRY(check_extent(label, "A", a, a_off, m, k, lda));
    /* the panels one after the other: a matrix of b_cols / 16 rows of 16 b_rows floats */
    SC_TRY(check_extent(label, "B", b, b_off, b_cols / 16, 16 * b_rows, 16 * b_rows));
    SC_TRY(check_extent(label, "C", c, c_off, m, n, ldc));
    if (a_off > INT_MAX || b_off > INT_MAX || c_off > INT_MAX)
        return sc_fail("%s: GEMM offsets beyond 2^31 floats (%zu, %zu, %zu) are not supported",
                       label, a_off, b_off, c_off);
    sc_gemm_call g = {.tb = trans_b != 0, .m = m, .n = n, .k = k, .alpha = alpha,
                      .beta = beta, .a = a, .b = b, .c = c, .a_off = a_off, .b_off = b_off,
                      .c_off = c_off, .lda = lda, .ldb = 16 * b_rows, .ldc = ldc,
                      .label = label, .b_panel = 1};
    return sc_gemm_panel_run(ctx, &g);
}
