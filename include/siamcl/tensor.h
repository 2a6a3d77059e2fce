/* Device tensors: float32, row-major (NCHW for images), a buffer plus an element offset. */
#ifndef SIAMCL_TENSOR_H
#define SIAMCL_TENSOR_H

#include "siamcl/runtime.h"

#define SC_MAX_DIMS 4

typedef struct sc_tensor {
    cl_mem buf;
    size_t off; /* in elements (floats), not bytes */
    int ndim;
    int shape[SC_MAX_DIMS];
    size_t n;   /* element count */
    int owner;  /* buf released by sc_tensor_free */
} sc_tensor;

size_t sc_shape_count(int ndim, const int *shape);
/* A view into an existing buffer (not owned). */
sc_tensor sc_tensor_view(cl_mem buf, size_t off, int ndim, const int *shape);
/* A view with a new shape over the same elements (counts must match). */
int sc_tensor_reshape(const sc_tensor *t, sc_tensor *out, int ndim, const int *shape);
/* Fresh device buffer, zero-filled. Fails with a clear message when out of device memory. */
int sc_tensor_alloc(sc_ctx *ctx, sc_tensor *t, int ndim, const int *shape);
void sc_tensor_free(sc_tensor *t);

/* Blocking host copies of the whole tensor. */
int sc_tensor_upload(sc_ctx *ctx, const sc_tensor *t, const float *host);
int sc_tensor_download(sc_ctx *ctx, const sc_tensor *t, float *host);
/* Device-side fill (kernel, no host transfer). */
int sc_tensor_fill(sc_ctx *ctx, const sc_tensor *t, float value);
/* dst = src (same element count), device to device. */
int sc_tensor_copy(sc_ctx *ctx, const sc_tensor *src, const sc_tensor *dst);

/* A raw device buffer of `bytes` with an out-of-memory message naming `what`. */
int sc_buffer_alloc(sc_ctx *ctx, cl_mem *out, size_t bytes, const char *what);

/* Arena for activations: one buffer, bump allocation, reset each step. */
typedef struct sc_arena {
    cl_mem buf;
    size_t cap;  /* elements */
    size_t used; /* elements */
    size_t peak;
} sc_arena;

int sc_arena_init(sc_ctx *ctx, sc_arena *a, size_t capacity_elems);
/* Carves a tensor (aligned to 16 floats); fails naming the sizes when the arena is full. */
int sc_arena_alloc(sc_arena *a, sc_tensor *t, int ndim, const int *shape);
void sc_arena_reset(sc_arena *a);
void sc_arena_free(sc_arena *a);

#endif
