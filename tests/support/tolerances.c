/* Every tolerance the tests use, in one table: |got - want| <= abs + rel * |want|.
 * Forward kernels compare against plain-C references in float (differences come from
 * summation order); backward kernels against central finite differences in float32 (the
 * step's rounding error dominates, hence the looser figures). */
#include "tolerances.h"

#include <string.h>

static const test_tol table[] = {
    /* family                abs     rel */
    {"exact",               0.0,    0.0},
    {"elementwise.forward", 1e-6,   1e-6},
    {"elementwise.grad",    1e-6,   1e-6},
    {"reduce.forward",      1e-5,   1e-5},
    {"fd",                  2e-3,   2e-2},
    /* conv family (conv, pool, activation: tests/test_conv.c, test_pool.c) */
    {"conv2d.forward",      1e-4,   1e-4},
    {"conv2d.backward",     1e-4,   1e-4},
    {"conv2d.fd",           1e-3,   1e-3},
    {"pool.forward",        1e-6,   1e-6},
    {"pool.backward",       1e-6,   1e-6},
    {"pool.fd",             1e-3,   1e-3},
    /* sc_gemm vs double (tests/test_gemm.c): float sums of up to 1025 products of numbers
     * in [-1, 1] in any order (tiles, K blocks, CLBlast's kernels); 6.7e-5 seen */
    {"gemm",                2e-4,   1e-4},
    /* dense family: sums over up to 2048 products (linear), N*H*W terms (batch norm) */
    {"linear.forward",      1e-4,   1e-4},
    {"linear.grad",         1e-4,   1e-4},
    {"batchnorm.forward",   1e-4,   1e-4},
    {"batchnorm.grad",      1e-4,   1e-4},
    {"l2norm.forward",      1e-6,   1e-5},
    {"l2norm.grad",         1e-5,   1e-4},
    /* a measured keep (or mask-change) rate over 2^20 draws vs its expectation: ~10 sigma */
    {"dropout.rate",        5e-3,   0.0},
    /* whole network vs the plain-C path (tests/test_net.c): float sums over up to 7*7*3 and
     * 2048 terms per layer, compounded over 7 layers and a few training steps */
    {"net.forward",         1e-4,   1e-3},
    {"net.loss",            1e-5,   1e-4},
    {"net.sgd_step",        1e-5,   1e-3},
    {"net.train_steps",     1e-4,   1e-2},
    /* distances, losses, optimizers (test_distance, test_contrastive, test_triplet,
     * test_optim). References in double; "*.fd" are finite differences of a double-precision
     * reference, so only the device's float rounding shows. The GEMM form of the distance
     * matrix cancels ||a||^2 + ||b||^2 - 2ab in float: absolute error ~1e-6 * ||a||^2. */
    {"distance.forward",    1e-5,   1e-5},
    {"distance.matrix",     1e-4,   1e-4},
    {"distance.grad",       1e-6,   1e-5},
    {"distance.fd",         1e-4,   1e-3},
    {"loss.forward",        1e-6,   1e-5},
    {"loss.grad",           1e-7,   1e-5},
    {"loss.fd",             1e-4,   1e-3},
    {"triplet.forward",     1e-5,   1e-5},
    {"triplet.grad",        1e-6,   1e-5},
    {"triplet.fd",          1e-4,   1e-3},
    {"optim.step",          1e-6,   1e-5},
    /* host metrics in double (test_metrics.c) against values worked out by hand: only the
     * rounding of a few double operations separates them */
    {"metrics",             1e-12,  1e-12},
    /* 1:N search (test_gallery): the device ranks by ||q||^2 + ||g||^2 - 2 q.g in float; for
     * D <= 128 values in [-1, 1] that is within ~1e-5 of the exact distance */
    {"gallery.search",      1e-4,   1e-4},
    {NULL, 0, 0},
};

const test_tol *test_tol_for(const char *family)
{
    for (const test_tol *t = table; t->family; t++)
        if (strcmp(t->family, family) == 0)
            return t;
    return NULL;
}
