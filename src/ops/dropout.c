/* Inverted dropout (cl/dropout.cl). The mask is never stored: it is a hash of
 * (seed, step, element index), so the backward recomputes it and a run is reproducible from
 * its seed alone. */
#include <limits.h>
#include <math.h>

#include "siamcl/ops_dense.h"

/* Must match mix64 in cl/dropout.cl. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Per-step key: two rounds so that neighbouring seeds and steps give unrelated masks
 * (a plain XOR of seed and step into the counter would make some masks shifted copies of
 * others). */
static uint64_t step_key(uint32_t seed, uint32_t step)
{
    return mix64(mix64((uint64_t)seed ^ 0x9e3779b97f4a7c15ULL) ^ (uint64_t)step);
}

/* Drop threshold on the 24-bit uniform: p * 2^24, so p = 1 drops everything. */
static uint32_t threshold(float p) { return (uint32_t)lround((double)p * 16777216.0); }

int sc_dropout_keep(float p, uint32_t seed, uint32_t step, uint32_t i)
{
    uint32_t u = (uint32_t)(mix64(step_key(seed, step) ^ (uint64_t)i) >> 40);
    return u >= threshold(p);
}

static int dropout_run(sc_ctx *ctx, const char *op, const sc_tensor *x, sc_tensor *y, float p,
                       uint32_t seed, uint32_t step, int train)
{
    if (!x || !x->buf || !y || !y->buf)
        return sc_fail("%s: input and output tensors are required", op);
    if (x->n != y->n)
        return sc_fail("%s: input has %zu elements but output %zu", op, x->n, y->n);
    if (!(p >= 0.0f && p <= 1.0f))
        return sc_fail("%s: p = %g is not a probability in [0, 1]", op, (double)p);
    if (!train || p == 0.0f) {
        /* Identity: a copy unless the output is the input. */
        if (x->buf == y->buf && x->off == y->off)
            return SC_OK;
        return sc_tensor_copy(ctx, x, y);
    }
    if (x->off + x->n > (size_t)INT_MAX || y->off + y->n > (size_t)INT_MAX)
        return sc_fail("%s: tensor too large for int indexing (%zu elements)", op, x->n);
    cl_kernel k = sc_kernel(ctx, "dropout", NULL, "dropout_apply");
    if (!k)
        return SC_ERR;
    int xoff = (int)x->off, yoff = (int)y->off, n = (int)x->n;
    cl_ulong key = step_key(seed, step);
    cl_uint thr = threshold(p);
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    SC_TRY(sc_kernel_args(k, 8, SC_ARG(x->buf), SC_ARG(xoff), SC_ARG(y->buf), SC_ARG(yoff),
                          SC_ARG(n), SC_ARG(key), SC_ARG(thr), SC_ARG(scale)));
    size_t wg = sc_kernel_wg(ctx, k, 256);
    size_t global = sc_round_up(x->n, wg);
    return sc_launch(ctx, k, 1, &global, &wg, "dropout");
}

int sc_dropout_forward(sc_ctx *ctx, const sc_tensor *x, sc_tensor *y, float p, uint32_t seed,
                       uint32_t step, int train)
{
    return dropout_run(ctx, "sc_dropout_forward", x, y, p, seed, step, train);
}

int sc_dropout_backward(sc_ctx *ctx, const sc_tensor *dy, sc_tensor *dx, float p, uint32_t seed,
                        uint32_t step, int train)
{
    /* d(x * mask * scale)/dx = mask * scale: the same map applied to dy. */
    return dropout_run(ctx, "sc_dropout_backward", dy, dx, p, seed, step, train);
}
