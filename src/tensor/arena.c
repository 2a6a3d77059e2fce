/* Activation arena: one buffer carved by bump allocation and reset every step, so the
 * training loop allocates nothing per step. */
#include <string.h>

#include "siamcl/tensor.h"

#define ARENA_ALIGN 16 /* floats: 64 bytes, a cache line and any vector width */

int sc_arena_init(sc_ctx *ctx, sc_arena *a, size_t capacity_elems)
{
    memset(a, 0, sizeof *a);
    SC_TRY(sc_buffer_alloc(ctx, &a->buf, capacity_elems * sizeof(float), "the activation arena"));
    a->cap = capacity_elems;
    return SC_OK;
}

int sc_arena_alloc(sc_arena *a, sc_tensor *t, int ndim, const int *shape)
{
    size_t n = sc_shape_count(ndim, shape);
    size_t start = (a->used + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (ndim < 1 || ndim > SC_MAX_DIMS || n == 0)
        return sc_fail("arena: bad tensor shape (rank %d, %zu elements)", ndim, n);
    if (start + n > a->cap)
        return sc_fail("activation arena full: need %zu more floats at %zu, capacity %zu", n, start,
                       a->cap);
    *t = sc_tensor_view(a->buf, start, ndim, shape);
    a->used = start + n;
    if (a->used > a->peak)
        a->peak = a->used;
    return SC_OK;
}

void sc_arena_reset(sc_arena *a) { a->used = 0; }

void sc_arena_free(sc_arena *a)
{
    if (a->buf)
        clReleaseMemObject(a->buf);
    memset(a, 0, sizeof *a);
}
