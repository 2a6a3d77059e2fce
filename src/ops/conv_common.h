/* Small helpers shared by the conv-family host wrappers (conv, bias, activation, pool). */
#ifndef SIAMCL_OPS_CONV_COMMON_H
#define SIAMCL_OPS_CONV_COMMON_H

#include <limits.h>

#include "siamcl/error.h"
#include "siamcl/tensor.h"

/* Whether the kernels with a CPU variant (im2col, col2im, permutes, tiled max-pool, ReLU,
 * batch norm) run it: CPUs run work-items as loop iterations, so one item walking a row beats one item per
 * element; GPUs want neighbouring items on neighbouring addresses. By device type unless
 * sc_conv2d_force_layout set it. */
int sc_rows_layout(const sc_ctx *ctx);

/* Kernels index with int: refuse tensors whose offset + size would overflow it. */
static inline int sc_fits_int(const sc_tensor *t, const char *op, const char *name)
{
    if (t->off > (size_t)INT_MAX || t->n > (size_t)INT_MAX - t->off)
        return sc_fail("%s: %s is too large for 32-bit kernel indexing (offset %zu, %zu "
                       "elements)",
                       op, name, t->off, t->n);
    return SC_OK;
}

/* A 4-D tensor check with a message naming the op, the tensor and both shapes. */
static inline int sc_expect_4d(const sc_tensor *t, const char *op, const char *name, int a,
                               int b, int c, int d)
{
    if (!t || !t->buf)
        return sc_fail("%s: %s is missing", op, name);
    if (t->ndim != 4 || t->shape[0] != a || t->shape[1] != b || t->shape[2] != c ||
        t->shape[3] != d)
        return sc_fail("%s: %s has shape [%d,%d,%d,%d] (ndim %d), expected [%d,%d,%d,%d]", op,
                       name, t->ndim > 0 ? t->shape[0] : 0, t->ndim > 1 ? t->shape[1] : 0,
                       t->ndim > 2 ? t->shape[2] : 0, t->ndim > 3 ? t->shape[3] : 0, t->ndim,
                       a, b, c, d);
    return sc_fits_int(t, op, name);
}

/* An element-count check (parameters may be views of any shape). */
static inline int sc_expect_count(const sc_tensor *t, const char *op, const char *name,
                                  size_t n)
{
    if (!t || !t->buf)
        return sc_fail("%s: %s is missing", op, name);
    if (t->n != n)
        return sc_fail("%s: %s has %zu elements, expected %zu", op, name, t->n, n);
    return sc_fits_int(t, op, name);
}


/* out[r] = scale * sum_{o < outer, j < inner} in[o * outer_stride + r * inner + j] for r <
 * rows: one work-group per r, deterministic (bias.c; used by the bias gradient and global
 * average pooling). */
int sc_plane_sum(sc_ctx *ctx, cl_mem in, int in_off, cl_mem out, int out_off, int rows,
                 int outer, int outer_stride, int inner, float scale, const char *label);

#endif
