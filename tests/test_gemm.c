/* sc_gemm on each backend against a plain-C reference accumulated in double: all four
 * transpose combinations, odd sizes (edges of every tile), offsets, leading dimensions
 * larger than the rows, alpha/beta, beta = 0 over a C full of NaN. The whole buffer of C is
 * compared, so a write outside the m x n window (padding, before the offset) shows.
 * The own kernels run with several tile sizes (the tuner may pick any of them), including
 * K cut into many launches. Also: parameter text, the tuning store, bad calls. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/ops_gemm.h"
#include "siamcl/tuning.h"
#include "support.h"
#include "tolerances.h"

#define SENTINEL 12345.0f /* C's padding: must survive every call */

typedef struct gemm_case {
    int ta, tb, m, n, k;
    float alpha, beta;
    int pad;    /* added to every leading dimension */
    size_t off; /* offset of every matrix in its buffer */
} gemm_case;

/* panel: B goes to sc_gemm_panel packed in panels of 16 columns (ops_gemm.h). */
static void check_case_in(sc_gemm_backend backend, const gemm_case *t, unsigned seed, int panel)
{
    sc_ctx *ctx = test_ctx();
    int a_rows = t->ta ? t->k : t->m, a_cols = t->ta ? t->m : t->k;
    int b_rows = t->tb ? t->n : t->k, b_cols = t->tb ? t->k : t->n;
    int lda = a_cols + t->pad, ldb = b_cols + t->pad, ldc = t->n + t->pad;
    size_t na = t->off + (size_t)a_rows * lda, nb = t->off + (size_t)b_rows * ldb;
    size_t nc = t->off + (size_t)t->m * ldc;
    float *a = test_rand_alloc(na, seed, -1.0f, 1.0f);
    float *b = test_rand_alloc(nb, seed + 1, -1.0f, 1.0f);
    float *c0 = test_rand_alloc(nc, seed + 2, -1.0f, 1.0f);
    float *want = malloc(nc * sizeof *want);
    cr_assert(want);
    for (size_t i = 0; i < nc; i++) {
        size_t r = i < t->off ? 0 : (i - t->off) % (size_t)ldc;
        int inside = i >= t->off && r < (size_t)t->n;
        if (!inside)
            c0[i] = SENTINEL;
        else if (t->beta == 0.0f)
            c0[i] = NAN; /* beta = 0 must not read C */
        want[i] = c0[i];
    }
    for (int i = 0; i < t->m; i++)
        for (int j = 0; j < t->n; j++) {
            double s = 0;
            for (int p = 0; p < t->k; p++) {
                double x = t->ta ? a[t->off + (size_t)p * lda + i] : a[t->off + (size_t)i * lda + p];
                double y = t->tb ? b[t->off + (size_t)j * ldb + p] : b[t->off + (size_t)p * ldb + j];
                s += x * y;
            }
            size_t ci = t->off + (size_t)i * ldc + j;
            want[ci] = (float)(t->alpha * s + (t->beta == 0.0f ? 0.0 : (double)t->beta * c0[ci]));
        }
    sc_tensor ta = test_tensor(1, (int[]){(int)na}, a);
    float *packed = NULL;
    if (panel) {
        packed = calloc(t->off + (size_t)b_rows * b_cols, sizeof *packed);
        cr_assert(packed);
        for (int r = 0; r < b_rows; r++)
            for (int c = 0; c < b_cols; c++)
                packed[t->off + (size_t)(c / 16) * 16 * b_rows + (size_t)r * 16 + c % 16] =
                    b[t->off + (size_t)r * ldb + c];
    }
    sc_tensor tb = panel ? test_tensor(1, (int[]){(int)(t->off + (size_t)b_rows * b_cols)}, packed)
                         : test_tensor(1, (int[]){(int)nb}, b);
    sc_tensor tc = test_tensor(1, (int[]){(int)nc}, c0);
    int rc = panel ? sc_gemm_panel(ctx, t->tb, t->m, t->n, t->k, t->alpha, ta.buf, t->off, lda,
                                   tb.buf, t->off, t->beta, tc.buf, t->off, ldc, "test.gemm")
                   : sc_gemm_on(ctx, backend, t->ta, t->tb, t->m, t->n, t->k, t->alpha, ta.buf,
                                t->off, lda, tb.buf, t->off, ldb, t->beta, tc.buf, t->off, ldc,
                                "test.gemm");
    cr_assert_eq(rc, SC_OK, "%s", sc_last_error());
    float *got = test_download(&tc);
    /* Say which case failed before the element-wise check does. */
    const test_tol *tol = test_tol_for("gemm");
    for (size_t i = 0; i < nc; i++) {
        double d = fabs((double)got[i] - want[i]);
        cr_assert(isfinite(got[i]) && d <= tol->abs + tol->rel * fabs(want[i]),
                  "backend %s%s, trans_a=%d trans_b=%d, m=%d n=%d k=%d, alpha=%g beta=%g, "
                  "pad=%d off=%zu: C[%zu] = %.9g, want %.9g",
                  sc_gemm_backend_name(backend), panel ? " (B in panels)" : "", t->ta, t->tb,
                  t->m, t->n, t->k, t->alpha, t->beta, t->pad, t->off, i, got[i], want[i]);
    }
    test_expect_close("gemm", got, want, nc);
    free(got);
    free(a);
    free(b);
    free(c0);
    free(want);
    free(packed);
    sc_tensor_free(&ta);
    sc_tensor_free(&tb);
    sc_tensor_free(&tc);
}

static void check_case(sc_gemm_backend backend, const gemm_case *t, unsigned seed)
{
    check_case_in(backend, t, seed, 0);
}

static const int sizes[][3] = {{1, 1, 1}, {7, 13, 5}, {33, 65, 129}, {257, 31, 1025}};

/* Every transpose and size, with three flavours of layout and scaling. */
static void check_all(sc_gemm_backend backend, int nsizes)
{
    unsigned seed = 100;
    for (int s = 0; s < nsizes; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int *z = sizes[s];
                gemm_case plain = {ta, tb, z[0], z[1], z[2], 1.0f, 0.0f, 0, 0};
                gemm_case strided = {ta, tb, z[0], z[1], z[2], -0.5f, 0.0f, 3, 17};
                gemm_case accumulate = {ta, tb, z[0], z[1], z[2], 0.75f, -1.5f, 1, 5};
                check_case(backend, &plain, seed++);
                check_case(backend, &strided, seed++);
                check_case(backend, &accumulate, seed++);
            }
}

Test(gemm, own_all_transposes_and_sizes) { check_all(SC_GEMM_OWN, 4); }

Test(gemm, clblast_all_transposes_and_sizes) { check_all(SC_GEMM_CLBLAST, 4); }

/* C over 8 MiB: the own kernel writes it with non-temporal stores on CPUs, full strips at
 * aligned addresses only. Rows of 65545 (a partial last strip), aligned and not (offset and
 * padding), and beta != 0 (which must read C, so never streams). */
Test(gemm, large_c_streamed_past_the_caches)
{
    unsigned seed = 900;
    for (int ta = 0; ta < 2; ta++) {
        gemm_case aligned = {ta, 0, 40, 65545, 3, 1.0f, 0.0f, 0, 0};
        gemm_case unaligned = {ta, 0, 40, 65545, 3, -0.5f, 0.0f, 3, 5};
        gemm_case accumulate = {ta, 0, 40, 65545, 3, 0.75f, -1.5f, 0, 0};
        check_case(SC_GEMM_OWN, &aligned, seed++);
        check_case(SC_GEMM_OWN, &unaligned, seed++);
        check_case(SC_GEMM_OWN, &accumulate, seed++);
    }
}

/* C of few rows: the own kernel gives the unused register blocks' share to more strips
 * per item and shorter K blocks (gemm_own.c, fit_short_c), up to 16 strips = 256 columns
 * at K blocks of 8. Rows of 3 and 16 (the baseline conv1's), 600 columns (two full items
 * and a partial one), K = 37 (five K blocks, accumulators parked between them). */
Test(gemm, short_c_wider_strips)
{
    unsigned seed = 1300;
    static const int rows[] = {3, 16};
    for (int r = 0; r < 2; r++)
        for (int ta = 0; ta < 2; ta++) {
            gemm_case plain = {ta, 0, rows[r], 600, 37, 1.0f, 0.0f, 0, 0};
            gemm_case accumulate = {ta, 0, rows[r], 600, 37, 0.75f, -1.5f, 2, 3};
            check_case(SC_GEMM_OWN, &plain, seed++);
            check_case(SC_GEMM_OWN, &accumulate, seed++);
        }
}

/* A B^T with long K and few rows: on CPUs the own backend splits K (gemm_dot.c, rows of C
 * up to 32, K >= 8192 and >= 16 N). Rows of 3 and 30 (tiles of 4 with a partial last),
 * columns of 1, 47 (tiles of 3) and 520 (two blocks of B's rows at 30 rows), K ending off
 * a multiple of 8 (8197: a last chunk of 5 floats) or in a partial group (20000), with
 * offsets, padded rows and beta != 0. */
Test(gemm, split_k_weight_gradients)
{
    unsigned seed = 1700;
    static const int shapes[][3] = {{3, 1, 8197}, {30, 47, 20000}, {16, 47, 8197},
                                    {30, 520, 8323}};
    for (int s = 0; s < 4; s++) {
        const int *z = shapes[s];
        gemm_case plain = {0, 1, z[0], z[1], z[2], 1.0f, 0.0f, 0, 0};
        gemm_case accumulate = {0, 1, z[0], z[1], z[2], 0.75f, -1.5f, 3, 5};
        check_case(SC_GEMM_OWN, &plain, seed++);
        check_case(SC_GEMM_OWN, &accumulate, seed++);
    }
}

/* B in panels (the CPU convolutions' im2col layout): A B through gemm_panel with rows of 1
 * to 70 (register blocks of 4 and 6 with partial last ones, several row groups past 48),
 * one panel and many, K of 1 and off a multiple of anything; A B^T through gemm_strip (K of
 * 16: one panel; 1040: a last K block of one panel; 3 and 130 rows), through the split-K
 * kernel (32 x 47, K = 20000: B too short for gemm_panel_nt) and through gemm_panel_nt (16
 * rows x 147 columns: tiles of 6, a partial last; 32 x 131: tiles of 3; 16 x 64: the least
 * B it takes; K = 4112, 8208 and 4144: several chunks and groups, last chunks of 16 and
 * 48). Offsets off a
 * multiple of 16 floats, padded A and C, alpha != 1, beta != 0, and C over 8 MiB (16 x
 * 131088: streamed). */
Test(gemm, b_in_panels)
{
    unsigned seed = 2100;
    static const int shapes[][4] = {/* trans_b, m, n, k */
                                    {0, 1, 16, 1},     {0, 16, 64, 147},  {0, 30, 48, 37},
                                    {0, 70, 32, 9},    {0, 16, 131088, 3}, {1, 3, 1, 16},
                                    {1, 16, 147, 4112}, {1, 32, 47, 20000}, {1, 130, 5, 1040},
                                    {1, 32, 131, 8208}, {1, 16, 64, 4144}};
    for (int s = 0; s < 11; s++) {
        const int *z = shapes[s];
        gemm_case plain = {0, z[0], z[1], z[2], z[3], -0.5f, 0.0f, 0, 0};
        gemm_case accumulate = {0, z[0], z[1], z[2], z[3], 0.75f, -1.5f, 3, 5};
        check_case_in(SC_GEMM_OWN, &plain, seed++, 1);
        check_case_in(SC_GEMM_OWN, &accumulate, seed++, 1);
    }
}

/* Shapes the panel layout cannot take are refused, naming what is wrong. */
Test(gemm, b_in_panels_refuses_bad_shapes)
{
    sc_ctx *ctx = test_ctx();
    sc_tensor t = test_tensor(1, (int[]){4096}, NULL);
    cr_assert_eq(sc_gemm_panel(ctx, 0, 4, 20, 4, 1.0f, t.buf, 0, 4, t.buf, 0, 0.0f, t.buf, 0,
                               20, "bad"),
                 SC_ERR);
    cr_assert(strstr(sc_last_error(), "multiple of 16, got 20"), "%s", sc_last_error());
    cr_assert_eq(sc_gemm_panel(ctx, 1, 4, 1, 24, 1.0f, t.buf, 0, 24, t.buf, 0, 0.0f, t.buf, 0,
                               1, "bad"),
                 SC_ERR);
    cr_assert(strstr(sc_last_error(), "k a multiple of 16, got 24"), "%s", sc_last_error());
    /* B's panels past the buffer */
    cr_assert_eq(sc_gemm_panel(ctx, 0, 4, 16, 300, 1.0f, t.buf, 0, 300, t.buf, 0, 0.0f, t.buf,
                               0, 16, "bad"),
                 SC_ERR);
    cr_assert(strstr(sc_last_error(), "matrix B"), "%s", sc_last_error());
    sc_tensor_free(&t);
    cr_assert_eq(sc_ctx_finish(ctx), SC_OK);
}

Test(gemm, default_backend_matches_reference)
{
    sc_gemm_backend b = sc_gemm_backend_for(test_ctx());
    cr_assert(b == SC_GEMM_OWN || b == SC_GEMM_CLBLAST, "backend %d", (int)b);
    gemm_case t = {0, 0, 33, 65, 129, 1.0f, 0.0f, 0, 0};
    check_case(SC_GEMM_AUTO, &t, 7);
}

/* The own kernel under other tile sizes: every vector width, 1 to 8 rows per register
 * block, one or several blocks and strips per item (partial last strips), K blocks shorter
 * than K (accumulators parked in private memory between them), one item per group and
 * large groups. Few variants: PoCL
 * compiles the kernel once per variant and transpose (seconds on a cold cache). */
Test(gemm, own_other_tile_sizes)
{
    sc_ctx *ctx = test_ctx();
    sc_gemm_params saved;
    cr_assert_eq(sc_gemm_params_get(ctx, &saved), SC_OK);
    static const sc_gemm_params variants[] = {
        {4, 1, 3, 1, 8, 16, 1, 2, 5}, {8, 7, 2, 3, 16, 8, 256, 3, 2},
        {16, 8, 1, 2, 40, 24, 4, 6, 1}};
    /* B in panels: A B^T through gemm_strip (K blocks of kbt rounded up to whole panels,
       partial strips, tall C) and A B */
    static const int panel_shapes[][4] = {{1, 7, 13, 48}, {1, 70, 47, 1040}, {1, 16, 5, 8208},
                                          {0, 49, 16, 300}};
    unsigned seed = 2500;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        cr_assert_eq(sc_gemm_params_set(ctx, &variants[v], 0), SC_OK, "%s", sc_last_error());
        check_all(SC_GEMM_OWN, 4);
        for (int s = 0; s < 4; s++) {
            const int *z = panel_shapes[s];
            gemm_case t = {0, z[0], z[1], z[2], z[3], 0.75f, -1.5f, 3, 5};
            check_case_in(SC_GEMM_OWN, &t, seed++, 1);
        }
    }
    cr_assert_eq(sc_gemm_params_set(ctx, &saved, 0), SC_OK);
}

Test(gemm, params_text_round_trip_and_errors)
{
    sc_gemm_params p = {16, 4, 16, 4, 32, 128, 16, 6, 24}, q;
    char text[160];
    sc_gemm_params_format(&p, text, sizeof text);
    cr_assert_eq(sc_gemm_params_parse(text, &q), SC_OK, "%s", sc_last_error());
    cr_assert(memcmp(&p, &q, sizeof p) == 0, "'%s' did not round-trip", text);
    /* Fields in any order, extra spaces. */
    cr_assert_eq(sc_gemm_params_parse("  wg=8 kb=32 nrbt=7 kbt=16  nrb=1 rm=2 ns=3 vw=4 rmt=5 ",
                                      &q),
                 SC_OK, "%s", sc_last_error());
    cr_assert(q.vw == 4 && q.rm == 2 && q.nrb == 1 && q.ns == 3 && q.kb == 32 && q.kbt == 16 &&
              q.wg == 8 && q.rmt == 5 && q.nrbt == 7);
    static const char *bad[] = {
        "vw=16 rm=6 nrb=16 ns=1 kb=128 kbt=128 wg=16 rmt=6",            /* missing field */
        "vw=12 rm=6 nrb=16 ns=1 kb=128 kbt=128 wg=16 rmt=6 nrbt=24",    /* bad width */
        "vw=16 rm=9 nrb=16 ns=1 kb=128 kbt=128 wg=16 rmt=6 nrbt=24",    /* too many rows */
        "vw=16 rm=6 nrb=16 ns=17 kb=128 kbt=128 wg=16 rmt=6 nrbt=24",   /* too many strips */
        "vw=16 rm=6 nrb=16 ns=1 kb=4 kbt=128 wg=16 rmt=6 nrbt=24",      /* K block too short */
        "vw=16 rm=6 nrb=16 ns=1 kb=128 kbt=1024 wg=16 rmt=6 nrbt=24",   /* K block too long */
        "vw=16 rm=6 nrb=16 ns=1 kb=128 kbt=128 wg=48 rmt=6 nrbt=24",    /* not a power of two */
        "vw=16 rm=6 nrb=16 ns=1 kb=128 kbt=128 wg=16 x=1 rmt=6 nrbt=24", /* unknown field */
        "vw=16 rm=six nrb=16 ns=1 kb=128 kbt=128 wg=16 rmt=6 nrbt=24",  /* not a number */
        "vw=16 rm=6 nrb=16 ns=1 kb=128 kbt=128 wg=16 rmt=6 nrbt=24x",   /* trailing junk */
        "vw=16 rm=6 nrb=16 ns=1 kb=128 kbt=128 wg=16 rmt=9 nrbt=24",    /* tall: too many rows */
        "vw=16 rm=6 nrb=16 ns=1 kb=128 kbt=128 wg=16 rmt=6 nrbt=0",     /* tall: no blocks */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q = p;
        cr_assert_eq(sc_gemm_params_parse(bad[i], &q), SC_ERR, "'%s' accepted", bad[i]);
        cr_assert(strlen(sc_last_error()) > 0);
        cr_assert(memcmp(&p, &q, sizeof p) == 0, "'%s' changed the output", bad[i]);
    }
    sc_gemm_params wrong = {16, 0, 16, 1, 128, 128, 16, 6, 24};
    cr_assert_eq(sc_gemm_params_set(test_ctx(), &wrong, 0), SC_ERR);
}

Test(gemm, tuning_store_set_get_replace)
{
    char dir[] = "/tmp/siamcl-test-tuning-XXXXXX";
    cr_assert(mkdtemp(dir));
    setenv("SIAMCL_CACHE_DIR", dir, 1);
    unsetenv("SIAMCL_TUNING");
    sc_ctx *ctx = test_ctx();
    char path[1024], v[64];
    cr_assert_eq(sc_tuning_path(ctx, path, sizeof path), SC_OK, "%s", sc_last_error());
    cr_assert(strncmp(path, dir, strlen(dir)) == 0, "%s not under %s", path, dir);
    cr_assert_eq(sc_tuning_get(ctx, "gemm.backend", v, sizeof v), 0);
    cr_assert_eq(sc_tuning_set(ctx, "gemm.backend", "own"), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_tuning_set(ctx, "other.key", "1 2 3"), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_tuning_set(ctx, "gemm.backend", "clblast"), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_tuning_get(ctx, "gemm.backend", v, sizeof v), 1);
    cr_assert_str_eq(v, "clblast");
    cr_assert_eq(sc_tuning_get(ctx, "other.key", v, sizeof v), 1);
    cr_assert_str_eq(v, "1 2 3");
    setenv("SIAMCL_TUNING", "off", 1);
    cr_assert_eq(sc_tuning_get(ctx, "other.key", v, sizeof v), 0);
    unsetenv("SIAMCL_TUNING");
    cr_assert_eq(sc_tuning_set(ctx, "bad key", "x"), SC_ERR);
    cr_assert_eq(sc_tuning_set(ctx, "k", "two\nlines"), SC_ERR);
    /* The key was replaced, not repeated. */
    FILE *f = fopen(path, "r");
    cr_assert(f);
    char line[256];
    int backend_lines = 0;
    while (fgets(line, sizeof line, f))
        backend_lines += strncmp(line, "gemm.backend", 12) == 0;
    fclose(f);
    cr_assert_eq(backend_lines, 1);
    remove(path);
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/tuning", dir);
    rmdir(sub);
    rmdir(dir);
    unsetenv("SIAMCL_CACHE_DIR");
}

Test(gemm, bad_calls_fail_with_a_message)
{
    sc_ctx *ctx = test_ctx();
    sc_tensor t = test_tensor(1, (int[]){64}, NULL);
    for (int backend = SC_GEMM_OWN; backend <= SC_GEMM_CLBLAST; backend++) {
        sc_gemm_backend be = (sc_gemm_backend)backend;
        /* lda below k */
        cr_assert_eq(sc_gemm_on(ctx, be, 0, 0, 4, 4, 4, 1.0f, t.buf, 0, 3, t.buf, 0, 4, 0.0f,
                                t.buf, 0, 4, "bad"),
                     SC_ERR);
        cr_assert(strstr(sc_last_error(), "lda=3"), "%s", sc_last_error());
        /* C does not fit the buffer */
        cr_assert_eq(sc_gemm_on(ctx, be, 0, 0, 8, 8, 4, 1.0f, t.buf, 0, 4, t.buf, 0, 8, 0.0f,
                                t.buf, 8, 8, "bad"),
                     SC_ERR);
        cr_assert(strstr(sc_last_error(), "matrix C"), "%s", sc_last_error());
        cr_assert_eq(sc_gemm_on(ctx, be, 0, 0, 4, 4, 0, 1.0f, t.buf, 0, 4, t.buf, 0, 4, 0.0f,
                                t.buf, 0, 4, "bad"),
                     SC_ERR);
        /* empty is a no-op */
        cr_assert_eq(sc_gemm_on(ctx, be, 0, 0, 0, 4, 4, 1.0f, t.buf, 0, 4, t.buf, 0, 4, 0.0f,
                                t.buf, 0, 4, "bad"),
                     SC_OK);
    }
    cr_assert_eq(sc_gemm_backend_set(ctx, SC_GEMM_AUTO, 0), SC_ERR);
    sc_tensor_free(&t);
    /* Wait for the allocation's fill: exiting with a kernel still compiling crashes PoCL. */
    cr_assert_eq(sc_ctx_finish(ctx), SC_OK);
}
