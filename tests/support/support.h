/* Shared test helpers: one OpenCL context per test binary, seeded random data, comparisons
 * against the tolerance table, finite differences. */
#ifndef SIAMCL_TEST_SUPPORT_H
#define SIAMCL_TEST_SUPPORT_H

#include <criterion/criterion.h>
#include <stddef.h>

#include "siamcl/tensor.h"

/* The context for this process (device from $SIAMCL_DEVICE, else the default choice).
 * Fails the current test with the runtime's message when no device can be opened. */
sc_ctx *test_ctx(void);

/* Deterministic uniform floats in [lo, hi). */
void test_rand(float *x, size_t n, unsigned seed, float lo, float hi);
float *test_rand_alloc(size_t n, unsigned seed, float lo, float hi);

/* Device tensor from host data (owned; free with sc_tensor_free). */
sc_tensor test_tensor(int ndim, const int *shape, const float *host);
/* Host copy of a device tensor (malloc'ed). */
float *test_download(const sc_tensor *t);

/* Compares got against want with the tolerance of `family` from tolerances.c:
 * |got - want| <= abs + rel * |want| for every element. Fails the test naming the first
 * bad index; logs the largest error per family to $SIAMCL_ERRLOG when set. */
void test_expect_close(const char *family, const float *got, const float *want, size_t n);

/* Central finite difference of f at x[i]: (f(x+eps) - f(x-eps)) / 2eps, computed in double
 * by the callback. x is restored afterwards. */
typedef double (*test_scalar_fn)(const float *x, void *user);
double test_fd(test_scalar_fn f, float *x, size_t i, float eps, void *user);

/* Sum of y[i] * r[i]: a scalar loss whose gradient with respect to y is r. */
double test_dot(const float *y, const float *r, size_t n);

#endif
