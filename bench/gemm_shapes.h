/* The SGEMMs of the baseline network (configs/lfw_contrastive.ini: batch 16 pairs = 32
 * images of 3 x 128 x 128) as src/ops/conv.c and src/ops/linear.c issue them with the
 * whole batch in one GEMM: conv forward W[cout, K] col[K, N*P], backward-data
 * W^T g, backward-weights g col^T; linear y = x W^T, dx = dy W, dW = dy^T x.
 * Shared by bench_gemm (timing, tuning) and bench_kernels. */
#ifndef SIAMCL_BENCH_GEMM_SHAPES_H
#define SIAMCL_BENCH_GEMM_SHAPES_H

typedef struct gemm_shape {
    const char *name;
    int ta, tb, m, n, k;
} gemm_shape;

#define BASELINE_BATCH 32

/* conv: cin -> cout, k x k, stride 2, at input h: K = cin k k, P = (h/2)^2, cols = 32 P. */
#define CONV_SHAPES(tag, cin, cout, kk, h)                                                   \
    {tag " fwd", 0, 0, cout, BASELINE_BATCH *((h) / 2) * ((h) / 2), (cin) * (kk) * (kk)},    \
        {tag " bwd-data", 1, 0, (cin) * (kk) * (kk), BASELINE_BATCH *((h) / 2) * ((h) / 2),  \
         cout},                                                                              \
        {tag " bwd-weights", 0, 1, cout, (cin) * (kk) * (kk),                                \
         BASELINE_BATCH *((h) / 2) * ((h) / 2)}

/* linear in -> out at batch 32: y = x W^T, dx = dy W, dW = dy^T x. */
#define LINEAR_SHAPES(tag, in, out)                                                          \
    {tag " fwd", 0, 1, BASELINE_BATCH, out, in}, {tag " bwd-data", 0, 0, BASELINE_BATCH, in, out}, \
        {tag " bwd-weights", 1, 0, out, in, BASELINE_BATCH}

static const gemm_shape baseline_gemms[] = {
    CONV_SHAPES("conv1 3->16 k7 @128", 3, 16, 7, 128),
    CONV_SHAPES("conv2 16->32 k5 @64", 16, 32, 5, 64),
    CONV_SHAPES("conv3 32->64 k5 @32", 32, 64, 5, 32),
    CONV_SHAPES("conv4 64->128 k3 @16", 64, 128, 3, 16),
    LINEAR_SHAPES("fc1 2048->256", 2048, 256),
    LINEAR_SHAPES("fc2 256->32", 256, 32),
};
#define N_BASELINE_GEMMS ((int)(sizeof baseline_gemms / sizeof baseline_gemms[0]))

static inline double gemm_shape_flops(const gemm_shape *s)
{
    return 2.0 * s->m * (double)s->n * s->k;
}

#endif
