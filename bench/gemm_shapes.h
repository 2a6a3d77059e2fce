/* The SGEMMs of the baseline network (configs/lfw_contrastive.ini: batch 16 pairs = 32
 * images of 3 x 128 x 128; lfw_best's further down) as a training step's src/ops/conv.c and
 * src/ops/linear.c issue them with the whole batch in one GEMM: conv forward
 * W[cout, K] col[K, N*P], backward-data W^T g, backward-weights g col^T; linear
 * y = x W^T, dx = dy W, dW = dy^T x. The convs' matrices with a column per output pixel
 * have rows sc_conv2d_ld apart, as conv.c lays them out (gemm_shape_ld).
 * Used by bench_gemm (timing, tuning). */
#ifndef SIAMCL_BENCH_GEMM_SHAPES_H
#define SIAMCL_BENCH_GEMM_SHAPES_H

#include <stddef.h>

#include "siamcl/ops_conv.h"

typedef struct gemm_shape {
    const char *name;
    int ta, tb, m, n, k;
    int im2col; /* a conv's GEMM: its pixel dimension is n (NN, TN) or k (NT) */
} gemm_shape;

#define BASELINE_BATCH 32

/* conv: cin -> cout, k x k, batch nb, output oh x oh: K = cin k k, cols = nb oh^2. */
#define CONV_FWD_AT(tag, nb, cin, cout, kk, oh)                                              \
    {tag " fwd", 0, 0, cout, (nb) * (oh) * (oh), (cin) * (kk) * (kk), 1}
#define CONV_BWD_DATA_AT(tag, nb, cin, cout, kk, oh)                                         \
    {tag " bwd-data", 1, 0, (cin) * (kk) * (kk), (nb) * (oh) * (oh), cout, 1}
#define CONV_BWD_WEIGHTS_AT(tag, nb, cin, cout, kk, oh)                                      \
    {tag " bwd-weights", 0, 1, cout, (cin) * (kk) * (kk), (nb) * (oh) * (oh), 1}
#define CONV_SHAPES_AT(tag, nb, cin, cout, kk, oh)                                           \
    CONV_FWD_AT(tag, nb, cin, cout, kk, oh), CONV_BWD_DATA_AT(tag, nb, cin, cout, kk, oh),    \
        CONV_BWD_WEIGHTS_AT(tag, nb, cin, cout, kk, oh)
/* the network's first conv: its input is the images, which need no gradient (src/nn/net.c
 * passes no dx to layer 1), so a training step issues no data-gradient GEMM for it */
#define FIRST_CONV_SHAPES_AT(tag, nb, cin, cout, kk, oh)                                     \
    CONV_FWD_AT(tag, nb, cin, cout, kk, oh), CONV_BWD_WEIGHTS_AT(tag, nb, cin, cout, kk, oh)
/* the baseline's convs: stride 2 at input h */
#define CONV_SHAPES(tag, cin, cout, kk, h) CONV_SHAPES_AT(tag, BASELINE_BATCH, cin, cout, kk, (h) / 2)
#define FIRST_CONV_SHAPES(tag, cin, cout, kk, h)                                             \
    FIRST_CONV_SHAPES_AT(tag, BASELINE_BATCH, cin, cout, kk, (h) / 2)

/* linear in -> out at batch 32: y = x W^T, dx = dy W, dW = dy^T x. */
#define LINEAR_SHAPES(tag, in, out)                                                          \
    {tag " fwd", 0, 1, BASELINE_BATCH, out, in, 0},                                          \
        {tag " bwd-data", 0, 0, BASELINE_BATCH, in, out, 0},                                 \
        {tag " bwd-weights", 1, 0, out, in, BASELINE_BATCH, 0}

static const gemm_shape baseline_gemms[] = {
    FIRST_CONV_SHAPES("conv1 3->16 k7 @128", 3, 16, 7, 128),
    CONV_SHAPES("conv2 16->32 k5 @64", 16, 32, 5, 64),
    CONV_SHAPES("conv3 32->64 k5 @32", 32, 64, 5, 32),
    CONV_SHAPES("conv4 64->128 k3 @16", 64, 128, 3, 16),
    LINEAR_SHAPES("fc1 2048->256", 2048, 256),
    LINEAR_SHAPES("fc2 256->32", 256, 32),
};
#define N_BASELINE_GEMMS ((int)(sizeof baseline_gemms / sizeof baseline_gemms[0]))

/* configs/lfw_best.ini: batches of 64 images of 3 x 64 x 64, 3x3 stride-1 convs (the first
 * needs no data gradient), then the 256 -> 128 embedding on the pooled features. On CPUs
 * the convs with rows of 16 or more run the direct kernels forward and for the weight
 * gradient; their data gradients and the whole 8x8 layer are these GEMMs. */
#define BEST_BATCH 64
static const gemm_shape best_gemms[] = {
    FIRST_CONV_SHAPES_AT("b-conv1 3->32 @64", BEST_BATCH, 3, 32, 3, 64),
    CONV_SHAPES_AT("b-conv2 32->64 @32", BEST_BATCH, 32, 64, 3, 32),
    CONV_SHAPES_AT("b-conv3 64->128 @16", BEST_BATCH, 64, 128, 3, 16),
    CONV_SHAPES_AT("b-conv4 128->256 @8", BEST_BATCH, 128, 256, 3, 8),
    {"b-fc 256->128 fwd", 0, 1, BEST_BATCH, 128, 256, 0},
    {"b-fc 256->128 bwd-data", 0, 0, BEST_BATCH, 256, 128, 0},
    {"b-fc 256->128 bwd-weights", 1, 0, 128, 256, BEST_BATCH, 0},
};
#define N_BEST_GEMMS ((int)(sizeof best_gemms / sizeof best_gemms[0]))

static inline double gemm_shape_flops(const gemm_shape *s)
{
    return 2.0 * s->m * (double)s->n * s->k;
}

/* Leading dimensions of A, B and C: the rows of the matrices with a column per pixel (B and
 * C forward and for the data gradient, both operands for the weight gradient) padded as
 * conv.c pads them, the others tight. */
static inline void gemm_shape_ld(const gemm_shape *s, int ld[3])
{
    ld[0] = s->ta ? s->m : s->k;
    ld[1] = s->tb ? s->k : s->n;
    ld[2] = s->n;
    if (!s->im2col)
        return;
    int pixels = (int)sc_conv2d_ld((size_t)(s->tb ? s->k : s->n));
    if (s->tb)
        ld[0] = ld[1] = pixels;
    else
        ld[1] = ld[2] = pixels;
}

/* Floats each operand of s spans at those leading dimensions. */
static inline void gemm_shape_floats(const gemm_shape *s, size_t floats[3])
{
    int ld[3];
    gemm_shape_ld(s, ld);
    floats[0] = (size_t)(s->ta ? s->k : s->m) * ld[0];
    floats[1] = (size_t)(s->tb ? s->n : s->k) * ld[1];
    floats[2] = (size_t)s->m * ld[2];
}

#endif
