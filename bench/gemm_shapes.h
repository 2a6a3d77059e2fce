/* The SGEMMs of the baseline network (configs/lfw_contrastive.ini: batch 16 pairs = 32
 * images of 3 x 128 x 128; lfw_best's further down) as src/ops/conv.c and
 * src/ops/linear.c issue them with the whole batch in one GEMM: conv forward
 * W[cout, K] col[K, N*P], backward-data W^T g, backward-weights g col^T; linear
 * y = x W^T, dx = dy W, dW = dy^T x.
 * Shared by bench_gemm (timing, tuning) and bench_kernels. */
#ifndef SIAMCL_BENCH_GEMM_SHAPES_H
#define SIAMCL_BENCH_GEMM_SHAPES_H

typedef struct gemm_shape {
    const char *name;
    int ta, tb, m, n, k;
} gemm_shape;

#define BASELINE_BATCH 32

/* conv: cin -> cout, k x k, batch nb, output oh x oh: K = cin k k, cols = nb oh^2. */
#define CONV_SHAPES_AT(tag, nb, cin, cout, kk, oh)                                           \
    {tag " fwd", 0, 0, cout, (nb) * (oh) * (oh), (cin) * (kk) * (kk)},                       \
        {tag " bwd-data", 1, 0, (cin) * (kk) * (kk), (nb) * (oh) * (oh), cout},              \
        {tag " bwd-weights", 0, 1, cout, (cin) * (kk) * (kk), (nb) * (oh) * (oh)}
/* the baseline's convs: stride 2 at input h */
#define CONV_SHAPES(tag, cin, cout, kk, h) CONV_SHAPES_AT(tag, BASELINE_BATCH, cin, cout, kk, (h) / 2)

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

/* configs/lfw_best.ini: batches of 64 images of 3 x 64 x 64, 3x3 stride-1 convs (the first
 * needs no data gradient), then the 256 -> 128 embedding on the pooled features. On CPUs
 * the convs with rows of 16 or more run the direct kernels forward and for the weight
 * gradient; their data gradients and the whole 8x8 layer are these GEMMs. */
#define BEST_BATCH 64
static const gemm_shape best_gemms[] = {
    {"b-conv1 3->32 @64 fwd", 0, 0, 32, BEST_BATCH * 64 * 64, 27},
    {"b-conv1 3->32 @64 bwd-weights", 0, 1, 32, 27, BEST_BATCH * 64 * 64},
    CONV_SHAPES_AT("b-conv2 32->64 @32", BEST_BATCH, 32, 64, 3, 32),
    CONV_SHAPES_AT("b-conv3 64->128 @16", BEST_BATCH, 64, 128, 3, 16),
    CONV_SHAPES_AT("b-conv4 128->256 @8", BEST_BATCH, 128, 256, 3, 8),
    {"b-fc 256->128 fwd", 0, 1, BEST_BATCH, 128, 256},
    {"b-fc 256->128 bwd-data", 0, 0, BEST_BATCH, 256, 128},
    {"b-fc 256->128 bwd-weights", 1, 0, 128, 256, BEST_BATCH},
};
#define N_BEST_GEMMS ((int)(sizeof best_gemms / sizeof best_gemms[0]))

static inline double gemm_shape_flops(const gemm_shape *s)
{
    return 2.0 * s->m * (double)s->n * s->k;
}

#endif
