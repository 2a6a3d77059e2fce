#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tolerances.h"

static sc_ctx *ctx;

static void release_ctx(void)
{
    sc_ctx_destroy(ctx);
    ctx = NULL;
}

sc_ctx *test_ctx(void)
{
    if (!ctx) {
        if (sc_ctx_create(&ctx, NULL, 0) != SC_OK)
            cr_assert_fail("no OpenCL device: %s", sc_last_error());
        atexit(release_ctx);
    }
    return ctx;
}

void test_rand(float *x, size_t n, unsigned seed, float lo, float hi)
{
    /* xorshift: the same numbers on every platform, unlike rand(). */
    unsigned s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        x[i] = lo + (hi - lo) * (float)((s >> 8) * (1.0 / 16777216.0));
    }
}

float *test_rand_alloc(size_t n, unsigned seed, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    cr_assert(x);
    test_rand(x, n, seed, lo, hi);
    return x;
}

sc_tensor test_tensor(int ndim, const int *shape, const float *host)
{
    sc_tensor t;
    cr_assert_eq(sc_tensor_alloc(test_ctx(), &t, ndim, shape), SC_OK, "%s", sc_last_error());
    if (host)
        cr_assert_eq(sc_tensor_upload(test_ctx(), &t, host), SC_OK, "%s", sc_last_error());
    return t;
}

float *test_download(const sc_tensor *t)
{
    float *x = malloc((t->n ? t->n : 1) * sizeof *x);
    cr_assert(x);
    cr_assert_eq(sc_tensor_download(test_ctx(), t, x), SC_OK, "%s", sc_last_error());
    return x;
}

static void log_error(const char *family, double max_abs, double max_rel)
{
    const char *path = getenv("SIAMCL_ERRLOG");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "%s\t%.3g\t%.3g\n", family, max_abs, max_rel);
    fclose(f);
}

void test_expect_close(const char *family, const float *got, const float *want, size_t n)
{
    const test_tol *tol = test_tol_for(family);
    cr_assert(tol, "tolerance family '%s' missing from tests/support/tolerances.c", family);
    double max_abs = 0, max_rel = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        cr_assert(isfinite(got[i]), "%s: element %zu is %g", family, i, got[i]);
        cr_assert(d <= tol->abs + tol->rel * fabs(want[i]),
                  "%s: element %zu of %zu: got %.9g want %.9g (|diff| %.3g > %.3g + %.3g*|want|)",
                  family, i, n, got[i], want[i], d, tol->abs, tol->rel);
        if (d > max_abs)
            max_abs = d;
        if (want[i] != 0 && d / fabs(want[i]) > max_rel)
            max_rel = d / fabs(want[i]);
    }
    log_error(family, max_abs, max_rel);
}

double test_fd(test_scalar_fn f, float *x, size_t i, float eps, void *user)
{
    float saved = x[i];
    x[i] = saved + eps;
    double up = f(x, user);
    x[i] = saved - eps;
    double down = f(x, user);
    x[i] = saved;
    /* Divide by the step actually taken after float rounding. */
    double h = (double)(saved + eps) - (double)(saved - eps);
    return (up - down) / h;
}

double test_dot(const float *y, const float *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)y[i] * r[i];
    return s;
}
